//! A finding: one problem (or fact worth knowing) with its evidence frames, what to say about
//! it and the fixes, all as values: the words are chosen at output time (each kind's module
//! under problems/, and report::fix), so that diagnosing a session formats nothing. Its JSON is
//! a report-side view (report::record), as the words are.

use super::record::Icmp;
use super::text_sample::{NotText, TextSample};
use super::transfer_record::Partial;
use super::Software;
use super::{
    AddressClass, Directions, Failure, Fix, LoginReason, MatchedBy, Mode, NegotiationCommand, Outcome, PortRange, ServiceReason, Severity,
    Side,
};
use serde::Serialize;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// What a finding is about: its name in every output. Each kind is worded by one module
/// under problems/; a new kind is a variant here, its [`Text`] case, and that module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    PrivateAddressLeak,
    AddressMismatch,
    DataConnectionFailed,
    DataCommandRejected,
    BounceAttempt,
    ControlChannelEncrypted,
    AlgRewrite,
    NonstandardControlPort,
    CleartextCredentials,
    MalformedReply,
    MalformedCommand,
    /// Live capture only: libpcap dropped packets (the analysis missed some).
    CaptureDrops,
    /// A passive reply was followed by neither a data connection nor a transfer command: seen
    /// at the server, the client's connection did not reach it.
    DataConnectionNotSeen,
    /// A passive reply advertises a port outside the intended range (`--pasv-range`).
    PortOutsideRange,
    /// A passive reply advertises a public address other than the intended one (`--public-ip`).
    UnexpectedPublicAddress,
    /// The control connection uses another port than the intended one (`--control-port`).
    UnexpectedControlPort,
    /// Only one direction of the control connection is in the capture: what the other side
    /// said cannot be judged.
    OneDirectionCaptured,
    /// A connection to the control port that never opened (unanswered, refused, unreachable):
    /// no session began, the server cannot be reached.
    ControlConnectionFailed,
    /// A connection that looks like FTP data (from port 20, to an advertised port, a listing)
    /// whose control channel is not in the capture.
    DataWithoutControl,
    /// A transfer failed (model::transfer) and no other finding of its negotiation tells why:
    /// the server refused it (550 ...), never answered it, or the client aborted it.
    TransferFailed,
    /// The server refused a login (530 or another 4xx/5xx to USER, PASS or ACCT).
    LoginFailed,
    /// The server refused the session itself: a 421, a `500 OOPS:`, a hang-up right after the
    /// greeting or the password.
    ServiceRefused,
    /// The server demands TLS and the client spoke clear text.
    TlsRequired,
    /// Many failed logins from one address in a short time, across sessions.
    PasswordGuessing,
    /// A transfer that ended short of its announced size, or that the server ended (426, 451,
    /// 552) without the client's ABOR, where no other finding of its negotiation tells it.
    TransferIncomplete,
    /// A TYPE A (ASCII) transfer whose bytes are not text: a binary file in ASCII mode.
    AsciiModeBinary,
    /// The client's passive data connection to this server had failed; it fell back to active
    /// mode (diagnose::fallback), and here active mode worked.
    FellBackToActive,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::PrivateAddressLeak => "private_address_leak",
            FindingKind::AddressMismatch => "address_mismatch",
            FindingKind::DataConnectionFailed => "data_connection_failed",
            FindingKind::DataCommandRejected => "data_command_rejected",
            FindingKind::BounceAttempt => "bounce_attempt",
            FindingKind::ControlChannelEncrypted => "control_channel_encrypted",
            FindingKind::AlgRewrite => "alg_rewrite",
            FindingKind::NonstandardControlPort => "nonstandard_control_port",
            FindingKind::CleartextCredentials => "cleartext_credentials",
            FindingKind::MalformedReply => "malformed_reply",
            FindingKind::MalformedCommand => "malformed_command",
            FindingKind::CaptureDrops => "capture_drops",
            FindingKind::DataConnectionNotSeen => "data_connection_not_seen",
            FindingKind::PortOutsideRange => "port_outside_range",
            FindingKind::UnexpectedPublicAddress => "unexpected_public_address",
            FindingKind::UnexpectedControlPort => "unexpected_control_port",
            FindingKind::OneDirectionCaptured => "one_direction_captured",
            FindingKind::ControlConnectionFailed => "control_connection_failed",
            FindingKind::DataWithoutControl => "data_without_control",
            FindingKind::TransferFailed => "transfer_failed",
            FindingKind::LoginFailed => "login_failed",
            FindingKind::ServiceRefused => "service_refused",
            FindingKind::TlsRequired => "tls_required",
            FindingKind::PasswordGuessing => "password_guessing",
            FindingKind::TransferIncomplete => "transfer_incomplete",
            FindingKind::FellBackToActive => "fell_back_to_active",
            FindingKind::AsciiModeBinary => "ascii_mode_binary",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: FindingKind,
    /// Findings of one kind and cause in one session are reported once, with the frames of
    /// the first few and this count (689 identical PASV replies are one problem).
    pub occurrences: u32,
    /// The finding (its index in the session's findings) whose consequence this is: a data
    /// connection that failed because a private address was advertised is one problem, not
    /// two. Counted and listed under its cause, not as a problem of its own.
    pub caused_by: Option<u32>,
    /// What the merged repeats said, after the first (at most [`MAX_ALSO`]): a merged finding
    /// names every address and connection, not only the first.
    pub also: Vec<Text>,
    /// What makes two findings "the same" for that merge: the values that name the cause (see
    /// [`group`]).
    pub group: Group,
    pub severity: Severity,
    pub session: u32,
    pub frames: Vec<u64>,
    /// The summary and explanation, as the facts they are worded from.
    pub text: Text,
    pub fix: Vec<Fix>,
    pub details: Details,
}

