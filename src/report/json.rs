//! The JSON document (schema "ftpscope/3"), written as sessions settle: each session is one
//! line of the `sessions` array the moment it settles, so memory does not grow with the capture.
//! Findings across sessions, each server's picture and fix block (`servers`) and the capture's
//! totals close the document.

use super::record::{FindingView, SessionView};
use super::server::{Latest, ServersView};
use super::{write_json, Capture, InputSummary, Sink, SCHEMA};
use crate::model::{Event, Summary};
use std::io::{self, Write};

pub struct JsonDocument<W: Write> {
    out: W,
    /// The opening is written with the first session or at the end, so an input that cannot
    /// be read at all leaves no half document behind.
    started: bool,
    sessions: u64,
    /// Findings across sessions, serialised, for the end of the document. Rare: they need one
    /// capture holding both sides of a NAT router.
    across: Vec<Vec<u8>>,
    servers: Latest,
    summary: Summary,
    buf: Vec<u8>,
}

impl<W: Write> JsonDocument<W> {
    pub fn new(out: W) -> JsonDocument<W> {
        JsonDocument {
            out,
            started: false,
            sessions: 0,
            across: Vec::new(),
            servers: Latest::default(),
            summary: Summary::default(),
            buf: Vec::new(),
        }
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            write!(self.out, "{{\"schema\":\"{SCHEMA}\",\n\"sessions\":[")?;
        }
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for JsonDocument<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SessionEnd { record, .. } => {
                self.start()?;
                self.out.write_all(if self.sessions == 0 { b"\n" } else { b",\n" })?;
                write_json(&mut self.out, &mut self.buf, &SessionView::of(record))?;
                self.sessions += 1;
            }
            Event::Finding { finding, .. } => {
                let mut json = Vec::new();
                super::json_text::write(&mut json, &FindingView(finding)).map_err(io::Error::other)?;
                self.across.push(json);
            }
            Event::Server { server, .. } => self.servers.tell(server),
            Event::Summary { summary, .. } => self.summary = (**summary).clone(),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()> {
        self.start()?;
        self.out.write_all(b"\n],\n\"findings\":[")?;
        for (i, f) in self.across.iter().enumerate() {
            self.out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            self.out.write_all(f)?;
        }
        self.out.write_all(b"],\n\"servers\":")?;
        write_json(&mut self.out, &mut self.buf, &ServersView(self.servers.servers()))?;
        self.out.write_all(b",\n\"capture\":")?;
        write_json(&mut self.out, &mut self.buf, &Capture::new(inputs, &self.summary))?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}
