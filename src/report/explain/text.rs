//! `explain` for a person: per capture the verdict, then each problem story (what happened,
//! why, what to change, the diagram; the sessions like it counted under it), then the healthy
//! stories one line each, then what concerns the whole capture (clear-text logins). Lines fit 80
//! columns (a single word longer than that stands alone).
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
use crate::report::text::wrap;
use std::io::{self, Write};

/// Writes every capture, one after the other.
pub fn write(out: &mut dyn Write, captures: &[Explained]) -> io::Result<()> {
    for (i, e) in captures.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        capture(out, e)?;
    }
    out.flush()
}

fn capture(out: &mut dyn Write, e: &Explained) -> io::Result<()> {
    let paths: Vec<&str> = e.inputs.iter().map(|i| i.path.as_str()).collect();
    writeln!(out, "=== {}", paths.join(", "))?;
    if e.no_ftp() {
        return paragraph(out, "", &NoFtp(e).to_string());
    }
    paragraph(out, "", &e.verdict.to_string())?;
    if let Some(note) = crate::report::notes::implicit_ftps_note(&e.summary) {
        paragraph(out, "", &format!("Also: {note}."))?;
    }
    for input in e.inputs.iter().filter_map(|i| i.truncated.as_ref().map(|why| (&i.path, why))) {
        paragraph(out, "", &format!("{} ends early ({}): explained up to the break.", input.0, input.1))?;
    }
    if let Some(note) = crate::report::notes::cut_note(&e.summary) {
        paragraph(out, "", &format!("{note}."))?;
    }
    for f in e.across.iter().filter(|f| f.session != NO_SESSION) {
        paragraph(out, "", &format!("Across sessions: {}.", FindingSummary(f)))?;
    }
    // Causes and fixes told once per capture (problems::told).
    let mut told = Told::default();
    for p in &e.problems {
        writeln!(out)?;
        problem(out, p, p.told_by(&mut told))?;
    }
    if e.problems_left_out > 0 {
        writeln!(out)?;
        paragraph(out, "", &format!("({} more session(s) with a problem, counted in the verdict, not told here.)", e.problems_left_out))?;
    }
    if !e.healthy.is_empty() {
        writeln!(out, "\nHealthy sessions:")?;
        for h in &e.healthy {
            writeln!(out, "  {h}")?;
        }
    }
    if e.healthy_left_out > 0 {
        paragraph(out, "  ", &format!("({} more healthy session(s) not listed.)", e.healthy_left_out))?;
    }
    // About the capture, not a session's problem: after the sessions, once.
    for f in e.across.iter().filter(|f| f.session == NO_SESSION) {
        writeln!(out)?;
        note(out, f)?;
    }
    Ok(())
}

/// A finding about the whole capture (clear-text logins): what it is, why it matters, what to
/// change, once.
fn note(out: &mut dyn Write, f: &Finding) -> io::Result<()> {
    paragraph(out, "", &format!("Also, for the whole capture: {} ({}).", FindingSummary(f), f.kind.as_str()))?;
    paragraph(out, "", &Explanation(f).to_string())?;
    fixes(out, &f.fix)
}

/// "What to change", each fix in words and the lines to type, whole (a command cut in two
/// would not work when pasted).
fn fixes(out: &mut dyn Write, fixes: &[Fix]) -> io::Result<()> {
    if fixes.is_empty() {
        return Ok(());
    }
    writeln!(out, "What to change:")?;
    for fix in fixes {
        bullet(out, &fix.to_string())?;
        for line in crate::report::fix::apply(fix) {
            writeln!(out, "      {line}")?;
        }
    }
    Ok(())
}

/// `told`: the session whose identical causes and fixes were told already.
fn problem(out: &mut dyn Write, p: &Problem, told: Option<u32>) -> io::Result<()> {
    let s = &p.session;
    let worst = if s.findings.iter().any(|f| f.severity == Severity::Error) { "ERROR" } else { "WARNING" };
    writeln!(out, "--- {worst} session {}: {} -> {}", s.id, Sock(s.client), Sock(s.server))?;
    if !p.like.is_empty() {
        paragraph(out, "", &format!("The same story in {} more session(s): {}.", p.like.count(), p.like))?;
    }
    writeln!(out, "What happened:")?;
    for fact in p.story.steps.iter().filter(|f| !matches!(f, Fact::Why { .. })) {
        bullet(out, &fact.to_string())?;
    }
    if let Some(id) = told {
        writeln!(out, "Why, and what to change: as for session {id} above.")?;
        writeln!(out, "Diagram:")?;
        return write!(out, "{}", LadderText(&p.ladder));
    }
    writeln!(out, "Why:")?;
    for fact in p.story.steps.iter().filter(|f| matches!(f, Fact::Why { .. })) {
        bullet(out, &fact.to_string())?;
    }
    fixes(out, &p.fixes)?;
    writeln!(out, "Diagram:")?;
    write!(out, "{}", LadderText(&p.ladder))
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
