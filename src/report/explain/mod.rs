//! `ftpscope explain`: per capture, a verdict, then each session with a problem told as a story
//! (what happened on the wire, why, what to change) with its ladder diagram, and each healthy
//! session in one line. Two steps with one seam between them: a [`Collector`] (a [`Sink`] of
//! the analyzer's events) gathers an [`Explained`] capture, and text or JSON is written from
//! it. Pairing two capture points can go between the two.
//!
//! Owns what an explanation keeps and its bounds. The facts are story's, the words are words',
//! the layouts are text's and json's.

pub mod json;
pub mod story;
pub mod text;
pub mod words;

use super::ladder::{ladder, Ladder};
use super::{InputSummary, Sink};
use crate::correlate::points::Seen;
use crate::model::{Directions, Event, Finding, Fix, Outcome, Session, Summary, Transfers};
use crate::problems::told::Told;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{channel, Receiver, Sender};
use story::{causes, problems, story, Cause, Fact, Story};

/// Problem sessions kept in full per capture; past it they are counted in the verdict only.
pub const PROBLEMS_KEPT: usize = 500;
/// Healthy sessions kept as one line per capture; past it, counted.
pub const HEALTHY_KEPT: usize = 2000;
/// Findings across sessions kept (they need both sides of a NAT router in one capture).
const ACROSS_KEPT: usize = 500;

/// One capture, explained.
#[derive(Debug, Default)]
pub struct Explained {
    pub inputs: Vec<InputSummary>,
    pub summary: Summary,
    pub verdict: Verdict,
    pub problems: Vec<Problem>,
    pub problems_left_out: u64,
    pub healthy: Vec<Healthy>,
    pub healthy_left_out: u64,
    /// Findings across sessions.
    pub across: Vec<Finding>,
    /// Each server's picture from the whole capture, and its fix block.
    pub servers: super::server::Latest,
    /// What pairing compares of every session, when the capture is one of two points of the
    /// same traffic ([`Collector::for_pairing`]); empty otherwise.
    pub seen: Vec<Seen>,
}

impl Explained {
    /// No FTP control channel was recognised at all.
    pub fn no_ftp(&self) -> bool {
        self.summary.sessions == 0
    }
}

/// The capture at a glance: sessions, how many have a problem, the problems by cause.
#[derive(Debug, Default, Serialize)]
pub struct Verdict {
    pub sessions: u64,
    pub problem_sessions: u64,
    pub errors: u64,
    pub warnings: u64,
    /// Transfers by verdict (model::transfer), of every session.
    pub transfers: Transfers,
    /// Sessions per cause, in order of first appearance.
    #[serde(serialize_with = "by_cause")]
    pub causes: Vec<(Cause, u64)>,
}

fn by_cause<S: Serializer>(causes: &[(Cause, u64)], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Entry {
        cause: Cause,
        sessions: u64,
    }
    let mut seq = s.serialize_seq(Some(causes.len()))?;
    for &(cause, sessions) in causes {
        seq.serialize_element(&Entry { cause, sessions })?;
    }
    seq.end()
}

/// A session with an error or warning finding, with everything said about it.
#[derive(Debug)]
pub struct Problem {
    pub session: Session,
    pub story: Story,
    /// The problem findings' fixes, each once.
    pub fixes: Vec<Fix>,
    pub ladder: Ladder,
}

impl Problem {
    pub fn of(session: Session) -> Problem {
        Problem { story: story(&session), fixes: story::fixes(&session), ladder: ladder(&session), session }
    }

    /// The causes its story tells, worst first.
    pub fn causes(&self) -> Vec<Cause> {
        self.story.steps.iter().filter_map(|f| if let Fact::Why { cause, .. } = f { Some(*cause) } else { None }).collect()
    }

    /// The session that already told the same causes and fixes, by [`Told`]'s rule; None when
    /// this one tells them.
    pub fn told_by(&self, told: &mut Told) -> Option<u32> {
        told.earlier(&self.causes(), &self.fixes, self.session.id)
    }
}

