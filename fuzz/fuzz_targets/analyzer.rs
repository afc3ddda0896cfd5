//! The whole analysis on arbitrary frames: a sequence of frames with capture timestamps (which
//! may step back, or jump past every timeout) fed to the Analyzer, then `finish`, and every
//! event written by every output: the text report, the JSON document, NDJSON, and explain's
//! text, JSON and HTML. The JSON outputs must parse; nothing may panic.
//!
//! Input: one settings byte (bit 0: tight bounds, so that eviction, budgets and limits are hit;
//! bit 1: negotiation events on), then frames, each `[link][dt hi][dt lo][len hi][len lo]` and
//! `len` bytes. `link` picks the link type (see LINKTYPES) and its top bit says the snap length
//! cut 100 bytes off the frame; dt is a signed step of the capture clock in units of 10 ms.
//! `fuzz/seed.py` writes the fixtures in this form.
#![no_main]

use ftpscope::analyzer::{Analyzer, Settings};
use ftpscope::model::{Frame, LinkType};
use ftpscope::report::explain::{self, Collector};
use ftpscope::report::json::JsonDocument;
use ftpscope::report::ndjson::Ndjson;
use ftpscope::report::text::Text;
use ftpscope::report::Sink;
use ftpscope::tcp::flow::FlowLimits;
use ftpscope::Timestamp;
use libfuzzer_sys::fuzz_target;

const LINKTYPES: [u32; 8] = [1, 113, 276, 101, 228, 229, 0, 108];

/// Small bounds, so that a fuzz input of a few kilobytes reaches every limit.
fn tight(negotiation_events: bool) -> Settings {
    let d = Settings::default();
    Settings {
        flows: FlowLimits {
            max_flows: 8,
            max_ended: 8,
            idle_timeout_ns: 30_000_000_000,
            closed_timeout_ns: 1_000_000_000,
            half_open_timeout_ns: 10_000_000_000,
        },
        max_open_sessions: 3,
        max_line: 40,
        max_buffered: 200,
        buffer_budget: 600,
        settle_grace_ns: 500_000_000,
        idle_timeout_ns: 20_000_000_000,
        timeline_lines: 6,
        negotiation_events,
        ..d
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, mut rest)) = input.split_first() else { return };
    let events = flags & 2 != 0;
    let settings =
        if flags & 1 != 0 { tight(events) } else { Settings { negotiation_events: events, timeline_lines: 20, ..Settings::default() } };
    // The command log, built and written or not.
    let commands = flags & 8 != 0;
    let mut analyzer = Analyzer::new(Settings { command_events: commands, ..settings });
    let mut text = Text::new(Vec::new(), flags & 4 != 0).with_commands(commands);
    let mut json = JsonDocument::new(Vec::new());
    let mut ndjson = Ndjson::new(Vec::new()).with_commands(commands);
    let (mut collector, explained) = Collector::new();
    let mut ts = 1_700_000_000_000_000_000i64;
    let mut number = 0u64;
    let drain = |analyzer: &mut Analyzer, sinks: &mut [&mut dyn Sink]| {
        while let Some(event) = analyzer.poll_event() {
            for sink in sinks.iter_mut() {
                sink.event(&event).expect("writing to memory");
            }
        }
    };
    while let [link, dt_hi, dt_lo, len_hi, len_lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*len_hi, *len_lo])).min(tail.len());
        let (data, after) = tail.split_at(len);
        rest = after;
        ts = ts.saturating_add(i64::from(i16::from_be_bytes([*dt_hi, *dt_lo])) * 10_000_000);
        number += 1;
        let cut = if link & 0x80 != 0 { 100 } else { 0 };
        let frame = Frame {
            number,
            ts: Timestamp(ts),
            link: LinkType::from_linktype(LINKTYPES[usize::from(link & 0x7f) % LINKTYPES.len()]),
            data,
            orig_len: data.len() as u32 + cut,
        };
        analyzer.feed(&frame);
        let _ = analyzer.poll_timeout();
        let _ = analyzer.stats();
        let _ = analyzer.open_sessions().count();
        drain(&mut analyzer, &mut [&mut text, &mut json, &mut ndjson, &mut collector]);
    }
    analyzer.advance(Timestamp(ts.saturating_add(1_000_000_000)));
    analyzer.finish();
    drain(&mut analyzer, &mut [&mut text, &mut json, &mut ndjson, &mut collector]);
    for sink in [&mut text as &mut dyn Sink, &mut json, &mut ndjson, &mut collector] {
        sink.finish(&[]).expect("writing to memory");
    }
    let text = text.into_inner();
    assert!(std::str::from_utf8(&text).is_ok(), "the text report is UTF-8");
    let json = json.into_inner();
    serde_json::from_slice::<serde_json::Value>(&json).expect("the JSON document parses");
    for line in ndjson.into_inner().split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(line).expect("each NDJSON line parses");
    }
    let explained = [explained.recv().expect("the collector hands its capture over")];
    let mut out = Vec::new();
    explain::text::write(&mut out, &explained, false).expect("writing to memory");
    out.clear();
    explain::json::write(&mut out, &explained, None, None).expect("writing to memory");
    serde_json::from_slice::<serde_json::Value>(&out).expect("explain's JSON parses");
    out.clear();
    ftpscope::report::html::write(&mut out, &explained, None).expect("writing to memory");
});
