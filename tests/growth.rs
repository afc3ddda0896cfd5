//! ftpscope's time grows linearly with the number of FTP sessions: 4 times the sessions must take
//! less than 6 times as long (linear is 4, quadratic 16), for the text report, the JSON report
//! and NDJSON. The captures are copies of one real lab session (vsftpd advertising its private
//! address; tests/common/replicate.rs, as bench/sessions.sh uses), 5,000 open at once, written
//! in process; the binary's CPU time is measured on each, best of 2 runs per size and output
//! (a ratio over the limit is measured again, up to 3 times, and the lowest counts).
//! The JSON report must hold every session written.
//!
//! Sizes: 10k and 40k sessions in release builds (`cargo test --release`, about 30 s on two
//! cores); a quarter of that in debug builds, where the binary is ten times slower.
//!
//! The times are measured where CI asks for ratios (CI=true), and in bench/: a ratio varies with
//! the machine's load. A user's plain `cargo test` checks the report of the smaller capture only
//! and says in one line that the ratios were skipped.

mod common;
#[path = "common/replicate.rs"]
mod replicate;

use common::needs::{self, Need};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const SOURCE: &str = "fixtures/pasv-private-leak-unanswered/client.pcap";
const CONCURRENCY: u64 = 5_000;
const SIZES: [u64; 2] = if cfg!(debug_assertions) { [2_500, 10_000] } else { [10_000, 40_000] };
const RUNS: usize = 2;
const MEASUREMENTS: usize = 3;
const MAX_RATIO: f64 = 6.0;
/// Held by each test for its whole run: children's CPU time is counted for the process.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn write_capture(t: &replicate::Template, sessions: u64) -> PathBuf {
    let name = Path::new(&t.source).parent().and_then(|p| p.file_name()).map_or("capture".into(), |n| n.to_string_lossy());
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("growth-{name}-{sessions}.pcap"));
    let file = BufWriter::with_capacity(1 << 20, File::create(&path).unwrap());
    let (written, mut file) = replicate::write(t, sessions, CONCURRENCY, file).unwrap();
    file.flush().unwrap();
    assert_eq!(written.sessions, sessions);
    path
}

fn ftpscope(args: &[&str], capture: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpscope"));
    cmd.arg("analyze").args(args).arg(capture).stdin(Stdio::null()).stderr(Stdio::piped());
    cmd
}

/// CPU time (user and system) of this process's children that have ended and been waited for.
/// The tests below start processes one test at a time ([`ONE_AT_A_TIME`]): every child counted
/// while a test holds it is one of that test's runs.
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage(RUSAGE_CHILDREN)");
    // SAFETY: initialised by the successful call above.
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// One run with the report thrown away (as `> /dev/null`): the CPU time it used, all its
/// threads. CPU time, not wall time: a machine busy with other tests or builds makes a run wait
/// longer for a core, not work longer (a wall-time ratio once read 6.2x at a load average of 6).
fn timed(args: &[&str], capture: &Path) -> Duration {
    let before = children_cpu();
    let out = ftpscope(args, capture).stdout(Stdio::null()).output().unwrap();
    let took = children_cpu().saturating_sub(before);
    // 1: error findings present, as every copy of this session has.
    assert!(matches!(out.status.code(), Some(0 | 1)), "ftpscope {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    took
}

/// Sessions in the JSON report, read as it streams out (nothing but the count is kept).
fn json_sessions(capture: &Path) -> usize {
    #[derive(serde::Deserialize)]
    struct Report {
        sessions: Vec<serde::de::IgnoredAny>,
    }
    let mut child = ftpscope(&["--json"], capture).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let report: Report = serde_json::from_reader(std::io::BufReader::new(child.stdout.take().unwrap())).unwrap();
    assert!(matches!(child.wait().unwrap().code(), Some(0 | 1)));
    report.sessions.len()
}

/// Whether this binary has `--ndjson` (the streaming core adds it).
fn has_ndjson() -> bool {
    let help = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", "--help"]).output().unwrap();
    String::from_utf8_lossy(&help.stdout).contains("--ndjson")
}

/// Times the text report, the JSON report and NDJSON on each capture (`sizes` sessions each),
/// best of [`RUNS`], and says every output whose time grew `max_ratio` times or more.
fn ratios_over(captures: &[PathBuf], sizes: &[u64; 2], max_ratio: f64) -> Vec<String> {
    let mut outputs: Vec<(&str, &[&str])> = vec![("text", &[]), ("--json", &["--json"])];
    // --ndjson needs the streaming core; until the binary has it, it is skipped (said on stderr).
    if has_ndjson() {
        outputs.push(("--ndjson", &["--ndjson"]));
    } else {
        eprintln!("growth: this ftpscope has no --ndjson yet: not timed");
    }
    let mut failures = Vec::new();
    for (name, args) in outputs {
        // A ratio over the limit is measured again, up to MEASUREMENTS times, and the lowest
        // counts: load from elsewhere only ever inflates a ratio, while work that grows too fast
        // reads too high every time.
        let (mut best, mut ratio) = ([Duration::MAX; 2], f64::INFINITY);
        for _ in 0..MEASUREMENTS {
            let mut fastest = [Duration::MAX; 2];
            // Sizes alternate, so that a change of machine load hits both alike.
            for _ in 0..RUNS {
                for (i, capture) in captures.iter().enumerate() {
                    fastest[i] = fastest[i].min(timed(args, capture));
                }
            }
            let measured = fastest[1].as_secs_f64() / fastest[0].as_secs_f64();
            if measured < ratio {
                (best, ratio) = (fastest, measured);
            }
            if ratio < max_ratio {
                break;
            }
        }
        let line = format!(
            "{name}: {} sessions {:.3} s, {} sessions {:.3} s: {ratio:.1}x for {}x the sessions",
            sizes[0],
            best[0].as_secs_f64(),
            sizes[1],
            best[1].as_secs_f64(),
            sizes[1] / sizes[0]
        );
        eprintln!("growth: {line}");
        if ratio >= max_ratio {
            failures.push(line);
        }
    }
    failures
}

#[test]
fn time_grows_linearly_with_sessions() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = replicate::load(&root.join(SOURCE), 0, 21).unwrap();
    if !needs::part_met("the time ratios", &[Need::Ratios]) {
        let capture = write_capture(&template, SIZES[0]);
        assert_eq!(json_sessions(&capture), SIZES[0] as usize, "every session written is in the JSON report");
        let _ = std::fs::remove_file(capture);
        return;
    }
    let captures: Vec<PathBuf> = SIZES.iter().map(|&n| write_capture(&template, n)).collect();

    for (capture, &n) in captures.iter().zip(&SIZES) {
        assert_eq!(json_sessions(capture), n as usize, "every session written is in the JSON report");
    }

    let failures = ratios_over(&captures, &SIZES, MAX_RATIO);
    for capture in &captures {
        let _ = std::fs::remove_file(capture);
    }
    assert!(failures.is_empty(), "time grows faster than linearly (limit {MAX_RATIO}x):\n{}", failures.join("\n"));
}

