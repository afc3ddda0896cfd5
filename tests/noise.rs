//! Noise control (issue 19, item 5) on real captures: clear-text logins are told once per
//! capture, never as a session's problem; sessions that are the same story are told once with
//! the others counted; a healthy capture reads healthy first, in `analyze` and in `explain`.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).env("NO_COLOR", "1").output().expect("ftpscope runs")
}

fn text(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn fixture(rel: &str) -> String {
    common::root().join("fixtures").join(rel).display().to_string()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&run(args).stdout).unwrap()
}

/// The capture-level clear-text note of an `analyze --json` document: the only finding of its
/// kind, in the top-level `findings`.
fn credentials(doc: &Value) -> &Value {
    let all = common::all_findings(doc);
    let notes: Vec<&&Value> = all.iter().filter(|f| f["kind"] == "cleartext_credentials").collect();
    // Every finding is counted: the sessions' own and the top-level ones.
    assert_eq!(notes.len(), 1, "told once: {notes:?}");
    assert_eq!(notes[0]["session"], u32::MAX, "about the capture, in no session");
    notes[0]
}

#[test]
fn twenty_healthy_sessions_with_named_logins_read_healthy_first() {
    let capture = fixture("many-sessions/client.pcapng");
    // analyze: the verdict first, the sessions as one story, the clear-text logins once.
    let out = run(&["analyze", "-q", &capture]);
    assert_eq!(out.status.code(), Some(0));
    let report = text(&out);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "20 FTP session(s), none with a problem: 40 transfer(s), all done.", "{report}");
    assert!(
        lines[1].starts_with(
            "  session 0  192.168.1.10:57412 -> 192.0.2.30:21  user alice  2 transfer(s) ok, 166 bytes; 19 more like it: session(s) 1-19"
        ),
        "{report}"
    );
    assert!(lines.len() < 20, "short: {} lines\n{report}", lines.len());
    // Explained once; the tally names it apart from the sessions' counts, which leave it out.
    assert_eq!(report.matches("cleartext_credentials").count(), 2, "{report}");
    assert!(report.contains("password of user 'alice' sent in clear text in 20 session(s)"), "{report}");
    assert!(report.contains("0 error(s), 0 warning(s), 0 info\n  WARN  cleartext_credentials      about the whole capture\n"), "{report}");
    // The server block speaks of its passive setup only: it does not say that nothing is to
    // change on the server while the note above tells it to require TLS.
    assert!(report.contains("fix: Require TLS on the server"), "{report}");
    assert!(report.contains("\n  its passive setup needs no change: the capture shows nothing to fix there\n"), "{report}");
    assert!(!report.contains("nothing to change on the server's side"), "{report}");

    // JSON: no session has a finding; the note names the user and counts the sessions.
    let doc = json(&["analyze", "--json", &capture]);
    assert!(doc["sessions"].as_array().unwrap().iter().all(|s| s["findings"].as_array().unwrap().is_empty()));
    let note = credentials(&doc);
    assert_eq!(
        (note["severity"].as_str(), &note["details"]["users"], &note["details"]["sessions"]),
        (Some("warning"), &serde_json::json!(["alice"]), &20.into())
    );
    assert_eq!(note["frames"].as_array().unwrap().len(), 12, "the first PASS frames");
    assert_eq!((&doc["capture"]["errors"], &doc["capture"]["warnings"]), (&0.into(), &0.into()));

    // NDJSON: the note comes at the end, after the sessions, before the servers and the summary.
    let out = run(&["analyze", "--ndjson", &capture]);
    let events: Vec<Value> = text(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let n = events.len();
    let kinds: Vec<&str> = events[n - 3..].iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["finding", "server", "summary"]);
    assert_eq!((&events[n - 3]["finding"]["kind"], &events[n - 3]["cross_session"]), (&"cleartext_credentials".into(), &true.into()));
    assert_eq!(events.iter().filter(|e| e["event"] == "finding").count(), 1);

    // explain: the verdict first, one line for the 20 sessions, no story, no diagram.
    let out = run(&["explain", "-q", &capture]);
    assert_eq!(out.status.code(), Some(0));
    let told = text(&out);
    assert_eq!(told.lines().nth(1), Some("20 FTP session(s), none with a problem: 40 transfer(s), all done."), "{told}");
    assert!(!told.contains("Diagram:") && !told.contains("What happened"), "{told}");
    assert!(told.lines().count() < 20, "{told}");
    assert!(told.contains("Also, for the whole capture: password of user 'alice' sent in clear text in 20"), "{told}");
    let doc = json(&["explain", "--json", &capture]);
    let c = &doc["captures"][0];
    assert_eq!(
        (&c["verdict"]["problem_sessions"], &c["verdict"]["transfers"]["total"], &c["verdict"]["transfers"]["ok"]),
        (&0.into(), &40.into(), &40.into())
    );
    let healthy = c["healthy"].as_array().unwrap();
    assert_eq!(healthy.len(), 1);
    assert_eq!(healthy[0]["like"], serde_json::json!({"sessions": 19, "ids": (1..=12).collect::<Vec<u32>>()}));

    // The page: one row, the note once in its own section.
    let page = common::scratch("noise-page").with_extension("html");
    assert_eq!(run(&["explain", "-q", "--html", page.to_str().unwrap(), &capture]).status.code(), Some(0));
    let html = std::fs::read_to_string(&page).unwrap();
    let _ = std::fs::remove_file(&page);
    assert_eq!(html.matches("<tr id=").count(), 1, "one healthy row");
    assert!(html.contains("<td>19: 1-19</td>"));
    assert_eq!(html.matches("<h3>For the whole capture</h3>").count(), 1);
    assert_eq!(html.matches("cleartext_credentials").count(), 1);
    assert!(!html.contains("<svg"), "no diagram for a healthy capture");
}

