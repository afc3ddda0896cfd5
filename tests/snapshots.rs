//! The reports of a few captures, text and JSON, as reviewed snapshots: any change to what a
//! user reads shows up in review (`cargo insta review` after an intended change).

use std::path::PathBuf;
use std::process::Command;

fn run(rel: &str, json: bool) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpscope"));
    cmd.arg("analyze").env("NO_COLOR", "1");
    if json {
        cmd.arg("--json");
    }
    // Relative to the crate so the recorded input paths do not depend on the checkout's place.
    let out = cmd.arg(&path).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().replace(&format!("{}/", env!("CARGO_MANIFEST_DIR")), "")
}

#[test]
fn text_private_leak_that_fails() {
    insta::assert_snapshot!(run("fixtures/pasv-private-leak-fail/client.pcap", false));
}

#[test]
fn text_active_mode_through_the_nat_helper() {
    insta::assert_snapshot!(run("fixtures/alg-active/client.pcap", false));
}

#[test]
fn text_tls_hides_a_failing_passive_port() {
    insta::assert_snapshot!(run("fixtures/alg-blind-tls/client.pcap", false));
}

#[test]
fn json_active_refused() {
    let v: serde_json::Value = serde_json::from_str(&run("fixtures/active-refused/client.pcap", true)).unwrap();
    insta::assert_json_snapshot!(v);
}
