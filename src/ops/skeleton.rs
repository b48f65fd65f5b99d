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
//! Serialize, Deserialize` every op has. `builder m(a, b)` writes `Graph::m(&mut self, a: Output,
//! b: Output) -> Result<Output>`, naming the node `named` (default: the op type), with the op's
//! doc comment. `ATTRIBUTES` lists the fields with their types, so a tool such as the op fuzzer
//! can reach every op's attributes without knowing the op.

macro_rules! op {
    (
        $(#[doc = $doc:literal])*
        $name:ident $(derive($($derive:ident),*))? { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }
        $($builder:tt)*
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize $($(, $derive)*)?)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $crate::ops::OpType for $name {
            fn op_type(&self) -> &'static str {
                stringify!($name)
            }
        }

        impl $name {
            /// The op's attributes as they appear in graph files: each field's name and Rust type.
            pub const ATTRIBUTES: &'static [$crate::ops::Attribute] = &[
                $($crate::ops::Attribute { name: stringify!($field), kind: stringify!($ty) },)*
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
    (@name $name:ident $base:literal) => { $base };
    (@name $name:ident) => { stringify!($name) };
}

pub(crate) use op;
