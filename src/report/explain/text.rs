//! `explain` for a person: per capture the verdict, then each problem story (what happened,
//! why, what to change, the diagram; the sessions like it counted under it), then the healthy
//! stories one line each, then what concerns the whole capture (clear-text logins). Lines fit 80
//! columns (a single word longer than that stands alone). On a terminal, headings are bold and
//! a problem's heading red or yellow; the lines to type are never painted (they are copied).
//!
//! Owns the text layout of `explain`; the words are report::explain::words'.

use super::story::Fact;
use super::words::NoFtp;
use super::{Explained, Problem};
use crate::model::finding::NO_SESSION;
use crate::model::notation::Sock;
use crate::model::{Finding, Fix, Severity};
use crate::problems::told::Told;
use crate::problems::{Explanation, Summary as FindingSummary};
use crate::report::ladder_text::{LadderText, WIDTH};
use crate::report::text::{wrap, Style};
use std::io::{self, Write};

/// Writes every capture, one after the other, in colour when `color`.
pub fn write(out: &mut dyn Write, captures: &[Explained], color: bool) -> io::Result<()> {
    let st = Style { color };
    for (i, e) in captures.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        capture(out, &st, e)?;
    }
    out.flush()
}

fn capture(out: &mut dyn Write, st: &Style, e: &Explained) -> io::Result<()> {
    let paths: Vec<&str> = e.inputs.iter().map(|i| i.path.as_str()).collect();
    writeln!(out, "{}", st.bold(&format!("=== {}", paths.join(", "))))?;
    if e.no_ftp() {
        paragraph(out, "", &NoFtp(e).to_string())?;
        return e.across.iter().try_for_each(|f| outside(out, st, f));
    }
    paragraph(out, "", &e.verdict.to_string())?;
    // The servers with something to change (a healthy server's picture is in the JSON).
    if e.servers.servers().iter().any(|s| !s.fix.is_empty()) {
        servers(out, e.servers.servers().iter().filter(|s| !s.fix.is_empty()))?;
    }
    if let Some(note) = crate::report::notes::implicit_ftps_note(&e.summary) {
        paragraph(out, "", &format!("Also: {note}."))?;
    }
    for input in e.inputs.iter().filter_map(|i| i.truncated.as_ref().map(|why| (&i.path, why))) {
        paragraph(out, "", &format!("{} ends early ({}): explained up to the break.", input.0, input.1))?;
    }
    if let Some(note) = crate::report::notes::cut_note(&e.summary) {
        paragraph(out, "", &format!("{note}."))?;
    }
    for f in e.across.iter().filter(|f| !f.is_about_capture()) {
        match f.session {
            NO_SESSION => outside(out, st, f)?,
            _ => paragraph(out, "", &format!("Across sessions: {}.", FindingSummary(f)))?,
        }
    }
    // Causes and fixes told once per capture (problems::told).
    let mut told = Told::default();
    for p in &e.problems {
        writeln!(out)?;
        problem(out, st, p, p.told_by(&mut told))?;
    }
    if e.problems_left_out > 0 {
        writeln!(out)?;
        paragraph(out, "", &format!("({} more session(s) with a problem, counted in the verdict, not told here.)", e.problems_left_out))?;
    }
    if !e.healthy.is_empty() {
        writeln!(out, "\n{}", st.bold("Healthy sessions:"))?;
        for h in &e.healthy {
            writeln!(out, "  {h}")?;
        }
    }
    if e.healthy_left_out > 0 {
        paragraph(out, "  ", &format!("({} more healthy session(s) not listed.)", e.healthy_left_out))?;
    }
    // About the capture, not a session's problem: after the sessions, once.
    for f in e.across.iter().filter(|f| f.is_about_capture()) {
        writeln!(out)?;
        note(out, st, f)?;
    }
    Ok(())
}

/// A finding about the whole capture (clear-text logins): what it is, why it matters, what to
/// change, once.
fn note(out: &mut dyn Write, st: &Style, f: &Finding) -> io::Result<()> {
    paragraph(out, "", &format!("Also, for the whole capture: {} ({}).", FindingSummary(f), f.kind.as_str()))?;
    paragraph(out, "", &Explanation(f).to_string())?;
    fixes(out, st, &f.fix)
}

