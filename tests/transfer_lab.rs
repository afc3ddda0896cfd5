//! The transfer record and its findings (issue 22, items 1 and 4) on real servers: the lab's
//! test-time scenario `transfer-records-lab` (fixtures/lab/lab.sh) runs vsftpd and ProFTPD, and
//! its capture must read as the servers behaved: a clean download and upload complete with the
//! sizes and the directory, a REST resume complete from its offset (vsftpd announces the whole
//! file after REST, ProFTPD what remains), an ABOR vsftpd answers only after sending the file
//! (complete) and one ProFTPD acts on (aborted, no `transfer_incomplete`), a session whose server
//! processes were killed mid-file, vsftpd's and ProFTPD's (a resume, expected what ProFTPD
//! announced): `closed_short`, `transfer_incomplete`; a binary file in TYPE A
//! from vsftpd with ascii_download_enable and from ProFTPD (`ascii_mode_binary`, and the bytes
//! translated), the same file in TYPE I (no finding); `--extract` gives the clean files back.
//! Runs with CI=true as root (the README's skip convention otherwise).

mod common;

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

const SIZE: u64 = 1_048_576; // big.bin
const SMALL: u64 = 200_000; // bin.dat: random bytes, NULs among them
const UPLOAD: u64 = 1_000_000; // up.bin
const REST: u64 = 400_000;

fn ftpscope(args: &[&str], path: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).arg(path).env("NO_COLOR", "1").output().unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// One session of the capture: its records (one per negotiation), its verdicts, its findings.
struct Seen {
    software: Value,
    records: Vec<Value>,
    verdicts: Vec<Value>,
    findings: Vec<Value>,
}

impl Seen {
    fn kinds(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f["kind"].as_str().unwrap()).collect()
    }

    fn finding(&self, kind: &str) -> Option<&Value> {
        self.findings.iter().find(|f| f["kind"] == kind)
    }
}

fn sessions(capture: &Path) -> Vec<Seen> {
    let out = ftpscope(&["analyze", "-q", "--json"], capture);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = v["sessions"].as_array().unwrap();
    all.iter()
        .map(|s| {
            let negotiations = s["negotiations"].as_array().unwrap();
            Seen {
                software: s["software"].clone(),
                records: negotiations.iter().map(|n| n["data"]["record"].clone()).collect(),
                verdicts: negotiations.iter().map(|n| n["data"]["transfer"].clone()).collect(),
                findings: s["findings"].as_array().unwrap().clone(),
            }
        })
        .collect()
}

/// The record's fields that are the point, as (field, value) pairs checked one by one.
fn check(failures: &mut Vec<String>, label: &str, record: &Value, want: &[(&str, Value)]) {
    for (field, value) in want {
        if &record[*field] != value {
            failures.push(format!("{label}: {field} is {}, not {value} (record {record})", record[*field]));
        }
    }
}

/// A download of a clean, whole file in TYPE I from /files (the clean session CWDs there).
fn whole(path: &str, bytes: u64, cwd: Value) -> Vec<(&'static str, Value)> {
    vec![
        ("direction", "download".into()),
        ("path", path.into()),
        ("cwd", cwd),
        ("type", "I".into()),
        ("rest_offset", Value::Null),
        ("announced_size", bytes.into()),
        ("announced_by", "preliminary".into()),
        ("bytes", bytes.into()),
        ("missing_bytes", 0.into()),
        ("completeness", "complete".into()),
        ("not_text", Value::Null),
    ]
}

