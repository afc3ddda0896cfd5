//! The output flags every command that prints a report takes (`analyze`, `live`, `explain`):
//! the format (`--json`, `--ndjson`), `--quiet`, the colour. Declared once and flattened into
//! each command, so that the three accept the same words with the same meaning; what a command
//! does not print (explain's document is not analyze's) it says in its own help.

use crate::color_args::ColorArgs;
use clap::Args;

#[derive(Args, Debug, Clone, Copy, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print one JSON document (docs/schema.md: analyze and live ftpscope/3, explain
    /// ftpscope-explain/1).
    #[arg(long, conflicts_with = "ndjson")]
    pub json: bool,
    /// Print one JSON object per event, per line, as it becomes known (docs/schema.md).
    #[arg(long)]
    pub ndjson: bool,
    /// No progress bar, status line or "listening on" line on standard error (errors and
    /// warnings are still said).
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub color: ColorArgs,
}

/// The control channel as a log (`analyze` and `live`): `-v` in the text, `--commands` in the
/// NDJSON events.
#[derive(Args, Debug, Clone, Copy, Default)]
#[command(next_help_heading = "Output")]
pub struct CommandLogArgs {
    /// With --ndjson: a `command` event per command and its reply (PASS and ACCT masked).
    #[arg(long, requires = "ndjson")]
    pub commands: bool,
    /// The text report with the command log: a line per command and its reply (passwords
    /// masked).
    #[arg(long, short, conflicts_with_all = ["json", "ndjson"])]
    pub verbose: bool,
}
