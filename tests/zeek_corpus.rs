//! A peer's test suite: Zeek's FTP test traces and the `ftp.log` its own test suite expects for them.
//!
//! The corpus lives outside the repository, in `../shared/corpus/zeek` relative to the crate root
//! (see `../shared/corpus/README.md`); it is read in place, never copied here. In a clone of the
//! repository alone each test but the log parser's says in one line that it needs the corpus and
//! is skipped; in CI (CI=true), which has the corpus, that is a failure.
//!
//! What is checked:
//! 1. The table [`BASELINES`] maps every Zeek baseline that has an `ftp.log` to the trace it was made
//!    from (the names do not always match); a baseline missing from the table fails the test.
//! 2. For every `ftp.log` row with `data_channel.passive` (T/F) and `data_channel.resp_h`/`resp_p`
//!    set, ftpscope reports, in the session of that row's control connection, a negotiation with the
//!    same mode (T = passive, F = active) and `advertised` == `resp_h:resp_p` (IPv6 in brackets).
//! 3. Every trace of the corpus (`Traces/ftp/*.pcap` and `Traces/*.pcap`) is analyzed with exit
//!    status 0 or 1 (never 2, never a signal), within a time limit, in JSON (valid, schema
//!    "ftpscope/3") and in text.
//! 4. A few facts a Zeek user would expect, each checked against the trace with tshark first.
//! 5. Every trace of `Traces/ftp` reads whole with the library's reader and decodes, frame by frame.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Baseline test directory (under `Baseline/`) -> trace (under `Traces/`).
///
/// Worked out by content, once, by hand: the control connection of every uid in the baseline's
/// ftp.log (`id.orig_h:id.orig_p -> id.resp_h:id.resp_p`) was looked up among the TCP connections of
/// every trace with
/// `tshark -r T -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e ip.src -e ipv6.src -e tcp.srcport ...`
/// and, for the one trace that starts mid-connection (ftp-with-numbers-in-filename.pcap: no SYN),
/// with `tshark -r T -Y ftp` (192.168.21.95:54089 -> 164.107.123.6:21). Every endpoint matched exactly
/// one trace.
const BASELINES: &[(&str, &str)] = &[
    // 10.3.22.91:58218 -> 10.167.25.101:21
    ("scripts.base.protocols.ftp.cwd-navigation", "ftp/cwd-navigation.pcap"),
    // 127.0.0.1:40284 -> 127.0.0.1:21
    ("scripts.base.protocols.ftp.ftp-auth-tls", "ftp/ftp-auth-tls.pcap"),
    // 192.168.21.95:54089 -> 164.107.123.6:21 (capture starts mid-connection)
    ("scripts.base.protocols.ftp.ftp-get-file-size", "ftp/ftp-with-numbers-in-filename.pcap"),
    // 127.0.0.1:51354 -> 127.0.0.1:21
    ("scripts.base.protocols.ftp.ftp-invalid-reply-code", "ftp/ftp-invalid-reply-code.pcap"),
    // 141.142.220.235:50003 -> 199.233.217.249:21
    ("scripts.base.protocols.ftp.ftp-ipv4", "ftp/ipv4.pcap"),
    // [2001:470:1f11:81f:c999:d94:aa7c:2e3e]:49185 -> [2001:470:4867:99::21]:21
    ("scripts.base.protocols.ftp.ftp-ipv6", "ftp/ipv6.pcap"),
    // 141.142.220.235:50003 -> 199.233.217.249:21 (ipv4.pcap with Zeek's argument length capped)
    ("scripts.base.protocols.ftp.ftp-max-arg-length", "ftp/ipv4.pcap"),
    // 127.0.0.1:58634 -> 127.0.0.1:21
    ("scripts.base.protocols.ftp.ftp-max-command-length", "ftp/fake-long-commands.pcap"),
    // 127.0.0.1:37950 -> 127.0.0.1:21
    ("scripts.base.protocols.ftp.ftp-max-pending-commands", "ftp/fake-server-delays-all.pcap"),
    // 141.142.220.235:50003 -> 199.233.217.249:21 (ipv4.pcap with Zeek's user length capped)
    ("scripts.base.protocols.ftp.ftp-max-user-length", "ftp/ipv4.pcap"),
    // 127.0.0.1:51344 -> 127.0.0.1:21
    ("scripts.base.protocols.ftp.ftp-missing-reply-code", "ftp/ftp-missing-reply-code.pcap"),
    // 127.0.0.1:51346 -> 127.0.0.1:21
    ("scripts.base.protocols.ftp.ftp-missing-space-after-reply-code", "ftp/ftp-missing-space-after-reply-code.pcap"),
    // [2001:470:1f05:17a6:d69a:20ff:fefd:6b88]:58895 -> [2400:3000:20:100::46]:21
    ("scripts.base.protocols.ftp.ftp-multiline-reply", "ftp/ipv6-multiline-reply.pcap"),
    // 192.168.10.132:46648 -> 192.168.10.188:21
    ("scripts.base.protocols.ftp.ftp-password-pass-command", "ftp/ftp-password-pass-command.pcap"),
    // same trace, Zeek configured to hide the password
    ("scripts.base.protocols.ftp.ftp-password-pass-command-hidden", "ftp/ftp-password-pass-command.pcap"),
    // [2001:470:1f05:17a6:213:72ff:fe0d:a566]:16730 -> [2001:6f8:200:1::5:33]:21
    ("scripts.base.protocols.ftp.ftp-samba-retr", "ftp/ipv6-retr-samba.pcap"),
    // 30 connections 192.168.56.1:54017..54048 -> 192.168.56.101:21
    ("scripts.policy.protocols.ftp.bruteforce", "ftp/bruteforce.pcap"),
    // [2001:470:1f05:17a6:d69a:20ff:fefd:6b88]:58895 -> [2400:3000:20:100::46]:21
    ("scripts.policy.protocols.ftp.ftp", "ftp/ipv6-multiline-reply.pcap"),
];

