//! FTP control channel: splitting bytes into lines, parsing commands and replies and the
//! negotiation arguments (PORT, EPRT, LPRT, 227, 228, 229), recognising FTP by content, and
//! one session's protocol state.

pub mod channel;
pub mod detect;
pub mod lines;
pub mod parse;
pub mod probe;
pub mod reply;
pub mod session;
