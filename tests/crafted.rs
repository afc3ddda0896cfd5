//! The captures crafted byte by byte in `fixtures/crafted/` (generator: `examples/craft.rs`,
//! `cargo run --example craft -- fixtures/crafted`; deterministic, so regenerating gives
//! byte-identical files). Each test runs the binary with `--json` and checks what a correct
//! analysis concludes: sessions, every negotiation, data outcomes, findings and the exit status.

mod common;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn path(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/crafted").join(name).display().to_string()
}

/// Exit status and JSON report.
fn analyze(name: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", "--json", &path(name)]).output().expect("ftpscope runs");
    let code = out.status.code().expect("exit status, not a signal");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (code, report)
}

fn one_session(r: &Value) -> &Value {
    let sessions = r["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "one session: {sessions:#?}");
    &sessions[0]
}

fn negotiations(r: &Value) -> &Vec<Value> {
    one_session(r)["negotiations"].as_array().unwrap()
}

/// (kind, severity) of every finding.
fn findings(r: &Value) -> Vec<(String, String)> {
    common::all_findings(r)
        .into_iter()
        .map(|f| (f["kind"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect()
}

fn finding<'a>(r: &'a Value, kind: &str) -> &'a Value {
    common::all_findings(r).into_iter().find(|f| f["kind"] == kind).unwrap_or_else(|| panic!("no {kind} finding in {:?}", findings(r)))
}

fn has(r: &Value, kind: &str, severity: &str) -> bool {
    findings(r).iter().any(|(k, s)| k == kind && s == severity)
}

fn no_errors(r: &Value) {
    let errors: Vec<_> = findings(r).into_iter().filter(|(_, s)| s == "error").collect();
    assert!(errors.is_empty(), "no error expected: {errors:?}");
}

/// One expected negotiation: command, reply code, advertised endpoint (None: unreadable),
/// malformed or not, data outcome.
type Expected<'a> = (&'a str, u64, Option<&'a str>, bool, &'a str);

fn check_negotiations(r: &Value, expected: &[Expected<'_>]) {
    let got = negotiations(r);
    assert_eq!(got.len(), expected.len(), "negotiations: {got:#?}");
    for (i, (n, &(command, code, advertised, malformed, outcome))) in got.iter().zip(expected).enumerate() {
        let ctx = format!("negotiation {i} (frame {}, reply {:?})", n["frame"], n["reply_text"]);
        assert_eq!(n["command"], command, "{ctx}");
        assert_eq!(n["reply_code"], code, "{ctx}");
        assert_eq!(n["advertised"].as_str(), advertised, "{ctx}");
        assert_eq!(!n["malformed"].is_null(), malformed, "{ctx}: malformed = {}", n["malformed"]);
        assert_eq!(n["data"]["outcome"], outcome, "{ctx}");
    }
}

#[test]
fn odd_227_229_228_forms() {
    let (code, r) = analyze("odd-227-forms.pcap");
    const S: &str = "198.51.100.20";
    let a = |port: u16| -> Option<&'static str> { Some(Box::leak(format!("{S}:{port}").into_boxed_str())) };
    check_negotiations(
        &r,
        &[
            ("PASV", 227, a(1029), false, "established"),              // (h,p) with LIST
            ("PASV", 227, a(1030), false, "not_attempted"),            // trailing '.'
            ("PASV", 227, a(1031), false, "not_attempted"),            // no parentheses
            ("PASV", 227, a(1032), false, "not_attempted"),            // "passively listen to"
            ("PASV", 227, a(1033), false, "established"),              // no text
            ("PASV", 227, a(1034), false, "not_attempted"),            // '=' prefix
            ("PASV", 227, a(1035), false, "not_attempted"),            // spaces inside
            ("PASV", 227, a(1036), false, "established"),              // multi-line 227
            ("PASV", 227, Some("0.0.0.0:1037"), false, "established"), // "any"
            ("PASV", 227, None, true, "not_attempted"),                // 257
            ("PASV", 227, None, true, "not_attempted"),                // empty '('
            ("EPSV", 229, a(6446), false, "established"),
            ("EPSV", 229, a(48758), false, "not_attempted"),              // (|||48758|).
            ("EPSV", 229, a(6447), false, "not_attempted"),               // (!!!6447!)
            ("EPSV", 229, None, true, "not_attempted"),                   // (||6448|)
            ("EPSV", 229, Some("10.0.0.5:4000"), false, "not_attempted"), // address given
            ("EPSV", 229, None, true, "not_attempted"),                   // port 0
            ("EPSV", 227, a(1044), false, "established"),                 // EPSV answered by 227
            ("PASV", 229, a(6449), false, "established"),                 // PASV answered by 229
            ("LPSV", 228, a(1045), false, "established"),
        ],
    );
    let n = negotiations(&r);
    // The data connection of the first one carried the listing.
    assert_eq!(n[0]["data"]["command"], "LIST");
    assert_eq!(n[0]["data"]["reply_code"], 226);
    assert_eq!(n[0]["data"]["bytes"], 44);
    assert_eq!(n[0]["data"]["matched_by"], "advertised");
    // 0.0.0.0: the client used the control connection's address.
    assert_eq!(n[8]["advertised_class"], "unspecified");
    assert_eq!(n[8]["data"]["matched_by"], "control_address");
    // EPSV (port only) takes the control address; a 229 that names an address does not.
    for i in [11, 12, 13, 18] {
        assert_eq!(n[i]["address_implied"], true, "negotiation {i}");
    }
    for i in [15, 17] {
        assert_eq!(n[i]["address_implied"], false, "negotiation {i}");
    }
    assert_eq!(n[15]["advertised_class"], "private");
    // Findings: the four malformed replies, two leaks (0.0.0.0 worked around, 10.0.0.5 unused).
    let malformed = findings(&r).iter().filter(|f| *f == &("malformed_reply".into(), "warning".into())).count();
    assert_eq!(malformed, 4, "{:?}", findings(&r));
    let leaks: Vec<_> = common::all_findings(&r).into_iter().filter(|f| f["kind"] == "private_address_leak").collect();
    assert_eq!(leaks.len(), 2);
    assert_eq!(leaks[0]["details"]["address"], "0.0.0.0");
    assert_eq!(leaks[0]["details"]["worked_around"], true);
    assert_eq!(leaks[1]["details"]["address"], "10.0.0.5");
    assert!(leaks.iter().all(|f| f["severity"] == "warning" && f["details"]["side"] == "server"));
    no_errors(&r);
    assert_eq!(code, 0);
}

#[test]
fn odd_commands_are_parsed_and_odd_replies_flagged() {
    let (code, r) = analyze("odd-commands.pcap");
    let s = one_session(&r);
    // The greeting came in three segments, cut inside the first line and inside a code.
    assert_eq!(s["banner"], "Welcome to the crafted server");
    assert_eq!(s["user"], "anonymous");
    let anomalies: Vec<(u64, &str)> =
        s["anomalies"].as_array().unwrap().iter().map(|a| (a["frame"].as_u64().unwrap(), a["kind"].as_str().unwrap())).collect();
    for expected in [(10, "malformed_reply"), (12, "malformed_reply"), (14, "malformed_reply"), (31, "malformed_command")] {
        assert!(anomalies.contains(&expected), "{expected:?} in {anomalies:?}");
    }
    let n = negotiations(&r);
    let args: Vec<_> = n.iter().map(|n| (n["command"].as_str().unwrap(), n["argument"].as_str().unwrap())).collect();
    assert_eq!(
        args,
        [
            ("PORT", "10,0,0,1,4,1"), // sent as lower-case "port"
            ("PORT", "10, 0, 0, 1, 4, 2"),
            ("PORT", "10,0,0,1,4,3"), // bare LF
            ("EPRT", "!1!10.0.0.1!2000!"),
            ("EPRT", "|1|fe80::1|5282|"),
            ("EPRT", "|1|10.0.0.1|70000|"),
            ("LPRT", "4,4,10,0,0,1,2,4,4"),
            ("LPRT", "6,16,253,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,2,4,5"),
        ]
    );
    let adv: Vec<_> = n.iter().map(|n| n["advertised"].as_str()).collect();
    assert_eq!(
        adv,
        [
            Some("10.0.0.1:1025"),
            Some("10.0.0.1:1026"),
            Some("10.0.0.1:1027"),
            Some("10.0.0.1:2000"),
            None,
            None,
            Some("10.0.0.1:1028"),
            Some("[fd00::1]:1029"),
        ]
    );
    assert!(n[4]["malformed"].as_str().unwrap().contains("family"));
    assert!(n[5]["malformed"].as_str().unwrap().contains("65535"));
    assert!(has(&r, "malformed_command", "warning"));
    // Both peers on one private network: a private PORT address is no leak.
    assert!(!findings(&r).iter().any(|(k, _)| k == "private_address_leak"), "{:?}", findings(&r));
    // The two malformed EPRTs were refused with 501: an error.
    assert!(has(&r, "data_command_rejected", "error"));
    assert_eq!(code, 1);
}

#[test]
fn odd_replies_do_not_shift_the_reply_to_command_pairing() {
    // Every command in this capture gets exactly one reply in the very next frame; an odd reply
    // line ("230_no_space", "2x5 ...") still answers its command.
    let (_, r) = analyze("odd-commands.pcap");
    check_negotiations(
        &r,
        &[
            ("PORT", 200, Some("10.0.0.1:1025"), false, "not_attempted"),
            ("PORT", 200, Some("10.0.0.1:1026"), false, "not_attempted"),
            ("PORT", 200, Some("10.0.0.1:1027"), false, "not_attempted"),
            ("EPRT", 200, Some("10.0.0.1:2000"), false, "not_attempted"),
            ("EPRT", 501, None, true, "rejected"),
            ("EPRT", 501, None, true, "rejected"),
            ("LPRT", 200, Some("10.0.0.1:1028"), false, "not_attempted"),
            ("LPRT", 200, Some("[fd00::1]:1029"), false, "not_attempted"),
        ],
    );
    for n in negotiations(&r) {
        assert_eq!(n["reply_frame"].as_u64().unwrap(), n["frame"].as_u64().unwrap() + 1, "{n}");
    }
    assert_eq!(finding(&r, "data_command_rejected")["occurrences"], 2);
}

#[test]
fn private_227_address_with_unanswered_syns() {
    let (code, r) = analyze("private-leak-unanswered.pcap");
    check_negotiations(&r, &[("PASV", 227, Some("10.0.0.20:10007"), false, "unanswered")]);
    let n = &negotiations(&r)[0];
    assert_eq!(n["advertised_class"], "private");
    assert_eq!(n["data"]["matched_by"], "advertised");
    assert_eq!(n["data"]["connection"]["syns"], 3);
    assert_eq!(n["data"]["connection"]["syn_frame"], 11);
    assert_eq!(n["data"]["command"], "LIST");
    assert_eq!(n["data"]["reply_code"], 425);
    let leak = finding(&r, "private_address_leak");
    assert_eq!(leak["severity"], "error");
    assert_eq!(leak["details"]["side"], "server");
    assert_eq!(leak["details"]["address"], "10.0.0.20");
    assert_eq!(leak["details"]["outcome"], "unanswered");
    assert_eq!(leak["details"]["worked_around"], false);
    assert!(has(&r, "data_connection_failed", "error"));
    assert_eq!(finding(&r, "data_connection_failed")["details"]["outcome"], "unanswered");
    assert_eq!(code, 1);
}

#[test]
fn passive_port_refused_by_rst() {
    let (code, r) = analyze("passive-refused.pcap");
    check_negotiations(&r, &[("PASV", 227, Some("203.0.113.10:50000"), false, "refused")]);
    let c = &negotiations(&r)[0]["data"]["connection"];
    assert_eq!(c["rst_frame"], 12);
    assert_eq!(c["rst_from"], "server");
    assert!(has(&r, "data_connection_failed", "error"));
    assert!(!findings(&r).iter().any(|(k, _)| k == "private_address_leak"));
    assert_eq!(code, 1);
}

#[test]
fn passive_syn_answered_by_icmp_unreachable_v4_and_v6() {
    for (file, command, code_, adv) in [
        ("passive-icmp-unreachable.pcap", "PASV", 227, "203.0.113.10:50001"),
        ("passive-icmp6-unreachable.pcap", "EPSV", 229, "[2001:db8:2::10]:50001"),
    ] {
        let (code, r) = analyze(file);
        check_negotiations(&r, &[(command, code_, Some(adv), false, "unreachable")]);
        let d = &negotiations(&r)[0]["data"];
        assert_eq!(d["connection"]["syn_frame"], 11, "{file}");
        assert_eq!(d["connection"]["unreachable_frame"], 12, "{file}");
        assert!(d["connection"]["unreachable"].is_string(), "{file}");
        assert_eq!(d["reply_code"], 425, "{file}");
        assert!(has(&r, "data_connection_failed", "error"), "{file}");
        assert_eq!(code, 1, "{file}");
    }
}

#[test]
fn active_private_port_refused_by_the_server() {
    let (code, r) = analyze("active-refused-illegal-port.pcap");
    check_negotiations(&r, &[("PORT", 500, Some("192.168.1.10:51210"), false, "rejected")]);
    assert_eq!(negotiations(&r)[0]["reply_text"], "Illegal PORT command.");
    assert!(has(&r, "data_command_rejected", "error"));
    let leak = finding(&r, "private_address_leak");
    assert_eq!(leak["details"]["side"], "client");
    assert_eq!(leak["details"]["address"], "192.168.1.10");
    assert_eq!(leak["details"]["outcome"], "rejected");
    assert_eq!(code, 1);
}

#[test]
fn a_banner_in_the_syn_ack_and_text_on_a_rst_are_read_as_tcp_says() {
    // The banner rides on the SYN-ACK (TCP Fast Open): it starts after the SYN's own sequence
    // number. The RST at the end carries "421 ..." as text: not a reply, not stream bytes.
    let (code, r) = analyze("tfo-banner-rst-text.pcap");
    let s = one_session(&r);
    assert_eq!(s["banner"], "(vsFTPd 3.0.5)", "the banner whole, from its first byte");
    assert_eq!(s["replies"], 6, "220 331 230 227 150 226, and no 421 from the RST's text");
    let server_bytes: usize = [
        "220 (vsFTPd 3.0.5)\r\n",
        "331 Please specify the password.\r\n",
        "230 Login successful.\r\n",
        "227 Entering Passive Mode (203,0,113,10,156,70).\r\n",
        "150 Here comes the directory listing.\r\n226 Directory send OK.\r\n",
    ]
    .iter()
    .map(|l| l.len())
    .sum();
    assert_eq!(s["control"]["bytes_to_client"], server_bytes);
    assert!(s["anomalies"].as_array().unwrap().is_empty());
    assert_eq!(s["end"], "closed");
    check_negotiations(&r, &[("PASV", 227, Some("203.0.113.10:40006"), false, "established")]);
    assert_eq!(code, 0);
}

#[test]
fn an_icmp_error_quoting_another_sequence_number_is_not_about_this_connection() {
    // The router's "host unreachable" quotes the data connection's ports but not its SYN's
    // sequence number: the SYNs that follow got no answer, and that is the outcome.
    let (code, r) = analyze("icmp-other-sequence.pcap");
    check_negotiations(&r, &[("PASV", 227, Some("203.0.113.10:50002"), false, "unanswered")]);
    let c = &negotiations(&r)[0]["data"]["connection"];
    assert_eq!((c["syns"].as_u64(), c["unreachable_frame"].as_u64()), (Some(3), None));
    assert_eq!(code, 1);
}

#[test]
fn a_retransmitted_data_segment_is_counted_once() {
    // 44 + 47 bytes of listing; the first segment is sent twice and after the second.
    let (code, r) = analyze("retransmitted-data.pcap");
    check_negotiations(&r, &[("PASV", 227, Some("203.0.113.10:50003"), false, "established")]);
    let d = &negotiations(&r)[0]["data"];
    assert_eq!(d["bytes"], 44 + 47);
    assert_eq!((d["connection"]["bytes_to_client"].as_u64(), d["connection"]["bytes_to_server"].as_u64()), (Some(91), Some(0)));
    assert_eq!(code, 0);
}

#[test]
fn an_ipv4_mapped_eprt_address_is_the_ipv4_host() {
    // EPRT |2|::ffff:192.0.2.10|5003| on an IPv4 control connection: the server's connection to
    // 192.0.2.10:5003 is the one announced, tied by its address, not only by its port.
    let (code, r) = analyze("eprt-v4-mapped.pcap");
    check_negotiations(&r, &[("EPRT", 200, Some("192.0.2.10:5003"), false, "established")]);
    let n = &negotiations(&r)[0];
    assert_eq!(n["argument"], "|2|::ffff:192.0.2.10|5003|", "the wire's words are kept");
    assert_eq!(n["data"]["matched_by"], "advertised");
    assert!(findings(&r).iter().all(|(kind, _)| kind == "cleartext_credentials"), "{:?}", findings(&r));
    assert_eq!(code, 0);
}

#[test]
fn active_private_port_rewritten_by_an_alg() {
    let (code, r) = analyze("alg-active-rewrite.pcap");
    check_negotiations(&r, &[("PORT", 200, Some("192.168.1.10:51211"), false, "established")]);
    let d = &negotiations(&r)[0]["data"];
    assert_eq!(d["connection"]["client"], "203.0.113.10:20");
    assert_eq!(d["connection"]["server"], "192.168.1.10:51211");
    assert_eq!(d["bytes"], 44);
    assert_eq!(d["reply_code"], 226);
    assert!(has(&r, "alg_rewrite", "info"));
    let leak = finding(&r, "private_address_leak");
    assert_eq!(leak["severity"], "warning");
    assert_eq!(leak["details"]["side"], "client");
    assert_eq!(leak["details"]["alg_suspected"], true);
    no_errors(&r);
    assert_eq!(code, 0);
}

#[test]
fn tls_control_channel_with_a_failed_probable_data_connection() {
    let (code, r) = analyze("tls-blind.pcap");
    let s = one_session(&r);
    assert_eq!(s["tls"], true);
    assert_eq!(s["tls_frame"], 6);
    assert!(s["negotiations"].as_array().unwrap().is_empty());
    // TLS records are never read as FTP lines.
    assert!(s["anomalies"].as_array().unwrap().is_empty(), "{}", s["anomalies"]);
    let probable = s["probable_data_channels"].as_array().unwrap();
    assert_eq!(probable.len(), 1);
    assert_eq!(probable[0]["server"], "10.0.0.20:40001");
    assert_eq!(probable[0]["outcome"], "unanswered");
    assert_eq!(probable[0]["syns"], 3);
    assert!(has(&r, "control_channel_encrypted", "error"));
    assert_eq!(code, 1);
}

#[test]
fn capture_begun_mid_session_on_port_2121() {
    let (code, r) = analyze("mid-connection.pcap");
    let s = one_session(&r);
    assert_eq!(s["client"], "192.0.2.10:40008");
    assert_eq!(s["server"], "198.51.100.20:2121");
    assert_eq!(s["control_port"], 2121);
    assert_eq!(s["first_frame"], 1);
    assert!(s["banner"].is_null());
    check_negotiations(&r, &[("PASV", 227, Some("198.51.100.20:51201"), false, "established")]);
    assert_eq!(negotiations(&r)[0]["data"]["bytes"], 39);
    assert_eq!(negotiations(&r)[0]["data"]["reply_code"], 226);
    assert!(has(&r, "nonstandard_control_port", "info"));
    no_errors(&r);
    assert_eq!(code, 0);
}

#[test]
fn lossy_control_channel_still_yields_the_negotiations_after_the_gap() {
    let (code, r) = analyze("lossy-control.pcapng");
    let s = one_session(&r);
    let c = &s["control"];
    assert_eq!(c["gaps"], 1, "{c}");
    assert_eq!(c["gap_bytes"], 6, "the lost NOOP: {c}");
    assert!(c["retransmitted_bytes"].as_u64().unwrap() >= 8, "{c}");
    assert!(c["out_of_order_segments"].as_u64().unwrap() >= 1, "{c}");
    assert_eq!(c["conflicting_overlaps"], 0, "{c}");
    assert_eq!(s["banner"], "(vsFTPd 3.0.5)");
    check_negotiations(
        &r,
        &[
            ("PASV", 227, Some("198.51.100.20:51202"), false, "established"),
            ("EPSV", 229, Some("198.51.100.20:51203"), false, "established"),
        ],
    );
    let n = negotiations(&r);
    assert_eq!(n[0]["data"]["command"], "LIST");
    assert_eq!(n[1]["data"]["command"], "NLST");
    // Nanosecond timestamps are kept (the clock step is 1,000,123 ns).
    let t = n[0]["data"]["connection"]["syn_time"].as_f64().unwrap();
    assert!((t.fract() * 1e9 - 22_002_706.0).abs() < 1_000.0, "{t}");
    no_errors(&r);
    assert_eq!(code, 0);
}

const FORMATS: [&str; 7] = [
    "formats-ns-be.pcap",
    "formats-two-if.pcapng",
    "formats-sll.pcap",
    "formats-sll2.pcap",
    "formats-vlan.pcap",
    "formats-null.pcap",
    "formats-snaplen.pcap",
];

#[test]
fn every_format_and_link_type_gives_the_same_analysis() {
    let (code, plain) = analyze("formats-plain.pcap");
    assert_eq!(code, 0);
    check_negotiations(&plain, &[("PASV", 227, Some("198.51.100.20:51204"), false, "established")]);
    let d = &negotiations(&plain)[0]["data"];
    assert_eq!(d["bytes"], 3000);
    assert_eq!(d["command"], "RETR big.bin");
    assert_eq!(d["reply_code"], 226);
    assert_eq!(plain["capture"]["tcp_connections"], 2);
    for file in FORMATS {
        let (code, r) = analyze(file);
        assert_eq!(code, 0, "{file}");
        let c = &r["capture"];
        assert_eq!(c["frames"], 27, "{file}");
        assert_eq!(c["undecodable_frames"], 0, "{file}");
        assert_eq!(c["unsupported_frames"], 0, "{file}");
        assert_eq!(c["tcp_connections"], 2, "{file}");
        assert_eq!(c["first_time"], plain["capture"]["first_time"], "{file}");
        // Sessions and negotiations identical, data bytes included (from orig_len when cut); the
        // text sample of a TYPE A transfer reads the bytes captured, which a snap length cuts.
        let sessions = |r: &Value| {
            let mut sessions = r["sessions"].clone();
            if file == "formats-snaplen.pcap" {
                for n in sessions[0]["negotiations"].as_array_mut().unwrap() {
                    n["data"]["record"].as_object_mut().unwrap().remove("ascii_sample");
                }
            }
            sessions
        };
        assert_eq!(sessions(&r), sessions(&plain), "{file}");
        assert_eq!(findings(&r), findings(&plain), "{file}");
        // Only the snap length capture cut frames (its 3 data segments, to 64 bytes).
        let cut = if file == "formats-snaplen.pcap" { (3, 64) } else { (0, 0) };
        assert_eq!((c["cut_frames"].as_u64(), c["cut_kept"].as_u64()), (Some(cut.0), Some(cut.1)), "{file}");
    }
    // The operator is told, with what to do.
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", &path("formats-snaplen.pcap")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("3 frame(s) cut by the capture's snap length (at most 64 bytes kept of each)"), "{text}");
    assert!(text.contains("tcpdump -s 0"), "{text}");
}

#[test]
fn syn_flood_is_fast_and_keeps_the_one_session() {
    let start = Instant::now();
    let (code, r) = analyze("flood.pcap");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(code, 0);
    assert_eq!(r["capture"]["frames"], 5025);
    assert_eq!(r["capture"]["tcp_connections"], 5002);
    let s = one_session(&r);
    assert_eq!(s["server"], "198.51.100.20:21");
    check_negotiations(&r, &[("EPSV", 229, Some("198.51.100.20:51205"), false, "established")]);
    assert_eq!(negotiations(&r)[0]["data"]["command"], "NLST");
}

#[test]
fn first_segments_shorter_than_a_code_or_a_verb_still_make_a_session() {
    // Frame 4 is "22", frame 5 "0 (vsFTPd 3.0.5)\r\n"; frame 6 "US", frame 7 "ER anonymous\r\n".
    let (code, r) = analyze("banner-split-in-code.pcap");
    let s = one_session(&r);
    assert_eq!(s["first_frame"], 1);
    assert_eq!(s["banner"], "(vsFTPd 3.0.5)");
    assert_eq!(s["user"], "anonymous");
    check_negotiations(&r, &[("PASV", 227, Some("198.51.100.20:51206"), false, "established")]);
    assert_eq!(negotiations(&r)[0]["data"]["command"], "NLST");
    assert_eq!(code, 0);
}

#[test]
fn a_reused_four_tuple_after_missed_fins_is_a_new_connection() {
    // Two listings on the same client port to the same passive port; the first connection's FINs
    // are not in the capture. The second SYN (new ISN, after the first SYN-ACK) opens a second
    // connection: 44 bytes then 47, each tied to its own PASV.
    let (code, r) = analyze("reused-four-tuple.pcap");
    let port = Some("203.0.113.10:50004");
    check_negotiations(&r, &[("PASV", 227, port, false, "established"), ("PASV", 227, port, false, "established")]);
    let data: Vec<_> =
        negotiations(&r).iter().map(|n| (n["data"]["bytes"].as_u64(), n["data"]["connection"]["syn_frame"].as_u64())).collect();
    assert_eq!(data, [(Some(44), Some(12)), (Some(47), Some(20))]);
    assert_eq!(r["capture"]["tcp_connections"], 3);
    assert_eq!(code, 0);
}

#[test]
fn frames_captured_twice_are_analysed_once_and_counted() {
    // Every packet of a passive download twice, 20 µs apart (a SPAN port mirroring both ways).
    // Before: the data connection had 2 SYNs and the control channel 287 retransmitted bytes.
    let (code, r) = analyze("span-duplicates.pcap");
    check_negotiations(&r, &[("PASV", 227, Some("198.51.100.20:51204"), false, "established")]);
    let s = one_session(&r);
    let d = &s["negotiations"][0]["data"];
    assert_eq!((d["connection"]["syns"].as_u64(), d["bytes"].as_u64()), (Some(1), Some(3000)));
    assert_eq!(s["control"]["retransmitted_bytes"], 0);
    assert_eq!((r["capture"]["frames"].as_u64(), r["capture"]["duplicate_frames"].as_u64()), (Some(54), Some(23)));
    assert_eq!(code, 0);
    let text = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", &path("span-duplicates.pcap")]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("23 duplicate frame(s) analysed once"));
}

#[test]
fn a_forged_copy_that_differs_in_its_middle_is_a_differing_retransmission() {
    // A 214 reply captured again 20 µs later: same headers, length, checksum and tail, two bytes
    // in its middle changed. Before: taken for a copy by its digest of head and tail (1 duplicate
    // frame), so the differing bytes were never seen.
    let (code, r) = analyze("forged-copy.pcap");
    let s = one_session(&r);
    assert_eq!(r["capture"]["duplicate_frames"], 0);
    assert_eq!((s["control"]["retransmitted_bytes"].as_u64(), s["control"]["conflicting_overlaps"].as_u64()), (Some(306), Some(2)));
    assert_eq!(code, 0);
    let text = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", &path("forged-copy.pcap")]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("(2 retransmitted control byte(s) that differed)"));
}

#[test]
fn a_session_protected_by_gssapi_is_unreadable_from_its_first_protected_line() {
    // AUTH GSSAPI, ADAT, then MIC (frame 9) and ENC commands answered by 631 and 632, a data
    // connection (SYN in frame 14) and one refused (SYN 25, RST 26). Before: 631 and 632 read as
    // malformed replies, the data connections in no session, the MIC token (its command in
    // clear) in the command log.
    let (code, r) = analyze("gssapi-protected.pcap");
    let s = one_session(&r);
    assert_eq!((&s["tls"], &s["gssapi_frame"]), (&Value::Bool(false), &Value::from(9)));
    assert_eq!(s["anomalies"].as_array().map(Vec::len), Some(0), "{s}");
    let probable: Vec<(&Value, &Value, &Value)> =
        s["probable_data_channels"].as_array().unwrap().iter().map(|c| (&c["syn_frame"], &c["outcome"], &c["bytes_to_client"])).collect();
    assert_eq!(probable, [(&14.into(), &"established".into(), &400.into()), (&25.into(), &"refused".into(), &0.into())]);
    let kinds: Vec<(&Value, &Value)> = s["findings"].as_array().unwrap().iter().map(|f| (&f["kind"], &f["severity"])).collect();
    assert_eq!(kinds, [(&"control_channel_encrypted".into(), &"error".into()), (&"data_connection_failed".into(), &"error".into())]);
    let encrypted = &s["findings"][0];
    assert_eq!(encrypted["details"]["protection"], "gssapi");
    assert_eq!(encrypted["fix"][0]["action"], "helper_blind_under_gssapi");
    assert_eq!(code, 1);
    // Every view: the MIC and ADAT tokens never shown, nothing said of TLS; the reports name the
    // protection.
    let outputs = [vec!["analyze", "-v"], vec!["analyze", "--ndjson", "--commands"], vec!["explain"], vec!["explain", "--json"]];
    for args in outputs {
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(&args).arg(path("gssapi-protected.pcap")).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("UEFTUyBzM2NyM3Qt") && !text.contains("YIIBzwYJ"), "{args:?} shows a token: {text}");
        assert!(text.contains("GSSAPI"), "{args:?}: {text}");
        assert!(!text.contains("TLS"), "{args:?} speaks of TLS: {text}");
    }
}

#[test]
fn an_endless_line_at_the_end_of_the_capture_is_overlong() {
    // After the login the server sends `211-` and 20,000 bytes without a line end; the capture
    // stops first. That line is overlong although it never ended (before: 0 overlong lines).
    let (code, r) = analyze("endless-last-line.pcap");
    let s = one_session(&r);
    assert_eq!(s["control"]["overlong_lines"], 1);
    assert_eq!((s["commands"].as_u64(), s["replies"].as_u64()), (Some(3), Some(3)));
    assert_eq!(code, 0);
    let text = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", &path("endless-last-line.pcap")]).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("1 overlong control line(s) cut"));
}

#[test]
fn implicit_ftps_on_port_990_is_said_and_not_analysed() {
    // A clear-text session, then the same client to port 990 with TLS records from the first
    // byte. Before, the report said nothing of it.
    let (code, r) = analyze("implicit-ftps.pcap");
    assert_eq!(one_session(&r)["server"], "203.0.113.10:21");
    assert_eq!((r["capture"]["tcp_connections"].as_u64(), r["capture"]["implicit_ftps_connections"].as_u64()), (Some(2), Some(1)));
    assert_eq!(code, 0);
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", &path("implicit-ftps.pcap")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 TCP connection(s) to port 990: implicit FTPS, encrypted from the first byte"), "{text}");
}