/// The `session` of a finding that belongs to no session (no session has this id): about the
/// whole capture (clear-text logins, packets the capture dropped) or outside any session (a
/// control connection that never opened, data without its control channel).
pub const NO_SESSION: u32 = u32::MAX;

impl Finding {
    /// About the whole capture rather than any session's problem (told once, at the end, not
    /// counted as a session's): clear-text logins, password guessing, packets the capture
    /// dropped.
    pub fn is_about_capture(&self) -> bool {
        self.session == NO_SESSION
            && matches!(self.kind, FindingKind::CleartextCredentials | FindingKind::CaptureDrops | FindingKind::PasswordGuessing)
    }
}

/// Repeats whose subjects a merged finding lists.
pub const MAX_ALSO: usize = 11;

impl Finding {
    /// One occurrence, caused by nothing, in no merge group, without fixes: the fields a
    /// finding needs; the rest by struct update (`Finding { fix, ..Finding::new(...) }`).
    pub fn new(kind: FindingKind, severity: Severity, session: u32, frames: Vec<u64>, text: Text, details: Details) -> Finding {
        Finding {
            kind,
            occurrences: 1,
            caused_by: None,
            also: Vec::new(),
            group: Group::default(),
            severity,
            session,
            frames,
            text,
            fix: Vec::new(),
            details,
        }
    }
}

/// The values that name a finding's cause (an address, an outcome, a code, a command's verb),
/// compared as values: a 64-bit digest of them could be made to collide by whoever chooses the
/// text on the wire, and two causes would merge into one. Kept as the bytes their `Hash` writes,
/// recorded rather than digested: std writes integers at full width, a slice's length before
/// it, a string's bytes and then 0xFF (never in UTF-8) and an enum's discriminant before its
/// fields, so for the values findings are grouped by, equal bytes are equal values. A few
/// dozen bytes per finding; none for a finding that merges with nothing (the default, empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Group(Box<[u8]>);

/// A merge key from the values that name a finding's cause (see [`Group`]).
pub fn group(cause: impl Hash) -> Group {
    let mut written = Written(Vec::new());
    cause.hash(&mut written);
    Group(written.0.into_boxed_slice())
}

/// A `Hasher` that keeps what it is fed: every other write method of `Hasher` ends in `write`.
struct Written(Vec<u8>);

impl Hasher for Written {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// Never asked for: [`group`] keeps the bytes.
    fn finish(&self) -> u64 {
        0
    }
}

