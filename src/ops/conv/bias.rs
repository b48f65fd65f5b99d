//! BiasAdd and BiasAddGrad for NHWC (channels last) and NCHW (channels second) data.

use super::ConvReal;
use super::geometry::{check_len, product};
use super::split::{MAX_GROUPS, add_into, for_each_slot, ordered_sum, slot_start, slots};
use crate::error::OpResult;
use crate::ops::elementwise::vectorized;

/// Where the channels of a 4-D (or any rank >= 2) tensor are, as TF's `data_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum DataFormat {
    /// Channels last (`NHWC`, and `N...C` for other ranks).
    #[default]
    #[serde(rename = "NHWC")]
    Nhwc,
    /// Channels second (`NCHW`, and `NC...`); needs rank 3 or more, as in TF.
    #[serde(rename = "NCHW")]
    Nchw,
}

/// A value seen as `[outer, channels, inner]`: NHWC has `inner = 1`, NCHW `outer = batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BiasGeometry {
    pub outer: usize,
    pub channels: usize,
    pub inner: usize,
    pub len: usize,
}

impl BiasGeometry {
    /// The geometry of `BiasAdd(value, bias)` for a value of `shape` (rank at least 2 for
    /// NHWC, 3 for NCHW).
    pub fn new(shape: &[usize], format: DataFormat) -> OpResult<Self> {
        let min_rank = if format == DataFormat::Nchw { 3 } else { 2 };
        if shape.len() < min_rank {
            return Err(crate::invalid!(
                "BiasAdd ({format:?}) needs a value of rank at least {min_rank}, got shape {shape:?}"
            ));
        }
        let len = product("bias value", shape)?;
        let axis = if format == DataFormat::Nchw { 1 } else { shape.len() - 1 };
        Ok(BiasGeometry {
            outer: product("bias value", &shape[..axis])?,
            channels: shape[axis],
            inner: product("bias value", &shape[axis + 1..])?,
            len,
        })
    }
}

/// Rows of `inner` elements per group of the bias gradient (at least).
const ELEMENTS_PER_GROUP: usize = 1 << 15;

/// `BiasAdd`: `output = value + bias` along the channel axis.
pub fn bias_add<T: ConvReal>(
    g: &BiasGeometry,
    value: &[T],
    bias: &[T],
    output: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    check_len("BiasAdd value", value.len(), g.len)?;
    add_rows(g, Some(value), bias, output, parallel)
}

/// [`bias_add`] writing into the value itself.
///
/// ```
/// use stepflow::ops::conv::{BiasGeometry, DataFormat, bias_add_in_place};
/// let g = BiasGeometry::new(&[2, 2], DataFormat::Nhwc).unwrap();
/// let mut v = [1.0f32, 2.0, 3.0, 4.0];
/// bias_add_in_place(&g, &mut v, &[10.0, 20.0], false).unwrap();
/// assert_eq!(v, [11.0, 22.0, 13.0, 24.0]);
/// ```
pub fn bias_add_in_place<T: ConvReal>(g: &BiasGeometry, value: &mut [T], bias: &[T], parallel: bool) -> OpResult<()> {
    add_rows(g, None, bias, value, parallel)
}

/// `output = value + bias`, or `output += bias` without a value.
fn add_rows<T: ConvReal>(
    g: &BiasGeometry,
    value: Option<&[T]>,
    bias: &[T],
    output: &mut [T],
    parallel: bool,
) -> OpResult<()> {
    check_len("BiasAdd bias", bias.len(), g.channels)?;
    check_len("BiasAdd output", output.len(), g.len)?;
    if g.len == 0 {
        return Ok(());
    }
    let row = g.channels * g.inner;
    let n = slots(parallel, g.outer, g.len);
    let ends: Vec<usize> = (1..=n).map(|s| slot_start(s, n, g.outer) * row).collect();
    for_each_slot(output, &ends, &mut [(); 0], 0, |s, out, _| {
        let first = slot_start(s, n, g.outer) * row;
        let value = value.map(|v| &v[first..first + out.len()]);
        vectorized(
            #[inline(always)]
            || {
                for (r, o) in out.chunks_exact_mut(row).enumerate() {
                    if let Some(v) = value {
                        o.copy_from_slice(&v[r * row..(r + 1) * row]);
                    }
                    if g.inner == 1 {
                        o.iter_mut().zip(bias).for_each(|(o, &b)| *o += b);
                    } else {
                        for (o, &b) in o.chunks_exact_mut(g.inner).zip(bias) {
                            o.iter_mut().for_each(|o| *o += b);
                        }
                    }
                }
            },
        )
    });
    Ok(())
}

/// `BiasAddGrad`: `out_backprop` summed over every axis but the channels. The sum runs over
/// fixed groups of rows whose partial sums are added in group order.
pub fn bias_add_grad<T: ConvReal>(
    g: &BiasGeometry,
    out_backprop: &[T],
    bias_backprop: &mut [T],
    scratch: &mut Vec<T>,
    parallel: bool,
) -> OpResult<()> {
    check_len("BiasAddGrad out_backprop", out_backprop.len(), g.len)?;
    check_len("BiasAddGrad output", bias_backprop.len(), g.channels)?;
    let row = g.channels * g.inner;
    let outer = if g.len == 0 { 0 } else { g.outer };
    let groups = (g.len / ELEMENTS_PER_GROUP).clamp(1, MAX_GROUPS).min(outer);
    let n = slots(parallel, groups, g.len);
    ordered_sum(bias_backprop, groups, 0, n, scratch, |grp, partial, _| {
        partial.fill(T::zero());
        let rows = slot_start(grp, groups, outer)..slot_start(grp + 1, groups, outer);
        vectorized(
            #[inline(always)]
            || {
                for r in rows {
                    let dy = &out_backprop[r * row..(r + 1) * row];
                    if g.inner == 1 {
                        add_into(partial, dy);
                    } else {
                        for (p, d) in partial.iter_mut().zip(dy.chunks_exact(g.inner)) {
                            *p = d.iter().fold(*p, |acc, &v| acc + v);
                        }
                    }
                }
            },
        )
    });
    Ok(())
}

/// Scratch elements [`bias_add_grad`] may use.
pub fn bias_scratch_len(g: &BiasGeometry) -> usize {
    MAX_GROUPS * g.channels
}
