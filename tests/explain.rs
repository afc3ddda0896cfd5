//! `ftpscope explain` on the lab captures: the facts of each explanation (frames, addresses,
//! answers, causes, fixes) checked against fixtures/expected.json (read from the captures with
//! tshark) and the lab's topology (fixtures/README.md), the diagram's lanes and marks, the
//! healthy one-liners, a capture without FTP, and the JSON document's keys.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(rel: &str) -> String {
    common::root().join("fixtures").join(rel).display().to_string()
}

fn explain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("explain").args(args).env("NO_COLOR", "1").output().expect("ftpscope runs")
}

/// The JSON document of one capture: its only `captures[]` entry, and the exit status.
fn explained(rel: &str) -> (Value, Option<i32>) {
    let out = explain(&["--json", &fixture(rel)]);
    let doc: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{rel}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(doc["schema"], "ftpscope-explain/1");
    let captures = doc["captures"].as_array().unwrap();
    assert_eq!(captures.len(), 1);
    (captures[0].clone(), out.status.code())
}

/// fixtures/expected.json's entry for a capture.
fn expected(rel: &str) -> Value {
    let all = common::expected(&common::root().join("fixtures/expected.json"));
    all.into_iter().find(|c| c["file"] == rel).unwrap_or_else(|| panic!("{rel} in expected.json"))
}

/// The steps of kind `fact` in a problem's explanation.
fn facts<'a>(problem: &'a Value, fact: &str) -> Vec<&'a Value> {
    problem["explanation"]["steps"].as_array().unwrap().iter().filter(|s| s["fact"] == fact).collect()
}

fn causes(problem: &Value) -> Vec<&str> {
    facts(problem, "why").iter().map(|w| w["cause"].as_str().unwrap()).collect()
}

fn diagram_text(problem: &Value) -> &str {
    problem["diagram"]["text"].as_str().unwrap()
}

/// Diagram lines fit 80 columns and name each frame the diagram's steps carry.
fn check_diagram(problem: &Value) {
    let text = diagram_text(problem);
    assert!(text.lines().all(|l| l.chars().count() <= 80), "wider than 80 columns:\n{text}");
    for step in problem["diagram"]["steps"].as_array().unwrap() {
        let frame = format!("#{} ", step["frame"]);
        assert!(text.lines().any(|l| l.starts_with(&frame)), "{frame} missing:\n{text}");
    }
}

/// The role of the lane a diagram step ends at.
fn lane_role<'a>(problem: &'a Value, step: &Value) -> &'a str {
    problem["diagram"]["lanes"][step["to"].as_u64().unwrap() as usize]["role"].as_str().unwrap()
}

