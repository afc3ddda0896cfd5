//! The control channel as a log (issue 22, item 5): `--ndjson --commands` adds a `command` event
//! per command with its reply, `-v` the same log to the text report, and without them every
//! output is what it was. The commands and reply codes of the lab's capture are those tshark's
//! FTP dissector shows (`tshark -r F -Y ftp -T fields -e frame.number -e ftp.request.command -e
//! ftp.response.code`); passwords are masked; TLS and one-direction captures log what they can.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// ftpscope's standard output, the exit status checked (0, or 1 for an error finding).
fn run(args: &[&str], capture: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).arg(fixture(capture)).env("NO_COLOR", "1").output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?} {capture}: {:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn events(ndjson: &str) -> Vec<Value> {
    ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A `command` event as (session, command frame, command, final reply's code and frame).
type Logged = (u64, u64, String, Option<(u64, u64)>);

fn commands(capture: &str) -> Vec<Logged> {
    events(&run(&["analyze", "-q", "--ndjson", "--commands"], capture))
        .into_iter()
        .filter(|e| e["event"] == "command")
        .map(|e| {
            let reply = e["reply"].as_object().map(|r| (r["code"].as_u64().unwrap(), r["frame"].as_u64().unwrap()));
            (e["session"].as_u64().unwrap(), e["command_frame"].as_u64().unwrap(), e["command"].as_str().unwrap().to_string(), reply)
        })
        .collect()
}

#[test]
fn the_lab_s_commands_come_in_wire_order_with_the_reply_codes_tshark_shows() {
    let got = commands("pasv-ok-forwarded/client.pcap");
    // tshark: each request's frame and command, then the frame of the response that ends it
    // (a multi-line 211 FEAT reply: its last line, frame 55).
    #[rustfmt::skip]
    let want: &[(u64, u64, &str, u64, u64)] = &[
        (0, 9, "USER anonymous", 230, 11), (0, 12, "PWD", 257, 13), (0, 14, "PASV", 227, 15),
        (0, 19, "TYPE A", 200, 20), (0, 21, "LIST", 226, 28), (0, 30, "QUIT", 221, 31),
        (1, 41, "FEAT", 211, 55), (1, 56, "USER anonymous", 230, 57), (1, 58, "PWD", 257, 59),
        (1, 60, "PASV", 227, 61), (1, 65, "LIST", 226, 72), (1, 74, "TYPE I", 200, 75),
        (1, 76, "SIZE readme.txt", 213, 77), (1, 78, "PASV", 227, 79), (1, 83, "RETR readme.txt", 226, 90),
        (1, 92, "QUIT", 221, 93),
        (2, 102, "USER anonymous", 230, 104), (2, 105, "TYPE A", 200, 106), (2, 107, "PASV", 227, 108),
        (2, 112, "LIST", 226, 119), (2, 121, "TYPE I", 200, 122), (2, 123, "PASV", 227, 124),
        (2, 128, "RETR readme.txt", 226, 135), (2, 137, "QUIT", 221, 138),
    ];
    let want: Vec<_> = want.iter().map(|&(s, f, c, code, rf)| (s, f, c.to_string(), Some((code, rf)))).collect();
    assert_eq!(got, want);
    // The transfers' 150 is kept as their preliminary reply.
    let ndjson = run(&["analyze", "-q", "--ndjson", "--commands"], "pasv-ok-forwarded/client.pcap");
    let retr = events(&ndjson).into_iter().find(|e| e["event"] == "command" && e["command_frame"] == 83).unwrap();
    assert_eq!((retr["preliminary"]["code"].as_u64(), retr["preliminary"]["frame"].as_u64()), (Some(150), Some(84)));
    assert_eq!((retr["frame"].as_u64(), retr["reply"]["text"].as_str()), (Some(90), Some("Transfer complete.")));
}

#[test]
fn every_password_is_masked_in_both_views() {
    let secret = ["Tr0ub4dor", "horse-staple", "staple-7731"];
    let got = commands("crafted/passwords.pcap");
    let passwords: Vec<&str> = got.iter().map(|c| c.2.as_str()).filter(|c| c.eq_ignore_ascii_case("pass ••••")).collect();
    assert!(passwords.len() >= 4, "every PASS read is logged, masked: {got:?}");
    let ndjson = run(&["analyze", "-q", "--ndjson", "--commands"], "crafted/passwords.pcap");
    let text = run(&["analyze", "-q", "-v"], "crafted/passwords.pcap");
    assert!(text.contains("session 0  #9 pass ••••  -> 230 Login successful. #10"), "{text}");
    for piece in secret {
        assert!(!ndjson.contains(piece) && !text.contains(piece), "{piece} shown");
    }
}

#[test]
fn under_tls_nothing_is_logged_and_one_direction_logs_what_it_holds() {
    // Each session's log ends with the AUTH its 234 answered: the rest is encrypted.
    let tls = commands("ftps-ok/client.pcap");
    assert_eq!(tls.last().map(|c| (c.2.as_str(), c.3)), Some(("AUTH TLS", Some((234, 92)))));
    assert!(tls.iter().all(|c| c.1 <= 91), "nothing after TLS: {tls:?}");
    // The client's side only: every command, none answered (tshark's USER PASS PASV LIST QUIT).
    let client_only = commands("crafted/one-way-client-passive.pcap");
    let verbs: Vec<(u64, &str)> = client_only.iter().map(|c| (c.1, c.2.split(' ').next().unwrap())).collect();
    assert_eq!(&verbs[..5], [(3, "USER"), (4, "PASS"), (5, "PASV"), (6, "LIST"), (10, "QUIT")]);
    assert_eq!(client_only.len(), 15);
    assert!(client_only.iter().all(|c| c.3.is_none()));
    // The server's side only: replies without their commands log nothing.
    assert!(commands("crafted/one-way-server-passive.pcap").is_empty());
}

#[test]
fn without_the_log_the_outputs_are_as_before() {
    for capture in ["pasv-ok-forwarded/client.pcap", "crafted/passwords.pcap", "ftps-ok/client.pcap"] {
        // NDJSON: the same lines, the `command` events aside.
        let plain = run(&["analyze", "-q", "--ndjson"], capture);
        let logged = run(&["analyze", "-q", "--ndjson", "--commands"], capture);
        let without: Vec<&str> = logged.lines().filter(|l| !l.contains(r#""event":"command""#)).collect();
        assert!(!plain.contains(r#""event":"command""#), "{capture}");
        assert!(without.len() < logged.lines().count(), "{capture}: some commands logged");
        assert_eq!(plain.lines().collect::<Vec<_>>(), without, "{capture}");
        // Text: the same report, the log's lines aside.
        let plain = run(&["analyze", "-q"], capture);
        let verbose = run(&["analyze", "-q", "-v"], capture);
        let without: Vec<&str> = verbose.lines().filter(|l| !(l.starts_with("session ") && l.contains("  -> "))).collect();
        assert!(without.len() < verbose.lines().count(), "{capture}: some commands logged");
        assert_eq!(plain.lines().collect::<Vec<_>>(), without, "{capture}");
    }
}

#[test]
fn the_log_is_asked_for_with_its_output() {
    // --commands is NDJSON's, -v the text report's.
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope"))
        .args(["analyze", "--commands"])
        .arg(fixture("crafted/passwords.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope"))
        .args(["analyze", "-v", "--json"])
        .arg(fixture("crafted/passwords.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
