//! How a plan uses the threads: whether it takes the parallel schedule at all, and which
//! expensive steps may split their own work across the pool.

use super::Step;
use std::collections::HashMap;

/// Clears `split` on every expensive step that another expensive step of comparable work (at
/// least half its own) is unordered with: the two may run at the same time, so each keeps to one
/// thread. A large step beside only small ones still splits, or the other thread would idle.
pub(super) fn mark_contended(steps: &mut [Step]) {
    let n = steps.len();
    let words = n.div_ceil(64);
    let mut ancestors = vec![vec![0u64; words]; n];
    // Steps are in topological order: every consumer comes after its producers.
    for i in 0..n {
        for &c in &steps[i].consumers {
            let c = c as usize;
            ancestors[c][i / 64] |= 1 << (i % 64);
            let (lo, hi) = ancestors.split_at_mut(c);
            for (a, b) in hi[0].iter_mut().zip(&lo[i]) {
                *a |= *b;
            }
        }
    }
    let before = |a: usize, b: usize| ancestors[b][a / 64] & (1 << (a % 64)) != 0;
    let expensive: Vec<usize> = (0..n).filter(|&i| steps[i].expensive).collect();
    for &i in &expensive {
        let contended =
            expensive.iter().any(|&j| j != i && 2 * steps[j].cost >= steps[i].cost && !before(i, j) && !before(j, i));
        steps[i].split = !contended;
    }
}

/// Whether some depth of the step DAG holds two expensive steps that can run at once.
pub(super) fn worth_parallel(steps: &[Step]) -> bool {
    if rayon::current_num_threads() < 2 || steps.iter().filter(|s| s.expensive).count() < 2 {
        return false;
    }
    let mut depth = vec![0usize; steps.len()];
    let mut expensive_at: HashMap<usize, usize> = HashMap::new();
    for (i, s) in steps.iter().enumerate() {
        if s.expensive {
            *expensive_at.entry(depth[i]).or_default() += 1;
        }
        for &c in &s.consumers {
            depth[c as usize] = depth[c as usize].max(depth[i] + 1);
        }
    }
    expensive_at.values().any(|&n| n >= 2)
}