/// Two texts whose 64-bit digest under the merge key's former hash (foldhash's fast hash, seed
/// 0x6f75_7063, of `Some(text)`: how findings were grouped and NAT copies' users and banners
/// compared) is the same: found by a cycle search (Brent's, about 2^32 steps of a minute or
/// two), as anyone could. Identity by value must keep them apart.
#[cfg(test)]
pub(crate) const COLLIDING_TEXTS: [&str; 2] = ["uec968941d347db7c", "u4c9766f54dc7339f"];

/// What a finding says, by case, with the values its words need: one type per case, worded
/// by its kind's module under problems/ (the list there maps each case to its module). Values
/// already in the finding's `details` (a user name, a reply's text, a malformed line) are read
/// from there rather than copied.
#[derive(Debug, Clone, Copy)]
pub enum Text {
    NonstandardPort(NonstandardPort),
    Credentials(Credentials),
    ProbableFailed(ProbableFailed),
    MalformedLine(MalformedLine),
    Encrypted(Encrypted),
    Unparsable(Unparsable),
    Mismatch(Mismatch),
    Bounce(Bounce),
    Failed(Failed),
    Rejected(Rejected),
    Leak(Leak),
    RewriteSeen(RewriteSeen),
    CaptureDrops(CaptureDrops),
    NotSeen(NotSeen),
    OutsideRange(OutsideRange),
    UnexpectedPublic(UnexpectedPublic),
    UnexpectedControlPort(UnexpectedControlPort),
    OneDirection(OneDirection),
    RewriteAcross(RewriteAcross),
    ControlFailed(ControlFailed),
    Uncontrolled(Uncontrolled),
    TransferFailed(TransferFailed),
    LoginFailed(LoginFailed),
    ServiceRefused(ServiceRefused),
    TlsRequired(TlsRequired),
    Guessing(Guessing),
    TransferIncomplete(TransferIncomplete),
    AsciiBinary(AsciiBinary),
    FellBack(FellBack),
}

/// login_failed: why, and whether a later try in the same session got in (a typo); the user,
/// the command and the reply are in the details.
#[derive(Debug, Clone, Copy)]
pub struct LoginFailed {
    pub reason: LoginReason,
    pub code: u16,
    pub logged_in_later: bool,
}

/// service_refused: why; the reply (when there was one) is in the details.
#[derive(Debug, Clone, Copy)]
pub struct ServiceRefused {
    pub reason: ServiceReason,
    pub code: Option<u16>,
}

/// tls_required: the refusing reply's code; its words are in the details.
#[derive(Debug, Clone, Copy)]
pub struct TlsRequired {
    pub code: u16,
}

/// password_guessing: the counts and the users tried are in the details.
#[derive(Debug, Clone, Copy)]
pub struct Guessing;

/// nonstandard_control_port: the control connection's port and server.
#[derive(Debug, Clone, Copy)]
pub struct NonstandardPort {
    pub port: u16,
    pub server: SocketAddr,
}

/// cleartext_credentials, once per capture: the user names and counts are in the details; the
/// password is never kept.
#[derive(Debug, Clone, Copy)]
pub struct Credentials;

/// data_connection_failed under TLS: a probable data connection that failed.
#[derive(Debug, Clone, Copy)]
pub struct ProbableFailed {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub outcome: Outcome,
    /// What made the control channel unreadable.
    pub by: super::Protection,
}

/// malformed_reply / malformed_command: a control line that breaks RFC 959's format.
#[derive(Debug, Clone, Copy)]
pub struct MalformedLine;

/// control_channel_encrypted: where TLS (or RFC 2228's protection) began, and how its probable
/// data connections fared.
#[derive(Debug, Clone, Copy)]
pub struct Encrypted {
    pub frame: u64,
    pub by: super::Protection,
    pub channels: usize,
    pub failed: usize,
    pub first_failure: Option<Outcome>,
}

/// malformed_reply / malformed_command: a negotiation whose address could not be read.
#[derive(Debug, Clone, Copy)]
pub struct Unparsable {
    pub mode: Mode,
    pub command: NegotiationCommand,
    pub reply_code: Option<u16>,
    pub side: &'static str,
    pub reason: &'static str,
}

/// address_mismatch: a passive reply's public address other than the control connection's.
#[derive(Debug, Clone, Copy)]
pub struct Mismatch {
    pub advertised: SocketAddr,
    pub server: IpAddr,
    pub outcome: Outcome,
    pub via: Option<Via>,
}

