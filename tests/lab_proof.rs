//! The proof loop: every fix `ftpscope explain` prints for a failing lab scenario, applied exactly
//! as printed, makes the scenario work. For each case: explain the scenario's committed capture,
//! take the named fixes' `apply` lines unchanged (the server-side ones from the server's fix
//! block, `captures[].servers[].fix`: one per server, from the whole capture), run the same scenario again with them applied
//! where its operator would (fixtures/lab/lab.sh: SERVER_FIX_FILE, ROUTER_FIX_FILE,
//! CLIENT_PASSIVE, CLIENT_TLS), rerun the same clients, and require that on every new capture
//! every session logs in, each data connection is established and ftpscope reports no error.
//!
//! Values a capture cannot hold are supplied as an operator would, and each case says so: the
//! intended passive range (`--pasv-range`) where the capture saw only some of its ports, and the
//! server's LAN address (the lab's 10.0.0.20) where the capture shows the server only from
//! outside. Every other value in the applied lines comes from the capture.
//!
//! Runs the NAT lab (fixtures/lab/lab.sh): only when CI asks for it (CI=true), as root, with the
//! lab's packages installed; otherwise skipped with one line saying what it needs (a failure in
//! CI). Every lab run is bounded by `timeout`.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Where the operator applies a fix, in lab.sh's terms.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// The server's own configuration (SERVER_FIX_FILE).
    Server,
    /// iptables lines on the router or firewall the scenario names (ROUTER_FIX_FILE).
    Router,
    /// "Use passive mode": the clients switch (CLIENT_PASSIVE=1); there are no lines.
    ClientPassive,
    /// "Connect with explicit FTPS": the clear-text clients switch to AUTH TLS (CLIENT_TLS=1);
    /// there are no lines.
    ClientTls,
}

struct Case {
    scenario: &'static str,
    /// The committed capture explained (fixtures/SCENARIO/...).
    capture: &'static str,
    /// What the operator tells explain that the capture cannot: (option, value, why).
    operator_args: &'static [(&'static str, &'static str, &'static str)],
    /// Placeholders the printed lines leave to the operator: (placeholder, value, why).
    operator_values: &'static [(&'static str, &'static str, &'static str)],
    /// The printed fixes applied in this rerun, each where the operator applies it.
    apply: Vec<(&'static str, Place)>,
    /// The printed fixes not applied in this rerun, and why: every printed fix is one or the other.
    not_applied: Vec<(&'static str, &'static str)>,
}

const RANGE: (&str, &str, &str) =
    ("--pasv-range", "40000-40009", "the capture saw some of the server's passive ports; the operator knows the range it uses");
const LAN_IP: (&str, &str, &str) =
    ("<server LAN IP>", "10.0.0.20", "the capture shows the server from outside only; the lab's server has this address");
const NOT_NAT: (&str, &str) = ("allow_passive_range", "for a server that has the public address itself; this one is behind NAT");
const OR_HELPER: (&str, &str) = ("client_router_helper", "the alternative to passive mode, proven in its own case");
const OR_PASSIVE: (&str, &str) = ("use_passive_mode", "the alternative, proven in its own case");

/// The block's range is a suggestion covering the ports the capture saw (at least 10): applied
/// alike on the server (its settings) and the router (the forwarding), it is the setup.
fn leak(scenario: &'static str) -> Case {
    Case {
        scenario,
        capture: "client.pcap",
        operator_args: &[],
        operator_values: &[],
        apply: vec![("server_passive_settings", Place::Server), ("forward_passive_range", Place::Router)],
        not_applied: vec![],
    }
}

fn range_not_forwarded(scenario: &'static str) -> Case {
    Case {
        scenario,
        capture: "client.pcap",
        operator_args: &[RANGE],
        operator_values: &[LAN_IP],
        apply: vec![("forward_passive_range", Place::Router)],
        not_applied: vec![NOT_NAT],
    }
}

/// The same, explained from the server LAN's capture: the 227 names the public address, the
/// control connection the server's LAN address, so only the range is the operator's.
fn range_not_forwarded_seen_at_the_server(scenario: &'static str) -> Case {
    Case {
        scenario,
        capture: "server.pcap",
        operator_args: &[RANGE],
        operator_values: &[],
        apply: vec![("forward_passive_range", Place::Router)],
        not_applied: vec![],
    }
}

