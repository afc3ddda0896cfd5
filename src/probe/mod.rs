//! `ftpscope probe`: a short FTP session of ftpscope's own against a server, in every data
//! mode, with its own packets captured as evidence, explained by the same analysis as any
//! capture; plus a verdict per mode.
//!
//! ```text
//! url -> session (sockets, a deadline per step)  -> observed -> verdict per mode
//!          capture (libpcap, own traffic) -> pcap  -> analysis (as `explain`)
//!          or, without capture:    observed -> record -> diagnosis (the same)
//! ```
//!
//! Owns the probe's own parts: the URL ([`url`]), the client ([`session`] over [`control`]),
//! the verdicts ([`verdict`]), the record made from sockets ([`record`]) and the capture of its
//! own traffic ([`capture`], `live` builds). The analysis, diagnosis and words are the core's.

#[cfg(feature = "live")]
pub mod capture;
pub mod control;
pub mod observed;
pub mod record;
pub mod session;
pub mod tls;
pub mod url;
pub mod verdict;

use crate::model::{classify, AddressClass, Mode};
use observed::Observed;
use serde::Serialize;
use std::net::SocketAddr;
use verdict::{ModeVerdict, Verdict};

/// What the probe learned about its own side, apart from the server's.
#[derive(Debug, Clone, Serialize)]
pub struct ProberSide {
    /// The control connection's local address.
    #[serde(serialize_with = "crate::model::notation::socket_opt")]
    pub local: Option<SocketAddr>,
    /// Its address is private (or otherwise not reachable from the server's side) while the
    /// server's is public: the prober is behind a NAT, and its PORT/EPRT name a private address.
    pub behind_nat: bool,
    /// An active data connection arrived although PORT/EPRT named a private address: a device
    /// on the path (a NAT router's FTP helper) rewrote the command.
    pub path_helper: bool,
}

pub fn prober_side(seen: &Observed, verdicts: &[ModeVerdict]) -> ProberSide {
    let local = seen.local;
    let behind_nat = local
        .is_some_and(|l| classify(l.ip()).is_unreachable_from_elsewhere() && !classify(seen.server.ip()).is_unreachable_from_elsewhere());
    let path_helper = behind_nat
        && verdicts.iter().any(|v| {
            v.command.mode() == Mode::Active
                && v.connected_from.is_some()
                && v.advertised.is_some_and(|a| classify(a.ip()) != AddressClass::Public)
        });
    ProberSide { local, behind_nat, path_helper }
}

/// Every mode tried, judged.
pub fn verdicts(seen: &Observed) -> Vec<ModeVerdict> {
    seen.attempts.iter().map(verdict::judge).collect()
}

/// Some mode fails or works only for lenient clients.
pub fn any_trouble(verdicts: &[ModeVerdict]) -> bool {
    verdicts.iter().any(|v| matches!(v.verdict, Verdict::Fails | Verdict::WorksOnlyIgnoringAddress))
}
