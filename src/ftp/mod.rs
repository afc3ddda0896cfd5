//! FTP control channel: splitting bytes into lines, parsing commands and replies, and the
//! negotiation arguments (PORT, EPRT, LPRT, 227, 228, 229). Pure functions over bytes.

pub mod detect;
pub mod lines;
pub mod parse;
pub mod reply;
