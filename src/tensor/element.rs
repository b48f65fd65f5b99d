//! The element types a [`Tensor`](super::Tensor) can hold, and the arithmetic traits kernels use.

use super::{DType, Tensor};
use bytes::Bytes;
use ndarray::ArcArray;
use ndarray::IxDyn;
use std::fmt::{Debug, Display};

/// An n-dimensional array shared by reference count: cloning is cheap, writing copies only when
/// the array is shared (copy on write).
pub type ArcArrayD<T> = ArcArray<T, IxDyn>;

/// Any type a tensor can hold: the [`Element`]s and byte strings ([`Bytes`]). Kernels that only
/// move elements around (reshape, slice, gather, concat) are written over this trait, so they
/// serve strings too.
pub trait Item: Clone + Send + Sync + PartialEq + Debug + Default + 'static {
    /// The tensor dtype of this element type.
    const DTYPE: DType;
    /// Wraps an array into a tensor.
    fn wrap(a: ArcArrayD<Self>) -> Tensor;
    /// Borrows the array when the tensor holds this element type.
    fn unwrap_ref(t: &Tensor) -> Option<&ArcArrayD<Self>>;
    /// Takes the array when the tensor holds this element type, else gives the tensor back.
    fn unwrap(t: Tensor) -> Result<ArcArrayD<Self>, Tensor>;
}

/// A number or bool a tensor can hold: f32, f64, i32, i64 or bool.
pub trait Element: Item + Copy + PartialOrd + Display {
    /// The value as f64 (bool: 0 or 1), for printing and comparisons in tests.
    fn to_f64(self) -> f64;
    /// Bitwise identity (NaN equals NaN of the same bits): what "bit-identical" means.
    fn same_bits(self, other: Self) -> bool;
}

