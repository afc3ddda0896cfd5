//! One root cause is one problem, and every fix carries the values the capture shows (or the
//! intended setup gives), on the NAT lab's captures. Facts are asserted, not wording.

mod common;

use serde_json::Value;
use std::process::Command;

/// `analyze --json` with extra arguments; the report and the exit status.
fn analyze(file: &str, args: &[&str]) -> (Value, i32) {
    let path = common::root().join("fixtures").join(file);
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("analyze").arg("--json").args(args).arg(&path).output().unwrap();
    let code = out.status.code().unwrap();
    assert!(code <= 1, "{file}: {}", String::from_utf8_lossy(&out.stderr));
    (serde_json::from_slice(&out.stdout).unwrap(), code)
}

fn findings(v: &Value, session: usize) -> &Vec<Value> {
    v["sessions"][session]["findings"].as_array().unwrap()
}

fn fix<'a>(f: &'a Value, action: &str) -> &'a Value {
    f["fix"].as_array().unwrap().iter().find(|x| x["action"] == action).unwrap_or_else(|| panic!("no {action} in {f}"))
}

fn apply(fix: &Value) -> Vec<&str> {
    fix["apply"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect()
}

#[test]
fn a_failed_data_connection_is_the_leaks_consequence_not_a_second_error() {
    let (v, code) = analyze("pasv-private-leak-fail/client.pcap", &[]);
    let f = findings(&v, 0);
    assert_eq!(f[0]["kind"], "private_address_leak");
    assert_eq!(f[0]["caused_by"], Value::Null);
    assert_eq!(f[1]["kind"], "data_connection_failed");
    assert_eq!(f[1]["caused_by"], 0, "the failure points at its cause");
    assert_eq!(v["capture"]["errors"], 1, "one problem, one error");
    assert_eq!(code, 1);
    // Merged: both advertised ports are named, not only the first.
    assert_eq!(f[0]["occurrences"], 2);
    assert_eq!(f[0]["also"][0]["advertised"], "10.0.0.20:40004");
    assert!(f[0]["summary"].as_str().unwrap().contains("10.0.0.20:40004"));
    assert_eq!(f[1]["also"][0]["server"], "10.0.0.20:40004");

    // A refused PORT (500 Illegal PORT) is the consequence of the private address in it.
    let (v, _) = analyze("active-refused/client.pcap", &[]);
    let f = findings(&v, 0);
    assert_eq!((f[0]["kind"].as_str(), f[1]["kind"].as_str()), (Some("private_address_leak"), Some("data_command_rejected")));
    assert_eq!(f[1]["caused_by"], 0);
    // The NAT helper's rewrite is the leak's consequence, one fact stated once.
    let (v, code) = analyze("alg-active/client.pcap", &[]);
    let f = findings(&v, 0);
    assert_eq!(f[1]["kind"], "alg_rewrite");
    assert_eq!(f[1]["caused_by"], 0);
    assert_eq!((v["capture"]["warnings"].as_u64(), v["capture"]["infos"].as_u64(), code), (Some(2), Some(0), 0));
    // Under TLS the failed probable data connection is the encrypted channel's consequence.
    let (v, _) = analyze("alg-blind-tls/client.pcap", &[]);
    let f = findings(&v, 0);
    assert_eq!((f[0]["kind"].as_str(), f[1]["caused_by"].as_u64()), (Some("control_channel_encrypted"), Some(0)));
    assert_eq!(v["capture"]["errors"], 1);
}

/// A fix of the report's first server's block.
fn block<'a>(v: &'a Value, action: &str) -> &'a Value {
    fix(&v["servers"][0], action)
}

#[test]
fn fixes_name_the_servers_own_settings_with_the_captures_values() {
    // Seen from the client: the public address is the one it dialled, the LAN address the one
    // the server leaked, the range covers the ports it advertised (40004, 40005) with room.
    let (v, _) = analyze("pasv-private-leak-fail/client.pcap", &[]);
    let leak = &findings(&v, 0)[0];
    // The session names the fix; the values only the whole capture proves are the block's.
    let named = fix(leak, "server_passive_settings");
    assert_eq!(named["setup"]["passive_ports"], serde_json::json!({"value": null, "from": "server_block"}));
    assert!(apply(named).is_empty(), "the lines are in the server's block");
    let server = block(&v, "server_passive_settings");
    assert_eq!(server["setup"]["software"], "vsftpd");
    assert_eq!(server["setup"]["public_address"], serde_json::json!({"value": "198.51.100.2", "from": "capture"}));
    assert_eq!(server["setup"]["passive_ports"]["from"], "suggested");
    assert_eq!(apply(server), ["pasv_address=198.51.100.2", "pasv_min_port=40004", "pasv_max_port=40013"]);
    let forward = apply(block(&v, "forward_passive_range"));
    assert!(forward.iter().any(|l| l.ends_with("--dport 40004:40013 -j DNAT --to-destination 10.0.0.20")), "{forward:?}");
    // The control connection crossed the router: port 21 is forwarded already.
    assert!(forward.iter().all(|l| !l.contains("--dport 21 ")), "{forward:?}");
    assert!(forward.iter().all(|l| !l.contains('<')), "every value filled in: {forward:?}");

    // The intended range wins over the ports seen, and is marked as intended.
    let (v, _) = analyze("pasv-private-leak-fail/client.pcap", &["--pasv-range", "40000-40009"]);
    let server = block(&v, "server_passive_settings");
    assert_eq!(server["setup"]["passive_ports"], serde_json::json!({"value": {"lo": 40000, "hi": 40009}, "from": "intended"}));
    assert_eq!(apply(server)[1..], ["pasv_min_port=40000", "pasv_max_port=40009"]);

    // Seen from the server's LAN the public address is not in the capture: the fix says so,
    // and --public-ip supplies it.
    let (v, _) = analyze("pasv-private-leak-fail/server.pcap", &[]);
    let server = block(&v, "server_passive_settings");
    assert_eq!(server["setup"]["public_address"], serde_json::json!({"value": null, "from": "operator"}));
    assert_eq!(apply(server)[0], "pasv_address=<public IP>");
    assert!(server["text"].as_str().unwrap().contains("--public-ip"));
    let (v, _) = analyze("pasv-private-leak-fail/server.pcap", &["--public-ip", "198.51.100.2"]);
    assert_eq!(apply(block(&v, "server_passive_settings"))[0], "pasv_address=198.51.100.2");
}

