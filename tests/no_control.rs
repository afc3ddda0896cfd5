//! Captures without an FTP control channel say what they show: a control connection that never
//! opened is an error (the server cannot be reached, exit 1); connections that look like FTP
//! data (from port 20, a listing in their first bytes) are told with their bytes and how they
//! ended, and any other TCP stream is not. Crafted captures (`fixtures/crafted/control-*.pcap`,
//! `active-port20-reset.pcap`, from examples/craft.rs) and lab captures filtered the way an
//! operator would (`fixtures/no-control/`, `tcpdump -r IN -w OUT 'not port 21'`).

mod common;

use serde_json::Value;
use std::process::Command;

/// Exit status and the report, as JSON or text.
fn run(args: &[&str], capture: &str) -> (i32, String) {
    let path = common::root().join("fixtures").join(capture);
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).arg(&path).output().expect("ftpscope runs");
    (out.status.code().expect("exit status"), String::from_utf8(out.stdout).expect("UTF-8"))
}

fn analyze(capture: &str) -> (i32, Value) {
    let (code, out) = run(&["analyze", "--json"], capture);
    (code, serde_json::from_str(&out).unwrap_or_else(|e| panic!("{capture}: {e}")))
}

/// The one finding outside any session of a report without sessions.
fn only_finding(r: &Value) -> &Value {
    assert_eq!(r["sessions"].as_array().unwrap().len(), 0);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    &findings[0]
}

#[test]
fn a_control_connection_never_answered_refused_or_unreachable_is_an_error_naming_the_server() {
    for (name, outcome, frames, how) in [
        ("unanswered", "unanswered", &[1][..], "got no answer: 3 SYN(s) from frame 1"),
        ("refused", "refused", &[1, 2][..], "was refused: the SYN was answered with RST (frame 2)"),
        ("unreachable", "unreachable", &[1, 2][..], "ICMP 3/1 host unreachable from 198.51.100.1"),
    ] {
        let (code, r) = analyze(&format!("crafted/control-{name}.pcap"));
        assert_eq!(code, 1, "{name}: an error finding, exit 1");
        let f = only_finding(&r);
        assert_eq!((f["kind"].as_str(), f["severity"].as_str()), (Some("control_connection_failed"), Some("error")), "{name}");
        assert_eq!(f["details"]["outcome"], outcome);
        assert_eq!(f["details"]["connection"]["client"], "192.0.2.10:40020");
        assert_eq!(f["details"]["connection"]["server"], "203.0.113.10:21");
        let want: Vec<Value> = frames.iter().map(|&n| Value::from(n)).collect();
        assert_eq!(f["frames"].as_array().unwrap(), &want, "{name}");
        assert!(f["explanation"].as_str().unwrap().contains(how), "{name}: {}", f["explanation"]);
        assert_eq!(f["fix"][0]["action"], "reach_control_port");
        assert!(f["fix"][0]["text"].as_str().unwrap().contains("listens on port 21"));
        assert_eq!(r["capture"]["control_connections_failed"], 1);
        assert_eq!(r["capture"]["errors"], 1);

        // The text report says what the capture shows, not that port 21 is missing from it.
        let (code, text) = run(&["analyze"], &format!("crafted/control-{name}.pcap"));
        assert_eq!(code, 1);
        assert!(text.contains("No FTP session: 1 connection(s) to the control port never opened"), "{text}");
        assert!(!text.contains("port 21` alone"), "{text}");
        // Tallied once, outside any session: it is not about the whole capture.
        assert!(text.contains("\n  ERROR control_connection_failed  1 time(s), outside any session\n"), "{text}");
        assert!(!text.contains("about the whole capture"), "{text}");
        let (code, explained) = run(&["explain"], &format!("crafted/control-{name}.pcap"));
        assert_eq!(code, 1);
        assert!(explained.contains("--- ERROR control_connection_failed") && explained.contains("What to change:"), "{explained}");
    }
}

