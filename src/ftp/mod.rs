//! FTP control channel: splitting bytes into lines, parsing commands and replies and the
//! negotiation arguments (PORT, EPRT, LPRT, 227, 228, 229), recognising FTP by content, and
//! one session's protocol state.

// Packet data and capture time reach every module below: no arithmetic that can overflow, no
// index that can panic (issue 20). An `allow` is narrow and says why its value stays small.
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

/// Port of implicit FTPS: TLS from the first byte (RFC 4217 section 2.1 leaves it out; servers
/// still offer it). Nothing on it can be read, here or by a NAT helper.
pub const IMPLICIT_FTPS_PORT: u16 = 990;

pub mod channel;
pub mod detect;
pub mod in_force;
pub mod lines;
pub mod listing;
pub mod parse;
pub mod probe;
pub mod reply;
pub mod session;

/// Which way a transfer command moves its data: an upload (STOR, STOU, APPE: the client sends)
/// or not (RETR, LIST, NLST, MLSD: the server sends); None for anything else. `command` is
/// the command as sent ("STOR up.bin").
pub fn is_upload(command: &str) -> Option<bool> {
    use crate::model::transfer_record::Direction;
    // The transfer verbs are the record's (one list): an upload is STOR, STOU or APPE.
    let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
    Direction::of_verb(&verb).map(|d| d == Direction::Upload)
}
