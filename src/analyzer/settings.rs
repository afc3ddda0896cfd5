//! The analyzer's bounds and choices, set once when it is made.

use crate::decode::defrag::DefragLimits;
use crate::model::Intent;
use crate::tcp::flow::FlowLimits;

/// Bounds on what the analyzer keeps.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub flows: FlowLimits,
    /// IP fragments waiting for the rest of their datagram.
    pub fragments: DefragLimits,
    /// FTP sessions held open at once; sessions recognised beyond it are counted, not analysed.
    pub max_open_sessions: usize,
    /// Longest control line kept; longer ones are cut (and counted).
    pub max_line: usize,
    /// Out-of-order bytes buffered per control-channel direction.
    pub max_buffered: usize,
    /// All control-channel and probe buffers together (out-of-order bytes, partial lines, lines
    /// held while deciding whether a connection is FTP). Past it, a channel stops waiting for
    /// holes and drops partial lines; what it gave up is counted (Suricata's stream memcap).
    /// Probes have a reserve of a quarter more.
    pub buffer_budget: usize,
    /// A session whose control connection closed settles after this much capture time even
    /// if a data connection is still unresolved (an unanswered SYN, a lost FIN).
    pub settle_grace_ns: i64,
    /// A session with no packet on its control connection, nor on its latest data connection,
    /// for this long is settled as idle.
    pub idle_timeout_ns: i64,
    /// Control-channel lines each session keeps in its record's timeline (the terminal UI's
    /// detail; the reports do not show them): 0, the default, keeps none and costs nothing.
    pub timeline_lines: usize,
    /// Announce each negotiation and each data outcome as it becomes known (the `negotiation`
    /// and `data_outcome` events). A consumer that reads only settled sessions (a report
    /// written at the end) turns this off and is spared building them.
    pub negotiation_events: bool,
    /// Log each command with its reply (the `command` events): off by default, and then
    /// nothing of the log is built.
    pub command_events: bool,
    /// Put each data connection's bytes in order and hash them (`--hash`; `--extract` too,
    /// whose sink gets them: `Analyzer::with_content_sink`). Off by default: data streams are
    /// only counted, and cost nothing more.
    pub hash_data: bool,
    /// The operator's intended setup, checked by diagnosis and used in its fixes.
    pub intent: Intent,
    /// Password guessing: this many failed logins from one address within so many minutes.
    pub guessing: crate::diagnose::guessing::Rule,
    /// Tell the servers whose picture changed every this much capture time (a live capture);
    /// None: only at the end.
    pub server_events_every_ns: Option<i64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            flows: FlowLimits::default(),
            fragments: DefragLimits::default(),
            max_open_sessions: 50_000,
            max_line: 4096,
            max_buffered: 256 * 1024,
            buffer_budget: 64 << 20,
            settle_grace_ns: 5 * 1_000_000_000,
            idle_timeout_ns: 600 * 1_000_000_000,
            timeline_lines: 0,
            negotiation_events: true,
            command_events: false,
            hash_data: false,
            intent: Intent::default(),
            server_events_every_ns: None,
            guessing: crate::diagnose::guessing::Rule::default(),
        }
    }
}
