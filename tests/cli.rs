//! End-to-end tests of the `ftpscope` binary: input errors, exit status, output formats, and
//! captures damaged on purpose (cut at every kind of place).
//!
//! Several read Zeek's FTP traces (`../shared/corpus`, beside the repository): without the
//! corpus each of them says so in one line and is skipped; in CI (CI=true) that is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ftpscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).env("NO_COLOR", "1").output().expect("ftpscope runs")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Zeek's FTP traces, or None after the skip line (a failure in CI).
fn zeek_traces() -> Option<PathBuf> {
    common::needs::corpus().map(|c| c.join("zeek/Traces/ftp"))
}

fn zeek(traces: &Path, name: &str) -> String {
    traces.join(name).display().to_string()
}

fn fixture(rel: &str) -> String {
    root().join("fixtures").join(rel).display().to_string()
}

/// A scratch file unique to this test process and name, in the build's own directory for tests'
/// files (target/tmp), not the machine's /tmp.
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn unreadable_inputs_are_one_clear_line_and_exit_2() {
    let garbage = scratch("garbage.pcap", b"<html>not a capture</html>");
    let empty = scratch("empty.pcap", b"");
    let cut_header = scratch("cut-header.pcap", &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    let dir = std::env::temp_dir();
    let cases: Vec<(String, &str)> = vec![
        (garbage.display().to_string(), "not a pcap or pcapng file"),
        (empty.display().to_string(), "empty"),
        (cut_header.display().to_string(), "header"),
        (dir.display().to_string(), "is a directory"),
        ("/nonexistent/capture.pcap".to_string(), "No such file"),
    ];
    for (path, reason) in cases {
        let out = ftpscope(&["analyze", &path]);
        assert_eq!(out.status.code(), Some(2), "{path}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "one line for {path}: {err}");
        assert!(err.contains(&path) && err.contains(reason), "{path}: expected '{reason}' in: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(ftpscope(&["analyze"]).status.code(), Some(2));
    assert_eq!(ftpscope(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn capture_cut_in_the_middle_is_analysed_up_to_the_break() {
    let Some(traces) = zeek_traces() else { return };
    let full = std::fs::read(zeek(&traces, "ipv4.pcap")).unwrap();
    // Cut inside a record roughly two thirds in: the first two data channels are before it.
    let cut = scratch("ipv4-cut.pcap", &full[..full.len() * 2 / 3 + 7]);
    let out = ftpscope(&["analyze", "--json", &cut.display().to_string()]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let r = json(&out);
    assert_eq!(r["capture"]["truncated"], true);
    let why = r["capture"]["inputs"][0]["truncated"].as_str().unwrap();
    assert!(why.contains("ends inside"), "{why}");
    let negs = r["sessions"][0]["negotiations"].as_array().unwrap();
    assert!(negs.len() >= 2, "negotiations before the break are kept");
    assert_eq!(negs[0]["data"]["outcome"], "established");
    // And the text report says so too.
    let text = String::from_utf8(ftpscope(&["analyze", &cut.display().to_string()]).stdout).unwrap();
    assert!(text.contains("capture ends early"), "{text}");
}

#[test]
fn every_prefix_of_a_capture_is_handled_without_crash() {
    let Some(traces) = zeek_traces() else { return };
    let full = std::fs::read(zeek(&traces, "ftp-auth-tls.pcap")).unwrap();
    for len in (0..full.len()).step_by(97) {
        let p = scratch("prefix.pcap", &full[..len]);
        let out = ftpscope(&["analyze", "--json", &p.display().to_string()]);
        let code = out.status.code();
        assert!(matches!(code, Some(0..=2)), "prefix {len}: {code:?} {}", stderr(&out));
        if code != Some(2) {
            json(&out);
        }
    }
}

#[test]
fn several_files_number_frames_across_inputs() {
    let Some(traces) = zeek_traces() else { return };
    let a = zeek(&traces, "ipv4.pcap");
    let b = zeek(&traces, "ipv6.pcap");
    let r = json(&ftpscope(&["analyze", "--json", &a, &b]));
    let inputs = r["capture"]["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert_eq!(inputs[0]["first_frame"], 1);
    let first_b = inputs[0]["frames"].as_u64().unwrap() + 1;
    assert_eq!(inputs[1]["first_frame"], first_b);
    let sessions = r["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions[1]["first_frame"].as_u64().unwrap() >= first_b);
}

#[test]
fn standard_input_is_read_with_dash() {
    let Some(traces) = zeek_traces() else { return };
    use std::io::Write;
    let bytes = std::fs::read(zeek(&traces, "ipv4.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ftpscope"))
        .args(["analyze", "--json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    let r = json(&out);
    assert_eq!(r["capture"]["inputs"][0]["path"], "-");
    assert_eq!(r["sessions"][0]["negotiations"].as_array().unwrap().len(), 4);
}

#[test]
fn json_has_the_documented_fields() {
    let Some(traces) = zeek_traces() else { return };
    let r = json(&ftpscope(&["analyze", "--json", &zeek(&traces, "ipv4.pcap")]));
    assert_eq!(r["schema"], "ftpscope/3");
    let s = &r["sessions"][0];
    assert_eq!(s["client"], "141.142.220.235:50003");
    assert_eq!(s["server"], "199.233.217.249:21");
    assert_eq!(s["control_port"], 21);
    assert_eq!(s["user"], "anonymous");
    assert_eq!(s["tls"], false);
    let n = &s["negotiations"][2];
    assert_eq!(n["command"], "PORT");
    assert_eq!(n["mode"], "active");
    assert_eq!(n["reply_code"], 200);
    assert_eq!(n["advertised"], "141.142.220.235:33582");
    assert_eq!(n["data"]["outcome"], "established");
    assert_eq!(n["data"]["connection"]["client"], "199.233.217.249:61920");
    assert_eq!(n["data"]["connection"]["server"], "141.142.220.235:33582");
    assert_eq!(n["data"]["connection"]["syn_frame"], 60);
    assert_eq!(n["data"]["bytes"], 342);
    assert_eq!(n["data"]["command"], "LIST");
    let f = common::all_findings(&r)[0];
    for key in ["kind", "severity", "session", "frames", "summary", "explanation", "fix", "details"] {
        assert!(!f[key].is_null(), "finding lacks {key}: {f}");
    }
    // IPv6 endpoints in brackets, EPSV filled in with the control address.
    let r6 = json(&ftpscope(&["analyze", "--json", &zeek(&traces, "ipv6.pcap")]));
    let n6 = &r6["sessions"][0]["negotiations"][0];
    assert_eq!(n6["command"], "EPSV");
    assert_eq!(n6["advertised"], "[2001:470:4867:99::21]:57086");
    assert_eq!(n6["address_implied"], true);
}

#[test]
fn passwords_never_appear_in_any_output() {
    let Some(traces) = zeek_traces() else { return };
    // The PASS arguments in these traces, read with tshark.
    for (trace, password) in
        [("ipv4.pcap", "test"), ("ftp-password-pass-command.pcap", "qwerty"), ("fake-long-commands.pcap", "anonymous@zeek.org")]
    {
        for args in [vec!["analyze", "--json"], vec!["analyze", "--ndjson"], vec!["analyze"]] {
            let mut a = args.clone();
            let p = zeek(&traces, trace);
            a.push(&p);
            let out = ftpscope(&a);
            // The input's path is in the report, and may hold the password's letters ("test" in
            // a checkout under .../tests/): only the rest of the output counts.
            let text = String::from_utf8_lossy(&out.stdout).replace(&p, "<input>");
            assert!(!text.contains(password), "{trace}: output shows '{password}'");
            assert!(text.contains("clear text") || text.contains("cleartext"), "{trace}: credentials finding expected");
        }
    }
}

#[test]
fn exit_status_is_1_when_a_finding_is_an_error() {
    // The lab capture where the client trusts a private 227 address and fails: an error.
    let failing = fixture("pasv-private-leak-fail/client.pcap");
    assert!(Path::new(&failing).exists(), "{failing}");
    assert_eq!(ftpscope(&["analyze", &failing]).status.code(), Some(1));
    // A lab capture where every data connection is established: no error.
    assert_eq!(ftpscope(&["analyze", &fixture("pasv-ok-forwarded/client.pcap")]).status.code(), Some(0));
}

/// NDJSON: every line an event with schema, event, time and frame; a summary last; and the
/// same sessions and findings as the JSON document, in the same order.
#[test]
fn ndjson_events_agree_with_the_json_document() {
    let mut captures = vec![fixture("alg-passive/router-srv-any.pcap"), fixture("pasv-private-leak-fail/client.pcap")];
    // A long session of a peer's suite (688 PASV), where the corpus is.
    if let Some(corpus) = common::needs::corpus_part("cwd-navigation.pcap") {
        captures.push(zeek(&corpus.join("zeek/Traces/ftp"), "cwd-navigation.pcap"));
    }
    for capture in captures {
        let doc = json(&ftpscope(&["analyze", "--json", &capture]));
        let out = ftpscope(&["analyze", "--ndjson", &capture]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        let events: Vec<serde_json::Value> =
            String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
        for e in &events {
            assert_eq!(e["schema"], "ftpscope/3");
            for key in ["event", "time", "frame"] {
                assert!(!e[key].is_null(), "{key} missing: {e}");
            }
            if !["summary", "stats", "server"].contains(&e["event"].as_str().unwrap()) {
                assert!(e["session"].is_u64(), "{e}");
            }
        }
        let last = events.last().unwrap();
        assert_eq!(last["event"], "summary");
        assert_eq!(last["capture"], doc["capture"], "{capture}");
        // The servers, just before the summary, as the document's servers[].
        let servers: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "server").map(|e| &e["server"]).collect();
        assert_eq!(servers, doc["servers"].as_array().unwrap().iter().collect::<Vec<_>>(), "{capture}");
        // A session_end's record is the document's session without its findings, which are the
        // finding events just before it.
        let ended: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "session_end").map(|e| &e["record"]).collect();
        let sessions: Vec<&serde_json::Value> = doc["sessions"].as_array().unwrap().iter().collect();
        let without_findings: Vec<serde_json::Value> = sessions
            .iter()
            .map(|s| {
                let mut s = (*s).clone();
                s.as_object_mut().unwrap().remove("findings");
                s
            })
            .collect();
        assert_eq!(ended, without_findings.iter().collect::<Vec<_>>(), "{capture}");
        for (i, e) in events.iter().enumerate().filter(|(_, e)| e["event"] == "session_end") {
            let id = &e["session"];
            let own = sessions.iter().find(|s| &s["id"] == id).unwrap()["findings"].as_array().unwrap();
            let before: Vec<&serde_json::Value> = events[i - own.len()..i].iter().map(|f| &f["finding"]).collect();
            assert_eq!(before, own.iter().collect::<Vec<_>>(), "{capture}: the findings of session {id} just before its end");
        }
        let findings = |cross: bool| -> Vec<&serde_json::Value> {
            events.iter().filter(|e| e["event"] == "finding" && e["cross_session"] == cross).map(|e| &e["finding"]).collect()
        };
        let own: Vec<&serde_json::Value> = sessions.iter().flat_map(|s| s["findings"].as_array().unwrap()).collect();
        assert_eq!(findings(false), own, "{capture}");
        assert_eq!(findings(true), doc["findings"].as_array().unwrap().iter().collect::<Vec<_>>(), "{capture}");
        // Every session started before it ended, and each negotiation was announced.
        for s in &sessions {
            let id = &s["id"];
            let start = events.iter().position(|e| e["event"] == "session_start" && &e["session"] == id).expect("session_start");
            let end = events.iter().position(|e| e["event"] == "session_end" && &e["session"] == id).unwrap();
            assert!(start < end);
            let count = |name: &str| events.iter().filter(|e| e["event"] == name && &e["session"] == id).count();
            let negotiations = s["negotiations"].as_array().unwrap().len();
            assert_eq!(count("negotiation"), negotiations, "one negotiation event per negotiation");
            assert_eq!(count("data_outcome"), negotiations, "one data_outcome per negotiation");
        }
    }
}

#[test]
fn a_merged_finding_says_each_distinct_address_once() {
    // Session 1 of the workaround capture: two PASV replies both name 10.0.0.20:40002.
    let out = ftpscope(&["analyze", &fixture("pasv-private-leak-workaround/client.pcap")]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().find(|l| l.contains("private_address_leak (x2)")).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line.matches("10.0.0.20:40002").count(), 1, "{line}");
    // Distinct subjects are all still named (the failing capture advertised two ports).
    let out = ftpscope(&["analyze", &fixture("pasv-private-leak-fail/client.pcap")]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("address 10.0.0.20:40005 (and 10.0.0.20:40004)"), "{text}");
}

/// The README's first command, run as written: with two binaries in the package (the capture
/// helper), `cargo run` must still know which one is meant.
#[test]
fn the_readmes_first_command_runs_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let first = readme.lines().map(str::trim).find(|l| l.starts_with("cargo run")).expect("the README's first command");
    let words: Vec<&str> = first.split_whitespace().collect();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new("timeout").arg("600").arg(cargo).args(&words[1..]).current_dir(root()).output().unwrap();
    assert!(out.status.success(), "{first}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("private_address_leak"), "{first}");
}
