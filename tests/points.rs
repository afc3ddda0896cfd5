//! `ftpscope explain A B`: two capture points of the same traffic, on the NAT lab's captures
//! (fixtures/README.md): the client's interface (192.168.1.10) and the client router's outside
//! interface (masquerade to 203.0.113.2), the server's LAN behind the server router (DNAT to
//! 10.0.0.20), and a capture on both sides of that router. Each report is checked against what
//! `ftpscope analyze` says of each capture alone.

mod common;

use common::{analyze, root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    root().join("fixtures").join(name)
}

/// The pairing of the JSON explanation (`points`) and the exit status.
fn explain(a: &Path, b: &Path) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["explain", "--json"]).arg(a).arg(b).output().unwrap();
    let code = out.status.code().unwrap();
    assert!(matches!(code, 0 | 1), "{} {}: {}", a.display(), b.display(), String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["captures"].as_array().map(Vec::len), Some(2), "each capture explained too");
    (v["points"].clone(), code)
}

fn array(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

/// A session of an `analyze --json` report by its id.
fn session(report: &Value, id: &Value) -> Value {
    array(&report["sessions"]).iter().find(|s| &s["id"] == id).cloned().unwrap_or_else(|| panic!("no session {id}"))
}

fn ip(endpoint: &Value) -> String {
    let e = endpoint.as_str().unwrap();
    e[..e.rfind(':').unwrap()].to_string()
}

fn port(endpoint: &Value) -> &str {
    let e = endpoint.as_str().unwrap();
    &e[e.rfind(':').unwrap() + 1..]
}

/// Every negotiation of every pair.
fn negotiations(v: &Value) -> Vec<&Value> {
    array(&v["pairs"]).iter().flat_map(|p| array(&p["negotiations"])).collect()
}

/// Scenarios captured both at the client and at its router's outside interface.
fn client_and_wan() -> Vec<(PathBuf, PathBuf)> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures")).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    dirs.into_iter()
        .filter_map(|d| {
            let client = ["client.pcap", "client.pcapng"].iter().map(|f| d.join(f)).find(|p| p.exists())?;
            let wan = d.join("router-wan.pcap");
            wan.exists().then_some((client, wan))
        })
        .collect()
}

#[test]
fn every_session_pairs_with_its_partner_across_the_client_nat() {
    let scenarios = client_and_wan();
    assert!(scenarios.len() >= 15, "the lab's client/router-wan captures: {}", scenarios.len());
    for (client, wan) in scenarios {
        let name = client.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
        let (v, _) = explain(&client, &wan);
        let (inside, outside) = (analyze(&client), analyze(&wan));
        let sessions = array(&inside["sessions"]).len();
        assert!(sessions > 0, "{name}");
        assert_eq!(array(&v["pairs"]).len(), sessions, "{name}: every session pairs");
        assert_eq!(array(&outside["sessions"]).len(), sessions, "{name}");
        assert!(array(&v["only_a"]).is_empty() && array(&v["only_b"]).is_empty(), "{name}: {v}");
        // One clock in the lab: the offset is the transit through the router.
        assert!(v["clock_offset"].as_f64().unwrap().abs() < 0.01, "{name}: {}", v["clock_offset"]);
        for p in array(&v["pairs"]) {
            assert_eq!(p["paired_by"], "sequence_numbers", "{name}");
            let (a, b) = (session(&inside, &p["a"]), session(&outside, &p["b"]));
            // The right partner: masquerade kept the client's port, the server is the same
            // and so is the dialogue.
            assert_eq!(port(&a["client"]), port(&b["client"]), "{name}: {p}");
            assert_eq!(a["server"], b["server"], "{name}");
            assert_eq!(array(&a["negotiations"]).len(), array(&b["negotiations"]).len(), "{name}");
            let c = &p["control"];
            assert_eq!((&c["a_client"], &c["b_client"]), (&a["client"], &b["client"]), "{name}");
            assert_eq!(c["server_translated"], false, "{name}");
            if ip(&a["client"]) == "192.168.1.10" {
                assert_eq!(ip(&c["b_client"]), "203.0.113.2", "{name}: masquerade");
                assert_eq!(c["client_translated"], true, "{name}");
            } else {
                // IPv6 is routed, not translated.
                assert_eq!(c["client_translated"], false, "{name}: {c}");
            }
        }
    }
}

