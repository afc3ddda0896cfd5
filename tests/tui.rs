//! The terminal UI seen as a person sees it: the real binary in a tmux pane, driven with keys;
//! and its refusal to draw into something that is not a terminal.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn fixture(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel).display().to_string()
}

const LEAK: &str = "fixtures/pasv-private-leak-fail/client.pcap";
const ACTIVE: &str = "fixtures/alg-active/client.pcap";

/// The status `echo EXIT=$?` printed (the command line itself shows "EXIT=$?", not a digit).
fn exit_status(screen: &str) -> Option<u32> {
    screen.match_indices("EXIT=").find_map(|(i, _)| {
        let digits: String = screen[i + 5..].chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

#[path = "common/tmux.rs"]
mod tmux;
use tmux::Tmux;

fn tmux(name: &str) -> Option<Tmux> {
    Tmux::start(name, 100, 30)
}

#[test]
fn the_ui_in_a_real_terminal_moves_filters_quits_and_gives_the_terminal_back() {
    let Some(t) = tmux("keys") else { return };
    let cmd = format!("{} analyze {} {} --tui --report; echo EXIT=$?", env!("CARGO_BIN_EXE_ftpscope"), fixture(LEAK), fixture(ACTIVE));
    t.keys(&[&cmd, "Enter"]);
    let limit = Duration::from_secs(15);
    // The list: the server's address and the error, once the files are read.
    let list = t.wait_for("the session list", limit, |s| s.contains("198.51.100.2:21") && s.contains("ended"));
    assert!(list.contains("ERROR") && list.contains("192.0.2.30:21"), "{list}");
    assert!(list.contains("? help") && list.contains("q quit"), "key hints:\n{list}");
    // Enter: the first session, with the leak.
    t.keys(&["Enter"]);
    let detail = t.wait_for("the leak in detail", limit, |s| s.contains("10.0.0.20:40005, a private (RFC 1918) address"));
    assert!(detail.contains("unreachable"), "{detail}");
    // Esc, j, Enter: the next session. (Esc and a key sent at once read as Alt-key, as in
    // any terminal: the list is awaited first.)
    t.keys(&["Escape"]);
    t.wait_for("the list again", limit, |s| s.contains("sessions (Enter: detail)"));
    t.keys(&["j", "Enter"]);
    t.wait_for("session 1 in detail", limit, |s| s.contains("session 1  192.168.1.10:38138 -> 192.0.2.30:21"));
    // Esc, / and an address: only the leaking session's server is left.
    t.keys(&["Escape"]);
    t.wait_for("the list again", limit, |s| s.contains("sessions (Enter: detail)"));
    t.keys(&["/", "198.51", "Enter"]);
    let filtered = t.wait_for("the filter in force", limit, |s| s.contains("filter /198.51"));
    assert!(filtered.contains("198.51.100.2:21") && !filtered.contains("192.0.2.30:21"), "{filtered}");
    assert!(filtered.contains("Sessions 1 "), "{filtered}");
    // q: the report after the UI, the exit status, and the shell as it was.
    t.keys(&["q"]);
    let after = t.wait_for("the exit status", limit, |s| exit_status(s).is_some());
    assert_eq!(exit_status(&after), Some(1), "an error finding makes the status 1:\n{after}");
    assert!(after.contains("ERROR private_address_leak"), "--report prints the report:\n{after}");
    assert!(!after.contains("Findings "), "the UI's screen is gone:\n{after}");
    // The terminal is back in its normal mode: line editing (icanon) and echo on.
    t.keys(&["clear; stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' '; echo MODES", "Enter"]);
    let modes = t.wait_for("the terminal modes", limit, |s| s.lines().any(|l| l.trim_end().ends_with("MODES") && !l.contains("stty")));
    let line = modes.lines().find(|l| l.trim_end().ends_with("MODES") && !l.contains("stty")).unwrap_or_default();
    assert!(line.contains("icanon") && !line.contains("-icanon") && !line.contains("-echo"), "{modes}");
    assert!(modes.contains("READY$"), "{modes}");
}

#[test]
fn ctrl_c_and_sigterm_give_the_terminal_back_too() {
    let Some(t) = tmux("signals") else { return };
    let limit = Duration::from_secs(15);
    let cmd = format!("{} analyze {} --tui; echo EXIT=$?", env!("CARGO_BIN_EXE_ftpscope"), fixture(LEAK));
    t.keys(&[&cmd, "Enter"]);
    t.wait_for("the session list", limit, |s| s.contains("198.51.100.2:21") && s.contains("ended"));
    t.keys(&["C-c"]);
    let after = t.wait_for("the exit status", limit, |s| exit_status(s).is_some());
    assert_eq!(exit_status(&after), Some(1), "{after}");
    assert!(!after.contains("Findings "), "{after}");
    // From outside: SIGTERM to the UI running in the foreground (its pid written by the shell
    // that becomes it).
    let pid_file = std::env::temp_dir().join(format!("ftpscope-tui-test-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pid_file);
    t.keys(&["clear", "Enter"]);
    let cmd = format!(
        "sh -c 'echo $$ > {}; exec {} analyze {} --tui'; echo GONE=$?",
        pid_file.display(),
        env!("CARGO_BIN_EXE_ftpscope"),
        fixture(LEAK)
    );
    t.keys(&[&cmd, "Enter"]);
    t.wait_for("the session list", limit, |s| s.contains("198.51.100.2:21") && s.contains("ended"));
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let _ = std::fs::remove_file(&pid_file);
    Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap();
    let after = t.wait_for("the end after SIGTERM", limit, |s| exit_status(&s.replace("GONE=", "EXIT=")).is_some());
    assert!(!after.contains("Findings "), "{after}");
    t.keys(&["clear; stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' '; echo MODES", "Enter"]);
    let modes = t.wait_for("the terminal modes", limit, |s| s.lines().any(|l| l.trim_end().ends_with("MODES") && !l.contains("stty")));
    let line = modes.lines().find(|l| l.trim_end().ends_with("MODES") && !l.contains("stty")).unwrap_or_default();
    assert!(line.contains("icanon") && !line.contains("-icanon"), "{modes}");
}

/// examples/tui_panic: the UI run with a panic injected, a test build that `cargo test` builds
/// beside the test binaries (target/<profile>/examples), never part of the released binary.
fn tui_panic() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples").join(format!("tui_panic{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn a_panic_in_either_thread_gives_the_terminal_back() {
    let Some(t) = tmux("panic") else { return };
    let limit = Duration::from_secs(15);
    let bin = tui_panic();
    assert!(bin.exists(), "{} is built by cargo test", bin.display());
    for thread in ["ui", "analysis"] {
        t.keys(&["clear", "Enter"]);
        let cmd = format!("{} {thread} {}; echo EXIT=$?", bin.display(), fixture(LEAK));
        t.keys(&[&cmd, "Enter"]);
        let after = t.wait_for("the exit status", limit, |s| exit_status(s).is_some());
        assert_eq!(exit_status(&after), Some(101), "{thread}: {after}");
        assert!(after.contains("TUI_PANIC_TRIAL"), "{thread}: the panic message is on the normal screen:\n{after}");
        assert!(!after.contains("Findings "), "{thread}: {after}");
        t.keys(&["clear; stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' '; echo MODES", "Enter"]);
        let modes = t.wait_for("the terminal modes", limit, |s| s.lines().any(|l| l.trim_end().ends_with("MODES") && !l.contains("stty")));
        let line = modes.lines().find(|l| l.trim_end().ends_with("MODES") && !l.contains("stty")).unwrap_or_default();
        assert!(line.contains("icanon") && !line.contains("-icanon") && !line.contains("-echo"), "{thread}: {modes}");
    }
}

#[test]
fn without_a_terminal_it_says_so_in_one_line_and_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", &fixture(LEAK), "--tui"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--tui needs a terminal"), "{err}");
}

#[test]
fn report_needs_tui_and_tui_excludes_json() {
    for args in [&["--report"][..], &["--tui", "--json"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("analyze").arg(fixture(LEAK)).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn with_the_report_redirected_the_ui_is_on_the_terminal_and_the_report_in_the_file() {
    let Some(t) = tmux("redirect") else { return };
    let limit = Duration::from_secs(15);
    let report = std::env::temp_dir().join(format!("ftpscope-tui-report-{}.txt", std::process::id()));
    let cmd = format!("{} analyze {} --tui --report > {}; echo EXIT=$?", env!("CARGO_BIN_EXE_ftpscope"), fixture(LEAK), report.display());
    t.keys(&[&cmd, "Enter"]);
    t.wait_for("the session list on the terminal", limit, |s| s.contains("198.51.100.2:21") && s.contains("ended"));
    t.keys(&["q"]);
    let after = t.wait_for("the exit status", limit, |s| exit_status(s).is_some());
    assert_eq!(exit_status(&after), Some(1), "the report's status:\n{after}");
    assert!(!after.contains("ERROR private_address_leak"), "the report is in the file, not on the terminal:\n{after}");
    let text = std::fs::read_to_string(&report).unwrap();
    let _ = std::fs::remove_file(&report);
    assert!(text.contains("ERROR private_address_leak"), "{text}");
    assert!(!text.contains('\x1b'), "nothing of the UI in the file:\n{text}");
}

#[test]
fn a_capture_that_ends_early_reads_ended_early_not_100_percent() {
    let Some(t) = tmux("truncated") else { return };
    let limit = Duration::from_secs(15);
    // The failing capture cut inside a record two thirds in (frame 21 of 29).
    let whole = std::fs::read(fixture(LEAK)).unwrap();
    let cut = std::env::temp_dir().join(format!("ftpscope-tui-cut-{}.pcap", std::process::id()));
    std::fs::write(&cut, &whole[..whole.len() * 2 / 3 + 7]).unwrap();
    let cmd = format!("{} analyze {} --tui; echo EXIT=$?", env!("CARGO_BIN_EXE_ftpscope"), cut.display());
    t.keys(&[&cmd, "Enter"]);
    let screen = t.wait_for("the end of the reading", limit, |s| s.contains("ENDED EARLY") || s.contains("│ ended"));
    let _ = std::fs::remove_file(&cut);
    let bar = screen.lines().find(|l| l.contains("ENDED EARLY")).unwrap_or_else(|| panic!("{screen}"));
    assert!(bar.contains("(truncated)") && bar.contains("file ends inside frame 21"), "{bar}");
    assert!(!bar.contains("100%"), "{bar}");
    t.keys(&["q"]);
    t.wait_for("the exit status", limit, |s| exit_status(s).is_some());
}
