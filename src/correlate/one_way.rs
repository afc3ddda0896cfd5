//! Passive mode with only the client's side captured: the reply that named the endpoint (227,
//! 228, 229) took the path the capture does not see, so no expectation waits for the data
//! connection. The client's own packets still show it: its next connection to an unprivileged
//! port on the server's address, or on an unroutable address while the server's is public (the
//! reply named a private one: the client cannot have made it up), after its passive command and
//! before any other negotiation, is that command's data connection.
//!
//! Owns the rule for which negotiation such a connection serves. Must not touch packets.

use super::hosts::SessionsByHost;
use super::{retry, EXPECTATION_TTL_NS};
use crate::ftp::session::SessionState;
use crate::model::{classify, Directions, Mode, NegotiationCommand};
use crate::tcp::flow::Conn;
use std::net::SocketAddr;

/// A new connection taken as a negotiation's data connection.
#[derive(Debug, Clone, Copy)]
pub struct Tie {
    pub session: u32,
    pub negotiation: u32,
    /// It tries again after the negotiation's connection did not open ([`retry`]).
    pub retry: bool,
    /// The endpoint the uncaptured reply must have named, when the connection shows it.
    pub implied: Option<SocketAddr>,
}

/// The sessions seen from the client's side only, by the client's address.
#[derive(Default)]
pub struct ClientOnlySessions(SessionsByHost);

impl ClientOnlySessions {
    pub fn note(&mut self, s: &SessionState) {
        self.0.note(s.client.ip(), s.id);
    }

    pub fn forget(&mut self, s: &SessionState) {
        self.0.forget(s.client.ip(), s.id);
    }

    /// Sessions pushed out of a client's list (`host_sessions_dropped`).
    pub fn hosts_dropped(&self) -> u64 {
        self.0.dropped
    }

    /// The session and negotiation whose data connection `new` is, or tries again to be. Of
    /// several sessions that fit, the one whose passive command came last.
    pub fn negotiation_for<'s>(&self, new: &Conn, get: impl Fn(u32) -> Option<&'s SessionState>) -> Option<Tie> {
        let (src, dst, opened) = (new.client, new.server, new.first_ts);
        let waiting = |s: &'s SessionState| {
            // Passive ports are unprivileged (every server's default range is): a connection to
            // a well-known port (another FTP control connection, a web page) is something else.
            if s.directions != Directions::ClientToServer || src.ip() != s.client.ip() || dst.port() < 1024 {
                return None;
            }
            // The newest negotiation only: a connection after the next one is the next one's.
            let (last, n) = s.negotiations.iter().enumerate().next_back()?;
            // EPSV's reply names a port only: the client connects to the control address.
            let implied = implied_endpoint(s, dst).filter(|_| n.command != NegotiationCommand::EPSV);
            if dst.ip() != s.server.ip() && implied.is_none() {
                return None;
            }
            let in_time = n.ts <= opened && opened.0.saturating_sub(n.ts.0) <= EXPECTATION_TTL_NS;
            let unanswered = n.command.mode() == Mode::Passive && n.reply.is_none() && !n.command_implied;
            // A try again after one that did not open: to the same port (the same endpoint, or
            // the control address in place of an unroutable one).
            let retry = n.conn.is_some_and(|tied| tied.server.port() == dst.port()) && retry::is_retry(n, new);
            let open = n.conn.is_none() && n.advertised.is_none();
            (unanswered && in_time && (open || retry)).then_some((Tie { session: s.id, negotiation: last as u32, retry, implied }, n.ts))
        };
        let fits = self.0.of(src.ip()).iter().filter_map(|&id| get(id).and_then(waiting));
        fits.max_by_key(|&(tie, ts)| (ts, tie.session)).map(|(tie, _)| tie)
    }
}

/// The endpoint the uncaptured reply must have named, when a connection to `dst` shows it: an
/// unroutable address while the server's is public. A connection to the server's own address
/// shows nothing of the kind: the reply may have named it, or an unroutable address the client
/// replaced with the control address (FileZilla does).
fn implied_endpoint(s: &SessionState, dst: SocketAddr) -> Option<SocketAddr> {
    let unroutable = |ip| classify(ip).is_unreachable_from_elsewhere();
    (unroutable(dst.ip()) && !unroutable(s.server.ip())).then_some(dst)
}