#[test]
fn an_active_connection_blocked_to_a_public_client_gets_firewall_rules_not_nat_advice() {
    let (v, _) = analyze("active-port20-dropped/server.pcap", &[]);
    let failed = findings(&v, 0).iter().find(|f| f["kind"] == "data_connection_failed").expect("the blocked connection");
    let allow = fix(failed, "allow_active_data");
    assert_eq!((allow["server"].as_str(), allow["source_port"].as_u64()), (Some("192.0.2.30"), Some(20)));
    // Every client connects back in active mode: the rules name the server, never the one client seen.
    assert!(apply(allow).iter().any(|l| l.ends_with("-I FORWARD -p tcp -s 192.0.2.30 --sport 20 -j ACCEPT")), "{allow}");
    assert!(apply(allow).iter().all(|l| !l.contains("203.0.113.2")), "{allow}");
    assert!(failed["fix"].as_array().unwrap().iter().all(|x| x["action"] != "client_router_helper"), "the client is not behind NAT");
    // The public client's own view (no SYN from the server reached it, vsftpd's 425) blames the
    // same firewall and gives the same rules, without the source port it cannot see.
    let (v, code) = analyze("active-port20-dropped/public-client.pcap", &[]);
    let rejected = findings(&v, 0).iter().find(|f| f["kind"] == "data_command_rejected").expect("vsftpd's 425");
    let allow = fix(rejected, "allow_active_data");
    assert_eq!((allow["server"].as_str(), allow["source_port"].as_u64()), (Some("192.0.2.30"), None));
    assert!(apply(allow).iter().any(|l| l.ends_with("-I FORWARD -p tcp -s 192.0.2.30 -j ACCEPT")), "{allow}");
    assert!(rejected["explanation"].as_str().unwrap().contains("firewall"));
    assert_eq!(code, 1);
}

#[test]
fn a_data_connection_from_another_nat_address_gets_vsftpds_setting() {
    // pasv-nat-pool: the client's router maps control and data to two addresses; vsftpd's 425.
    for file in ["pasv-nat-pool/client.pcap", "pasv-nat-pool/server.pcap"] {
        let (v, code) = analyze(file, &[]);
        let rejected = findings(&v, 0).iter().find(|f| f["kind"] == "data_command_rejected").expect("vsftpd's 425");
        assert_eq!(rejected["details"]["code"], 425);
        assert_eq!(apply(fix(rejected, "same_nat_address")), ["pasv_promiscuous=YES"], "{file}");
        assert_eq!(code, 1);
    }
}

#[test]
fn active_mode_to_another_control_port_gets_the_helper_for_that_port() {
    // active-nonstandard-port: the client router's helper watches port 21, the session is on 2121.
    let (v, _) = analyze("active-nonstandard-port/client.pcap", &[]);
    let leak = findings(&v, 0).iter().find(|f| f["kind"] == "private_address_leak").expect("the PORT's private address");
    let helper = fix(leak, "client_router_helper");
    assert_eq!(helper["control_port"], 2121);
    assert_eq!(apply(helper)[0], "iptables -t raw -A PREROUTING -p tcp --dport 2121 -j CT --helper ftp");
    // The port's own note carries the same port, beside the failure.
    let note = findings(&v, 0).iter().find(|f| f["kind"] == "nonstandard_control_port").expect("the port's note");
    assert_eq!(apply(fix(note, "attach_helper")), [apply(helper)[0]]);
}