/// Each server's picture and fix block: what to change, once per server, from the whole
/// capture (or from both points).
pub fn servers<'a>(out: &mut dyn Write, servers: impl IntoIterator<Item = &'a crate::model::Server>) -> io::Result<()> {
    let mut servers = servers.into_iter().peekable();
    if servers.peek().is_none() {
        return writeln!(out, "\n(No FTP server: no fix block.)");
    }
    for s in servers {
        let mut block = String::new();
        crate::report::server::text_block(&mut block, s, WIDTH, |sev| crate::report::server::severity_word(sev).to_string());
        write!(out, "\n{block}")?;
    }
    Ok(())
}

/// `told`: the session whose identical causes and fixes were told already.
fn problem(out: &mut dyn Write, st: &Style, p: &Problem, told: Option<u32>) -> io::Result<()> {
    let s = &p.session;
    let (worst, paint) = if s.findings.iter().any(|f| f.severity == Severity::Error) { ("ERROR", "1;31") } else { ("WARNING", "1;33") };
    writeln!(out, "{}", st.paint(paint, &format!("--- {worst} session {}: {} -> {}", s.id, Sock(s.client), Sock(s.server))))?;
    if !p.like.is_empty() {
        paragraph(out, "", &format!("The same story in {} more session(s): {}.", p.like.count(), p.like))?;
    }
    writeln!(out, "{}", st.bold("What happened:"))?;
    for fact in p.story.steps.iter().filter(|f| !matches!(f, Fact::Why { .. })) {
        bullet(out, &fact.to_string())?;
    }
    if let Some(id) = told {
        writeln!(out, "{}", st.bold(&format!("Why, and what to change: as for session {id} above.")))?;
        writeln!(out, "{}", st.bold("Diagram:"))?;
        return write!(out, "{}", LadderText(&p.ladder));
    }
    writeln!(out, "{}", st.bold("Why:"))?;
    for fact in p.story.steps.iter().filter(|f| matches!(f, Fact::Why { .. })) {
        bullet(out, &fact.to_string())?;
    }
    fixes(out, st, &p.fixes)?;
    writeln!(out, "{}", st.bold("Diagram:"))?;
    write!(out, "{}", LadderText(&p.ladder))
}

/// A finding outside any session (a control connection that never opened, data without its
/// control channel): what it is, why, what to change.
fn outside(out: &mut dyn Write, st: &Style, f: &Finding) -> io::Result<()> {
    let (worst, paint) = match f.severity {
        Severity::Error => ("ERROR", "1;31"),
        Severity::Warning => ("WARNING", "1;33"),
        Severity::Info => ("NOTE", "1;36"),
    };
    writeln!(out)?;
    for line in wrap(&format!("--- {worst} {}: {}", f.kind.as_str(), FindingSummary(f)), WIDTH) {
        writeln!(out, "{}", st.paint(paint, &line))?;
    }
    writeln!(out, "{}", st.bold("What happened:"))?;
    bullet(out, &Explanation(f).to_string())?;
    writeln!(out, "{}", st.bold("Why:"))?;
    bullet(out, &crate::problems::cause(f).to_string())?;
    fixes(out, st, &f.fix)
}

/// "What to change:", each fix with the lines to type, when there are fixes.
fn fixes(out: &mut dyn Write, st: &Style, fixes: &[Fix]) -> io::Result<()> {
    if !fixes.is_empty() {
        writeln!(out, "{}", st.bold("What to change:"))?;
        for fix in fixes {
            bullet(out, &fix.to_string())?;
            // The lines to type, whole (a command cut in two would not work when pasted).
            for line in crate::report::fix::apply(fix) {
                writeln!(out, "      {line}")?;
            }
        }
    }
    Ok(())
}

fn bullet(out: &mut dyn Write, text: &str) -> io::Result<()> {
    for (i, line) in wrap(text, WIDTH - 4).iter().enumerate() {
        writeln!(out, "{}{line}", if i == 0 { "  - " } else { "    " })?;
    }
    Ok(())
}

fn paragraph(out: &mut dyn Write, indent: &str, text: &str) -> io::Result<()> {
    for line in wrap(text, WIDTH - indent.len()) {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}
