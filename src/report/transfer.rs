//! A transfer's record in one line of words, as the text report, the terminal UI and explain's
//! story show it: "download big.iso in /pub, TYPE I, 1000 of 4096 bytes announced, 0.50 s,
//! 2.0 kB/s: partial (the data connection closed short)". The path and directory are printed as
//! read (control characters already escaped by the ftp layer).
//!
//! Owns those words. Must not judge completeness (model::transfer_record does).

use crate::model::transfer_record::{Completeness, Partial, TransferRecord};
use std::fmt::{self, Display, Formatter};

/// The record's line.
pub struct RecordLine<'a>(pub &'a TransferRecord);

impl Display for RecordLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let r = self.0;
        f.write_str(r.direction.map_or("transfer", |d| d.as_str()))?;
        if let Some(path) = &r.path {
            write!(f, " {path}")?;
        }
        if let Some(cwd) = &r.cwd {
            write!(f, " in {cwd}")?;
        }
        write!(f, ", TYPE {}", r.data_type.letter())?;
        if r.mode != 'S' {
            write!(f, ", MODE {}", r.mode)?;
        }
        if r.stru != 'F' {
            write!(f, ", STRU {}", r.stru)?;
        }
        if let Some(offset) = r.rest_offset {
            write!(f, ", resumed at {offset}")?;
        }
        // Without its data connection, "0 bytes" would read as an empty file: say what is missing.
        if r.last_frame.is_none() && r.bytes == 0 {
            f.write_str(", its data connection not in this capture")?;
            if let Some(size) = r.announced_size {
                write!(f, " ({size} bytes announced)")?;
            }
        } else {
            write!(f, ", {} bytes", r.bytes)?;
            match (r.announced_size, r.rest_offset) {
                (Some(size), Some(_)) if r.expected() != Some(size) => {
                    write!(f, " of {} expected ({size} announced, less the offset)", r.expected().unwrap_or(size))?
                }
                (Some(size), _) => write!(f, " of {size} announced")?,
                (None, _) => {}
            }
        }
        if r.missing_bytes > 0 {
            write!(f, " ({} not captured)", r.missing_bytes)?;
        }
        if let Some(d) = r.duration {
            write!(f, ", {d:.2} s")?;
        }
        if let Some(rate) = r.rate {
            write!(f, ", {}/s", Size(rate))?;
        }
        write!(f, ": {}", r.completeness.as_str())?;
        if let Some(why) = r.completeness.partial() {
            write!(f, " ({})", partial_words(why))?;
        }
        Ok(())
    }
}

/// Why a transfer is partial, in a few words.
pub fn partial_words(why: Partial) -> &'static str {
    match why {
        Partial::ClosedShort => "the data connection closed short of the size announced",
        Partial::ServerEnded => "the server ended it",
        Partial::Aborted => "aborted by the client",
        Partial::Gap => "bytes of the data stream are not in the capture",
        Partial::CaptureEnded => "the capture ended while it ran",
    }
}

/// A transfer is worth a line when something crossed or might have: a refused one adds nothing
/// to its verdict.
pub fn worth_a_line(r: &TransferRecord) -> bool {
    r.completeness != Completeness::Nothing
}

/// Bytes (or bytes per second) in decimal units: "512 B", "2.0 kB", "1.5 MB".
struct Size(f64);

impl Display for Size {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let units = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
        match units.iter().find(|(_, scale)| self.0 >= *scale) {
            Some((unit, scale)) => write!(f, "{:.1} {unit}", self.0 / scale),
            None => write!(f, "{:.0} B", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::transfer_record::{Asked, Carried, DataType, Direction, Ending, SizeFrom};
    use crate::model::{Timestamp, Verdict};

    #[test]
    fn a_record_reads_as_one_line() {
        let asked = Asked {
            direction: Some(Direction::Download),
            path: Some("big\\x07.iso".into()),
            cwd: Some("/pub".into()),
            data_type: DataType::Image,
            rest: Some(1000),
            announced: Some((4096, SizeFrom::Preliminary)),
            ..Asked::default()
        };
        let carried =
            Carried { seen: true, bytes: 2000, closed: true, first: Timestamp(0), last: Timestamp(1_000_000_000), ..Carried::default() };
        let ended = Ending { verdict: Some(Verdict::Ok), reply_code: Some(226), aborted: false, capture_ended: false };
        let r = TransferRecord::new(asked, &carried, &ended);
        assert_eq!(
            RecordLine(&r).to_string(),
            "download big\\x07.iso in /pub, TYPE I, resumed at 1000, 2000 bytes of 3096 expected (4096 announced, less the offset), \
             1.00 s, 2.0 kB/s: partial (the data connection closed short of the size announced)"
        );
        let listing = TransferRecord::new(
            Asked { direction: Some(Direction::Listing), ..Asked::default() },
            &Carried { seen: true, bytes: 300, closed: true, ..Carried::default() },
            &ended,
        );
        assert_eq!(RecordLine(&listing).to_string(), "listing, TYPE A, 300 bytes, 0.00 s: complete");
    }
}
