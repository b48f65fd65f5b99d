//! Naive kernels written from the definitions, in f64, as the oracle for the fast ones: direct
//! loops over every output, tap and channel, with padding from TF's formulas written out again
//! here (not the crate's window helpers).

/// One axis: (output size, padding before), or None when TF reports a negative size.
pub fn axis(
    input: usize,
    window: usize,
    stride: usize,
    dilation: usize,
    pads: Option<(usize, usize)>,
) -> Option<(usize, usize)> {
    let (i, k, s, d) = (input as i64, window as i64, stride as i64, dilation as i64);
    let eff = (k - 1) * d + 1;
    let (out, before) = match pads {
        Some((b, a)) => ((i + b as i64 + a as i64 - eff + s) / s, b as i64),
        None => {
            let out = (i + s - 1) / s;
            (out, ((out - 1) * s + eff - i).max(0) / 2)
        }
    };
    (out >= 0).then_some((out as usize, before as usize))
}

/// The input index of tap `k` at output `o`, if inside.
pub fn at(o: usize, k: usize, stride: usize, dilation: usize, before: usize, input: usize) -> Option<usize> {
    let i = (o * stride + k * dilation) as i64 - before as i64;
    (i >= 0 && (i as usize) < input).then_some(i as usize)
}

/// Conv2D sizes: NHWC input, HWIO filter, strides, dilations, per-axis out and pad.
#[derive(Clone, Copy, Debug)]
pub struct Conv {
    pub x: [usize; 4],
    pub f: [usize; 4],
    pub s: [usize; 2],
    pub d: [usize; 2],
    pub out: [usize; 2],
    pub pad: [usize; 2],
}

impl Conv {
    pub fn y_shape(&self) -> [usize; 4] {
        [self.x[0], self.out[0], self.out[1], self.f[3]]
    }

