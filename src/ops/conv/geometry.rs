//! TensorFlow's sliding-window arithmetic: output sizes and padding for SAME, VALID and EXPLICIT
//! padding with strides and dilations (`GetWindowedOutputSizeVerbose` in TF's
//! `kernel_shape_util.cc`), and the geometry structs the kernels take.
//!
//! Every size is checked when a geometry is built, so kernels index without overflow: a
//! geometry that exists describes buffers whose lengths fit in `usize`.

use crate::error::OpResult;

/// How a window is placed at the borders, as TF's `padding` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(input / stride)`; the zeros needed are split with the odd one after.
    Same,
    /// No padding: only windows that fit inside the input.
    Valid,
    /// Given amounts before and after along height and width (TF's `explicit_paddings`).
    Explicit { top: usize, bottom: usize, left: usize, right: usize },
}

/// One spatial axis of a sliding window: its sizes and the padding TF chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowAxis {
    /// Input extent along this axis.
    pub input: usize,
    /// Window (filter) extent, before dilation.
    pub window: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Output extent.
    pub output: usize,
    /// Zeros (or ignored positions) before the first input element.
    pub pad_before: usize,
    /// Zeros after the last input element.
    pub pad_after: usize,
}

impl WindowAxis {
    /// TF's output size and padding for one axis: `GetWindowedOutputSizeVerbose`.
    ///
    /// With `effective = (window - 1) * dilation + 1`: VALID gives
    /// `(input - effective + stride) / stride` (truncated toward zero, as C++ does), EXPLICIT the
    /// same on the padded input, SAME `ceil(input / stride)` with
    /// `max(0, (output - 1) * stride + effective - input)` zeros, the odd one after.
    /// A negative size is an error, as in TF.
    ///
    /// ```
    /// use stepflow::ops::conv::WindowAxis;
    /// let a = WindowAxis::new(5, 3, 2, 1, None).unwrap(); // SAME
    /// assert_eq!((a.output, a.pad_before, a.pad_after), (3, 1, 1));
    /// let v = WindowAxis::new(5, 3, 2, 1, Some((0, 0))).unwrap(); // VALID
    /// assert_eq!(v.output, 2);
    /// ```
    ///
    /// `pads` is `None` for SAME and `Some((before, after))` for VALID (zeros) or EXPLICIT.
    pub fn new(
        input: usize,
        window: usize,
        stride: usize,
        dilation: usize,
        pads: Option<(usize, usize)>,
    ) -> OpResult<Self> {
        if stride == 0 {
            return Err(crate::invalid!("stride must be > 0, but got 0"));
        }
        if dilation == 0 {
            return Err(crate::invalid!("dilation rate must be >= 1, but got 0"));
        }
        if window == 0 {
            return Err(crate::invalid!("window (filter) size must be > 0, but got 0"));
        }
        let too_big = || {
            crate::invalid!(
                "window geometry too large: input {input}, window {window}, stride {stride}, dilation {dilation}"
            )
        };
        let wide = |v: usize| i128::try_from(v).map_err(|_| too_big());
        let (i, k, s, d) = (wide(input)?, wide(window)?, wide(stride)?, wide(dilation)?);
        // Each operand is below 2^64, so sums of a few stay far inside i128; products are checked.
        let effective = (k - 1).checked_mul(d).ok_or_else(too_big)? + 1;
        let (out, before, after) = match pads {
            Some((b, a)) => ((i + wide(b)? + wide(a)? - effective + s) / s, b, a),
            None => {
                let out = (i + s - 1) / s;
                let reach = (out - 1).checked_mul(s).ok_or_else(too_big)?;
                let needed = (reach + effective - i).max(0);
                let before = needed / 2;
                let to_usize = |v: i128| usize::try_from(v).map_err(|_| too_big());
                (out, to_usize(before)?, to_usize(needed - before)?)
            }
        };
        if out < 0 {
            return Err(crate::invalid!(
                "computed output size would be negative: {out} [input_size: {input}, effective_filter_size: {effective}, stride: {stride}]"
            ));
        }
        let output = usize::try_from(out).map_err(|_| too_big())?;
        Ok(WindowAxis { input, window, stride, dilation, output, pad_before: before, pad_after: after })
    }

