//! `ftpscope explain`: per capture, a verdict, then each session with a problem told as a story
//! (what happened on the wire, why, what to change) with its ladder diagram, and each healthy
//! session in one line. Sessions that are the same story (report::alike) are told once, the
//! others counted under it with their ids. Two steps with one seam between them: a [`Collector`] (a [`Sink`] of
//! the analyzer's events) gathers an [`Explained`] capture, and text or JSON is written from
//! it. Pairing two capture points can go between the two.
//!
//! Owns what an explanation keeps and its bounds. The facts are story's, the words are words',
//! the layouts are text's and json's.

pub mod json;
pub mod story;
pub mod text;
pub mod words;

use super::alike::{HealthyStory, Ids, ProblemStory, Stories, Telling};
use super::ladder::{ladder, Ladder};
use super::{InputSummary, Sink};
use crate::correlate::points::Seen;
use crate::interned::Interned;
use crate::model::finding::NO_SESSION;
use crate::model::{Directions, Event, Finding, FindingKind, Fix, Outcome, Session, Summary, Transfers};
use crate::problems::told::Told;
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{channel, Receiver, Sender};
use story::{causes, problems, story, Cause, Fact, Story};

/// Problem stories kept in full per capture; past it their sessions are counted in the verdict
/// only. A session like one kept is counted under it.
pub const PROBLEMS_KEPT: usize = 500;
/// Healthy stories kept as one line per capture; past it, counted.
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
    /// Sessions without a problem that this point cannot judge: encrypted, and no data
    /// connection seen (what they asked for cannot be read, and nothing arrived here).
    pub unread: u64,
    /// Client addresses found guessing passwords (`password_guessing`, a finding about the
    /// whole capture, told at the end): named in the verdict too, since each session alone
    /// reads as a refused login.
    pub guessing_addresses: u64,
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

impl Verdict {
    /// A finding told apart from the sessions: counted when it is one the verdict names.
    pub fn add_about_capture(&mut self, finding: &Finding) {
        if finding.kind == FindingKind::PasswordGuessing {
            self.guessing_addresses += 1;
        }
    }

    /// A settled session: counted, with its causes and transfers.
    pub fn add(&mut self, session: &Session) {
        self.sessions += 1;
        let causes = causes(session);
        if causes.is_empty() {
            self.unread += u64::from(unread(session));
            return;
        }
        self.problem_sessions += 1;
        for (cause, _) in causes {
            match self.causes.iter_mut().find(|(c, _)| *c == cause) {
                Some((_, n)) => *n += 1,
                None => self.causes.push((cause, 1)),
            }
        }
    }
}

/// A session with an error or warning finding, with everything said about it.
#[derive(Debug)]
pub struct Problem {
    pub session: Session,
    pub story: Story,
    /// The problem findings' fixes, each once.
    pub fixes: Vec<Fix>,
    pub ladder: Ladder,
    /// The other sessions of the same story, told with this one.
    pub like: Ids,
}

