//! The colour flag every command takes (`--no-color`, and `NO_COLOR` in the environment): one
//! definition, so that `analyze`, `explain` and `live` accept the same words.

use clap::Args;
use std::io::{self, IsTerminal};

#[derive(Args, Debug, Clone, Copy, Default)]
pub struct ColorArgs {
    /// No colour, even on a terminal (NO_COLOR in the environment does the same).
    #[arg(long)]
    pub no_color: bool,
}

impl ColorArgs {
    /// Colour allowed: neither the flag nor NO_COLOR (https://no-color.org) says no.
    pub fn allowed(self) -> bool {
        !self.no_color && std::env::var_os("NO_COLOR").is_none()
    }

    /// Colour in what goes to standard output: allowed, and a terminal reads it (a file or a
    /// pipe gets no escape codes).
    pub fn on_stdout(self) -> bool {
        self.allowed() && io::stdout().is_terminal()
    }
}
