//! The progress bar, seen as a person sees it: drawn on a terminal (a real tmux pane) while a
//! slow input is read, gone when the report is printed; absent when stderr is not a terminal or
//! with --quiet. The pane is on a tmux server of the test's own: nobody else's tmux is touched.

mod common;

use common::needs::{self, Need};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tmux -L SOCKET ARGS`: a server of the test's own, on its own socket.
fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux").arg("-L").arg(socket).args(args).output().expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls the pane until `pred` holds or `limit` passes; returns the last screen.
fn wait_for(socket: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> (bool, String) {
    let start = Instant::now();
    loop {
        let screen = tmux(socket, &["capture-pane", "-p", "-t", "progress"]);
        if pred(&screen) {
            return (true, screen);
        }
        if start.elapsed() > limit {
            return (false, screen);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `ftpscope analyze -` (plus `extra`) in a tmux pane on a capture that arrives in two
/// halves 4 s apart; returns the screen during the pause, whether the run ended, and the screen after.
fn in_tmux(extra: &str) -> Option<(String, bool, String)> {
    if !needs::met(&[Need::Tmux]) {
        return None;
    }
    let capture = root().join("fixtures/pasv-ok-forwarded/client.pcap");
    let bytes = std::fs::metadata(&capture).unwrap().len();
    let socket = format!("ftpscope-progress-{}-{}", std::process::id(), extra.len());
    let script = format!(
        "(head -c {half} {f}; sleep 4; tail -c +{rest} {f}) | {bin} analyze {extra} - > /dev/null; echo EXIT=$?; sleep 30",
        half = bytes / 2,
        rest = bytes / 2 + 1,
        f = capture.display(),
        bin = env!("CARGO_BIN_EXE_ftpscope"),
    );
    tmux(&socket, &["new-session", "-d", "-s", "progress", "-x", "120", "-y", "10", &script]);
    let (_, during) = wait_for(&socket, Duration::from_secs(3), |s| s.contains("reading"));
    let (ended, after) = wait_for(&socket, Duration::from_secs(15), |s| s.contains("EXIT="));
    tmux(&socket, &["kill-server"]);
    Some((during, ended, after))
}

#[test]
fn a_bar_on_a_terminal_while_reading_then_gone() {
    let Some((screen, ended, after)) = in_tmux("") else { return };
    assert!(screen.contains("reading"), "no progress bar while reading:\n{screen}");
    assert!(screen.contains("B/s"), "the bar shows a rate:\n{screen}");
    assert!(ended, "ftpscope did not finish:\n{after}");
    assert!(after.contains("EXIT=0"), "{after}");
    assert!(!after.contains("reading"), "the bar is cleared at the end:\n{after}");
}

#[test]
fn quiet_draws_no_bar_even_on_a_terminal() {
    let Some((screen, ended, after)) = in_tmux("--quiet") else { return };
    assert!(!screen.contains("reading"), "--quiet drew a bar:\n{screen}");
    assert!(ended && after.contains("EXIT=0"), "{after}");
}

#[test]
fn no_bar_when_stderr_is_not_a_terminal_or_with_quiet() {
    let capture = root().join("fixtures/pasv-ok-forwarded/client.pcap");
    for quiet in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpscope"));
        cmd.arg("analyze").arg(&capture);
        if quiet {
            cmd.arg("--quiet");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    }
}