/// Baselines with an ftp.log that are not compared, and why. Empty: every baseline with an ftp.log
/// has its trace in the corpus. The other baseline directories have no ftp.log and so no oracle for
/// negotiations (bifs.*: unit tests of Zeek built-ins, no trace; core.*, file-analysis.ftp,
/// bad-adat-encoding, gridftp, expected-data-channel-cap: conn/files/weird/notice/ssl logs only).
/// Their traces are still run by `every_trace_is_analyzed_without_failure`.
const SKIPPED_BASELINES: &[(&str, &str)] = &[];

const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// Zeek's part of the corpus, or None after the skip line (a failure in CI).
fn corpus() -> Option<PathBuf> {
    common::needs::corpus().map(|c| c.join("zeek"))
}

fn trace(zeek: &Path, rel: &str) -> PathBuf {
    zeek.join("Traces").join(rel)
}

struct Run {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// Runs `ftpscope analyze FILE [--json]`, bounded by [`RUN_TIMEOUT`]. Stdout and stderr are drained
/// by threads so a large report cannot block the child on a full pipe.
fn run_ftpscope(file: &Path, json: bool) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpscope"));
    cmd.arg("analyze").arg(file);
    if json {
        cmd.arg("--json");
    }
    cmd.env("NO_COLOR", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn ftpscope");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).ok();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).ok();
        v
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("wait for ftpscope") {
            Some(status) => break status,
            None if start.elapsed() > RUN_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("ftpscope analyze {} (json={json}) did not finish within {RUN_TIMEOUT:?}", file.display());
            }
            None => std::thread::sleep(Duration::from_millis(5)),
        }
    };
    Run { status, stdout: out_t.join().unwrap(), stderr: err_t.join().unwrap() }
}