fn session_checks(point: &str, s: &[Seen], failures: &mut Vec<String>) {
    if s.len() != 7 {
        failures.push(format!("{point}: {} sessions, not 7", s.len()));
        return;
    }
    let ok = serde_json::json!({"verdict": "ok"});
    let quiet = |f: &mut Vec<String>, n: usize, label: &str| {
        for kind in ["transfer_incomplete", "transfer_failed", "ascii_mode_binary"] {
            if s[n].kinds().contains(&kind) {
                f.push(format!("{point} {label}: {kind} {:?}", s[n].finding(kind)));
            }
        }
    };

    // vsftpd, unlimited: CWD /files, RETR, STOR, REST 400000 + RETR, the small file in TYPE I.
    let clean = &s[0];
    let files: Value = "/files".into();
    check(failures, &format!("{point} clean RETR"), &clean.records[0], &whole("big.bin", SIZE, files.clone()));
    let upload = [
        ("direction", "upload".into()),
        ("path", "up.bin".into()),
        ("cwd", files.clone()),
        ("bytes", UPLOAD.into()),
        ("completeness", "complete".into()),
    ];
    check(failures, &format!("{point} clean STOR"), &clean.records[1], &upload);
    // vsftpd announces the whole file after REST: the rest is what must arrive.
    let resumed = [
        ("rest_offset", REST.into()),
        ("announced_size", SIZE.into()),
        ("bytes", (SIZE - REST).into()),
        ("completeness", "complete".into()),
        ("cwd", files.clone()),
    ];
    check(failures, &format!("{point} vsftpd REST"), &clean.records[2], &resumed);
    check(failures, &format!("{point} vsftpd TYPE I"), &clean.records[3], &whole("bin.dat", SMALL, files));
    if clean.verdicts.iter().any(|v| v != &ok) {
        failures.push(format!("{point} clean: verdicts {:?}", clean.verdicts));
    }
    quiet(failures, 0, "clean");

    // vsftpd (no async_abor_enable) sends the whole file, 226, then "225 No transfer to ABOR":
    // the ABOR cut nothing.
    let late = [("bytes", SIZE.into()), ("completeness", "complete".into()), ("type", "I".into())];
    check(failures, &format!("{point} vsftpd late ABOR"), &s[1].records[0], &late);
    if s[1].verdicts[0] != ok {
        failures.push(format!("{point} vsftpd late ABOR: verdict {}", s[1].verdicts[0]));
    }
    quiet(failures, 1, "vsftpd late ABOR");

    // vsftpd with ascii_download_enable, and ProFTPD by default: TYPE A of a binary file.
    for (n, at, server) in [(2, 0, "vsftpd"), (4, 0, "proftpd")] {
        let label = format!("{point} {server} TYPE A");
        let r = &s[n].records[at];
        check(failures, &label, r, &[("type", "A".into()), ("not_text", "nul".into()), ("announced_size", SMALL.into())]);
        // Translated: each LF became CRLF on the way, so more bytes than the file's.
        if r["bytes"].as_u64().unwrap_or(0) <= SMALL {
            failures.push(format!("{label}: {} bytes, not translated", r["bytes"]));
        }
        if s[n].software != server {
            failures.push(format!("{label}: software {}", s[n].software));
        }
        match s[n].finding("ascii_mode_binary") {
            // The wire shows the translation (more bytes than announced): said, not hedged.
            Some(f)
                if f["severity"] == "warning"
                    && f["details"]["argument"] == "bin.dat"
                    && f["details"]["not_text"] == "nul"
                    && f["explanation"].as_str().is_some_and(|e| e.contains("The server translated it")) => {}
            other => failures.push(format!("{label}: ascii_mode_binary {other:?}")),
        }
    }

    // The servers' session processes killed 2 s into a RETR at 200 KB/s: vsftpd's of the whole
    // file, ProFTPD's of a resume (about 400000 of the 648576 bytes it announced: short, though
    // past the file's size less the offset, which is what a whole-file announcement would expect).
    for (n, server, rest, expected) in [(3, "vsftpd", None, SIZE), (6, "proftpd", Some(REST), SIZE - REST)] {
        killed_checks(&format!("{point} {server} killed"), &s[n], rest, expected, failures);
    }

    // ProFTPD: the small file in TYPE I (no finding on it), then REST: its 150 announces the rest.
    let proftpd = &s[4];
    check(failures, &format!("{point} proftpd TYPE I"), &proftpd.records[1], &whole("bin.dat", SMALL, Value::Null));
    let resumed = [
        ("rest_offset", REST.into()),
        ("announced_size", (SIZE - REST).into()),
        ("bytes", (SIZE - REST).into()),
        ("completeness", "complete".into()),
    ];
    check(failures, &format!("{point} proftpd REST"), &proftpd.records[2], &resumed);
    if proftpd.kinds().iter().filter(|k| ["ascii_mode_binary", "transfer_incomplete", "transfer_failed"].contains(k)).count() != 1 {
        failures.push(format!("{point} proftpd: findings {:?}", proftpd.kinds()));
    }

    // ProFTPD acts on the ABOR: 426, the transfer aborted by the client, not incomplete.
    let abor = &s[5];
    check(
        failures,
        &format!("{point} proftpd ABOR"),
        &abor.records[0],
        &[("completeness", "partial".into()), ("partial", "aborted".into())],
    );
    if abor.verdicts[0] != serde_json::json!({"verdict": "failed", "reason": "aborted"}) {
        failures.push(format!("{point} proftpd ABOR: verdict {}", abor.verdicts[0]));
    }
    if abor.finding("transfer_incomplete").is_some()
        || abor.finding("transfer_failed").map(|f| &f["details"]["reason"]) != Some(&"aborted".into())
    {
        failures.push(format!("{point} proftpd ABOR: findings {:?}", abor.findings));
    }
}

