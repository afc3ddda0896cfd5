//! What one transfer moved (issue 22, item 1): which way, the path as the command named it, the
//! directory it was in, the representation in force (TYPE, MODE, STRU), a resume offset, the size
//! the server announced, the bytes the data connection carried, and whether that is the whole of
//! it. The control channel fills the first half (ftp::session), the data connection the counts
//! (correlate), and [`Completeness::of`] judges the whole once the session settled.
//!
//! Owns the rule from those values to completeness. Must not word it (problems/ and report/ do)
//! nor decide a finding (diagnose does). Hashes of what crossed belong here too when they are
//! computed (`sha256`, `md5`, why one is absent): fields of [`TransferRecord`], filled elsewhere.

use super::text_sample::{NotText, TextSample};
use super::{Timestamp, Verdict};
use serde::Serialize;

/// Which way the file went, by the transfer command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// RETR: from the server to the client.
    Download,
    /// STOR, STOU, APPE: from the client to the server.
    Upload,
    /// LIST, NLST, MLSD: a directory listing from the server.
    Listing,
}

impl Direction {
    /// The direction of a transfer verb (upper case), if it is one.
    pub fn of_verb(verb: &str) -> Option<Direction> {
        Some(match verb {
            "RETR" => Direction::Download,
            "STOR" | "STOU" | "APPE" => Direction::Upload,
            "LIST" | "NLST" | "MLSD" => Direction::Listing,
            _ => return None,
        })
    }

    /// The file's bytes go from the FTP server to the client.
    pub fn from_server(self) -> bool {
        self != Direction::Upload
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Download => "download",
            Direction::Upload => "upload",
            Direction::Listing => "listing",
        }
    }
}

/// The representation type in force (RFC 959 3.1.1): ASCII until a 200 accepts another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum DataType {
    #[default]
    #[serde(rename = "A")]
    Ascii,
    #[serde(rename = "I")]
    Image,
    #[serde(rename = "E")]
    Ebcdic,
    #[serde(rename = "L")]
    Local,
}

impl DataType {
    /// The type a TYPE argument names ("A", "A N", "I", "L 8"), if any.
    pub fn parse(arg: &[u8]) -> Option<DataType> {
        Some(match arg.first()?.to_ascii_uppercase() {
            b'A' => DataType::Ascii,
            b'I' => DataType::Image,
            b'E' => DataType::Ebcdic,
            b'L' => DataType::Local,
            _ => return None,
        })
    }

    pub fn letter(self) -> char {
        match self {
            DataType::Ascii => 'A',
            DataType::Image => 'I',
            DataType::Ebcdic => 'E',
            DataType::Local => 'L',
        }
    }
}

/// Where the announced size was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeFrom {
    /// The transfer's 150 reply: "(12345 bytes)".
    Preliminary,
    /// A 213 reply to SIZE of the same path before the transfer.
    SizeReply,
}

/// The transfer as the control channel told it, before the data connection is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    pub direction: Option<Direction>,
    /// The command's argument as sent, printable (control characters escaped), bounded.
    pub path: Option<String>,
    /// The working directory, where the control channel showed it; None otherwise.
    pub cwd: Option<String>,
    pub data_type: DataType,
    /// MODE and STRU in force: 'S' and 'F' until a 200 accepts another.
    pub mode: char,
    pub stru: char,
    /// The REST offset a 350 accepted just before the transfer command.
    pub rest: Option<u64>,
    pub announced: Option<(u64, SizeFrom)>,
    /// After REST the server's 150 reply announces what remains (ProFTPD, seen in the lab), not
    /// the whole file (vsftpd): set from the server's software when the transfer is judged.
    pub announces_rest: bool,
}

impl Asked {
    /// The bytes the data connection should carry: the announced size, less the REST offset
    /// where the size is the whole file's (a SIZE reply always is; a 150 reply is unless the
    /// server announces the rest).
    pub fn expected(&self) -> Option<u64> {
        self.announced.map(|(size, from)| match from {
            SizeFrom::Preliminary if self.announces_rest => size,
            _ => size.saturating_sub(self.rest.unwrap_or(0)),
        })
    }
}

impl Default for Asked {
    /// RFC 959's defaults: TYPE A, MODE S, STRU F; nothing else known.
    fn default() -> Asked {
        Asked {
            direction: None,
            path: None,
            cwd: None,
            data_type: DataType::Ascii,
            mode: 'S',
            stru: 'F',
            rest: None,
            announced: None,
            announces_rest: false,
        }
    }
}