#[test]
fn alg_active_shows_the_port_and_eprt_rewritten_by_the_helper() {
    let (v, code) = explain(&fixture("alg-active/client.pcap"), &fixture("alg-active/router-wan.pcap"));
    assert_eq!(code, 0);
    let ns = negotiations(&v);
    assert_eq!(ns.len(), 3);
    for n in ns {
        assert_eq!(n["rewritten"], true, "{n}");
        assert_eq!(ip(&n["a_advertised"]), "192.168.1.10");
        assert_eq!(ip(&n["b_advertised"]), "203.0.113.2");
        assert_eq!(port(&n["a_advertised"]), port(&n["b_advertised"]), "the helper keeps the port");
        let d = &n["data"];
        assert_eq!(d["crossing"], "crossed", "{d}");
        assert_eq!(d["same_isn"], true);
        assert_eq!(d["a"]["server"], n["a_advertised"], "the server connected to what each side saw advertised");
        assert_eq!(d["b"]["server"], n["b_advertised"]);
    }
    assert_eq!(v["totals"]["rewritten"], 3);
    assert_eq!(v["totals"]["crossed"], 3);
}

#[test]
fn alg_passive_shows_the_227_rewritten_on_the_server_router() {
    for outside in ["alg-passive/router-wan.pcap", "alg-passive/client.pcap"] {
        let (v, code) = explain(&fixture(outside), &fixture("alg-passive/server.pcap"));
        assert_eq!(code, 0, "{outside}");
        assert_eq!(array(&v["pairs"]).len(), 2, "{outside}");
        for p in array(&v["pairs"]) {
            let c = &p["control"];
            assert_eq!((ip(&c["a_server"]).as_str(), ip(&c["b_server"]).as_str()), ("198.51.100.2", "10.0.0.20"), "DNAT");
            assert_eq!(c["server_translated"], true);
            assert_eq!(c["client_translated"], outside.ends_with("client.pcap"), "{outside}: masquerade only between client and wan");
        }
        let ns = negotiations(&v);
        assert_eq!(ns.len(), 3, "{outside}");
        for n in ns {
            assert_eq!(n["command"], "PASV");
            assert_eq!(n["rewritten"], true, "{outside}: {n}");
            assert_eq!(ip(&n["a_advertised"]), "198.51.100.2");
            assert_eq!(ip(&n["b_advertised"]), "10.0.0.20");
            assert_eq!(n["data"]["crossing"], "crossed");
        }
    }
}

#[test]
fn a_capture_of_both_sides_pairs_its_matching_copy_and_names_the_other() {
    // router-srv-any.pcap holds each control connection twice: to 198.51.100.2 (wan) and to
    // 10.0.0.20 (LAN). The server LAN capture is the LAN copy: no translation, no rewrite.
    let any = fixture("alg-passive/router-srv-any.pcap");
    let (v, _) = explain(&fixture("alg-passive/server.pcap"), &any);
    let report = analyze(&any);
    assert_eq!(array(&v["pairs"]).len(), 2);
    for p in array(&v["pairs"]) {
        assert_eq!(p["control"]["client_translated"], false, "{p}");
        assert_eq!(p["control"]["server_translated"], false, "{p}");
    }
    assert!(negotiations(&v).iter().all(|n| n["rewritten"] == false));
    let others = array(&v["only_b"]);
    assert_eq!(others.len(), 2);
    for o in others {
        assert_eq!(ip(&o["server"]), "198.51.100.2", "the wan copies are left");
        let copy = session(&report, &o["copy_of"]);
        assert_eq!(ip(&copy["server"]), "10.0.0.20");
        assert_eq!(port(&copy["client"]), port(&o["client"]));
        assert!(array(&v["pairs"]).iter().any(|p| p["b"] == o["copy_of"]), "copy_of names a paired session");
    }
}

