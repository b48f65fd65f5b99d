//! The convolution, pooling, batch-norm and bias kernels against naive references, finite
//! differences, TensorFlow's values, and themselves run serially and in parallel.

mod golden;
mod gradients;
mod parallel;
mod properties;
mod reference;

use stepflow::ops::conv::Padding;

/// Deterministic values in [-1, 1) from a seed (a 64-bit mixer; no RNG crate needed).
pub fn values(seed: u64, n: usize) -> Vec<f64> {
    (0..n as u64)
        .map(|i| {
            let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(i.wrapping_mul(0xBF58_476D_1CE4_E5B9));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

/// Asserts `|got - want| <= tol * (1 + |want|)` element-wise.
pub fn assert_close<A: Into<f64> + Copy>(what: &str, got: &[A], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let g: f64 = g.into();
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: got {g}, want {w}");
    }
}

/// The per-axis padding pairs the reference takes for a padding kind.
pub fn pads(p: Padding) -> [Option<(usize, usize)>; 2] {
    match p {
        Padding::Same => [None, None],
        Padding::Valid => [Some((0, 0)), Some((0, 0))],
        Padding::Explicit { top, bottom, left, right } => [Some((top, bottom)), Some((left, right))],
    }
}

/// The reference Conv2D sizes, or None where TF reports a negative output size.
pub fn reference_conv(
    x: [usize; 4],
    f: [usize; 4],
    s: [usize; 2],
    d: [usize; 2],
    p: Padding,
) -> Option<reference::Conv> {
    let [pr, pc] = pads(p);
    let (oh, ph) = reference::axis(x[1], f[0], s[0], d[0], pr)?;
    let (ow, pw) = reference::axis(x[2], f[1], s[1], d[1], pc)?;
    Some(reference::Conv { x, f, s, d, out: [oh, ow], pad: [ph, pw] })
}
