//! One description per finding kind. Each module here words one problem: its one-line summary,
//! its explanation, the cause `explain` names for it (a sentence, and a few words for the
//! verdict) and what a merged repeat is about. The JSON, the text report, `explain` (text, JSON,
//! HTML) and the terminal UI all ask here, so a problem reads the same everywhere; [`told`] is
//! the one rule for what an explanation has already said.
//!
//! A folder of its own, beside diagnose/ and report/, because it sits between them: diagnose
//! decides (which finding, which severity, from the record; its decisions are tested there) and
//! hands over values ([`Text`]); every output, not report/ alone, reads the words from here. It
//! names only the model's values and their notation. Owns the words of findings and of
//! explain's causes. Must not decide, lay out, nor word a fix: fix actions are shared across
//! kinds and report::fix words each one.
//!
//! A new problem is its variant in model::finding ([`FindingKind`](crate::model::FindingKind),
//! its [`Text`] case and details), one module here and one line in [`words`]; diagnose makes it.

pub mod address_mismatch;
pub mod alg_rewrite;
pub mod ascii_mode_binary;
pub mod bounce_attempt;
pub mod capture_drops;
pub mod cleartext_credentials;
pub mod control_channel_encrypted;
pub mod control_connection_failed;
pub mod data_command_rejected;
pub mod data_connection_failed;
pub mod data_connection_not_seen;
pub mod data_without_control;
pub mod fell_back_to_active;
pub mod login_failed;
pub mod malformed;
pub mod nonstandard_control_port;
pub mod one_direction_captured;
pub mod password_guessing;
pub mod port_outside_range;
pub mod private_address_leak;
pub mod service_refused;
pub mod tls_required;
pub mod told;
pub mod transfer_failed;
pub mod transfer_incomplete;
pub mod unexpected_control_port;
pub mod unexpected_public_address;

use crate::model::notation::Sock;
use crate::model::{Finding, MatchedBy, Outcome, Text, Via};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::fmt::{self, Display, Formatter};
use std::net::SocketAddr;

/// What every output asks a finding's kind, implemented by each case of [`Text`].
pub trait Words {
    /// One occurrence in a line.
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result;
    /// What happened and why, in plain words.
    fn explanation(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result;
    /// Why the session has the problem, as `explain` names it.
    fn cause(&self) -> Cause;
    /// What one occurrence is about, when a merged finding lists its repeats.
    fn subject(&self) -> Option<Subject> {
        None
    }
}

/// The list of kinds: each case of a finding's text and the module that words it.
pub fn words(text: &Text) -> &dyn Words {
    match text {
        Text::Leak(t) => t,
        Text::Mismatch(t) => t,
        Text::Failed(t) => t,
        Text::ProbableFailed(t) => t,
        Text::Rejected(t) => t,
        Text::Bounce(t) => t,
        Text::Encrypted(t) => t,
        Text::RewriteSeen(t) => t,
        Text::RewriteAcross(t) => t,
        Text::NonstandardPort(t) => t,
        Text::Credentials(t) => t,
        Text::MalformedLine(t) => t,
        Text::Unparsable(t) => t,
        Text::CaptureDrops(t) => t,
        Text::NotSeen(t) => t,
        Text::OutsideRange(t) => t,
        Text::UnexpectedPublic(t) => t,
        Text::UnexpectedControlPort(t) => t,
        Text::OneDirection(t) => t,
        Text::ControlFailed(t) => t,
        Text::Uncontrolled(t) => t,
        Text::TransferFailed(t) => t,
        Text::LoginFailed(t) => t,
        Text::ServiceRefused(t) => t,
        Text::TlsRequired(t) => t,
        Text::Guessing(t) => t,
        Text::TransferIncomplete(t) => t,
        Text::AsciiBinary(t) => t,
        Text::FellBack(t) => t,
    }
}

/// What `finding` says is wrong, as `explain` names it.
pub fn cause(finding: &Finding) -> Cause {
    words(&finding.text).cause()
}

pub use crate::model::cause::Cause;

/// A cause in a few words, for the verdict.
pub struct Brief(pub Cause);

impl Display for Brief {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.brief)
    }
}

