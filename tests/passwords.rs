//! A password never appears in any output. One capture holds a password in every shape a control
//! channel carries it (fixtures/crafted/passwords.pcap: PASS before USER, lowercase `pass`, split
//! inside the password, overlong, a segment lost inside it, a session first seen at its PASS, an
//! endless line cut by the end of the capture), and every output ftpscope has is searched for any
//! piece of it: the text report (and its command log, -v), --json, --ndjson (and --commands),
//! explain's text, --json and --html (one capture and two), the terminal UI's screens in a real
//! terminal (tmux), and the error messages of inputs that cannot be read whole. (`live --write`
//! writes a capture: it holds what the wire held, by design.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[path = "common/tmux.rs"]
mod tmux;

/// The password in passwords.pcap (examples/craft.rs SECRET), and the pieces of it that a cut
/// line could leave: any of them in an output is a leak.
const PIECES: [&str; 5] = ["Tr0ub4dor&3-horse-staple-7731", "Tr0ub4dor", "horse-staple", "staple-7731", "-horse-"];

fn capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crafted/passwords.pcap")
}

/// Fails with the output's name and the line that leaked.
fn assert_no_password(what: &str, text: &str) {
    for piece in PIECES {
        let leak = text.lines().find(|l| l.contains(piece));
        assert!(leak.is_none(), "{what} shows the password ({piece}): {}", leak.unwrap_or_default());
    }
}

