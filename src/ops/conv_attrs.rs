//! What the convolution ops share: TensorFlow's window attributes (`strides`, `padding`,
//! `explicit_paddings`, `dilations`, `data_format`) checked and turned into the kernels' terms,
//! shape inference on partly known shapes, the sizes inputs of the backprops, the FLOP count, and
//! a per-thread scratch buffer for the kernels.

use super::InferCx;
use super::conv::{ConvReal, DataFormat, Padding, WindowAxis};
use crate::error::OpResult;
use crate::shape::{Shape, checked_elements};
use crate::tensor::{ArcArrayD, Element};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// TF's `padding` attribute: how windows are placed at the borders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PaddingKind {
    /// Output size `ceil(input / stride)`, zeros split evenly (the odd one after).
    #[serde(rename = "SAME")]
    Same,
    /// No padding.
    #[default]
    #[serde(rename = "VALID")]
    Valid,
    /// The amounts of `explicit_paddings`.
    #[serde(rename = "EXPLICIT")]
    Explicit,
}

/// An integer per NHWC axis (`strides`, `dilations`), as TF's list attributes hold them.
pub type WindowInts = Vec<i64>;

/// TF's `explicit_paddings`: the zeros before and after each NHWC axis (8 entries), empty unless
/// the padding is EXPLICIT.
pub type Paddings = Vec<i64>;

pub(super) fn unit_dilations() -> WindowInts {
    vec![1; 4]
}

pub(super) fn yes() -> bool {
    true
}

/// The window of a convolution, as the Rust builders take it (`tf.nn.conv2d`'s `strides`,
/// `padding` and `dilations`, for height and width).
///
/// ```
/// use stepflow::ops::conv::Padding;
/// use stepflow::ops::conv_attrs::ConvOptions;
/// let o = ConvOptions { strides: [2, 2], padding: Padding::Same, ..ConvOptions::default() };
/// assert_eq!(o.dilations, [1, 1]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvOptions {
    /// Strides along height and width.
    pub strides: [usize; 2],
    pub padding: Padding,
    /// Dilations (atrous rates) along height and width.
    pub dilations: [usize; 2],
}

impl Default for ConvOptions {
    fn default() -> Self {
        ConvOptions { strides: [1, 1], padding: Padding::Valid, dilations: [1, 1] }
    }
}

/// The TF attributes every convolution op has, in TF's form: what one op of the family passes
/// on to the ops of its gradient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowFields {
    pub strides: WindowInts,
    pub padding: PaddingKind,
    pub explicit_paddings: Paddings,
    pub data_format: DataFormat,
    pub dilations: WindowInts,
    /// Conv2D's `use_cudnn_on_gpu` (no effect on a CPU; the depthwise ops have none).
    pub use_cudnn_on_gpu: bool,
}

impl From<ConvOptions> for WindowFields {
    fn from(o: ConvOptions) -> Self {
        // Sizes past i64 become i64::MAX, which the window's checks refuse as too large.
        let int = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        let axis = |v: [usize; 2]| vec![1, int(v[0]), int(v[1]), 1];
        let (padding, explicit_paddings) = match o.padding {
            Padding::Same => (PaddingKind::Same, Vec::new()),
            Padding::Valid => (PaddingKind::Valid, Vec::new()),
            Padding::Explicit { top, bottom, left, right } => {
                let p = [top, bottom, left, right].map(int);
                (PaddingKind::Explicit, vec![0, 0, p[0], p[1], p[2], p[3], 0, 0])
            }
        };
        WindowFields {
            strides: axis(o.strides),
            padding,
            explicit_paddings,
            data_format: DataFormat::Nhwc,
            dilations: axis(o.dilations),
            use_cudnn_on_gpu: true,
        }
    }
}

/// The window attributes checked, in the kernels' terms (height, then width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub strides: [usize; 2],
    pub dilations: [usize; 2],
    pub padding: Padding,
}

impl WindowFields {
    /// The window, or a one-line error naming the attribute TF would refuse.
    pub fn window(&self) -> OpResult<Window> {
        if self.data_format != DataFormat::Nhwc {
            return Err(crate::invalid!("data_format NCHW is not supported (only NHWC)"));
        }
        let strides = spatial("strides", &self.strides)?;
        let dilations = spatial("dilations", &self.dilations)?;
        let pads = &self.explicit_paddings;
        let padding = match self.padding {
            PaddingKind::Same | PaddingKind::Valid if !pads.is_empty() => {
                return Err(crate::invalid!(
                    "explicit_paddings attribute must be empty if the padding attribute is not EXPLICIT, got {pads:?}"
                ));
            }
            PaddingKind::Same => Padding::Same,
            PaddingKind::Valid => Padding::Valid,
            PaddingKind::Explicit => explicit(pads)?,
        };
        Ok(Window { strides, dilations, padding })
    }
}

