//! The command line's options on the bundled fixtures (issue 24), each with what it prints:
//! the views of one report (`--summary`, `--errors-only`, `-v`), narrowing (`--session`,
//! `--host`, `--filter`), the shared output flags (`--color`, `--ndjson` on explain),
//! `--version`, the generated completions and man page, and the errors' one style.
//!
//! `--filter` needs libpcap: a test binary built with the `live` feature uses its own
//! ftpscope; otherwise, when CI asks (CI=true, libpcap's development files), the tests build the
//! live binary as tests/live.rs does, and a plain `cargo test` skips them in one line. The
//! default build's refusal of `--filter` is tested without it.

mod common;

use common::needs::Need;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin).args(args).env_remove("NO_COLOR").output().expect("ftpscope runs")
}

fn ftpscope(args: &[&str]) -> Output {
    run(Path::new(env!("CARGO_BIN_EXE_ftpscope")), args)
}

fn fixture(rel: &str) -> String {
    common::root().join("fixtures").join(rel).display().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

fn ndjson(out: &Output) -> Vec<Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn ids(report: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = report["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_u64().unwrap()).collect();
    ids.sort();
    ids
}

/// The sessions the NDJSON events are about, each once, sorted.
fn event_sessions(events: &[Value]) -> Vec<u64> {
    let mut ids: Vec<u64> = events.iter().filter_map(|e| e["session"].as_u64()).filter(|&s| s != u64::from(u32::MAX)).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Nine sessions of one client through two NAT routers to pyftpdlib, six with an error (the
/// server leaks its address; some passive ports are not forwarded), three with warnings only.
const PARTIAL_LEAK: &str = "pasv-range-partial-leak/client.pcap";

#[test]
fn summary_is_a_line_per_session_then_the_totals() {
    let out = ftpscope(&["analyze", "--summary", &fixture(PARTIAL_LEAK)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.iter().filter(|l| l.starts_with("session ")).count(), 9, "{text}");
    assert!(
        lines.contains(
            &"session 4  192.168.1.10:40684 -> 198.51.100.2:21  user anonymous  PASV  data 2 ok, 0 failed  WARN  private_address_leak"
        ),
        "{text}"
    );
    assert!(
        lines.contains(
            &"session 7  192.168.1.10:40728 -> 198.51.100.2:21  user anonymous  PASV  data 0 ok, 2 failed  ERROR data_connection_failed (+1 more)"
        ),
        "{text}"
    );
    assert_eq!(
        lines[lines.len() - 2],
        "ftpscope: 333 frames, 27 TCP connections, 9 FTP session(s), 18 negotiation(s); findings: 6 error(s), 8 warning(s), 0 info"
    );
    assert_eq!(lines[lines.len() - 1], "  18 transfer(s): 8 ok, 10 failed");
    // Nothing of the full report: no explanation, no fix, no server block.
    assert!(!text.contains("fix:") && !text.contains("\nserver "), "{text}");
}

#[test]
fn summary_tells_the_findings_about_the_whole_capture() {
    let out = ftpscope(&["analyze", "--summary", &fixture("login-guessing/client.pcap")]);
    let text = stdout(&out);
    assert!(
        text.contains("session 0  192.168.1.10:43532 -> 192.0.2.30:21  user ftplab  -  data 0 ok, 0 failed  ERROR login_failed"),
        "{text}"
    );
    let guessing = text.lines().find(|l| l.starts_with("WARN  password_guessing")).unwrap_or_else(|| panic!("{text}"));
    assert!(guessing.contains("24 failed logins from 192.168.1.10"), "{guessing}");
}

#[test]
fn errors_only_shows_the_sessions_with_an_error_in_every_format() {
    let path = fixture(PARTIAL_LEAK);
    let report = json(&ftpscope(&["analyze", "--json", "--errors-only", &path]));
    assert_eq!(ids(&report), [0, 1, 2, 3, 6, 7]);
    for s in report["sessions"].as_array().unwrap() {
        assert!(s["findings"].as_array().unwrap().iter().any(|f| f["severity"] == "error"), "{}", s["id"]);
    }
    // The whole capture's parts stay whole: totals and servers.
    assert_eq!(report["capture"]["sessions"], 9);
    assert_eq!(report["servers"].as_array().unwrap().len(), 1);

    let events = ndjson(&ftpscope(&["analyze", "--ndjson", "--errors-only", &path]));
    assert_eq!(event_sessions(&events), [0, 1, 2, 3, 6, 7]);
    // Held until the session's end decided, then given in their order: start first.
    for id in [0, 7] {
        let of: Vec<&str> = events.iter().filter(|e| e["session"] == id).map(|e| e["event"].as_str().unwrap()).collect();
        assert_eq!(of.first(), Some(&"session_start"), "{id}: {of:?}");
        assert_eq!(of.last(), Some(&"session_end"), "{id}: {of:?}");
        assert!(of.contains(&"negotiation") && of.contains(&"data_outcome"), "{id}: {of:?}");
    }
    assert_eq!(events.last().unwrap()["event"], "summary");

    let out = ftpscope(&["analyze", "--errors-only", &path]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("session 7  192.168.1.10:40728") && !text.contains("session 4  192.168.1.10:40684"), "{text}");
    assert!(text.contains("(--errors-only: 6 of 9 session(s) shown, counted below;"), "{text}");
}

#[test]
fn session_narrows_to_one_and_the_status_follows_it() {
    let path = fixture(PARTIAL_LEAK);
    // Session 4 has warnings only: 0, though the capture has errors.
    let out = ftpscope(&["analyze", "--json", "--session", "4", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ids(&json(&out)), [4]);
    let out = ftpscope(&["analyze", "--session", "7", "--session", "4", &path]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("session 4  192.168.1.10:40684 -> 198.51.100.2:21  user anonymous"), "{text}");
    assert!(text.contains("\nsession 7  192.168.1.10:40728") && !text.contains("session 0  "), "{text}");
    assert!(text.contains("2 FTP session(s), 2 with a problem"), "the verdict counts the sessions shown: {text}");
    assert!(text.contains("(--session 7 --session 4: 2 of 9 session(s) shown"), "{text}");
    let events = ndjson(&ftpscope(&["analyze", "--ndjson", "--session", "4", &path]));
    assert_eq!(event_sessions(&events), [4]);
    // A session that does not exist: nothing shown, and said.
    let text = stdout(&ftpscope(&["analyze", "--session", "99", &path]));
    assert!(text.contains("(--session 99: 0 of 9 session(s) shown"), "{text}");
}

#[test]
fn host_counts_data_connections_tries_and_advertised_addresses() {
    // The server's view of a NAT pool: the data connection comes from 203.0.113.3, which is
    // on neither side of the control connection (203.0.113.2 -> 192.0.2.30).
    let pool = fixture("pasv-nat-pool/server.pcap");
    let other = fixture("pasv-private-leak-workaround/client.pcap");
    let report = json(&ftpscope(&["analyze", "--json", "--host", "203.0.113.3", &pool, &other]));
    let sessions = report["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["client"], "203.0.113.2:37174");
    // Either side of the control connection: both files' sessions to their servers.
    assert_eq!(ids(&json(&ftpscope(&["analyze", "--json", "--host", "198.51.100.2", &pool, &other]))), [1, 2]);
    // A client that tried the advertised private address first: sessions 0 and 1 touched
    // 10.0.0.50 (the tries), 2 and 3 never did.
    let retried = fixture("crafted/retried-elsewhere.pcap");
    let events = ndjson(&ftpscope(&["analyze", "--ndjson", "--host", "10.0.0.50", &retried]));
    assert_eq!(event_sessions(&events), [0, 1]);
    let out = ftpscope(&["analyze", "--host", "not-an-address", &retried]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("ftpscope: invalid value 'not-an-address' for '--host <ADDR>'"), "{}", stderr(&out));
}

#[test]
fn verbose_is_the_command_log_in_the_text_narrowed_too() {
    let out = ftpscope(&["analyze", "-v", "--session", "4", &fixture(PARTIAL_LEAK)]);
    let text = stdout(&out);
    assert!(text.starts_with("session 4  #140 USER anonymous  -> 331 Username ok, send password. #142\n"), "{text}");
    assert!(text.contains("session 4  #143 PASS ••••  -> 230 Login successful. #144"), "{text}");
    assert!(!text.contains("session 0  #"), "{text}");
}

#[test]
fn color_auto_always_never_and_no_color() {
    let path = fixture("pasv-private-leak-fail/client.pcap");
    let colored = |args: &[&str], no_color_env: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ftpscope"));
        cmd.args(args).arg(&path).env_remove("NO_COLOR");
        if no_color_env {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        stdout(&out).contains("\x1b[")
    };
    // Standard output is a pipe here: auto means never.
    assert!(!colored(&["analyze"], false));
    assert!(!colored(&["analyze", "--color", "auto"], false));
    assert!(colored(&["analyze", "--color", "always"], false));
    assert!(colored(&["analyze", "--color=always"], true), "always outranks NO_COLOR");
    assert!(colored(&["analyze", "--summary", "--color", "always"], false));
    assert!(colored(&["explain", "--color", "always"], false));
    assert!(!colored(&["analyze", "--color", "never"], false));
    assert!(!colored(&["analyze", "--no-color"], false));
    let out = ftpscope(&["analyze", "--color", "sometimes", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("[possible values: auto, always, never]"), "{}", stderr(&out));
}

#[test]
fn explain_ndjson_is_analyzes_events() {
    let path = fixture("pasv-private-leak-fail/client.pcap");
    let analyze = ftpscope(&["analyze", "--ndjson", &path]);
    let explain = ftpscope(&["explain", "--ndjson", &path]);
    assert_eq!(explain.status.code(), Some(1));
    assert!(!explain.stdout.is_empty());
    assert_eq!(stdout(&explain), stdout(&analyze));
    let two = ftpscope(&["explain", "--ndjson", &path, &fixture("pasv-private-leak-fail/server.pcap")]);
    assert_eq!(two.status.code(), Some(2));
    assert_eq!(stderr(&two).lines().count(), 1, "{}", stderr(&two));
    assert!(stderr(&two).contains("--ndjson streams the events of one capture point"), "{}", stderr(&two));
}

#[test]
fn version_names_the_builds_capabilities() {
    let text = stdout(&ftpscope(&["--version"]));
    let live = if cfg!(feature = "live") { "yes (libpcap)" } else { "no (built without libpcap)" };
    assert_eq!(text, format!("ftpscope {}\nlive capture: {live}\n--filter on saved captures: {live}\n", env!("CARGO_PKG_VERSION")));
    assert_eq!(stdout(&ftpscope(&["-V"])), format!("ftpscope {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_and_the_man_page_are_written_to_standard_output() {
    let bash = ftpscope(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    assert!(stdout(&bash).contains("complete -F _ftpscope") && stdout(&bash).contains("--errors-only"));
    assert!(stdout(&ftpscope(&["completions", "zsh"])).starts_with("#compdef ftpscope"));
    assert!(stdout(&ftpscope(&["completions", "fish"])).contains("complete -c ftpscope"));
    let man = ftpscope(&["man"]);
    assert_eq!(man.status.code(), Some(0));
    let page = stdout(&man);
    assert!(page.contains(".TH ftpscope 1") && page.contains(".SH \"FTPSCOPE ANALYZE\""), "{page}");
    let out = ftpscope(&["completions", "powershell"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("[possible values: bash, zsh, fish]"));
}

#[test]
fn errors_have_one_style_and_usage_errors_name_the_closest_option() {
    let out = ftpscope(&["analyze", "--jsno", &fixture(PARTIAL_LEAK)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("ftpscope: unexpected argument '--jsno' found"), "{err}");
    assert!(err.contains("tip: a similar argument exists: '--json'"), "{err}");
    let err = stderr(&ftpscope(&["analyse", "x.pcap"]));
    assert!(err.starts_with("ftpscope: unrecognized subcommand 'analyse'") && err.contains("'analyze'"), "{err}");
    // A file's error: its name, what went wrong, the hint, in one line.
    let dir = common::root().join("fixtures/crafted").display().to_string();
    let out = ftpscope(&["analyze", &dir]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), format!("ftpscope: {dir}: is a directory; name the captures in it (DIR/*.pcap)\n"));
    // Help is no error.
    let help = ftpscope(&["analyze", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("--errors-only"));
}

#[test]
fn without_libpcap_filter_is_one_line_and_exit_2() {
    if cfg!(feature = "live") {
        return;
    }
    let out = ftpscope(&["analyze", "--filter", "tcp", &fixture(PARTIAL_LEAK)]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("ftpscope: --filter needs libpcap") && err.contains("--features live"), "{err}");
    assert!(out.stdout.is_empty());
}

/// The live build, for `--filter` (see the module's doc).
fn filtering_binary() -> Option<PathBuf> {
    common::live_binary(&[Need::LiveBuild])
}

/// Each negotiation's frame and outcome, per session.
fn negotiations(report: &Value) -> Vec<(u64, Vec<(u64, String)>)> {
    let sessions = report["sessions"].as_array().unwrap();
    let mut all: Vec<(u64, Vec<(u64, String)>)> = sessions
        .iter()
        .map(|s| {
            let n = s["negotiations"].as_array().unwrap();
            let n = n.iter().map(|n| (n["frame"].as_u64().unwrap(), n["data"]["outcome"].as_str().unwrap().to_string())).collect();
            (s["id"].as_u64().unwrap(), n)
        })
        .collect();
    all.sort();
    all
}

#[test]
fn filter_keeps_the_files_frame_numbers_and_warns_about_ports() {
    let Some(bin) = filtering_binary() else { return };
    let path = fixture(PARTIAL_LEAK);
    let whole = json(&run(&bin, &["analyze", "--json", &path]));
    // Only the control connections: the negotiations are where they were, their data
    // connections unseen.
    let out = run(&bin, &["analyze", "--json", "--filter", "tcp port 21", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("ftpscope: warning: the filter selects ports"), "{}", stderr(&out));
    let control = json(&out);
    let frames =
        |r: &Value| negotiations(r).into_iter().map(|(id, n)| (id, n.into_iter().map(|(f, _)| f).collect::<Vec<_>>())).collect::<Vec<_>>();
    assert_eq!(frames(&control), frames(&whole));
    assert!(negotiations(&control).iter().flat_map(|(_, n)| n).all(|(_, o)| o != "established"), "{control}");
    assert!(control["capture"]["frames"].as_u64().unwrap() < whole["capture"]["frames"].as_u64().unwrap());
    // The file's own numbers, as tcpdump -r shows them: the input still counts every frame.
    assert_eq!(control["capture"]["inputs"][0]["frames"], whole["capture"]["inputs"][0]["frames"]);
    // Without the tries at the server's private address (the SYNs and the router's ICMP
    // unreachables): those data connections were never attempted, as far as the analysis can
    // see; every other outcome, and every frame number, is as before.
    let out = run(&bin, &["analyze", "--json", "--filter", "not host 10.0.0.20", &path]);
    assert!(stderr(&out).is_empty(), "no port: no warning: {}", stderr(&out));
    let expected: Vec<(u64, Vec<(u64, String)>)> = negotiations(&whole)
        .into_iter()
        .map(|(id, n)| (id, n.into_iter().map(|(f, o)| (f, if o == "unreachable" { "not_attempted".into() } else { o })).collect()))
        .collect();
    assert_eq!(negotiations(&json(&out)), expected);
    assert!(expected.iter().flat_map(|(_, n)| n).any(|(_, o)| o == "not_attempted"));
}

#[test]
fn filter_compiles_for_each_link_type_of_a_pcapng() {
    let Some(bin) = filtering_binary() else { return };
    // Two interfaces: Ethernet, then raw IP from frame 12 on.
    let path = fixture("crafted/formats-two-if.pcapng");
    let whole = json(&run(&bin, &["analyze", "--json", &path]));
    let tcp = json(&run(&bin, &["analyze", "--json", "--filter", "tcp", &path]));
    assert_eq!(negotiations(&tcp), negotiations(&whole));
    assert_eq!(tcp["sessions"].as_array().unwrap().len(), whole["sessions"].as_array().unwrap().len());
    // An expression one link type cannot take: said at the first such frame.
    let out = run(&bin, &["analyze", "--filter", "ether host 00:11:22:33:44:55", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("ftpscope: {path}: frame 12: --filter")) && err.contains("link type Raw"), "{err}");
    // A mistake in the expression: said before anything is read.
    let out = run(&bin, &["analyze", "--filter", "host and", &path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("ftpscope: --filter \"host and\": "), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}
