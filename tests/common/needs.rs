//! What a test needs from this machine, decided in one place for every test of ftpscope: the
//! integration tests reach it through tests/common, the library's unit tests through
//! src/growth.rs (which includes this file).
//!
//! A test calls [`met`] with what it needs. Everything there: it runs. Something missing: it is
//! skipped, with one line on stderr that says what it needs, written past the test harness's
//! capture so that a plain `cargo test` shows it. When CI asks for everything (the variable `CI`
//! set and neither empty, `false` nor `0`; .ci/run sets it), a missing need fails the test
//! instead: a skip in CI would be a test that silently stopped running.
//!
//! Two needs are CI itself, for tests that must not run on a user's plain `cargo test`: the NAT
//! lab, which builds network namespaces and runs FTP servers on the machine, and ratios of time
//! or memory at two input sizes, which vary with the machine's load (bench/ measures the same).
//!
//! Owns: the checks and the skip line. Must not install, start, stop or change anything: it only
//! looks (files, the effective user, `fixtures/lab/install-deps.sh --check`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One thing a test may need from the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Zeek's FTP test traces beside the repository, in `../shared/corpus` (CI has them).
    Corpus,
    /// tmux, to run the binary in a real terminal and read its screen.
    Tmux,
    /// Debian's Chromium, run headless to render the HTML page.
    Chromium,
    /// GNU time, to measure a child's peak memory.
    GnuTime,
    /// The effective user is root (network namespaces, capture rights).
    Root,
    /// What fixtures/lab/install-deps.sh installs: servers, clients, tcpdump, tshark, libpcap-dev.
    LabPackages,
    /// Asked to run the NAT lab (CI): it builds namespaces and runs servers on this machine.
    Lab,
    /// Asked to measure time or memory ratios (CI): they vary with the machine's load.
    Ratios,
    /// Asked (CI), with libpcap's development files: the test builds the `live` binary itself, a
    /// release build of its own (minutes), for what only a libpcap build does (`--filter`).
    LiveBuild,
}

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const GNU_TIME: &str = "/usr/bin/time";
/// libpcap's development files (Debian: libpcap0.8-dev, through libpcap-dev).
pub const PCAP_HEADER: &str = "/usr/include/pcap/pcap.h";

impl Need {
    /// None when the need is met; otherwise what is needed, in the words of the skip line.
    fn missing(self) -> Option<String> {
        let (met, what) = match self {
            Need::Corpus => (
                corpus_dir().join("zeek/Traces").is_dir() && corpus_dir().join("zeek/Baseline").is_dir(),
                "../shared/corpus (Zeek's FTP traces beside the repository; CI has it)",
            ),
            Need::Tmux => (Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success()), "tmux (apt-get install tmux)"),
            Need::Chromium => (Path::new(CHROMIUM).exists(), "/usr/bin/chromium (apt-get install chromium)"),
            Need::GnuTime => (Path::new(GNU_TIME).exists(), "GNU time in /usr/bin/time (apt-get install time)"),
            // SAFETY: geteuid has no preconditions and cannot fail.
            Need::Root => (unsafe { libc::geteuid() } == 0, "root"),
            Need::LabPackages => {
                return lab_packages_missing()
                    .map(|m| format!("the lab's packages (missing: {m}; fixtures/lab/install-deps.sh installs them)"))
            }
            Need::Lab => (ci(), "CI=true (the NAT lab builds network namespaces and runs FTP servers on this machine: only when asked)"),
            Need::Ratios => (ci(), "CI=true (time and memory ratios vary with the machine's load: measured where CI asks, and in bench/)"),
            Need::LiveBuild => (
                ci() && Path::new(PCAP_HEADER).exists(),
                "CI=true and libpcap's development files (apt-get install libpcap-dev): the test builds ftpscope with --features live, \
                 a release build of its own, only when asked",
            ),
        };
        (!met).then(|| what.to_string())
    }
}

/// Whether CI asks for every test: `CI` set and neither empty, `false` nor `0`.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Whether everything in `needs` is met. If not, the test is skipped with one line on stderr
/// naming what it needs, or, when CI asks for everything, fails saying so.
pub fn met(needs: &[Need]) -> bool {
    part_met("", needs)
}

/// [`met`] for a part of a test (`part`, e.g. "the ratios"), which goes on without it: the line
/// says which part was skipped.
pub fn part_met(part: &str, needs: &[Need]) -> bool {
    let missing: Vec<String> = needs.iter().filter_map(|n| n.missing()).collect();
    if missing.is_empty() {
        return true;
    }
    let test = test_name();
    let missing = missing.join(", ");
    let part = if part.is_empty() { String::new() } else { format!(" {part}") };
    assert!(!ci(), "{test}:{part} CI asks for every test, but this needs {missing}");
    // Straight to the file descriptor: eprintln! would be held by the harness, and shown only
    // for a failing test.
    let _ = writeln!(std::io::stderr(), "{test}:{part} skipped: needs {missing}");
    false
}

/// Zeek's corpus (`../shared/corpus`), or None after the skip line.
pub fn corpus() -> Option<PathBuf> {
    met(&[Need::Corpus]).then(corpus_dir)
}

/// [`corpus`] for a part of a test, which goes on without it.
pub fn corpus_part(part: &str) -> Option<PathBuf> {
    part_met(part, &[Need::Corpus]).then(corpus_dir)
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// What install-deps.sh would install, as it says, or None when everything is there.
fn lab_packages_missing() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lab/install-deps.sh");
    match Command::new("bash").arg(&script).arg("--check").output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")),
        Err(e) => Some(format!("bash {}: {e}", script.display())),
    }
}

/// The running test, as `crate::path::test`: the test harness names each test's thread after it.
fn test_name() -> String {
    let thread = std::thread::current();
    format!("{}::{}", env!("CARGO_CRATE_NAME"), thread.name().unwrap_or("(a thread of a test)"))
}
