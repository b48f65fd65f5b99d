//! Histograms as TensorFlow summarizes them (`tensorflow/core/lib/histogram/histogram.cc`): fixed
//! buckets that grow by 10% from 1e-12 to 1e20, mirrored for negative values around a bucket
//! ending at 0, with the count, sum, sum of squares, minimum and maximum of the values.

use super::proto::HistogramProto;
use std::sync::OnceLock;

/// TF's default bucket limits: `-f64::MAX`, the negated limits in increasing order, `0`, then
/// `1e-12·1.1^k` while below 1e20, and `f64::MAX`. A value `v` falls in the first bucket whose
/// limit is greater than `v`.
///
/// ```
/// use stepflow::summary::default_bucket_limits;
/// let limits = default_bucket_limits();
/// assert_eq!(limits.len(), 1551);
/// assert_eq!((limits[0], limits[775], limits[1550]), (-f64::MAX, 0.0, f64::MAX));
/// assert_eq!(limits[776], 1e-12);
/// ```
pub fn default_bucket_limits() -> &'static [f64] {
    static LIMITS: OnceLock<Vec<f64>> = OnceLock::new();
    LIMITS.get_or_init(|| {
        let mut positive = Vec::new();
        // Repeated multiplication, as TF does, so the limits are TF's to the last bit.
        let mut v = 1.0e-12;
        while v < 1.0e20 {
            positive.push(v);
            v *= 1.1;
        }
        positive.push(f64::MAX);
        let mut limits: Vec<f64> = positive.iter().rev().map(|v| -v).collect();
        limits.push(0.0);
        limits.extend(positive);
        limits
    })
}

/// The index of the bucket of `value` among the default limits: that of the first limit greater
/// than `value` (TF's `std::upper_bound`), past the end for `+inf` and NaN. A cheap base-2
/// logarithm (the exponent plus the mantissa read as a fraction, off by less than 0.09) gives the
/// index to within one; comparisons with the limits themselves settle it, so the result is
/// exactly a binary search's, at a fraction of its cost: histograms of every variable are taken
/// during training.
fn bucket_of(value: f64) -> usize {
    let limits = default_bucket_limits();
    if value.is_nan() {
        return limits.len();
    }
    // The index of the limit 0.0; the positive limits follow it, the negative ones precede it.
    let zero = limits.len() / 2;
    let magnitude = value.abs();
    let mut i = if magnitude < 1e-12 {
        zero + usize::from(value >= 0.0)
    } else {
        let bits = magnitude.to_bits();
        let log2 = (bits >> 52) as f64 - 1023.0 + (bits & ((1 << 52) - 1)) as f64 / (1u64 << 52) as f64;
        // `as` saturates: an infinite magnitude gives a large index, clamped below.
        let k = ((log2 - 1e-12f64.log2()) / 1.1f64.log2()) as usize;
        if value > 0.0 { zero.saturating_add(k).saturating_add(2) } else { (zero - 1).saturating_sub(k) }
    };
    i = i.min(limits.len());
    while i < limits.len() && limits[i] <= value {
        i += 1;
    }
    while i > 0 && limits[i - 1] > value {
        i -= 1;
    }
    i
}

/// A histogram being filled, as TF's `histogram::Histogram` with the default buckets.
///
/// ```
/// use stepflow::summary::Histogram;
/// let mut h = Histogram::new();
/// for v in [1.0, 2.0, 2.0, -3.0] {
///     h.add(v);
/// }
/// let p = h.to_proto();
/// assert_eq!((p.min, p.max, p.num, p.sum, p.sum_squares), (-3.0, 2.0, 4.0, 2.0, 18.0));
/// // Runs of empty buckets collapse into one, as in TF: 3 filled buckets, 4 runs of empty ones.
/// assert_eq!(p.bucket.iter().filter(|&&c| c > 0.0).collect::<Vec<_>>(), [&1.0, &1.0, &2.0]);
/// assert_eq!(p.bucket.len(), 7);
/// ```
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<f64>,
    min: f64,
    max: f64,
    num: f64,
    sum: f64,
    sum_squares: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    /// An empty histogram (its minimum starts at `f64::MAX` and its maximum at `-f64::MAX`, as TF's).
    pub fn new() -> Histogram {
        let n = default_bucket_limits().len();
        Histogram { counts: vec![0.0; n], min: f64::MAX, max: -f64::MAX, num: 0.0, sum: 0.0, sum_squares: 0.0 }
    }

    /// Counts `value`. A NaN counts in no bucket (TF's summary ops reject it first; so does
    /// [`histogram`](super::histogram)).
    pub fn add(&mut self, value: f64) {
        if let Some(c) = self.counts.get_mut(bucket_of(value)) {
            *c += 1.0;
        }
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.num += 1.0;
        self.sum += value;
        self.sum_squares += value * value;
    }

    /// The histogram as TF encodes it (`EncodeToProto` without `preserve_zero_buckets`): each run
    /// of empty buckets becomes one bucket ending where the run ends.
    pub fn to_proto(&self) -> HistogramProto {
        let limits = default_bucket_limits();
        let mut p = HistogramProto {
            min: self.min,
            max: self.max,
            num: self.num,
            sum: self.sum,
            sum_squares: self.sum_squares,
            ..HistogramProto::default()
        };
        let mut i = 0;
        while i < self.counts.len() {
            let (mut end, mut count) = (limits[i], self.counts[i]);
            i += 1;
            if count <= 0.0 {
                while i < self.counts.len() && self.counts[i] <= 0.0 {
                    (end, count) = (limits[i], self.counts[i]);
                    i += 1;
                }
            }
            p.bucket_limit.push(end);
            p.bucket.push(count);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_on_a_limit_falls_in_the_next_bucket() {
        // TF's Add uses std::upper_bound: bucket i holds [limit(i-1), limit(i)).
        let mut h = Histogram::new();
        h.add(0.0);
        let p = h.to_proto();
        let filled = p.bucket.iter().position(|&c| c > 0.0).unwrap();
        assert_eq!(p.bucket_limit[filled], 1e-12);
        assert_eq!(p.bucket_limit[filled - 1], 0.0);
    }

    #[test]
    fn the_bucket_is_a_binary_searchs() {
        let limits = default_bucket_limits();
        let mut values = vec![0.0, -0.0, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -f64::MAX, 5e-324, -5e-324];
        for &l in limits {
            values.extend([l, l.next_up(), l.next_down(), l * 1.05]);
        }
        for v in values {
            assert_eq!(bucket_of(v), limits.partition_point(|&l| l <= v), "{v:e}");
        }
        assert_eq!(bucket_of(f64::NAN), limits.len());
    }

    #[test]
    fn an_empty_histogram_is_one_empty_bucket() {
        let p = Histogram::new().to_proto();
        assert_eq!((p.bucket_limit, p.bucket), (vec![f64::MAX], vec![0.0]));
        assert_eq!((p.min, p.max, p.num), (f64::MAX, -f64::MAX, 0.0));
    }

    #[test]
    fn the_limits_grow_by_ten_percent() {
        let limits = default_bucket_limits();
        assert!(limits.windows(2).all(|w| w[0] < w[1]));
        let positive = &limits[776..limits.len() - 1];
        assert!(positive.windows(2).all(|w| (w[1] / w[0] - 1.1).abs() < 1e-9));
        assert!(*positive.last().unwrap() < 1e20 && positive.last().unwrap() * 1.1 >= 1e20);
    }
}
