//! A server's picture and fix block as outputs show them: the text block of the closing
//! summary, and the JSON object of `servers[]` (analyze's document, NDJSON's `server` event,
//! explain's captures). The fixes' words and lines are report::fix's.
//!
//! Owns the layout of a server. Must not decide which fixes a server needs (diagnose::servers).

use super::fix::{apply, Fixes};
use super::text::wrap;
use crate::model::notation::{Ip, Sock};
use crate::model::server::{CauseCount, PortSet};
use crate::model::{Server, Software, Transfers};
use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Ports written in runs: "40000-40004, 40006, 40008".
pub fn runs(ports: &[u16]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < ports.len() {
        let mut j = i;
        while j + 1 < ports.len() && ports[j + 1] == ports[j] + 1 {
            j += 1;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        if j > i {
            let _ = write!(out, "{}-{}", ports[i], ports[j]);
        } else {
            let _ = write!(out, "{}", ports[i]);
        }
        i = j + 1;
    }
    out
}

/// What the capture shows of a server (the head of its block in the text report's closing
/// summary), words wrapped to `width`. `severity` words a cause's severity as the report does.
pub fn picture_text(out: &mut String, s: &Server, width: usize, severity: impl Fn(crate::model::Severity) -> String) {
    let p = &s.picture;
    // As an endpoint: an IPv6 address in brackets, or its last group reads as the port.
    let mut head = format!("server {}", Sock(SocketAddr::new(p.address, p.control_port)));
    if p.software != Software::Unknown {
        let _ = write!(head, " ({})", p.software.name());
    }
    let _ = write!(out, "{head}, {} session(s)", p.sessions);
    if p.transfers.total > 0 {
        let _ = write!(out, ", {}", p.transfers);
    }
    let _ = writeln!(out);
    let mut facts = Vec::new();
    if let Some(lan) = p.lan_address {
        facts.push(format!("LAN address {}", Ip(lan)));
    }
    if let Some(public) = p.public_address {
        facts.push(format!("public address {}", Ip(public)));
    }
    facts.push(format!("control port {}", if p.control_crossed { "crossed" } else { "never answered" }));
    if !facts.is_empty() {
        let _ = writeln!(out, "  {}", facts.join("; "));
    }
    let never = p.never();
    let mut ports = Vec::new();
    if !p.advertised.is_empty() {
        ports.push(format!("advertised {}", runs(p.advertised.ports())));
    }
    // Every advertised port crossed (a healthy server): said in words, not listed twice.
    if !p.crossed.is_empty() && p.crossed.ports() == p.advertised.ports() {
        ports.push("every one crossed".to_string());
    } else if !p.crossed.is_empty() {
        ports.push(format!("crossed {}", runs(p.crossed.ports())));
    }
    if !never.is_empty() {
        ports.push(format!("never crossed {}", runs(never.ports())));
    }
    if !ports.is_empty() {
        let mut line = format!("passive ports: {}", ports.join("; "));
        if p.ports_left_out() > 0 {
            let _ = write!(line, " (and {} more not listed)", p.ports_left_out());
        }
        for part in wrap(&line, width - 2) {
            let _ = writeln!(out, "  {part}");
        }
    }
    // By cause, in the verdict's words: one kind can name two causes (a 227 leaking the server's
    // address, a PORT naming the client's), and only one of them may be the server's. The kind
    // is in the JSON and in each session's findings.
    for CauseCount { severity: sev, cause, sessions, .. } in &p.causes {
        let line = format!("in {sessions} of its session(s): {}", cause.brief);
        let lead = format!("  {} ", severity(*sev));
        for (i, part) in wrap(&line, width.saturating_sub(8)).iter().enumerate() {
            let _ = writeln!(out, "{}{part}", if i == 0 { lead.as_str() } else { "        " });
        }
    }
}

/// A server's picture, then its fix block ([`picture_text`], then each fix in words and the
/// lines to type), or that nothing is to change.
pub fn text_block(out: &mut String, s: &Server, width: usize, severity: impl Fn(crate::model::Severity) -> String) {
    picture_text(out, s, width, severity);
    if s.fix.is_empty() {
        // Scoped to the block's subject: the findings about the whole capture (clear-text
        // logins, password guessing) carry server-side fixes of their own, told above it.
        let _ = writeln!(out, "  its passive setup needs no change: the capture shows nothing to fix there");
        return;
    }
    for fix in &s.fix {
        let mut first = true;
        for line in wrap(&fix.to_string(), width - 7) {
            let _ = writeln!(out, "  {} {line}", if first { "fix:" } else { "    " });
            first = false;
        }
        // What to type, whole: a wrapped command would not work when pasted.
        for line in apply(fix) {
            let _ = writeln!(out, "         {line}");
        }
    }
}

/// A severity as the text reports write it without colour.
pub fn severity_word(sev: crate::model::Severity) -> &'static str {
    match sev {
        crate::model::Severity::Error => "ERROR",
        crate::model::Severity::Warning => "WARN ",
        crate::model::Severity::Info => "INFO ",
    }
}

