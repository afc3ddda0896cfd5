#![allow(dead_code)] // each test crate uses a different part
//! Shared by the tests: whether a test's needs are met (needs.rs); for the lab tests, run
//! ftpscope on a capture and compare its report with an expectation written by
//! fixtures/lab/expected.py (facts read from the capture with tshark).

pub mod needs;
pub mod scenario;

use needs::Need;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every finding of a report (schema ftpscope/3): each session's own, then those across sessions.
#[allow(dead_code)]
pub fn all_findings(v: &Value) -> Vec<&Value> {
    let sessions = v["sessions"].as_array().expect("sessions[] array");
    let own = sessions.iter().flat_map(|s| s["findings"].as_array().expect("sessions[].findings[] array"));
    own.chain(v["findings"].as_array().expect("findings[] array")).collect()
}

/// The lab's directory when the NAT lab may run: asked for (CI), as root, with the lab's
/// packages there. Nothing is installed here: fixtures/lab/install-deps.sh is run by .ci/run or
/// by a person, never by a test. Otherwise None, after the skip line (a failure in CI).
pub fn lab_ready() -> Option<PathBuf> {
    needs::met(LAB).then(|| root().join("fixtures/lab"))
}

/// What running the NAT lab (fixtures/lab) needs.
pub const LAB: &[Need] = &[Need::Lab, Need::Root, Need::LabPackages];

/// The `live` build of ftpscope (libpcap): built once per test process (`cargo build --release
/// --features live --target-dir target/live`; cargo's lock lets two test processes share it),
/// after `needs` are checked; None when they are not met (the skip line, or a failure in CI).
/// A test binary built with the feature itself uses its own ftpscope.
pub fn live_binary(needs: &[Need]) -> Option<PathBuf> {
    if cfg!(feature = "live") {
        return Some(PathBuf::from(env!("CARGO_BIN_EXE_ftpscope")));
    }
    if !needs::met(needs) {
        return None;
    }
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let target = root().join("target/live");
        let out = Command::new("timeout")
            .arg("1200")
            .arg(cargo)
            .args(["build", "--release", "--features", "live", "--target-dir"])
            .arg(&target)
            .current_dir(root())
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("cargo build --features live failed:\n{}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(target.join("release/ftpscope"))
    });
    match built {
        Ok(path) => Some(path.clone()),
        Err(e) => panic!("{e}"),
    }
}

/// A fresh scratch directory path for one test process (removed if left from an earlier one).
pub fn scratch(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn analyze(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("analyze").arg("--json").arg(path).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The captures listed in an expected.json.
pub fn expected(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    v.get("captures").and_then(Value::as_array).cloned().expect("captures[]")
}

fn kinds(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().map(str::to_string).unwrap_or_else(|| k["kind"].as_str().unwrap().to_string()))
        .collect()
}

/// Checks every capture of an expected.json under `dir`; returns the differences.
pub fn check_all(dir: &Path, captures: &[Value]) -> Vec<String> {
    let mut diffs = Vec::new();
    for want in captures {
        let file = want["file"].as_str().unwrap();
        let got = analyze(&dir.join(file));
        diffs.extend(compare(file, want, &got));
    }
    diffs
}

/// Compares one capture's report with its expectation; returns the differences.
pub fn compare(file: &str, want: &Value, got: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let ws = want["sessions"].as_array().unwrap();
    // The report lists sessions as they settle; the expectation in the order they began.
    let mut gs: Vec<&Value> = got["sessions"].as_array().unwrap().iter().collect();
    gs.sort_by_key(|s| s["id"].as_u64());
    if ws.len() != gs.len() {
        diffs.push(format!("{file}: {} sessions, expected {}", gs.len(), ws.len()));
        return diffs;
    }
    for (i, (w, g)) in ws.iter().zip(gs).enumerate() {
        for key in ["client", "server", "control_port"] {
            if !w[key].is_null() && w[key] != g[key] {
                diffs.push(format!("{file}: session {i} {key} = {}, expected {}", g[key], w[key]));
            }
        }
        let wn = w["negotiations"].as_array().unwrap();
        let gn = g["negotiations"].as_array().unwrap();
        if wn.len() != gn.len() {
            diffs.push(format!("{file}: session {i}: {} negotiations, expected {}", gn.len(), wn.len()));
            continue;
        }
        for (j, (w, g)) in wn.iter().zip(gn).enumerate() {
            let got_outcome = &g["data"]["outcome"];
            for (key, got_value) in
                [("command", &g["command"]), ("advertised", &g["advertised"]), ("reply_code", &g["reply_code"]), ("outcome", got_outcome)]
            {
                if w.get(key).is_some() && &w[key] != got_value {
                    diffs.push(format!("{file}: session {i} negotiation {j} {key} = {got_value}, expected {}", w[key]));
                }
            }
        }
    }
    let want_kinds = kinds(&want["findings"]);
    let got_kinds = kinds(&Value::Array(all_findings(got).into_iter().cloned().collect()));
    if want_kinds != got_kinds {
        diffs.push(format!("{file}: finding kinds {got_kinds:?}, expected {want_kinds:?}"));
    }
    diffs
}