#[test]
fn a_data_connection_dropped_between_the_points_is_reported_vanished() {
    // The server router does not forward the passive range: the client's SYNs reach the client
    // router's outside interface and never the server LAN.
    let (wan, server) = (fixture("pasv-range-dropped/router-wan.pcap"), fixture("pasv-range-dropped/server.pcap"));
    for (a, b, seen, missing) in [(&wan, &server, "a", "b"), (&server, &wan, "b", "a")] {
        let (v, code) = explain(a, b);
        assert_eq!(code, 1, "a vanished data connection is a failure");
        let ns = negotiations(&v);
        assert_eq!(ns.len(), 1);
        let d = &ns[0]["data"];
        assert_eq!(d["crossing"], "vanished", "{d}");
        assert_eq!((d["seen_at"].as_str(), d["missing_at"].as_str()), (Some(seen), Some(missing)));
        assert_eq!(d["outcome_where_missing"], "not_attempted");
        assert_eq!(d["connection"]["outcome"], "unanswered");
        assert_eq!(d["connection"]["server"], ns[0]["a_advertised"]);
        assert_eq!(v["totals"]["vanished"], 1);
    }
    // IPv6, active: the server's SYNs reach the client router and its stateful firewall drops
    // them before the client.
    let (v, code) = explain(&fixture("ipv6-eprt-firewalled/client.pcap"), &fixture("ipv6-eprt-firewalled/router-wan.pcap"));
    assert_eq!(code, 1);
    let d = &negotiations(&v)[0]["data"];
    assert_eq!((d["crossing"].as_str(), d["seen_at"].as_str()), (Some("vanished"), Some("b")), "{d}");
}

#[test]
fn unrelated_captures_pair_nothing() {
    for (a, b) in [
        // Same client, server, user and dialogue shape, a few seconds apart.
        ("pasv-range-dropped/client.pcap", "pasv-range-rejected/client.pcap"),
        ("many-sessions/client.pcapng", "pasv-ok-forwarded/router-wan.pcap"),
    ] {
        let (v, _) = explain(&fixture(a), &fixture(b));
        assert!(array(&v["pairs"]).is_empty(), "{a} {b}: {}", v["pairs"]);
        assert_eq!(array(&v["only_a"]).len(), v["a"]["sessions"].as_u64().unwrap() as usize);
        assert_eq!(array(&v["only_b"]).len(), v["b"]["sessions"].as_u64().unwrap() as usize);
        assert!(v["clock_offset"].is_null());
    }
}