/// The JSON object of a server (docs/schema.md, `servers[]`).
pub struct ServerView<'a>(pub &'a Server);

impl Serialize for ServerView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (p, never) = (&self.0.picture, self.0.picture.never());
        View {
            address: Ip(p.address),
            control_port: p.control_port,
            sessions: p.sessions,
            software: p.software,
            lan_address: p.lan_address.map(Ip),
            public_address: p.public_address.map(Ip),
            control_crossed: p.control_crossed,
            transfers: p.transfers,
            ports: Ports {
                advertised: Listed(&p.advertised),
                crossed: Listed(&p.crossed),
                never: Listed(&never),
                left_out: p.ports_left_out(),
            },
            causes: Causes(&p.causes),
            fix: Fixes(&self.0.fix),
        }
        .serialize(s)
    }
}

#[derive(Serialize)]
struct View<'a> {
    address: Ip,
    control_port: u16,
    sessions: u64,
    software: Software,
    lan_address: Option<Ip>,
    public_address: Option<Ip>,
    control_crossed: bool,
    transfers: Transfers,
    ports: Ports<'a>,
    causes: Causes<'a>,
    fix: Fixes<'a>,
}

#[derive(Serialize)]
struct Ports<'a> {
    advertised: Listed<'a>,
    crossed: Listed<'a>,
    never: Listed<'a>,
    left_out: u64,
}

struct Listed<'a>(&'a PortSet);

impl Serialize for Listed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.ports())
    }
}

struct Causes<'a>(&'a [CauseCount]);

impl Serialize for Causes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Entry {
            cause: &'static str,
            severity: crate::model::Severity,
            kinds: Vec<&'static str>,
            sessions: u64,
        }
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for c in self.0 {
            let kinds = c.kinds.iter().map(|k| k.as_str()).collect();
            seq.serialize_element(&Entry { cause: c.cause.name, severity: c.severity, kinds, sessions: c.sessions })?;
        }
        seq.end()
    }
}

/// The servers of a capture, latest picture of each, in the order first told.
#[derive(Debug, Default, Clone)]
pub struct Latest(Vec<Server>);

impl Latest {
    /// A server's picture replaces the one told before for the same server.
    pub fn tell(&mut self, s: &Server) {
        let key = |x: &Server| (x.picture.address, x.picture.control_port);
        match self.0.iter_mut().find(|x| key(x) == key(s)) {
            Some(x) => *x = s.clone(),
            None => self.0.push(s.clone()),
        }
    }

    pub fn servers(&self) -> &[Server] {
        &self.0
    }
}

/// `servers[]`: each as [`ServerView`].
pub struct ServersView<'a>(pub &'a [Server]);

impl Serialize for ServersView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ServerView))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ports_read_as_runs() {
        assert_eq!(super::runs(&[40000, 40001, 40002, 40003, 40004, 40006, 40008]), "40000-40004, 40006, 40008");
        assert_eq!(super::runs(&[]), "");
    }
}
