//! `ftpscope explain A B`: two captures of the same traffic taken at two points (inside and
//! outside a NAT router, the client's side and the server's). Each is analysed on its own, then
//! their sessions are paired ([`correlate::points`]); explain reports the pairing.
//!
//! Owns reading both files for the comparison. The pairing itself is deterministic and lives in
//! `correlate::points`.

use crate::analyzer::{Analyzer, Settings};
use crate::capture::file::{read_path, CaptureError};
use crate::correlate;
use crate::model::{Event, Session};
use crate::report::points::{Compared, PointInput};
use crate::report::InputSummary;
use std::path::Path;

/// Analyses two captures of the same traffic, each on a thread of its own (two files, two
/// cores), and pairs their sessions.
pub fn compare(a: &Path, b: &Path) -> Result<Compared, CaptureError> {
    let (read_a, read_b) = std::thread::scope(|scope| {
        let other = scope.spawn(|| settled_sessions(b));
        (settled_sessions(a), other.join().expect("the thread reading the second capture"))
    });
    let ((a_sessions, a_input), (b_sessions, b_input)) = (read_a?, read_b?);
    let crossing = correlate::points::pair(&a_sessions, &b_sessions);
    let a = PointInput { input: a_input, sessions: a_sessions.len() };
    let b = PointInput { input: b_input, sessions: b_sessions.len() };
    Ok(Compared { a, b, crossing })
}

/// Every session of one capture, settled, with what was read of it (frames numbered from 1,
/// as Wireshark numbers that file).
pub fn settled_sessions(path: &Path) -> Result<(Vec<Session>, InputSummary), CaptureError> {
    let mut analyzer = Analyzer::new(Settings { negotiation_events: false, ..Settings::default() });
    let mut sessions = Vec::new();
    let mut keep = |analyzer: &mut Analyzer| {
        while let Some(event) = analyzer.poll_event() {
            if let Event::SessionEnd { mut record, .. } = event {
                // Pairing reads neither, and they are much of a record's memory: every
                // session of both captures is held until the pairing.
                record.findings = Vec::new();
                record.anomalies = Vec::new();
                sessions.push(*record);
            }
        }
    };
    let read = read_path(path, 1, &mut |frame| {
        analyzer.feed(frame);
        keep(&mut analyzer);
    })?;
    analyzer.finish();
    keep(&mut analyzer);
    let input =
        InputSummary { path: path.display().to_string(), first_frame: 1, frames: read.frames, truncated: read.truncated, live: None };
    Ok((sessions, input))
}
