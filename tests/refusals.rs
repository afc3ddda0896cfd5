//! Sessions that fail before any data (issue 21), on the NAT lab's captures of real servers
//! refusing (fixtures/login-*, service-*): each gives its finding with its severity, its
//! evidence frames (the command and the reply, as tshark numbers them) and a fix with the
//! setting and the value the capture shows. Facts are asserted, not wording. The fixes a server
//! setting cures are applied as printed in tests/lab_proof.rs.

mod common;

use serde_json::Value;
use std::process::Command;

/// `analyze --json` of a lab capture: the report, with exit status 1 (an error in each).
fn analyze(file: &str) -> Value {
    let path = common::root().join("fixtures").join(file);
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["analyze", "--json"]).arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Session `id` (sessions are reported as they settle, not in id order).
fn session(v: &Value, id: usize) -> &Value {
    v["sessions"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no session {id}"))
}

/// The findings of session `i` that are not consequences: (kind, severity, frames).
fn causes(v: &Value, i: usize) -> Vec<(String, String, Vec<u64>)> {
    let found = session(v, i)["findings"].as_array().unwrap();
    found
        .iter()
        .filter(|f| f["caused_by"].is_null())
        .map(|f| {
            let frames = f["frames"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
            (f["kind"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string(), frames)
        })
        .collect()
}

fn cause(kind: &str, severity: &str, frames: &[u64]) -> (String, String, Vec<u64>) {
    (kind.to_string(), severity.to_string(), frames.to_vec())
}

/// Session `i`'s first finding's fix actions, each with its `apply` lines.
fn fixes(v: &Value, i: usize) -> Vec<(String, Vec<String>)> {
    let f = &session(v, i)["findings"][0];
    let lines = |x: &Value| x["apply"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
    f["fix"].as_array().unwrap().iter().map(|x| (x["action"].as_str().unwrap().to_string(), lines(x))).collect()
}

fn details(v: &Value, i: usize) -> &Value {
    &session(v, i)["findings"][0]["details"]
}

#[test]
fn vsftpd_anonymous_only_names_local_enable() {
    let v = analyze("login-anonymous-only/client.pcap");
    assert_eq!(causes(&v, 0), [cause("login_failed", "error", &[9, 11])]);
    let d = details(&v, 0);
    assert_eq!(
        (&d["reason"], &d["command"], &d["user"], &d["reply_code"]),
        (&"anonymous_only".into(), &"USER".into(), &"ftplab".into(), &530.into())
    );
    assert_eq!(fixes(&v, 0), [("allow_local_logins".to_string(), vec!["local_enable=YES".to_string()])]);
}

#[test]
fn vsftpd_without_anonymous_logins_names_anonymous_enable() {
    let v = analyze("login-anonymous-refused/client.pcap");
    assert_eq!(causes(&v, 0), [cause("login_failed", "error", &[9, 11])]);
    assert_eq!((&details(&v, 0)["reason"], &details(&v, 0)["user"]), (&"anonymous_refused".into(), &"anonymous".into()));
    assert_eq!(fixes(&v, 0), [("allow_anonymous".to_string(), vec!["anonymous_enable=YES".to_string()])]);
}

#[test]
fn a_wrong_password_is_an_error_and_a_typo_a_warning_without_a_fix() {
    let v = analyze("login-wrong-password/client.pcap");
    assert_eq!(causes(&v, 0), [cause("login_failed", "error", &[13, 15])]);
    assert_eq!(details(&v, 0)["reason"], "wrong_credentials");
    assert_eq!(fixes(&v, 0), [("check_credentials".to_string(), vec![])], "nothing on the server to change");
    assert_eq!(causes(&v, 1), [cause("login_failed", "warning", &[30, 32])]);
    assert_eq!(details(&v, 1)["logged_in_later"], true);
    assert!(fixes(&v, 1).is_empty(), "corrected in the session");
    // ProFTPD alike.
    let v = analyze("login-incorrect-proftpd/client.pcap");
    assert_eq!(causes(&v, 0), [cause("login_failed", "error", &[14, 15])]);
    assert_eq!(causes(&v, 1), [cause("login_failed", "warning", &[30, 31])]);
}

#[test]
fn vsftpd_userlist_names_the_user_to_take_off() {
    let v = analyze("login-denied-user/client.pcap");
    assert_eq!(causes(&v, 0), [cause("login_failed", "error", &[8, 10])]);
    assert_eq!(details(&v, 0)["reason"], "user_denied");
    assert_eq!(fixes(&v, 0), [("unlist_user".to_string(), vec!["sed -i '/^ftplab$/d' /etc/vsftpd.user_list".to_string()])]);
}

#[test]
fn vsftpd_writable_chroot_is_the_session_refused_not_the_password() {
    let v = analyze("login-oops-chroot/client.pcap");
    // The PASS, and the frame that completes the OOPS reply (it came in three segments).
    assert_eq!(causes(&v, 0), [cause("service_refused", "error", &[12, 17])]);
    assert_eq!(details(&v, 0)["reason"], "writable_chroot");
    assert_eq!(fixes(&v, 0), [("allow_writable_chroot".to_string(), vec!["allow_writeable_chroot=YES".to_string()])]);
}

#[test]
fn tls_required_is_told_as_that_and_not_as_a_failed_login() {
    let v = analyze("login-tls-required/client.pcap");
    assert_eq!(causes(&v, 0), [cause("tls_required", "error", &[9, 11])]);
    let actions: Vec<String> = fixes(&v, 0).into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["client_explicit_tls", "helper_blind_under_tls", "allow_clear_logins"]);
    assert_eq!(fixes(&v, 0)[2].1, ["force_local_logins_ssl=NO", "force_local_data_ssl=NO"], "the way back, knowingly, both channels");
}

#[test]
fn a_connection_limit_refuses_at_the_greeting_and_the_block_raises_it_for_every_session_wanted() {
    for (capture, line) in [("service-max-per-ip/client.pcap", "max_per_ip=3"), ("service-max-per-ip-pureftpd/client.pcap", "-C 3")] {
        let v = analyze(capture);
        let sessions = v["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 3, "{capture}: a connection greeted with 421 is a session");
        assert!(causes(&v, 0).is_empty(), "{capture}: the first got in");
        for i in [1, 2] {
            let found = causes(&v, i);
            assert_eq!((found.len(), found[0].0.as_str(), found[0].2.len()), (1, "service_refused", 1), "{capture}: {found:?}");
            assert_eq!(details(&v, i)["reason"], "too_many_from_address");
            assert_eq!(details(&v, i)["reply_code"], 421);
            // The session's fix points to the server's block, which has the value.
            assert_eq!(session(&v, i)["findings"][0]["fix"][0]["at_least"]["from"], "server_block");
        }
        let block = v["servers"][0]["fix"].as_array().unwrap();
        assert_eq!(block.len(), 1, "{capture}: {block:?}");
        assert_eq!(block[0]["action"], "raise_connection_limit");
        assert_eq!(block[0]["at_least"], serde_json::json!({"value": 3, "from": "capture"}));
        assert_eq!(block[0]["apply"], serde_json::json!([line]));
    }
}

#[test]
fn twenty_four_wrong_passwords_in_a_minute_are_one_guesser() {
    let v = analyze("login-guessing/client.pcap");
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 24);
    for i in 0..24 {
        assert_eq!(causes(&v, i)[0].0, "login_failed");
    }
    let guessing: Vec<&Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "password_guessing").collect();
    assert_eq!(guessing.len(), 1, "one per address, not one per session");
    let (f, d) = (guessing[0], &guessing[0]["details"]);
    assert_eq!(f["severity"], "warning");
    assert_eq!((&d["client"], &d["failed_logins"], &d["sessions"]), (&"192.168.1.10".into(), &24.into(), &24.into()));
    assert_eq!(d["users"], serde_json::json!(["ftplab", "admin"]));
    assert_eq!((&d["threshold"], &d["window_minutes"]), (&20.into(), &15.into()));
    // With a rule it does not meet, nothing.
    let path = common::root().join("fixtures/login-guessing/client.pcap");
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope"))
        .args(["analyze", "--json", "--guessing-threshold", "30/15"])
        .arg(&path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!v["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "password_guessing"));

    // The verdict names the guesser too: each session alone reads as a refused login.
    let verdict = |threshold: &str| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope"))
            .args(["explain", "--json", "--guessing-threshold", threshold])
            .arg(&path)
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["captures"][0]["verdict"].clone()
    };
    let (met, unmet) = (verdict("20/15"), verdict("30/15"));
    assert_eq!((&met["guessing_addresses"], &unmet["guessing_addresses"]), (&1.into(), &0.into()));
    assert!(met["text"].as_str().unwrap().ends_with(" Password guessing from 1 client address(es) (told at the end)."), "{met}");
    assert!(!unmet["text"].as_str().unwrap().contains("guessing"), "{unmet}");
}

#[test]
fn explain_never_calls_a_refused_capture_healthy() {
    for capture in ["login-anonymous-only/client.pcap", "login-denied-user/client.pcap", "login-tls-required/client.pcap"] {
        let path = common::root().join("fixtures").join(capture);
        let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(["explain", "--json"]).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{capture}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let c = &v["captures"][0];
        assert_eq!(c["verdict"]["problem_sessions"], 1, "{capture}");
        assert!(c["healthy"].as_array().unwrap().is_empty(), "{capture}");
        let steps = c["problems"][0]["explanation"]["steps"].as_array().unwrap();
        assert!(steps.iter().any(|s| s["fact"] == "refused"), "{capture}: the story tells the refusal");
    }
}
