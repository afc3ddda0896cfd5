//! Password guessing across sessions: at least `threshold` failed logins from one client address
//! within `window` (Zeek's FTP::Bruteforcing default: 20 in 15 minutes). One finding per
//! address, told when the input ends, with the count, the user names tried (never a password)
//! and the time span; a session's own refusals are its login_failed findings.
//!
//! Sessions settle out of order, so each address keeps its recent failures' times sorted, and
//! only those that can still complete a window: once an address is flagged its times go and
//! only counts stay; an address that is not flagged holds fewer than `threshold` per window.
//! At most [`MAX_ADDRESSES`] addresses; past it the quiet ones are let go and, if none is, new
//! ones are counted as dropped.
//!
//! Owns the rule and its bounds. Must not word anything (problems::password_guessing).

use super::login::is_guess;
use crate::model::finding::{Guessing as GuessingText, NO_SESSION};
use crate::model::{Details, Finding, FindingKind, Session, Severity, Text, Timestamp};
use crate::AddrMap;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Addresses followed at once.
pub const MAX_ADDRESSES: usize = 65_536;
/// User names kept per address; the others are counted.
const MAX_USERS: usize = 16;
/// Evidence frames kept per address: the first refusals.
const MAX_FRAMES: usize = 12;
/// How late a session may settle after its refusals (its idle timeout and then some): times
/// older than the newest by the window and this are past completing a window.
const SETTLE_SLACK_NS: i64 = 600_000_000_000;

/// `threshold` failed logins within `window_minutes` from one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub threshold: u32,
    pub window_minutes: u32,
}

impl Default for Rule {
    /// Zeek's defaults (FTP::bruteforce_threshold, FTP::guessing_timeout).
    fn default() -> Rule {
        Rule { threshold: 20, window_minutes: 15 }
    }
}

impl Rule {
    fn window_ns(self) -> i64 {
        i64::from(self.window_minutes).saturating_mul(60_000_000_000)
    }
}

/// One address's failed logins.
#[derive(Debug, Default)]
struct Tries {
    /// Until flagged: recent failures' times, sorted.
    recent: VecDeque<Timestamp>,
    flagged: bool,
    failed: u64,
    sessions: u64,
    users: Vec<String>,
    other_users: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    frames: Vec<u64>,
}

#[derive(Debug, Default)]
pub struct Guessing {
    rule: Rule,
    by_address: AddrMap<IpAddr, Tries>,
    /// The newest failure seen: older times than it by the window and the slack are let go.
    newest: Timestamp,
    /// When the full table was last swept of quiet addresses: a flood of new ones sweeps it
    /// once a minute of capture time, not once each.
    swept_at: Option<Timestamp>,
    /// Addresses not followed: the table was full of addresses still in a window.
    pub dropped: u64,
}

impl Guessing {
    pub fn new(rule: Rule) -> Guessing {
        Guessing { rule, ..Guessing::default() }
    }

    /// A settled session: its failed logins, if any.
    pub fn see(&mut self, s: &Session) {
        let guesses: Vec<_> = s.login.refusals.iter().filter(|r| is_guess(r)).collect();
        let Some(last) = guesses.last() else { return };
        // Refusals past the kept ones are guesses like the kept ones, at about the last's time.
        let unkept = u64::from(s.login.refused).saturating_sub(s.login.refusals.len() as u64);
        let unkept = if guesses.len() == s.login.refusals.len() { unkept } else { 0 };
        self.newest = guesses.iter().map(|r| r.time).fold(self.newest, Timestamp::max);
        let (rule, newest) = (self.rule, self.newest);
        let times = guesses.iter().map(|r| r.time).chain(std::iter::repeat_n(last.time, unkept.min(u64::from(rule.threshold)) as usize));
        let Some(tries) = self.tries(s.client.ip()) else { return };
        tries.sessions = tries.sessions.saturating_add(1);
        tries.failed = tries.failed.saturating_add(guesses.len() as u64).saturating_add(unkept);
        for r in &guesses {
            let first = tries.first.get_or_insert(r.time);
            *first = (*first).min(r.time);
            let latest = tries.last.get_or_insert(r.time);
            *latest = (*latest).max(r.time);
            if tries.frames.len() < MAX_FRAMES {
                tries.frames.push(r.frame);
            } else if let Some(late) = tries.frames.iter_mut().max().filter(|f| **f > r.frame) {
                *late = r.frame;
            }
            if let Some(user) = &r.user {
                if !tries.users.contains(user) {
                    if tries.users.len() < MAX_USERS {
                        tries.users.push(user.clone());
                    } else {
                        tries.other_users = tries.other_users.saturating_add(1);
                    }
                }
            }
        }
        for t in times {
            if !tries.flagged {
                tries.flagged = add(&mut tries.recent, t, rule);
                if tries.flagged {
                    tries.recent = VecDeque::new();
                }
            }
        }
        let horizon = Timestamp(newest.0.saturating_sub(rule.window_ns()).saturating_sub(SETTLE_SLACK_NS));
        while tries.recent.front().is_some_and(|&t| t < horizon) {
            tries.recent.pop_front();
        }
    }

    /// The address's tries, made room for if new; None when the table is full of addresses
    /// still in a window.
    fn tries(&mut self, ip: IpAddr) -> Option<&mut Tries> {
        if !self.by_address.contains_key(&ip) && self.by_address.len() >= MAX_ADDRESSES {
            let due = self.swept_at.is_none_or(|at| self.newest.0.saturating_sub(at.0) >= 60_000_000_000);
            if !due {
                self.dropped = self.dropped.saturating_add(1);
                return None;
            }
            self.swept_at = Some(self.newest);
            let horizon = Timestamp(self.newest.0.saturating_sub(self.rule.window_ns()).saturating_sub(SETTLE_SLACK_NS));
            self.by_address.retain(|_, t| t.flagged || t.recent.back().is_some_and(|&last| last >= horizon));
            if self.by_address.len() >= MAX_ADDRESSES {
                self.dropped = self.dropped.saturating_add(1);
                return None;
            }
        }
        Some(self.by_address.entry(ip).or_default())
    }