    /// The input position of window tap `k` at output position `o`, or `None` in the padding.
    #[inline(always)]
    pub fn input_at(&self, o: usize, k: usize) -> Option<usize> {
        // Every term is bounded by the checked sizes: o * stride + k * dilation <= padded extent.
        (o * self.stride + k * self.dilation).checked_sub(self.pad_before).filter(|&i| i < self.input)
    }

    /// The taps `k` of the window at output `o` that fall inside the input, as a range.
    #[inline(always)]
    pub fn valid_taps(&self, o: usize) -> std::ops::Range<usize> {
        let start = o * self.stride;
        let first = if start >= self.pad_before { 0 } else { (self.pad_before - start).div_ceil(self.dilation) };
        let end_limit = self.input + self.pad_before; // taps with start + k * d < end_limit are inside
        let last = if end_limit > start { (end_limit - start).div_ceil(self.dilation).min(self.window) } else { 0 };
        first.min(last)..last
    }
}

/// The height and width axes of a 2-D sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window2d {
    pub rows: WindowAxis,
    pub cols: WindowAxis,
}

impl Window2d {
    /// Both axes of a window of `[window_h, window_w]` over an `[in_h, in_w]` image.
    pub fn new(
        input: [usize; 2],
        window: [usize; 2],
        strides: [usize; 2],
        dilations: [usize; 2],
        padding: Padding,
    ) -> OpResult<Self> {
        let (rp, cp) = match padding {
            Padding::Same => (None, None),
            Padding::Valid => (Some((0, 0)), Some((0, 0))),
            Padding::Explicit { top, bottom, left, right } => (Some((top, bottom)), Some((left, right))),
        };
        let rows = WindowAxis::new(input[0], window[0], strides[0], dilations[0], rp)?;
        let cols = WindowAxis::new(input[1], window[1], strides[1], dilations[1], cp)?;
        // The largest index a kernel forms is below the padded extent plus one window; keeping
        // that in range lets the kernels use plain arithmetic.
        for a in [rows, cols] {
            let reach = a.output.checked_mul(a.stride).and_then(|v| v.checked_add(a.window.checked_mul(a.dilation)?));
            let padded = a.input.checked_add(a.pad_before).and_then(|v| v.checked_add(a.pad_after));
            if reach.is_none() || padded.is_none() {
                return Err(crate::invalid!("window geometry too large along one axis: {a:?}"));
            }
        }
        Ok(Window2d { rows, cols })
    }

    /// Input pixels per image.
    pub fn input_pixels(&self) -> usize {
        self.rows.input * self.cols.input
    }

    /// Output pixels per image.
    pub fn output_pixels(&self) -> usize {
        self.rows.output * self.cols.output
    }

    /// Window taps (filter pixels), saturating: a pooling window may be far larger than its
    /// image with SAME padding.
    pub fn taps(&self) -> usize {
        self.rows.window.saturating_mul(self.cols.window)
    }
}

/// `a * b * ...` or an error naming what overflowed.
pub(crate) fn product(what: &str, dims: &[usize]) -> OpResult<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| crate::invalid!("{what} of dimensions {dims:?} overflows"))
}

/// Checks that a buffer has the length its geometry implies.
pub(crate) fn check_len(what: &str, got: usize, expected: usize) -> OpResult<()> {
    if got == expected { Ok(()) } else { Err(crate::invalid!("{what} has {got} elements, expected {expected}")) }
}

