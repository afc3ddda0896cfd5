//! Two capture points of the same traffic (inside and outside a NAT router, or the client's and
//! the server's side): which sessions and data connections are the same across them, what the
//! device between rewrote, and what crossed it or vanished in it. Built by
//! `correlate::points` from each capture's settled sessions; the outputs are views of it.

use super::{Connection, NegotiationCommand, Outcome, Timestamp};
use serde::{Serialize, Serializer};
use std::net::SocketAddr;

/// One of the two captures: `A` is the first named on the command line, `B` the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Point {
    A,
    B,
}

/// What pairing the two captures found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Crossing {
    /// B's clock minus A's (plus the transit between the points), the median over the pairs
    /// found by sequence numbers; None without such a pair.
    #[serde(rename = "clock_offset", serialize_with = "seconds")]
    pub clock_offset_ns: Option<i64>,
    pub pairs: Vec<SessionPair>,
    /// Sessions seen at one point only, in the order they began.
    pub only_a: Vec<LoneSession>,
    pub only_b: Vec<LoneSession>,
}

impl Crossing {
    /// Data connections seen at one point and not at the other: the device between dropped them
    /// (or never forwarded them).
    pub fn vanished(&self) -> impl Iterator<Item = (&SessionPair, &DataCrossing)> {
        self.data().filter(|(_, d)| matches!(d, DataCrossing::Vanished { .. }))
    }

    /// Every data connection's crossing, with its session pair.
    pub fn data(&self) -> impl Iterator<Item = (&SessionPair, &DataCrossing)> {
        self.pairs.iter().flat_map(|p| p.negotiations.iter().map(|n| &n.data).chain(&p.probable_data_channels).map(move |d| (p, d)))
    }
}

/// One control connection seen at both points.
#[derive(Debug, Clone, Serialize)]
pub struct SessionPair {
    /// Session ids in each capture's own report.
    pub a: u32,
    pub b: u32,
    pub paired_by: PairedBy,
    pub user: Option<String>,
    /// The control connection at each point: different addresses or ports are NAT's work.
    pub control: Translation,
    /// Negotiations in the order sent, one per negotiation both points saw.
    pub negotiations: Vec<NegotiationPair>,
    /// Negotiations one point holds beyond the other's (a capture that began or ended within
    /// the session).
    pub negotiations_only_a: usize,
    pub negotiations_only_b: usize,
    /// Under TLS the negotiations are unreadable: the connections probably carrying data,
    /// paired by their sequence numbers.
    pub probable_data_channels: Vec<DataCrossing>,
}

/// How two sessions were recognised as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairedBy {
    /// The control connection's initial sequence numbers (NAT keeps them).
    SequenceNumbers,
    /// Same user, banner, commands and negotiations, at the same time (a device that also
    /// changes sequence numbers).
    Content,
}

/// One connection's endpoints at each point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    pub a: Endpoints,
    pub b: Endpoints,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// The side that sent the SYN.
    pub client: SocketAddr,
    pub server: SocketAddr,
}

impl Translation {
    /// The client's address or port differs between the points (source NAT, masquerade).
    pub fn client_translated(&self) -> bool {
        self.a.client != self.b.client
    }
    /// The server's address or port differs between the points (destination NAT, forwarding).
    pub fn server_translated(&self) -> bool {
        self.a.server != self.b.server
    }
}

impl Serialize for Translation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use crate::model::notation::Sock;
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Translation", 6)?;
        st.serialize_field("a_client", &Sock(self.a.client))?;
        st.serialize_field("a_server", &Sock(self.a.server))?;
        st.serialize_field("b_client", &Sock(self.b.client))?;
        st.serialize_field("b_server", &Sock(self.b.server))?;
        st.serialize_field("client_translated", &self.client_translated())?;
        st.serialize_field("server_translated", &self.server_translated())?;
        st.end()
    }
}

/// One negotiation as each point saw it.
#[derive(Debug, Clone, Serialize)]
pub struct NegotiationPair {
    pub command: NegotiationCommand,
    /// The frame showing what was advertised (the reply in passive mode, the command in
    /// active mode), in each capture.
    pub a_frame: u64,
    pub b_frame: u64,
    #[serde(serialize_with = "crate::model::notation::socket_opt")]
    pub a_advertised: Option<SocketAddr>,
    #[serde(serialize_with = "crate::model::notation::socket_opt")]
    pub b_advertised: Option<SocketAddr>,
    /// The advertised endpoint differs between the points: a helper (ALG) on the device between
    /// rewrote the PORT/EPRT/227 in transit. For EPSV, which carries a port only, the port.
    pub rewritten: bool,
    pub data: DataCrossing,
}

/// What became of one data connection between the points.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "crossing", rename_all = "snake_case")]
pub enum DataCrossing {
    /// Seen at both points: the device between let it through.
    Crossed {
        a: Box<Connection>,
        b: Box<Connection>,
        /// Both points saw the same initial sequence number (None when one did not see the SYN).
        same_isn: Option<bool>,
    },
    /// Seen at one point only: the device between dropped it or never forwarded it.
    Vanished {
        seen_at: Point,
        missing_at: Point,
        connection: Box<Connection>,
        /// The negotiation's outcome where the connection is missing (`not_attempted` there:
        /// nothing arrived); None for a probable data channel under TLS.
        outcome_where_missing: Option<Outcome>,
    },
    /// Neither point saw a data connection for it.
    NotSeen,
}

/// A session seen at one point only.
#[derive(Debug, Clone, Serialize)]
pub struct LoneSession {
    pub id: u32,
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub client: SocketAddr,
    #[serde(serialize_with = "crate::model::notation::socket")]
    pub server: SocketAddr,
    pub first_frame: u64,
    pub start_time: Timestamp,
    pub user: Option<String>,
    /// A session of the same capture with the same sequence numbers, which is paired: this
    /// capture holds both sides of a device (`tcpdump -i any` on a router), and this is the
    /// other copy of that connection.
    pub copy_of: Option<u32>,
}

fn seconds<S: Serializer>(ns: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ns {
        Some(ns) => s.serialize_f64(*ns as f64 / 1e9),
        None => s.serialize_none(),
    }
}