/// The height and width entries of an NHWC list attribute whose batch and depth entries are 1.
fn spatial(name: &str, v: &[i64]) -> OpResult<[usize; 2]> {
    if v.len() != 4 {
        return Err(crate::invalid!("{name} must have 4 entries (one per NHWC axis), got {v:?}"));
    }
    if v[0] != 1 || v[3] != 1 {
        return Err(crate::invalid!("{name} in the batch and depth dimensions must be 1, got {v:?}"));
    }
    match (usize::try_from(v[1]), usize::try_from(v[2])) {
        (Ok(h), Ok(w)) if h > 0 && w > 0 => Ok([h, w]),
        _ => Err(crate::invalid!("{name} along height and width must be larger than 0, got {v:?}")),
    }
}

fn explicit(p: &[i64]) -> OpResult<Padding> {
    if p.len() != 8 {
        return Err(crate::invalid!("explicit_paddings must have 8 entries (before and after each axis), got {p:?}"));
    }
    if p.iter().any(|&v| v < 0) {
        return Err(crate::invalid!("all elements of explicit_paddings must be nonnegative, got {p:?}"));
    }
    if p[0] != 0 || p[1] != 0 || p[6] != 0 || p[7] != 0 {
        return Err(crate::invalid!(
            "nonzero explicit padding in the batch or depth dimensions is not supported: {p:?}"
        ));
    }
    let u = |i: usize| p[i] as usize;
    Ok(Padding::Explicit { top: u(2), bottom: u(3), left: u(4), right: u(5) })
}

/// The dimensions of a 4-D shape (all unknown for an unknown rank), or an error naming `what`.
pub(super) fn dims4(what: &str, s: &Shape) -> OpResult<[Option<usize>; 4]> {
    match s.dims() {
        None => Ok([None; 4]),
        Some(&[a, b, c, d]) => Ok([a, b, c, d]),
        Some(_) => Err(crate::invalid!("{what} must be 4-D, got shape {s}")),
    }
}

/// A concrete 4-D shape, or an error naming `what`.
pub(super) fn known4(what: &str, s: &[usize]) -> OpResult<[usize; 4]> {
    s.try_into().map_err(|_| crate::invalid!("{what} must be 4-D, got shape {s:?}"))
}

/// Which convolution: Conv2D (the filter's last axis is the output depth) or depthwise (the
/// output depth is the input depth times the filter's last axis, the channel multiplier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    Conv2d,
    Depthwise,
}

/// The static shape of the convolution's output from what is known of the input `[N, H, W, C]`
/// and the filter `[KH, KW, C, M]`, merged with `out` (what an `out_backprop` shows); an error
/// when the known parts disagree.
pub(super) fn conv_output(
    w: &Window,
    family: Family,
    input: [Option<usize>; 4],
    filter: [Option<usize>; 4],
    out: [Option<usize>; 4],
) -> OpResult<[Option<usize>; 4]> {
    if let (Some(c), Some(f)) = (input[3], filter[2])
        && c != f
    {
        return Err(crate::invalid!("input depth {c} must equal the filter's input depth {f}"));
    }
    let pads = |axis: usize| match w.padding {
        Padding::Same => None,
        Padding::Valid => Some((0, 0)),
        Padding::Explicit { top, bottom, left, right } => Some(if axis == 0 { (top, bottom) } else { (left, right) }),
    };
    let mut computed = [input[0], None, None, None];
    for axis in 0..2 {
        if let (Some(i), Some(k)) = (input[1 + axis], filter[axis]) {
            let a = WindowAxis::new(i, k, w.strides[axis], w.dilations[axis], pads(axis))?;
            computed[1 + axis] = Some(a.output);
        }
    }
    computed[3] = match family {
        Family::Conv2d => filter[3],
        Family::Depthwise => match (input[3].or(filter[2]), filter[3]) {
            (Some(c), Some(m)) => {
                Some(c.checked_mul(m).ok_or_else(|| crate::invalid!("depthwise output depth {c} * {m} overflows"))?)
            }
            _ => None,
        },
    };
    let mut merged = computed;
    for (m, o) in merged.iter_mut().zip(out) {
        match (*m, o) {
            (Some(a), Some(b)) if a != b => {
                let show = |d: [Option<usize>; 4]| Shape::partial(&d).to_string();
                return Err(crate::invalid!(
                    "out_backprop has shape {}, but the convolution's output is {}",
                    show(out),
                    show(computed)
                ));
            }
            (None, o) => *m = o,
            _ => {}
        }
    }
    Ok(merged)
}

/// The build-time value of a backprop's sizes input `i` (a 1-D int32 tensor, as TF's op
/// definitions have it), as dimensions, when known.
pub(super) fn sizes(cx: &InferCx, i: usize, what: &str) -> OpResult<Option<Vec<usize>>> {
    cx.dtype_in(i, &[crate::tensor::DType::Int32])?;
    if cx.input(i).shape.rank().is_some_and(|r| r != 1) {
        return Err(crate::invalid!("{what} must be 1-D, got shape {}", cx.input(i).shape));
    }
    cx.ints(i)?.map(|v| dims_of(what, &v)).transpose()
}

