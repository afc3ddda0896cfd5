//! `explain --json`: one document (schema "ftpscope-explain/1", docs/schema.md) with, per
//! capture, its summary and verdict, each problem session's record, explanation (typed steps and
//! their words), fixes and diagram (the ladder as data and as text), and the healthy sessions
//! as one-line entries.
//!
//! Owns the JSON shape of `explain`; values and words come from the other modules.

use super::story::Fact;
use super::words::NoFtp;
use super::{Explained, Healthy, Problem, Verdict};
use crate::model::Server;
use crate::report::alike::Ids;
use crate::report::fix::Fixes;
use crate::report::ladder::Ladder;
use crate::report::ladder_text::LadderText;
use crate::report::points::Compared;
use crate::report::record::{Findings, SessionView};
use crate::report::server::ServersView;
use crate::report::{Capture, Rendered};
use serde::Serialize;
use std::io::{self, Write};

pub const SCHEMA: &str = "ftpscope-explain/1";

/// Writes the document for every capture.
/// `servers`: with two points, each server's picture and fix block from both.
pub fn write(out: &mut dyn Write, captures: &[Explained], points: Option<&Compared>, servers: Option<&[Server]>) -> io::Result<()> {
    let captures = captures.iter().map(CaptureView::of).collect();
    let document = Document { schema: SCHEMA, captures, points, servers: servers.map(ServersView) };
    crate::report::write_json(out, &mut Vec::new(), &document)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    captures: Vec<CaptureView<'a>>,
    /// Two captures: the same traffic at two points, paired (schema ftpscope-points/1).
    #[serde(skip_serializing_if = "Option::is_none")]
    points: Option<&'a Compared>,
    /// Two captures: each server from both points, with its one fix block.
    #[serde(skip_serializing_if = "Option::is_none")]
    servers: Option<ServersView<'a>>,
}

#[derive(Serialize)]
struct CaptureView<'a> {
    capture: Capture<'a>,
    verdict: VerdictView<'a>,
    /// Present when no FTP was found: what to capture instead.
    no_ftp: Option<NoFtpView<'a>>,
    problems: Vec<ProblemView<'a>>,
    problems_left_out: u64,
    healthy: Vec<HealthyView<'a>>,
    healthy_left_out: u64,
    findings: Findings<'a>,
    /// Each server's picture and fix block.
    servers: ServersView<'a>,
}

impl<'a> CaptureView<'a> {
    fn of(e: &'a Explained) -> CaptureView<'a> {
        CaptureView {
            capture: Capture::new(&e.inputs, &e.summary),
            verdict: VerdictView { verdict: &e.verdict, text: Rendered(&e.verdict) },
            no_ftp: e
                .no_ftp()
                .then_some(NoFtpView { implicit_ftps_connections: e.summary.implicit_ftps_connections, text: Rendered(NoFtp(e)) }),
            problems: e.problems.iter().map(ProblemView::of).collect(),
            problems_left_out: e.problems_left_out,
            healthy: e.healthy.iter().map(|h| HealthyView { healthy: h, text: Rendered(h) }).collect(),
            healthy_left_out: e.healthy_left_out,
            findings: Findings(&e.across),
            servers: ServersView(e.servers.servers()),
        }
    }
}

#[derive(Serialize)]
struct VerdictView<'a> {
    #[serde(flatten)]
    verdict: &'a Verdict,
    text: Rendered<&'a Verdict>,
}

#[derive(Serialize)]
struct NoFtpView<'a> {
    implicit_ftps_connections: u64,
    text: Rendered<NoFtp<'a>>,
}

#[derive(Serialize)]
struct HealthyView<'a> {
    #[serde(flatten)]
    healthy: &'a Healthy,
    text: Rendered<&'a Healthy>,
}

#[derive(Serialize)]
struct ProblemView<'a> {
    session: SessionView<'a>,
    /// The other sessions of the same story.
    like: &'a Ids,
    explanation: Explanation<'a>,
    fix: Fixes<'a>,
    diagram: Diagram<'a>,
}

impl<'a> ProblemView<'a> {
    fn of(p: &'a Problem) -> ProblemView<'a> {
        let steps: Vec<Step<'a>> = p.story.steps.iter().map(|fact| Step { fact, text: Rendered(fact) }).collect();
        let text = steps.iter().map(|s| s.fact.to_string()).collect::<Vec<_>>().join(" ");
        ProblemView {
            session: SessionView::of(&p.session),
            like: &p.like,
            explanation: Explanation { steps, text },
            fix: Fixes(&p.fixes),
            diagram: Diagram { ladder: &p.ladder, text: Rendered(LadderText(&p.ladder)) },
        }
    }
}

#[derive(Serialize)]
struct Explanation<'a> {
    steps: Vec<Step<'a>>,
    /// The steps' words as one text.
    text: String,
}

#[derive(Serialize)]
struct Step<'a> {
    #[serde(flatten)]
    fact: &'a Fact,
    text: Rendered<&'a Fact>,
}

#[derive(Serialize)]
struct Diagram<'a> {
    #[serde(flatten)]
    ladder: &'a Ladder,
    text: Rendered<LadderText<'a>>,
}
