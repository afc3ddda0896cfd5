//! Views of a two-point [`Crossing`]: text, and one JSON document (schema `ftpscope-points/1`,
//! docs/schema.md). What the device between the two capture points rewrote, let through and
//! dropped, per session and per data connection.
//!
//! Owns the layout of the two-point report. No pairing happens here.

use super::InputSummary;
use crate::model::notation::Sock;
use crate::model::points::{Crossing, DataCrossing, LoneSession, PairedBy, Point, SessionPair};
use crate::model::{Connection, Outcome};
use serde::Serialize;
use std::fmt::{self, Display, Write as _};
use std::io::{self, Write};

pub const SCHEMA: &str = "ftpscope-points/1";

/// One capture point as the report names it: the file and how many FTP sessions it held.
#[derive(Debug, Clone, Serialize)]
pub struct PointInput {
    #[serde(flatten)]
    pub input: InputSummary,
    pub sessions: usize,
}

impl PointInput {
    /// A point read from `pieces` (the rotated files of one capture, read as one): named as
    /// typed (`a0.pcap,a1.pcap`), its frames counted across them, cut short where a piece was.
    pub fn of(pieces: &[InputSummary], sessions: usize) -> PointInput {
        let mut input = pieces.first().cloned().unwrap_or_default();
        if pieces.len() > 1 {
            input.path = pieces.iter().map(|p| p.path.as_str()).collect::<Vec<_>>().join(",");
            input.frames = pieces.iter().map(|p| p.frames).sum();
            input.truncated = pieces.iter().find_map(|p| p.truncated.as_ref().map(|why| format!("{}: {why}", p.path)));
        }
        PointInput { input, sessions }
    }
}

/// The counts closing the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub session_pairs: usize,
    pub only_a: usize,
    pub only_b: usize,
    pub crossed: usize,
    pub vanished: usize,
    /// Negotiations whose advertised endpoint differs between the points.
    pub rewritten: usize,
}

impl Totals {
    pub fn of(c: &Crossing) -> Totals {
        Totals {
            session_pairs: c.pairs.len(),
            only_a: c.only_a.len(),
            only_b: c.only_b.len(),
            crossed: c.data().filter(|(_, d)| matches!(d, DataCrossing::Crossed { .. })).count(),
            vanished: c.vanished().count(),
            rewritten: c.pairs.iter().flat_map(|p| &p.negotiations).filter(|n| n.rewritten).count(),
        }
    }
}

/// Two capture points compared: both inputs and their crossing.
pub struct Compared {
    pub a: PointInput,
    pub b: PointInput,
    pub crossing: Crossing,
}

impl Serialize for Compared {
    /// The `points` object of an explanation of two captures (docs/schema.md).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Document { schema: SCHEMA, a: &self.a, b: &self.b, crossing: &self.crossing, totals: Totals::of(&self.crossing) }.serialize(s)
    }
}

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    a: &'a PointInput,
    b: &'a PointInput,
    #[serde(flatten)]
    crossing: &'a Crossing,
    totals: Totals,
}

/// The two-point report as text, written a session at a time: the report of two large
/// captures is never held whole (the HTML page escapes it on its way to the file).
pub struct PointsText<'a>(pub &'a Compared);

impl Display for PointsText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, crossing) = (&self.0.a, &self.0.b, &self.0.crossing);
        let mut t = String::new();
        for (name, p) in [("A", a), ("B", b)] {
            let cut = p.input.truncated.as_deref().map(|why| format!(" (cut short: {why})")).unwrap_or_default();
            let _ = writeln!(t, "{name}  {}: {} frames, {} FTP session(s){cut}", p.input.path, p.input.frames, p.sessions);
        }
        match crossing.clock_offset_ns {
            Some(ns) => {
                let by_isn = crossing.pairs.iter().filter(|p| p.paired_by == PairedBy::SequenceNumbers).count();
                let _ = writeln!(t, "clock: B = A {:+.6} s (median over {by_isn} session(s) paired by sequence numbers)", ns as f64 / 1e9);
            }
            None => t.push_str("clock: no session paired by sequence numbers, offset unknown (taken as 0)\n"),
        }
        for p in &crossing.pairs {
            t.push('\n');
            session(&mut t, p);
            f.write_str(&t)?;
            t.clear();
        }
        for (name, lone) in [("A", &crossing.only_a), ("B", &crossing.only_b)] {
            if !lone.is_empty() {
                let _ = writeln!(t, "\nonly at {name}:");
                for s in lone.iter() {
                    lone_session(&mut t, s);
                    f.write_str(&t)?;
                    t.clear();
                }
            }
        }
        let n = Totals::of(crossing);
        let _ = writeln!(
            t,
            "\nftpscope: {} session pair(s), {} only at A, {} only at B; {} data connection(s) crossed, {} vanished; {} negotiation(s) rewritten",
            n.session_pairs, n.only_a, n.only_b, n.crossed, n.vanished, n.rewritten
        );
        f.write_str(&t)
    }
}