    /// Calls `f(x_index, f_index, y_index)` for every product term of the convolution.
    pub fn terms(&self, mut f: impl FnMut(usize, usize, usize)) {
        let [n, h, w, c] = self.x;
        let [fh, fw, _, o] = self.f;
        for b in 0..n {
            for oh in 0..self.out[0] {
                for ow in 0..self.out[1] {
                    for kh in 0..fh {
                        let Some(ih) = at(oh, kh, self.s[0], self.d[0], self.pad[0], h) else { continue };
                        for kw in 0..fw {
                            let Some(iw) = at(ow, kw, self.s[1], self.d[1], self.pad[1], w) else { continue };
                            for ci in 0..c {
                                for oc in 0..o {
                                    let xi = ((b * h + ih) * w + iw) * c + ci;
                                    let fi = ((kh * fw + kw) * c + ci) * o + oc;
                                    let yi = ((b * self.out[0] + oh) * self.out[1] + ow) * o + oc;
                                    f(xi, fi, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    pub fn forward(&self, x: &[f64], f: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.y_shape().iter().product()];
        self.terms(|xi, fi, yi| y[yi] += x[xi] * f[fi]);
        y
    }

    pub fn backprop_input(&self, f: &[f64], dy: &[f64]) -> Vec<f64> {
        let mut dx = vec![0.0; self.x.iter().product()];
        self.terms(|xi, fi, yi| dx[xi] += dy[yi] * f[fi]);
        dx
    }

    pub fn backprop_filter(&self, x: &[f64], dy: &[f64]) -> Vec<f64> {
        let mut df = vec![0.0; self.f.iter().product()];
        self.terms(|xi, fi, yi| df[fi] += dy[yi] * x[xi]);
        df
    }
}

/// Depthwise sizes: filter `[fh, fw, c, m]`, output channel `c * m + q`.
#[derive(Clone, Copy, Debug)]
pub struct Depthwise(pub Conv);

impl Depthwise {
    pub fn y_shape(&self) -> [usize; 4] {
        let c = self.0;
        [c.x[0], c.out[0], c.out[1], c.x[3] * c.f[3]]
    }

    fn terms(&self, mut f: impl FnMut(usize, usize, usize)) {
        let c = self.0;
        let [n, h, w, ch] = c.x;
        let [fh, fw, _, m] = c.f;
        for b in 0..n {
            for oh in 0..c.out[0] {
                for ow in 0..c.out[1] {
                    for kh in 0..fh {
                        let Some(ih) = at(oh, kh, c.s[0], c.d[0], c.pad[0], h) else { continue };
                        for kw in 0..fw {
                            let Some(iw) = at(ow, kw, c.s[1], c.d[1], c.pad[1], w) else { continue };
                            for ci in 0..ch {
                                for q in 0..m {
                                    let xi = ((b * h + ih) * w + iw) * ch + ci;
                                    let fi = ((kh * fw + kw) * ch + ci) * m + q;
                                    let yi = ((b * c.out[0] + oh) * c.out[1] + ow) * ch * m + ci * m + q;
                                    f(xi, fi, yi);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    pub fn forward(&self, x: &[f64], f: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.y_shape().iter().product()];
        self.terms(|xi, fi, yi| y[yi] += x[xi] * f[fi]);
        y
    }

    pub fn backprop_input(&self, f: &[f64], dy: &[f64]) -> Vec<f64> {
        let mut dx = vec![0.0; self.0.x.iter().product()];
        self.terms(|xi, fi, yi| dx[xi] += dy[yi] * f[fi]);
        dx
    }

    pub fn backprop_filter(&self, x: &[f64], dy: &[f64]) -> Vec<f64> {
        let mut df = vec![0.0; self.0.f.iter().product()];
        self.terms(|xi, fi, yi| df[fi] += dy[yi] * x[xi]);
        df
    }
}

/// Pooling sizes: NHWC input, window, strides, per-axis out and pad.
#[derive(Clone, Copy, Debug)]
pub struct Pool {
    pub x: [usize; 4],
    pub k: [usize; 2],
    pub s: [usize; 2],
    pub out: [usize; 2],
    pub pad: [usize; 2],
}

impl Pool {
    pub fn y_len(&self) -> usize {
        self.x[0] * self.out[0] * self.out[1] * self.x[3]
    }

    /// The input indices of every window, for output index `yi` = (b, oh, ow, c), in scan order.
    pub fn windows(&self) -> Vec<Vec<usize>> {
        let [n, h, w, c] = self.x;
        let mut all = Vec::new();
        for b in 0..n {
            for oh in 0..self.out[0] {
                for ow in 0..self.out[1] {
                    for ch in 0..c {
                        let mut win = Vec::new();
                        for kh in 0..self.k[0] {
                            let Some(ih) = at(oh, kh, self.s[0], 1, self.pad[0], h) else { continue };
                            for kw in 0..self.k[1] {
                                let Some(iw) = at(ow, kw, self.s[1], 1, self.pad[1], w) else { continue };
                                win.push(((b * h + ih) * w + iw) * c + ch);
                            }
                        }
                        all.push(win);
                    }
                }
            }
        }
        all
    }

    /// The first maximum of each window (TF's arg-max), and its value.
    pub fn argmax(&self, x: &[f64]) -> Vec<(usize, f64)> {
        self.windows()
            .iter()
            .map(|win| {
                win.iter().fold((usize::MAX, f64::MIN), |(bi, bv), &i| {
                    if bi == usize::MAX || bv < x[i] { (i, x[i]) } else { (bi, bv) }
                })
            })
            .collect()
    }

    pub fn max(&self, x: &[f64]) -> Vec<f64> {
        self.windows().iter().map(|win| win.iter().fold(f64::MIN, |m, &i| if m < x[i] { x[i] } else { m })).collect()
    }

    pub fn max_grad(&self, x: &[f64], dy: &[f64]) -> Vec<f64> {
        let mut dx = vec![0.0; x.len()];
        for (yi, (i, _)) in self.argmax(x).into_iter().enumerate() {
            dx[i] += dy[yi];
        }
        dx
    }

    pub fn avg(&self, x: &[f64]) -> Vec<f64> {
        self.windows().iter().map(|win| win.iter().map(|&i| x[i]).sum::<f64>() / win.len() as f64).collect()
    }

    pub fn avg_grad(&self, dy: &[f64]) -> Vec<f64> {
        let mut dx = vec![0.0; self.x.iter().product()];
        for (yi, win) in self.windows().iter().enumerate() {
            for &i in win {
                dx[i] += dy[yi] / win.len() as f64;
            }
        }
        dx
    }
}

/// Batch norm over `[rows, c]`: (y, mean, biased variance).
pub fn batch_norm(x: &[f64], c: usize, scale: &[f64], offset: &[f64], eps: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let rows = x.len() / c;
    let mean: Vec<f64> = (0..c).map(|ch| (0..rows).map(|r| x[r * c + ch]).sum::<f64>() / rows as f64).collect();
    let var: Vec<f64> =
        (0..c).map(|ch| (0..rows).map(|r| (x[r * c + ch] - mean[ch]).powi(2)).sum::<f64>() / rows as f64).collect();
    let y =
        (0..x.len()).map(|i| (x[i] - mean[i % c]) / (var[i % c] + eps).sqrt() * scale[i % c] + offset[i % c]).collect();
    (y, mean, var)
}