#[test]
fn pcapng_blocks_that_wireshark_numbers_take_a_frame_number() {
    // The session of formats-plain.pcap with a custom block (copyable and not), a systemd journal
    // entry, decryption secrets, name resolution and interface statistics among its packets.
    // tshark 4.0 numbers the first three as frames: the PASV is its frame 12 (9 without them),
    // the data SYN 15, the 226 frame 25 (read off `tshark -r formats-blocks.pcapng`).
    let (code, r) = analyze("formats-blocks.pcapng");
    let n = &negotiations(&r)[0];
    assert_eq!((n["frame"].as_u64(), n["reply_frame"].as_u64()), (Some(12), Some(13)));
    let d = &n["data"];
    assert_eq!(
        (d["command_frame"].as_u64(), d["connection"]["syn_frame"].as_u64(), d["reply_frame"].as_u64()),
        (Some(14), Some(15), Some(25))
    );
    assert_eq!(r["capture"]["frames"], 27, "packets read; the blocks are numbered, not read as frames");
    assert_eq!(code, 0);
}

#[test]
fn one_client_port_to_two_servers_is_not_a_nat_pair() {
    // 192.0.2.10:40020 in two sessions at once (a port-preserving NAT), to two servers, both
    // anonymous, both with one PASV, starting 3 ms apart. Other ISNs and other banners: two
    // connections, not the two sides of one NAT (before: a false alg_rewrite).
    let (code, r) = analyze("one-client-port-two-servers.pcap");
    assert_eq!(r["sessions"].as_array().unwrap().len(), 2);
    assert!(!has(&r, "alg_rewrite", "info"), "{:?}", findings(&r));
    assert_eq!(code, 0);
}
/// The negotiation's data connection as (client, server), with how it was matched.
fn tied(n: &Value) -> (String, String, String) {
    let c = &n["data"]["connection"];
    let s = |v: &Value| v.as_str().unwrap_or("none").to_string();
    (s(&c["client"]), s(&c["server"]), s(&n["data"]["matched_by"]))
}