/// One transfer's record. The JSON field names are the schema (docs/schema.md); serialised by
/// hand (below), as the derive would with `completeness` flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferRecord {
    /// None when only the server's side is captured: its replies do not name the command.
    pub direction: Option<Direction>,
    pub path: Option<String>,
    pub cwd: Option<String>,
    pub data_type: DataType,
    /// MODE and STRU: `transfer_mode` and `structure` in JSON (the negotiation's `mode` is
    /// active or passive).
    pub mode: char,
    pub stru: char,
    pub rest_offset: Option<u64>,
    pub announced_size: Option<u64>,
    pub announced_by: Option<SizeFrom>,
    /// Payload bytes the data connection carried the file's way (both ways when the direction
    /// is not known), holes included: they were sent.
    pub bytes: u64,
    /// Bytes of that direction the capture did not hold (holes in the sequence space seen).
    pub missing_bytes: u64,
    /// Seconds from the data connection's first to its last packet.
    pub duration: Option<f64>,
    /// Bytes per second over that duration.
    pub rate: Option<f64>,
    pub completeness: Completeness,
    /// The bytes expected ([`Asked::expected`]): the schema has the facts it comes from.
    pub expected: Option<u64>,
    /// The data connection's last frame, where the bytes stopped.
    pub last_frame: Option<u64>,
    /// A TYPE A transfer's first bytes ([`TextSample`]), and why they are not text if they are
    /// not; absent for other types and without a data connection.
    pub ascii_sample: Option<TextSample>,
    pub not_text: Option<NotText>,
}

/// The JSON a `#[derive(Serialize)]` with `completeness` flattened writes (`type`, `transfer_mode`
/// and `structure` for `data_type`, `mode` and `stru`; `expected` left out; `ascii_sample` and
/// `not_text` only when known), but as a struct: flattening makes the derive write a map, every
/// key through the map's key path, which cost the JSON writer a tenth more per transfer.
impl Serialize for TransferRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("TransferRecord", 19)?;
        self.serialize_fields(&mut st)?;
        st.end()
    }
}

impl TransferRecord {
    /// Its fields, into a struct being written: its own object, or an NDJSON `transfer` line
    /// that carries them beside the event's.
    pub fn serialize_fields<S: serde::ser::SerializeStruct>(&self, st: &mut S) -> Result<(), S::Error> {
        st.serialize_field("direction", &self.direction)?;
        st.serialize_field("path", &self.path)?;
        st.serialize_field("cwd", &self.cwd)?;
        st.serialize_field("type", &self.data_type)?;
        st.serialize_field("transfer_mode", &self.mode)?;
        st.serialize_field("structure", &self.stru)?;
        st.serialize_field("rest_offset", &self.rest_offset)?;
        st.serialize_field("announced_size", &self.announced_size)?;
        st.serialize_field("announced_by", &self.announced_by)?;
        st.serialize_field("bytes", &self.bytes)?;
        st.serialize_field("missing_bytes", &self.missing_bytes)?;
        st.serialize_field("duration", &self.duration)?;
        st.serialize_field("rate", &self.rate)?;
        // Completeness, adjacently tagged: its name, and what cut it when partial.
        st.serialize_field("completeness", self.completeness.name())?;
        if let Completeness::Partial(why) = &self.completeness {
            st.serialize_field("partial", why)?;
        }
        st.serialize_field("last_frame", &self.last_frame)?;
        if let Some(sample) = &self.ascii_sample {
            st.serialize_field("ascii_sample", sample)?;
        }
        if let Some(not_text) = &self.not_text {
            st.serialize_field("not_text", not_text)?;
        }
        Ok(())
    }
}

/// Whether the whole file (or listing) crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "completeness", content = "partial", rename_all = "snake_case")]
pub enum Completeness {
    Complete,
    Partial(Partial),
    /// The capture does not tell: no data connection seen, no size to compare with and no
    /// final reply.
    Unknown,
    /// No byte crossed: the transfer was refused or never had a data connection (the verdict
    /// says why).
    Nothing,
}

/// Why a transfer is partial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Partial {
    /// The data connection closed before the announced size (less the REST offset).
    ClosedShort,
    /// The server ended it (426, 451, 552) without the client's ABOR.
    ServerEnded,
    /// The client's ABOR.
    Aborted,
    /// The capture missed bytes of the data stream (a gap in its sequence space).
    Gap,
    /// The capture ended while it ran.
    CaptureEnded,
}

