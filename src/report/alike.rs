//! Sessions that are the same story: an explanation tells one in full and counts the others
//! ("12 sessions like session 3"), so a capture of many alike sessions reads as the few stories
//! it holds. Two sessions with a problem are alike when they have the same findings by kind,
//! severity, cause and link, the same fixes, to the same server, and the same outcome pattern
//! (each negotiation's command, data outcome and transfer reply, repeats in a row counted once);
//! two healthy sessions when one client address logged in as one user to one server, captured
//! the same way, with every transfer (or none) seen done.
//!
//! Owns the rule of likeness and the bounded list of the others' ids. Must not choose what is
//! told nor word it (report::explain, report::text, report::html do).

use crate::model::{FindingKind, Fix, Outcome, Session, Severity};
use crate::AddrMap;
use serde::Serialize;
use std::fmt::{self, Display, Formatter};
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};

/// Ids listed of the sessions like one; the rest are counted.
pub const IDS_LISTED: usize = 12;

/// What tells a story: its first session, with the others like it.
pub trait Telling {
    fn like(&mut self) -> &mut Ids;
}

/// Stories in the order they first appeared, each told by its first session, at most `kept`;
/// a session like one kept joins its [`Ids`], a new story past the bound is only counted.
#[derive(Debug)]
pub struct Stories<K, T> {
    told: Vec<T>,
    index: AddrMap<K, usize>,
    left_out: u64,
    kept: usize,
}

impl<K: Hash + Eq, T: Telling> Stories<K, T> {
    pub fn new(kept: usize) -> Stories<K, T> {
        Stories { told: Vec::new(), index: AddrMap::default(), left_out: 0, kept }
    }

    /// Session `id` of story `key`: it joins the story, or tells a new one (`first` makes it).
    pub fn add(&mut self, key: K, id: u32, first: impl FnOnce() -> T) {
        match self.index.get(&key) {
            Some(&i) => self.told[i].like().add(id),
            None if self.told.len() < self.kept => {
                self.index.insert(key, self.told.len());
                self.told.push(first());
            }
            None => self.left_out += 1,
        }
    }

    /// The stories told, in order, and the sessions of those past the bound; none is left.
    pub fn take(&mut self) -> (Vec<T>, u64) {
        self.index = AddrMap::default();
        (std::mem::take(&mut self.told), std::mem::take(&mut self.left_out))
    }
}

/// What makes two sessions with a problem the same story.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProblemStory {
    server: SocketAddr,
    tls: bool,
    /// `Directions` as a number: which directions were captured.
    directions: u8,
    /// Each finding: kind, severity, cause, the finding it is a consequence of.
    findings: Vec<(FindingKind, Severity, &'static str, Option<u32>)>,
    fixes: Vec<Fix>,
    /// Each negotiation: command, data outcome, transfer reply; repeats in a row once.
    pattern: Vec<(u8, Outcome, Option<u16>)>,
}

impl ProblemStory {
    pub fn of(s: &Session, fixes: &[Fix]) -> ProblemStory {
        let findings = s.findings.iter().map(|f| (f.kind, f.severity, crate::problems::cause(f).name, f.caused_by)).collect();
        let mut pattern: Vec<(u8, Outcome, Option<u16>)> = Vec::new();
        for n in &s.negotiations {
            let step = (n.command as u8, n.data.outcome, n.data.reply_code);
            if pattern.last() != Some(&step) {
                pattern.push(step);
            }
        }
        for c in &s.probable_data_channels {
            let step = (u8::MAX, c.outcome, None);
            if pattern.last() != Some(&step) {
                pattern.push(step);
            }
        }
        ProblemStory { server: s.server, tls: s.tls, directions: s.captured_directions as u8, findings, fixes: fixes.to_vec(), pattern }
    }
}

/// What makes two healthy sessions the same story.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HealthyStory {
    client: IpAddr,
    server: SocketAddr,
    user: Option<String>,
    directions: u8,
    /// No transfer; every one seen done; or some not seen established.
    transfers: Transfers,
    /// Encrypted, no data connection seen: not told as "no transfer".
    unread: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Transfers {
    None,
    AllOk,
    SomeNotSeen,
}

impl HealthyStory {
    /// `transfers` and `ok`: the session's transfers and those seen established.
    pub fn of(s: &Session, transfers: u64, ok: u64) -> HealthyStory {
        let transfers = match (transfers, ok) {
            (0, _) => Transfers::None,
            (n, ok) if n == ok => Transfers::AllOk,
            _ => Transfers::SomeNotSeen,
        };
        HealthyStory {
            client: s.client.ip(),
            server: s.server,
            user: s.user.clone(),
            directions: s.captured_directions as u8,
            transfers,
            unread: super::explain::unread(s),
        }
    }
}

