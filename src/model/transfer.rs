//! The verdict of one transfer: did the file (or the listing) cross, and if not, why not. A
//! transfer is a transfer command (RETR, STOR, STOU, APPE, LIST, NLST, MLSD) with the
//! negotiation before it, or a negotiation whose data connection the client tried and lost or
//! gave up on (unless the client then fell back to passive mode, whose negotiation carried it).
//! This is the one definition: the session record carries each transfer's verdict, diagnosis
//! words a failed one as a finding, and every count ("N transfer(s): M ok, K failed", per
//! session, per capture, per server) adds up [`Verdict`]s with [`Transfers`].
//!
//! Owns the rule from a settled session's values to a verdict. Must not word a failure (the
//! transfer_failed kind does, in problems/) nor decide severities (diagnose does).

use super::content::{Content, HashAbsent};
use super::transfer_record::{Carried, Ending, TransferRecord};
use super::{Directions, EndReason, Mode, Negotiation, Outcome, Session, Software};
use serde::Serialize;
use std::fmt;

/// What became of one transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    /// The server said it completed (226, 250): some data connection carried it.
    Ok,
    Failed(Failure),
    /// The capture does not tell: it ended before the final reply, or it holds only the client's
    /// side of the control connection (no reply to read).
    Unknown,
}

impl Verdict {
    /// Its name in JSON (`verdict`; a failure's `reason` beside it).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Failed(_) => "failed",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Why a transfer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// The server answered the transfer command with a failure (4xx/5xx): 550 (no such file, no
    /// access), 553 (name not allowed), 451, 452 (no space), 425 (no data connection), 426
    /// (connection broken) ... The file did not come (or was not stored).
    Refused,
    /// The data connection never arrived: refused, unanswered or unreachable, or never seen
    /// after a passive reply the client gave up on.
    NoDataConnection,
    /// The server never answered the transfer command before the control connection ended (or
    /// went idle), and no reply said it completed.
    NoReply,
    /// The client aborted it (ABOR) before the server said it completed.
    Aborted,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Refused => "refused",
            Failure::NoDataConnection => "no_data_connection",
            Failure::NoReply => "no_reply",
            Failure::Aborted => "aborted",
        }
    }
}

/// The least wait, after a passive reply, that reads as a connection attempt given up.
const GAVE_UP_AFTER_NS: i64 = 1_000_000_000;

impl Verdict {
    /// The verdict of negotiation `n` of settled session `s`; None when it served no transfer
    /// (a negotiation refused, or one the client never meant to use).
    pub fn of(s: &Session, n: &Negotiation) -> Option<Verdict> {
        let d = &n.data;
        let asked = d.command.is_some() || d.command_frame.is_some() || d.reply_code.is_some();
        let gave_up = gave_up(s, n);
        if !asked && !d.outcome.is_failure() && !gave_up {
            return None;
        }
        // The server's word that it completed outweighs a connection this point saw fail: the
        // client tried again where the capture does not see it.
        if d.completed().is_some() {
            return Some(Verdict::Ok);
        }
        if d.aborted_frame.is_some() {
            return Some(Verdict::Failed(Failure::Aborted));
        }
        if d.outcome.is_failure() || gave_up {
            return Some(Verdict::Failed(Failure::NoDataConnection));
        }
        Some(match d.reply_code {
            Some(code) if code >= 400 => Verdict::Failed(Failure::Refused),
            Some(_) => Verdict::Unknown,
            // Without the server's side, or cut by the end of the capture, silence says nothing.
            None if s.captured_directions == Directions::ClientToServer || s.end == EndReason::CaptureEnd => Verdict::Unknown,
            None => Verdict::Failed(Failure::NoReply),
        })
    }

    pub fn failure(self) -> Option<Failure> {
        match self {
            Verdict::Failed(why) => Some(why),
            _ => None,
        }
    }
}