/// The busy server's shape: every copy of the session is told the same passive port (vsftpd
/// behind NAT, its 227 private, the client connecting to the control address instead), 5,000
/// open at once, so that every data SYN arrives where thousands of negotiations have named the
/// same endpoint. Every data connection must be in its own client's session; and 4 times the
/// sessions may take at most [`MAX_RATIO`] times the CPU time, as for the other shape: a SYN
/// that scanned what its port had accumulated (waiting expectations, taken ones kept for a
/// retry, untied SYNs: all 40,000 within their 300 s) grew about 16 times. Linear (4x) is not
/// reached yet: a fresh CI run read 5.8x for text, 4.4x for JSON and 4.3x for NDJSON (issue 20).
/// The ratio is measured only where CI asks for ratios (tests/common/needs.rs); the ties always.
#[test]
fn one_passive_port_ties_each_connection_to_its_client_in_linear_time() {
    const SOURCE: &str = "fixtures/pasv-private-leak-workaround/client.pcap";
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = replicate::load(&root.join(SOURCE), 0, 21).unwrap();
    let captures: Vec<PathBuf> = SIZES.iter().map(|&n| write_capture(&template, n)).collect();

    // Every session's data connections come from its own client.
    let out = ftpscope(&["--json"], &captures[0]).stdout(Stdio::piped()).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let host = |v: &serde_json::Value| v.as_str().unwrap().rsplit_once(':').unwrap().0.to_string();
    let (mut tied, mut wrong) = (0, Vec::new());
    for s in report["sessions"].as_array().unwrap() {
        for n in s["negotiations"].as_array().unwrap() {
            let c = &n["data"]["connection"];
            if c.is_null() {
                continue;
            }
            tied += 1;
            if host(&c["client"]) != host(&s["client"]) || n["data"].get("tie_ambiguous").is_some() {
                wrong.push(format!("session {} ({}): {}", s["id"], s["client"], c["client"]));
            }
        }
    }
    assert_eq!(tied, SIZES[0], "one data connection per session");
    assert!(
        wrong.is_empty(),
        "{} of {tied} data connections in another client's session (or a guess), e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(3)]
    );

    if !needs::part_met("the time ratio", &[Need::Ratios]) {
        for capture in &captures {
            let _ = std::fs::remove_file(capture);
        }
        return;
    }
    let failures = ratios_over(&captures, &SIZES, MAX_RATIO);
    for capture in &captures {
        let _ = std::fs::remove_file(capture);
    }
    assert!(failures.is_empty(), "time grows faster than linearly (limit {MAX_RATIO}x):\n{}", failures.join("\n"));
}