/// The other sessions of one story: how many, and the first few ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    ids: Vec<u32>,
    count: u64,
    /// The last id added, and whether every id so far followed the one before: then the
    /// whole list reads as one range, however long.
    last: u32,
    one_run: bool,
}

impl Ids {
    pub fn add(&mut self, id: u32) {
        self.one_run = self.count == 0 || (self.one_run && id == self.last.wrapping_add(1));
        self.last = id;
        self.count += 1;
        if self.ids.len() < IDS_LISTED {
            self.ids.push(id);
        }
    }

    /// Sessions like it.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The ids listed (the first [`IDS_LISTED`]).
    pub fn listed(&self) -> &[u32] {
        &self.ids
    }
}

/// JSON: `{"sessions": n, "ids": [...]}`, the ids at most [`IDS_LISTED`].
impl Serialize for Ids {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Ids", 2)?;
        st.serialize_field("sessions", &self.count)?;
        st.serialize_field("ids", &self.ids)?;
        st.end()
    }
}

/// The ids in words: runs as ranges, then how many more: "1-19", "4, 7, 9-12 and 30 more".
impl Display for Ids {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let (true, Some(first), true) = (self.one_run, self.ids.first(), self.count > 2) {
            return write!(f, "{first}-{}", self.last);
        }
        let mut i = 0;
        while i < self.ids.len() {
            let start = self.ids[i];
            let mut end = i;
            while end + 1 < self.ids.len() && self.ids[end + 1] == self.ids[end].wrapping_add(1) {
                end += 1;
            }
            if i > 0 {
                f.write_str(", ")?;
            }
            match end - i {
                0 => write!(f, "{start}")?,
                1 => write!(f, "{start}, {}", self.ids[end])?,
                _ => write!(f, "{start}-{}", self.ids[end])?,
            }
            i = end + 1;
        }
        let more = self.count - self.ids.len() as u64;
        if more > 0 {
            write!(f, " and {more} more")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ladder::tests::sessions;

    fn ids(list: impl IntoIterator<Item = u32>) -> Ids {
        let mut ids = Ids::default();
        list.into_iter().for_each(|i| ids.add(i));
        ids
    }

    #[test]
    fn ids_read_as_ranges_and_a_count_past_the_bound() {
        assert_eq!(ids(1..20).to_string(), "1-19");
        assert_eq!(ids([4, 7, 8, 9, 10, 12, 13]).to_string(), "4, 7-10, 12, 13");
        let many = ids(0..40);
        assert_eq!((many.count(), many.listed().len()), (40, IDS_LISTED));
        assert_eq!(many.to_string(), "0-39", "one run, however long");
        let gaps = ids((0..40).map(|i| i * 2));
        assert_eq!(gaps.to_string(), "0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22 and 28 more");
        assert_eq!(serde_json::to_string(&ids([3, 5])).unwrap(), r#"{"sessions":2,"ids":[3,5]}"#);
    }

    #[test]
    fn the_same_problem_on_other_ports_is_one_story_another_outcome_is_another() {
        let leak = &sessions("pasv-private-leak-fail/client.pcap")[0];
        let mut again = leak.clone();
        again.id += 1;
        again.client.set_port(again.client.port() + 1);
        for n in &mut again.negotiations {
            n.advertised = n.advertised.map(|mut a| {
                a.set_port(a.port() + 3);
                a
            });
        }
        let fixes = crate::report::explain::story::fixes(leak);
        assert_eq!(ProblemStory::of(leak, &fixes), ProblemStory::of(&again, &fixes));
        let mut other = leak.clone();
        other.negotiations[0].data.outcome = Outcome::Established;
        assert_ne!(ProblemStory::of(leak, &fixes), ProblemStory::of(&other, &fixes), "another outcome");
        assert_ne!(ProblemStory::of(leak, &fixes), ProblemStory::of(leak, &[]), "other fixes");
    }

    #[test]
    fn healthy_sessions_are_alike_by_client_user_server_and_transfers_done() {
        let s = &sessions("pasv-ok-forwarded/client.pcap");
        assert_eq!(HealthyStory::of(&s[1], 2, 2), HealthyStory::of(&s[2], 2, 2), "other ports, other transfers: alike");
        assert_eq!(HealthyStory::of(&s[0], 1, 1), HealthyStory::of(&s[2], 2, 2), "all done, however many");
        assert_ne!(HealthyStory::of(&s[1], 2, 2), HealthyStory::of(&s[2], 2, 1), "one not seen established");
        let mut bob = s[2].clone();
        bob.user = Some("bob".into());
        assert_ne!(HealthyStory::of(&s[1], 2, 2), HealthyStory::of(&bob, 2, 2), "another user");
    }
}