#[test]
fn sessions_of_one_story_get_one_telling_and_one_diagram() {
    // Two clients ignored the leaked address and worked around it: one story, told once.
    let capture = fixture("pasv-private-leak-workaround/client.pcap");
    let told = text(&run(&["explain", "-q", &capture]));
    assert!(told.starts_with("=== ") && told.lines().nth(1).unwrap().starts_with("2 FTP session(s), 2 with a problem"), "{told}");
    assert_eq!(told.matches("--- WARNING session").count(), 1, "{told}");
    assert_eq!(told.matches("Diagram:").count(), 1, "{told}");
    assert!(
        told.contains("--- WARNING session 0: 192.168.1.10:39948 -> 198.51.100.2:21\nThe same story in 1 more session(s): 1.\n"),
        "{told}"
    );
    let doc = json(&["explain", "--json", &capture]);
    let problems = doc["captures"][0]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["like"], serde_json::json!({"sessions": 1, "ids": [1]}));
    assert_eq!(doc["captures"][0]["verdict"]["problem_sessions"], 2, "the verdict still counts every session");
    // The page: one section, one diagram, the finding counted in both sessions.
    let page = common::scratch("noise-story").with_extension("html");
    run(&["explain", "-q", "--html", page.to_str().unwrap(), &capture]);
    let html = std::fs::read_to_string(&page).unwrap();
    let _ = std::fs::remove_file(&page);
    assert_eq!(html.matches("<section class=\"session\"").count(), 1);
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(html.contains("<p class=\"like\">The same story in 1 more session(s): 1.</p>"));
    assert!(html.contains("<code>private_address_leak</code></td><td>2</td>"), "both sessions in the tally");
}