/// A session without a problem, as one line.
#[derive(Debug, Clone, Serialize)]
pub struct Healthy {
    pub session: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub user: Option<String>,
    /// Negotiations, plus the probable data connections of a session under TLS (where no
    /// negotiation can be read).
    pub transfers: u64,
    /// Of those, the data connections established.
    pub transfers_ok: u64,
    /// Which directions of the control connection the capture holds: a session seen one way
    /// is healthy as far as that side shows.
    pub captured_directions: Directions,
}

impl Healthy {
    pub fn of(s: &Session) -> Healthy {
        Healthy {
            session: s.id,
            client: s.client,
            server: s.server,
            user: s.user.clone(),
            transfers: s.negotiations.len() as u64 + s.negotiations_over_limit + s.probable_data_channels.len() as u64,
            transfers_ok: s.negotiations.iter().filter(|n| n.data.outcome == Outcome::Established).count() as u64
                + s.probable_data_channels.iter().filter(|c| c.outcome == Outcome::Established).count() as u64,
            captured_directions: s.captured_directions,
        }
    }
}

/// Gathers one capture's [`Explained`] from the analyzer's events; hands it over when the input
/// ends (on the receiver [`Collector::new`] returns).
pub struct Collector {
    explained: Explained,
    done: Sender<Explained>,
    pairing: bool,
}

impl Collector {
    pub fn new() -> (Collector, Receiver<Explained>) {
        let (done, receiver) = channel();
        (Collector { explained: Explained::default(), done, pairing: false }, receiver)
    }

    /// Also keeps what pairing two capture points compares of every session (not only of the
    /// sessions kept for the explanation).
    pub fn for_pairing(self) -> Collector {
        Collector { pairing: true, ..self }
    }

    fn settled(&mut self, session: &Session) {
        let e = &mut self.explained;
        if self.pairing {
            e.seen.push(Seen::of(session));
        }
        e.verdict.sessions += 1;
        if problems(session).next().is_none() {
            match e.healthy.len() < HEALTHY_KEPT {
                true => e.healthy.push(Healthy::of(session)),
                false => e.healthy_left_out += 1,
            }
            return;
        }
        e.verdict.problem_sessions += 1;
        for (cause, _) in causes(session) {
            match e.verdict.causes.iter_mut().find(|(c, _)| *c == cause) {
                Some((_, n)) => *n += 1,
                None => e.verdict.causes.push((cause, 1)),
            }
        }
        match e.problems.len() < PROBLEMS_KEPT {
            true => e.problems.push(Problem::of(session.clone())),
            false => e.problems_left_out += 1,
        }
    }
}