/// For each negotiation, in order: the frame of the passive negotiation it fell back to, if
/// any. An active negotiation failed before any transfer command (refused, or its data
/// connection failed), and the client's next negotiation that is not such a failure is passive
/// and carried the transfer (`verdict` of it ok): the client fell back to passive mode
/// (FileZilla's "fall back to the other transfer mode", a script's retry). The session worked:
/// the failed tries are no transfers of their own ([`judge`]) and their findings are warnings
/// (diagnose::negotiation). One pass from the end: a run of thousands of refused PORTs costs
/// what it holds.
pub fn fallbacks_to_passive(negotiations: &[Negotiation], verdict: impl Fn(usize, &Negotiation) -> Option<Verdict>) -> Vec<Option<u64>> {
    let failed_early = |m: &Negotiation| {
        let d = &m.data;
        m.mode == Mode::Active
            && (d.outcome.is_failure() || d.outcome == Outcome::Rejected)
            && d.command.is_none()
            && d.command_frame.is_none()
            && d.reply_code.is_none()
    };
    let mut to = vec![None; negotiations.len()];
    // The frame of the next negotiation that is not a failed active try, when it is passive
    // and carried its transfer.
    let mut carrier = None;
    for (i, (n, slot)) in negotiations.iter().zip(to.iter_mut()).enumerate().rev() {
        if failed_early(n) {
            *slot = carrier;
        } else {
            carrier = (n.mode == Mode::Passive && verdict(i, n) == Some(Verdict::Ok)).then_some(n.frame);
        }
    }
    to
}

/// Writes each transfer's verdict into a settled session's record.
pub fn judge(s: &mut Session) {
    let mut verdicts: Vec<Option<Verdict>> = s.negotiations.iter().map(|n| Verdict::of(s, n)).collect();
    // A try in active mode the client gave up for passive mode: the transfer is the passive
    // negotiation's, as a retry's is the negotiation it retried.
    let fell_back = fallbacks_to_passive(&s.negotiations, |i, _| verdicts.get(i).copied().flatten());
    for (v, to) in verdicts.iter_mut().zip(fell_back) {
        if to.is_some() {
            *v = None;
        }
    }
    let capture_ended = s.end == EndReason::CaptureEnd;
    let announces_rest = s.software == Software::ProFtpd;
    for (n, verdict) in s.negotiations.iter_mut().zip(verdicts) {
        let d = &mut n.data;
        d.transfer = verdict;
        let end = Ending { verdict, reply_code: d.reply_code, aborted: d.aborted_frame.is_some(), capture_ended };
        if let Some(mut asked) = d.asked.take() {
            asked.announces_rest = announces_rest;
            let carried = with_content(d.carried, &d.content);
            d.record = Some(TransferRecord::new(asked, &carried, &end));
        }
    }
}

/// What the data connection carried, with what its in-order reassembly knows where it ran
/// (`--hash`, `--extract`): exact where the count of holes is a lower bound. A stream seen
/// whole misses nothing; one with a gap misses at least the bytes its reassembly did not see.
fn with_content(mut carried: Carried, content: &Content) -> Carried {
    if content.not_asked() {
        return carried;
    }
    if content.complete {
        carried.missing = 0;
    } else if content.hash_absent == Some(HashAbsent::Gap) {
        carried.missing = carried.missing.max(carried.bytes.saturating_sub(content.bytes)).max(1);
    }
    carried
}

/// A passive reply after which the client neither connected (at this capture point) nor sent a
/// transfer command, and gave up: it waited first (a connect timeout, SYN retries) before its
/// next negotiation or its goodbye, or (refused at once) left without transferring anything. One
/// that never meant to connect moves on at once to another negotiation. Under TLS the transfer
/// commands cannot be read, and without an endpoint advertised there was nothing to connect to:
/// nothing is concluded.
pub fn gave_up(s: &Session, n: &Negotiation) -> bool {
    let quiet = n.mode == Mode::Passive && n.data.outcome == Outcome::NotAttempted && n.data.command.is_none();
    if !quiet || n.advertised.is_none() || s.protected().is_some() {
        return false;
    }
    let next = s.negotiations.iter().map(|m| m.time).find(|&t| t > n.time);
    let waited = next.unwrap_or(s.end_time).since(n.time) >= GAVE_UP_AFTER_NS;
    let left_without_a_transfer = next.is_none() && s.negotiations.iter().all(|m| m.data.command.is_none());
    waited || left_without_a_transfer
}

/// Transfers counted by verdict: a plain sum, per session, per server, per capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Transfers {
    pub total: u64,
    pub ok: u64,
    pub failed: u64,
    /// Neither: the capture does not tell (see [`Verdict::Unknown`]).
    pub unknown: u64,
}

