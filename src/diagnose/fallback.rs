//! Clients that fall back to active mode when passive mode fails. lftp does by default
//! (`ftp:auto-passive-mode`): its passive data connection refused, it logs in again and sends
//! PORT. FileZilla (its fallback setting) and CuteFTP's "Auto" mode send PORT in the same session.
//! From behind a NAT router that active mode then fails too, and "use passive mode" would be
//! advice the client already took: what failed first is the server's passive setup.
//!
//! A session's first active negotiation came after a fallback when the same client address's
//! passive negotiation with the same server failed before it: earlier in the session, or in a
//! session that had ended before this one began, at most [`WINDOW_NS`] before (lftp closes the
//! control connection and waits `net:reconnect-interval-base`, 30 s by default, before it logs
//! in again; other clients behind the same address, in sessions open at the same time, are not
//! taken for it). Each client and server's last failure is kept, at most [`MAX_PAIRS`]; past
//! it, new ones are counted as dropped.
//!
//! Owns the rule and its bound. Must not word anything (report::fix words the fix).

use crate::model::transfer::{Failure, Verdict};
use crate::model::{Mode, Negotiation, PassiveFailure, Session, Timestamp};
use crate::AddrMap;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// How long after a failed passive negotiation an active one reads as its fallback.
pub const WINDOW_NS: i64 = 300_000_000_000;
/// Client and server pairs followed at once.
pub const MAX_PAIRS: usize = 16_384;

type Pair = (IpAddr, SocketAddr);

#[derive(Debug, Default)]
pub struct Fallbacks {
    last: AddrMap<Pair, PassiveFailure>,
    /// The pairs in the order their failures were kept, for their expiry (a pair kept again
    /// has a newer entry; the older one is passed over).
    order: VecDeque<(Timestamp, Pair)>,
    /// Failures not kept: the table was full of pairs still within the window.
    pub dropped: u64,
}

impl Fallbacks {
    /// The passive failure that session `s`'s first active negotiation fell back from, if any.
    pub fn before(&self, s: &Session) -> Option<PassiveFailure> {
        let active = s.negotiations.iter().find(|n| n.mode == Mode::Active)?;
        if let Some(own) = s.negotiations.iter().take_while(|n| n.frame < active.frame).filter_map(|n| failure(s, n)).last() {
            return Some(own);
        }
        let earlier = self.last.get(&(s.client.ip(), s.server)).copied()?;
        let after = earlier.session != s.id && earlier.session_ended <= s.start_time;
        (after && earlier.time <= active.time && active.time.since(earlier.time) <= WINDOW_NS).then_some(earlier)
    }

    /// A settled session: its last failed passive negotiation, if any, is kept for the sessions
    /// that may follow it.
    pub fn see(&mut self, s: &Session) {
        let Some(failed) = s.negotiations.iter().rev().find_map(|n| failure(s, n)) else { return };
        let horizon = Timestamp(failed.time.0.saturating_sub(WINDOW_NS));
        while let Some(&(t, pair)) = self.order.front().filter(|(t, _)| *t < horizon) {
            self.order.pop_front();
            if self.last.get(&pair).is_some_and(|f| f.time == t) {
                self.last.remove(&pair);
            }
        }
        let pair = (s.client.ip(), s.server);
        match self.last.get(&pair) {
            // Sessions settle in the order they end, not in the order their negotiations
            // failed: a newer failure already kept stays.
            Some(kept) if kept.time > failed.time => return,
            None if self.last.len() >= MAX_PAIRS => {
                self.dropped = self.dropped.saturating_add(1);
                return;
            }
            _ => {}
        }
        self.last.insert(pair, failed);
        self.order.push_back((failed.time, pair));
        // Entries passed over (a pair kept again) are bounded too: past twice the pairs, the
        // queue is rebuilt from the table.
        if self.order.len() > MAX_PAIRS.saturating_mul(2) {
            let mut kept: Vec<(Timestamp, Pair)> = self.last.iter().map(|(p, f)| (f.time, *p)).collect();
            kept.sort_unstable_by_key(|(t, _)| *t);
            self.order = kept.into();
        }
    }
}

