//! Hostile captures (tests/common/hostile.rs) streamed into the real binary's standard input:
//! the report must count what the bounds dropped. Each n is past the bounds that the scenario
//! meets (the flow table, the negotiations kept, the reader's batches in flight).
//!
//! Where CI asks for ratios (CI=true), each scenario also runs at n and 4n, best of three runs
//! each: its peak memory (maximum resident set, measured by GNU time, which .ci/run installs) must
//! stay flat past each bound, and its CPU time must grow no faster than linearly (at most 6 times
//! for 4 times the input; quadratic would be 16). Ratios, never absolute times or sizes: the
//! machine's speed does not matter, but its load does, so a user's plain `cargo test` runs the
//! counts at n only and says in one line that the ratios were skipped.
//!
//! (Not wait4 on the child: Rust spawns with vfork, and the child's peak then includes the test
//! process's own, inherited at exec.)

mod common;
#[path = "common/hostile.rs"]
mod hostile;

use common::needs::{self, Need, GNU_TIME};
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};

/// A 4 times larger input may cost this much more memory at most (allocator noise, buffers
/// grown once); bounded memory is 1, memory that follows the input 4.
const MAX_MEMORY_RATIO: f64 = 1.5;
/// Linear is 4, quadratic 16.
const MAX_TIME_RATIO: f64 = 6.0;

/// What GNU time measured of one run.
#[derive(Clone, Copy)]
struct Usage {
    /// Peak resident set, KiB.
    max_rss: i64,
    /// User and system CPU time, seconds.
    cpu: f64,
}

struct Run {
    report: Value,
    /// Measured when the run was under GNU time.
    usage: Option<Usage>,
}

/// `analyze --json -` with the generator writing into its standard input; under GNU time when
/// `measure`.
fn run(name: &str, generate: hostile::Generator, n: u64, measure: bool) -> Run {
    let out = std::env::temp_dir().join(format!("ftpscope-hostile-{name}-{n}-{}.json", std::process::id()));
    let usage = out.with_extension("time");
    let mut command = if measure {
        let mut time = Command::new(GNU_TIME);
        time.args(["-f", "%M %U %S", "-o"]).arg(&usage).arg(env!("CARGO_BIN_EXE_ftpscope"));
        time
    } else {
        Command::new(env!("CARGO_BIN_EXE_ftpscope"))
    };
    let mut child = command
        .args(["analyze", "-q", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = generate(Box::new(BufWriter::with_capacity(1 << 20, stdin)), n)?;
        w.flush()
    });
    let status = child.wait().unwrap();
    writer.join().unwrap().unwrap_or_else(|e| panic!("{name} {n}: writing the capture: {e}"));
    let measured = if measure { std::fs::read_to_string(&usage).unwrap() } else { String::new() };
    // GNU time says "Command exited with non-zero status 1" first when the status is not 0.
    assert!(matches!(status.code(), Some(0 | 1)), "{name} {n}: {status}: {measured}");
    let report = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let _ = (std::fs::remove_file(&out), std::fs::remove_file(&usage));
    let usage = measure.then(|| {
        let fields: Vec<f64> = measured.lines().last().unwrap_or_default().split(' ').map(|f| f.parse().unwrap()).collect();
        let [max_rss, user, system] = fields[..] else { panic!("{name} {n}: {measured}") };
        Usage { max_rss: max_rss as i64, cpu: user + system }
    });
    Run { report, usage }
}

/// Runs per size: the least memory and the least CPU time of these count, as a benchmark takes
/// the best of its runs. One run's figures move with the machine, not with the program: its
/// peak memory with the number of reader batches in flight when it peaks (how far the analysis
/// lagged), its system time with the kernel's page handling (0.02 to 0.83 s for one SYN flood
/// of 500,000 connections, whose user time was 0.25 s each time).
const RUNS: usize = 3;

/// `runs` measured runs of `name` at n: the first one's report, the least peak memory and CPU time.
fn best_of(runs: usize, name: &str, generate: hostile::Generator, n: u64) -> (Value, Usage) {
    let first = run(name, generate, n, true);
    let mut best = first.usage.expect("measured");
    for _ in 1..runs {
        let again = run(name, generate, n, true).usage.expect("measured");
        best.max_rss = best.max_rss.min(again.max_rss);
        best.cpu = best.cpu.min(again.cpu);
    }
    (first.report, best)
}

/// Runs `name` at n, and where CI asks for ratios also at 4n, checking memory and time; returns
/// each size's `capture` totals and first session, with its n, for the counts.
fn bounded(name: &str, n: u64) -> Vec<(Value, Value, u64)> {
    let (_, generate) = *hostile::ALL.iter().find(|(g, _)| *g == name).unwrap();
    let counts = |report: Value, n: u64| (report["capture"].clone(), report["sessions"][0].clone(), n);
    if !needs::part_met("the memory and time ratios", &[Need::Ratios, Need::GnuTime]) {
        return vec![counts(run(name, generate, n, false).report, n)];
    }
    let (small_report, small) = best_of(RUNS, name, generate, n);
    let (large_report, large) = best_of(RUNS, name, generate, 4 * n);
    let memory = large.max_rss as f64 / small.max_rss as f64;
    // Below 50 ms, the start of the process and the timer's 10 ms granularity dominate.
    let time = large.cpu / small.cpu.max(0.05);
    eprintln!(
        "{name}: n={n}: {} KiB, {:.3} s; 4n: {} KiB, {:.3} s; ratios memory {memory:.2}, time {time:.2}",
        small.max_rss, small.cpu, large.max_rss, large.cpu
    );
    assert!(memory < MAX_MEMORY_RATIO, "{name}: memory grew {memory:.2} times for 4 times the input");
    assert!(time < MAX_TIME_RATIO, "{name}: time grew {time:.2} times for 4 times the input");
    vec![counts(small_report, n), counts(large_report, 4 * n)]
}

