//! Outputs: views of the analyzer's events. Each output is a [`Sink`] fed events as they come:
//! NDJSON (one event per line), the JSON document (schema "ftpscope/3", docs/schema.md; written
//! as sessions settle), text, and `--summary`'s line per session ([`summary`]); [`narrow`] goes
//! in front of any of them to show some sessions only. [`Report`] collects the same document in
//! memory, for tests and small captures.
//!
//! Owns the output formats. No analysis happens here.

pub mod alike;
pub mod escape;
pub mod explain;
pub mod fix;
pub mod html;
pub mod json;
pub mod json_text;
pub mod ladder;
pub mod ladder_text;
pub mod narrow;
pub mod ndjson;
pub mod notes;
pub mod points;
pub mod record;
pub mod server;
pub mod summary;
pub mod svg;
pub mod text;
pub mod transfer;

use crate::analyzer::Analyzer;
use crate::model::{Event, Finding, Outcome, Session, Severity, Summary};
use serde::Serialize;
use std::io;

/// Writes `value` as JSON through `buf` (kept between calls), with [`json_text`]: the same text
/// sonic-rs and serde_json write (the same number and escape forms: every view of every fixture
/// is byte for byte what they wrote), in fewer instructions (see there).
pub fn write_json(out: &mut (impl io::Write + ?Sized), buf: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) -> io::Result<()> {
    buf.clear();
    json_text::write(buf, value).map_err(io::Error::other)?;
    out.write_all(buf)
}

pub const SCHEMA: &str = "ftpscope/3";

/// One input file as the command line read it (or the interface `ftpscope live` watched); the
/// analyzer knows only frames.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InputSummary {
    pub path: String,
    /// Global number of this input's first frame (frames are numbered across inputs).
    pub first_frame: u64,
    pub frames: u64,
    /// Why the input ended early, when it did.
    pub truncated: Option<String>,
    /// Only for a live capture: left out of file inputs, so that their output is unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<Box<LiveInput>>,
}

/// The inputs read one after the other, each numbered on from the frames of those before.
#[derive(Debug, Default)]
pub struct InputsRead {
    inputs: Vec<InputSummary>,
    frames: u64,
}

impl InputsRead {
    /// An input ended (read through, or `truncated` and why) after `frames` frames.
    pub fn ended(&mut self, path: &std::path::Path, frames: u64, truncated: Option<String>) {
        let first_frame = self.frames + 1;
        self.inputs.push(InputSummary { path: path.display().to_string(), first_frame, frames, truncated, live: None });
        self.frames += frames;
    }

    /// Inputs ended so far.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Frames of the inputs ended so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn into_vec(self) -> Vec<InputSummary> {
        self.inputs
    }
}

/// What `ftpscope live` watched and what libpcap counted (docs/schema.md, `capture.inputs[].live`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveInput {
    pub interface: String,
    /// The BPF filter in force.
    pub filter: String,
    /// Why the filter may hide data connections, when it may.
    pub filter_warning: Option<String>,
    pub snaplen: u32,
    pub promiscuous: bool,
    /// libpcap's counters (pcap_stats) at the end: packets that passed the filter, dropped for
    /// want of buffer space, dropped by the interface or its driver.
    pub received: u64,
    pub dropped: u64,
    pub interface_dropped: u64,
    /// The `--write` file, when given.
    pub written_to: Option<String>,
    /// Why the capture stopped: `signal`, `duration`, `count`, `interface_gone`, `input_end`,
    /// `helper_end` (docs/schema.md).
    pub ended: &'static str,
    /// The reason in words (libpcap's message when the interface went away).
    pub ended_detail: String,
}

/// The document's `capture` object: the inputs, then the analyzer's totals.
#[derive(Debug, Clone, Serialize)]
pub struct Capture<'a> {
    pub inputs: &'a [InputSummary],
    /// True when an input ended early; see inputs[].truncated.
    pub truncated: bool,
    #[serde(flatten)]
    pub summary: &'a Summary,
}

impl<'a> Capture<'a> {
    pub fn new(inputs: &'a [InputSummary], summary: &'a Summary) -> Capture<'a> {
        Capture { inputs, truncated: inputs.iter().any(|i| i.truncated.is_some()), summary }
    }
}

/// An output fed the analyzer's events as they come.
/// A `Display` serialised as a string, written straight into the output (no `String` first).
pub struct Rendered<T>(pub T);

impl<T: std::fmt::Display> Serialize for Rendered<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