#[test]
fn mixed_stories_are_told_apart_and_the_logins_once() {
    // One session's leak failed (its PASS before USER refused, then its login: a warning);
    // carol's login was refused; four others logged in and left: a story each (other users),
    // none with a problem for its clear-text password.
    let capture = fixture("crafted/passwords.pcap");
    let out = run(&["analyze", "-q", &capture]);
    assert_eq!(out.status.code(), Some(1), "the failed leak is an error");
    let report = text(&out);
    // In full: the session with findings, and those whose control channel lost or cut
    // something (a gap, an overlong line); the others one line each, under the verdict.
    let blocks: Vec<&str> = report.lines().filter(|l| l.starts_with("session ")).map(|l| l.split("  ").next().unwrap()).collect();
    assert_eq!(blocks, ["session 2", "session 3", "session 0", "session 5"], "{report}");
    let verdict = report.lines().position(|l| l.starts_with("6 FTP session(s), 2 with a problem (2 error(s), 1 warning(s))"));
    // Under the verdict (its lines wrapped), the quiet sessions.
    let quiet: Vec<&str> = report
        .lines()
        .skip(verdict.expect(&report))
        .skip_while(|l| !l.starts_with("  session "))
        .take_while(|l| l.starts_with("  session "))
        .collect();
    assert_eq!(quiet.len(), 2, "{report}");
    assert!(quiet[0].starts_with("  session 1 ") && quiet[0].ends_with("user bob  no transfer"), "{report}");
    let doc = json(&["analyze", "--json", &capture]);
    let note = credentials(&doc);
    assert_eq!(note["details"]["users"], serde_json::json!(["alice", "bob", "carol"]), "in the order of their logins");
    assert_eq!(
        (&note["details"]["sessions"], &note["details"]["unnamed_sessions"], &note["details"]["anonymous_sessions"]),
        (&4.into(), &1.into(), &0.into())
    );
    let explained = json(&["explain", "--json", &capture]);
    let c = &explained["captures"][0];
    assert_eq!((c["problems"].as_array().unwrap().len(), c["healthy"].as_array().unwrap().len()), (2, 4));
    assert_eq!(c["verdict"]["problem_sessions"], 2);
}

/// Zeek's corpus: 30 refused logins of one user (a password guesser), no transfer.
fn corpus_trace(name: &str) -> Option<PathBuf> {
    common::needs::corpus().map(|c| c.join("zeek/Traces/ftp").join(name))
}

#[test]
fn thirty_refused_logins_of_the_corpus_are_one_story_one_note_and_one_guesser() {
    let Some(trace) = corpus_trace("bruteforce.pcap") else { return };
    let trace = trace.display().to_string();
    let out = run(&["analyze", "-q", &trace]);
    assert_eq!(out.status.code(), Some(1), "no session got in");
    let report = text(&out);
    assert!(
        report.contains("30 FTP session(s), 30 with a problem (30 error(s), 0 warning(s)). By cause: login refused in\n30 session(s)."),
        "{report}"
    );
    assert!(report.contains("30 session(s). Password guessing from 1 client address(es) (told at the end).\n"), "{report}");
    // The tally counts the sessions' findings and names the whole capture's apart.
    assert!(
        report.contains(
            "30 error(s), 0 warning(s), 0 info\n  ERROR login_failed               in 30 session(s)\n  \
             WARN  cleartext_credentials      about the whole capture\n  WARN  password_guessing          about the whole capture\n"
        ),
        "{report}"
    );
    let doc = json(&["analyze", "--json", &trace]);
    let note = credentials(&doc);
    assert_eq!((&note["details"]["users"], &note["details"]["sessions"]), (&serde_json::json!(["bro"]), &30.into()));
    // Zeek's FTP::Bruteforcing fires on the same trace ("192.168.56.1 had 20 failed logins on 1
    // FTP server in 0m37s"): one finding for the address, with every failure counted.
    let guessing: Vec<&serde_json::Value> =
        doc["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "password_guessing").collect();
    assert_eq!(guessing.len(), 1);
    let d = &guessing[0]["details"];
    assert_eq!(
        (&d["client"], &d["failed_logins"], &d["sessions"], &d["users"]),
        (&"192.168.56.1".into(), &30.into(), &30.into(), &serde_json::json!(["bro"]))
    );
    // explain: one story, told once for the 30 sessions.
    let explained = json(&["explain", "--json", &trace]);
    let c = &explained["captures"][0];
    assert_eq!(c["problems"].as_array().unwrap().len(), 1);
    assert_eq!(c["problems"][0]["like"]["sessions"], 29);
    assert_eq!(c["verdict"]["causes"], serde_json::json!([{"cause": "login_refused", "sessions": 30}]));
}