/// A download whose server session was killed mid-file: short, and `transfer_incomplete` says so.
fn killed_checks(label: &str, killed: &Seen, rest: Option<u64>, expected: u64, failures: &mut Vec<String>) {
    let r = &killed.records[0];
    let want = [("completeness", "partial".into()), ("partial", "closed_short".into()), ("rest_offset", rest.into())];
    check(failures, label, r, &want);
    let bytes = r["bytes"].as_u64().unwrap_or(0);
    if !(100_000..expected).contains(&bytes) {
        failures.push(format!("{label}: {bytes} bytes"));
    }
    if killed.verdicts[0] != serde_json::json!({"verdict": "failed", "reason": "no_reply"}) {
        failures.push(format!("{label}: verdict {}", killed.verdicts[0]));
    }
    match killed.finding("transfer_incomplete") {
        Some(f)
            if f["severity"] == "error"
                && f["details"]["partial"] == "closed_short"
                && f["details"]["bytes"] == bytes
                && f["details"]["expected_bytes"] == expected
                && f["details"]["stopped_frame"] == r["last_frame"] => {}
        other => failures.push(format!("{label}: transfer_incomplete {other:?}")),
    }
}

/// `--extract`: the clean transfers come back byte for byte; the TYPE A copies do not (translated).
fn extract_checks(point: &str, capture: &Path, dir: &Path, originals: &HashMap<String, String>, failures: &mut Vec<String>) {
    let out = ftpscope(&["analyze", "-q", "--extract", dir.to_str().unwrap()], capture);
    assert!(dir.join("manifest.ndjson").exists(), "{point}: no manifest: {}", String::from_utf8_lossy(&out.stderr));
    let manifest: Vec<Value> =
        std::fs::read_to_string(dir.join("manifest.ndjson")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let line = |session: u64, negotiation: u64| manifest.iter().find(|l| l["session"] == session && l["negotiation"] == negotiation);
    // (session, negotiation, original, the same bytes?)
    let wanted = [
        (0, 0, "big.bin", true),
        (0, 1, "up.bin", true),
        (0, 3, "bin.dat", true),
        (4, 1, "bin.dat", true),
        (2, 0, "bin.dat", false),
        (4, 0, "bin.dat", false),
    ];
    for (session, negotiation, name, same) in wanted {
        let label = format!("{point} extract s{session} n{negotiation} ({name})");
        let Some(l) = line(session, negotiation) else {
            failures.push(format!("{label}: not in the manifest"));
            continue;
        };
        let written = sha256(&std::fs::read(dir.join(l["file"].as_str().unwrap())).unwrap());
        let original = &originals[name];
        if l["sha256"] != *written || l["complete"] != true || (written == *original) != same {
            failures.push(format!("{label}: {l} (written {written}, the original {original})"));
        }
    }
}

#[test]
fn the_lab_servers_transfers_read_as_they_behaved() {
    let Some(lab) = common::lab_ready() else { return };
    let dir = common::scratch("ftpscope-transfer-lab");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = "transfer-records-lab";
    let run = Command::new("timeout").arg("300").arg(lab.join("lab.sh")).arg(scenario).arg(&dir).output().unwrap();
    assert!(run.status.success(), "lab.sh {scenario}: {}", String::from_utf8_lossy(&run.stderr));
    let out = dir.join(scenario);
    let originals: HashMap<String, String> = std::fs::read_to_string(out.join("originals.sha256"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(sha, name)| (name.to_string(), sha.to_string())))
        .collect();
    let mut failures = Vec::new();
    for point in ["client", "server"] {
        let capture = out.join(format!("{point}.pcap"));
        session_checks(point, &sessions(&capture), &mut failures);
        extract_checks(point, &capture, &out.join(format!("extracted-{point}")), &originals, &mut failures);
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
