//! A progress bar on stderr while a capture is read: bytes read, rate and time left for a file
//! of known size; a spinner with bytes and rate for standard input or a pipe.
//!
//! Owns: counting the bytes that pass through a reader ([`ProgressReader`]) and showing them.
//! Must not touch: the analysis, stdout. Deciding whether to show a bar is the caller's: the
//! command shows it when stderr is a terminal and `--quiet` is not given; tests and the library's
//! other users pass `enabled = false` and nothing is ever drawn.
//!
//! Drawing uses `indicatif` (console-rs, widely used and maintained): it redraws at most a few
//! times a second on its own, estimates rate and time left, clears its line when done, and
//! draws nothing when its target is not a terminal, which saves us doing any of that by hand.
//!
//! Intended wiring in `src/main.rs` (not done here; the streaming rewrite of the command owns
//! that file):
//!
//! ```ignore
//! use std::io::IsTerminal;
//! // One bar for all inputs; the total is known when every input is a regular file.
//! let total: Option<u64> = files
//!     .iter()
//!     .map(|p| if p.as_os_str() == "-" { None } else { std::fs::metadata(p).ok().filter(|m| m.is_file()).map(|m| m.len()) })
//!     .sum();
//! let progress = Progress::new(total, std::io::stderr().is_terminal() && !quiet);
//! for path in files {
//!     // Opened as read_path does ("-" is stdin, a directory refused), then read through the bar:
//!     let input = progress.reader(std::fs::File::open(path)?);
//!     capture::read_capture(&name, input, next_frame, &mut |frame| analyzer.feed(frame))?;
//! }
//! progress.finish(); // before the report is printed: the bar's line is gone
//! ```

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Bytes a reader accumulates before it updates the bar, unless [`PUSH_INTERVAL`] passed first:
/// reads of a capture are 1 MiB, a pipe gives 64 KiB; one atomic store per MiB is free.
const PUSH_BYTES: u64 = 1 << 20;
/// Longest time between updates when bytes trickle in (a slow pipe, a live tcpdump -w -).
const PUSH_INTERVAL: Duration = Duration::from_millis(100);
/// Redraws per second at most.
const REFRESH_HZ: u8 = 10;

