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

/// What crossed the data connections (`analyze` and `live`): hashed with `--hash`, written
/// out with `--extract DIR`.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Transfers")]
pub struct ContentArgs {
    /// Put each data connection's bytes in order and hash them: sha256 and md5 of each
    /// transfer in every output (or why there is none: a gap, not closed, no start).
    #[arg(long)]
    pub hash: bool,
    /// Write each transfer's bytes as carried into a file of its own in DIR (made if missing),
    /// with DIR/manifest.ndjson, one line per file; hashes too. Names are derived from the
    /// capture's, cleaned: nothing is written outside DIR nor over an existing file.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<std::path::PathBuf>,
    /// Most bytes --extract writes in all (suffixes K, M, G); past it, later data is not
    /// written and the summary says so.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, default_value = "4G", requires = "extract")]
    pub extract_max: u64,
}

impl ContentArgs {
    /// The analysis follows data streams.
    pub fn asked(&self) -> bool {
        self.hash || self.extract.is_some()
    }

    /// The sink `--extract` writes through, its directory ready; None without it.
    pub fn sink(&self) -> Result<Option<Box<dyn ftpscope::model::ContentSink>>, String> {
        let Some(dir) = &self.extract else { return Ok(None) };
        match ftpscope::extract::Extractor::new(dir, self.extract_max) {
            Ok(x) => Ok(Some(Box::new(x))),
            Err(e) => Err(format!("--extract: {e}")),
        }
    }
}

/// A size in bytes, with an optional K, M or G (powers of 1024).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("not a size: {text:?}"))?;
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("unknown unit in {text:?} (K, M or G)")),
    };
    n.checked_mul(scale).ok_or_else(|| format!("{text} is too large"))
}
