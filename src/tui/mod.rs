//! The terminal UI (ratatui + crossterm): FTP sessions, negotiations and failures at a glance,
//! for `ftpscope analyze FILE --tui` and `ftpscope live` on a terminal (`live::ui` wires it).
//!
//! ```text
//! analysis thread: Analyzer --events--> feed::Feeder --(bounded, coalesced, <= 10/s)--> UI thread
//! UI thread:       feed::UiFeed -> store::Store (the sessions, kept) -> app::App (view state)
//!                  -> draw (only visible rows) ; input (keys -> actions) -> app
//! ```
//!
//! The UI consumes the analyzer's events and `stats()`/`open_sessions()` snapshots; it never
//! blocks the analysis. Modules: [`feed`] (the channel), [`store`] (sessions and findings),
//! [`app`] (screens, selection, filter, sort), [`input`] (keys), `draw` (screens), [`terminal`]
//! (modes, signals, panic hook), `run` (the threads of `analyze --tui`).
//!
//! Must not touch: the analysis (it reads what the analyzer publishes, nothing else).

pub mod app;
mod draw;
pub mod feed;
pub mod input;
mod run;
pub mod store;
pub mod terminal;

#[cfg(test)]
mod tests;

pub use draw::draw;
pub(crate) use run::hand_over;
pub use run::{run, run_with, settings, ui_loop, Options, Trial};