/// Sizes as dimensions: non-negative, and of a tensor within the size limit.
pub(super) fn dims_of(what: &str, v: &[i64]) -> OpResult<Vec<usize>> {
    let dims = v
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| crate::invalid!("{what} has a negative dimension: {v:?}")))
        .collect::<OpResult<Vec<usize>>>()?;
    checked_elements(&dims)?;
    Ok(dims)
}

/// The multiply-adds of a convolution, counted twice (a FLOP each): `2 · N·OH·OW·OC · KH·KW`
/// times the input depth for Conv2D, from the output's and the filter's static shapes
/// (unknown dimensions count as 1).
pub(super) fn flops(out: &Shape, filter: &Shape, family: Family) -> usize {
    let f = filter.dims().unwrap_or(&[]);
    let dim = |i: usize| f.get(i).copied().flatten().unwrap_or(1);
    let per_output = match family {
        Family::Conv2d => dim(0).saturating_mul(dim(1)).saturating_mul(dim(2)),
        Family::Depthwise => dim(0).saturating_mul(dim(1)),
    };
    out.known_elements().saturating_mul(per_output).saturating_mul(2)
}

/// The elements of `a` in row-major order, borrowed when already laid out so.
pub(super) fn contiguous<T: Element>(a: &ArcArrayD<T>) -> std::borrow::Cow<'_, [T]> {
    match a.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(a.iter().copied().collect()),
    }
}

/// Scratch buffers larger than this many elements are freed after the run that grew them, so a
/// single huge convolution does not pin its patch matrices to a thread for good.
const SCRATCH_KEEP: usize = 1 << 24;

/// The element types the convolution ops run on, each with a per-thread scratch buffer for the
/// kernels' patch matrices and partial sums: a graph runs the same convolutions at every step,
/// so the buffer grows once to the largest and is then reused instead of allocated per call.
pub(super) trait ConvElement: ConvReal + Element {
    /// Calls `f` with this thread's scratch buffer (a fresh one if it is in use: a kernel that
    /// waits on the rayon pool may run another convolution on the same thread).
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R;
}

macro_rules! conv_element {
    ($t:ty, $key:ident) => {
        thread_local! {
            static $key: RefCell<Vec<$t>> = const { RefCell::new(Vec::new()) };
        }

        impl ConvElement for $t {
            fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
                $key.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut v) => {
                        let r = f(&mut v);
                        if v.capacity() > SCRATCH_KEEP {
                            *v = Vec::new();
                        }
                        r
                    }
                    Err(_) => f(&mut Vec::new()),
                })
            }
        }
    };
}

conv_element!(f32, SCRATCH_F32);
conv_element!(f64, SCRATCH_F64);

/// Declares an op of the convolution family: its TF attributes ([`WindowFields`] less
/// `use_cudnn_on_gpu` when no cudnn field is named), their conversions, and `Default` (stride 1,
/// VALID). The caller imports `WindowInts`, `Paddings`, `PaddingKind` and `DataFormat`, whose names as
/// written are the attributes' kinds in `ATTRIBUTES`.
macro_rules! conv_op {
    ($(#[doc = $doc:literal])* $name:ident $(, $cudnn:ident)?) => {
        $crate::ops::op! {
            $(#[doc = $doc])*
            $name {
                strides: WindowInts,
                $(#[serde(default = "crate::ops::conv_attrs::yes")] $cudnn: bool,)?
                padding: PaddingKind,
                #[serde(default)] explicit_paddings: Paddings,
                #[serde(default)] data_format: DataFormat,
                #[serde(default = "crate::ops::conv_attrs::unit_dilations")] dilations: WindowInts,
            }
        }

        impl From<$crate::ops::conv_attrs::WindowFields> for $name {
            fn from(f: $crate::ops::conv_attrs::WindowFields) -> Self {
                $name {
                    strides: f.strides,
                    $($cudnn: f.use_cudnn_on_gpu,)?
                    padding: f.padding,
                    explicit_paddings: f.explicit_paddings,
                    data_format: f.data_format,
                    dilations: f.dilations,
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $crate::ops::conv_attrs::WindowFields::from($crate::ops::conv_attrs::ConvOptions::default()).into()
            }
        }

        impl $name {
            /// The op's window attributes, to pass on to the ops of its gradient.
            pub fn fields(&self) -> $crate::ops::conv_attrs::WindowFields {
                $crate::ops::conv_attrs::WindowFields {
                    strides: self.strides.clone(),
                    padding: self.padding,
                    explicit_paddings: self.explicit_paddings.clone(),
                    data_format: self.data_format,
                    dilations: self.dilations.clone(),
                    use_cudnn_on_gpu: true $(&& self.$cudnn)?,
                }
            }

            /// The checked window (see [`WindowFields::window`](crate::ops::conv_attrs::WindowFields::window)).
            pub fn window(&self) -> $crate::error::OpResult<$crate::ops::conv_attrs::Window> {
                self.fields().window()
            }
        }
    };
}

pub(super) use conv_op;