/// Negotiation `n` of session `s` as a passive failure: its data connection failed, none came
/// before the client gave up (seen behind the router that refused it), or the server refused
/// the passive command itself.
fn failure(s: &Session, n: &Negotiation) -> Option<PassiveFailure> {
    let refused = n.reply_code.is_some_and(|c| c >= 400);
    let none_came = n.data.transfer == Some(Verdict::Failed(Failure::NoDataConnection));
    (n.mode == Mode::Passive && (n.data.outcome.is_failure() || none_came || refused)).then(|| PassiveFailure {
        session: s.id,
        frame: n.data.connection.as_ref().map_or(n.evidence_frame(), |c| c.syn_frame),
        time: n.time,
        session_ended: s.end_time,
    })
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::report::ladder::tests::sessions;

    /// lftp's own fallback, captured (fixtures/pasv-lftp-fallback): session 0's passive
    /// connection refused, session 1's PORT.
    fn lftp() -> Vec<Session> {
        sessions("pasv-lftp-fallback/client.pcap")
    }

    #[test]
    fn an_active_session_after_a_failed_passive_one_fell_back() {
        let s = lftp();
        let mut f = Fallbacks::default();
        assert_eq!(f.before(&s[0]), None, "passive only");
        f.see(&s[0]);
        let failed = f.before(&s[1]).expect("session 1 fell back");
        assert_eq!((failed.session, failed.frame), (0, 33), "session 0's refused SYN");
    }

    #[test]
    fn not_from_another_client_nor_past_the_window_nor_when_full() {
        let s = lftp();
        let mut other = s[1].clone();
        other.client = "192.0.2.99:40000".parse().unwrap();
        let mut late = s[1].clone();
        for n in &mut late.negotiations {
            n.time = n.time.plus_ns(WINDOW_NS + 1);
        }
        let mut f = Fallbacks::default();
        f.see(&s[0]);
        assert_eq!(f.before(&other), None, "another client address");
        let mut along = s[1].clone();
        along.start_time = s[0].end_time.plus_ns(-1);
        assert_eq!(f.before(&along), None, "open before session 0 ended: another client behind the same address");
        assert_eq!(f.before(&late), None, "past the window");
        assert!(f.before(&s[1]).is_some());

        let mut full = Fallbacks::default();
        for i in 0..MAX_PAIRS as u32 + 3 {
            let mut one = s[0].clone();
            one.client = SocketAddr::new(IpAddr::from(i.to_be_bytes()), 1);
            full.see(&one);
        }
        assert_eq!((full.last.len(), full.dropped), (MAX_PAIRS, 3));
        assert!(full.order.len() <= 2 * MAX_PAIRS);
    }

    #[test]
    fn a_session_settling_late_does_not_replace_a_newer_failure() {
        let s = lftp();
        let mut older = s[0].clone();
        older.id = 7;
        for n in &mut older.negotiations {
            n.time = n.time.plus_ns(-1_000_000_000);
        }
        let mut f = Fallbacks::default();
        f.see(&s[0]);
        f.see(&older);
        assert_eq!(f.before(&s[1]).map(|p| p.session), Some(0), "the newer failure is kept");
    }

    #[test]
    fn in_one_session_the_earlier_failure_counts() {
        let s = lftp();
        let mut one = s[0].clone();
        let mut port = s[1].negotiations[0].clone();
        port.frame = 40;
        one.negotiations.push(port);
        let failed = Fallbacks::default().before(&one).expect("fell back in its own session");
        assert_eq!((failed.session, failed.frame), (0, 33));
        // A passive negotiation that worked is no reason to fall back.
        one.negotiations[0].data.outcome = Outcome::Established;
        one.negotiations[0].data.transfer = None;
        assert_eq!(Fallbacks::default().before(&one), None);
    }
}
