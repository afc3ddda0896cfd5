//! The live path with a scripted source: quiet time settles sessions, drops make a finding, the
//! limits stop the capture, `--write`'s file holds what was captured.

use super::source::{Counters, Next, Packet, PacketSource};
use super::*;
use crate::model::{LinkType, Timestamp};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Frames of a fixture, then `timeouts` quiet reads, then the end.
struct Scripted {
    frames: VecDeque<(Timestamp, Vec<u8>, u32)>,
    current: Vec<u8>,
    timeouts: usize,
    counters: Counters,
}

impl Scripted {
    fn new(fixture: &str, take: usize, timeouts: usize, dropped: u64) -> Scripted {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(fixture);
        let mut frames = VecDeque::new();
        crate::capture::read_path(&path, 1, &mut |f| frames.push_back((f.ts, f.data.to_vec(), f.orig_len))).unwrap();
        frames.truncate(take);
        let received = frames.len() as u64 + dropped;
        Scripted { frames, current: Vec::new(), timeouts, counters: Counters { received, dropped, interface_dropped: 0 } }
    }
}

impl PacketSource for Scripted {
    fn next_packet(&mut self) -> Next<'_> {
        if let Some((ts, data, orig_len)) = self.frames.pop_front() {
            self.current = data;
            return Next::Packet(Packet { ts, data: &self.current, orig_len });
        }
        if self.timeouts > 0 {
            self.timeouts -= 1;
            return Next::Timeout;
        }
        Next::End("input_end", "script over".into())
    }
    fn counters(&mut self) -> Option<Counters> {
        Some(self.counters)
    }
    fn link(&self) -> (LinkType, u32) {
        (LinkType::Ethernet, 1)
    }
    fn snaplen(&self) -> u32 {
        262_144
    }
}

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<u8>>>);

impl Write for Collect {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn options(format: Format) -> LiveOptions {
    LiveOptions {
        intent: Default::default(),
        guessing: Default::default(),
        interface: "test0".into(),
        filter: filter::DEFAULT_FILTER.into(),
        snaplen: 262_144,
        promiscuous: true,
        format,
        duration: None,
        count: None,
        written_to: None,
        status: Progress::hidden(),
        stats_every: Duration::from_secs(10),
        commands: false,
        hash_data: false,
        content: None,
    }
}

fn run_to_text(source: Scripted, format: Format, write: Option<Collect>, count: Option<u64>) -> (LiveEnd, String) {
    let out = Collect::default();
    let mut o = options(format);
    o.count = count;
    let write = write.map(|w| Box::new(w) as Box<dyn Write + Send>);
    let end = run(source, write, o, Box::new(out.clone()), Arc::new(AtomicBool::new(false)));
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    (end, text)
}

#[test]
fn quiet_time_settles_an_unanswered_data_connection() {
    // Session 0 up to its data SYNs (the capture goes on for minutes), then a quiet wire: the
    // ticks move capture time to now, so the session settles as idle with its outcome
    // `unanswered`, not at the end as `capture_end` / `unknown`.
    let source = Scripted::new("pasv-private-leak-unanswered/client.pcap", 36, 3, 0);
    let (end, out) = run_to_text(source, Format::Ndjson, None, None);
    assert_eq!(end.ended_kind, "input_end");
    let events: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let outcome = events.iter().find(|e| e["event"] == "data_outcome" && e["session"] == 0).expect("an outcome");
    assert_eq!(outcome["outcome"], "unanswered");
    let end0 = events.iter().find(|e| e["event"] == "session_end" && e["session"] == 0).unwrap();
    assert_eq!(end0["record"]["end"], "idle", "settled by a tick, not by the end of the capture");
    assert!(!events.iter().any(|e| e["event"] == "finding" && e["finding"]["kind"] == "capture_drops"));

    // The same packets without quiet time: the session is still open when the capture ends.
    let source = Scripted::new("pasv-private-leak-unanswered/client.pcap", 36, 0, 0);
    let (_, out) = run_to_text(source, Format::Ndjson, None, None);
    let events: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let end0 = events.iter().find(|e| e["event"] == "session_end" && e["session"] == 0).unwrap();
    assert_ne!(end0["record"]["end"], "idle");
}

#[test]
fn drops_make_a_warning_finding_in_every_format() {
    let source = || Scripted::new("pasv-private-leak-fail/client.pcap", usize::MAX, 0, 7);
    let (_, json) = run_to_text(source(), Format::Json, None, None);
    let doc: Value = serde_json::from_str(&json).unwrap();
    let finding = &doc["findings"][0];
    assert_eq!(finding["kind"], "capture_drops");
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["details"]["dropped"], 7);
    assert!(finding["explanation"].as_str().unwrap().contains("--buffer-size"));
    let live = &doc["capture"]["inputs"][0]["live"];
    assert_eq!(live["dropped"], 7);
    assert_eq!(live["ended"], "input_end");
    assert_eq!(live["filter"], filter::DEFAULT_FILTER);

