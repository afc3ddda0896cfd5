//! NDJSON: one JSON object per line per event, as it happens (`jq` friendly). Every line has
//! `schema`, `event`, `time` and `frame`; session events carry `session`. The last line is the
//! `summary`, with the inputs read.

use super::record::{FindingView, SessionView};
use super::server::ServerView;
use super::{Capture, InputSummary, Sink, SCHEMA};
use crate::model::transfer_record::TransferRecord;
use crate::model::{Connection, Event, Finding, MatchedBy, Negotiation, NegotiationCommand, Outcome, Session, Summary, Timestamp, Verdict};
use serde::Serialize;
use std::io::{self, Write};

pub struct Ndjson<W: Write> {
    out: W,
    /// Write the command log (`--commands`).
    commands: bool,
    /// The summary waits for `finish`, which knows the inputs.
    summary: Option<(u64, Timestamp, Summary)>,
    buf: Vec<u8>,
}

impl<W: Write> Ndjson<W> {
    pub fn new(out: W) -> Ndjson<W> {
        Ndjson { out, commands: false, summary: None, buf: Vec::new() }
    }

    /// With the command log: one `command` event per command and its reply.
    pub fn with_commands(self, commands: bool) -> Ndjson<W> {
        Ndjson { commands, ..self }
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

/// A `transfer` line: the event's fields, the verdict (`verdict`, and `reason` for a failure)
/// and the record's fields, in one object. Written by hand as `#[serde(flatten)]` of both
/// would write them, but as a struct: flatten writes a map, every key through its key path.
struct TransferLine<'a> {
    session: u32,
    frame: u64,
    time: Timestamp,
    index: usize,
    command: Option<&'a str>,
    verdict: Option<Verdict>,
    record: &'a TransferRecord,
}

impl Serialize for TransferLine<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("TransferLine", 28)?;
        st.serialize_field("schema", SCHEMA)?;
        st.serialize_field("event", "transfer")?;
        st.serialize_field("session", &self.session)?;
        st.serialize_field("frame", &self.frame)?;
        st.serialize_field("time", &self.time)?;
        st.serialize_field("index", &self.index)?;
        st.serialize_field("command", &self.command)?;
        if let Some(verdict) = self.verdict {
            st.serialize_field("verdict", verdict.name())?;
            if let Verdict::Failed(why) = verdict {
                st.serialize_field("reason", &why)?;
            }
        }
        self.record.serialize_fields(&mut st)?;
        st.end()
    }
}

/// A `negotiation` line: the event's own fields, as `Line` writes them, without `flatten`,
/// which hands every field to a map (its key scanned for escapes, the value boxed in serde's
/// adapters): two lines of every busy session.
#[derive(Serialize)]
struct NegotiationLine<'a> {
    schema: &'static str,
    event: &'static str,
    session: u32,
    frame: u64,
    time: Timestamp,
    index: u32,
    negotiation: &'a Negotiation,
}

/// A `data_outcome` line, as [`NegotiationLine`]: the fields of `Event::DataOutcome`.
#[derive(Serialize)]
struct DataOutcomeLine<'a> {
    schema: &'static str,
    event: &'static str,
    session: u32,
    frame: u64,
    time: Timestamp,
    index: u32,
    command: NegotiationCommand,
    outcome: Outcome,
    matched_by: Option<MatchedBy>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    tie_ambiguous: bool,
    connection: Option<&'a Connection>,
    earlier_attempts: &'a [Connection],
}

impl<W: Write> Ndjson<W> {
    fn line(&mut self, line: &impl Serialize) -> io::Result<()> {
        crate::report::write_json(&mut self.out, &mut self.buf, line)?;
        self.out.write_all(b"\n")
    }

    /// `cross_session`: the finding pairs two sessions and belongs to neither's record.
    fn finding(&mut self, session: u32, frame: u64, time: Timestamp, cross_session: bool, finding: &Finding) -> io::Result<()> {
        #[derive(Serialize)]
        struct FindingLine<'a> {
            schema: &'static str,
            event: &'static str,
            session: u32,
            frame: u64,
            time: Timestamp,
            cross_session: bool,
            finding: FindingView<'a>,
        }
        let finding = FindingView(finding);
        self.line(&FindingLine { schema: SCHEMA, event: "finding", session, frame, time, cross_session, finding })
    }
}

impl<W: Write> Ndjson<W> {
    /// A `transfer` event for each of a settled session's transfers: they settle with it (their
    /// completeness needs the session's end). Before its findings, which may name them.
    fn transfers(&mut self, session: u32, time: Timestamp, record: &Session) -> io::Result<()> {
        for (index, n) in record.negotiations.iter().enumerate() {
            let Some(r) = &n.data.record else { continue };
            let frame = n.data.reply_frame.or(r.last_frame).or(n.data.command_frame).unwrap_or(n.frame);
            let command = n.data.command.as_deref();
            let line = TransferLine { session, frame, time, index, command, verdict: n.data.transfer, record: r };
            self.line(&line)?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for Ndjson<W> {
    fn wants_negotiation_events(&self) -> bool {
        true
    }

    fn wants_command_events(&self) -> bool {
        self.commands
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        if let Event::Summary { frame, time, summary } = event {
            self.summary = Some((*frame, *time, (**summary).clone()));
            return Ok(());
        }
        match event {
            // A session's findings are announced just before its end, one line each.
            // Its record follows without them: each fact is written once.
            Event::SessionEnd { session, frame, time, record } => {
                self.transfers(*session, *time, record)?;
                for finding in &record.findings {
                    self.finding(*session, *frame, *time, false, finding)?;
                }
                #[derive(Serialize)]
                struct EndLine<'a> {
                    schema: &'static str,
                    event: &'static str,
                    session: u32,
                    frame: u64,
                    time: Timestamp,
                    record: SessionView<'a>,
                }
                let record = SessionView::without_findings(record);
                self.line(&EndLine { schema: SCHEMA, event: "session_end", session: *session, frame: *frame, time: *time, record })
            }
            Event::Finding { session, frame, time, finding } => self.finding(*session, *frame, *time, true, finding),
            // A server's picture and fix block: at the end, and from time to time in a live capture.
            Event::Server { frame, time, server } => {
                #[derive(Serialize)]
                struct ServerLine<'a> {
                    schema: &'static str,
                    event: &'static str,
                    frame: u64,
                    time: Timestamp,
                    server: ServerView<'a>,
                }
                self.line(&ServerLine { schema: SCHEMA, event: "server", frame: *frame, time: *time, server: ServerView(server) })
            }
            Event::Negotiation { session, frame, time, index, negotiation } => self.line(&NegotiationLine {
                schema: SCHEMA,
                event: "negotiation",
                session: *session,
                frame: *frame,
                time: *time,
                index: *index,
                negotiation,
            }),
            Event::DataOutcome {
                session,
                frame,
                time,
                index,
                command,
                outcome,
                matched_by,
                tie_ambiguous,
                connection,
                earlier_attempts,
            } => self.line(&DataOutcomeLine {
                schema: SCHEMA,
                event: "data_outcome",
                session: *session,
                frame: *frame,
                time: *time,
                index: *index,
                command: *command,
                outcome: *outcome,
                matched_by: *matched_by,
                tie_ambiguous: *tie_ambiguous,
                connection: connection.as_deref(),
                earlier_attempts,
            }),
            _ => self.line(&Line { schema: SCHEMA, event }),
        }
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
        self.line(&Line { schema: SCHEMA, event: &line })?;
        self.out.flush()
    }
}
