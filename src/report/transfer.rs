//! A transfer's record in one line of words, as the text report, the terminal UI and explain's
//! story show it: "download big.iso in /pub, TYPE I, 1000 of 4096 bytes announced, 0.50 s,
//! 2.0 kB/s: partial (the data connection closed short)". The path and directory are printed as
//! read (control characters already escaped by the ftp layer).
//!
//! Owns those words. Must not judge completeness (model::transfer_record does).

use crate::model::transfer_record::{Completeness, Partial, TransferRecord};
use std::fmt::{self, Display, Formatter, Write};

/// The record's line.
pub struct RecordLine<'a>(pub &'a TransferRecord);

impl Display for RecordLine<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let r = self.0;
        f.write_str(r.direction.map_or("transfer", |d| d.as_str()))?;
        if let Some(path) = &r.path {
            f.write_str(" ")?;
            f.write_str(path)?;
        }
        if let Some(cwd) = &r.cwd {
            f.write_str(" in ")?;
            f.write_str(cwd)?;
        }
        f.write_str(", TYPE ")?;
        f.write_char(r.data_type.letter())?;
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
            f.write_str(", ")?;
            f.write_str(itoa::Buffer::new().format(r.bytes))?;
            f.write_str(" bytes")?;
            match (r.announced_size, r.rest_offset) {
                (Some(size), Some(_)) if r.expected() != Some(size) => {
                    write!(f, " of {} expected ({size} announced, less the offset)", r.expected().unwrap_or(size))?
                }
                (Some(size), _) => {
                    f.write_str(" of ")?;
                    f.write_str(itoa::Buffer::new().format(size))?;
                    f.write_str(" announced")?;
                }
                (None, _) => {}
            }
        }
        if r.missing_bytes > 0 {
            write!(f, " ({} not captured)", r.missing_bytes)?;
        }
        if let Some(d) = r.duration {
            f.write_str(", ")?;
            fixed(f, d, 2)?;
            f.write_str(" s")?;
        }
        if let Some(rate) = r.rate {
            f.write_str(", ")?;
            Display::fmt(&Size(rate), f)?;
            f.write_str("/s")?;
        }
        f.write_str(": ")?;
        f.write_str(r.completeness.as_str())?;
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
        let (value, decimals, unit) = match units.iter().find(|(_, scale)| self.0 >= *scale) {
            Some((unit, scale)) => (self.0 / scale, 1, *unit),
            None => (self.0, 0, "B"),
        };
        fixed(f, value, decimals)?;
        f.write_str(" ")?;
        f.write_str(unit)
    }
}

/// `value` with `decimals` digits after the point, exactly as `{:.N}` writes it, without the
/// formatting machinery where the rounding is plain: a transfer's line has two such numbers,
/// and std's exact float formatting was most of the line's cost. Where the scaled value lies
/// too close to a half for a double's error to be ruled out (and for huge or odd values), std
/// writes it.
fn fixed(f: &mut Formatter<'_>, value: f64, decimals: u32) -> fmt::Result {
    const SCALES: [f64; 3] = [1.0, 10.0, 100.0];
    let Some(&scale) = SCALES.get(decimals as usize) else { return write!(f, "{value:.*}", decimals as usize) };
    let scaled = value * scale;
    let nearest = scaled.round();
    // The product's error is far below 1e-6 under 1e9; a fraction that far from a half rounds
    // the same way whatever the exact value is.
    let plain =
        value.is_finite() && value.is_sign_positive() && (0.0..1e9).contains(&scaled) && ((scaled - scaled.floor()) - 0.5).abs() > 1e-6;
    if !plain {
        return write!(f, "{value:.*}", decimals as usize);
    }
    // Below 1e9 and whole: it fits a u64 exactly.
    let units = nearest as u64;
    let mut digits = itoa::Buffer::new();
    match decimals {
        0 => f.write_str(digits.format(units)),
        1 => {
            f.write_str(digits.format(units / 10))?;
            f.write_str(".")?;
            f.write_str(digits.format(units % 10))
        }
        _ => {
            f.write_str(digits.format(units / 100))?;
            f.write_str(if units % 100 < 10 { ".0" } else { "." })?;
            f.write_str(digits.format(units % 100))
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

    /// `fixed` writes what `{:.N}` writes: values near a half, tiny, huge, odd, and a spread.
    #[test]
    fn fixed_is_std_formatting() {
        struct Fixed(f64, u32);
        impl Display for Fixed {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                fixed(f, self.0, self.1)
            }
        }
        let mut values = vec![0.0, -0.0, 0.005, 0.015, 0.125, 0.375, 1.005, 2.675, 0.05, 0.25, 0.45, 9.995, 99.95, 1e-9, 5e8, 1e9, 7e12];
        values.extend([f64::NAN, f64::INFINITY, -1.5, 123456.785, 0.994999, 0.995]);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Durations and rates: up to a few thousand, some on exact hundredths and halves.
            let v = (x % 10_000_000) as f64 / [1000.0, 200.0, 8.0, 1e6][(x >> 60) as usize % 4];
            values.push(v);
        }
        for v in values {
            for decimals in 0..=2 {
                assert_eq!(Fixed(v, decimals).to_string(), format!("{v:.*}", decimals as usize), "{v:e} to {decimals}");
            }
        }
    }
}
