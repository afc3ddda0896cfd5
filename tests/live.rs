//! `ftpscope live`, end to end, with a real interface.
//!
//! Without the `live` feature (the default build, no libpcap): `live` says what to install.
//!
//! When CI asks for the lab (CI=true), as root, with the lab's packages (libpcap's development
//! files among them; fixtures/lab/install-deps.sh, run by .ci/run, never by a test), the tests
//! build the live binary once (`cargo build --release --features live --target-dir
//! target/live`) and drive it; otherwise each says in one line what it needs and is skipped (a
//! failure in CI):
//! - in the NAT lab (fixtures/lab/live.sh): a server leaking its private address in 227, a
//!   client that trusts it, `ftpscope live --ndjson --duration --write` in the client's
//!   namespace: the leak and the failed data connections are in the events, and `analyze` of
//!   the written file gives the same sessions, outcomes and findings;
//! - the interface deleted mid-capture: a clean end, the report so far, a line saying why;
//! - Ctrl-C (SIGINT) on loopback in a namespace of its own: the report, and a valid file;
//! - no permission (as `nobody`), a bad filter, an existing --write file: exit 2, one line.
//!
//! All traffic stays in namespaces the tests create; every step is bounded by `timeout`.

mod common;

use common::needs::{self, Need};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The live binary (common::live_binary), when the lab, and what the test needs `also`, is
/// there (the test is skipped with a line saying what it needs, or fails in CI).
fn live_binary(also: &[Need]) -> Option<PathBuf> {
    if !needs::met(&[common::LAB, also].concat()) {
        return None;
    }
    common::live_binary(&[])
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ftpscope-live-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ndjson(path: &Path) -> Vec<Value> {
    let body = std::fs::read_to_string(path).unwrap();
    body.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// `ftpscope analyze FILE --json` (the default build's binary).
fn analyze_json(file: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("analyze").arg("--json").arg(file).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "analyze {}: {}", file.display(), text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What must agree between two reports of the same packets: per session, its endpoints, its
/// negotiations' commands, advertised endpoints and outcomes, and its findings.
fn essentials(sessions: &[Value]) -> Vec<Value> {
    sessions
        .iter()
        .map(|s| {
            let negotiations: Vec<Value> = s["negotiations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| serde_json::json!([n["frame"], n["command"], n["advertised"], n["outcome"]]))
                .collect();
            let findings: Vec<Value> = s["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| serde_json::json!([f["kind"], f["severity"], f["occurrences"], f["frames"]]))
                .collect();
            serde_json::json!({"client": s["client"], "server": s["server"], "negotiations": negotiations, "findings": findings})
        })
        .collect()
}

#[test]
fn without_the_feature_live_says_what_to_install() {
    if cfg!(feature = "live") {
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["live", "-i", "lo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("apt-get install libpcap-dev"), "{err}");
    assert!(err.contains("cargo install --path . --features live"), "{err}");
}

#[test]
fn live_sees_the_nat_leak_and_the_written_file_agrees() {
    let Some(bin) = live_binary(&[]) else { return };
    let out = scratch("leak");
    let lab = common::root().join("fixtures/lab/live.sh");
    let status = Command::new("timeout").arg("180").arg("bash").arg(&lab).arg("leak").arg(&bin).arg(&out).status().unwrap();
    assert!(status.success(), "fixtures/lab/live.sh leak failed");
    let err = std::fs::read_to_string(out.join("leak.err")).unwrap();
    let rc = std::fs::read_to_string(out.join("leak.rc")).unwrap();
    // 1: the leak is an error finding.
    assert_eq!(rc.trim(), "1", "{err}");
    let first = err.lines().next().unwrap_or_default();
    assert!(first.contains("listening on eth0") && first.contains("filter: tcp or icmp or icmp6"), "{err}");
    assert!(err.contains("ended: --duration 8 s reached"), "{err}");

    let events = ndjson(&out.join("leak.out"));
    let named = |name: &'static str| events.iter().filter(move |e| e["event"] == name);
    assert!(
        named("finding").any(|e| e["finding"]["kind"] == "private_address_leak" && e["finding"]["severity"] == "error"),
        "no private_address_leak finding in the events"
    );
    assert!(
        named("data_outcome").any(|e| e["outcome"] == "unreachable" || e["outcome"] == "unanswered"),
        "no failed data outcome in the events"
    );
    let summary = named("summary").next_back().expect("a summary line");
    let live = &summary["capture"]["inputs"][0]["live"];
    assert_eq!(live["ended"], "duration");
    assert_eq!(live["interface"], "eth0");
    assert_eq!(live["dropped"], 0);
    assert!(live["received"].as_u64().unwrap() >= summary["capture"]["frames"].as_u64().unwrap());

    // The written file, analysed later, tells the same story.
    // NDJSON's session_end record leaves out the findings: the finding events just before it
    // carry them.
    let live_sessions: Vec<Value> = named("session_end")
        .map(|e| {
            let mut record = e["record"].clone();
            let own: Vec<Value> = named("finding")
                .filter(|f| f["session"] == e["session"] && f["cross_session"] == false)
                .map(|f| f["finding"].clone())
                .collect();
            record["findings"] = Value::Array(own);
            record
        })
        .collect();
    assert_eq!(live_sessions.len(), 1);
    let file = analyze_json(&out.join("leak.pcap"));
    let file_sessions = file["sessions"].as_array().unwrap();
    assert_eq!(essentials(&live_sessions), essentials(file_sessions));
    assert_eq!(file["capture"]["frames"], summary["capture"]["frames"], "every packet captured was written");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn live_ends_cleanly_when_the_interface_is_deleted() {
    let Some(bin) = live_binary(&[]) else { return };
    let out = scratch("gone");
    let lab = common::root().join("fixtures/lab/live.sh");
    let status = Command::new("timeout").arg("180").arg("bash").arg(&lab).arg("gone").arg(&bin).arg(&out).status().unwrap();
    assert!(status.success(), "fixtures/lab/live.sh gone failed");
    let err = std::fs::read_to_string(out.join("gone.err")).unwrap();
    let rc = std::fs::read_to_string(out.join("gone.rc")).unwrap();
    assert_eq!(rc.trim(), "1", "the report so far, with its error finding: {err}");
    let why: Vec<&str> = err.lines().filter(|l| l.contains("ended:")).collect();
    assert_eq!(why.len(), 1, "{err}");
    assert!(why[0].contains("interface"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(out.join("gone.out")).unwrap()).unwrap();
    assert_eq!(report["sessions"].as_array().unwrap().len(), 1, "the session captured before the interface went");
    assert_eq!(report["capture"]["inputs"][0]["live"]["ended"], "interface_gone");
    let _ = std::fs::remove_dir_all(&out);
}

/// A network namespace of the test's own, removed when dropped.
struct Namespace(String);

impl Namespace {
    fn new(tag: &str) -> Namespace {
        let name = format!("fslive{}{tag}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).stderr(Stdio::null()).status();
        assert!(Command::new("ip").args(["netns", "add", &name]).status().unwrap().success());
        assert!(Command::new("ip").args(["-n", &name, "link", "set", "dev", "lo", "up"]).status().unwrap().success());
        Namespace(name)
    }

    fn exec(&self, program: &Path) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.args(["-s", "KILL", "60", "ip", "netns", "exec", &self.0]).arg(program);
        cmd
    }
}

impl Namespace {
    /// Three connections refused on the namespace's loopback: a SYN and a RST each.
    fn refused_connections(&self) {
        let script = "for p in 9 13 17; do (echo > /dev/tcp/127.0.0.1/$p) 2>/dev/null; done; true";
        let status = Command::new("timeout").args(["10", "ip", "netns", "exec", &self.0, "bash", "-c", script]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Waits (bounded) for `path` to contain `needle`.
fn wait_for(path: &Path, needle: &str, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::fs::read_to_string(path).is_ok_and(|s| s.contains(needle)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn ctrl_c_stops_with_the_report_and_a_valid_file() {
    let Some(bin) = live_binary(&[]) else { return };
    let dir = scratch("sigint");
    let ns = Namespace::new("i");
    let file = dir.join("cap.pcap");
    let err_path = dir.join("err");
    let child = ns
        .exec(&bin)
        .args(["live", "-i", "lo", "--json", "--write"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    assert!(wait_for(&err_path, "listening on lo", Duration::from_secs(10)), "{}", std::fs::read_to_string(&err_path).unwrap());
    ns.refused_connections();
    std::thread::sleep(Duration::from_millis(300));
    // The capture runs under `timeout` inside `ip netns exec`: signal ftpscope itself.
    let pids = Command::new("ip").args(["netns", "pids", &ns.0]).output().unwrap();
    for pid in text(&pids.stdout).split_whitespace() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "ftpscope" {
            assert!(Command::new("kill").args(["-INT", pid]).status().unwrap().success());
        }
    }
    let out: Output = child.wait_with_output().unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("ended: stopped by a signal"), "{err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    let frames = report["capture"]["frames"].as_u64().unwrap();
    assert!(frames >= 6, "three SYNs and three RSTs at least: {frames}");
    assert_eq!(report["capture"]["inputs"][0]["live"]["ended"], "signal");
    let again = analyze_json(&file);
    assert_eq!(again["capture"]["frames"], frames, "the written file holds every packet");
    assert_eq!(again["capture"]["truncated"], false);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refusals_are_one_line_and_exit_2() {
    let Some(bin) = live_binary(&[]) else { return };
    let dir = scratch("refusals");
    let ns = Namespace::new("r");
    let one_line_exit_2 = |out: &Output, what: &str, needle: &str| {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(err.contains(needle), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    };

    let out = ns.exec(&bin).args(["live", "-i", "lo", "--filter", "tcp and and", "--duration", "1"]).output().unwrap();
    one_line_exit_2(&out, "bad filter", "bad capture filter");

    let out = ns.exec(&bin).args(["live", "-i", "nosuch0", "--duration", "1"]).output().unwrap();
    one_line_exit_2(&out, "no such interface", "no interface nosuch0");

    let existing = dir.join("existing.pcap");
    std::fs::write(&existing, b"keep me").unwrap();
    let out = ns.exec(&bin).args(["live", "-i", "lo", "--duration", "1", "--write"]).arg(&existing).output().unwrap();
    one_line_exit_2(&out, "existing file", "--force");
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep me");

    // Without privileges: a copy of the binary that `nobody` may run (the build directory may
    // not be readable to it).
    let copy = dir.join("ftpscope");
    std::fs::copy(&bin, &copy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    // No capture helper either (an installed package's is not looked for: the variable names
    // one that is not there).
    let out = Command::new("timeout")
        .args(["30", "ip", "netns", "exec", &ns.0, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        .arg(&copy)
        .args(["live", "-i", "lo", "--duration", "1"])
        .env("FTPSCOPE_CAPTURE_HELPER", dir.join("no-helper"))
        .output()
        .unwrap();
    one_line_exit_2(&out, "unprivileged", "no capture helper (ftpscope-capture) is installed");
    assert!(text(&out.stderr).contains("run as root"));

    let out = ns.exec(&bin).args(["live", "--list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).lines().any(|l| l.contains(".lo ") && l.contains("127.0.0.1/8")), "{}", text(&out.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The capture helper, as the Debian package installs it (tests/package.sh installs the package
/// itself): beside ftpscope, mode 0750, its group's members only, with the capture capabilities.
/// Here its group is root's (gid 0), and `nobody` is given that group or not. A member captures
/// without privileges of its own, through the helper: the report counts the packets, and the
/// helper's and ftpscope's capabilities are gone while they run. Anyone else gets one line
/// telling them to join the group, and exit status 2.
#[test]
fn the_capture_helper_captures_for_its_group_and_refuses_others() {
    let Some(bin) = live_binary(&[]) else { return };
    let dir = scratch("helper");
    let ns = Namespace::new("h");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (copy, helper) = (dir.join("ftpscope"), dir.join("ftpscope-capture"));
    std::fs::copy(&bin, &copy).unwrap();
    std::fs::copy(bin.with_file_name("ftpscope-capture"), &helper).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o750)).unwrap();
    let setcap = Command::new("setcap").args(["cap_net_raw,cap_net_admin=eip"]).arg(&helper).status().unwrap();
    assert!(setcap.success(), "setcap on the helper");
    let as_nobody = |groups: &str| {
        let mut cmd = Command::new("timeout");
        cmd.args(["-s", "KILL", "30", "ip", "netns", "exec", &ns.0, "setpriv", "--reuid=nobody", "--regid=nogroup", groups]);
        cmd.arg(&copy).env_remove("FTPSCOPE_CAPTURE_HELPER");
        cmd
    };

    let written = dir.join("member.pcap");
    let report = dir.join("member.json");
    let member = as_nobody("--groups=0")
        .args(["live", "-i", "lo", "--duration", "3", "--json", "--write"])
        .arg(&written)
        .stdout(std::fs::File::create(&report).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    ns.refused_connections();
    let capabilities = |name: &str| {
        let out = Command::new("pgrep").args(["-x", name]).output().unwrap();
        let status: Vec<String> = text(&out.stdout)
            .lines()
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
            .filter(|s| s.lines().any(|l| l.starts_with("Uid:") && l.contains("65534")))
            .collect();
        assert!(!status.is_empty(), "no {name} running as nobody");
        status
            .iter()
            .flat_map(|s| s.lines().filter(|l| l.starts_with("CapEff:") || l.starts_with("CapPrm:")))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    for name in ["ftpscope", "ftpscope-captur"] {
        for line in capabilities(name) {
            assert!(line.ends_with("0000000000000000"), "{name} still holds capabilities: {line}");
        }
    }
    let out = member.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("captured by {}", helper.display())), "{err}");
    let report: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let live = &report["capture"]["inputs"][0]["live"];
    let frames = report["capture"]["frames"].as_u64().unwrap();
    assert!(frames >= 6, "three SYNs and three RSTs at least: {frames}");
    assert!(live["received"].as_u64().unwrap() >= frames, "the helper's counters: {live}");
    assert_eq!(live["ended"], "duration");
    assert_eq!(analyze_json(&written)["capture"]["frames"], frames, "the written file holds every packet");

    let out = as_nobody("--clear-groups").args(["live", "-i", "lo", "--duration", "1"]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no permission to capture on lo: join the group ftpscope"), "{err}");
    assert!(err.contains("or run as root"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The helper's side of the pipe without libpcap: stand-in helpers (shell scripts named by
/// FTPSCOPE_CAPTURE_HELPER), run by `live` as `nobody`. One streams a lab capture and says
/// counters and an end as the helper does: the report has the capture's sessions as `analyze`
/// gives them, the helper's counters (its drops make the drop finding) and its end. One exits
/// 77 (no capabilities), one refuses in its words, one dies mid-stream: each is one line.
#[test]
fn live_reads_the_helpers_stream_and_says_its_refusals() {
    let Some(bin) = live_binary(&[]) else { return };
    let dir = scratch("stream");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let capture = dir.join("client.pcap");
    std::fs::copy(common::root().join("fixtures/pasv-private-leak-workaround/client.pcap"), &capture).unwrap();
    std::fs::set_permissions(&capture, std::fs::Permissions::from_mode(0o644)).unwrap();
    let live_through = |name: &str, script: &str| {
        let helper = dir.join(name);
        std::fs::write(&helper, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        Command::new("timeout")
            .args(["-s", "KILL", "30", "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&bin)
            .args(["live", "-i", "lo", "--json", "-q"])
            .env("FTPSCOPE_CAPTURE_HELPER", &helper)
            .output()
            .unwrap()
    };

    let streams = format!(
        "cat {}\necho 'counters received=90 dropped=2 interface_dropped=1' >&2\necho 'end input_end no more packets' >&2",
        capture.display()
    );
    let out = live_through("streams.sh", &streams);
    assert_eq!(out.status.code(), Some(0), "the leak worked around and the drops are warnings: {}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    let analyzed = analyze_json(&capture);
    assert_eq!(report["capture"]["frames"], analyzed["capture"]["frames"]);
    let sessions = |r: &Value| essentials(r["sessions"].as_array().unwrap());
    assert_eq!(sessions(&report), sessions(&analyzed));
    let live = &report["capture"]["inputs"][0]["live"];
    assert_eq!((&live["received"], &live["dropped"], &live["interface_dropped"]), (&90.into(), &2.into(), &1.into()), "{live}");
    assert_eq!((&live["ended"], &live["ended_detail"]), (&"input_end".into(), &"no more packets".into()), "{live}");
    assert!(report["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "capture_drops"), "{}", report["findings"]);

    let one_line = |out: &Output, what: &str, needle: &str| {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(err.contains(needle), "{what}: {err}");
    };
    let out = live_through("no-capabilities.sh", "echo 'ftpscope-capture: no permission to capture on lo' >&2; exit 77");
    one_line(&out, "no capabilities", "the capture helper");
    one_line(&out, "no capabilities", "has no capture capabilities");
    let out = live_through("refuses.sh", "echo 'ftpscope-capture: bad capture filter \"x\": syntax error' >&2; exit 2");
    one_line(&out, "refusal", "ftpscope: bad capture filter \"x\": syntax error");

    let dies = format!("head -c 3000 {}; exit 3", capture.display());
    let out = live_through("dies.sh", &dies);
    let err = text(&out.stderr);
    assert!(err.contains("the capture helper ended (exit status: 3)"), "said even with -q: {err}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(report["capture"]["inputs"][0]["live"]["ended"], "helper_end");
    let _ = std::fs::remove_dir_all(&dir);
}

/// On a terminal, `live` opens the terminal UI (issue: the UI by default for live): the status
/// bar names the interface and the filter, `q` quits, the capture stops, and `--report` prints
/// the text report after the UI, saying the UI was closed. Driven in a real tmux pane, capturing
/// on the loopback of a namespace the test creates.
#[test]
fn live_on_a_terminal_opens_the_ui_and_q_ends_the_capture() {
    let Some(bin) = live_binary(&[Need::Tmux]) else { return };
    let ns = Namespace::new("u");
    let socket = format!("ftpscope-live-ui-{}", std::process::id());
    let tmux = |args: &[&str]| Command::new("tmux").arg("-L").arg(&socket).args(args).output().unwrap();
    let screen = || text(&tmux(&["capture-pane", "-p", "-t", "ui"]).stdout);
    let wait_screen = |needle: &str| {
        let since = Instant::now();
        while since.elapsed() < Duration::from_secs(20) {
            if screen().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    // --foreground: the UI reads the terminal, which a background process group may not.
    let command =
        format!("timeout --foreground -s KILL 60 ip netns exec {} {} live -i lo --report; echo EXIT=$?; sleep 30", ns.0, bin.display());
    assert!(tmux(&["new-session", "-d", "-s", "ui", "-x", "120", "-y", "30", &command]).status.success());
    assert!(wait_screen("lo (default filter)"), "the status bar names the source and filter:\n{}", screen());
    assert!(screen().contains("running"), "{}", screen());
    // Packets counted live.
    ns.refused_connections();
    assert!(wait_screen("6 pkts"), "three SYNs and three RSTs, counted live:\n{}", screen());
    tmux(&["send-keys", "-t", "ui", "q"]);
    assert!(wait_screen("EXIT=0"), "q ends the capture and the command:\n{}", screen());
    let after = screen();
    assert!(after.contains("FTP session(s)"), "the text report follows the UI:\n{after}");
    assert!(after.contains("the terminal UI was closed"), "{after}");
    let _ = tmux(&["kill-server"]);
}