/// One of two printed alternatives, each proven in its own case, from the capture alone.
fn either(scenario: &'static str, capture: &'static str, apply: (&'static str, Place), other: (&'static str, &'static str)) -> Case {
    Case { scenario, capture, operator_args: &[], operator_values: &[], apply: vec![apply], not_applied: vec![other] }
}

fn cases() -> Vec<Case> {
    vec![
        // A server leaking its private address behind NAT, one per server software.
        leak("pasv-private-leak-fail"),
        leak("pasv-private-leak-pureftpd"),
        leak("pasv-private-leak-pyftpdlib"),
        leak("pasv-private-leak-proftpd"),
        // The passive range not forwarded by the server's router (dropped, refused) or forwarded
        // elsewhere (mismatch).
        range_not_forwarded("pasv-range-dropped"),
        range_not_forwarded("pasv-range-rejected"),
        range_not_forwarded("pasv-range-mismatch"),
        range_not_forwarded_seen_at_the_server("pasv-range-dropped"),
        range_not_forwarded_seen_at_the_server("pasv-range-rejected"),
        // A cheap router forwarding part of the range: the capture saw ports across the whole
        // range (the suggestion is it). Its 227s name the public address: the range alone for
        // the server, and the router forwards the ports that did not cross.
        Case {
            scenario: "pasv-range-partial",
            capture: "client.pcap",
            operator_args: &[],
            operator_values: &[LAN_IP],
            apply: vec![("forward_passive_range", Place::Router), ("server_passive_range", Place::Server)],
            not_applied: vec![NOT_NAT],
        },
        // The same cheap router in front of a server that leaks its private address, with
        // clients that trust the 227 and clients that work around it (issue 19's scenario):
        // one block for the server, from every session, whose suggested range is the server's
        // real one; applied as printed (its settings, and the forwards for the ports that never
        // crossed), every session works.
        leak("pasv-range-partial-leak"),
        // lftp with its defaults falls back to active mode when passive fails (and fails again
        // from behind its NAT): the server's block fixes passive mode, which lftp tries first.
        Case {
            not_applied: vec![("fix_passive_first", "points at the server's block, applied here"), OR_HELPER],
            ..leak("pasv-lftp-fallback")
        },
        // The same from a public address: active mode worked after the fallback (a note, whose
        // fix explain leaves to the server's block: the session is a healthy one there).
        leak("pasv-lftp-fallback-public"),
        // A public server whose firewall drops the passive range inbound.
        Case {
            scenario: "pasv-firewall-dropped",
            capture: "client.pcap",
            operator_args: &[RANGE],
            operator_values: &[],
            apply: vec![("allow_passive_range", Place::Router)],
            not_applied: vec![("forward_passive_range", "for a server behind NAT; this one has the public address itself")],
        },
        // The same from the server's own interface: its segments' initial TTL shows the public
        // address is its own, so only the firewall's rule is printed, with the server's range
        // set to the one let in.
        Case {
            scenario: "pasv-firewall-dropped",
            capture: "server.pcap",
            operator_args: &[],
            operator_values: &[],
            apply: vec![("allow_passive_range", Place::Router), ("server_passive_range", Place::Server)],
            not_applied: vec![],
        },
        // A client behind NAT in active mode: passive mode, or the FTP helper on its router.
        either("active-refused", "client.pcap", ("use_passive_mode", Place::ClientPassive), OR_HELPER),
        either("active-refused", "client.pcap", ("client_router_helper", Place::Router), OR_PASSIVE),
        either("active-unanswered", "client.pcap", ("use_passive_mode", Place::ClientPassive), OR_HELPER),
        either("active-unanswered", "client.pcap", ("client_router_helper", Place::Router), OR_PASSIVE),
        // A firewall dropping active-mode connections from port 20: explained from the server's
        // side (which sees its own SYNs go unanswered), and from the client's (which sees none).
        either("active-port20-dropped", "server.pcap", ("allow_active_data", Place::Router), OR_PASSIVE),
        // The public client's view blames the same firewall (its own address in PORT, no SYN
        // arrived) and prints the same rule without the source port it cannot see.
        either(
            "active-port20-dropped",
            "public-client.pcap",
            ("use_passive_mode", Place::ClientPassive),
            ("allow_active_data", "the alternative, proven in its own case"),
        ),
        either("active-port20-dropped", "public-client.pcap", ("allow_active_data", Place::Router), OR_PASSIVE),
        // The same from behind NAT to a server on port 2121, through a client router whose FTP
        // helper is attached to port 21 only: the printed helper line names 2121.
        either("active-nonstandard-port", "client.pcap", ("use_passive_mode", Place::ClientPassive), OR_HELPER),
        either("active-nonstandard-port", "client.pcap", ("client_router_helper", Place::Router), OR_PASSIVE),
        // A client NAT that maps the data connection to another address than the control
        // connection (a round-robin pool): vsftpd refuses it. Of the fix's two ways, the
        // client's NAT is not in the capture and prints no line; vsftpd's setting does.
        Case {
            scenario: "pasv-nat-pool",
            capture: "client.pcap",
            operator_args: &[],
            operator_values: &[],
            apply: vec![("same_nat_address", Place::Server)],
            not_applied: vec![],
        },
        // Sessions that fail before any data (issue 21): each server setting that decides the
        // refusal, applied as printed, and the session logs in.
        login("login-anonymous-only", "allow_local_logins", &[], vec![]),
        login("login-anonymous-refused", "allow_anonymous", &[], vec![]),
        login("login-denied-user", "unlist_user", &[USERLIST], vec![]),
        login("login-oops-chroot", "allow_writable_chroot", &[], vec![]),
        // Three sessions at once behind max_per_ip=1: the server's block asks for 3.
        login("service-max-per-ip", "raise_connection_limit", &[], vec![]),
        // Pure-FTPd alike: its option on its command line (-C 3 after the scenario's -C 1).
        login("service-max-per-ip-pureftpd", "raise_connection_limit", &[], vec![]),
        // TLS required: the client switches to explicit FTPS; the other two printed fixes are
        // what comes with it and the way back.
        Case {
            scenario: "login-tls-required",
            capture: "client.pcap",
            operator_args: &[],
            operator_values: &[],
            apply: vec![("client_explicit_tls", Place::ClientTls)],
            not_applied: vec![
                ("helper_blind_under_tls", "a note for what TLS brings: this server is public, no NAT helper stands between"),
                ("allow_clear_logins", "the other way, proven in its own case"),
            ],
        },
        // The other way, knowingly: the server accepts clear-text logins again.
        login(
            "login-tls-required",
            "allow_clear_logins",
            &[],
            vec![
                ("helper_blind_under_tls", "a note for what TLS brings: this server is public, no NAT helper stands between"),
                ("client_explicit_tls", "the client's way, proven in its own case"),
            ],
        ),
    ]
}

/// vsftpd's default userlist file, where the printed line edits it; the lab's vsftpd reads its own.
const USERLIST: (&str, &str, &str) = (
    "/etc/vsftpd.user_list",
    "/run/ftpscope-lab/vsftpd.user_list",
    "the lab's vsftpd reads its own userlist_file; an operator's is the default unless set",
);

/// A refused login or session cured by the server's own setting (`action`, from the capture).
fn login(
    scenario: &'static str,
    action: &'static str,
    operator_values: &'static [(&'static str, &'static str, &'static str)],
    not_applied: Vec<(&'static str, &'static str)>,
) -> Case {
    Case { scenario, capture: "client.pcap", operator_args: &[], operator_values, apply: vec![(action, Place::Server)], not_applied }
}

