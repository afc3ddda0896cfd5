//! TCP: connection facts in a bounded flow table, and per-direction stream reassembly for
//! control channels.

pub mod flow;
pub mod reassembly;
pub mod seq;
