//! NDJSON: one JSON object per line per event, as it happens (`jq` friendly). Every line has
//! `schema`, `event`, `time` and `frame`; session events carry `session`. The last line is the
//! `summary`, with the inputs read.

use super::{Capture, InputSummary, Sink, SCHEMA};
use crate::model::{Event, Summary, Timestamp};
use serde::Serialize;
use std::io::{self, Write};

pub struct Ndjson<W: Write> {
    out: W,
    /// The summary waits for `finish`, which knows the inputs.
    summary: Option<(u64, Timestamp, Summary)>,
}

impl<W: Write> Ndjson<W> {
    pub fn new(out: W) -> Ndjson<W> {
        Ndjson { out, summary: None }
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    schema: &'static str,
    #[serde(flatten)]
    event: &'a T,
}

impl<W: Write> Sink for Ndjson<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        if let Event::Summary { frame, time, summary } = event {
            self.summary = Some((*frame, *time, (**summary).clone()));
            return Ok(());
        }
        serde_json::to_writer(&mut self.out, &Line { schema: SCHEMA, event })?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()> {
        #[derive(Serialize)]
        struct Final<'a> {
            event: &'static str,
            frame: u64,
            time: Timestamp,
            capture: Capture<'a>,
        }
        let (frame, time, summary) = self.summary.take().unwrap_or_default();
        let line = Final { event: "summary", frame, time, capture: Capture::new(inputs, &summary) };
        serde_json::to_writer(&mut self.out, &Line { schema: SCHEMA, event: &line })?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