#[test]
fn a_private_227_address_is_told_from_pasv_to_icmp_with_its_cause_and_the_vsftpd_fix() {
    let rel = "pasv-private-leak-fail/client.pcap";
    let (c, status) = explained(rel);
    assert_eq!(status, Some(1), "error findings exit 1");
    let want = &expected(rel)["sessions"][0]["negotiations"][0];
    assert_eq!(c["verdict"]["problem_sessions"], 1);
    assert_eq!(c["verdict"]["causes"][0]["cause"], "server_nat_private_address");
    let p = &c["problems"][0];
    assert_eq!(p["session"]["software"], "vsftpd");
    let asked = facts(p, "asked");
    assert_eq!((&asked[0]["frame"], &asked[0]["command"]), (&want["frame"], &want["command"]));
    let answered = facts(p, "answered");
    assert_eq!(answered[0]["address"], want["advertised"], "the advertised 10.0.0.20:40005");
    assert_eq!(answered[0]["class"], "private");
    assert_eq!(answered[0]["frame"], p["session"]["negotiations"][0]["reply_frame"]);
    let syn = facts(p, "data_syn");
    assert_eq!(syn[0]["frame"], want["connection"]["syn_frame"]);
    assert_eq!(syn[0]["to"], want["advertised"]);
    let answer = &facts(p, "data_answer")[0]["answer"];
    assert_eq!(answer["how"], "unreachable");
    assert_eq!(answer["frame"], want["connection"]["icmp_frame"]);
    // fixtures/README.md: the "internet" router 203.0.113.1 has no route to private ranges.
    assert!(answer["icmp"].as_str().unwrap().ends_with("from 203.0.113.1"), "{answer}");
    assert!(causes(p).contains(&"server_nat_private_address"), "{:?}", causes(p));
    let fixes = p["fix"].as_array().unwrap();
    assert!(fixes.iter().enumerate().all(|(i, f)| !fixes[..i].contains(f)), "each fix once: {fixes:?}");
    // The session names the server's settings; their range and lines are the server's block's.
    let named = fixes.iter().find(|f| f["action"] == "server_passive_settings").expect("the server's settings");
    assert_eq!((&named["setup"]["passive_ports"]["from"], &named["apply"]), (&serde_json::json!("server_block"), &serde_json::json!([])));
    // The block: the vsftpd settings with the address the client dialled and a range that
    // covers the ports the server advertised (40004, 40005) with room (10 ports), never one
    // session's two.
    let vsftpd = &c["servers"][0]["fix"][0];
    assert_eq!((vsftpd["action"].as_str(), vsftpd["setup"]["software"].as_str()), (Some("server_passive_settings"), Some("vsftpd")));
    assert_eq!(vsftpd["apply"], serde_json::json!(["pasv_address=198.51.100.2", "pasv_min_port=40004", "pasv_max_port=40013"]));
    // The words say the same facts.
    let words = p["explanation"]["text"].as_str().unwrap();
    for fact in ["frame 15", "10.0.0.20:40005", "frame 17", "203.0.113.1", "behind NAT"] {
        assert!(words.contains(fact), "{fact} in: {words}");
    }

    // The diagram: client, its NAT, the router that answered, the server's NAT and the server;
    // the SYN ends at the router's lane, marked.
    check_diagram(p);
    let roles: Vec<&str> = p["diagram"]["lanes"].as_array().unwrap().iter().map(|l| l["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["client", "client_nat", "router", "server_nat", "server"]);
    let lost = p["diagram"]["steps"].as_array().unwrap().iter().find(|s| s["ending"] == "unreachable").expect("a step that died");
    assert_eq!(lost["frame"], want["connection"]["syn_frame"]);
    assert_eq!(lane_role(p, lost), "router");
    let syn_line = diagram_text(p).lines().find(|l| l.starts_with(&format!("#{} ", lost["frame"]))).unwrap();
    assert!(syn_line.contains('X'), "{syn_line}");
}

#[test]
fn unanswered_and_refused_passive_ports_are_told_with_their_evidence() {
    let rel = "pasv-range-dropped/client.pcap";
    let (c, _) = explained(rel);
    let want = &expected(rel)["sessions"][0]["negotiations"][0]["connection"];
    let p = &c["problems"][0];
    let answer = &facts(p, "data_answer")[0]["answer"];
    assert_eq!(answer["how"], "no_answer");
    assert_eq!(answer["syns"], want["syn_count"]);
    assert!(answer["seconds"].as_f64().unwrap() > 1.0, "retransmissions take seconds: {answer}");
    assert_eq!(causes(p), ["passive_port_dropped"]);
    let lost = p["diagram"]["steps"].as_array().unwrap().iter().find(|s| s["ending"] == "lost").expect("the lost SYN");
    assert_eq!(lost["frame"], want["syn_frame"]);
    assert_eq!(lane_role(p, lost), "server");
    check_diagram(p);

    let rel = "pasv-range-rejected/client.pcap";
    let (c, _) = explained(rel);
    let p = &c["problems"][0];
    let record = &p["session"]["negotiations"][0]["data"]["connection"];
    let answer = &facts(p, "data_answer")[0]["answer"];
    assert_eq!((&answer["how"], &answer["frame"]), (&"refused".into(), &record["rst_frame"]));
    assert_eq!(causes(p), ["passive_port_refused"]);
    assert!(p["diagram"]["steps"].as_array().unwrap().iter().any(|s| s["ending"] == "refused" && s["frame"] == record["syn_frame"]));
    assert!(p["diagram"]["steps"].as_array().unwrap().iter().any(|s| s["label"] == "RST" && s["frame"] == record["rst_frame"]));
    check_diagram(p);
}

#[test]
fn active_mode_from_behind_nat_is_the_clients_nat_refused_by_the_server_or_unreachable() {
    let rel = "active-refused/client.pcap";
    let (c, status) = explained(rel);
    assert_eq!(status, Some(1));
    assert_eq!(c["verdict"]["problem_sessions"], expected(rel)["sessions"].as_array().unwrap().len());
    for p in c["problems"].as_array().unwrap() {
        let asked = &facts(p, "asked")[0];
        assert_eq!((&asked["mode"], &asked["class"]), (&"active".into(), &"private".into()));
        assert!(asked["address"].as_str().unwrap().starts_with("192.168.1.10:"));
        assert_eq!(facts(p, "answered")[0]["code"], 500);
        assert_eq!(facts(p, "no_data_connection")[0]["outcome"], "rejected");
        let causes = causes(p);
        // The server's refusal is the private address's consequence: one cause, told once.
        assert_eq!(causes, ["client_nat_active_mode"]);
        assert!(p["fix"].as_array().unwrap().iter().any(|f| f["action"] == "use_passive_mode"));
        check_diagram(p);
    }

    // In text, the second session with the same cause and fix is told without repeating them.
    let text = String::from_utf8(explain(&[&fixture(rel)]).stdout).unwrap();
    assert_eq!(text.matches("What happened:").count(), c["problems"].as_array().unwrap().len(), "{text}");
    assert_eq!(text.matches("\nWhy:\n").count(), 1, "{text}");

    // Seen from the server: the PORT names 192.168.1.10 while the client comes from its
    // router's 203.0.113.2, and the ICMP comes from the "internet" router 192.0.2.1.
    let (c, _) = explained("active-unreachable/server.pcap");
    let p = &c["problems"][0];
    let lanes: Vec<(&str, &str)> = p["diagram"]["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["role"].as_str().unwrap(), l["address"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(lanes, [("client", "192.168.1.10"), ("client_nat", "203.0.113.2"), ("router", "192.0.2.1"), ("server", "192.0.2.30")]);
    let answer = &facts(p, "data_answer")[0]["answer"];
    assert!(answer["icmp"].as_str().unwrap().ends_with("from 192.0.2.1"), "{answer}");
    assert!(causes(p).contains(&"client_nat_active_mode"), "{:?}", causes(p));
    // The server connects before it replies: the story keeps the wire's order.
    let frames: Vec<u64> = p["explanation"]["steps"].as_array().unwrap().iter().filter_map(|s| s["frame"].as_u64()).collect();
    assert!(frames.windows(2).all(|w| w[0] <= w[1]), "{frames:?}");
    check_diagram(p);
}

#[test]
fn under_tls_the_story_names_the_switch_and_the_probable_data_connection() {
    let rel = "alg-blind-tls/client.pcap";
    let (c, _) = explained(rel);
    let want = &expected(rel)["sessions"][0];
    let p = &c["problems"][0];
    assert_eq!(facts(p, "encrypted")[0]["frame"], want["tls_from_frame"]);
    let syn = &facts(p, "data_syn")[0];
    assert_eq!((&syn["frame"], &syn["probable"]), (&want["probable_data_connections"][0]["syn_frame"], &true.into()));
    assert_eq!(facts(p, "data_answer")[0]["answer"]["how"], "no_answer");
    assert!(causes(p).contains(&"helper_blind_under_tls"), "{:?}", causes(p));
    assert!(p["fix"].as_array().unwrap().iter().any(|f| f["action"] == "helper_blind_under_tls"));
    let labels: Vec<&str> = p["diagram"]["steps"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert!(labels.iter().any(|l| l.starts_with("AUTH")), "{labels:?}");
    check_diagram(p);
}

#[test]
fn healthy_stories_are_one_line_each_and_exit_0() {
    // ftps-ok: under TLS the transfers are the probable data connections.
    for rel in ["pasv-ok-forwarded/client.pcap", "epsv-nat/client.pcap", "ftps-ok/client.pcap"] {
        let want = expected(rel);
        let sessions = want["sessions"].as_array().unwrap();
        let (c, status) = explained(rel);
        assert_eq!(status, Some(0), "{rel}");
        assert_eq!(c["verdict"]["problem_sessions"], 0);
        assert!(c["problems"].as_array().unwrap().is_empty());
        let healthy = c["healthy"].as_array().unwrap();
        // One entry per story: its first session, the others like it counted with their ids.
        let told: u64 = healthy.iter().map(|h| 1 + h["like"]["sessions"].as_u64().unwrap()).sum();
        assert_eq!(told, sessions.len() as u64, "{rel}");
        for h in healthy {
            let session = sessions.iter().find(|s| s["client"] == h["client"]).expect("the same client");
            let listed = |key: &str| session.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
            let transfers: Vec<Value> = listed("negotiations").into_iter().chain(listed("probable_data_connections")).collect();
            assert!(!transfers.is_empty(), "{rel}: {session}");
            assert_eq!(h["transfers"], transfers.len(), "{rel}: {h}");
            assert_eq!(h["transfers_ok"], transfers.iter().filter(|n| n["outcome"] == "established").count(), "{rel}: {h}");
            assert!(!h["text"].as_str().unwrap().contains('\n'));
        }

        let out = explain(&[&fixture(rel)]);
        let text = String::from_utf8(out.stdout).unwrap();
        // Under TLS no transfer command can be read: the verdict counts none (the healthy lines
        // count the probable data connections).
        let verdict = if rel.starts_with("ftps") { "none with a problem." } else { "none with a problem: " };
        assert!(text.lines().nth(1).unwrap().contains(verdict), "the verdict says it first:\n{text}");
        let listed = text.lines().skip_while(|l| *l != "Healthy sessions:").skip(1).filter(|l| l.starts_with("  session ")).count();
        assert_eq!(listed, healthy.len(), "one line per story:\n{text}");
        assert!(!text.contains("What happened"), "{text}");
    }
}

#[test]
fn a_capture_without_ftp_says_what_to_capture_instead() {
    // fixtures/README.md: third-host.pcap holds only the bounced data connection, a listing the
    // FTP server 192.0.2.30 sent: FTP data whose control channel (at the client) is not there.
    let (c, status) = explained("bounce/third-host.pcap");
    assert_eq!(status, Some(0), "it completed: a note");
    let advice = c["no_ftp"]["text"].as_str().expect("no_ftp advice");
    assert!(advice.contains("1 of its 1 TCP connection(s) look like FTP data") && advice.contains("capture it too"), "{advice}");
    assert_eq!(c["no_ftp"]["implicit_ftps_connections"], 0);
    assert!(!advice.contains("990"), "{advice}");
    let f = &c["findings"][0];
    assert_eq!((f["kind"].as_str(), f["details"]["evidence"].as_str()), (Some("data_without_control"), Some("listing")));
    assert_eq!(f["fix"][0]["server"], "192.0.2.30", "the listing's sender is the FTP server");

    // A handshake to port 990, built byte by byte: implicit FTPS, unreadable from the first byte.
    let path = implicit_ftps_capture();
    let out = explain(&[path.to_str().unwrap()]);
    // Words, not lines: the paragraph is wrapped.
    let text = String::from_utf8(out.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("No FTP control channel") && text.contains("port 990: implicit FTPS"), "{text}");
    assert!(text.contains("none that looks like FTP data") && !text.contains("port 21` alone"), "{text}");
    let out = explain(&["--json", path.to_str().unwrap()]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["captures"][0]["no_ftp"]["implicit_ftps_connections"], 1);
}

/// A pcap (raw IPv4) with a client's SYN to 192.0.2.30:990, its SYN-ACK and an ACK.
fn implicit_ftps_capture() -> PathBuf {
    let packet = |src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8| {
        let mut p = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
        p.extend(src);
        p.extend(dst);
        p.extend(sport.to_be_bytes());
        p.extend(dport.to_be_bytes());
        p.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p
    };
    let (c, s) = ([192, 168, 1, 10], [192, 0, 2, 30]);
    let packets = [packet(c, s, 40000, 990, 0x02), packet(s, c, 990, 40000, 0x12), packet(c, s, 40000, 990, 0x10)];
    // pcap header: microseconds, version 2.4, snaplen 65535, LINKTYPE_RAW (101).
    let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0];
    for (i, p) in packets.iter().enumerate() {
        bytes.extend((1_700_000_000u32 + i as u32).to_le_bytes());
        bytes.extend(0u32.to_le_bytes());
        bytes.extend((p.len() as u32).to_le_bytes());
        bytes.extend((p.len() as u32).to_le_bytes());
        bytes.extend(p);
    }
    // In the build's own directory for tests' files (target/tmp), not the machine's /tmp.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("implicit-ftps.pcap");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn several_captures_are_explained_one_after_the_other_in_one_document() {
    let files = [fixture("pasv-range-rejected/client.pcap"), fixture("pasv-ok-forwarded/client.pcap")];
    let out = explain(&["--json", &files[0], &files[1]]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let captures = doc["captures"].as_array().unwrap();
    assert_eq!(captures.len(), 2);
    for (c, file) in captures.iter().zip(&files) {
        assert_eq!(c["capture"]["inputs"][0]["path"], file.as_str());
        assert_eq!(c["capture"]["inputs"][0]["first_frame"], 1, "each capture numbers its own frames");
        for key in ["verdict", "problems", "problems_left_out", "healthy", "healthy_left_out", "findings"] {
            assert!(c.get(key).is_some(), "{key}");
        }
    }
    let p = &captures[0]["problems"][0];
    for key in ["session", "explanation", "fix", "diagram"] {
        assert!(p.get(key).is_some(), "{key}");
    }
    assert!(p["session"]["negotiations"].is_array() && p["session"]["findings"].is_array(), "the record as analyze writes it");
    assert!(p["explanation"]["steps"].as_array().unwrap().iter().all(|s| s["fact"].is_string() && s["text"].is_string()));
    assert!(p["diagram"]["lanes"].is_array() && p["diagram"]["steps"].is_array() && p["diagram"]["text"].is_string());

    let out = explain(&[&files[0], &files[1]]);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.find(&format!("=== {}", files[0])).expect("first capture");
    let second = text.find(&format!("=== {}", files[1])).expect("second capture");
    assert!(first < second, "{text}");
}

#[test]
fn an_unreadable_capture_exits_2_and_no_password_is_shown() {
    let out = explain(&["/nonexistent/capture.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    // ipv6-eprt-firewalled logs in as alice with a password in clear text.
    for args in [vec![fixture("ipv6-eprt-firewalled/server.pcap")], vec!["--json".to_string(), fixture("ipv6-eprt-firewalled/server.pcap")]]
    {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = explain(&args);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("alice") && text.contains("clear text"), "{text}");
        assert!(!text.contains("secret"), "the password never shows: {text}");
    }
}

/// A fix of a problem session or of a server's block, by its action.
fn fix_of<'a>(problem: &'a Value, action: &str) -> &'a Value {
    let fixes = problem["fix"].as_array().unwrap();
    fixes.iter().find(|f| f["action"] == action).unwrap_or_else(|| panic!("no {action} in {fixes:?}"))
}

/// The passive ports a capture's 227 replies advertised (facts.py's `advertised`).
fn advertised_ports(rel: &str) -> (u16, u16) {
    let ports: Vec<u16> = expected(rel)["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["negotiations"].as_array().unwrap())
        .filter_map(|n| n["advertised"].as_str()?.rsplit(':').next()?.parse().ok())
        .collect();
    (*ports.iter().min().unwrap(), *ports.iter().max().unwrap())
}

#[test]
fn each_server_software_gets_its_own_directive_with_the_captures_values() {
    // The same leak (no external address set, behind the server router reached as
    // 198.51.100.2) from four servers: each fix names that software's setting, with the address
    // the client dialled and the ports the server advertised.
    for (scenario, software) in [
        ("pasv-private-leak-fail", "vsftpd"),
        ("pasv-private-leak-pureftpd", "pure-ftpd"),
        ("pasv-private-leak-pyftpdlib", "pyftpdlib"),
        ("pasv-private-leak-proftpd", "proftpd"),
    ] {
        let rel = format!("{scenario}/client.pcap");
        let (c, status) = explained(&rel);
        assert_eq!(status, Some(1), "{rel}");
        let p = &c["problems"][0];
        assert_eq!(causes(p), ["server_nat_private_address"], "{rel}");
        // The lines are the server's block's: one range for the server, at least 10 ports.
        let block = &c["servers"][0];
        let settings = fix_of(block, "server_passive_settings");
        assert_eq!(settings["setup"]["software"], software, "{rel}");
        let (lo, hi) = advertised_ports(&rel);
        let hi = hi.max(lo + 9);
        let want: Vec<String> = match software {
            "vsftpd" => vec!["pasv_address=198.51.100.2".into(), format!("pasv_min_port={lo}"), format!("pasv_max_port={hi}")],
            "pure-ftpd" => vec![format!("-P 198.51.100.2 -p {lo}:{hi}")],
            "pyftpdlib" => vec![
                "handler.masquerade_address = '198.51.100.2'".into(),
                format!("handler.passive_ports = range({lo}, {})", u32::from(hi) + 1),
            ],
            _ => vec!["MasqueradeAddress 198.51.100.2".into(), format!("PassivePorts {lo} {hi}")],
        };
        assert_eq!(settings["apply"], serde_json::json!(want), "{rel}");
        // The router: the same ports to the address the server leaked (the lab's 10.0.0.20).
        let forward = fix_of(block, "forward_passive_range")["apply"].to_string();
        let range = format!("{lo}:{hi}");
        assert!(forward.contains(&format!("--dport {range} -j DNAT --to-destination 10.0.0.20")), "{rel}: {forward}");

        // From the server's LAN the public address is not on the wire: --public-ip gives it.
        let server = format!("{scenario}/server.pcap");
        let out = explain(&["--json", "--public-ip", "198.51.100.2", &fixture(&server)]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let settings = fix_of(&doc["captures"][0]["servers"][0], "server_passive_settings");
        assert_eq!(settings["setup"]["public_address"], serde_json::json!({"value": "198.51.100.2", "from": "intended"}), "{server}");
    }
}

#[test]
fn a_range_forwarded_in_part_and_active_mode_blocked_by_a_firewall_are_told_as_such() {
    let (c, _) = explained("pasv-range-partial/client.pcap");
    let p = &c["problems"][0];
    assert_eq!(causes(p), ["part_of_range"]);
    // The server's block forwards a range that covers every port the capture saw the server
    // use; the working ones already cross.
    let (lo, hi) = advertised_ports("pasv-range-partial/client.pcap");
    let forward = fix_of(&c["servers"][0], "forward_passive_range");
    assert_eq!(forward["setup"]["passive_ports"]["value"], serde_json::json!({"lo": lo, "hi": hi}));
    assert_eq!(forward["crossed"]["passive_ports"], serde_json::json!([40000, 40002, 40004]));

    let (c, _) = explained("active-port20-dropped/server.pcap");
    let p = &c["problems"][0];
    assert_eq!(causes(p), ["active_blocked"]);
    let allow = fix_of(p, "allow_active_data");
    assert_eq!((allow["server"].as_str(), allow["source_port"].as_u64()), (Some("192.0.2.30"), Some(20)));
}

#[test]
fn a_session_captured_one_way_is_healthy_as_far_as_its_side_shows() {
    for (rel, side, words) in [
        ("crafted/one-way-server-passive.pcap", "server_to_client", "(only the server's side captured)"),
        ("crafted/one-way-client-active.pcap", "client_to_server", "(only the client's side captured)"),
    ] {
        let (c, code) = explained(rel);
        assert_eq!(code, Some(0), "{rel}");
        assert_eq!(c["problems"].as_array().map(Vec::len), Some(0), "{rel}: nothing concluded from the missing side");
        let healthy = &c["healthy"][0];
        assert_eq!((healthy["transfers"].as_u64(), healthy["transfers_ok"].as_u64()), (Some(1), Some(1)), "{rel}");
        assert_eq!(healthy["captured_directions"], side, "{rel}");
        assert!(healthy["text"].as_str().unwrap().ends_with(words), "{rel}: {}", healthy["text"]);
    }
}

/// A classic pcap cut in two after `frames` records: the rotated pieces tcpdump -C would
/// have written, each with the file's header.
fn rotated(rel: &str, frames: usize, dir: &Path) -> (PathBuf, PathBuf) {
    let bytes = std::fs::read(common::root().join("fixtures").join(rel)).unwrap();
    let le = match bytes[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => panic!("{rel}: not a classic pcap"),
    };
    let mut at = 24;
    for _ in 0..frames {
        let len: [u8; 4] = bytes[at + 8..at + 12].try_into().unwrap();
        at += 16 + if le { u32::from_le_bytes(len) } else { u32::from_be_bytes(len) } as usize;
    }
    std::fs::create_dir_all(dir).unwrap();
    let (first, second) = (dir.join("piece0.pcap"), dir.join("piece1.pcap"));
    std::fs::write(&first, &bytes[..at]).unwrap();
    std::fs::write(&second, [&bytes[..24], &bytes[at..]].concat()).unwrap();
    (first, second)
}

#[test]
fn rotated_pieces_joined_by_commas_are_one_capture_point() {
    let dir = common::scratch("ftpscope-explain-rotated");
    let (first, second) = rotated("alg-active/client.pcap", 30, &dir);
    let pieces = format!("{},{}", first.display(), second.display());
    let whole = fixture("alg-active/client.pcap");
    // One point: the pieces explained as the whole file is, frames numbered across them.
    let (of_pieces, status) = {
        let out = explain(&["--json", &pieces]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(doc["captures"].as_array().map(Vec::len), Some(1), "one point, not two");
        (doc["captures"][0].clone(), out.status.code())
    };
    let (of_whole, whole_status) = explained("alg-active/client.pcap");
    assert_eq!(status, whole_status);
    let inputs = of_pieces["capture"]["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert_eq!((&inputs[0]["first_frame"], &inputs[1]["first_frame"]), (&Value::from(1), &Value::from(31)));
    assert_eq!(of_pieces["verdict"], of_whole["verdict"]);
    assert_eq!(of_pieces["healthy"], of_whole["healthy"]);
    assert_eq!(of_pieces["problems"], of_whole["problems"]);
    // Two points, the first in pieces: paired as when it is whole.
    let wan = fixture("alg-active/router-wan.pcap");
    let points = |a: &str| {
        let out = explain(&["--json", a, &wan]);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(doc["captures"].as_array().map(Vec::len), Some(2));
        doc["points"].clone()
    };
    let (mut paired_pieces, paired_whole) = (points(&pieces), points(&whole));
    assert_eq!(paired_pieces["a"]["path"], pieces.as_str(), "the point named as typed");
    assert_eq!(paired_pieces["a"]["frames"], paired_whole["a"]["frames"]);
    paired_pieces["a"]["path"] = paired_whole["a"]["path"].clone();
    assert_eq!(paired_pieces, paired_whole);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn three_points_are_refused_saying_what_is_accepted_and_why() {
    let a = fixture("alg-active/client.pcap");
    let out = explain(&[&a, &a, &a]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    for words in ["one capture point, or two of the same traffic (then paired), not 3", "join with commas (a0.pcap,a1.pcap)"] {
        assert!(err.contains(words), "{err}");
    }
    assert!(out.stdout.is_empty());
    let help = String::from_utf8(explain(&["--help"]).stdout).unwrap();
    assert!(help.contains("<POINT>...") && help.contains("joined by commas"), "{help}");
    // A piece that is standard input, or an empty piece, is a usage error too.
    for bad in [format!("{a},-"), format!("{a},,{a}")] {
        assert_eq!(explain(&[&bad]).status.code(), Some(2), "{bad}");
    }
}

#[test]
fn the_html_page_replaces_an_existing_file_only_with_force() {
    let dir = common::scratch("ftpscope-explain-html");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("page.html");
    std::fs::write(&page, "an operator's notes").unwrap();
    let capture = fixture("pasv-private-leak-fail/client.pcap");
    let out = explain(&["-q", "--html", page.to_str().unwrap(), &capture]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("page.html: exists; --force overwrites it"), "{err}");
    assert!(out.stdout.is_empty(), "refused before the analysis");
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "an operator's notes");
    let out = explain(&["-q", "--force", "--html", page.to_str().unwrap(), &capture]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(&page).unwrap().starts_with("<!DOCTYPE html>"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_takes_the_colour_flag_analyze_takes() {
    let capture = fixture("pasv-private-leak-fail/client.pcap");
    for command in ["analyze", "explain"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args([command, "--no-color", &capture]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{command}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stdout.contains(&0x1b), "{command}");
    }
}
