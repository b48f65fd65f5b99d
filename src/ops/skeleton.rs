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
//! TensorFlow's name for it; `ATTRS` lists every attribute name the op accepts, which is how the
//! GraphDef importer tells an attribute the op honours from one it may drop. `builder m(a, b)` writes `Graph::m(&mut self, a: Output,
//! b: Output) -> Result<Output>`, naming the node `named` (default: the op type), with the op's
//! doc comment.

macro_rules! op {
    (
        $(#[doc = $doc:literal])*
        $name:ident $(derive($($derive:ident),*))? {
            $($(#[$fmeta:meta])* $field:ident $(as $tf:literal)? : $ty:ty),* $(,)?
        }
        $($builder:tt)*
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize $($(, $derive)*)?)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* $(#[serde(alias = $tf)])? pub $field: $ty,)*
        }

        impl $name {
            /// The attributes this op reads from a graph file: its fields, and the TensorFlow
            /// name of any field stepflow names otherwise.
            pub const ATTRS: &'static [&'static str] = &[$(stringify!($field), $($tf,)?)*];
        }

        impl $crate::ops::OpType for $name {
            fn op_type(&self) -> &'static str {
                stringify!($name)
            }
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
    (@name $name:ident $base:literal) => { $base };
    (@name $name:ident) => { stringify!($name) };
}

pub(crate) use op;