pub fn write_text(out: &mut dyn Write, compared: &Compared) -> io::Result<()> {
    write!(out, "{}", PointsText(compared))
}

fn session(t: &mut String, p: &SessionPair) {
    let by = match p.paired_by {
        PairedBy::SequenceNumbers => "sequence numbers",
        PairedBy::Content => "content and time",
    };
    let user = p.user.as_deref().map(|u| format!("  user {u}")).unwrap_or_default();
    let _ = writeln!(t, "session A{} = B{}  (paired by {by}){user}", p.a, p.b);
    let c = &p.control;
    let _ = writeln!(t, "  control  A {} -> {}", Sock(c.a.client), Sock(c.a.server));
    let _ = writeln!(t, "           B {} -> {}", Sock(c.b.client), Sock(c.b.server));
    if c.client_translated() {
        let _ = writeln!(t, "           client translated: {} -> {}", Sock(c.a.client), Sock(c.b.client));
    }
    if c.server_translated() {
        let _ = writeln!(t, "           server translated: {} -> {}", Sock(c.a.server), Sock(c.b.server));
    }
    for n in &p.negotiations {
        let adv = |a: Option<std::net::SocketAddr>| a.map(|a| Sock(a).to_string()).unwrap_or_else(|| "-".into());
        let rewritten = if n.rewritten { "   rewritten in transit (ALG)" } else { "" };
        let _ = writeln!(
            t,
            "  {:<5} A #{} {}   B #{} {}{rewritten}",
            format!("{:?}", n.command),
            n.a_frame,
            adv(n.a_advertised),
            n.b_frame,
            adv(n.b_advertised)
        );
        data(t, &n.data, "        ");
    }
    let (a, b) = (p.negotiations_only_a, p.negotiations_only_b);
    if a + b > 0 {
        let _ = writeln!(t, "  {a} negotiation(s) only at A, {b} only at B (a capture began or ended within the session)");
    }
    if !p.probable_data_channels.is_empty() {
        t.push_str("  probable data channels (under TLS):\n");
        p.probable_data_channels.iter().for_each(|d| data(t, d, "    "));
    }
}

fn data(t: &mut String, d: &DataCrossing, indent: &str) {
    match d {
        DataCrossing::Crossed { a, b, same_isn } => {
            let isn = if *same_isn == Some(false) { "  (different sequence numbers)" } else { "" };
            let _ = writeln!(t, "{indent}crossed  A {}", connection(a));
            let _ = writeln!(t, "{indent}         B {}{isn}", connection(b));
        }
        DataCrossing::Vanished { seen_at, missing_at, connection: c, outcome_where_missing } => {
            let there = outcome_where_missing.map(|o| format!(" ({} there)", o.as_str())).unwrap_or_default();
            let (seen, missing) = (point(*seen_at), point(*missing_at));
            let _ = writeln!(t, "{indent}VANISHED seen at {seen} only, never at {missing}{there}: {}", why_vanished(c));
            let _ = writeln!(t, "{indent}         {seen} {}", connection(c));
        }
        DataCrossing::NotSeen => {
            let _ = writeln!(t, "{indent}no data connection at either point");
        }
    }
}

/// What the seen side's own packets say of a connection the other point never saw: only
/// silence is a drop; an ICMP error or a reset came from somewhere on the way.
fn why_vanished(c: &Connection) -> String {
    match (c.outcome, c.unreachable, c.rst_from) {
        (Outcome::Unreachable, Some(icmp), _) => {
            format!("{icmp} answered it on the way, so it never reached the other side (a router with no route to the address)")
        }
        (Outcome::Unreachable, None, _) => "an ICMP error answered it on the way, so it never reached the other side".into(),
        (Outcome::Refused, _, _) => {
            "a reset answered it without it reaching the other side: a device between refuses it (a firewall's reject, or a \
             router with nothing forwarded there)"
                .into()
        }
        _ => "the device between dropped it".into(),
    }
}

fn connection(c: &Connection) -> String {
    let syns = if c.syns > 1 { format!(", {} SYNs", c.syns) } else { String::new() };
    format!("SYN #{} {} -> {} {}{syns}", c.syn_frame, Sock(c.client), Sock(c.server), c.outcome.as_str())
}

fn lone_session(t: &mut String, s: &LoneSession) {
    let user = s.user.as_deref().map(|u| format!("  user {u}")).unwrap_or_default();
    let copy =
        s.copy_of.map(|k| format!("  (the other copy of session {k}: this capture holds both sides of a device)")).unwrap_or_default();
    let _ = writeln!(t, "  session {}  {} -> {}  first frame {}{user}{copy}", s.id, Sock(s.client), Sock(s.server), s.first_frame);
}

fn point(p: Point) -> &'static str {
    match p {
        Point::A => "A",
        Point::B => "B",
    }
}