impl Partial {
    pub fn as_str(self) -> &'static str {
        match self {
            Partial::ClosedShort => "closed_short",
            Partial::ServerEnded => "server_ended",
            Partial::Aborted => "aborted",
            Partial::Gap => "gap",
            Partial::CaptureEnded => "capture_ended",
        }
    }
}

/// What the data connection showed of one transfer, in the file's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Carried {
    /// A data connection carried it (at this capture point).
    pub seen: bool,
    pub bytes: u64,
    pub missing: u64,
    /// It closed (FIN or RST) before the capture ended.
    pub closed: bool,
    pub first: Timestamp,
    pub last: Timestamp,
    pub last_frame: u64,
    /// Its first bytes as text, for a TYPE A transfer.
    pub text: Option<TextSample>,
}

/// The facts completeness is judged from, beyond what crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    pub verdict: Option<Verdict>,
    /// The transfer's final reply code.
    pub reply_code: Option<u16>,
    pub aborted: bool,
    /// The capture ended with the control connection open.
    pub capture_ended: bool,
}

impl Completeness {
    /// Its name in JSON (`completeness`).
    pub fn name(&self) -> &'static str {
        match self {
            Completeness::Complete => "complete",
            Completeness::Partial(_) => "partial",
            Completeness::Unknown => "unknown",
            Completeness::Nothing => "nothing",
        }
    }

    /// The rule. A resumed download is expected to carry the rest of the file ([`Asked::expected`]):
    /// never called short for the bytes before its offset. An ABOR the server acted on only after
    /// its 226 and the whole announced size (vsftpd without async_abor_enable sends the file, then
    /// "225 No transfer to ABOR": seen in the lab) cut nothing: the transfer is complete.
    pub fn of(asked: &Asked, carried: &Carried, end: &Ending) -> Completeness {
        let expected = asked.expected();
        let reached = expected.is_some_and(|e| carried.bytes >= e);
        if end.aborted && !(end.verdict == Some(Verdict::Ok) && reached) {
            return Completeness::Partial(Partial::Aborted);
        }
        // A 451 before any byte is a refusal (the verdict tells it), not a transfer cut short.
        if matches!(end.verdict, Some(Verdict::Failed(_))) && carried.bytes == 0 {
            return Completeness::Nothing;
        }
        if matches!(end.reply_code, Some(426 | 451 | 552)) {
            return Completeness::Partial(Partial::ServerEnded);
        }
        if !carried.seen {
            // The server said it completed: a data connection this point does not see did.
            return Completeness::Unknown;
        }
        if carried.missing > 0 {
            return Completeness::Partial(Partial::Gap);
        }
        let short = expected.is_some_and(|e| carried.bytes < e);
        match end.verdict {
            _ if short && carried.closed => Completeness::Partial(Partial::ClosedShort),
            _ if short && end.capture_ended => Completeness::Partial(Partial::CaptureEnded),
            Some(Verdict::Ok) => Completeness::Complete,
            _ if reached && carried.closed => Completeness::Complete,
            _ if end.capture_ended => Completeness::Partial(Partial::CaptureEnded),
            _ => Completeness::Unknown,
        }
    }

    pub fn partial(self) -> Option<Partial> {
        match self {
            Completeness::Partial(why) => Some(why),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Completeness::Complete => "complete",
            Completeness::Partial(_) => "partial",
            Completeness::Unknown => "unknown",
            Completeness::Nothing => "nothing",
        }
    }
}

impl TransferRecord {
    /// The record of a settled transfer.
    pub fn new(asked: Asked, carried: &Carried, end: &Ending) -> TransferRecord {
        let completeness = Completeness::of(&asked, carried, end);
        let expected = asked.expected();
        let ns = carried.seen.then(|| carried.last.since(carried.first));
        let duration = ns.map(|ns| ns as f64 / 1e9);
        let rate = duration.filter(|&d| d > 0.0 && carried.bytes > 0).map(|d| carried.bytes as f64 / d);
        TransferRecord {
            direction: asked.direction,
            path: asked.path,
            cwd: asked.cwd,
            data_type: asked.data_type,
            mode: asked.mode,
            stru: asked.stru,
            rest_offset: asked.rest,
            announced_size: asked.announced.map(|(n, _)| n),
            announced_by: asked.announced.map(|(_, by)| by),
            bytes: carried.bytes,
            missing_bytes: carried.missing,
            duration,
            rate,
            completeness,
            expected,
            last_frame: carried.seen.then_some(carried.last_frame),
            ascii_sample: carried.text.filter(|_| asked.data_type == DataType::Ascii),
            not_text: carried.text.filter(|_| asked.data_type == DataType::Ascii).and_then(|t| t.not_text()),
        }
    }

