//! TCP: connection facts in a bounded flow table, and per-direction stream reassembly for
//! control channels.

// Packet data and capture time reach every module below: no arithmetic that can overflow, no
// index that can panic (issue 20). An `allow` is narrow and says why its value stays small.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

pub mod flow;
pub mod reassembly;
pub mod seq;