impl Transfers {
    /// A settled session's transfers (its record's verdicts).
    pub fn of(s: &Session) -> Transfers {
        let mut t = Transfers::default();
        for v in s.negotiations.iter().filter_map(|n| n.data.transfer) {
            t.add(v);
        }
        t
    }

    pub fn add(&mut self, v: Verdict) {
        self.total = self.total.saturating_add(1);
        let kind = match v {
            Verdict::Ok => &mut self.ok,
            Verdict::Failed(_) => &mut self.failed,
            Verdict::Unknown => &mut self.unknown,
        };
        *kind = kind.saturating_add(1);
    }

    /// Adds another tally's counts (a session's to its server's or the capture's total).
    pub fn add_all(&mut self, other: Transfers) {
        self.total = self.total.saturating_add(other.total);
        self.ok = self.ok.saturating_add(other.ok);
        self.failed = self.failed.saturating_add(other.failed);
        self.unknown = self.unknown.saturating_add(other.unknown);
    }
}

impl fmt::Display for Transfers {
    /// "3 transfer(s): 2 ok, 1 failed", and how many the capture cannot tell, when any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} transfer(s): {} ok, {} failed", self.total, self.ok, self.failed)?;
        if self.unknown > 0 {
            write!(f, ", {} not known", self.unknown)?;
        }
        Ok(())
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::report::ladder::tests::sessions;

    #[test]
    fn refused_ports_then_a_passive_transfer_fell_back_to_passive() {
        // Eight PORTs refused with 500, then a PASV whose LIST worked (frame 25).
        let mut s = sessions("crafted/port-refused-repeatedly.pcap").remove(0);
        let judged = |s: &Session| fallbacks_to_passive(&s.negotiations, |_, n| n.data.transfer);
        let to = judged(&s);
        assert_eq!(to[..8], [Some(25); 8]);
        assert_eq!(to[8], None, "the passive negotiation itself");
        assert_eq!(s.negotiations.iter().filter(|n| n.data.transfer.is_some()).count(), 1, "one transfer: the passive one");
        // The server's connections to the PORTs refused instead (a firewall before the client):
        // each would be a failed transfer of its own, yet the client fell back to passive mode.
        let mut refused = s.clone();
        for n in refused.negotiations.iter_mut().take(8) {
            n.data.outcome = Outcome::Refused;
        }
        judge(&mut refused);
        let t = Transfers::of(&refused);
        assert_eq!((t.total, t.ok, t.failed), (1, 1, 0), "one transfer, carried in passive mode");
        s.negotiations[8].data.reply_code = Some(550);
        judge(&mut s);
        assert_eq!(judged(&s), [None; 9], "its transfer failed: no fallback that worked");
        // A run of 10,000 refused PORTs (the per-session bound) is one pass.
        let mut flood = refused.clone();
        let port = flood.negotiations[0].clone();
        flood.negotiations = (0..10_000u64)
            .map(|i| Negotiation { frame: i, ..port.clone() })
            .chain([Negotiation { frame: 20_000, ..flood.negotiations[8].clone() }])
            .collect();
        judge(&mut flood);
        assert_eq!(Transfers::of(&flood).total, 1);
    }

    #[test]
    fn counts_add_up_and_read_as_the_summary_line() {
        let mut session = Transfers::default();
        for v in [Verdict::Ok, Verdict::Failed(Failure::Refused), Verdict::Ok] {
            session.add(v);
        }
        assert_eq!(session.to_string(), "3 transfer(s): 2 ok, 1 failed");
        let mut server = session;
        let mut other = Transfers::default();
        other.add(Verdict::Unknown);
        server.add_all(other);
        assert_eq!(server, Transfers { total: 4, ok: 2, failed: 1, unknown: 1 });
        assert_eq!(server.to_string(), "4 transfer(s): 2 ok, 1 failed, 1 not known");
    }

    #[test]
    fn a_verdict_serialises_with_its_reason() {
        let json = |v: Verdict| serde_json::to_string(&v).unwrap();
        assert_eq!(json(Verdict::Ok), r#"{"verdict":"ok"}"#);
        assert_eq!(json(Verdict::Failed(Failure::NoDataConnection)), r#"{"verdict":"failed","reason":"no_data_connection"}"#);
        assert_eq!(json(Verdict::Unknown), r#"{"verdict":"unknown"}"#);
    }
}