    /// The bytes expected: the announced size, less the resume offset unless it announced the rest.
    pub fn expected(&self) -> Option<u64> {
        self.expected
    }
}

/// The size a 150 reply announces, in its usual forms: "(12345 bytes)" (vsftpd, ProFTPD,
/// IIS), "(12345 Bytes)", "12345 bytes" at the end. None without one, or where the number is
/// not the end of the text ("300 bytes to download" may be a part of the file).
pub fn announced_in(text: &str) -> Option<u64> {
    // The last " bytes" in any case, found without a lower-cased copy of the text (every
    // transfer's 150 is read).
    let at = memchr::memrchr_iter(b' ', text.as_bytes()).find(|&space| {
        text.as_bytes().get(space.saturating_add(1)..space.saturating_add(6)).is_some_and(|w| w.eq_ignore_ascii_case(b"bytes"))
    })?;
    let after = text.get(at.saturating_add(6)..)?;
    if !matches!(after.trim_end(), "" | "." | ")" | ").") {
        return None;
    }
    let before = text.get(..at)?;
    let digits: &str = before.trim_end().rsplit(|c: char| !c.is_ascii_digit()).next()?;
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok()
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::Failure;

    fn asked(announced: Option<u64>, rest: Option<u64>) -> Asked {
        Asked {
            direction: Some(Direction::Download),
            path: Some("f.bin".into()),
            rest,
            announced: announced.map(|n| (n, SizeFrom::Preliminary)),
            ..Asked::default()
        }
    }

    fn carried(bytes: u64, closed: bool) -> Carried {
        Carried { seen: true, bytes, closed, ..Carried::default() }
    }

    fn ending(verdict: Option<Verdict>, code: Option<u16>) -> Ending {
        Ending { verdict, reply_code: code, aborted: false, capture_ended: false }
    }

    #[test]
    fn the_150_reply_announces_the_size_in_its_usual_forms() {
        assert_eq!(announced_in("Opening BINARY mode data connection for big.iso (1048576 bytes)."), Some(1_048_576));
        assert_eq!(announced_in("Opening ASCII mode data connection for a.txt (12 Bytes)"), Some(12));
        assert_eq!(announced_in("Accepted data connection, 300 bytes to download"), None, "not the end of the text");
        assert_eq!(announced_in("Opening BINARY mode data connection for x 42 bytes"), Some(42));
        assert_eq!(announced_in("Here comes the directory listing."), None);
        assert_eq!(announced_in("Opening data connection (bytes)"), None);
    }

    #[test]
    fn a_transfer_is_complete_when_the_server_says_so_and_the_size_is_reached() {
        let ok = ending(Some(Verdict::Ok), Some(226));
        assert_eq!(Completeness::of(&asked(Some(100), None), &carried(100, true), &ok), Completeness::Complete);
        assert_eq!(Completeness::of(&asked(None, None), &carried(7, true), &ok), Completeness::Complete);
        // 226 and fewer bytes than announced: the download is a few KB short.
        assert_eq!(Completeness::of(&asked(Some(100), None), &carried(90, true), &ok), Completeness::Partial(Partial::ClosedShort));
    }

    #[test]
    fn a_resumed_download_is_expected_to_carry_the_rest_only() {
        let ok = ending(Some(Verdict::Ok), Some(226));
        assert_eq!(Completeness::of(&asked(Some(100), Some(60)), &carried(40, true), &ok), Completeness::Complete);
        assert_eq!(Completeness::of(&asked(Some(100), Some(60)), &carried(30, true), &ok), Completeness::Partial(Partial::ClosedShort));
        // A server announcing the remaining 40 bytes only: expected 0, never short.
        assert_eq!(Completeness::of(&asked(Some(40), Some(60)), &carried(40, true), &ok), Completeness::Complete);
    }

    #[test]
    fn proftpd_announces_the_rest_after_rest_so_that_is_what_must_arrive() {
        // The lab: "150 ... (648576 bytes)" after REST 400000 of a 1048576-byte file.
        let rest = Asked { announces_rest: true, ..asked(Some(648_576), Some(400_000)) };
        assert_eq!(rest.expected(), Some(648_576));
        let ok = ending(Some(Verdict::Ok), Some(226));
        assert_eq!(Completeness::of(&rest, &carried(648_576, true), &ok), Completeness::Complete);
        assert_eq!(Completeness::of(&rest, &carried(300_000, true), &ok), Completeness::Partial(Partial::ClosedShort));
        // A SIZE reply is the whole file's, whoever answers it.
        let sized = Asked { announced: Some((1_048_576, SizeFrom::SizeReply)), ..rest };
        assert_eq!(sized.expected(), Some(648_576));
    }

    #[test]
    fn an_abor_the_server_answered_after_its_226_cut_nothing() {
        // The lab: vsftpd sent the whole file, 226, then "225 No transfer to ABOR".
        let late = Ending { aborted: true, ..ending(Some(Verdict::Ok), Some(226)) };
        let a = asked(Some(100), None);
        assert_eq!(Completeness::of(&a, &carried(100, true), &late), Completeness::Complete);
        // Short of it, the client's ABOR is the why (its own doing: no transfer_incomplete).
        assert_eq!(Completeness::of(&a, &carried(60, true), &late), Completeness::Partial(Partial::Aborted));
        assert_eq!(Completeness::of(&asked(None, None), &carried(100, true), &late), Completeness::Partial(Partial::Aborted));
    }

    #[test]
    fn each_way_of_stopping_short_has_its_reason() {
        let a = asked(Some(100), None);
        let aborted = Ending { aborted: true, ..ending(Some(Verdict::Failed(Failure::Aborted)), Some(426)) };
        assert_eq!(Completeness::of(&a, &carried(50, true), &aborted), Completeness::Partial(Partial::Aborted));
        let broke = ending(Some(Verdict::Failed(Failure::Refused)), Some(426));
        assert_eq!(Completeness::of(&a, &carried(50, true), &broke), Completeness::Partial(Partial::ServerEnded));
        let gap = Carried { missing: 10, ..carried(100, true) };
        assert_eq!(Completeness::of(&a, &gap, &ending(Some(Verdict::Ok), Some(226))), Completeness::Partial(Partial::Gap));
        let cut = Ending { capture_ended: true, ..ending(Some(Verdict::Unknown), None) };
        assert_eq!(Completeness::of(&a, &carried(50, false), &cut), Completeness::Partial(Partial::CaptureEnded));
        let silent = ending(Some(Verdict::Failed(Failure::NoReply)), None);
        assert_eq!(Completeness::of(&a, &carried(50, true), &silent), Completeness::Partial(Partial::ClosedShort));
        assert_eq!(Completeness::of(&a, &carried(100, true), &silent), Completeness::Complete);
    }

    #[test]
    fn without_a_data_connection_nothing_crossed_or_the_capture_does_not_tell() {
        let none = Carried::default();
        let refused = ending(Some(Verdict::Failed(Failure::Refused)), Some(550));
        assert_eq!(Completeness::of(&asked(None, None), &none, &refused), Completeness::Nothing);
        let elsewhere = ending(Some(Verdict::Ok), Some(226));
        assert_eq!(Completeness::of(&asked(None, None), &none, &elsewhere), Completeness::Unknown);
        // vsftpd lets the data connection open, then refuses the file: nothing crossed.
        assert_eq!(Completeness::of(&asked(None, None), &carried(0, true), &refused), Completeness::Nothing);
        let at_once = ending(Some(Verdict::Failed(Failure::Refused)), Some(451));
        assert_eq!(Completeness::of(&asked(None, None), &none, &at_once), Completeness::Nothing, "refused, not cut");
    }

    #[test]
    fn the_record_serialises_with_its_completeness_flat() {
        let r = TransferRecord::new(asked(Some(100), None), &carried(90, true), &ending(Some(Verdict::Ok), Some(226)));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!((v["completeness"].as_str(), v["partial"].as_str()), (Some("partial"), Some("closed_short")));
        assert_eq!((v["type"].as_str(), v["transfer_mode"].as_str(), v["direction"].as_str()), (Some("A"), Some("S"), Some("download")));
        let ok = TransferRecord::new(asked(None, None), &carried(1, true), &ending(Some(Verdict::Ok), Some(226)));
        let v = serde_json::to_value(&ok).unwrap();
        assert_eq!((v["completeness"].as_str(), v.get("partial")), (Some("complete"), None));
    }
}