#[test]
fn the_clock_offset_between_the_capture_hosts_is_measured() {
    let dir = tempdir("offset");
    let wan = dir.join("router-wan-late.pcap");
    rewrite(&fixture("pasv-ok-forwarded/router-wan.pcap"), &wan, 37, 0);
    let (v, _) = explain(&fixture("pasv-ok-forwarded/client.pcap"), &wan);
    assert_eq!(array(&v["pairs"]).len(), 3);
    let offset = v["clock_offset"].as_f64().unwrap();
    assert!((offset - 37.0).abs() < 0.01, "{offset}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn without_the_sequence_numbers_sessions_pair_by_their_content() {
    // A device that also shifts sequence numbers (pf's modulate state, some firewalls).
    let dir = tempdir("seq");
    let wan = dir.join("router-wan-shifted.pcap");
    rewrite(&fixture("pasv-ok-forwarded/router-wan.pcap"), &wan, 0, 0x1234_5678);
    let client = fixture("pasv-ok-forwarded/client.pcap");
    let (v, _) = explain(&client, &wan);
    let (inside, outside) = (analyze(&client), analyze(&wan));
    assert_eq!(array(&v["pairs"]).len(), 3, "{v}");
    for p in array(&v["pairs"]) {
        assert_eq!(p["paired_by"], "content");
        assert_eq!(port(&session(&inside, &p["a"])["client"]), port(&session(&outside, &p["b"])["client"]), "right partner");
    }
    for n in negotiations(&v) {
        assert_eq!((n["data"]["crossing"].as_str(), n["data"]["same_isn"].as_bool()), (Some("crossed"), Some(false)));
    }
    assert!(v["clock_offset"].is_null(), "no pair by sequence numbers to measure it");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_text_report_names_both_sides_of_the_translation_and_one_file_is_not_paired() {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope"))
        .arg("explain")
        .arg(fixture("alg-active/client.pcap"))
        .arg(fixture("alg-active/router-wan.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for fact in ["192.168.1.10:38138", "203.0.113.2:38138", "192.168.1.10:43193", "203.0.113.2:43193", "#15", "#14"] {
        assert!(text.contains(fact), "{fact} missing:\n{text}");
    }
    assert!(!text.to_lowercase().contains("pass "), "no password line");
    assert!(text.contains("Two capture points"));
    let one = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("explain").arg(fixture("alg-active/client.pcap")).output().unwrap();
    assert_eq!(one.status.code(), Some(0));
    assert!(!String::from_utf8(one.stdout).unwrap().contains("Two capture points"));
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ftpscope-points-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Copies a little-endian microsecond pcap of Ethernet frames, adding `secs` to every
/// timestamp and `seq` to every TCP sequence and acknowledgment number (IPv4 and IPv6 without
/// extension headers). Checksums are left as they were: ftpscope does not check them.
fn rewrite(from: &Path, to: &Path, secs: u32, seq: u32) {
    let mut bytes = std::fs::read(from).unwrap();
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "{}: little-endian microsecond pcap", from.display());
    assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1, "Ethernet");
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let ts = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) + secs;
        bytes[at..at + 4].copy_from_slice(&ts.to_le_bytes());
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &mut bytes[at + 16..at + 16 + len];
        let tcp = match (u16::from_be_bytes([frame[12], frame[13]]), frame.get(14 + 9), frame.get(14 + 6)) {
            (0x0800, Some(6), _) => Some(14 + (frame[14] & 0x0f) as usize * 4),
            (0x86dd, _, Some(6)) => Some(14 + 40),
            _ => None,
        };
        if let Some(t) = tcp.filter(|t| t + 12 <= frame.len()) {
            for field in [t + 4, t + 8] {
                let n = u32::from_be_bytes(frame[field..field + 4].try_into().unwrap()).wrapping_add(seq);
                frame[field..field + 4].copy_from_slice(&n.to_be_bytes());
            }
        }
        at += 16 + len;
    }
    std::fs::write(to, bytes).unwrap();
}

#[test]
fn the_point_inside_the_servers_nat_takes_the_public_address_the_pairing_shows() {
    // Alone, the server LAN's capture cannot know the address clients reach the server at
    // (`<public IP>`); paired with the client's, the control connection shows 198.51.100.2
    // translated to 10.0.0.20, and that point's fixes are written with it, as with --public-ip.
    let (a, b) = (fixture("pasv-private-leak-fail/client.pcap"), fixture("pasv-private-leak-fail/server.pcap"));
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["explain", "--json"]).arg(&a).arg(&b).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let inside = &v["captures"][1]["servers"][0];
    let settings = array(&inside["fix"]).iter().find(|f| f["action"] == "server_passive_settings").expect("the server's settings");
    assert_eq!(settings["setup"]["public_address"], serde_json::json!({"value": "198.51.100.2", "from": "intended"}));
    assert!(array(&settings["apply"]).iter().any(|l| l == "pasv_address=198.51.100.2"), "{settings}");
    let text = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("explain").arg(&a).arg(&b).output().unwrap();
    assert!(!String::from_utf8_lossy(&text.stdout).contains("<public IP>"));
    // Alone, it still says what it cannot see.
    let alone = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("explain").arg(&b).output().unwrap();
    assert!(String::from_utf8_lossy(&alone.stdout).contains("<public IP>"));
}
