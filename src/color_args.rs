//! The colour flag every command takes (`--color auto|always|never`, `--no-color`, and
//! `NO_COLOR` in the environment): one definition, so that `analyze`, `explain` and `live`
//! accept the same words.

use clap::{Args, ValueEnum};
use std::io::{self, IsTerminal};

/// When the output is coloured.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always, into a pipe or a file too (`| less -R`), NO_COLOR or not.
    Always,
    /// Never.
    Never,
}

#[derive(Args, Debug, Clone, Copy, Default)]
pub struct ColorArgs {
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// The same as --color never (kept for the scripts that say it).
    #[arg(long, conflicts_with = "color")]
    pub no_color: bool,
}

impl ColorArgs {
    /// What was asked, the older flag read as the newer one.
    fn when(self) -> ColorWhen {
        if self.no_color {
            ColorWhen::Never
        } else {
            self.color
        }
    }

    /// Colour allowed on a terminal: asked for, or under auto, NO_COLOR (https://no-color.org)
    /// does not say no. An explicit `always` outranks the environment, as no-color.org asks.
    pub fn allowed(self) -> bool {
        match self.when() {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Colour in what goes to standard output: under auto, allowed and a terminal reads it (a
    /// file or a pipe gets no escape codes); `always` colours a pipe too.
    pub fn on_stdout(self) -> bool {
        match self.when() {
            ColorWhen::Auto => self.allowed() && io::stdout().is_terminal(),
            _ => self.allowed(),
        }
    }
}
