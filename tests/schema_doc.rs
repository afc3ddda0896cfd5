//! docs/schema.md cannot fall behind the output: the binary is run with `--json` and with
//! `--ndjson` on fixtures that between them produce every finding kind, fix action and event,
//! and every object key that appears in the output must be named in the document as `key` (in
//! backticks). So must every value of the enumerated fields (event names, finding kinds, fix
//! actions, outcomes, severities ...). Zeek's FTP traces (../shared/corpus) are added when present;
//! without them one line says they were skipped (a failure in CI, which has them).

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Between them: every finding kind and `details` shape, every fix action the fixtures can
/// produce, cross-session findings, probable data channels, anomalies, ICMP, IPv6, `stats`, an ambiguous tie.
const FIXTURES: &[&str] = &[
    "alg-passive/router-srv-any.pcap",
    "alg-active/client.pcap",
    "alg-blind-tls/client.pcap",
    "alg-blind-tls-active/client.pcap",
    "active-oops/client.pcap",
    "active-refused/client.pcap",
    "active-unanswered/server.pcap",
    "active-unreachable/client.pcap",
    "bounce/client.pcap",
    "ftps-ok/client.pcap",
    "nonstandard-port-2121/router-srv-any.pcap",
    "pasv-private-leak-fail/client.pcap",
    "pasv-range-mismatch/client.pcap",
    "crafted/mid-connection.pcap",
    "crafted/odd-227-forms.pcap",
    "crafted/odd-commands.pcap",
    "crafted/passive-icmp-unreachable.pcap",
    "crafted/passive-icmp6-unreachable.pcap",
    "crafted/one-way-server-passive.pcap",
    // `tie_ambiguous`, only present when true.
    "crafted/cgnat-one-port.pcap",
    // Outside any session: a control connection refused, data without its control channel.
    "crafted/control-refused.pcap",
    "crafted/active-port20-reset.pcap",
    "no-control/pasv-ok-forwarded-client-not-port-21.pcap",
    // Transfer records: complete, closed short, resumed, a gap, ended by the server, binary in ASCII mode.
    "crafted/transfer-records.pcap",
];

/// Fields whose values are a closed set of words: each word must be in the document too.
const ENUMERATED: &[&str] = &[
    "schema",
    "event",
    "kind",
    "action",
    "severity",
    "outcome",
    "matched_by",
    "mode",
    "end",
    "software",
    "advertised_class",
    "class",
    "rst_from",
    "side",
    "captured_directions",
    "evidence",
    "how",
    // explain --json
    "fact",
    "cause",
    "how",
    "role",
    "channel",
    "ending",
    // Transfer records
    "direction",
    "completeness",
    "partial",
    "announced_by",
    "not_text",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn inputs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = FIXTURES.iter().map(|f| root().join("fixtures").join(f)).collect();
    if let Some(corpus) = common::needs::corpus_part("Zeek's FTP traces") {
        let dir = std::fs::read_dir(corpus.join("zeek/Traces/ftp")).expect("read zeek/Traces/ftp");
        let mut traces: Vec<PathBuf> =
            dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "pcap")).collect();
        traces.sort();
        files.extend(traces);
    }
    files
}

fn run(format: &str, input: &Path) -> String {
    run_command("analyze", format, input)
}

/// `format` may be more than one argument ("--ndjson --commands").
fn run_command(command: &str, format: &str, input: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope"))
        .args([command, "--quiet"])
        .args(format.split(' '))
        .arg(input)
        .env("NO_COLOR", "1")
        .output()
        .expect("ftpscope runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{format} {}: exit {:?}: {}",
        input.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("output is UTF-8")
}

/// What the output holds: each key (and each enumerated value) with one place it was seen.
#[derive(Default)]
struct Seen {
    keys: BTreeMap<String, String>,
    values: BTreeMap<String, String>,
}

impl Seen {
    fn walk(&mut self, v: &Value, path: &str, source: &str) {
        match v {
            Value::Object(map) => {
                // A negotiation's command (PORT, PASV ...) is a closed set; a transfer's ("RETR x")
                // and a rejected command's are not.
                let negotiation_like = map.contains_key("address_implied") || map.get("event").is_some_and(|e| e == "data_outcome");
                for (k, child) in map {
                    let here = format!("{path}.{k}");
                    self.keys.entry(k.clone()).or_insert_with(|| format!("{here} in {source}"));
                    let enumerated = ENUMERATED.contains(&k.as_str()) || (k == "command" && negotiation_like);
                    if let (true, Value::String(s)) = (enumerated, child) {
                        self.values.entry(s.clone()).or_insert_with(|| format!("{here} in {source}"));
                    }
                    self.walk(child, &here, source);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(item, &format!("{path}[]"), source);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_key_in_the_output_is_in_the_schema_document() {
    let doc = std::fs::read_to_string(root().join("docs/schema.md")).expect("docs/schema.md");
    let mut seen = Seen::default();
    let mut events = BTreeSet::new();
    for input in inputs() {
        let name = input.strip_prefix(root()).unwrap_or(&input).display().to_string();

        let json = run("--json", &input);
        let doc_value: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("--json {name}: not JSON ({e})"));
        seen.walk(&doc_value, "", &format!("--json {name}"));

        // With the command log: every event there is.
        for (i, line) in run("--ndjson --commands", &input).lines().enumerate() {
            let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("--ndjson {name} line {}: not JSON ({e})", i + 1));
            events.insert(event["event"].as_str().unwrap_or_default().to_string());
            seen.walk(&event, "", &format!("--ndjson {name} line {}", i + 1));
        }
    }

    // The fixtures must keep exercising what the document describes, or this test checks less
    // than it seems to.
    for event in ["session_start", "negotiation", "data_outcome", "command", "transfer", "finding", "session_end", "stats", "summary"] {
        assert!(events.contains(event), "no fixture produced a `{event}` event any more");
    }
    assert!(seen.keys.len() > 100, "suspiciously few keys: {}", seen.keys.len());

    assert_documented(&doc, &seen);
}

/// `explain --json` too: its own keys and values, and the records and findings it embeds.
#[test]
fn every_key_of_explain_is_in_the_schema_document() {
    let doc = std::fs::read_to_string(root().join("docs/schema.md")).expect("docs/schema.md");
    let mut seen = Seen::default();
    for input in FIXTURES.iter().map(|f| root().join("fixtures").join(f)).chain([root().join("fixtures/bounce/third-host.pcap")]) {
        let name = input.strip_prefix(root()).unwrap_or(&input).display().to_string();
        let json = run_command("explain", "--json", &input);
        let value: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("explain --json {name}: not JSON ({e})"));
        seen.walk(&value, "", &format!("explain --json {name}"));
    }
    for key in ["no_ftp", "data_answer", "why", "ending", "lanes"] {
        assert!(seen.keys.contains_key(key) || seen.values.contains_key(key), "no fixture produced `{key}` any more");
    }
    assert_documented(&doc, &seen);
}

fn assert_documented(doc: &str, seen: &Seen) {
    let missing = |what: &str, names: &BTreeMap<String, String>| -> Vec<String> {
        names.iter().filter(|(n, _)| !doc.contains(&format!("`{n}`"))).map(|(n, at)| format!("{what} `{n}` (seen at {at})")).collect()
    };
    let mut problems = missing("key", &seen.keys);
    problems.extend(missing("value", &seen.values));
    assert!(problems.is_empty(), "docs/schema.md does not mention:\n  {}", problems.join("\n  "));
}