/// bounce_attempt: PORT/EPRT naming a third host.
#[derive(Debug, Clone, Copy)]
pub struct Bounce {
    pub command: NegotiationCommand,
    pub advertised: SocketAddr,
    pub client: IpAddr,
}

/// data_connection_failed of a negotiation: how it failed and why, as far as the capture tells.
#[derive(Debug, Clone, Copy)]
pub struct Failed {
    pub mode: Mode,
    pub command: NegotiationCommand,
    pub connection: Endpoints,
    pub outcome: Outcome,
    pub how: FailedHow,
    pub cause: FailureCause,
}

/// data_command_rejected: the code and what it means.
#[derive(Debug, Clone, Copy)]
pub struct Rejected {
    pub code: u16,
    pub advice: Rejection,
    pub command: NegotiationCommand,
    pub client: IpAddr,
}

/// private_address_leak: the address its peer cannot reach, and what followed.
#[derive(Debug, Clone, Copy)]
pub struct Leak {
    pub side: &'static str,
    pub mode: Mode,
    pub command: NegotiationCommand,
    pub reply_code: Option<u16>,
    pub advertised: SocketAddr,
    pub class: AddressClass,
    pub peer: SocketAddr,
    pub consequence: Consequence,
    pub via: Option<Via>,
    /// The first connection tried to the negotiated endpoint, when it did not open and the
    /// client tried again.
    pub tried: Option<Tried>,
    /// Active: the server accepted (2xx) a PORT/EPRT naming another address than the client's
    /// as this point sees it: it takes any address, an FTP bounce's too.
    pub promiscuous: bool,
}

/// alg_rewrite seen from one side: a private PORT whose connection still arrived.
#[derive(Debug, Clone, Copy)]
pub struct RewriteSeen {
    pub command: NegotiationCommand,
    pub advertised: SocketAddr,
    pub client: SocketAddr,
    pub server: SocketAddr,
}

/// capture_drops (live capture): the numbers are in the details.
#[derive(Debug, Clone, Copy)]
pub struct CaptureDrops;

/// data_connection_not_seen: no data connection and no transfer after a passive reply.
#[derive(Debug, Clone, Copy)]
pub struct NotSeen {
    pub advertised: SocketAddr,
    /// The server is behind NAT and the capture inside it: the connection did not reach it.
    pub at_server: bool,
}

/// port_outside_range: a passive reply's port outside the intended range.
#[derive(Debug, Clone, Copy)]
pub struct OutsideRange {
    pub advertised: SocketAddr,
    pub range: PortRange,
    pub outcome: Outcome,
}

/// unexpected_public_address: a passive reply's public address other than the intended one.
#[derive(Debug, Clone, Copy)]
pub struct UnexpectedPublic {
    pub advertised: SocketAddr,
    pub intended: IpAddr,
    pub outcome: Outcome,
}

/// unexpected_control_port: the port seen, the one intended.
#[derive(Debug, Clone, Copy)]
pub struct UnexpectedControlPort {
    pub seen: u16,
    pub intended: u16,
    pub server: SocketAddr,
}

/// one_direction_captured: the direction the capture holds, and how many negotiations
/// were read (those of a server-only capture with their command implied).
#[derive(Debug, Clone, Copy)]
pub struct OneDirection {
    pub captured: Directions,
    pub negotiations: usize,
}

/// fell_back_to_active: where passive mode failed, and where the server's connection in
/// active mode went.
#[derive(Debug, Clone, Copy)]
pub struct FellBack {
    pub failed: super::PassiveFailure,
    pub command: NegotiationCommand,
    pub reached: SocketAddr,
}

/// alg_rewrite across the two copies of one control connection on both sides of a NAT router.
#[derive(Debug, Clone, Copy)]
pub struct RewriteAcross {
    pub command: NegotiationCommand,
    pub inside: SocketAddr,
    pub inside_frame: u64,
    pub inside_session: u32,
    pub outside: SocketAddr,
    pub outside_frame: u64,
    pub outside_session: u32,
}

/// control_connection_failed: the connection to the control port, and how it failed.
#[derive(Debug, Clone, Copy)]
pub struct ControlFailed {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub outcome: Outcome,
    pub how: FailedHow,
    /// Other connections to the same server endpoint began FTP sessions in this capture: it
    /// can be reached, this attempt failed on the way.
    pub others_opened: bool,
}

