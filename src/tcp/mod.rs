//! TCP: per-direction stream reassembly for control channels.

pub mod reassembly;