#[test]
fn the_intended_setup_is_checked() {
    // The router forwards 50000-50009 while the server uses 40000-40009 (pasv-range-mismatch).
    let (v, code) = analyze("pasv-range-mismatch/client.pcap", &["--pasv-range", "50000-50009"]);
    let f = findings(&v, 0);
    assert_eq!(f[0]["kind"], "port_outside_range");
    assert_eq!(f[0]["details"]["intended_range"], serde_json::json!({"lo": 50000, "hi": 50009}));
    assert_eq!(f[1]["kind"], "data_connection_failed");
    assert_eq!(f[1]["caused_by"], 0, "the range is why the connection failed");
    assert_eq!(code, 1);
    // Its 227s name the public address already: the range alone.
    assert_eq!(apply(block(&v, "server_passive_range")), ["pasv_min_port=50000", "pasv_max_port=50009"]);
    // Inside the range: nothing to say.
    let (v, _) = analyze("pasv-ok-forwarded/client.pcap", &["--pasv-range", "40000-40009"]);
    assert!(common::all_findings(&v).is_empty());

    let (v, _) = analyze("pasv-ok-forwarded/client.pcap", &["--public-ip", "198.51.100.99"]);
    let f = findings(&v, 0);
    assert_eq!((f[0]["kind"].as_str(), f[0]["severity"].as_str()), (Some("unexpected_public_address"), Some("warning")));
    assert_eq!(f[0]["details"]["intended_public_ip"], "198.51.100.99");

    let (v, _) = analyze("nonstandard-port-2121/client.pcapng", &["--control-port", "21"]);
    let f = findings(&v, 0);
    let kinds: Vec<&str> = f.iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"unexpected_control_port"), "{kinds:?}");
}

#[test]
fn seen_inside_the_servers_nat_a_connection_that_never_arrived_is_the_problem() {
    // The router does not forward the passive range: from the server's LAN the 227 names the
    // public address, no SYN arrives and the client leaves.
    let (v, code) = analyze("pasv-range-dropped/server.pcap", &["--pasv-range", "40000-40009"]);
    let f = findings(&v, 0);
    let not_seen = f.iter().find(|f| f["kind"] == "data_connection_not_seen").expect("the connection that never arrived");
    assert_eq!((not_seen["severity"].as_str(), not_seen["details"]["at_server"].as_bool()), (Some("error"), Some(true)));
    assert_eq!(not_seen["caused_by"], Value::Null, "its own problem: the address mismatch is the NAT set up as intended");
    assert_eq!(fix(not_seen, "forward_passive_range")["setup"]["passive_ports"]["from"], "server_block");
    let forward = apply(block(&v, "forward_passive_range"));
    // Both addresses from the capture (the 227's public one, the control connection's LAN one),
    // the range from --pasv-range.
    assert!(
        forward.contains(&"iptables -t nat -A PREROUTING -d 198.51.100.2 -p tcp --dport 40000:40009 -j DNAT --to-destination 10.0.0.20")
    );
    assert_eq!(code, 1);
    // A client that moves on at once to another negotiation did not try: nothing to say
    // (fixtures/crafted/odd-227-forms.pcap, 20 PASVs 1 ms apart).
    let path = common::root().join("fixtures/crafted/odd-227-forms.pcap");
    let v = common::analyze(&path);
    assert!(common::all_findings(&v).iter().all(|f| f["kind"] != "data_connection_not_seen"));
}

#[test]
fn a_server_that_takes_port_for_another_address_is_pointed_out() {
    // active-unanswered: vsftpd with port_promiscuous=YES accepts the NATed client's private PORT
    // and connects there; active-unreachable: pyftpdlib with permit_foreign_addresses connects
    // before it replies. Seen where the client's address is not the one named, the leak says so
    // and asks the server to refuse; at the client itself (its own address named) it cannot.
    for (file, promiscuous) in [
        ("active-unanswered/server.pcap", true),
        ("active-unanswered/router-wan.pcap", true),
        ("active-unreachable/server.pcap", true),
        ("active-unanswered/client.pcap", false),
        ("active-refused/server.pcap", false),
    ] {
        let (v, _) = analyze(file, &[]);
        let leak = findings(&v, 0).iter().find(|f| f["kind"] == "private_address_leak").expect("the private PORT");
        let refuse = leak["fix"].as_array().unwrap().iter().any(|x| x["action"] == "refuse_foreign_address");
        assert_eq!(refuse, promiscuous, "{file}: {leak}");
        assert_eq!(leak["explanation"].as_str().unwrap().contains("for any address"), promiscuous, "{file}");
    }
}

#[test]
fn under_tls_a_trusting_clients_try_at_the_lan_address_fills_it_in() {
    // crafted/tls-blind: the 227 is encrypted, the client dials 10.0.0.20:40001 (the address it
    // named): that is the server's LAN address and one of its passive ports, so the fix block
    // forwards to it instead of leaving `<server LAN IP>` to the operator.
    let (v, code) = analyze("crafted/tls-blind.pcap", &[]);
    let forward = block(&v, "forward_passive_range");
    assert_eq!(forward["setup"]["lan_address"], serde_json::json!({"value": "10.0.0.20", "from": "capture"}));
    assert!(apply(forward).iter().any(|l| l.ends_with("--to-destination 10.0.0.20")), "{forward}");
    assert_eq!(forward["setup"]["passive_ports"]["value"]["lo"], 40001);
    assert_eq!(code, 1);
}