/// data_without_control: a connection that looks like FTP data, why, and how it went.
#[derive(Debug, Clone, Copy)]
pub struct Uncontrolled {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub outcome: Outcome,
    pub evidence: DataEvidence,
    /// Payload bytes both ways.
    pub bytes: u64,
    pub ended: DataEnd,
}

/// Why a connection without a control channel is taken for FTP data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataEvidence {
    /// It comes from port 20: an active-mode data connection from the server.
    SourcePort20,
    /// It goes to a port a server of this capture advertised for passive data.
    AdvertisedPort,
    /// Its first bytes are a directory listing.
    Listing,
}

/// How a data connection without its control channel ended, as far as the capture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "how")]
pub enum DataEnd {
    /// Closed with FINs: the sender finished.
    Closed,
    /// Reset (by the side named) in the frame: what was sent may be incomplete.
    Reset { frame: u64, by: Side },
    /// Still open when the capture ended.
    Open,
    /// It never opened.
    NeverOpened,
}

/// transfer_failed: why the transfer failed; its command, argument and reply are in the details.
#[derive(Debug, Clone, Copy)]
pub struct TransferFailed {
    pub why: Failure,
    /// The transfer's final reply code, when there was one.
    pub code: Option<u16>,
    /// Frame of the client's ABOR, for an aborted transfer.
    pub aborted_frame: Option<u64>,
}

/// transfer_incomplete: why it is partial and the numbers; the command, reply and frames are in
/// the details.
#[derive(Debug, Clone, Copy)]
pub struct TransferIncomplete {
    pub why: Partial,
    /// Bytes the data connection carried the file's way.
    pub bytes: u64,
    /// The bytes expected (the announced size less a REST offset), when announced.
    pub expected: Option<u64>,
    pub rest_offset: Option<u64>,
    /// The transfer's final reply code.
    pub code: Option<u16>,
    /// The data connection's last frame: where the bytes stopped.
    pub stopped_frame: Option<u64>,
}

/// ascii_mode_binary: why the bytes are not text, and the server (whether it translates line
/// ends in ASCII mode depends on it); the command and the counts are in the details.
#[derive(Debug, Clone, Copy)]
pub struct AsciiBinary {
    pub why: NotText,
    pub software: Software,
    pub upload: bool,
    /// The wire shows the server translated it: a download that carried more bytes than the
    /// server announced (each bare LF sent as CRLF), without a REST offset.
    pub translated: Option<(u64, u64)>,
}

/// The data connection a negotiation led to, as an explanation names it.
#[derive(Debug, Clone, Copy)]
pub struct Via {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub syn_frame: u64,
    pub matched_by: MatchedBy,
}

/// A data connection that did not open before the client tried again.
#[derive(Debug, Clone, Copy)]
pub struct Tried {
    pub server: SocketAddr,
    pub syn_frame: u64,
    pub syns: u64,
    pub outcome: Outcome,
}

/// How a data connection failed, with its evidence.
#[derive(Debug, Clone, Copy)]
pub enum FailedHow {
    Refused { by: Option<Side>, frame: Option<u64> },
    Unreachable(Option<Icmp>),
    NoAnswer { syns: u64, first: u64 },
}

/// Why a data connection failed, as far as the capture tells.
#[derive(Debug, Clone, Copy)]
pub enum FailureCause {
    /// The client tried the private address the server advertised.
    PrivateAddressTried,
    /// RST from the passive port: nothing listens or a firewall rejects it.
    NothingAccepts,
    /// SYNs to the passive port vanish.
    SynsVanish,
    /// Other passive ports of the same server worked in this session (lowest and highest of
    /// them, and how many): only part of the range is forwarded or allowed.
    PartOfRange { worked: PortRange, connections: u32 },
    /// The server could not connect back to the client (behind NAT).
    ClientUnreachable,
    /// The server's connection back to a client with a public address got no answer or was
    /// refused: a firewall on the way (outbound from the server, inbound to the client).
    ActiveBlocked,
}