/// `ftpscope explain --json` on a committed capture, with the operator's options.
fn explain(case: &Case) -> Value {
    let capture = common::root().join("fixtures").join(case.scenario).join(case.capture);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpscope"));
    cmd.args(["explain", "--json", "--quiet"]);
    for (option, value, _) in case.operator_args {
        cmd.args([option, value]);
    }
    let out = cmd.arg(&capture).output().unwrap();
    // 1: the capture shows an error, which is why it is explained.
    assert_eq!(out.status.code(), Some(1), "{}: {}", capture.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every printed fix by action, with its `apply` lines (each line once, in printed order): each
/// server's fix block (the server-side fixes, with the whole capture's values), then the
/// problems' other fixes (a problem's server-side fixes only point to its server's block).
fn printed_fixes(report: &Value) -> Vec<(String, Vec<String>)> {
    let mut fixes: Vec<(String, Vec<String>)> = Vec::new();
    let captures = report["captures"].as_array().unwrap();
    let blocks = captures.iter().flat_map(|c| c["servers"].as_array().unwrap()).flat_map(|s| s["fix"].as_array().unwrap());
    let problems = captures.iter().flat_map(|c| c["problems"].as_array().unwrap()).flat_map(|p| p["fix"].as_array().unwrap());
    let own = problems.filter(|f| f["setup"]["passive_ports"]["from"] != "server_block");
    for fix in blocks.chain(own) {
        let action = fix["action"].as_str().unwrap().to_string();
        let lines = fix["apply"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string());
        let i = fixes.iter().position(|(a, _)| *a == action).unwrap_or_else(|| {
            fixes.push((action, Vec::new()));
            fixes.len() - 1
        });
        for line in lines {
            if !fixes[i].1.contains(&line) {
                fixes[i].1.push(line);
            }
        }
    }
    fixes
}

/// What is wrong with a rerun's captures: each must show every session logged in (a 230: a fix
/// for a refused login or session cures that), data connections, all established (under TLS the
/// probable ones), and no error finding (exit status 0).
fn check_rerun(dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"));
    files.sort();
    if files.is_empty() {
        problems.push(format!("{}: no capture", dir.display()));
    }
    for file in files {
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", "--json", "--quiet"]).arg(&file).output().unwrap();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if out.status.code() != Some(0) {
            problems.push(format!("{name}: exit {:?}", out.status.code()));
        }
        let Ok(report) = serde_json::from_slice::<Value>(&out.stdout) else {
            problems.push(format!("{name}: no JSON report: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        };
        for f in common::all_findings(&report) {
            if f["severity"] == "error" || f["kind"] == "data_connection_failed" {
                problems.push(format!("{name}: {} ({}): {}", f["kind"], f["severity"], f["summary"]));
            }
        }
        let outcomes = data_outcomes(&report);
        if outcomes.is_empty() || outcomes.iter().any(|&o| o != "established") {
            problems.push(format!("{name}: data connections {outcomes:?}, want all established"));
        }
        problems.extend(not_logged_in(&file).into_iter().map(|p| format!("{name}: {p}")));
    }
    problems
}

/// Each data connection's outcome: the negotiated ones, and under TLS (the negotiations
/// encrypted) the probable data channels ftpscope saw.
fn data_outcomes(report: &Value) -> Vec<&str> {
    let sessions = report["sessions"].as_array().unwrap();
    let negotiated = sessions.iter().flat_map(|s| s["negotiations"].as_array().unwrap()).map(|n| &n["data"]["outcome"]);
    let probable = sessions.iter().filter(|s| s["tls"] == true).flat_map(|s| s["probable_data_channels"].as_array().unwrap());
    negotiated.chain(probable.map(|p| &p["outcome"])).map(|o| o.as_str().unwrap()).collect()
}

/// The control connections on a capture that never logged in, read with tshark, not ftpscope
/// (whose login record is what the login cases test): each connection the server greeted (220)
/// or turned away at once (421) must carry a 230. The TLS keys the lab keeps beside its captures
/// (tls-keys.log) let tshark read an FTPS session's 230 too.
fn not_logged_in(file: &Path) -> Vec<String> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(file);
    let keys = file.with_file_name("tls-keys.log");
    if keys.exists() {
        cmd.arg("-o").arg(format!("tls.keylog_file:{}", keys.display()));
    }
    let out = cmd.args(["-Y", "ftp.response.code", "-T", "fields", "-e", "tcp.stream", "-e", "ftp.response.code"]).output().unwrap();
    if !out.status.success() {
        return vec![format!("tshark failed: {}", String::from_utf8_lossy(&out.stderr))];
    }
    // Each control connection's reply codes in order (a segment may carry several replies).
    let mut streams: Vec<(String, Vec<String>)> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (stream, codes) = line.split_once('\t').unwrap_or((line, ""));
        let i = streams.iter().position(|(s, _)| s == stream).unwrap_or_else(|| {
            streams.push((stream.to_string(), Vec::new()));
            streams.len() - 1
        });
        streams[i].1.extend(codes.split(',').map(str::to_string));
    }
    let greeted = streams.iter().filter(|(_, codes)| matches!(codes.first().map(String::as_str), Some("220" | "421")));
    greeted
        .filter(|(_, codes)| !codes.iter().any(|c| c == "230"))
        .map(|(stream, codes)| format!("control connection (tcp.stream {stream}) never logged in: replies {codes:?}"))
        .collect()
}

/// Runs one case: explain, take the fixes, rerun with them, check. Returns the number of fixes
/// proven, or what went wrong.
fn prove(case: &Case, lab: &Path, scratch: &Path) -> Result<usize, String> {
    let label = format!("{} (fixes {:?} from {})", case.scenario, case.apply.iter().map(|(a, _)| *a).collect::<Vec<_>>(), case.capture);
    let printed = printed_fixes(&explain(case));
    for (what, value, why) in case.operator_args.iter().chain(case.operator_values) {
        eprintln!("lab_proof: {}: the operator supplies {what} {value}: {why}", case.scenario);
    }
    let mut actions: Vec<&str> = printed.iter().map(|(a, _)| a.as_str()).collect();
    let mut accounted: Vec<&str> = case.apply.iter().map(|(a, _)| *a).chain(case.not_applied.iter().map(|(a, _)| *a)).collect();
    actions.sort_unstable();
    accounted.sort_unstable();
    if actions != accounted {
        return Err(format!("{label}: printed fixes {actions:?}, the case accounts for {accounted:?}"));
    }

    let dir = scratch.join(format!("{}-{}", case.scenario, case.apply[0].0));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new("timeout");
    cmd.arg("120").arg(lab.join("lab.sh")).arg(case.scenario).arg(dir.join("out"));
    for (action, place) in &case.apply {
        let lines = &printed.iter().find(|(a, _)| a == action).unwrap().1;
        // The operator's values where the printed lines leave a placeholder, nothing else.
        let lines: Vec<String> = lines
            .iter()
            .map(|l| case.operator_values.iter().fold(l.clone(), |l, (placeholder, value, _)| l.replace(placeholder, value)))
            .collect();
        if let Some(l) = lines.iter().find(|l| l.contains('<')) {
            return Err(format!("{label}: a placeholder is left in the printed line: {l}"));
        }
        let (var, file) = match place {
            Place::Server => ("SERVER_FIX_FILE", dir.join("server.fix")),
            Place::Router => ("ROUTER_FIX_FILE", dir.join("router.fix")),
            Place::ClientPassive | Place::ClientTls => {
                if !lines.is_empty() {
                    return Err(format!("{label}: a client's switch prints lines: {lines:?}"));
                }
                let var = if matches!(place, Place::ClientTls) { "CLIENT_TLS" } else { "CLIENT_PASSIVE" };
                cmd.env(var, "1");
                continue;
            }
        };
        if lines.is_empty() {
            return Err(format!("{label}: {action} prints no line to apply"));
        }
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        cmd.env(var, &file);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(format!("{label}: lab.sh failed ({:?}):\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr)));
    }
    let problems = check_rerun(&dir.join("out").join(case.scenario));
    if problems.is_empty() {
        Ok(case.apply.len())
    } else {
        Err(format!("{label}: after the fix:\n  {}\nlab.sh said:\n{}", problems.join("\n  "), String::from_utf8_lossy(&out.stderr)))
    }
}

/// The login check can fail: on the committed captures it finds the sessions refused at login
/// (a 530 to USER) and at the greeting (vsftpd's 421 to the second and third of three sessions
/// at once), and none in the control, a healthy local login.
fn check_the_login_check() {
    let fixture = |f: &str| common::root().join("fixtures").join(f);
    assert_eq!(not_logged_in(&fixture("login-anonymous-only/client.pcap")).len(), 1);
    assert_eq!(not_logged_in(&fixture("service-max-per-ip/client.pcap")).len(), 2);
    assert_eq!(not_logged_in(&fixture("login-ok-local/client.pcap")), Vec::<String>::new());
}

#[test]
fn every_printed_fix_applied_as_printed_makes_its_lab_scenario_work() {
    let Some(lab) = common::lab_ready() else { return };
    check_the_login_check();

    let scratch = common::scratch("ftpscope-proof");
    let cases = cases();
    let total: usize = cases.iter().map(|c| c.apply.len()).sum();
    let mut proven = 0;
    let mut failures = Vec::new();
    for case in &cases {
        match prove(case, &lab, &scratch) {
            Ok(n) => proven += n,
            Err(e) => failures.push(e),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("lab_proof: proven: {proven} of {total} printed fixes ({} scenario runs)", cases.len());
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n\n"));
    assert_eq!(proven, total);
}
