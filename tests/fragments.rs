//! IP fragmentation (issue 7): control lines and data carried in IPv4 fragments or IPv6
//! Fragment headers are read as if they had come whole, in the frame of their last fragment
//! (Wireshark's "reassembled in"); a datagram missing a fragment yields no line and is counted.
//! The captures are crafted by `examples/craft.rs` (fixtures/crafted/README.md); the frame
//! numbers below are tshark's.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn path(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/crafted").join(name).display().to_string()
}

/// Exit status and the report, as JSON (`--json`) or text.
fn run(name: &str, json: bool) -> (i32, String) {
    let args: &[&str] = if json { &["analyze", "--json"] } else { &["analyze", "--no-color"] };
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).arg(path(name)).output().expect("ftpscope runs");
    (out.status.code().expect("exit status"), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn analyze(name: &str) -> Value {
    let (code, out) = run(name, true);
    assert_eq!(code, 0, "{name}: no error finding expected");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: not JSON ({e})"))
}

/// The negotiation made with `command`, whichever session holds it.
fn negotiation<'a>(r: &'a Value, command: &str) -> &'a Value {
    let all = r["sessions"].as_array().unwrap().iter().flat_map(|s| s["negotiations"].as_array().unwrap());
    let mut found = all.filter(|n| n["command"] == command);
    let n = found.next().unwrap_or_else(|| panic!("no {command} negotiation in {:#}", r["sessions"]));
    assert!(found.next().is_none(), "one {command} negotiation");
    n
}

/// The negotiation's command and reply frames, what it advertised, and its data connection:
/// established, tied to the advertised endpoint, from `client` to `server`.
fn check(n: &Value, frames: (u64, u64), advertised: &str, client: &str, server: &str) {
    let ctx = format!("{:#}", n);
    assert_eq!((n["frame"].as_u64(), n["reply_frame"].as_u64()), (Some(frames.0), Some(frames.1)), "{ctx}");
    assert_eq!(n["advertised"], advertised, "{ctx}");
    assert!(n["malformed"].is_null(), "{ctx}");
    let data = &n["data"];
    assert_eq!(data["outcome"], "established", "{ctx}");
    assert_eq!(data["matched_by"], "advertised", "{ctx}");
    assert_eq!((data["connection"]["client"].as_str(), data["connection"]["server"].as_str()), (Some(client), Some(server)), "{ctx}");
    assert_eq!(data["reply_code"], 226, "{ctx}");
}

#[test]
fn a_227_and_a_port_in_ipv4_fragments_and_a_listing_in_fragments() {
    let r = analyze("fragmented-ipv4.pcap");
    assert_eq!(r["sessions"].as_array().unwrap().len(), 2, "two sessions");
    // The 227 in frames 10-12 (last first): reassembled in 12.
    let pasv = negotiation(&r, "PASV");
    check(pasv, (9, 12), "203.0.113.10:50010", "192.0.2.10:41020", "203.0.113.10:50010");
    assert_eq!(pasv["data"]["connection"]["syn_frame"], 14);
    // The listing (91 bytes) came in two fragments (17, 18): all of it is counted.
    assert_eq!(pasv["data"]["connection"]["bytes_to_client"], 91);
    // The PORT in frames 36-37, the first fragment too short for the TCP header.
    let port = negotiation(&r, "PORT");
    check(port, (37, 38), "192.0.2.10:50011", "203.0.113.10:20", "192.0.2.10:50011");
    assert_eq!(port["argument"], "192,0,2,10,195,91");
    for s in r["sessions"].as_array().unwrap() {
        assert_eq!(s["control"]["gaps"], 0, "nothing lost on the control channel: {:#}", s["control"]);
    }
    let c = &r["capture"];
    assert_eq!((c["reassembled_datagrams"].as_u64(), c["incomplete_datagrams"].as_u64()), (Some(3), Some(0)), "{c:#}");
    assert_eq!((c["undecodable_frames"].as_u64(), c["invalid_datagrams"].as_u64()), (Some(0), Some(0)), "{c:#}");
}

#[test]
fn a_229_and_an_eprt_in_ipv6_fragment_headers() {
    let r = analyze("fragmented-ipv6.pcap");
    // The 229 in frames 10-11 (last first); the EPRT in 22-24 (first, last, middle).
    let epsv = negotiation(&r, "EPSV");
    check(epsv, (9, 11), "[2001:db8:2::10]:50012", "[2001:db8:1::10]:41022", "[2001:db8:2::10]:50012");
    let eprt = negotiation(&r, "EPRT");
    check(eprt, (24, 25), "[2001:db8:1::10]:50013", "[2001:db8:2::10]:20", "[2001:db8:1::10]:50013");
    let c = &r["capture"];
    assert_eq!((c["reassembled_datagrams"].as_u64(), c["incomplete_datagrams"].as_u64()), (Some(2), Some(0)), "{c:#}");
    assert_eq!(c["undecodable_frames"], 0);
}

#[test]
fn a_datagram_missing_a_fragment_gives_no_line_and_is_counted() {
    let r = analyze("fragment-missing.pcap");
    // The 227 lost its middle fragment: no reply, no address, nothing tied to a guess.
    let pasv = negotiation(&r, "PASV");
    assert!(pasv["reply_code"].is_null() && pasv["advertised"].is_null(), "{pasv:#}");
    assert!(pasv["data"]["connection"].is_null(), "{pasv:#}");
    // One timed out (31 s later), one was still waiting at the end of the capture.
    let c = &r["capture"];
    assert_eq!((c["incomplete_datagrams"].as_u64(), c["reassembled_datagrams"].as_u64()), (Some(2), Some(0)), "{c:#}");
    let (_, text) = run("fragment-missing.pcap", false);
    assert!(text.contains("2 fragmented datagram(s) incomplete"), "{text}");
}

#[test]
fn fragments_captured_twice_are_reassembled_once() {
    // fragmented-ipv4.pcap with every frame twice (a SPAN port): frame n is now 2n - 1.
    let r = analyze("fragmented-ipv4-twice.pcap");
    let twice = |n: u64| 2 * n - 1;
    check(negotiation(&r, "PASV"), (twice(9), twice(12)), "203.0.113.10:50010", "192.0.2.10:41020", "203.0.113.10:50010");
    check(negotiation(&r, "PORT"), (twice(37), twice(38)), "192.0.2.10:50011", "203.0.113.10:20", "192.0.2.10:50011");
    assert_eq!(negotiation(&r, "PASV")["data"]["connection"]["bytes_to_client"], 91);
    // The copies of the 7 fragments are set aside with the other copies: no datagram is left
    // waiting for a fragment it already had.
    let c = &r["capture"];
    assert_eq!((c["reassembled_datagrams"].as_u64(), c["incomplete_datagrams"].as_u64()), (Some(3), Some(0)), "{c:#}");
    assert_eq!(c["overlapping_fragments"], 0, "{c:#}");
}