    /// One finding per address that met the rule, in the order of their first failure.
    pub fn findings(&self) -> Vec<Finding> {
        let mut flagged: Vec<(&IpAddr, &Tries)> = self.by_address.iter().filter(|(_, t)| t.flagged).collect();
        flagged.sort_unstable_by_key(|(ip, t)| (t.first, **ip));
        flagged.into_iter().map(|(&client, t)| self.finding(client, t)).collect()
    }

    fn finding(&self, client: IpAddr, t: &Tries) -> Finding {
        let mut frames = t.frames.clone();
        frames.sort_unstable();
        let details = Details::Guessing {
            client,
            failed_logins: t.failed,
            sessions: t.sessions,
            users: t.users.clone(),
            other_users: t.other_users,
            first_time: t.first.unwrap_or_default(),
            last_time: t.last.unwrap_or_default(),
            threshold: self.rule.threshold,
            window_minutes: self.rule.window_minutes,
        };
        Finding::new(FindingKind::PasswordGuessing, Severity::Warning, NO_SESSION, frames, Text::Guessing(GuessingText), details)
    }
}

/// Adds a failure's time to the sorted recent times; whether some `threshold` of them now fall
/// within the window (only windows holding the new one can be new).
fn add(recent: &mut VecDeque<Timestamp>, t: Timestamp, rule: Rule) -> bool {
    let at = recent.partition_point(|&x| x <= t);
    recent.insert(at, t);
    let need = rule.threshold.max(1) as usize;
    let window = rule.window_ns();
    // Windows of `need` consecutive times that include position `at`.
    let lo = at.saturating_sub(need.saturating_sub(1));
    (lo..=at).any(|start| {
        let end = start.saturating_add(need).saturating_sub(1);
        matches!((recent.get(start), recent.get(end)), (Some(a), Some(b)) if b.0.saturating_sub(a.0) <= window)
    })
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::{LoginStep, Refusal};
    use crate::report::ladder::tests::sessions;

    const MINUTE: i64 = 60_000_000_000;

    /// A session from `client` whose `PASS` for `user` was refused at `minute`.
    fn refused(client: &str, user: &str, minute: i64, frame: u64) -> Session {
        let mut s = sessions("pasv-ok-forwarded/client.pcap").remove(0);
        s.client = format!("{client}:40000").parse().unwrap();
        s.login.refuse(Refusal {
            step: Some(LoginStep::Pass),
            command_frame: Some(frame - 1),
            user: Some(user.to_string()),
            code: 530,
            frame,
            time: Timestamp(minute * MINUTE),
            text: "Login incorrect.".into(),
        });
        s
    }

    #[test]
    fn twenty_failures_within_fifteen_minutes_from_one_address_are_one_warning() {
        let mut g = Guessing::new(Rule::default());
        // Out of order, as sessions settle: 20 within minutes 0..=14 of 24 in all.
        for i in (0..24).rev() {
            g.see(&refused("192.0.2.7", if i % 2 == 0 { "root" } else { "admin" }, i * 14 / 19, 100 + i as u64));
        }
        // Another address with 19: not enough.
        for i in 0..19 {
            g.see(&refused("192.0.2.8", "bob", i, 500 + i as u64));
        }
        let found = g.findings();
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!((f.kind, f.severity, f.session), (FindingKind::PasswordGuessing, Severity::Warning, NO_SESSION));
        let Details::Guessing { client, failed_logins, sessions, users, .. } = &f.details else { panic!() };
        assert_eq!((client.to_string(), *failed_logins, *sessions), ("192.0.2.7".to_string(), 24, 24));
        assert_eq!(users, &["admin", "root"], "in the order settled");
        assert_eq!(f.frames.len(), MAX_FRAMES);
        assert_eq!(f.frames[0], 100);
    }

    #[test]
    fn failures_spread_wider_than_the_window_are_not_guessing() {
        let mut g = Guessing::new(Rule { threshold: 5, window_minutes: 10 });
        for i in 0..40 {
            g.see(&refused("192.0.2.9", "alice", i * 3, 10 + i as u64));
        }
        assert!(g.findings().is_empty(), "4 per 10 minutes");
        // The times it keeps stay few: only those that can still complete a window.
        assert!(g.by_address.values().all(|t| t.recent.len() < 20));
        g.see(&refused("192.0.2.9", "alice", 118, 99));
        assert_eq!(g.findings().len(), 1, "5 within 10 minutes: 108, 111, 114, 117, 118");
    }

    #[test]
    fn a_full_table_lets_quiet_addresses_go_and_counts_what_it_cannot_follow() {
        let mut g = Guessing::new(Rule { threshold: 3, window_minutes: 1 });
        for i in 0..MAX_ADDRESSES as u32 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            g.see(&refused(&ip.to_string(), "x", 0, 10));
        }
        g.see(&refused("192.0.2.1", "x", 0, 10));
        assert_eq!(g.dropped, 1, "every address still within its window");
        // An hour on, the old ones are past completing a window: room is made.
        g.see(&refused("192.0.2.2", "x", 60, 10));
        assert_eq!(g.dropped, 1);
        assert!(g.by_address.len() < 10);
    }
}