/// A finding's one-line summary: the first occurrence's words, then the other subjects of a
/// merged finding, each distinct one once with its count where it repeats (two PASV replies
/// naming the same address are one address said twice, not two addresses). The finding's own
/// count is said beside its kind by every output.
pub struct Summary<'a>(pub &'a Finding);

/// A finding's explanation: what happened and why, in plain words.
pub struct Explanation<'a>(pub &'a Finding);

impl Display for Summary<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let finding = self.0;
        let first = words(&finding.text);
        first.summary(finding, f)?;
        // A kind without subjects (a user name, a count) says its repeats in the count alone.
        if first.subject().is_none() {
            return Ok(());
        }
        // Distinct subjects in order of first appearance, counted; the first occurrence's
        // subject leads, already said in its words.
        let mut seen: Vec<(Option<Subject>, u32)> = vec![(first.subject(), 1)];
        for subject in finding.also.iter().map(|t| words(t).subject()) {
            match seen.iter_mut().find(|(s, _)| *s == subject) {
                Some((_, n)) => *n += 1,
                None => seen.push((subject, 1)),
            }
        }
        let unnamed = u64::from(finding.occurrences).saturating_sub(1 + finding.also.len() as u64);
        let repeats = seen[0].1;
        let others: Vec<(Subject, u32)> = seen[1..].iter().filter_map(|&(s, n)| Some((s?, n))).collect();
        // One subject however often: the finding's count (beside its kind) says how often.
        if others.is_empty() && unnamed == 0 {
            return Ok(());
        }
        f.write_str(" (")?;
        if repeats > 1 {
            write!(f, "x{repeats}")?;
            if !others.is_empty() || unnamed > 0 {
                f.write_str(", ")?;
            }
        }
        if !others.is_empty() || unnamed > 0 {
            f.write_str("and ")?;
        }
        for (i, (other, n)) in others.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            other.fmt(f)?;
            if *n > 1 {
                write!(f, " x{n}")?;
            }
        }
        if unnamed > 0 {
            let sep = if others.is_empty() { "" } else { ", " };
            write!(f, "{sep}{unnamed} more")?;
        }
        f.write_str(")")
    }
}

impl Display for Explanation<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        words(&self.0.text).explanation(self.0, f)
    }
}

/// The subjects of a merged finding's other occurrences.
pub fn also(finding: &Finding) -> impl Iterator<Item = Subject> + '_ {
    finding.also.iter().filter_map(|t| words(t).subject())
}

/// What one occurrence of a finding is about: the endpoint advertised, or the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Advertised(SocketAddr),
    Connection { client: SocketAddr, server: SocketAddr, outcome: Outcome },
}

impl Display for Subject {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self {
            Subject::Advertised(a) => Sock(a).fmt(f),
            Subject::Connection { client, server, outcome } => write!(f, "{} -> {} {}", Sock(client), Sock(server), outcome.as_str()),
        }
    }
}

impl Serialize for Subject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_map(None)?;
        match *self {
            Subject::Advertised(a) => st.serialize_entry("advertised", &Sock(a))?,
            Subject::Connection { client, server, outcome } => {
                st.serialize_entry("client", &Sock(client))?;
                st.serialize_entry("server", &Sock(server))?;
                st.serialize_entry("outcome", &outcome)?;
            }
        }
        st.end()
    }
}

/// An outcome in words: "not attempted", not "not_attempted".
struct Spaced(Outcome);

impl Display for Spaced {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, word) in self.0.as_str().split('_').enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
        }
        Ok(())
    }
}

/// " (client -> server, SYN in frame N, how it was tied)" for the data connection, if any.
struct ViaText(Option<Via>);