#[test]
fn the_labs_two_unreachable_servers_are_two_errors() {
    // fixtures/control-unreachable/client.pcap (the NAT lab): curl to 192.0.2.30 (nothing listens
    // on 21: RST) and to 198.51.100.2 (no port forward: four SYNs dropped).
    let (code, r) = analyze("control-unreachable/client.pcap");
    assert_eq!(code, 1);
    let said: Vec<(&str, &str, &str, u64)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let d = &f["details"];
            (
                f["severity"].as_str().unwrap(),
                d["connection"]["server"].as_str().unwrap(),
                d["outcome"].as_str().unwrap(),
                d["syns"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(said, [("error", "192.0.2.30:21", "refused", 1), ("error", "198.51.100.2:21", "unanswered", 4)]);
    assert_eq!(r["capture"]["control_connections_failed"], 2);
}

#[test]
fn a_failed_try_before_a_session_to_the_same_server_is_a_warning() {
    let (code, r) = analyze("crafted/control-retried.pcap");
    assert_eq!(code, 0, "the server could be reached: no error");
    assert_eq!(r["sessions"].as_array().unwrap().len(), 1);
    let f = &r["findings"][0];
    assert_eq!((f["kind"].as_str(), f["severity"].as_str()), (Some("control_connection_failed"), Some("warning")));
    assert_eq!(f["details"]["connection"]["client"], "192.0.2.10:40021");
    assert!(f["summary"].as_str().unwrap().ends_with("(other connections to it opened)"), "{}", f["summary"]);
    assert_eq!(f["fix"].as_array().unwrap().len(), 0, "nothing to change on the server");
}

#[test]
fn a_port_20_data_connection_reset_after_1_38_mb_is_an_incomplete_transfer() {
    let (code, r) = analyze("crafted/active-port20-reset.pcap");
    assert_eq!(code, 1, "a transfer cut short failed");
    let f = only_finding(&r);
    assert_eq!((f["kind"].as_str(), f["severity"].as_str()), (Some("data_without_control"), Some("error")));
    let d = &f["details"];
    assert_eq!(d["evidence"], "source_port20");
    assert_eq!(d["bytes"], 1_380_000);
    assert_eq!(d["ended"], serde_json::json!({"how": "reset", "frame": 13, "by": "server"}));
    assert_eq!(d["connection"]["client"], "203.0.113.10:20", "the FTP server opened it");
    assert!(f["summary"].as_str().unwrap().ends_with("reset after 1380000 byte(s): an incomplete transfer"), "{}", f["summary"]);
    assert_eq!(
        f["fix"][0],
        serde_json::json!({
            "action": "capture_control_port",
            "server": "203.0.113.10",
            "text": f["fix"][0]["text"],
            "apply": []
        })
    );
    assert_eq!(r["capture"]["data_connections_without_control"], 1);
}

#[test]
fn active_transfers_captured_with_not_port_21_are_told_as_data_without_control() {
    // alg-active/client.pcap without port 21: three data connections from the server's port 20.
    let (code, r) = analyze("no-control/alg-active-client-not-port-21.pcap");
    assert_eq!(code, 0, "complete transfers: nothing failed");
    let f = only_finding(&r);
    assert_eq!(
        (f["kind"].as_str(), f["severity"].as_str(), f["occurrences"].as_u64()),
        (Some("data_without_control"), Some("info"), Some(3))
    );
    assert_eq!(f["details"]["evidence"], "source_port20");
    let also: Vec<&str> = f["also"].as_array().unwrap().iter().map(|a| a["client"].as_str().unwrap()).collect();
    assert_eq!(also, ["192.0.2.30:20", "192.0.2.30:20"]);
    assert_eq!(r["capture"]["data_connections_without_control"], 3);
    let (_, text) = run(&["analyze"], "no-control/alg-active-client-not-port-21.pcap");
    assert!(text.contains("but 3 of its 3 TCP connection(s) look like FTP data"), "{text}");
}

#[test]
fn passive_listings_are_recognised_and_other_streams_are_not() {
    // pasv-ok-forwarded/client.pcap without port 21: three LIST and two RETR data connections.
    // The listings are FTP data by their first bytes; the 39-byte text files are any stream.
    let (code, r) = analyze("no-control/pasv-ok-forwarded-client-not-port-21.pcap");
    assert_eq!(code, 0);
    let f = only_finding(&r);
    assert_eq!(f["details"]["evidence"], "listing");
    assert_eq!(f["occurrences"], 3);
    let ports: Vec<&str> =
        std::iter::once(&f["details"]["connection"]).chain(f["also"].as_array().unwrap()).map(|c| c["server"].as_str().unwrap()).collect();
    assert_eq!(ports, ["198.51.100.2:40009", "198.51.100.2:40007", "198.51.100.2:40006"]);
    assert_eq!(f["fix"][0]["server"], "198.51.100.2", "the listing's sender is the FTP server");
    assert_eq!(r["capture"]["tcp_connections"], 5);
    assert_eq!(r["capture"]["data_connections_without_control"], 3);
}

#[test]
fn an_active_data_connection_that_never_opened_without_its_control_channel_failed() {
    // active-port20-dropped/server.pcap without port 21: the server's SYNs from port 20, unanswered.
    let (code, r) = analyze("no-control/active-port20-dropped-server-not-port-21.pcap");
    assert_eq!(code, 1);
    let f = only_finding(&r);
    assert_eq!((f["kind"].as_str(), f["severity"].as_str()), (Some("data_without_control"), Some("error")));
    assert_eq!(f["details"]["outcome"], "unanswered");
    assert_eq!(f["details"]["ended"]["how"], "never_opened");
}

#[test]
fn a_stream_without_ftp_evidence_is_not_named_and_the_summary_says_so() {
    // large-transfer/client.pcap without port 21, its first 30 frames: a passive binary download
    // is, without its control channel, any TCP stream.
    let capture = "no-control/large-transfer-not-port-21-first-30.pcap";
    let (code, r) = analyze(capture);
    assert_eq!(code, 0);
    assert!(r["findings"].as_array().unwrap().is_empty(), "{:#?}", r["findings"]);
    assert!(r["capture"].get("data_connections_without_control").is_none(), "shown only when there are some");
    let (_, text) = run(&["analyze"], capture);
    assert!(
        text.contains("1 TCP connection(s)), no connection to the control port that failed, and none that looks like FTP data"),
        "{text}"
    );
    assert!(!text.contains("port 21` alone"), "{text}");
}

#[test]
fn a_flood_of_unrelated_connections_names_none_of_them() {
    // 5,000 lone SYNs to random ports beside one session.
    let (code, r) = analyze("crafted/flood.pcap");
    assert_eq!(code, 0);
    // None about a connection (the one session's anonymous login is the capture's note).
    let findings = r["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["kind"] == "cleartext_credentials"), "{findings:#?}");
    assert_eq!(r["capture"]["tcp_connections"], 5002);
}