/// The flow table holds 200,000 connections (FlowLimits::default): past it, the older half goes,
/// counted. Its memory stops growing past about twice that (its hash table doubles once, for
/// the tombstones of what was dropped): n = 500,000.
const MAX_FLOWS: u64 = 200_000;
const FLOWS: u64 = 500_000;

/// Every connection is counted, and those the table could not hold are counted as evicted.
fn held_to_the_flow_table_bound(name: &str) {
    for (capture, _, n) in bounded(name, FLOWS) {
        assert_eq!(capture["tcp_connections"], n);
        assert!(capture["evicted_connections"].as_u64().unwrap() >= n - MAX_FLOWS, "{capture}");
    }
}

#[test]
fn a_syn_flood_is_held_to_the_flow_table_bound_and_counted() {
    held_to_the_flow_table_bound("syn-flood");
}

#[test]
fn two_million_idle_flows_are_held_to_the_flow_table_bound_and_counted() {
    held_to_the_flow_table_bound("idle-flows");
}

/// A session keeps 10,000 negotiations (ftp::session::MAX_NEGOTIATIONS); the rest are counted.
#[test]
fn a_hundred_thousand_ports_in_one_session_are_counted_past_the_bound() {
    let n = 25_000;
    for (capture, session, n) in bounded("ports", n) {
        assert_eq!(session["negotiations"].as_array().unwrap().len(), 10_000);
        assert_eq!(session["negotiations_over_limit"], n - 10_000);
        assert_eq!(capture["negotiations_over_limit"], n - 10_000);
        assert_eq!(capture["negotiations"], n);
    }
}

/// A line is kept up to 4,096 bytes; the rest is counted, not held. n = 4 MiB is past what the
/// reader's batches in flight can hold (about 3 MiB). At this size the test caught the reader
/// growing each new batch by doubling, which left the smaller buffers behind: 29 MiB at n,
/// 58 MiB at 4n.
#[test]
fn an_endless_line_is_cut_and_counted() {
    let n = 4 << 20;
    for (capture, session, _) in bounded("endless-line", n) {
        assert_eq!(session["control"]["overlong_lines"], 1, "{session}");
        assert_eq!(capture["overlong_lines"], 1, "{capture}");
        // The line did not swallow the session: QUIT after it was read.
        assert_eq!(session["end"], "closed", "{session}");
    }
}

/// Out-of-order one-byte segments: the reassembler holds 1,024 of them at most
/// (tcp::reassembly::MAX_PENDING_SEGMENTS); past it, the hole before them is given up as a gap.
#[test]
fn one_byte_segments_out_of_order_are_held_to_the_segment_bound() {
    let n = 64 * 1024;
    for (capture, session, n) in bounded("one-byte-segments", n) {
        let lost = capture["control_gap_bytes"].as_u64().unwrap();
        assert!(lost > 0 && lost < n, "{capture}");
        assert_eq!(session["control"]["gap_bytes"], lost, "{session}");
    }
}

#[test]
fn conflicting_retransmissions_are_counted() {
    let n = 100_000;
    for (capture, session, n) in bounded("conflicting-retransmissions", n) {
        // "NOOP\r\n" then "QUIT\r\n" at the same place: 4 bytes differ each time; the first
        // copy is the one read.
        assert_eq!(capture["conflicting_overlaps"], 4 * n, "{capture}");
        assert_eq!(session["control"]["conflicting_overlaps"], 4 * n);
        assert_eq!(session["end"], "closed", "{session}");
    }
}

/// A session gone TLS keeps 1,000 probable data connections (ftp::session::MAX_PROBABLE); the
/// connections between its hosts past them are counted.
#[test]
fn connections_past_a_tls_sessions_probable_bound_are_counted() {
    let n = 5_000;
    for (capture, session, n) in bounded("tls-connections", n) {
        assert_eq!(session["probable_data_channels"].as_array().unwrap().len(), 1_000, "{session}");
        assert_eq!(capture["probable_channels_dropped"], n - 1_000, "{capture}");
        assert!(capture.get("host_sessions_dropped").is_none(), "one session: {capture}");
    }
}

/// A host's sessions gone TLS are weighed 16 at a time (correlate::hosts); each one past them
/// pushes the oldest out, at the client's address and at the server's, counted.
#[test]
fn tls_sessions_past_a_hosts_bound_are_counted() {
    // Past the warm-up: memory levels off at a few thousand sessions (19.7, 28.1, 32.2 and 34.1
    // MiB for 1,000, 4,000, 16,000 and 64,000 sessions), so n and 4n are both past it.
    let n = 4_000;
    for (capture, _, n) in bounded("tls-sessions", n) {
        assert_eq!(capture["sessions"], n, "{capture}");
        assert_eq!(capture["host_sessions_dropped"], 2 * (n - 16), "{capture}");
        assert!(capture.get("probable_channels_dropped").is_none(), "no data connection: {capture}");
    }
}
