//! `ftpscope analyze CAPTURE --tui` with a panic injected into one of its threads: a test build
//! for tests/tui.rs, which shows that the terminal is given back all the same. Examples are not
//! installed, so the released `ftpscope` carries no such hook.
//!
//!   tui_panic (ui | analysis) CAPTURE

use ftpscope::drive::{self, Inputs};
use ftpscope::tui::{self, terminal, Options, Trial};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let trial = match args.first().map(String::as_str) {
        Some("ui") => Trial { drawn: panic_in_ui, ..Trial::NONE },
        Some("analysis") => Trial { read: panic_in_analysis, ..Trial::NONE },
        _ => return drive::fail("usage: tui_panic (ui | analysis) CAPTURE"),
    };
    let inputs = match Inputs::open(&args[1..].iter().map(PathBuf::from).collect::<Vec<_>>()) {
        Ok(inputs) => inputs,
        Err(e) => return drive::fail(e),
    };
    tui::run_with(inputs, Options { report: false, color: true, hash: false }, trial)
}

fn panic_in_ui() {
    panic!("TUI_PANIC_TRIAL in the UI loop: the terminal must be restored");
}

/// Waits until the UI owns the terminal: the point is a panic while it does.
fn panic_in_analysis() {
    let since = Instant::now();
    while !terminal::active() && since.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("TUI_PANIC_TRIAL on the analysis thread: the terminal must be restored");
}