impl Sink for Collector {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SessionEnd { record, .. } => self.settled(record),
            Event::Finding { finding, .. } if self.explained.across.len() < ACROSS_KEPT => self.explained.across.push((**finding).clone()),
            Event::Server { server, .. } => self.explained.servers.tell(server),
            Event::Summary { summary, .. } => {
                let v = &mut self.explained.verdict;
                (v.errors, v.warnings, v.transfers) = (summary.errors, summary.warnings, summary.transfers);
                self.explained.summary = (**summary).clone();
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()> {
        self.explained.inputs = inputs.to_vec();
        // Held until the other capture is read too: no room to spare.
        self.explained.seen.shrink_to_fit();
        let explained = std::mem::take(&mut self.explained);
        // The receiver is gone only if the caller stopped waiting: nothing to write then.
        let _ = self.done.send(explained);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Timestamp;
    use crate::report::ladder::tests::sessions;

    fn settle(c: &mut Collector, record: &Session) {
        c.event(&Event::SessionEnd { session: record.id, frame: record.last_frame, time: Timestamp(0), record: Box::new(record.clone()) })
            .unwrap();
    }

    #[test]
    fn past_the_bounds_sessions_are_counted_in_the_verdict_not_kept() {
        let healthy = &sessions("pasv-ok-forwarded/client.pcap")[0];
        let problem = &sessions("pasv-private-leak-fail/client.pcap")[0];
        let (mut c, collected) = Collector::new();
        for _ in 0..HEALTHY_KEPT + 3 {
            settle(&mut c, healthy);
        }
        for _ in 0..PROBLEMS_KEPT + 2 {
            settle(&mut c, problem);
        }
        c.finish(&[]).unwrap();
        let e = collected.recv().unwrap();
        assert_eq!((e.healthy.len(), e.healthy_left_out), (HEALTHY_KEPT, 3));
        assert_eq!((e.problems.len(), e.problems_left_out), (PROBLEMS_KEPT, 2));
        assert_eq!(e.verdict.sessions, (HEALTHY_KEPT + 3 + PROBLEMS_KEPT + 2) as u64);
        assert_eq!(e.verdict.problem_sessions, (PROBLEMS_KEPT + 2) as u64);
        assert_eq!(e.verdict.causes, [(crate::problems::private_address_leak::SERVER_NAT_PRIVATE_ADDRESS, (PROBLEMS_KEPT + 2) as u64)]);
    }

    #[test]
    fn in_colour_headings_are_painted_and_the_lines_to_type_are_not() {
        let session = &sessions("pasv-private-leak-fail/client.pcap")[0];
        let (mut c, collected) = Collector::new();
        settle(&mut c, session);
        let summary = Box::new(Summary { sessions: 1, ..Summary::default() });
        c.event(&Event::Summary { frame: session.last_frame, time: Timestamp(0), summary }).unwrap();
        c.finish(&[]).unwrap();
        let e = collected.recv().unwrap();
        let written = |color| {
            let mut text = Vec::new();
            super::text::write(&mut text, std::slice::from_ref(&e), color).unwrap();
            String::from_utf8(text).unwrap()
        };
        let (plain, painted) = (written(false), written(true));
        assert!(!plain.contains('\x1b'), "{plain}");
        assert!(painted.contains("\x1b[1;31m--- ERROR session 0: "), "{painted}");
        assert!(painted.contains("\x1b[1mWhat to change:\x1b[0m"), "{painted}");
        let typed = painted.lines().find(|l| l.trim_start().starts_with("pasv_address=")).unwrap();
        assert_eq!(typed, "      pasv_address=198.51.100.2", "copied as it is");
        // Without the escape codes, the same words.
        let stripped = painted.replace("\x1b[1;31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn text_and_page_refer_to_the_session_that_told_the_same_causes_and_fixes() {
        let first = &sessions("pasv-private-leak-fail/client.pcap")[0];
        let mut again = first.clone();
        again.id = first.id + 1;
        let (mut c, collected) = Collector::new();
        settle(&mut c, first);
        settle(&mut c, &again);
        let summary = Box::new(Summary { sessions: 2, ..Summary::default() });
        c.event(&Event::Summary { frame: again.last_frame, time: Timestamp(0), summary }).unwrap();
        c.finish(&[]).unwrap();
        let e = collected.recv().unwrap();
        let mut text = Vec::new();
        super::text::write(&mut text, std::slice::from_ref(&e), false).unwrap();
        let text = String::from_utf8(text).unwrap();
        let mut page = Vec::new();
        super::super::html::write(&mut page, std::slice::from_ref(&e), None).unwrap();
        let page = String::from_utf8(page).unwrap();
        let id = first.id;
        assert_eq!(text.matches("Why:").count(), 1, "{text}");
        assert!(text.contains(&format!("Why, and what to change: as for session {id} above.")), "{text}");
        assert_eq!(page.matches("<h4>Why</h4>").count(), 1, "the page tells the causes once too");
        assert!(page
            .contains(&format!("<h4>Why, and what to change</h4>\n<p class=\"dim\">As for <a href=\"#c0-session-{id}\">session {id}</a>")));
    }
}