/// The bar for one run. Cheap to clone into readers (the bar is shared).
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// `total_bytes`: the size of everything that will be read, when known (regular files);
    /// None shows a spinner with bytes and rate. `enabled = false` draws nothing, ever.
    pub fn new(total_bytes: Option<u64>, enabled: bool) -> Progress {
        if !enabled {
            return Progress { bar: ProgressBar::hidden() };
        }
        let target = ProgressDrawTarget::stderr_with_hz(REFRESH_HZ);
        let bar = ProgressBar::with_draw_target(total_bytes, target);
        bar.set_style(style(total_bytes.is_some()));
        // Keeps the spinner and the rate moving while the input stalls.
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// A status line instead of a bar (live capture: no total, no end), showing
    /// [`set_message`](Self::set_message)'s text. `enabled = false` draws nothing, ever.
    pub fn status(enabled: bool) -> Progress {
        if !enabled {
            return Progress { bar: ProgressBar::hidden() };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(REFRESH_HZ));
        bar.set_style(ProgressStyle::with_template("{spinner} {wide_msg}").expect("valid status template"));
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// The status line's text.
    pub fn set_message(&self, message: String) {
        self.bar.set_message(message);
    }

    /// A progress bar that is never drawn (the default for the library's users).
    pub fn hidden() -> Progress {
        Progress::new(None, false)
    }

    /// Wraps a reader: every byte read through it counts.
    pub fn reader<R: Read>(&self, inner: R) -> ProgressReader<R> {
        ProgressReader { inner, bar: self.bar.clone(), read: 0, pending: 0, pushed_at: Instant::now() }
    }

    /// Bytes counted so far by all readers, as far as they have reported them (a reader reports
    /// at least every MiB, at the end of its input and when dropped).
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Removes the bar from the terminal (call before printing the report).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Wraps the report's output: while the bar is drawn, each write clears it first and draws
    /// it again after, so sessions printed as they settle never mix with the bar's line.
    pub fn writer<W: Write>(&self, inner: W) -> SuspendingWriter<W> {
        SuspendingWriter { inner, bar: self.bar.clone() }
    }
}

/// See [`Progress::writer`]. Put a `BufWriter` in front: the bar is suspended once per flush.
pub struct SuspendingWriter<W> {
    inner: W,
    bar: ProgressBar,
}

impl<W: Write> Write for SuspendingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let SuspendingWriter { inner, bar } = self;
        if bar.is_hidden() {
            return inner.write(buf);
        }
        bar.suspend(|| inner.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

const TEMPLATE_TOTAL: &str = "{spinner} reading {bytes}/{total_bytes} [{wide_bar}] {binary_bytes_per_sec}, {eta} left";
const TEMPLATE_UNKNOWN: &str = "{spinner} reading {bytes}, {binary_bytes_per_sec}, {elapsed}";

fn style(total_known: bool) -> ProgressStyle {
    let template = if total_known { TEMPLATE_TOTAL } else { TEMPLATE_UNKNOWN };
    // The templates are constants: a bad one is a programming error, caught by the tests.
    ProgressStyle::with_template(template).expect("valid progress template").progress_chars("=> ")
}

/// A reader that counts the bytes read through it into a [`Progress`].
pub struct ProgressReader<R> {
    inner: R,
    bar: ProgressBar,
    read: u64,
    /// Counted but not yet given to the bar.
    pending: u64,
    pushed_at: Instant,
}

impl<R> ProgressReader<R> {
    /// Bytes read through this reader, exactly.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    fn push(&mut self) {
        if self.pending > 0 {
            self.bar.inc(self.pending);
            self.pending = 0;
        }
        self.pushed_at = Instant::now();
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        self.pending = self.pending.saturating_add(n as u64);
        if n == 0 || self.pending >= PUSH_BYTES || self.pushed_at.elapsed() >= PUSH_INTERVAL {
            self.push();
        }
        Ok(n)
    }
}

impl<R> Drop for ProgressReader<R> {
    fn drop(&mut self) {
        self.push();
    }
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per call, like a pipe.
    struct Chunked<'a>(&'a [u8], usize);

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn counts_every_byte_read_through_it() {
        let data: Vec<u8> = (0..3_000_001u32).map(|i| i as u8).collect();
        let progress = Progress::new(Some(data.len() as u64), false);
        assert!(progress.is_hidden());
        let mut reader = progress.reader(Chunked(&data, 65_536));
        let mut copy = Vec::new();
        reader.read_to_end(&mut copy).unwrap();
        assert_eq!(copy, data, "bytes pass through unchanged");
        assert_eq!(reader.bytes_read(), data.len() as u64);
        // read_to_end saw the end of the input (a read of 0), which reports what was pending.
        assert_eq!(progress.position(), data.len() as u64);
    }

    #[test]
    fn small_reads_are_reported_when_the_reader_is_done() {
        let progress = Progress::hidden();
        let mut reader = progress.reader(&b"0123456789"[..]);
        let mut buf = [0u8; 4];
        assert_eq!(reader.read(&mut buf).unwrap(), 4);
        assert_eq!(reader.bytes_read(), 4);
        assert!(progress.position() <= 4, "reported at most what was read");
        drop(reader);
        assert_eq!(progress.position(), 4, "dropping the reader reports the rest");

        let mut second = progress.reader(&b"abc"[..]);
        second.read_exact(&mut buf[..3]).unwrap();
        assert!(second.get_ref().is_empty());
        drop(second);
        assert_eq!(progress.position(), 7, "readers of one run add up");
        progress.finish();
    }

    #[test]
    fn unknown_total_and_errors_pass_through() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk gone"))
            }
        }
        let progress = Progress::new(None, false);
        let mut reader = progress.reader(Failing);
        assert_eq!(reader.read(&mut [0u8; 8]).unwrap_err().to_string(), "disk gone");
        assert_eq!(reader.bytes_read(), 0);
    }

    #[test]
    fn the_bar_templates_are_valid() {
        // Parsing only: nothing is drawn in tests.
        style(true);
        style(false);
        Progress::status(false).set_message("hidden".into());
    }
}