impl Problem {
    pub fn of(session: Session) -> Problem {
        Problem { story: story(&session), fixes: story::fixes(&session), ladder: ladder(&session), session, like: Ids::default() }
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

impl Telling for Problem {
    fn like(&mut self) -> &mut Ids {
        &mut self.like
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
    /// Payload bytes of its data connections, both ways.
    pub bytes: u64,
    /// Which directions of the control connection the capture holds: a session seen one way
    /// is healthy as far as that side shows.
    pub captured_directions: Directions,
    /// Encrypted, with no data connection seen: healthy only as far as this point can tell.
    pub unread: bool,
    /// The other healthy sessions of the same story.
    pub like: Ids,
}

/// An encrypted session in which this capture saw no data connection: whether it asked for
/// one, and whether that failed elsewhere, cannot be read here.
pub fn unread(s: &Session) -> bool {
    s.protected().is_some() && transfers(s).0 == 0
}

impl Healthy {
    pub fn of(s: &Session) -> Healthy {
        let (transfers, transfers_ok) = transfers(s);
        Healthy {
            session: s.id,
            client: s.client,
            server: s.server,
            user: s.user.clone(),
            transfers,
            transfers_ok,
            bytes: s.negotiations.iter().map(|n| n.data.bytes).sum::<u64>()
                + s.probable_data_channels.iter().map(|c| c.bytes_to_server + c.bytes_to_client).sum::<u64>(),
            captured_directions: s.captured_directions,
            unread: unread(s),
            like: Ids::default(),
        }
    }
}

impl Telling for Healthy {
    fn like(&mut self) -> &mut Ids {
        &mut self.like
    }
}

/// A session's transfers (negotiations, plus the probable data connections of a session under
/// TLS, where no negotiation can be read) and of those the data connections established.
fn transfers(s: &Session) -> (u64, u64) {
    let transfers = s.negotiations.len() as u64 + s.negotiations_over_limit + s.probable_data_channels.len() as u64;
    let established = s.negotiations.iter().filter(|n| n.data.outcome == Outcome::Established).count() as u64
        + s.probable_data_channels.iter().filter(|c| c.outcome == Outcome::Established).count() as u64;
    (transfers, established)
}

/// Gathers one capture's [`Explained`] from the analyzer's events; hands it over when the input
/// ends (on the receiver [`Collector::new`] returns).
pub struct Collector {
    explained: Explained,
    problems: Stories<ProblemStory, Problem>,
    healthy: Stories<HealthyStory, Healthy>,
    done: Sender<Explained>,
    pairing: bool,
    /// The users and banners of pairing's summaries, each once.
    texts: Interned,
}

impl Collector {
    pub fn new() -> (Collector, Receiver<Explained>) {
        let (done, receiver) = channel();
        let (problems, healthy) = (Stories::new(PROBLEMS_KEPT), Stories::new(HEALTHY_KEPT));
        (Collector { explained: Explained::default(), problems, healthy, done, pairing: false, texts: Interned::default() }, receiver)
    }

    /// Also keeps what pairing two capture points compares of every session (not only of the
    /// sessions kept for the explanation).
    pub fn for_pairing(self) -> Collector {
        Collector { pairing: true, ..self }
    }

    fn settled(&mut self, session: &Session) {
        let e = &mut self.explained;
        if self.pairing {
            e.seen.push(Seen::of(session, &mut self.texts));
        }
        e.verdict.add(session);
        if problems(session).next().is_none() {
            let (transfers, ok) = transfers(session);
            self.healthy.add(HealthyStory::of(session, transfers, ok), session.id, || Healthy::of(session));
            return;
        }
        let fixes = story::fixes(session);
        self.problems.add(ProblemStory::of(session, &fixes), session.id, || Problem::of(session.clone()));
    }
}

impl Sink for Collector {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SessionEnd { record, .. } => self.settled(record),
            Event::Server { server, .. } => self.explained.servers.tell(server),
            // One about the whole capture comes last, and is always kept.
            Event::Finding { finding, .. } if self.explained.across.len() < ACROSS_KEPT || finding.session == NO_SESSION => {
                self.explained.verdict.add_about_capture(finding);
                self.explained.across.push((**finding).clone())
            }
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
        let e = &mut self.explained;
        (e.problems, e.problems_left_out) = self.problems.take();
        (e.healthy, e.healthy_left_out) = self.healthy.take();
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
    fn past_the_bounds_stories_are_counted_in_the_verdict_not_kept() {
        let healthy = &sessions("pasv-ok-forwarded/client.pcap")[0];
        let problem = &sessions("pasv-private-leak-fail/client.pcap")[0];
        let (mut c, collected) = Collector::new();
        // Each another story: another user, another server port.
        for i in 0..HEALTHY_KEPT + 3 {
            let mut h = healthy.clone();
            h.user = Some(format!("user{i}"));
            settle(&mut c, &h);
        }
        for i in 0..PROBLEMS_KEPT + 2 {
            let mut p = problem.clone();
            p.server.set_port(2000 + i as u16);
            settle(&mut c, &p);
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
        // Its server's block holds the lines to type.
        let mut servers = crate::diagnose::servers::Servers::default();
        servers.see(session);
        for server in servers.all(crate::model::Intent::default()) {
            c.event(&Event::Server { frame: session.last_frame, time: Timestamp(0), server: Box::new(server) }).unwrap();
        }
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
        assert_eq!(typed, "         pasv_address=198.51.100.2", "copied as it is");
        // Without the escape codes, the same words.
        let stripped = painted.replace("\x1b[1;31m", "").replace("\x1b[1m", "").replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn sessions_of_one_story_are_told_once_and_counted_with_their_ids_past_any_bound() {
        let healthy = &sessions("pasv-ok-forwarded/client.pcap")[1];
        let problem = &sessions("pasv-private-leak-fail/client.pcap")[0];
        let (mut c, collected) = Collector::new();
        let n = PROBLEMS_KEPT + HEALTHY_KEPT;
        for i in 0..n as u32 {
            let (mut h, mut p) = (healthy.clone(), problem.clone());
            (h.id, p.id) = (2 * i, 2 * i + 1);
            settle(&mut c, &h);
            settle(&mut c, &p);
        }
        let summary = Box::new(Summary { sessions: 2 * n as u64, ..Summary::default() });
        c.event(&Event::Summary { frame: 1, time: Timestamp(0), summary }).unwrap();
        c.finish(&[]).unwrap();
        let e = collected.recv().unwrap();
        assert_eq!((e.problems.len(), e.problems_left_out, e.healthy.len(), e.healthy_left_out), (1, 0, 1, 0));
        assert_eq!(e.problems[0].like.count(), n as u64 - 1);
        assert_eq!(e.problems[0].like.listed()[..3], [3, 5, 7]);
        assert_eq!(e.healthy[0].like.count(), n as u64 - 1);
        assert_eq!((e.verdict.sessions, e.verdict.problem_sessions), (2 * n as u64, n as u64));
        let mut text = Vec::new();
        super::text::write(&mut text, std::slice::from_ref(&e), false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text.matches("What happened:").count(), 1, "{text}");
        assert_eq!(text.matches("Diagram:").count(), 1, "one diagram per story");
        assert!(text.contains(&format!("The same story in {} more session(s): 3, 5, 7,", n - 1)), "{text}");
        assert!(text.contains(&format!("2 transfer(s) ok, 168 bytes; {} more like it: session(s) 2, 4, 6,", n - 1)), "{text}");
    }

    #[test]
    fn text_and_page_refer_to_the_session_that_told_the_same_causes_and_fixes() {
        let first = &sessions("pasv-private-leak-fail/client.pcap")[0];
        let mut again = first.clone();
        again.id = first.id + 1;
        // The same causes and fixes, another story: its second data connection went unanswered.
        again.negotiations[1].data.outcome = Outcome::Unanswered;
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
