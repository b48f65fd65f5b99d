//! The one skeleton every op shares: its attribute struct (which is also its graph-file form,
//! unknown attributes rejected), the TensorFlow op-type name, and, for ops without attributes, the
//! builder method that adds it to a graph. An op family adds only what is its own: the `Op` impl.
//!
//! ```ignore
//! op! {
//!     /// `x + y` (TF `AddV2`).
//!     AddV2 derive(Copy, Default) {}
//!     builder add(x, y) named "add"
//! }
//! op! {
//!     /// `op(a) · op(b)`.
//!     MatMul derive(Copy, Default) { #[serde(default)] transpose_a: bool, #[serde(default)] transpose_b: bool }
//! }
//! ```
//!
//! The struct is named after the op type; `derive(...)` adds derives to the `Debug, Clone,
//! Serialize, Deserialize` every op has. A field written `dtype as "DstT": DType` also reads
//! TensorFlow's name for it. Fields after `; bound` are no attributes: what the loader binds
//! when the node is added (`If`'s branches, see `Op::bind`). `builder m(a, b)` writes `Graph::m(&mut self, a: Output, b: Output)
//! -> Result<Output>`, naming the node `named` (default: the op type), with the op's doc comment.
//!
//! `ATTRIBUTES` lists the fields with their types and TF names, so tools reach every op's
//! attributes without knowing the op: the op fuzzer draws values for them, and the GraphDef
//! importer tells an attribute the op honours from one it may drop.

macro_rules! op {
    (
        $(#[doc = $doc:literal])*
        $name:ident $(derive($($derive:ident),*))? {
            $($(#[$fmeta:meta])* $field:ident $(as $tf:literal)? : $ty:ty),* $(,)?
            $(; bound $($bfield:ident : $bty:ty),* $(,)?)?
        }
        $($builder:tt)*
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize $($(, $derive)*)?)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* $(#[serde(alias = $tf)])? pub $field: $ty,)*
            $($(#[serde(skip)] pub $bfield: $bty,)*)?
        }

        impl $crate::ops::OpType for $name {
            fn op_type(&self) -> &'static str {
                stringify!($name)
            }
        }

        impl $name {
            /// The op's attributes as they appear in graph files: each field's name, Rust type and
            /// TensorFlow name.
            pub const ATTRIBUTES: &'static [$crate::ops::Attribute] = &[
                $($crate::ops::Attribute {
                    name: stringify!($field),
                    kind: stringify!($ty),
                    tf_name: $crate::ops::op!(@tf $field $($tf)?),
                },)*
            ];
        }

        $crate::ops::op!(@builder [$(#[doc = $doc])*] $name $($builder)*);
    };
    (@builder [$($doc:tt)*] $name:ident) => {};
    (@builder [$($doc:tt)*] $name:ident builder $method:ident($($arg:ident),*) $(named $base:literal)?) => {
        impl $crate::graph::Graph {
            $($doc)*
            pub fn $method(&mut self, $($arg: $crate::graph::Output),*) -> $crate::error::Result<$crate::graph::Output> {
                self.op($crate::ops::op!(@name $name $($base)?), $name {}, &[$($arg),*])
            }
        }
    };
    (@tf $field:ident $tf:literal) => { $tf };
    (@tf $field:ident) => { stringify!($field) };
    (@name $name:ident $base:literal) => { $base };
    (@name $name:ident) => { stringify!($name) };
}

pub(crate) use op;
