//! Test support: how the cost of some work grows with the size of its input.
//!
//! Growth is measured as a ratio of times on one machine in one run, never as an absolute time,
//! so the assertions hold on a slow CI machine as on a fast laptop. The time is the thread's CPU
//! time, which other work on a busy machine (tests in parallel, a build) does not inflate the way
//! it inflates wall time; each size is timed several times and the fastest run kept.
//!
//! Even so a ratio varies with the machine's load, so it is measured only where CI asks for it
//! (CI=true; tests/common/needs.rs decides, for these unit tests as for the integration tests):
//! elsewhere [`growth`] says in one line that the test was skipped, and returns None.

use std::hint::black_box;

#[path = "../tests/common/needs.rs"]
#[allow(dead_code)] // the unit tests use part of it
mod needs;

/// CPU time this thread has used, in seconds.
fn thread_cpu_secs() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec to write into; the clock exists on every Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Runs of each size; the fastest counts.
const RUNS: usize = 7;

/// Ratios measured; the lowest counts. Other work only ever inflates a ratio, mostly the large
/// input's (a test in parallel that shares the caches hurts the larger working set more: 6.9x
/// was read once for work that reads 4.1x alone); work that grows too fast reads too high in
/// every measurement.
const MEASUREMENTS: usize = 3;

/// Held while a ratio is measured: two measurements at once (the unit tests run in parallel)
/// would share the caches and the cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A timed sample repeats the work until it lasts at least this long: a sample of a few
/// microseconds is at the mercy of one interruption.
const MIN_SAMPLE_SECS: f64 = 0.002;

/// How many times longer `work` takes on `input(large)` than on `input(small)`. Linear work gives
/// about `large / small`, quadratic work its square. The inputs are built outside the timing;
/// samples of the two sizes alternate, so a burst of other work (tests run in parallel) hits
/// both alike, and the fastest sample of each size counts. None, after the skip line, where CI
/// does not ask for ratios (the work then runs once on the small input, for its assertions).
pub(crate) fn growth<T>(small: usize, large: usize, input: impl Fn(usize) -> T, mut work: impl FnMut(&T)) -> Option<f64> {
    if !needs::met(&[needs::Need::Ratios]) {
        // The work's own assertions still hold the behaviour: run it once, untimed.
        work(&input(small));
        return None;
    }
    let (small, large) = (input(small), input(large));
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut time = |input: &T, reps: u32| {
        let start = thread_cpu_secs();
        for _ in 0..reps {
            work(black_box(input));
        }
        thread_cpu_secs() - start
    };
    // Repetitions that make a sample of the small input last long enough; the large one gets as
    // many, so the two samples compare the same amount of repeated work.
    let mut reps = 1u32;
    while time(&small, reps) < MIN_SAMPLE_SECS && reps < 1 << 20 {
        reps *= 2;
    }
    let mut lowest = f64::INFINITY;
    for _ in 0..MEASUREMENTS {
        let (mut fastest_small, mut fastest_large) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..RUNS {
            fastest_small = fastest_small.min(time(&small, reps));
            fastest_large = fastest_large.min(time(&large, reps));
        }
        lowest = lowest.min(fastest_large / fastest_small.max(1e-9));
    }
    Some(lowest)
}