/// What a refused negotiation or transfer means, from its code and text.
#[derive(Debug, Clone, Copy)]
pub enum Rejection {
    /// The server's anti-bounce check refused a foreign address in PORT/EPRT.
    ForeignAddress,
    /// vsftpd's "bad IP connecting": the data connection came from another address.
    DataFromOtherAddress,
    /// Passive 425 and no data connection in the capture: the server waited for one to the
    /// advertised endpoint and none arrived.
    NoneArrived {
        advertised: Option<SocketAddr>,
    },
    /// Active 425 to a client whose PORT named a reachable (public) address, and no connection
    /// from the server in the capture: something between drops the server's connection.
    ActiveNotArrived,
    CannotOpen,
    Broken,
    Other,
}

/// What followed a leaked address.
#[derive(Debug, Clone, Copy)]
pub enum Consequence {
    Failed(Outcome),
    /// Passive: the client ignored the advertised address and reached the control address.
    WorkedAround,
    /// Passive: the client ignored the advertised address and dialled the control address, and
    /// that connection failed: not because of the leak (its own finding says why).
    WorkedAroundThenFailed(Outcome),
    /// Passive: the connection to the advertised address worked from this capture point.
    StillSucceeded,
    /// Active: the server's connection arrived all the same (a helper rewrote PORT).
    HelperRewrote,
    Rejected,
    /// Active: refused or failed before any transfer command, and the client's next negotiation
    /// (passive, `frame`) carried the transfer: it fell back to passive mode.
    FellBackToPassive {
        outcome: Outcome,
        frame: u64,
    },
    /// The connection seen did not open, yet the transfer's final reply says it completed: the
    /// client connected again where the capture does not see it.
    CompletedElsewhere {
        code: u16,
        frame: Option<u64>,
    },
    Other(Outcome),
}