/// Element types with arithmetic: f32, f64, i32, i64. Integer arithmetic wraps as in TensorFlow.
pub trait Number: Element {
    /// Additive identity.
    const ZERO: Self;
    /// Multiplicative identity.
    const ONE: Self;
    /// The smallest value (for Max reductions).
    const LOWEST: Self;
    /// The largest value (for Min reductions).
    const HIGHEST: Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// Division: true division for floats, truncating for integers (the divisor is checked first).
    fn div(self, o: Self) -> Self;
    /// `floor(self / o)` (TF FloorDiv).
    fn floor_div(self, o: Self) -> Self;
    /// The remainder with the sign of the divisor (TF FloorMod).
    fn floor_mod(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn abs_(self) -> Self;
    /// -1, 0 or 1 (NaN stays NaN).
    fn sign(self) -> Self;
    /// Maximum; NaN propagates as in TF's Maximum.
    fn max_(self, o: Self) -> Self;
    /// Minimum; NaN propagates as in TF's Minimum.
    fn min_(self, o: Self) -> Self;
    /// Power; for integers a negative exponent is rejected before the kernel runs.
    fn pow(self, o: Self) -> Self;
    /// Whether this is the integer zero (used to reject integer division by zero).
    fn is_int_zero(self) -> bool;
    /// Conversion from f64 (rounded to nearest for floats, truncated for integers).
    fn from_f64(v: f64) -> Self;
}

/// Floating-point element types: f32 and f64.
pub trait Real: Number + num_traits::Float {}

macro_rules! item {
    ($t:ty, $variant:ident, $dtype:ident) => {
        impl Item for $t {
            const DTYPE: DType = DType::$dtype;
            fn wrap(a: ArcArrayD<Self>) -> Tensor {
                Tensor::$variant(a)
            }
            fn unwrap_ref(t: &Tensor) -> Option<&ArcArrayD<Self>> {
                match t {
                    Tensor::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn unwrap(t: Tensor) -> Result<ArcArrayD<Self>, Tensor> {
                match t {
                    Tensor::$variant(a) => Ok(a),
                    other => Err(other),
                }
            }
        }
    };
}

macro_rules! element {
    ($t:ty, $variant:ident, $dtype:ident, |$v:ident| $to_f64:expr, |$a:ident, $b:ident| $same:expr) => {
        item!($t, $variant, $dtype);
        impl Element for $t {
            fn to_f64(self) -> f64 {
                let $v = self;
                $to_f64
            }
            fn same_bits(self, other: Self) -> bool {
                let ($a, $b) = (self, other);
                $same
            }
        }
    };
}

element!(f32, F32, Float32, |v| v as f64, |a, b| a.to_bits() == b.to_bits());
element!(f64, F64, Float64, |v| v, |a, b| a.to_bits() == b.to_bits());
element!(i32, I32, Int32, |v| v as f64, |a, b| a == b);
element!(i64, I64, Int64, |v| v as f64, |a, b| a == b);
element!(bool, Bool, Bool, |v| if v { 1.0 } else { 0.0 }, |a, b| a == b);
item!(Bytes, String, String);

macro_rules! float_number {
    ($t:ty) => {
        impl Number for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            const HIGHEST: Self = <$t>::INFINITY;
            fn add(self, o: Self) -> Self {
                self + o
            }
            fn sub(self, o: Self) -> Self {
                self - o
            }
            fn mul(self, o: Self) -> Self {
                self * o
            }
            fn div(self, o: Self) -> Self {
                self / o
            }
            fn floor_div(self, o: Self) -> Self {
                (self / o).floor()
            }
            fn floor_mod(self, o: Self) -> Self {
                // C fmod, then shifted to the divisor's sign, as TF's FloorMod for floats.
                let r = self % o;
                if r != 0.0 && ((r < 0.0) != (o < 0.0)) { r + o } else { r }
            }
            fn neg(self) -> Self {
                -self
            }
            fn abs_(self) -> Self {
                <$t>::abs(self)
            }
            fn sign(self) -> Self {
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else {
                    self
                }
            }
            fn max_(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() {
                    <$t>::NAN
                } else if self >= o {
                    self
                } else {
                    o
                }
            }
            fn min_(self, o: Self) -> Self {
                if self.is_nan() || o.is_nan() {
                    <$t>::NAN
                } else if self <= o {
                    self
                } else {
                    o
                }
            }
            fn pow(self, o: Self) -> Self {
                self.powf(o)
            }
            fn is_int_zero(self) -> bool {
                false
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
        }
        impl Real for $t {}
    };
}

macro_rules! int_number {
    ($t:ty) => {
        impl Number for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const LOWEST: Self = <$t>::MIN;
            const HIGHEST: Self = <$t>::MAX;
            fn add(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            fn sub(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
            fn mul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
            fn div(self, o: Self) -> Self {
                if o == 0 { 0 } else { self.wrapping_div(o) }
            }
            fn floor_div(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                // Wrapping as TF's kernel: MIN / -1 is MIN (and MIN % -1 is 0).
                let q = self.wrapping_div(o);
                if (self.wrapping_rem(o) != 0) && ((self < 0) != (o < 0)) { q - 1 } else { q }
            }
            fn floor_mod(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) { r + o } else { r }
            }
            fn neg(self) -> Self {
                self.wrapping_neg()
            }
            fn abs_(self) -> Self {
                self.wrapping_abs()
            }
            fn sign(self) -> Self {
                self.signum()
            }
            fn max_(self, o: Self) -> Self {
                Ord::max(self, o)
            }
            fn min_(self, o: Self) -> Self {
                Ord::min(self, o)
            }
            fn pow(self, o: Self) -> Self {
                match u32::try_from(o) {
                    Ok(e) => self.wrapping_pow(e),
                    Err(_) if o < 0 => 0,
                    Err(_) => self.wrapping_pow(u32::MAX),
                }
            }
            fn is_int_zero(self) -> bool {
                self == 0
            }
            fn from_f64(v: f64) -> Self {
                v as $t
            }
        }
    };
}

float_number!(f32);
float_number!(f64);
int_number!(i32);
int_number!(i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_and_modulo_follow_python() {
        // Python: -7 // 2 == -4, -7 % 2 == 1, 7 % -2 == -1
        assert_eq!((-7i32).floor_div(2), -4);
        assert_eq!((-7i32).floor_mod(2), 1);
        assert_eq!(7i64.floor_mod(-2), -1);
        assert_eq!((-7.0f32).floor_div(2.0), -4.0);
        assert_eq!((-7.0f64).floor_mod(2.0), 1.0);
        assert_eq!(7.5f64.floor_mod(-2.0), -0.5);
    }

    #[test]
    fn integer_arithmetic_wraps() {
        assert_eq!(i32::MAX.add(1), i32::MIN);
        assert_eq!(2i64.pow(10), 1024);
        assert_eq!((-5i32).sign(), -1);
        assert!(f32::NAN.max_(1.0).is_nan());
        assert_eq!(true.to_f64(), 1.0);
    }
}
