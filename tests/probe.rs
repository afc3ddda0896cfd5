//! `ftpscope probe` (issue 23): the verdict per data mode and the facts of the printed fixes,
//! asserted (not the wording), on the NAT lab's servers (fixtures/lab/probe.sh), with capture
//! and without privilege; each printed fix of a failing mode applied in the lab as printed turns
//! that mode to `works`; and crafted hostile servers on loopback (no lab needed) that cannot make
//! the probe hang, grow or connect elsewhere.
//!
//! The lab tests run only when CI asks for them (CI=true), as root, with the lab's packages;
//! otherwise they are skipped with one line saying what they need (a failure in CI). Every lab
//! run is bounded by `timeout`, every probe by short step timeouts.

mod common;

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Short steps, as CI's time asks (a data connection is still waited 1.5 s: one SYN
/// retransmission, for the capture to show it unanswered).
const STEP: &str = "1";

fn probe_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("no JSON ({e}): stdout {} stderr {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// Each mode's verdict, as "PASV=works".
fn verdicts(doc: &Value) -> Vec<String> {
    doc["probe"]["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}={}", m["command"].as_str().unwrap(), m["verdict"].as_str().unwrap()))
        .collect()
}

fn verdict<'a>(doc: &'a Value, command: &str) -> &'a Value {
    doc["probe"]["modes"].as_array().unwrap().iter().find(|m| m["command"] == command).unwrap_or_else(|| panic!("no {command} in {doc}"))
}

/// Every printed fix (the server's block, then the problems'), as (action, apply lines).
fn fixes(doc: &Value) -> Vec<(String, Vec<String>)> {
    let capture = &doc["explanation"]["captures"][0];
    let blocks = capture["servers"].as_array().unwrap().iter().flat_map(|s| s["fix"].as_array().unwrap());
    let problems = capture["problems"].as_array().unwrap().iter().flat_map(|p| p["fix"].as_array().unwrap());
    blocks
        .chain(problems)
        .map(|f| {
            let lines = f["apply"].as_array().map_or(Vec::new(), |a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect());
            (f["action"].as_str().unwrap().to_string(), lines)
        })
        .collect()
}

/// The lines of the first printed fix named `action` (its server block's, which comes first).
fn fix_lines(doc: &Value, action: &str) -> Vec<String> {
    fixes(doc).into_iter().find(|(a, _)| a == action).unwrap_or_else(|| panic!("no {action} fix printed: {:?}", fixes(doc))).1
}

/// The probe's keys and named values that docs/schema.md does not mention in backticks.
fn undocumented(doc: &Value) -> Vec<String> {
    fn walk(v: &Value, schema: &str, missing: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if !schema.contains(&format!("`{k}`")) {
                        missing.push(format!("key {k}"));
                    }
                    let named = ["verdict", "failure", "kind", "dial", "command"].contains(&k.as_str());
                    if let (true, Some(value)) = (named, v.as_str()) {
                        if !schema.contains(&format!("`{value}`")) {
                            missing.push(format!("{k} value {value}"));
                        }
                    }
                    walk(v, schema, missing);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, schema, missing)),
            _ => {}
        }
    }
    let schema = std::fs::read_to_string(common::root().join("docs/schema.md")).unwrap();
    let mut missing = Vec::new();
    assert_eq!(doc["schema"], "ftpscope-probe/1");
    walk(&doc["probe"], &schema, &mut missing);
    missing
}

// ------------------------------------------------------------------ the lab

struct Lab {
    dir: PathBuf,
    bin: PathBuf,
    out: PathBuf,
}

/// The lab, its outputs in a directory of the test's own (tests run at once).
fn lab(test: &str) -> Option<Lab> {
    let dir = common::lab_ready()?;
    let bin = common::live_binary(common::LAB)?;
    Some(Lab { dir, bin, out: common::scratch(&format!("ftpscope-probe-{test}")) })
}

