//! How a session got in, or did not: the replies that refused a login or the session itself,
//! the reply that let the client in, and who hung up. Read off the control channel (ftp/), in
//! the record as values; diagnosis judges them (diagnose::login), the words are in problems/.
//!
//! Owns the facts of a login. Must not judge them: which refusal means what is diagnosis's.

use super::{Side, Timestamp};

/// Refusals kept per session; the rest are counted (`refused`). A client that tries a thousand
/// passwords on one connection is one session with a count, not a thousand records.
pub const MAX_REFUSALS: usize = 8;
/// Longest text kept of a refusal's reply (its first line).
pub const REFUSAL_TEXT: usize = 160;

/// The login facts of one session.
#[derive(Debug, Clone, Default)]
pub struct Login {
    /// Frame of the last reply that let the client in (230, or 232).
    pub accepted_frame: Option<u64>,
    /// The first refusals, in wire order.
    pub refusals: Vec<Refusal>,
    /// Every refusal, kept or not.
    pub refused: u32,
    /// A login command the server never answered: the connection ended (or the capture did)
    /// with it pending.
    pub unanswered: Option<(LoginStep, u64)>,
    /// Which side closed the control connection first (FIN or RST), and the frame.
    pub closed_by: Option<(Side, u64)>,
    /// Sessions open along with it when it began.
    pub open_along: OpenAlong,
    /// Frame of the server's last reply: a reply that refuses the session is the server's last
    /// word, or the session went on and it refused nothing.
    pub last_reply_frame: Option<u64>,
}

impl Login {
    /// A refusal, kept while there is room, counted always.
    pub fn refuse(&mut self, refusal: Refusal) {
        self.refused = self.refused.saturating_add(1);
        if self.refusals.len() < MAX_REFUSALS {
            self.refusals.push(refusal);
        }
    }

    /// Whether the client got in, after `frame` if given.
    pub fn accepted_after(&self, frame: u64) -> bool {
        self.accepted_frame.is_some_and(|f| f > frame)
    }

    /// A command before the login (FEAT, OPTS) refused, and then the login: how clients probe
    /// a server, not a refusal worth telling.
    pub fn probed(&self, r: &Refusal) -> bool {
        r.step == Some(LoginStep::Other) && self.accepted_after(r.frame)
    }
}

/// One reply that refused: a login command answered 4xx or 5xx, or the session itself refused
/// (a 421, a `500 OOPS:`, a greeting that is not 220).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What the reply answered; None for the greeting or a reply to no command.
    pub step: Option<LoginStep>,
    /// The command's frame, when there was one.
    pub command_frame: Option<u64>,
    /// The user the try was for, as USER named it: never a password.
    pub user: Option<String>,
    pub code: u16,
    pub frame: u64,
    pub time: Timestamp,
    /// The reply's first line, printable, at most [`REFUSAL_TEXT`] bytes.
    pub text: String,
}

/// The command a refusal answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoginStep {
    User,
    Pass,
    Acct,
    /// Another command: refused because the client had not logged in (530), or with the
    /// session itself (421, `500 OOPS:`).
    Other,
}

impl LoginStep {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginStep::User => "USER",
            LoginStep::Pass => "PASS",
            LoginStep::Acct => "ACCT",
            LoginStep::Other => "another command",
        }
    }
}

/// Why a login was refused, as the reply's code and words (and the server's software) tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginReason {
    /// The user name or the password is wrong (or the account cannot log in: PAM, ftpusers).
    WrongCredentials,
    /// The server allows anonymous logins only (vsftpd `local_enable=NO`, its default).
    AnonymousOnly,
    /// The user is listed as denied (vsftpd's userlist, refused at USER).
    UserDenied,
    /// An anonymous login, refused: the server does not allow them.
    AnonymousRefused,
    /// Commands in the wrong order: PASS before USER (503), or other commands before logging
    /// in (530).
    WrongOrder,
}

impl LoginReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginReason::WrongCredentials => "wrong_credentials",
            LoginReason::AnonymousOnly => "anonymous_only",
            LoginReason::UserDenied => "user_denied",
            LoginReason::AnonymousRefused => "anonymous_refused",
            LoginReason::WrongOrder => "wrong_order",
        }
    }
}

/// Why the server refused the session itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceReason {
    /// Too many sessions from the client's address (vsftpd `max_per_ip`, ProFTPD
    /// `MaxClientsPerHost`, Pure-FTPd `-C`).
    TooManyFromAddress,
    /// Too many sessions in all (vsftpd `max_clients`, ProFTPD `MaxClients`, Pure-FTPd `-c`).
    TooManyUsers,
    /// vsftpd's `500 OOPS: vsftpd: refusing to run with writable root inside chroot()`.
    WritableChroot,
    /// vsftpd's `500 OOPS: cannot change directory:`: the user's home is missing or closed.
    CannotChangeDirectory,
    /// vsftpd's `500 OOPS: vsf_sysutil_bind`: it could not bind its active-mode data port
    /// (connect_from_port_20=YES), and its process gave up.
    BindFailed,
    /// Another `500 OOPS:`: the server's process gave up (a configuration error).
    ServerError,
    /// Another 421: service not available.
    Unavailable,
    /// The server hung up right after its greeting, before any command.
    ClosedAfterGreeting,
    /// The server hung up right after the password, without answering it.
    ClosedAfterPassword,
}

impl ServiceReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceReason::TooManyFromAddress => "too_many_from_address",
            ServiceReason::TooManyUsers => "too_many_users",
            ServiceReason::WritableChroot => "writable_chroot",
            ServiceReason::CannotChangeDirectory => "cannot_change_directory",
            ServiceReason::BindFailed => "bind_failed",
            ServiceReason::ServerError => "server_error",
            ServiceReason::Unavailable => "unavailable",
            ServiceReason::ClosedAfterGreeting => "closed_after_greeting",
            ServiceReason::ClosedAfterPassword => "closed_after_password",
        }
    }
}

/// Sessions open when this one began, itself included: from the same client address to the
/// same server, and at that server in all. A connection limit that refused a session is fixed
/// by a limit at least this high.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenAlong {
    pub from_client: u32,
    pub at_server: u32,
}