/// A finding's facts as values, one shape per family (docs/schema.md lists the keys): typed, so
/// that diagnosis builds no JSON and the output serialises them directly.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Details {
    /// nonstandard_control_port
    Port { port: u16 },
    /// cleartext_credentials, about the whole capture: the named users (the first few), the
    /// sessions of other named users, the sessions of named users and of anonymous logins
    Credentials { users: Vec<String>, unnamed_sessions: u64, sessions: u64, anonymous_sessions: u64 },
    /// control_channel_encrypted
    Encrypted { protection: super::Protection, probable_data_channels: Vec<ChannelSeen>, protected_data: bool },
    /// data_connection_failed, probable under TLS
    ProbableFailed { probable: bool, outcome: Outcome, connection: ChannelSeen },
    /// data_connection_failed of a negotiation
    Failed { mode: Mode, outcome: Outcome, connection: ChannelSeen },
    /// malformed_reply / malformed_command from a line that is not one
    Line { reason: String, excerpt: String },
    /// malformed_reply / malformed_command from an address that could not be parsed
    Unparsable { side: &'static str, reason: &'static str, text: Option<String> },
    /// address_mismatch
    Mismatch {
        side: &'static str,
        #[serde(serialize_with = "crate::model::notation::socket")]
        advertised: SocketAddr,
        #[serde(serialize_with = "crate::model::notation::ip")]
        control_address: IpAddr,
    },
    /// bounce_attempt
    Bounce {
        side: &'static str,
        #[serde(serialize_with = "crate::model::notation::ip")]
        address: IpAddr,
        #[serde(serialize_with = "crate::model::notation::ip")]
        client: IpAddr,
    },
    /// data_command_rejected
    Rejected { code: u16, text: String, command: Option<String> },
    /// transfer_failed: the transfer command's verb and argument (a file name: RETR, STOR ...
    /// never carry a password), the final reply if any, and why it failed
    Transfer { command: Option<String>, argument: Option<String>, reply_code: Option<u16>, reply_text: Option<String>, reason: Failure },
    /// ascii_mode_binary: the command's verb and argument, why its bytes are not text, and the
    /// counts of its sample.
    AsciiBinary { command: Option<String>, argument: Option<String>, not_text: NotText, sample: TextSample },
    /// transfer_incomplete: the command's verb and argument, the final reply if any, why the
    /// transfer is partial, the bytes carried and expected, and the frame where they stopped.
    Incomplete {
        command: Option<String>,
        argument: Option<String>,
        reply_code: Option<u16>,
        reply_text: Option<String>,
        partial: Partial,
        bytes: u64,
        expected_bytes: Option<u64>,
        rest_offset: Option<u64>,
        stopped_frame: Option<u64>,
    },
    /// private_address_leak
    Leak {
        side: &'static str,
        #[serde(serialize_with = "crate::model::notation::ip")]
        address: IpAddr,
        port: u16,
        class: AddressClass,
        worked_around: bool,
        outcome: Outcome,
        alg_suspected: bool,
    },
    /// alg_rewrite seen from one side: a private PORT whose connection still arrived
    RewriteSeen {
        #[serde(serialize_with = "crate::model::notation::socket")]
        advertised: SocketAddr,
        connection: Endpoints,
    },
    /// data_connection_not_seen
    NotSeen {
        #[serde(serialize_with = "crate::model::notation::socket")]
        advertised: SocketAddr,
        at_server: bool,
    },
    /// port_outside_range, unexpected_public_address: what was advertised against the intent
    Intended {
        #[serde(serialize_with = "crate::model::notation::socket")]
        advertised: SocketAddr,
        #[serde(flatten)]
        intended: Intended,
    },
    /// one_direction_captured
    OneDirection { captured_directions: Directions },
    /// fell_back_to_active: the session and frame where passive mode failed
    FellBack { failed_session: u32, failed_frame: u64 },
    /// capture_drops: libpcap's counters at the end of a live capture
    Drops { received: u64, dropped: u64, interface_dropped: u64 },
    /// control_connection_failed
    ControlFailed { outcome: Outcome, connection: ChannelSeen, syns: u64 },
    /// data_without_control
    Uncontrolled { evidence: DataEvidence, outcome: Outcome, connection: ChannelSeen, bytes: u64, ended: DataEnd },
    /// login_failed, service_refused, tls_required: the reply that refused (none when the
    /// server hung up without one), the command it answered, the user the try was for (never a
    /// password), why, and whether the session logged in later
    Login {
        user: Option<String>,
        command: Option<&'static str>,
        reply_code: Option<u16>,
        reply_text: Option<String>,
        reason: &'static str,
        logged_in_later: bool,
    },
    /// password_guessing: one client address's failed logins within the window
    Guessing {
        #[serde(serialize_with = "crate::model::notation::ip")]
        client: IpAddr,
        failed_logins: u64,
        /// Sessions they were spread over.
        sessions: u64,
        /// The user names tried (the first few), and how many others.
        users: Vec<String>,
        other_users: u64,
        first_time: crate::Timestamp,
        last_time: crate::Timestamp,
        /// The rule that raised it: `threshold` failed logins within `window_minutes`.
        threshold: u32,
        window_minutes: u32,
    },
    /// alg_rewrite across the two copies of one connection
    RewriteAcross {
        #[serde(serialize_with = "crate::model::notation::socket")]
        inside: SocketAddr,
        #[serde(serialize_with = "crate::model::notation::socket")]
        outside: SocketAddr,
        inside_session: u32,
        outside_session: u32,
    },
}

/// The intended value a passive reply was checked against.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intended {
    #[serde(rename = "intended_public_ip", serialize_with = "crate::model::notation::ip")]
    Address(IpAddr),
    #[serde(rename = "intended_range")]
    Range(PortRange),
}

/// A connection named in a finding.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Endpoints {
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub client: SocketAddr,
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub server: SocketAddr,
}

/// A data connection named in a finding, with its SYN's frame (and, in a list, its outcome).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ChannelSeen {
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub client: SocketAddr,
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub server: SocketAddr,
    pub syn_frame: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn texts_whose_digests_collide_are_other_groups() {
        let [a, b] = COLLIDING_TEXTS;
        let digest = |text: &str| foldhash::fast::FixedState::with_seed(0x6f75_7063).hash_one(Some(text));
        assert_eq!(digest(a), digest(b), "the former key: one group");
        assert_ne!(group(Some(a)), group(Some(b)));
        assert_eq!(group(Some(a)), group(Some(String::from(a))), "a value, however held");
        // Where one value ends and the next begins is part of the group.
        assert_ne!(group(("ab", "c")), group(("a", "bc")));
        assert_ne!(group((Some(1u16), None::<u16>)), group((None::<u16>, Some(1u16))));
        assert_ne!(group(Some(a)), Group::default());
    }
}
