//! `--summary`: the report in one line per session, written as each settles, then the totals.
//! A line says who talked to whom (client, server, user), which data-channel modes the session
//! negotiated, how its data connections ended (ok, failed), and its worst finding; the totals
//! are the text report's line, with the transfers. A finding across sessions or about the whole
//! capture (password guessing, clear-text logins) gets a line of its own where it comes.
//!
//! Owns the one-line layout. The words of findings and outcomes are the text report's.

use super::text::{totals, Style};
use super::{InputSummary, Sink, Tone};
use crate::model::notation::Sock;
use crate::model::{Event, Finding, NegotiationCommand, Session, Summary};
use crate::problems::Summary as FindingSummary;
use std::fmt::Write as _;
use std::io::{self, Write};

pub struct SummaryLines<W: Write> {
    out: W,
    st: Style,
    summary: Summary,
    narrowed: Option<String>,
}

impl<W: Write> SummaryLines<W> {
    pub fn new(out: W, color: bool) -> SummaryLines<W> {
        SummaryLines { out, st: Style { color }, summary: Summary::default(), narrowed: None }
    }
}

impl<W: Write> Sink for SummaryLines<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SessionEnd { record, .. } => writeln!(self.out, "{}", line(&self.st, record)),
            // Across sessions or about the capture (password guessing, clear-text logins): a
            // line each, as the text report's end tells them.
            Event::Finding { finding, .. } => {
                writeln!(self.out, "{} {}  {}", self.st.severity(finding.severity), finding.kind.as_str(), FindingSummary(finding))
            }
            Event::Summary { summary, .. } => {
                self.summary = (**summary).clone();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn narrowed(&mut self, shown: u64, of: u64, how: &str) {
        self.narrowed = Some(format!("({how}: {shown} of {of} session(s) shown above; the totals are the whole capture's)"));
    }

    fn finish(&mut self, _inputs: &[InputSummary]) -> io::Result<()> {
        writeln!(self.out, "{}", totals(&self.st, &self.summary))?;
        if self.summary.transfers.total > 0 {
            writeln!(self.out, "  {}", self.summary.transfers)?;
        }
        if let Some(n) = &self.narrowed {
            writeln!(self.out, "{}", self.st.dim(n))?;
        }
        self.out.flush()
    }
}

/// `session 1  192.168.1.10:39954 -> 198.51.100.2:21  user anonymous  PASV  data 2 ok, 0 failed
/// WARN  private_address_leak`.
fn line(st: &Style, s: &Session) -> String {
    let mut line = format!("session {}  {} -> {}  user {}  {}", s.id, Sock(s.client), Sock(s.server), user(s), modes(s));
    let (ok, failed) = data_connections(s);
    let _ = write!(line, "  data {} ok, {}", ok, if failed > 0 { st.paint("31", &format!("{failed} failed")) } else { "0 failed".into() });
    match worst(&s.findings) {
        Some(f) => {
            let more = s.findings.len() - 1;
            let _ = write!(line, "  {} {}", st.severity(f.severity), f.kind.as_str());
            if more > 0 {
                let _ = write!(line, " (+{more} more)");
            }
        }
        None => line.push_str("  no finding"),
    }
    line
}

fn user(s: &Session) -> &str {
    s.user.as_deref().unwrap_or("-")
}

/// The negotiation commands the session used, each once, in order of first use ("-": none).
fn modes(s: &Session) -> String {
    let mut seen: Vec<NegotiationCommand> = Vec::new();
    for n in &s.negotiations {
        if !seen.contains(&n.command) {
            seen.push(n.command);
        }
    }
    if seen.is_empty() {
        return "-".to_string();
    }
    seen.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(",")
}

/// Data connections that opened and those that failed (refused, unanswered, unreachable): each
/// negotiation's connection (the try that carried it: earlier tries are not failures of their
/// own, as in the report), and the probable data connections no negotiation claimed. One not
/// known either way, or never attempted, counts in neither.
fn data_connections(s: &Session) -> (u64, u64) {
    let negotiated = s.negotiations.iter().map(|n| n.data.outcome);
    let probable = s.probable_data_channels.iter().map(|c| c.outcome);
    let mut counts = (0, 0);
    for tone in negotiated.chain(probable).map(Tone::of) {
        match tone {
            Tone::Good => counts.0 += 1,
            Tone::Bad => counts.1 += 1,
            Tone::Doubtful => {}
        }
    }
    counts
}

/// The first finding of the highest severity (a cause before its consequences: they come later).
fn worst(findings: &[Finding]) -> Option<&Finding> {
    findings.iter().fold(None, |worst: Option<&Finding>, f| match worst {
        Some(w) if w.severity >= f.severity => Some(w),
        _ => Some(f),
    })
}