#[test]
fn only_the_servers_side_of_a_passive_session_still_makes_the_session() {
    let (code, r) = analyze("one-way-server-passive.pcap");
    let s = one_session(&r);
    assert_eq!((s["client"].as_str(), s["server"].as_str()), (Some("192.0.2.10:40015"), Some("203.0.113.10:21")));
    assert_eq!(s["captured_directions"], "server_to_client");
    assert_eq!(s["banner"], "(vsFTPd 3.0.5)");
    // The 227 without its PASV is still an advertised endpoint; its data connection (seen from
    // its SYN-ACK on) is tied to it and its listing counted.
    check_negotiations(&r, &[("PASV", 227, Some("203.0.113.10:50004"), false, "established")]);
    let n = &negotiations(&r)[0];
    assert_eq!(n["command_implied"], true);
    assert_eq!(n["frame"], n["reply_frame"], "the implied command is placed at its reply");
    assert_eq!(tied(n), ("192.0.2.10:41015".into(), "203.0.113.10:50004".into(), "advertised".into()));
    assert_eq!(n["data"]["bytes"], 47);
    // The transfer is known from its replies, its command not: 226 is its final reply.
    assert!(n["data"]["command"].is_null() && n["data"]["command_frame"].is_null());
    assert_eq!((n["data"]["reply_code"].as_u64(), n["data"]["reply_frame"].as_u64()), (Some(226), Some(12)));
    let f = finding(&r, "one_direction_captured");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["details"]["captured_directions"], "server_to_client");
    assert_eq!(f["frames"], serde_json::json!([1, 3]), "the first frame, and the 331 acknowledging a USER never captured");
    no_errors(&r);
    assert_eq!(findings(&r).iter().filter(|(_, s)| s == "warning").count(), 0, "{:?}", findings(&r));
    assert_eq!(code, 0);
}