/// Runs ftpscope; both its standard output and standard error, with the exit status checked.
fn run(args: &[&str], statuses: &[i32]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.code().is_some_and(|c| statuses.contains(&c)), "{args:?}: {:?}\n{text}", out.status);
    text
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn no_output_shows_a_password() {
    let cap = capture();
    let cap = cap.to_str().unwrap();
    let dir = Scratch(std::env::temp_dir().join(format!("ftpscope-passwords-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let bytes = std::fs::read(cap).unwrap();
    assert!(
        bytes.windows(PIECES[0].len()).filter(|w| *w == PIECES[0].as_bytes()).count() > 100,
        "the capture holds the password (in every session)"
    );

    // The reports: what each says about the sessions is checked elsewhere; here, that they
    // said something about all six, and nothing of the password.
    let text = run(&["analyze", "-q", cap], &[1]);
    assert!(text.contains("6 FTP session(s)"), "{text}");
    assert_no_password("analyze", &text);
    assert_no_password("analyze --json", &run(&["analyze", "-q", "--json", cap], &[1]));
    let ndjson = run(&["analyze", "-q", "--ndjson", cap], &[1]);
    assert!(ndjson.lines().count() > 6, "{ndjson}");
    assert_no_password("analyze --ndjson", &ndjson);
    // The command log, in both views: every PASS there, masked.
    let commands = run(&["analyze", "-q", "--ndjson", "--commands", cap], &[1]);
    assert!(commands.matches("\"command\":\"PASS ••••\"").count() >= 3, "{commands}");
    assert_no_password("analyze --ndjson --commands", &commands);
    let verbose = run(&["analyze", "-q", "-v", cap], &[1]);
    assert!(verbose.contains("#30 PASS ••••  -> 230 Login successful. #31"), "{verbose}");
    assert_no_password("analyze -v", &verbose);
    let html = dir.0.join("explain.html");
    let explained = run(&["explain", "-q", cap, "--html", html.to_str().unwrap()], &[1]);
    assert!(explained.contains("10.0.0.30"), "a problem session is told: {explained}");
    assert_no_password("explain", &explained);
    assert_no_password("explain --html", &std::fs::read_to_string(&html).unwrap());
    assert_no_password("explain --json", &run(&["explain", "-q", "--json", cap], &[1]));
    // Two capture points (the same file twice): each explained, then compared.
    let both = dir.0.join("both.html");
    assert_no_password("explain, two captures", &run(&["explain", "-q", cap, cap, "--html", both.to_str().unwrap()], &[1]));
    assert_no_password("explain --html, two captures", &std::fs::read_to_string(&both).unwrap());
    assert_no_password("explain --json, two captures", &run(&["explain", "-q", "--json", cap, cap], &[1]));

    // Error messages: the capture cut inside a frame (the rest is reported read as far as it
    // goes), and a text file that starts with a PASS line (someone gave a log, not a capture).
    let cut = dir.0.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 700]).unwrap();
    let cut_report = run(&["analyze", "-q", cut.to_str().unwrap()], &[1]);
    assert!(cut_report.contains("truncated") || cut_report.contains("ends inside"), "{cut_report}");
    assert_no_password("analyze of a cut capture", &cut_report);
    let log = dir.0.join("session.log");
    std::fs::write(&log, format!("PASS {}\r\n", PIECES[0])).unwrap();
    for cmd in ["analyze", "explain"] {
        let refused = run(&[cmd, "-q", log.to_str().unwrap()], &[2]);
        assert!(refused.contains("not a pcap"), "{refused}");
        assert_no_password(&format!("{cmd} of a text file"), &refused);
    }

    // The terminal UI: every session's detail screen (which lists the control channel's lines),
    // then the report printed after it.
    let Some(t) = tmux::Tmux::start("passwords", 200, 120) else { return };
    let wait = Duration::from_secs(15);
    t.keys(&[&format!("{} analyze {cap} --tui --report; echo EXIT=$?", env!("CARGO_BIN_EXE_ftpscope")), "Enter"]);
    let list = t.wait_for("the session list", wait, |s| s.contains("203.0.113.30:21") && s.contains("sessions (Enter: detail)"));
    assert_no_password("the UI's session list", &list);
    let mut details = 0;
    for i in 0..6 {
        if i > 0 {
            t.keys(&["Escape"]);
            t.wait_for("the list again", wait, |s| s.contains("sessions (Enter: detail)"));
            t.keys(&["j"]);
        }
        t.keys(&["Enter"]);
        // The control channel's lines come from the analysis after the screen opens: wait for them.
        let detail = t.wait_for("a session's detail with its lines", wait, |s| s.contains("control channel:") && s.contains(" C> "));
        details += usize::from(detail.contains("PASS ••••") || detail.contains("pass ••••"));
        assert_no_password(&format!("the UI's detail of the session in row {i}"), &detail);
        // The detail scrolls: its last lines too.
        t.keys(&["G"]);
        assert_no_password(&format!("the UI's detail of the session in row {i}, at its end"), &t.screen());
    }
    assert!(details >= 4, "the details show PASS lines, masked");
    t.keys(&["q"]);
    let after = t.wait_for("the report after the UI", wait, |s| s.contains("EXIT="));
    assert_no_password("the report after the UI", &after);
}

/// The arguments of every PASS line in a capture's bytes (the lab's refused logins: the wrong
/// passwords a person typed, a guesser's list), at least 6 bytes long so that a piece of other
/// text cannot match by chance.
fn passwords_in(capture: &Path) -> Vec<String> {
    let bytes = std::fs::read(capture).unwrap();
    let mut found = Vec::new();
    for (i, _) in bytes.windows(5).enumerate().filter(|(_, w)| *w == b"PASS ") {
        let rest = &bytes[i + 5..];
        let end = rest.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(rest.len()).min(64);
        let password = String::from_utf8_lossy(&rest[..end]).to_string();
        if password.len() >= 6 && !found.contains(&password) {
            found.push(password);
        }
    }
    found
}

/// The refused logins of the lab (issue 21): their findings name the user, the command and the
/// server's words, never the password tried, in any output.
#[test]
fn refused_logins_name_the_user_and_never_the_password_tried() {
    let dir = Scratch(std::env::temp_dir().join(format!("ftpscope-refused-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["login-wrong-password", "login-guessing", "login-incorrect-proftpd", "login-oops-chroot"] {
        let cap = root.join("fixtures").join(name).join("client.pcap");
        let passwords = passwords_in(&cap);
        assert!(!passwords.is_empty(), "{name}: the capture holds the passwords tried");
        let cap = cap.to_str().unwrap();
        let html = dir.0.join(format!("{name}.html"));
        let outputs = [
            ("analyze", run(&["analyze", "-q", cap], &[1])),
            ("analyze --json", run(&["analyze", "-q", "--json", cap], &[1])),
            ("analyze --ndjson", run(&["analyze", "-q", "--ndjson", cap], &[1])),
            ("explain", run(&["explain", "-q", cap, "--html", html.to_str().unwrap()], &[1])),
            ("explain --json", run(&["explain", "-q", "--json", cap], &[1])),
            ("explain --html", std::fs::read_to_string(&html).unwrap()),
        ];
        for (what, text) in &outputs {
            assert!(text.contains("login_failed") || text.contains("service_refused"), "{name} {what}: the refusal is told");
            for password in &passwords {
                let leak = text.lines().find(|l| l.contains(password.as_str()));
                assert!(leak.is_none(), "{name} {what} shows a password tried: {}", leak.unwrap_or_default());
            }
        }
    }
}