/// The geometry of a Conv2D (and its two backprops): NHWC input `[batch, in_h, in_w, in_c]`,
/// HWIO filter `[filter_h, filter_w, in_c, out_c]`, NHWC output `[batch, out_h, out_w, out_c]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dGeometry {
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub window: Window2d,
    /// Elements of the input, filter and output buffers.
    pub input_len: usize,
    pub filter_len: usize,
    pub output_len: usize,
}

impl Conv2dGeometry {
    /// The geometry of `Conv2D(input, filter)` with the given strides, dilations and padding
    /// (height then width), as TF computes it.
    ///
    /// ```
    /// use stepflow::ops::conv::{Conv2dGeometry, Padding};
    /// let g = Conv2dGeometry::new([32, 16, 16, 64], [5, 5, 64, 128], [1, 1], [1, 1], Padding::Same).unwrap();
    /// assert_eq!(g.output_shape(), [32, 16, 16, 128]);
    /// ```
    pub fn new(
        input: [usize; 4],
        filter: [usize; 4],
        strides: [usize; 2],
        dilations: [usize; 2],
        padding: Padding,
    ) -> OpResult<Self> {
        let [batch, in_h, in_w, in_c] = input;
        let [fh, fw, fc, out_c] = filter;
        if fc != in_c {
            return Err(crate::invalid!(
                "input depth {in_c} must equal the filter's input depth {fc} (filter shape {filter:?})"
            ));
        }
        let window = Window2d::new([in_h, in_w], [fh, fw], strides, dilations, padding)?;
        let (oh, ow) = (window.rows.output, window.cols.output);
        let geometry = Conv2dGeometry {
            batch,
            in_channels: in_c,
            out_channels: out_c,
            window,
            input_len: product("conv input", &input)?,
            filter_len: product("conv filter", &filter)?,
            output_len: product("conv output", &[batch, oh, ow, out_c])?,
        };
        // The im2col matrix of one image: output pixels by filter taps times input depth.
        product("im2col matrix", &[oh, ow, fh, fw, in_c])?;
        Ok(geometry)
    }

    /// `[batch, out_h, out_w, out_channels]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.window.rows.output, self.window.cols.output, self.out_channels]
    }

    /// The length of one im2col row: filter taps times input depth (the GEMM's inner size).
    pub fn patch_len(&self) -> usize {
        self.window.taps() * self.in_channels
    }
}

/// The geometry of a pooling window over NHWC `[batch, in_h, in_w, channels]` (MaxPool, AvgPool
/// and their gradients). Pooling has no dilation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    pub batch: usize,
    pub channels: usize,
    pub window: Window2d,
    pub input_len: usize,
    pub output_len: usize,
}

impl PoolGeometry {
    /// The geometry of a `[window_h, window_w]` pool with the given strides. As TF's
    /// `PoolParameters`, explicit padding must be smaller than the window, so every window
    /// holds at least one input element.
    pub fn new(input: [usize; 4], window: [usize; 2], strides: [usize; 2], padding: Padding) -> OpResult<Self> {
        if let Padding::Explicit { top, bottom, left, right } = padding {
            for (name, pad, size) in [
                ("top", top, window[0]),
                ("bottom", bottom, window[0]),
                ("left", left, window[1]),
                ("right", right, window[1]),
            ] {
                if pad >= size {
                    return Err(crate::invalid!(
                        "{name} padding {pad} needs to be smaller than the window size {size}"
                    ));
                }
            }
        }
        let [batch, in_h, in_w, channels] = input;
        let w = Window2d::new([in_h, in_w], window, strides, [1, 1], padding)?;
        Ok(PoolGeometry {
            batch,
            channels,
            window: w,
            input_len: product("pool input", &input)?,
            output_len: product("pool output", &[batch, w.rows.output, w.cols.output, channels])?,
        })
    }

    /// `[batch, out_h, out_w, channels]`.
    pub fn output_shape(&self) -> [usize; 4] {
        [self.batch, self.window.rows.output, self.window.cols.output, self.channels]
    }
}