#[test]
fn only_the_servers_side_still_shows_a_passive_transfer_the_server_could_not_open() {
    // 227 with the server's public address, no data connection, and 425 five seconds later for
    // a LIST the capture does not hold. Before: the 425 was unsolicited and the outcome unknown.
    let (code, r) = analyze("one-way-server-425.pcap");
    assert_eq!(one_session(&r)["captured_directions"], "server_to_client");
    check_negotiations(&r, &[("PASV", 227, Some("203.0.113.10:50009"), false, "rejected")]);
    let d = &negotiations(&r)[0]["data"];
    assert!(d["command"].is_null() && d["connection"].is_null());
    assert_eq!((d["reply_code"].as_u64(), d["reply_text"].as_str()), (Some(425), Some("Failed to establish connection.")));
    let f = finding(&r, "data_command_rejected");
    assert_eq!((f["severity"].as_str(), f["details"]["code"].as_u64()), (Some("error"), Some(425)));
    // The server's words say no connection came: the passive port must be let through (not the
    // server's passive settings, which already name its public address). Its segments carry
    // their initial TTL (64): captured on the server's own link, the public address is its own,
    // so a firewall is to let the port in; there is no NAT router to forward on.
    assert_eq!(one_session(&r)["control"]["server_ttl"], 64);
    let actions: Vec<&str> = f["fix"].as_array().unwrap().iter().map(|x| x["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["allow_passive_range"]);
    assert!(f["explanation"].as_str().unwrap().contains("connection to 203.0.113.10:50009, none came"), "{f:#}");
    assert_eq!(code, 1);
}

#[test]
fn only_the_clients_side_of_an_active_session_still_makes_the_session() {
    let (code, r) = analyze("one-way-client-active.pcap");
    let s = one_session(&r);
    assert_eq!(s["captured_directions"], "client_to_server");
    assert_eq!(s["user"], "anonymous");
    // PORT without its 200 is still a negotiation; the server's connection (seen from the
    // client's SYN-ACK on) is tied to it, the upload counted.
    assert_eq!(negotiations(&r).len(), 1);
    let n = &negotiations(&r)[0];
    assert_eq!((n["command"].as_str(), n["advertised"].as_str()), (Some("PORT"), Some("192.0.2.10:51221")));
    assert_eq!(n["data"]["outcome"], "established");
    assert!(n["reply_code"].is_null(), "no reply was captured, none is invented");
    assert_eq!(n["command_implied"], false);
    assert_eq!(tied(n), ("203.0.113.10:20".into(), "192.0.2.10:51221".into(), "advertised".into()));
    assert_eq!(n["data"]["command"], "STOR upload.bin");
    assert_eq!(n["data"]["bytes"], 700);
    let f = finding(&r, "one_direction_captured");
    assert_eq!((f["severity"].as_str(), f["details"]["captured_directions"].as_str()), (Some("info"), Some("client_to_server")));
    // Nothing concluded from the missing replies: no error, no warning.
    assert!(findings(&r).iter().all(|(_, s)| s == "info"), "{:?}", findings(&r));
    assert_eq!(code, 0);
}

#[test]
fn only_the_clients_side_of_a_passive_session_ties_its_next_connection() {
    let (code, r) = analyze("one-way-client-passive.pcap");
    let sessions = r["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    let negotiation = |i: usize| &sessions[i]["negotiations"][0];
    for s in sessions {
        assert_eq!(s["captured_directions"], "client_to_server");
        assert_eq!(s["negotiations"].as_array().unwrap().len(), 1);
    }
    // 1: the reply (not captured) named the server's public address; the client's next
    // connection to the server is the data connection, which opened (the client's ACK). Where
    // it went says nothing of what the reply named (a client may replace an unroutable address
    // with the control address): nothing is advertised.
    let n = negotiation(0);
    assert_eq!(tied(n), ("192.0.2.10:41020".into(), "203.0.113.10:50010".into(), "after_command".into()));
    assert_eq!((n["reply_code"].is_null(), n["advertised"].is_null(), &n["reply_implied"]), (true, true, &Value::Bool(false)));
    assert_eq!((n["data"]["outcome"].as_str(), n["data"]["command"].as_str()), (Some("established"), Some("LIST")));
    // 2: the client connected to a private address while the server's is public: only the
    // reply can have named it. Its SYNs went unanswered (retransmitted: the client had no
    // answer): the same leak a capture of both sides shows.
    let n = negotiation(1);
    assert_eq!(tied(n), ("192.0.2.10:41021".into(), "10.0.0.5:50011".into(), "after_command".into()));
    assert_eq!((n["advertised"].as_str(), n["advertised_class"].as_str()), (Some("10.0.0.5:50011"), Some("private")));
    assert_eq!((n["reply_code"].is_null(), &n["reply_implied"]), (true, &Value::Bool(true)));
    assert_eq!((n["data"]["outcome"].as_str(), n["data"]["connection"]["syns"].as_u64()), (Some("unanswered"), Some(3)));
    let leak = finding(&r, "private_address_leak");
    assert_eq!((leak["severity"].as_str(), leak["session"].as_u64()), (Some("error"), Some(1)));
    assert_eq!(leak["frames"], serde_json::json!([16, 17]), "the PASV and the data SYN");
    assert!(leak["explanation"].as_str().unwrap().contains("Its reply is not in this capture"), "{leak}");
    assert_eq!((leak["details"]["address"].as_str(), leak["details"]["outcome"].as_str()), (Some("10.0.0.5"), Some("unanswered")));
    // The failed connection is the leak's consequence, not a second problem.
    let failed = finding(&r, "data_connection_failed");
    // (Its index: the clear-text login is told once for the capture, not in the session.)
    assert_eq!(failed["caused_by"].as_u64(), Some(1), "{failed}");
    assert_eq!(sessions[1]["findings"][1]["kind"], "private_address_leak");
    // 3: the same private address, then the client tries the control address with the same
    // port (FileZilla's fallback), which opens: the retry is the data connection, the failed
    // try its earlier attempt, and the leak a warning (worked around), as with both sides.
    let n = negotiation(2);
    assert_eq!(tied(n), ("192.0.2.10:41023".into(), "203.0.113.10:50012".into(), "after_command".into()));
    assert_eq!((n["advertised"].as_str(), &n["reply_implied"]), (Some("10.0.0.5:50012"), &Value::Bool(true)));
    assert_eq!(n["data"]["outcome"], "established");
    let earlier = &n["data"]["earlier_attempts"];
    assert_eq!((earlier[0]["server"].as_str(), earlier[0]["syns"].as_u64()), (Some("10.0.0.5:50012"), Some(3)), "{earlier}");
    let leak = &sessions[2]["findings"][1];
    assert_eq!((leak["kind"].as_str(), leak["severity"].as_str()), (Some("private_address_leak"), Some("warning")), "{leak}");
    assert_eq!(leak["details"]["worked_around"], true);
    assert_eq!(code, 1);
}

/// A transfer whose data connection opened before its 227 was read: tied all the same.
fn check_early_syn(file: &str, client: &str, server: &str, bytes: u64) {
    let (code, r) = analyze(file);
    check_negotiations(&r, &[("PASV", 227, Some(server), false, "established")]);
    let n = &negotiations(&r)[0];
    assert_eq!(tied(n), (client.into(), server.into(), "advertised".into()));
    assert!(n["data"]["connection"]["syn_frame"].as_u64() < n["reply_frame"].as_u64(), "the SYN is before the 227 in the file");
    assert_eq!(n["data"]["bytes"], bytes, "the packets after the tie count for the negotiation");
    assert_eq!(n["data"]["command"], "LIST");
    assert_eq!(one_session(&r)["captured_directions"], "both");
    no_errors(&r);
    assert_eq!(r["capture"]["untied_connections_dropped"], 0);
    assert_eq!(code, 0);
}

#[test]
fn a_data_syn_stamped_just_before_its_227_is_tied() {
    // The SYN is 0.2 ms before the 227 (multi-queue NIC timestamps).
    check_early_syn("syn-before-227.pcap", "192.0.2.10:41017", "203.0.113.10:50005", 44);
}

#[test]
fn a_data_syn_before_the_retransmission_of_a_lost_227_is_tied() {
    // The 227 is missing from the capture; the client connects; 300 ms later the retransmission.
    check_early_syn("227-retransmitted-after-syn.pcap", "192.0.2.10:41018", "203.0.113.10:50006", 47);
}

#[test]
fn parallel_ftps_sessions_each_get_their_own_data_connections() {
    // Two FTPS sessions between the same hosts; encrypted exchanges on A, B, A, each followed by
    // a data connection. Before: all three went to B, the session that went TLS last.
    let (_, r) = analyze("parallel-ftps.pcap");
    let probable: Vec<(String, Vec<String>)> = r["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let servers = s["probable_data_channels"].as_array().unwrap().iter().map(|p| p["server"].as_str().unwrap().to_string());
            (s["client"].as_str().unwrap().to_string(), servers.collect())
        })
        .collect();
    let expected =
        [("192.0.2.10:40021", vec!["203.0.113.10:50010", "203.0.113.10:50012"]), ("192.0.2.10:40022", vec!["203.0.113.10:50011"])];
    assert_eq!(probable, expected.map(|(c, p)| (c.to_string(), p.iter().map(|s| s.to_string()).collect())));
}

#[test]
fn a_data_connection_tried_again_is_judged_by_the_try_that_carried_the_transfer() {
    // Three sessions whose first data connection goes unanswered (3 SYNs) and whose LIST ends
    // in 226. Before: each was data_connection_failed (an error), the retries left untied.
    let (code, r) = analyze("retried-elsewhere.pcap");
    let sessions = r["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 4);
    let data = |s: usize| &sessions[s]["negotiations"][0]["data"];
    let earlier = |s: usize| {
        let tries = data(s)["earlier_attempts"].as_array().unwrap();
        tries
            .iter()
            .map(|c| (c["server"].as_str().unwrap().to_string(), c["outcome"].as_str().unwrap().to_string(), c["syns"].as_u64().unwrap()))
            .collect::<Vec<_>>()
    };
    let unanswered = |server: &str| vec![(server.to_string(), "unanswered".to_string(), 3)];
    // 1. Private 227, retried at the control address: that try is the data connection.
    assert_eq!(data(0)["outcome"], "established");
    assert_eq!(tied(&sessions[0]["negotiations"][0]), ("192.0.2.50:41301".into(), "203.0.113.50:10025".into(), "control_address".into()));
    assert_eq!(data(0)["bytes"], 47);
    assert_eq!(earlier(0), unanswered("10.0.0.50:10025"));
    // 2. Private 227, the retry not captured: the transfer completed, so the failed try is an
    // earlier attempt and what carried the data is unknown.
    assert_eq!(data(1)["outcome"], "unknown");
    assert!(data(1)["connection"].is_null() && data(1)["matched_by"].is_null());
    assert_eq!(earlier(1), unanswered("10.0.0.50:10026"));
    // 3. Public 227, the same endpoint tried again from another port.
    assert_eq!(data(2)["outcome"], "established");
    assert_eq!(tied(&sessions[2]["negotiations"][0]), ("192.0.2.50:41321".into(), "203.0.113.50:10027".into(), "advertised".into()));
    assert_eq!(earlier(2), unanswered("203.0.113.50:10027"));
    // 4. Refused (the server not listening yet), then open.
    assert_eq!(data(3)["outcome"], "established");
    assert_eq!(tied(&sessions[3]["negotiations"][0]), ("192.0.2.50:41331".into(), "203.0.113.50:10028".into(), "advertised".into()));
    assert_eq!(earlier(3), vec![("203.0.113.50:10028".to_string(), "refused".to_string(), 1)]);
    // The leaks stay (warnings), each naming the failed first try as evidence; nothing failed.
    no_errors(&r);
    let leaks: Vec<&Value> = common::all_findings(&r).into_iter().filter(|f| f["kind"] == "private_address_leak").collect();
    assert_eq!(leaks.len(), 2);
    for (leak, first_syn) in leaks.iter().zip([11, 39]) {
        assert_eq!(leak["severity"], "warning");
        assert!(leak["frames"].as_array().unwrap().contains(&first_syn.into()), "{leak:#}");
        let said = leak["explanation"].as_str().unwrap();
        assert!(said.contains(&format!("was unanswered (SYN in frame {first_syn}, 3 SYNs)")), "{said}");
    }
    assert!(leaks[1]["explanation"].as_str().unwrap().contains("Yet the transfer completed (226 in frame 44)"));
    assert!(findings(&r).iter().all(|(k, _)| k != "data_connection_failed"), "{:?}", findings(&r));
    assert_eq!(code, 0);
    // Events: the refusal was announced when it came; the retry that opened is announced too,
    // naming the refused try.
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", "--ndjson", &path("retried-elsewhere.pcap")]).output().unwrap();
    let events: Vec<Value> =
        out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    let outcomes: Vec<(&str, usize)> = events
        .iter()
        .filter(|e| e["event"] == "data_outcome" && e["session"] == 3)
        .map(|e| (e["outcome"].as_str().unwrap(), e["earlier_attempts"].as_array().unwrap().len()))
        .collect();
    assert_eq!(outcomes, [("refused", 0), ("established", 1)]);
}

/// (session's client address, data connection's client address, matched_by, tie_ambiguous,
/// outcome) of each session's one negotiation, by session id.
fn ties(r: &Value) -> Vec<(String, String, String, bool, String)> {
    let host = |v: &Value| v.as_str().unwrap().rsplit_once(':').unwrap().0.to_string();
    let mut sessions: Vec<&Value> = r["sessions"].as_array().unwrap().iter().collect();
    sessions.sort_by_key(|s| s["id"].as_u64());
    sessions
        .into_iter()
        .map(|s| {
            let negotiations = s["negotiations"].as_array().unwrap();
            assert_eq!(negotiations.len(), 1, "session {}", s["id"]);
            let d = &negotiations[0]["data"];
            let ambiguous = d.get("tie_ambiguous").map(|a| a.as_bool().unwrap());
            assert_ne!(ambiguous, Some(false), "tie_ambiguous is only shown when true");
            let how = d["matched_by"].as_str().unwrap().to_string();
            (
                host(&s["client"]),
                host(&d["connection"]["client"]),
                how,
                ambiguous.unwrap_or(false),
                d["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn tie(session: &str, data: &str, how: &str, ambiguous: bool, outcome: &str) -> (String, String, String, bool, String) {
    (session.into(), data.into(), how.into(), ambiguous, outcome.into())
}

#[test]
fn clients_behind_one_address_waiting_on_one_port_make_an_ambiguous_tie_and_no_error() {
    let (code, r) = analyze("cgnat-one-port.pcap");
    const NAT: &str = "100.64.0.7";
    assert_eq!(
        ties(&r),
        vec![
            // The first client's negotiation: the connection that opened, the only one left to it.
            tie(NAT, NAT, "advertised", false, "established"),
            // The unanswered connection came while both waited: tied to the newest negotiation,
            // a guess, so its failure is no conclusion (`unknown`, the connection's own outcome
            // kept).
            tie(NAT, NAT, "advertised", true, "unknown"),
            // The third client negotiated alone.
            tie(NAT, NAT, "advertised", false, "established"),
        ]
    );
    let guessed = &r["sessions"].as_array().unwrap().iter().find(|s| s["id"] == 1).unwrap()["negotiations"][0]["data"];
    assert_eq!(guessed["connection"]["outcome"], "unanswered");
    assert_eq!(guessed["connection"]["client"], "100.64.0.7:41400");
    no_errors(&r);
    assert_eq!(code, 0);
}

#[test]
fn many_clients_on_one_passive_port_each_get_their_own_data_connection() {
    let (code, r) = analyze("one-port-interleaved.pcap");
    let expected: Vec<_> = (70..76)
        .map(|i| {
            let client = format!("192.0.2.{i}");
            tie(&client, &client, "control_address", false, "established")
        })
        .collect();
    assert_eq!(ties(&r), expected, "every data connection in its own client's session, none a guess");
    no_errors(&r);
    assert_eq!(code, 0);
}

/// The first client connects 200 s after its 227, within the 300 s an expectation waits, while
/// a second client, told the same endpoint 50 s before, waits too: the connection is tied to
/// its own client's negotiation (its source is that control connection's client), not to the
/// negotiation nearest in time, and it is no guess (the second waits for another address).
#[test]
fn a_data_connection_200_s_after_its_227_goes_to_its_own_client() {
    let (code, r) = analyze("late-syn.pcap");
    assert_eq!(
        ties(&r),
        vec![
            tie("192.0.2.80", "192.0.2.80", "advertised", false, "established"),
            tie("192.0.2.81", "192.0.2.81", "advertised", false, "established"),
        ]
    );
    no_errors(&r);
    assert_eq!(code, 0);
}

/// One listing session captured on either side of a source NAT, each interface's clock moved by
/// if_tsoffset to an end of pcapng's time: 1677 inside, 2262 outside, each 0.85 s within what
/// an i64 of nanoseconds holds. The debug build panics where an overflow would wrap.
#[test]
fn times_at_the_ends_of_pcapngs_range_neither_wrap_nor_panic() {
    for (name, client, start) in
        [("time-earliest.pcapng", "192.0.2.10", -9_223_372_035.999), ("time-latest.pcapng", "203.0.113.5", 9_223_372_036.001)]
    {
        let (code, r) = analyze(name);
        let s = one_session(&r);
        let (first, last) = (s["start_time"].as_f64().unwrap(), s["end_time"].as_f64().unwrap());
        assert!((first - start).abs() < 0.001, "{name}: starts at {first}");
        assert!((0.0..0.1).contains(&(last - first)), "{name}: a session of 24 ms, not {}", last - first);
        check_negotiations(&r, &[("PASV", 227, Some("198.51.100.20:51205"), false, "established")]);
        let n = &negotiations(&r)[0];
        assert_eq!(tied(n), (format!("{client}:41020"), "198.51.100.20:51205".into(), "advertised".into()));
        assert_eq!((n["data"]["bytes"].as_u64(), n["data"]["transfer"]["verdict"].as_str()), (Some(47), Some("ok")));
        assert!((0.0..0.1).contains(&n["data"]["duration"].as_f64().unwrap()), "{name}: {}", n["data"]["duration"]);
        no_errors(&r);
        assert_eq!(code, 0);
    }
    // Paired by sequence numbers, the client translated. The clocks differ by about 584 years,
    // more than an i64 of nanoseconds holds: the offset saturates at that limit (292 years),
    // with B's clock ahead of A's in one order and behind it in the other.
    for (a, b, sign) in [("time-earliest.pcapng", "time-latest.pcapng", 1.0), ("time-latest.pcapng", "time-earliest.pcapng", -1.0)] {
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["explain", "--json", &path(a), &path(b)]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{a} {b}: {}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let points = &v["points"];
        let pairs = points["pairs"].as_array().unwrap();
        assert_eq!(pairs.len(), 1, "{a} {b}: {points}");
        assert_eq!(
            (pairs[0]["paired_by"].as_str(), pairs[0]["control"]["client_translated"].as_bool()),
            (Some("sequence_numbers"), Some(true))
        );
        assert_eq!(pairs[0]["negotiations"][0]["data"]["crossing"], "crossed");
        assert_eq!(points["clock_offset"].as_f64(), Some(sign * i64::MAX as f64 / 1e9), "{a} {b}");
    }
}

#[test]
fn a_run_of_alike_refused_negotiations_is_folded_in_the_text_and_whole_in_json() {
    // Eight PORTs to 10.0.0.5, each refused with 500 (frames 9 to 23, ports 51000 to 51007),
    // then a PASV whose LIST works. Before: eight alike lines in the text report.
    let (code, r) = analyze("port-refused-repeatedly.pcap");
    let n = negotiations(&r);
    assert_eq!(n.len(), 9, "every negotiation stays in the JSON report");
    let ports: Vec<&Value> = n.iter().take(8).map(|n| &n["advertised"]).collect();
    assert_eq!(ports.first().copied(), Some(&Value::from("10.0.0.5:51000")));
    assert_eq!(ports.last().copied(), Some(&Value::from("10.0.0.5:51007")));
    assert!(n.iter().take(8).all(|n| n["data"]["outcome"] == "rejected" && n["reply_code"] == 500), "{n:#?}");
    // The client fell back to passive mode, whose LIST worked: the refused PORTs are a warning
    // (their fix stays), not an error of a session that worked.
    let kinds: Vec<(&str, &str)> = one_session(&r)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("private_address_leak", "warning"), ("data_command_rejected", "warning")]);
    let leak = &one_session(&r)["findings"][0];
    assert!(leak["explanation"].as_str().unwrap().contains("fell back to passive mode (frame 25), which carried the transfer"), "{leak:#}");
    assert!(leak["fix"].as_array().unwrap().iter().any(|f| f["action"] == "use_passive_mode"), "{leak:#}");
    assert_eq!(code, 0, "warnings only");
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", &path("port-refused-repeatedly.pcap")]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("PORT 500") || l.contains("PASV 227") || l.contains("more alike")).collect();
    assert_eq!(
        lines,
        [
            "      #9  PORT 500 10.0.0.5:51000 (a private (RFC 1918) address)  -> rejected",
            "     #11  PORT 500 10.0.0.5:51001 (a private (RFC 1918) address)  -> rejected",
            "          ... 5 more alike, frames #13 to #21, ports 51002 to 51006 (each in --json)",
            "     #23  PORT 500 10.0.0.5:51007 (a private (RFC 1918) address)  -> rejected",
            "     #25  PASV 227 203.0.113.10:50010  -> established (SYN #28 192.0.2.10:41020 -> 203.0.113.10:50010, 45 bytes)  LIST 226: ok",
        ],
        "{text}"
    );
}
