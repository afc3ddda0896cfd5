//! Hostile captures (tests/common/hostile.rs) at two sizes, n and 4n, streamed into the real
//! binary's standard input, best of three runs each: its peak memory (maximum resident set,
//! measured by GNU time, which .ci/run installs) must stay flat past each bound, its CPU time must
//! grow no faster than linearly (at most 6 times for 4 times the input; quadratic would be 16), and
//! the report must count what was dropped. Ratios, never absolute times or sizes: the machine's
//! speed does not matter. Each n is past the bounds that the scenario meets (the flow table, the
//! negotiations kept, the reader's batches in flight), so that both sizes hold what the bounds
//! allow.
//!
//! (Not wait4 on the child: Rust spawns with vfork, and the child's peak then includes the test
//! process's own, inherited at exec.)

#[path = "common/hostile.rs"]
mod hostile;

use serde_json::Value;
use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};

/// A 4 times larger input may cost this much more memory at most (allocator noise, buffers
/// grown once); bounded memory is 1, memory that follows the input 4.
const MAX_MEMORY_RATIO: f64 = 1.5;
/// Linear is 4, quadratic 16.
const MAX_TIME_RATIO: f64 = 6.0;

struct Run {
    report: Value,
    /// Peak resident set, KiB.
    max_rss: i64,
    /// User and system CPU time, seconds.
    cpu: f64,
}

const TIME: &str = "/usr/bin/time";

/// `analyze --json -` under GNU time, with the generator writing into its standard input.
fn run(name: &str, generate: hostile::Generator, n: u64) -> Run {
    let out = std::env::temp_dir().join(format!("ftpscope-hostile-{name}-{n}-{}.json", std::process::id()));
    let usage = out.with_extension("time");
    let mut child = Command::new(TIME)
        .args(["-f", "%M %U %S", "-o"])
        .arg(&usage)
        .arg(env!("CARGO_BIN_EXE_ftpscope"))
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
    let measured = std::fs::read_to_string(&usage).unwrap();
    // GNU time says "Command exited with non-zero status 1" first when the status is not 0.
    assert!(matches!(status.code(), Some(0 | 1)), "{name} {n}: {status}: {measured}");
    let report = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let _ = (std::fs::remove_file(&out), std::fs::remove_file(&usage));
    let fields: Vec<f64> = measured.lines().last().unwrap_or_default().split(' ').map(|f| f.parse().unwrap()).collect();
    let [max_rss, user, system] = fields[..] else { panic!("{name} {n}: {measured}") };
    Run { report, max_rss: max_rss as i64, cpu: user + system }
}

/// Runs per size: the least memory and the least CPU time of these count, as a benchmark takes
/// the best of its runs. One run's figures move with the machine, not with the program: its
/// peak memory with the number of reader batches in flight when it peaks (how far the analysis
/// lagged), its system time with the kernel's page handling (0.02 to 0.83 s for one SYN flood
/// of 500,000 connections, whose user time was 0.25 s each time).
const RUNS: usize = 3;

/// `runs` runs of `name` at n: the first one's report, the least peak memory and CPU time.
fn best_of(runs: usize, name: &str, generate: hostile::Generator, n: u64) -> Run {
    let mut best = run(name, generate, n);
    for _ in 1..runs {
        let again = run(name, generate, n);
        best.max_rss = best.max_rss.min(again.max_rss);
        best.cpu = best.cpu.min(again.cpu);
    }
    best
}

/// GNU time is there, or the test is skipped (unless in CI or the lab, which must run it).
fn have_time() -> bool {
    if std::path::Path::new(TIME).exists() {
        return true;
    }
    let must = std::env::var_os("CI").is_some() || std::env::var("FTPSCOPE_LAB").is_ok_and(|v| v == "1");
    assert!(!must, "CI and the lab must have GNU time (.ci/run installs it)");
    eprintln!("skipped: no {TIME} (Debian package time) to measure peak memory");
    false
}

/// Runs `name` at n and 4n; checks memory and time; returns both reports' `capture` totals and
/// first session, for the counts.
fn bounded(name: &str, n: u64) -> Option<[(Value, Value); 2]> {
    if !have_time() {
        return None;
    }
    let (_, generate) = *hostile::ALL.iter().find(|(g, _)| *g == name).unwrap();
    let small = best_of(RUNS, name, generate, n);
    let large = best_of(RUNS, name, generate, 4 * n);
    let memory = large.max_rss as f64 / small.max_rss as f64;
    // Below 50 ms, the start of the process and the timer's 10 ms granularity dominate.
    let time = large.cpu / small.cpu.max(0.05);
    eprintln!(
        "{name}: n={n}: {} KiB, {:.3} s; 4n: {} KiB, {:.3} s; ratios memory {memory:.2}, time {time:.2}",
        small.max_rss, small.cpu, large.max_rss, large.cpu
    );
    assert!(memory < MAX_MEMORY_RATIO, "{name}: memory grew {memory:.2} times for 4 times the input");
    assert!(time < MAX_TIME_RATIO, "{name}: time grew {time:.2} times for 4 times the input");
    Some([small, large].map(|r| (r.report["capture"].clone(), r.report["sessions"][0].clone())))
}

/// The flow table holds 200,000 connections (FlowLimits::default): past it, the older half goes,
/// counted. Its memory stops growing past about twice that (its hash table doubles once, for
/// the tombstones of what was dropped): n = 500,000.
const MAX_FLOWS: u64 = 200_000;
const FLOWS: u64 = 500_000;

/// Every connection is counted, and those the table could not hold are counted as evicted.
fn held_to_the_flow_table_bound(name: &str) {
    let Some(runs) = bounded(name, FLOWS) else { return };
    for ((capture, _), n) in runs.into_iter().zip([FLOWS, 4 * FLOWS]) {
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
    let Some(runs) = bounded("ports", n) else { return };
    for ((capture, session), n) in runs.into_iter().zip([n, 4 * n]) {
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
    let Some(runs) = bounded("endless-line", n) else { return };
    for (capture, session) in runs {
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
    let Some(runs) = bounded("one-byte-segments", n) else { return };
    for ((capture, session), n) in runs.into_iter().zip([n, 4 * n]) {
        let lost = capture["control_gap_bytes"].as_u64().unwrap();
        assert!(lost > 0 && lost < n, "{capture}");
        assert_eq!(session["control"]["gap_bytes"], lost, "{session}");
    }
}

#[test]
fn conflicting_retransmissions_are_counted() {
    let n = 100_000;
    let Some(runs) = bounded("conflicting-retransmissions", n) else { return };
    for ((capture, session), n) in runs.into_iter().zip([n, 4 * n]) {
        // "NOOP\r\n" then "QUIT\r\n" at the same place: 4 bytes differ each time; the first
        // copy is the one read.
        assert_eq!(capture["conflicting_overlaps"], 4 * n, "{capture}");
        assert_eq!(session["control"]["conflicting_overlaps"], 4 * n);
        assert_eq!(session["end"], "closed", "{session}");
    }
}