/// Runs with `--json`, requires exit status 0 or 1 and a valid "ftpscope/3" document.
fn report(file: &Path) -> Value {
    let run = run_ftpscope(file, true);
    assert!(
        matches!(run.code(), Some(0) | Some(1)),
        "ftpscope analyze {} --json: status {:?}, stderr: {}",
        file.display(),
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let v: Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("ftpscope analyze {} --json: stdout is not JSON: {e}", file.display()));
    assert_eq!(v["schema"], "ftpscope/3", "{}: schema", file.display());
    v
}

fn sessions(v: &Value) -> &[Value] {
    v["sessions"].as_array().map(Vec::as_slice).expect("sessions[] array")
}

fn negotiations(s: &Value) -> &[Value] {
    s["negotiations"].as_array().map(Vec::as_slice).expect("negotiations[] array")
}

fn findings(v: &Value) -> Vec<&Value> {
    common::all_findings(v)
}

fn findings_of<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    findings(v).into_iter().filter(|f| f["kind"] == kind).collect()
}

/// "ip:port", IPv6 in brackets, as ftpscope writes endpoints.
fn endpoint(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

// ---------------------------------------------------------------------------------------------
// Zeek TSV log parsing

/// One Zeek log: the `#fields` names and the rows, each value `None` when unset (`-`), `Some("")`
/// when empty (`(empty)`).
struct ZeekLog {
    fields: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl ZeekLog {
    fn parse(text: &str) -> ZeekLog {
        let mut separator = "\t".to_string();
        let mut unset = "-".to_string();
        let mut empty = "(empty)".to_string();
        let mut fields: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        for line in text.lines() {
            if let Some(meta) = line.strip_prefix('#') {
                if let Some(sep) = meta.strip_prefix("separator ") {
                    separator = unescape_zeek(sep.trim());
                    continue;
                }
                let mut parts = meta.split(separator.as_str());
                match parts.next() {
                    Some("fields") => fields = parts.map(str::to_string).collect(),
                    Some("unset_field") => unset = parts.next().unwrap_or("-").to_string(),
                    Some("empty_field") => empty = parts.next().unwrap_or("(empty)").to_string(),
                    _ => {}
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            assert!(!fields.is_empty(), "Zeek log row before its #fields header: {line:?}");
            let values: Vec<Option<String>> = line
                .split(separator.as_str())
                .map(|v| {
                    if v == unset {
                        None
                    } else if v == empty {
                        Some(String::new())
                    } else {
                        Some(v.to_string())
                    }
                })
                .collect();
            assert_eq!(values.len(), fields.len(), "Zeek log row with {} values for {} fields: {line:?}", values.len(), fields.len());
            rows.push(values);
        }
        ZeekLog { fields, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.fields.iter().position(|f| f == name).unwrap_or_else(|| panic!("no field {name} in {:?}", self.fields))
    }
}

/// `\x09` -> tab, as in Zeek's `#separator \x09`.
fn unescape_zeek(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\\x") {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 2..i + 4).unwrap_or("");
        match u8::from_str_radix(hex, 16) {
            Ok(b) if hex.len() == 2 => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            _ => {
                out.push_str("\\x");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn zeek_log_parser_handles_header_unset_and_empty() {
    let log = ZeekLog::parse(
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#fields\ta\tb\tc\n#types\tstring\tstring\tstring\nx\t-\t(empty)\n#close\tXXXX\n",
    );
    assert_eq!(log.fields, ["a", "b", "c"]);
    assert_eq!(log.rows, vec![vec![Some("x".to_string()), None, Some(String::new())]]);
    assert_eq!(log.col("c"), 2);
}

// ---------------------------------------------------------------------------------------------
// 1. the mapping table

#[test]
fn every_baseline_with_an_ftp_log_is_mapped_to_a_trace() {
    let Some(zeek) = corpus() else { return };
    let base = zeek.join("Baseline");
    let mut with_log = BTreeSet::new();
    for entry in std::fs::read_dir(&base).expect("read Baseline/") {
        let entry = entry.unwrap();
        if entry.path().join("ftp.log").is_file() {
            with_log.insert(entry.file_name().to_string_lossy().into_owned());
        }
    }
    let mut problems = Vec::new();
    for name in &with_log {
        let mapped = BASELINES.iter().any(|(b, _)| b == name);
        let skipped = SKIPPED_BASELINES.iter().any(|(b, _)| b == name);
        if !mapped && !skipped {
            problems.push(format!("baseline {name} has an ftp.log but is neither mapped nor skipped"));
        }
    }
    for (b, t) in BASELINES {
        if !with_log.contains(*b) {
            problems.push(format!("mapped baseline {b} has no ftp.log"));
        }
        if !trace(&zeek, t).is_file() {
            problems.push(format!("mapped trace {t} (for {b}) does not exist"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(with_log.len() >= 18, "only {} baselines with an ftp.log found", with_log.len());
}

// ---------------------------------------------------------------------------------------------
// 2. every data-channel endpoint of Zeek's ftp.log is among ftpscope's negotiations

#[test]
fn zeek_data_channels_appear_among_negotiations() {
    let Some(zeek) = corpus() else { return };
    let mut misses: Vec<String> = Vec::new();
    let mut missed_rows = 0usize;
    let mut checked = 0usize;
    for (baseline, trace_rel) in BASELINES {
        let log_path = zeek.join("Baseline").join(baseline).join("ftp.log");
        let log = ZeekLog::parse(&std::fs::read_to_string(&log_path).expect("read ftp.log"));
        let (orig_h, orig_p, resp_h0, resp_p0) = (log.col("id.orig_h"), log.col("id.orig_p"), log.col("id.resp_h"), log.col("id.resp_p"));
        let (passive, dc_h, dc_p) = (log.col("data_channel.passive"), log.col("data_channel.resp_h"), log.col("data_channel.resp_p"));
        let v = report(&trace(&zeek, trace_rel));
        for row in &log.rows {
            let (Some(flag), Some(h), Some(p)) = (&row[passive], &row[dc_h], &row[dc_p]) else {
                continue;
            };
            let mode = match flag.as_str() {
                "T" => "passive",
                "F" => "active",
                other => panic!("{baseline}: data_channel.passive = {other:?}"),
            };
            // Zeek writes ports as "56666/tcp" in some versions; keep the number.
            let port = p.split('/').next().unwrap();
            let want = endpoint(h, port);
            let get = |i: usize| row[i].as_deref().unwrap_or("-");
            let client = endpoint(get(orig_h), get(orig_p));
            let server = endpoint(get(resp_h0), get(resp_p0));
            checked += 1;
            let session = sessions(&v).iter().find(|s| s["client"] == client.as_str() && s["server"] == server.as_str());
            let miss = match session {
                None => Some(format!("{trace_rel} ({baseline}): {mode} {want}: no session {client} -> {server} in ftpscope's report")),
                Some(session) => {
                    let found = negotiations(session).iter().any(|n| n["mode"] == mode && n["advertised"] == want.as_str());
                    (!found).then(|| format!("{trace_rel} ({baseline}): {mode} {want} (session {client} -> {server})"))
                }
            };
            if let Some(miss) = miss {
                missed_rows += 1;
                if !misses.contains(&miss) {
                    misses.push(miss);
                }
            }
        }
    }
    assert!(checked >= 700, "only {checked} data-channel rows checked: is the corpus complete?");
    assert!(
        misses.is_empty(),
        "{missed_rows} of {checked} Zeek data-channel rows ({} distinct) have no negotiation with that mode and \
         advertised endpoint (trace (baseline): mode endpoint):\n{}",
        misses.len(),
        misses.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 3. no trace makes ftpscope fail

fn all_traces(zeek: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [zeek.join("Traces/ftp"), zeek.join("Traces")] {
        for entry in std::fs::read_dir(&dir).expect("read Traces/") {
            let p = entry.unwrap().path();
            if p.is_file() && p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_trace_is_analyzed_without_failure() {
    let Some(zeek) = corpus() else { return };
    let traces = all_traces(&zeek);
    assert!(traces.len() >= 20, "only {} traces found in the corpus", traces.len());
    let mut problems = Vec::new();
    for t in &traces {
        let name = t.strip_prefix(zeek.join("Traces")).unwrap().display().to_string();
        // JSON
        let run = run_ftpscope(t, true);
        match run.code() {
            Some(0) | Some(1) => match serde_json::from_slice::<Value>(&run.stdout) {
                Ok(v) => {
                    if v["schema"] != "ftpscope/3" {
                        problems.push(format!("{name}: --json schema is {}", v["schema"]));
                    }
                    if !v["sessions"].is_array() || !v["findings"].is_array() {
                        problems.push(format!("{name}: --json lacks sessions[] or findings[]"));
                    }
                    let has_error = findings(&v).iter().any(|f| f["severity"] == "error");
                    if has_error != (run.code() == Some(1)) {
                        problems.push(format!("{name}: exit status {:?} but error finding present = {has_error}", run.code()));
                    }
                }
                Err(e) => problems.push(format!("{name}: --json stdout is not JSON: {e}")),
            },
            _ => problems.push(format!("{name}: --json exit {:?}, stderr: {}", run.status, String::from_utf8_lossy(&run.stderr).trim())),
        }
        // text
        let run = run_ftpscope(t, false);
        if !matches!(run.code(), Some(0) | Some(1)) {
            problems.push(format!("{name}: text exit {:?}, stderr: {}", run.status, String::from_utf8_lossy(&run.stderr).trim()));
        } else if run.stdout.is_empty() {
            problems.push(format!("{name}: text output is empty"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 4. facts a Zeek user expects (each checked with tshark)

/// tshark: PASV (frame 19) -> 227 (199,233,217,249,221,90), data SYN frame 22 from :37604, LIST;
/// PASV (38) -> 221,91, SYN 40, RETR robots.txt; PORT 141,142,220,235,131,46 (57) -> the server's
/// SYN from 199.233.217.249:61920 (not port 20) in frame 60, LIST; PORT ...,147,203 (75) -> SYN from
/// :61918 in frame 78, RETR robots.txt. Every SYN is answered.
#[test]
fn ipv4_two_pasv_two_port_all_established() {
    let Some(zeek) = corpus() else { return };
    let v = report(&trace(&zeek, "ftp/ipv4.pcap"));
    let s = sessions(&v);
    assert_eq!(s.len(), 1, "ipv4.pcap: one FTP session");
    let s = &s[0];
    assert_eq!(s["client"], "141.142.220.235:50003");
    assert_eq!(s["server"], "199.233.217.249:21");
    assert_eq!(s["control_port"], 21);
    assert_eq!(s["user"], "anonymous");
    assert_eq!(s["tls"], false);
    let got: Vec<(String, String, String, String, String)> = negotiations(s)
        .iter()
        .map(|n| {
            (
                n["command"].as_str().unwrap_or("?").to_string(),
                n["mode"].as_str().unwrap_or("?").to_string(),
                n["advertised"].as_str().unwrap_or("-").to_string(),
                n["data"]["outcome"].as_str().unwrap_or("?").to_string(),
                n["data"]["connection"]["client"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String, String, String)> = [
        ("PASV", "passive", "199.233.217.249:56666", "established", "141.142.220.235:37604"),
        ("PASV", "passive", "199.233.217.249:56667", "established", "141.142.220.235:59378"),
        ("PORT", "active", "141.142.220.235:33582", "established", "199.233.217.249:61920"),
        ("PORT", "active", "141.142.220.235:37835", "established", "199.233.217.249:61918"),
    ]
    .iter()
    .map(|(a, b, c, d, e)| (a.to_string(), b.to_string(), c.to_string(), d.to_string(), e.to_string()))
    .collect();
    assert_eq!(got, want, "ipv4.pcap negotiations (command, mode, advertised, outcome, data client)");
    let frames: Vec<(u64, u64)> = negotiations(s)
        .iter()
        .map(|n| (n["frame"].as_u64().unwrap_or(0), n["data"]["connection"]["syn_frame"].as_u64().unwrap_or(0)))
        .collect();
    assert_eq!(frames, [(19, 22), (38, 40), (57, 60), (75, 78)], "ipv4.pcap (negotiation frame, data SYN frame)");
    let cmds: Vec<&str> = negotiations(s).iter().map(|n| n["data"]["command"].as_str().unwrap_or("-")).collect();
    assert_eq!(cmds, ["LIST", "RETR robots.txt", "LIST", "RETR robots.txt"]);
    assert!(findings(&v).iter().all(|f| f["severity"] != "error"), "ipv4.pcap: no error finding");
}

/// tshark: control connection 10.3.22.91:58218 -> 10.167.25.101:21; 688 PASV commands, 689 227
/// replies, every one "Entering Passive Mode (205,167,25,101,p1,p2)": the server is NATed and
/// advertises its public address. (The trace has capture gaps, e.g. the 150 reply before frame 3940.)
#[test]
fn cwd_navigation_public_address_mismatch() {
    let Some(zeek) = corpus() else { return };
    let v = report(&trace(&zeek, "ftp/cwd-navigation.pcap"));
    let s = sessions(&v);
    assert_eq!(s.len(), 1, "cwd-navigation.pcap: one FTP session");
    let s = &s[0];
    assert_eq!(s["client"], "10.3.22.91:58218");
    assert_eq!(s["server"], "10.167.25.101:21");
    let ns = negotiations(s);
    let mut problems = Vec::new();
    let pasv = ns.iter().filter(|n| n["command"] == "PASV").count();
    if pasv < 688 {
        problems.push(format!("{pasv} PASV negotiations, tshark sees 688 PASV commands"));
    }
    let wrong: Vec<String> = ns
        .iter()
        .filter(|n| {
            n["command"] != "PASV" || n["reply_code"] != 227 || !n["advertised"].as_str().is_some_and(|a| a.starts_with("205.167.25.101:"))
        })
        .map(|n| {
            format!(
                "frame {}: {} reply {} (frame {}) advertised {}",
                n["frame"], n["command"], n["reply_code"], n["reply_frame"], n["advertised"]
            )
        })
        .collect();
    if !wrong.is_empty() {
        problems.push(format!(
            "every PASV is answered by a 227 advertising 205.167.25.101; {} negotiations are not, the first: {:#?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        ));
    }
    assert!(problems.is_empty(), "cwd-navigation.pcap:\n{}", problems.join("\n"));
    let mismatch = findings_of(&v, "address_mismatch");
    assert!(!mismatch.is_empty(), "cwd-navigation.pcap: an address_mismatch finding");
    assert!(
        mismatch.iter().any(|f| f.to_string().contains("205.167.25.101") && f.to_string().contains("10.167.25.101")),
        "address_mismatch names both addresses: {mismatch:?}"
    );
    assert!(findings_of(&v, "private_address_leak").is_empty(), "205.167.25.101 is public: no private_address_leak");
}

/// tshark: FEAT, AUTH TLS (frame 20), 234 Proceed with negotiation (frame 21), then TLS.
#[test]
fn ftp_auth_tls_is_encrypted() {
    let Some(zeek) = corpus() else { return };
    let v = report(&trace(&zeek, "ftp/ftp-auth-tls.pcap"));
    let s = sessions(&v);
    assert_eq!(s.len(), 1, "ftp-auth-tls.pcap: one FTP session");
    assert_eq!(s[0]["client"], "127.0.0.1:40284");
    assert_eq!(s[0]["server"], "127.0.0.1:21");
    assert_eq!(s[0]["tls"], true, "ftp-auth-tls.pcap: tls");
    let enc = findings_of(&v, "control_channel_encrypted");
    assert_eq!(enc.len(), 1, "ftp-auth-tls.pcap: one control_channel_encrypted finding: {:?}", findings(&v));
    let frames: Vec<u64> = enc[0]["frames"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
    assert!(frames.contains(&20) || frames.contains(&21), "evidence frames {frames:?} name AUTH TLS (20) or 234 (21)");
    assert!(findings_of(&v, "cleartext_credentials").is_empty(), "no credentials crossed in clear");
}

/// tshark (`-d tcp.port==2811,ftp`): GridFTP on port 2811; AUTH GSSAPI (6), ADATs until 235
/// (20), then ENC commands from frame 21 answered by 632 replies, and one data connection
/// 192.168.57.103:35391 -> 192.168.57.101:55968 (SYN in frame 37). Before: ten 632 replies read
/// as malformed, the data connection in no session.
#[test]
fn globus_gssapi_is_protected_and_its_data_connection_probable() {
    let Some(zeek) = corpus() else { return };
    let v = report(&trace(&zeek, "globus-url-copy.pcap"));
    let s = sessions(&v);
    assert_eq!(s.len(), 1, "globus-url-copy.pcap: one FTP session");
    assert_eq!((&s[0]["tls"], &s[0]["gssapi_frame"]), (&Value::Bool(false), &Value::from(21)));
    assert_eq!(findings_of(&v, "malformed_reply").len(), 0, "{:?}", findings(&v));
    let probable: Vec<(&Value, &Value)> =
        s[0]["probable_data_channels"].as_array().unwrap().iter().map(|c| (&c["server"], &c["outcome"])).collect();
    assert_eq!(probable, [(&Value::from("192.168.57.101:55968"), &Value::from("established"))]);
    let enc = findings_of(&v, "control_channel_encrypted");
    assert_eq!(enc.len(), 1, "{:?}", findings(&v));
    assert_eq!(enc[0]["details"]["protection"], "gssapi");
}

/// tshark: 500 PORT commands from 10.0.0.1:49152 to 10.0.0.2:21, every one naming 10.0.0.200.
#[test]
fn ftp_many_port_expected_is_a_bounce() {
    let Some(zeek) = corpus() else { return };
    let v = report(&trace(&zeek, "ftp/ftp-many-port-expected.pcap"));
    let s = sessions(&v);
    assert_eq!(s.len(), 1, "ftp-many-port-expected.pcap: one FTP session");
    let ports: Vec<&Value> = negotiations(&s[0]).iter().filter(|n| n["command"] == "PORT").collect();
    assert_eq!(ports.len(), 500, "ftp-many-port-expected.pcap: 500 PORT negotiations");
    assert!(ports.iter().all(|n| n["mode"] == "active" && n["advertised"].as_str().is_some_and(|a| a.starts_with("10.0.0.200:"))));
    let bounce = findings_of(&v, "bounce_attempt");
    assert!(!bounce.is_empty(), "ftp-many-port-expected.pcap: a bounce_attempt finding");
    assert!(bounce.iter().any(|f| f.to_string().contains("10.0.0.200")), "the finding names the third host");
    // The text report folds the 500 alike lines (no reply, no data connection): the first two,
    // a count with the frames and ports between, the last.
    let out =
        Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("analyze").arg(trace(&zeek, "ftp/ftp-many-port-expected.pcap")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("  PORT ---") || l.contains("more alike")).collect();
    assert_eq!(
        lines,
        [
            "      #6  PORT --- 10.0.0.200:20001 (a private (RFC 1918) address)  -> unknown",
            "      #8  PORT --- 10.0.0.200:20002 (a private (RFC 1918) address)  -> unknown",
            "          ... 497 more alike, frames #10 to #1002, ports 20003 to 20499 (each in --json)",
            "   #1004  PORT --- 10.0.0.200:20500 (a private (RFC 1918) address)  -> unknown",
        ],
        "{text}"
    );
}

/// tshark: frame 6 "USER Admin", frame 9 "PASS qwerty".
#[test]
fn password_never_appears_in_any_output() {
    let Some(zeek) = corpus() else { return };
    const PASSWORD: &str = "qwerty";
    let t = trace(&zeek, "ftp/ftp-password-pass-command.pcap");
    for json in [true, false] {
        let run = run_ftpscope(&t, json);
        assert!(matches!(run.code(), Some(0) | Some(1)), "status {:?}", run.status);
        for (stream, bytes) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            let text = String::from_utf8_lossy(bytes).to_lowercase();
            assert!(!text.contains(PASSWORD), "password appears in {stream} (json={json})");
        }
    }
    let v = report(&t);
    assert_eq!(sessions(&v)[0]["user"], "Admin");
    assert!(!findings_of(&v, "cleartext_credentials").is_empty(), "PASS in clear: a cleartext_credentials finding");
}

// 5. the library's reader and decoder on real pcaps

/// Every trace of `Traces/ftp` reads whole with the library's reader, frames numbered from 1 in
/// order, and decodes frame by frame without a panic; each has TCP segments.
#[test]
fn every_ftp_trace_reads_whole_and_decodes() {
    let Some(zeek) = corpus() else { return };
    let dir = zeek.join("Traces/ftp");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read Traces/ftp")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        let (mut tcp, mut errors) = (0u64, 0u64);
        let mut next = 1;
        let summary = ftpscope::capture::file::read_path(&path, 1, &mut |frame| {
            assert_eq!(frame.number, next);
            next += 1;
            match ftpscope::decode::decode(frame.link, frame.data, frame.orig_len) {
                Ok(ftpscope::decode::Decoded::Tcp(_)) => tcp += 1,
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(summary.truncated, None, "{}", path.display());
        assert!(summary.frames > 0, "{}", path.display());
        assert!(tcp > 0, "{}: no TCP segments", path.display());
        eprintln!("{}: {} frames, {tcp} TCP, {errors} undecodable", path.display(), summary.frames);
    }
}

/// tshark: SIZE rand.txt (frame 39) -> 213 5416666670; EPSV (43) -> 229 |||37150|; the data SYN
/// in frame 45, the server's ISN 3914442133; RETR rand.txt (48) -> 226 (73). The trace keeps a few
/// of the data frames only, the first at 3914442134 and the FIN's at 741173030 + 1182 bytes:
/// 5,416,666,670 bytes after the first, past 4 GiB, the sequence numbers wrapping once on the way
/// (a 32-bit span read 741,198,110).
#[test]
fn bigtransfer_counts_the_bytes_the_size_reply_gives() {
    let Some(zeek) = corpus() else { return };
    let v = report(&trace(&zeek, "ftp/bigtransfer.pcap"));
    let s = sessions(&v);
    assert_eq!(s.len(), 1, "bigtransfer.pcap: one FTP session");
    let retr = negotiations(&s[0]).iter().find(|n| n["data"]["command"] == "RETR rand.txt").expect("the RETR's negotiation");
    assert_eq!(retr["data"]["connection"]["server_isn"], 3_914_442_133u64);
    assert_eq!(retr["data"]["connection"]["bytes_to_client"], 5_416_666_670u64, "what SIZE said");
    assert_eq!(retr["data"]["bytes"], 5_416_666_670u64);
    assert_eq!(retr["data"]["reply_code"], 226);
}