impl Display for ViaText {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let Some(v) = self.0 else { return Ok(()) };
        let how = match v.matched_by {
            MatchedBy::Advertised => "",
            MatchedBy::ControlAddress => ", to the control connection's address",
            MatchedBy::PortOnly => ", to the advertised port on another address",
            MatchedBy::AfterCommand => ", the client's next connection after its command",
        };
        write!(f, " ({} -> {}, SYN in frame {}{how})", Sock(v.client), Sock(v.server), v.syn_frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::finding::{Leak, NotSeen};
    use crate::model::{AddressClass, Consequence, Details, FindingKind, Mode, NegotiationCommand, Severity};

    fn leak(mode: Mode, advertised: &str) -> Text {
        Text::Leak(Leak {
            side: if mode == Mode::Passive { "server" } else { "client" },
            mode,
            command: if mode == Mode::Passive { NegotiationCommand::PASV } else { NegotiationCommand::PORT },
            reply_code: Some(227),
            advertised: advertised.parse().unwrap(),
            class: AddressClass::Private,
            peer: "203.0.113.5:50000".parse().unwrap(),
            consequence: Consequence::WorkedAround,
            via: None,
            tried: None,
            promiscuous: false,
        })
    }

    fn finding(text: Text) -> Finding {
        let details = Details::Port { port: 21 };
        Finding::new(FindingKind::PrivateAddressLeak, Severity::Warning, 0, vec![7], text, details)
    }

    #[test]
    fn a_merged_finding_names_its_other_subjects_in_the_summary_and_in_json() {
        let mut f = finding(leak(Mode::Passive, "10.0.0.20:40002"));
        assert_eq!(Summary(&f).to_string(), "server 227 reply advertises private (RFC 1918) address 10.0.0.20:40002");
        f.also = vec![
            leak(Mode::Passive, "10.0.0.20:40003"),
            Text::NotSeen(NotSeen { advertised: "10.0.0.21:1".parse().unwrap(), at_server: false }),
        ];
        f.occurrences = 5;
        assert_eq!(
            Summary(&f).to_string(),
            "server 227 reply advertises private (RFC 1918) address 10.0.0.20:40002 (and 10.0.0.20:40003, 10.0.0.21:1, 2 more)"
        );
        let json = serde_json::to_string(&also(&f).collect::<Vec<_>>()).unwrap();
        assert_eq!(json, r#"[{"advertised":"10.0.0.20:40003"},{"advertised":"10.0.0.21:1"}]"#);
        // Repeated subjects are said once each, with their count.
        f.also = vec![leak(Mode::Passive, "10.0.0.20:40002")];
        f.occurrences = 2;
        assert_eq!(Summary(&f).to_string(), "server 227 reply advertises private (RFC 1918) address 10.0.0.20:40002");
        f.also =
            vec![leak(Mode::Passive, "10.0.0.20:40003"), leak(Mode::Passive, "10.0.0.20:40002"), leak(Mode::Passive, "10.0.0.20:40003")];
        f.occurrences = 6;
        assert_eq!(
            Summary(&f).to_string(),
            "server 227 reply advertises private (RFC 1918) address 10.0.0.20:40002 (x2, and 10.0.0.20:40003 x2, 2 more)"
        );
    }

    #[test]
    fn a_cause_is_its_name_in_json_and_its_sentence_in_words() {
        let passive = cause(&finding(leak(Mode::Passive, "10.0.0.20:40002")));
        let active = cause(&finding(leak(Mode::Active, "10.0.0.20:40002")));
        assert_eq!(passive, private_address_leak::SERVER_NAT_PRIVATE_ADDRESS);
        assert_eq!(active, private_address_leak::CLIENT_NAT_ACTIVE_MODE);
        assert_ne!(passive, active);
        assert_eq!(serde_json::to_string(&passive).unwrap(), r#""server_nat_private_address""#);
        assert!(passive.to_string().starts_with("The server is behind NAT and announces its private address"));
        assert_eq!(Brief(active).to_string(), "client behind NAT in active mode");
    }
}