impl Lab {
    /// fixtures/lab/probe.sh CASE with `env` (fix files, the user), `--json`, short steps and
    /// `args`: the probe's document and exit status.
    fn probe(&self, case: &str, env: &[(&str, &Path)], user: Option<&str>, args: &[&str]) -> (Value, i32) {
        let mut cmd = Command::new("timeout");
        cmd.args(["180", "bash"]).arg(self.dir.join("probe.sh")).arg(case).arg(&self.bin).arg(&self.out);
        cmd.args(["--json", "--quiet", "--step-timeout", STEP, "--timeout", "40"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(user) = user {
            cmd.env("PROBE_USER", user);
        }
        let run = cmd.output().unwrap();
        assert!(run.status.success(), "probe.sh {case}: {}", String::from_utf8_lossy(&run.stderr));
        let read = |ext: &str| std::fs::read(self.out.join(format!("{case}.{ext}"))).unwrap();
        let rc: i32 = String::from_utf8_lossy(&read("rc")).trim().parse().unwrap();
        let doc = serde_json::from_slice(&read("out"))
            .unwrap_or_else(|e| panic!("{case}: no JSON ({e}): {}", String::from_utf8_lossy(&read("err"))));
        (doc, rc)
    }

    /// A file of fix lines for probe.sh (SERVER_FIX_FILE, ROUTER_FIX_FILE).
    fn fix_file(&self, name: &str, lines: &[String]) -> PathBuf {
        let path = self.out.join(name);
        std::fs::create_dir_all(&self.out).unwrap();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    }
}

fn evidence(doc: &Value) -> &str {
    doc["probe"]["evidence"]["kind"].as_str().unwrap()
}

#[test]
fn the_lab_cases_get_their_verdicts_with_capture_and_without_privilege() {
    let Some(lab) = lab("verdicts") else { return };
    let mut wrong = Vec::new();
    let mut check = |what: &str, got: Vec<String>, want: &[&str]| {
        if got != want {
            wrong.push(format!("{what}: {got:?}, want {want:?}"));
        }
    };
    // A leaking 227: passive works only for clients that ignore the address; the fix names the
    // public address. The prober is behind its own NAT without a helper: active fails.
    let (doc, rc) = lab.probe("leak", &[], None, &[]);
    check("leak", verdicts(&doc), &["PASV=works_only_ignoring_address", "EPSV=works", "PORT=fails", "EPRT=fails"]);
    assert_eq!((evidence(&doc), rc), ("capture", 1));
    assert_eq!(undocumented(&doc), Vec::<String>::new(), "docs/schema.md");
    assert!(fix_lines(&doc, "server_passive_settings").contains(&"pasv_address=198.51.100.2".to_string()));
    // Judged from the private address it named; connected to the server's own, same port.
    let (named, dialed) = (verdict(&doc, "PASV")["advertised"].as_str().unwrap(), verdict(&doc, "PASV")["dialed"].as_str().unwrap());
    assert_eq!((named.split_once(':').unwrap().0, dialed.split_once(':').unwrap().0), ("10.0.0.20", "198.51.100.2"));
    assert_eq!(named.split_once(':').unwrap().1, dialed.split_once(':').unwrap().1);
    assert_eq!(doc["probe"]["prober"]["behind_nat"], true);
    // The same without capture privilege (an unprivileged user): the sockets' evidence, the same
    // verdicts, the same fix facts from the same diagnosis.
    let (doc, rc) = lab.probe("leak", &[], Some("nobody"), &[]);
    check("leak, unprivileged", verdicts(&doc), &["PASV=works_only_ignoring_address", "EPSV=works", "PORT=fails", "EPRT=fails"]);
    assert_eq!((evidence(&doc), rc), ("sockets", 1));
    assert!(doc["probe"]["evidence"]["why"].as_str().unwrap().contains("privilege"), "{}", doc["probe"]["evidence"]);
    assert!(fix_lines(&doc, "server_passive_settings").contains(&"pasv_address=198.51.100.2".to_string()));
    // The passive range not forwarded: dropped (unanswered), refused (a reset).
    for (case, failure) in [("unanswered", "unanswered"), ("refused", "refused")] {
        for (user, kind) in [(None, "capture"), (Some("nobody"), "sockets")] {
            let (doc, rc) = lab.probe(case, &[], user, &[]);
            check(case, verdicts(&doc), &["PASV=fails", "EPSV=fails", "PORT=fails", "EPRT=fails"]);
            assert_eq!((evidence(&doc), rc), (kind, 1), "{case}");
            assert_eq!(verdict(&doc, "PASV")["failure"], failure, "{case} {kind}");
            assert!(fixes(&doc).iter().any(|(a, _)| a == "forward_passive_range"), "{case} {kind}: {:?}", fixes(&doc));
        }
    }
    // Healthy, probed from a public address: every mode works, no error.
    let (doc, rc) = lab.probe("healthy", &[], None, &[]);
    check("healthy", verdicts(&doc), &["PASV=works", "EPSV=works", "PORT=works", "EPRT=works"]);
    assert_eq!(rc, 0);
    // Active from behind the prober's NAT: fails, blamed on the prober's side (its NAT, not the
    // server); with the kernel's FTP helper on its router: works, the helper noticed.
    let (doc, _) = lab.probe("active-nat", &[], None, &[]);
    check("active-nat", verdicts(&doc), &["PASV=works", "EPSV=works", "PORT=fails", "EPRT=fails"]);
    let printed: Vec<String> = fixes(&doc).into_iter().map(|(a, _)| a).collect();
    assert!(printed.contains(&"use_passive_mode".to_string()) && printed.contains(&"client_router_helper".to_string()), "{printed:?}");
    assert!(!printed.iter().any(|a| a.contains("passive_range") || a == "allow_active_data"), "not the server's side: {printed:?}");
    let (doc, rc) = lab.probe("active-helper", &[], None, &[]);
    check("active-helper", verdicts(&doc), &["PASV=works", "EPSV=works", "PORT=works", "EPRT=works"]);
    assert_eq!((doc["probe"]["prober"]["path_helper"].as_bool(), rc), (Some(true), 0));
    // The server on port 2121.
    let (doc, _) = lab.probe("port-2121", &[], None, &[]);
    check("port-2121", verdicts(&doc), &["PASV=works", "EPSV=works", "PORT=fails", "EPRT=fails"]);
    assert_eq!(doc["probe"]["server"], "198.51.100.2:2121");
    // IPv6 (routed): the extended commands alone; the client router's stateful firewall drops
    // the server's active connection: blamed on a firewall, not on a NAT.
    let (doc, _) = lab.probe("ipv6", &[], None, &[]);
    check("ipv6", verdicts(&doc), &["EPSV=works", "EPRT=fails"]);
    assert_eq!(
        (verdict(&doc, "EPRT")["failure"].as_str(), doc["probe"]["prober"]["behind_nat"].as_bool()),
        (Some("unanswered"), Some(false))
    );
    assert!(fixes(&doc).iter().any(|(a, _)| a == "allow_active_data"), "{:?}", fixes(&doc));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn under_tls_the_routers_helper_is_blind_and_passive_fails_inside_tls_only() {
    let Some(lab) = lab("tls") else { return };
    // In clear text the server router's FTP helper rewrites the leaking 227 and opens its port.
    let (clear, _) = lab.probe("tls", &[], None, &[]);
    assert_eq!(verdict(&clear, "PASV")["verdict"], "works", "{}", clear["probe"]);
    // Inside TLS it cannot: the 227 names 10.0.0.20 and its port is not forwarded.
    let (doc, rc) = lab.probe("tls", &[], None, &["--tls", "--insecure"]);
    assert_eq!(
        (verdict(&doc, "PASV")["verdict"].as_str(), verdict(&doc, "PASV")["failure"].as_str(), rc),
        (Some("fails"), Some("unanswered"), 1)
    );
    assert_eq!(doc["probe"]["tls"]["protected_data"], true);
    assert!(doc["probe"]["tls"]["certificate_problem"].as_str().unwrap().contains("self-signed"), "{}", doc["probe"]["tls"]);
    let causes: Vec<&str> =
        doc["explanation"]["captures"][0]["verdict"]["causes"].as_array().unwrap().iter().map(|c| c["cause"].as_str().unwrap()).collect();
    assert_eq!(causes, ["helper_blind_under_tls"]);
    // Without --insecure the self-signed certificate stops the probe, a finding.
    let (refused, rc) = lab.probe("tls", &[], None, &["--tls"]);
    assert_eq!((refused["probe"]["stopped"]["kind"].as_str(), rc), (Some("tls"), 1), "{}", refused["probe"]);
    assert!(refused["probe"]["modes"].as_array().unwrap().is_empty());
    // The printed fixes (the server's external address and range, the router's forward; the
    // LAN address is the operator's, the probe sees the server from outside), as printed: passive
    // works inside TLS.
    accounted(
        "tls",
        &doc,
        &["server_passive_settings", "forward_passive_range"],
        &[("helper_blind_under_tls", "what TLS brings: the settings and the forward applied here are its cure")],
    );
    let server = lab.fix_file("tls-server.fix", &fix_lines(&doc, "server_passive_settings"));
    let lines: Vec<String> = fix_lines(&doc, "forward_passive_range").iter().map(|l| l.replace("<server LAN IP>", "10.0.0.20")).collect();
    let router = lab.fix_file("tls-router.fix", &lines);
    let (fixed, _) = lab.probe("tls", &[("SERVER_FIX_FILE", &server), ("ROUTER_FIX_FILE", &router)], None, &["--tls", "--insecure"]);
    for mode in ["PASV", "EPSV"] {
        assert_eq!(verdict(&fixed, mode)["verdict"], "works", "{mode}: {}", fixed["probe"]);
    }
}

/// Printed fixes a case does not apply, and why: every printed fix is applied or named here.
const PASSIVE_HERE: (&str, &str) =
    ("use_passive_mode", "passive mode works in the same probe (PASV, EPSV): the client's switch needs no rerun");
const HELPER_ELSEWHERE: (&str, &str) = ("client_router_helper", "the prober's own NAT: applied and proven in the active-nat case");
const NOT_NAT: (&str, &str) = ("allow_passive_range", "for a server that has the public address itself; this one is behind NAT");
/// The probe tries passive mode before active mode: where passive failed, its active attempts
/// are told to fix passive mode first (diagnose::fallback), which is the forward applied here.
const PASSIVE_FIRST: (&str, &str) = ("fix_passive_first", "points at the passive setup: the router's forward applied here is it");

/// Every fix the probe printed is applied in the case (`applied`) or named with its reason.
fn accounted(case: &str, doc: &Value, applied: &[&str], not_applied: &[(&str, &str)]) {
    let printed: Vec<String> = fixes(doc).into_iter().map(|(a, _)| a).collect();
    for action in &printed {
        let known = applied.contains(&action.as_str()) || not_applied.iter().any(|(a, _)| a == action);
        assert!(known, "{case}: the printed fix {action} is neither applied nor said why not");
    }
    for action in applied {
        assert!(printed.iter().any(|a| a == action), "{case}: {action} was not printed: {printed:?}");
    }
}

#[test]
fn every_printed_fix_of_a_failing_mode_makes_it_work_in_the_lab() {
    let Some(lab) = lab("proofs") else { return };
    // The leak: the server's settings and the router's forwards, as printed.
    let (doc, _) = lab.probe("leak", &[], None, &[]);
    assert_eq!(verdict(&doc, "PASV")["verdict"], "works_only_ignoring_address");
    accounted("leak", &doc, &["server_passive_settings", "forward_passive_range"], &[PASSIVE_HERE, HELPER_ELSEWHERE]);
    let server = lab.fix_file("leak-server.fix", &fix_lines(&doc, "server_passive_settings"));
    let router = lab.fix_file("leak-router.fix", &fix_lines(&doc, "forward_passive_range"));
    let (fixed, _) = lab.probe("leak", &[("SERVER_FIX_FILE", &server), ("ROUTER_FIX_FILE", &router)], None, &[]);
    assert_eq!(verdict(&fixed, "PASV")["verdict"], "works", "{}", fixed["probe"]);
    // The range not forwarded: the router's forward, with what the operator knows and the
    // prober cannot see (the range it set, the server's LAN address behind the router).
    for case in ["unanswered", "refused"] {
        let (doc, _) = lab.probe(case, &[], None, &["--pasv-range", "40000-40009"]);
        assert_eq!(verdict(&doc, "PASV")["verdict"], "fails", "{case}");
        let lines: Vec<String> =
            fix_lines(&doc, "forward_passive_range").iter().map(|l| l.replace("<server LAN IP>", "10.0.0.20")).collect();
        accounted(case, &doc, &["forward_passive_range"], &[NOT_NAT, PASSIVE_HERE, PASSIVE_FIRST, HELPER_ELSEWHERE]);
        let router = lab.fix_file(&format!("{case}-router.fix"), &lines);
        let (fixed, _) = lab.probe(case, &[("ROUTER_FIX_FILE", &router)], None, &[]);
        for mode in ["PASV", "EPSV"] {
            assert_eq!(verdict(&fixed, mode)["verdict"], "works", "{case} {mode}: {}", fixed["probe"]);
        }
    }
    // Active mode from behind the prober's NAT: the FTP helper on its router, as printed.
    // ("Use passive mode" leaves active mode failing, rightly: passive works in the same probe.)
    let (doc, _) = lab.probe("active-nat", &[], None, &[]);
    assert_eq!(verdict(&doc, "PORT")["verdict"], "fails");
    accounted("active-nat", &doc, &["client_router_helper"], &[PASSIVE_HERE]);
    let router = lab.fix_file("active-router.fix", &fix_lines(&doc, "client_router_helper"));
    let (fixed, _) = lab.probe("active-nat", &[("ROUTER_FIX_FILE", &router)], None, &[]);
    for mode in ["PORT", "EPRT"] {
        assert_eq!(verdict(&fixed, mode)["verdict"], "works", "{mode}: {}", fixed["probe"]);
    } // IPv6: the firewall rule, as printed, on the client's router (its INPUT line is for a
      // firewall on the client itself: harmless there).
    let (doc, _) = lab.probe("ipv6", &[], None, &[]);
    assert_eq!(verdict(&doc, "EPRT")["verdict"], "fails");
    accounted("ipv6", &doc, &["allow_active_data"], &[PASSIVE_HERE]);
    let router = lab.fix_file("ipv6-router.fix", &fix_lines(&doc, "allow_active_data"));
    let (fixed, rc) = lab.probe("ipv6", &[("ROUTER_FIX_FILE", &router)], None, &[]);
    assert_eq!((verdict(&fixed, "EPRT")["verdict"].as_str(), rc), (Some("works"), 0), "{}", fixed["probe"]);
}

// ------------------------------------------------------------------ input and hostile servers

fn ftpscope(args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("60")
        .arg(env!("CARGO_BIN_EXE_ftpscope"))
        .arg("probe")
        .args(args)
        .env_remove("FTPSCOPE_PASSWORD")
        .output()
        .unwrap()
}

#[test]
fn bad_input_is_one_line_and_exit_status_2() {
    for url in ["http://example.net", "ftp://", "ftp://host:70000", "ftp://alice:secret@127.0.0.1", "ftp://no-such-host.invalid"] {
        let out = ftpscope(&[url, "--no-capture"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{url}: {err}");
        assert_eq!(err.lines().count(), 1, "{url}: {err}");
        assert!(!err.contains("secret") && out.stdout.is_empty(), "{url}: {err}");
    }
    // A named user without FTPSCOPE_PASSWORD and no terminal to ask on.
    let out = ftpscope(&["ftp://alice@127.0.0.1:9", "--no-capture"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// How a crafted server misbehaves.
#[derive(Clone, Copy)]
enum Hostile {
    /// Its 227 names a third host (with a port it does listen on, on loopback).
    ThirdHost,
    /// After the banner, a reply that never ends: line after line.
    EndlessLines,
    /// After the banner, one line that never ends.
    EndlessLine,
    /// After the banner, nothing, ever.
    Silent,
    /// Refuses the login (530 to PASS).
    RefusesLogin,
    /// Its 227 names another loopback address, 127.0.0.2, where it listens (and nowhere else).
    OtherAddress,
}

/// A one-session FTP server on loopback behaving as `how`; its address.
fn hostile(how: Hostile) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((control, _)) = listener.accept() else { return };
        let _ = serve(control, how);
    });
    addr
}

fn serve(mut control: TcpStream, how: Hostile) -> std::io::Result<()> {
    control.write_all(b"220 crafted\r\n")?;
    let until = Instant::now() + Duration::from_secs(20);
    match how {
        Hostile::Silent => {
            std::thread::sleep(Duration::from_secs(20));
            return Ok(());
        }
        Hostile::EndlessLines => {
            control.write_all(b"230-welcome\r\n")?;
            while Instant::now() < until {
                control.write_all(b"230-and more\r\n")?;
            }
            return Ok(());
        }
        Hostile::EndlessLine => {
            while Instant::now() < until {
                control.write_all(&[b'x'; 4096])?;
            }
            return Ok(());
        }
        Hostile::ThirdHost | Hostile::RefusesLogin | Hostile::OtherAddress => {}
    }
    let mut lines = BufReader::new(control.try_clone()?);
    let mut data: Option<TcpListener> = None;
    let mut line = String::new();
    while lines.read_line(&mut line)? > 0 {
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        line.clear();
        match verb.as_str() {
            "USER" if matches!(how, Hostile::RefusesLogin) => control.write_all(b"331 password please\r\n")?,
            "PASS" => control.write_all(b"530 Login incorrect.\r\n")?,
            "USER" => control.write_all(b"230 in\r\n")?,
            "PASV" if matches!(how, Hostile::OtherAddress) => {
                let l = TcpListener::bind("127.0.0.2:0")?;
                let port = l.local_addr()?.port();
                control.write_all(format!("227 Entering Passive Mode (127,0,0,2,{},{})\r\n", port >> 8, port & 0xff).as_bytes())?;
                data = Some(l);
            }
            "PASV" => {
                let l = TcpListener::bind("127.0.0.1:0")?;
                let port = l.local_addr()?.port();
                // A third host: the prober must not go there.
                control.write_all(format!("227 Entering Passive Mode (192,0,2,66,{},{})\r\n", port >> 8, port & 0xff).as_bytes())?;
                data = Some(l);
            }
            "NLST" => match data.take() {
                Some(l) => {
                    let (mut d, _) = l.accept()?;
                    control.write_all(b"150 here\r\n")?;
                    d.write_all(b"readme.txt\r\n")?;
                    drop(d);
                    control.write_all(b"226 done\r\n")?;
                }
                None => control.write_all(b"425 no data connection\r\n")?,
            },
            "QUIT" => {
                control.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            "EPSV" | "PORT" | "EPRT" => control.write_all(b"502 not implemented\r\n")?,
            _ => control.write_all(b"200 ok\r\n")?,
        }
    }
    Ok(())
}

#[test]
fn a_227_naming_a_third_host_is_judged_not_followed() {
    let server = hostile(Hostile::ThirdHost);
    let out = ftpscope(&[&format!("ftp://{server}"), "--no-capture", "--json", "--step-timeout", STEP]);
    let doc = probe_json(&out);
    let pasv = verdict(&doc, "PASV");
    assert_eq!(pasv["verdict"], "works_only_ignoring_address", "{pasv}");
    assert!(pasv["advertised"].as_str().unwrap().starts_with("192.0.2.66:"), "{pasv}");
    assert!(pasv["dialed"].as_str().unwrap().starts_with("127.0.0.1:"), "the server's own address, not the third host: {pasv}");
    assert_eq!(verdicts(&doc), ["PASV=works_only_ignoring_address", "EPSV=not_offered", "PORT=not_offered", "EPRT=not_offered"]);
    assert_eq!(doc["probe"]["evidence"]["kind"], "sockets");
    assert_eq!(undocumented(&doc), Vec::<String>::new(), "docs/schema.md");
    // --ndjson: analyze's events of the session (from the sockets' record here), then the
    // verdicts as the last line.
    let out = ftpscope(&[&format!("ftp://{}", hostile(Hostile::ThirdHost)), "--no-capture", "--ndjson", "--step-timeout", STEP]);
    let lines: Vec<Value> =
        out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events.last(), Some(&"probe"), "{events:?}");
    assert!(events.contains(&"session_end") && events.contains(&"summary"), "{events:?}");
    assert_eq!(lines.last().unwrap()["probe"]["modes"][0]["verdict"], "works_only_ignoring_address");
}

/// What the server does before any data is a finding, as for a capture: a control port that
/// refuses, a refused login.
#[test]
fn a_refused_control_connection_or_login_is_a_finding() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = ftpscope(&[&format!("ftp://{closed}"), "--no-capture", "--json", "--step-timeout", STEP]);
    let doc = probe_json(&out);
    assert_eq!((out.status.code(), doc["probe"]["stopped"]["dial"].as_str()), (Some(1), Some("refused")));
    let findings = doc["explanation"]["captures"][0]["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["kind"] == "control_connection_failed"), "{findings:?}");
    let out = ftpscope(&[&format!("ftp://{}", hostile(Hostile::RefusesLogin)), "--no-capture", "--json", "--step-timeout", STEP]);
    let doc = probe_json(&out);
    assert_eq!((out.status.code(), doc["probe"]["stopped"]["reply"]["code"].as_u64()), (Some(1), Some(530)));
    let causes = &doc["explanation"]["captures"][0]["verdict"]["causes"];
    assert!(causes.as_array().is_some_and(|c| !c.is_empty()), "the refused login is a cause: {causes}");
    assert_eq!(undocumented(&doc), Vec::<String>::new(), "docs/schema.md");
}

/// The password is sent, never printed: in no format, not in the command log of the text.
#[test]
fn the_password_never_appears_in_any_output() {
    for format in ["--json", "--ndjson", "--color=never"] {
        let url = format!("ftp://alice@{}", hostile(Hostile::RefusesLogin));
        let out = Command::new("timeout")
            .arg("60")
            .arg(env!("CARGO_BIN_EXE_ftpscope"))
            .args(["probe", &url, "--no-capture", format, "--step-timeout", STEP])
            .env("FTPSCOPE_PASSWORD", "s3cret-pw")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let all = [out.stdout, out.stderr].concat();
        assert!(!String::from_utf8_lossy(&all).contains("s3cret-pw"), "{format}");
        assert!(String::from_utf8_lossy(&all).contains("alice"), "{format}: the user is named");
    }
}

/// `--follow-advertised` connects where the reply says, and only then.
#[test]
fn the_advertised_address_is_contacted_only_when_asked() {
    let pasv = |follow: bool| {
        let url = format!("ftp://{}", hostile(Hostile::OtherAddress));
        let mut args = vec![url.as_str(), "--no-capture", "--json", "--step-timeout", STEP];
        if follow {
            args.push("--follow-advertised");
        }
        verdict(&probe_json(&ftpscope(&args)), "PASV").clone()
    };
    // The server listens at 127.0.0.2 only: its own address (127.0.0.1) refuses.
    let own = pasv(false);
    assert_eq!((own["verdict"].as_str(), own["failure"].as_str()), (Some("fails"), Some("refused")), "{own}");
    assert!(own["dialed"].as_str().unwrap().starts_with("127.0.0.1:"), "{own}");
    let followed = pasv(true);
    assert_eq!(followed["verdict"], "works", "{followed}");
    assert_eq!(followed["dialed"], followed["advertised"]);
}

#[test]
fn servers_that_never_answer_or_never_stop_cannot_hang_or_grow_the_probe() {
    for (how, name) in [(Hostile::Silent, "silent"), (Hostile::EndlessLines, "endless lines"), (Hostile::EndlessLine, "an endless line")] {
        let server = hostile(how);
        let started = Instant::now();
        let out = ftpscope(&[&format!("ftp://{server}"), "--no-capture", "--json", "--step-timeout", STEP, "--timeout", "5"]);
        let took = started.elapsed();
        let doc = probe_json(&out);
        assert!(took < Duration::from_secs(10), "{name}: took {took:?}");
        assert_eq!(out.status.code(), Some(1), "{name}: a server that stops the session is an error");
        assert!(doc["probe"]["stopped"].is_object(), "{name}: {}", doc["probe"]);
        assert!(doc["probe"]["modes"].as_array().unwrap().is_empty(), "{name}");
        assert_eq!(undocumented(&doc), Vec::<String>::new(), "docs/schema.md");
    }
}

/// The text and the page tell the verdict per mode first, then the explanation.
#[test]
fn the_verdicts_come_first_in_the_text_and_on_the_page() {
    let server = hostile(Hostile::ThirdHost);
    let out = ftpscope(&[&format!("ftp://{server}"), "--no-capture", "--color", "never", "--step-timeout", STEP]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("=== Probe of ftp://{server}/")), "{text}");
    let pasv = text.find("PASV  works only for clients that ignore the address").unwrap_or_else(|| panic!("{text}"));
    let story = text.find("What happened:").unwrap_or_else(|| panic!("{text}"));
    assert!(pasv < story, "{text}");
    let page = std::env::temp_dir().join(format!("ftpscope-probe-page-{}.html", std::process::id()));
    let _ = std::fs::remove_file(&page);
    let out = ftpscope(&[
        &format!("ftp://{}", hostile(Hostile::ThirdHost)),
        "--no-capture",
        "--html",
        page.to_str().unwrap(),
        "-q",
        "--step-timeout",
        STEP,
    ]);
    assert!(out.status.code().is_some(), "{out:?}");
    let html = std::fs::read_to_string(&page).unwrap();
    let preface = html.find("<section class=\"preface\"><h2>Probe of ftp://").unwrap_or_else(|| panic!("{html}"));
    let verdict = html
        .find("<li>PASV  works only for clients that ignore the address: the reply named 192.0.2.66:")
        .unwrap_or_else(|| panic!("{html}"));
    let first_capture = html.find("<h4>").unwrap_or(html.len());
    assert!(preface < verdict && verdict < first_capture, "the verdicts before the explanation");
    let _ = std::fs::remove_file(&page);
}