pub trait Sink {
    fn event(&mut self, event: &Event) -> io::Result<()>;
    /// Whether it writes `negotiation` and `data_outcome` events (see
    /// [`crate::analyzer::Settings::negotiation_events`]): outputs of settled sessions do not.
    fn wants_negotiation_events(&self) -> bool {
        false
    }
    /// Whether it writes the command log (`command` events, see
    /// [`crate::analyzer::Settings::command_events`]): only when asked (`--commands`, `-v`).
    fn wants_command_events(&self) -> bool {
        false
    }
    /// Only `shown` of the `of` sessions reached this output, chosen by `how` (the command
    /// line's words): said before [`finish`](Self::finish), for an output that tells the
    /// reader (its totals stay the whole capture's).
    fn narrowed(&mut self, _shown: u64, _of: u64, _how: &str) {}
    /// The input is over (the `summary` event was the last one): write what closes the output.
    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()>;
}

/// How a data connection's outcome reads at a glance, the colour the text and the page give it:
/// it worked, it failed (or was refused), or it is not known to have worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Doubtful,
}

impl Tone {
    pub fn of(o: Outcome) -> Tone {
        if o == Outcome::Established {
            Tone::Good
        } else if o.is_failure() || o == Outcome::Rejected {
            Tone::Bad
        } else {
            Tone::Doubtful
        }
    }
}

/// The whole report in memory: the JSON document's content.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// Sessions in the order they settled, each with its own findings.
    #[serde(serialize_with = "record::sessions")]
    pub sessions: Vec<Session>,
    /// Findings across sessions (one connection seen on both sides of a NAT router).
    #[serde(serialize_with = "record::findings")]
    pub findings: Vec<Finding>,
    /// Each server's picture from the whole capture, and its fix block.
    #[serde(serialize_with = "servers")]
    pub servers: Vec<crate::model::Server>,
    pub capture: OwnedCapture,
}

fn servers<S: serde::Serializer>(servers: &[crate::model::Server], s: S) -> Result<S::Ok, S::Error> {
    server::ServersView(servers).serialize(s)
}

/// The `capture` object of a report held in memory: serialised as [`Capture`].
#[derive(Debug, Clone)]
pub struct OwnedCapture {
    pub inputs: Vec<InputSummary>,
    pub summary: Summary,
}

impl Serialize for OwnedCapture {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Capture::new(&self.inputs, &self.summary).serialize(s)
    }
}

impl Report {
    /// Finishes the analyzer and collects every event into one report.
    pub fn collect(analyzer: &mut Analyzer) -> Report {
        analyzer.finish();
        let mut report = Report {
            schema: SCHEMA,
            sessions: Vec::new(),
            findings: Vec::new(),
            servers: Vec::new(),
            capture: OwnedCapture { inputs: Vec::new(), summary: Summary::default() },
        };
        while let Some(event) = analyzer.poll_event() {
            match event {
                Event::SessionEnd { record, .. } => report.sessions.push(*record),
                Event::Finding { finding, .. } => report.findings.push(*finding),
                Event::Server { server, .. } => report.servers.push(*server),
                Event::Summary { summary, .. } => report.capture.summary = *summary,
                _ => {}
            }
        }
        report
    }

    /// Every finding: each session's, then those across sessions.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.sessions.iter().flat_map(|s| &s.findings).chain(&self.findings)
    }

    pub fn has_errors(&self) -> bool {
        self.all_findings().any(|f| f.severity == Severity::Error)
    }
}

#[cfg(test)]
mod tests {
    /// The reports are written by sonic-rs and read by tools that knew serde_json's text: the
    /// same escapes (every control character, DEL, separators, non-ASCII), the same numbers
    /// (floats as times and durations, -0.0, NaN as null, u64 at its top), short and past the
    /// SIMD width alike.
    #[test]
    fn write_json_writes_what_serde_json_writes() {
        let mut text: String = (0u32..0x80).filter_map(char::from_u32).collect();
        text.push_str("\u{2028}\u{2029}\u{fffd}é漢\u{1F600}");
        let value = (
            [text.clone(), text.repeat(5), String::new()],
            [1795634789.512486, 0.002674, -0.0, f64::NAN, 1e16, 5e-7, 123456.7],
            (u64::MAX, None::<u8>, true),
        );
        let mut out = Vec::new();
        super::write_json(&mut out, &mut Vec::new(), &value).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&value).unwrap());
    }
}