    let (_, ndjson) = run_to_text(source(), Format::Ndjson, None, None);
    let last_two: Vec<Value> = ndjson.lines().rev().take(2).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(last_two[0]["event"], "summary");
    assert_eq!(last_two[1]["finding"]["kind"], "capture_drops", "just before the summary");

    let (_, text) = run_to_text(source(), Format::Text { color: false }, None, None);
    assert!(text.starts_with("live capture on test0, filter: tcp or icmp"), "{text}");
    assert!(text.contains("WARN  capture_drops"), "{text}");
    assert!(text.trim_end().ends_with("7 dropped by the kernel, 0 by the interface; script over"), "{text}");
}

#[test]
fn the_command_log_comes_live_in_ndjson_and_text_when_asked_only() {
    let output = |format: Format, commands: bool| {
        let out = Collect::default();
        let source = Scripted::new("pasv-ok-forwarded/client.pcap", usize::MAX, 0, 0);
        run(source, None, LiveOptions { commands, ..options(format) }, Box::new(out.clone()), Arc::new(AtomicBool::new(false)));
        let written = out.0.lock().unwrap().clone();
        String::from_utf8(written).unwrap()
    };
    let ndjson = output(Format::Ndjson, true);
    let retr: Value = ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).find(|e: &Value| e["command"] == "RETR readme.txt").unwrap();
    assert_eq!(
        (retr["event"].as_str(), retr["command_frame"].as_u64(), retr["reply"]["code"].as_u64()),
        (Some("command"), Some(83), Some(226))
    );
    let text = output(Format::Text { color: false }, true);
    assert!(text.contains("session 1  #83 RETR readme.txt  -> 150 #84, 226 Transfer complete. #90"), "{text}");
    assert!(!output(Format::Ndjson, false).contains(r#""event":"command""#));
    assert!(!output(Format::Text { color: false }, false).contains("RETR readme.txt  ->"));
}

#[test]
fn count_stops_and_the_written_file_holds_the_packets() {
    let file = Collect::default();
    let source = Scripted::new("pasv-private-leak-fail/client.pcap", usize::MAX, 0, 0);
    let (end, _) = run_to_text(source, Format::Json, Some(file.clone()), Some(10));
    assert_eq!(end.ended_kind, "count");
    assert_eq!(end.frames, 10);
    let bytes = file.0.lock().unwrap().clone();
    let mut seen = 0;
    let summary = crate::capture::read_capture("written", &bytes[..], 1, &mut |_| seen += 1).unwrap();
    assert_eq!((seen, summary.truncated), (10, None));
}

#[test]
fn extract_writes_the_files_live_and_the_report_has_their_hashes() {
    let dir = std::env::temp_dir().join(format!("ftpscope-live-extract-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sink = crate::extract::Extractor::new(&dir, crate::extract::DEFAULT_MAX).unwrap();
    let out = Collect::default();
    let o = LiveOptions { hash_data: true, content: Some(Box::new(sink)), ..options(Format::Json) };
    let source = Scripted::new("large-transfer/client.pcap", usize::MAX, 0, 0);
    let end = run(source, None, o, Box::new(out.clone()), Arc::new(AtomicBool::new(false)));
    assert!(end.finished.written.is_ok());
    let v: Value = serde_json::from_slice(&out.0.lock().unwrap()).unwrap();
    let content = &v["sessions"][0]["negotiations"][0]["data"]["content"];
    assert_eq!((content["complete"].as_bool(), content["bytes"].as_u64()), (Some(true), Some(1_500_000)), "{content}");
    let manifest = std::fs::read_to_string(dir.join(crate::extract::MANIFEST)).unwrap();
    let line: Value = serde_json::from_str(manifest.lines().next().unwrap()).unwrap();
    assert_eq!(line["sha256"], content["sha256"]);
    let file = std::fs::metadata(dir.join(line["file"].as_str().unwrap())).unwrap();
    assert_eq!(file.len(), 1_500_000);
    let _ = std::fs::remove_dir_all(&dir);
}
