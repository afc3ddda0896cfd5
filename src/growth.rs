//! Test support: how the cost of some work grows with the size of its input.
//!
//! Growth is measured as a ratio of times on one machine in one run, never as an absolute time,
//! so the assertions hold on a slow CI machine as on a fast laptop. Each size is timed several
//! times and the fastest run kept: the fastest is the one least disturbed by the scheduler and by
//! other tests running in parallel.

use std::hint::black_box;
use std::time::Instant;

/// Runs of each size; the fastest counts.
const RUNS: usize = 7;

/// How many times longer `work` takes on `input(large)` than on `input(small)`. Linear work gives
/// about `large / small`, quadratic work its square. The input is built outside the timing.
pub(crate) fn growth<T>(small: usize, large: usize, input: impl Fn(usize) -> T, mut work: impl FnMut(&T)) -> f64 {
    let mut fastest = |n: usize| {
        let input = input(n);
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                work(black_box(&input));
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let small = fastest(small);
    let large = fastest(large);
    large / small.max(1e-9)
}
