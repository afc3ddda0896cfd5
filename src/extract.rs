//! `--extract DIR`: each data stream's bytes, as carried, in a file of its own in DIR, and
//! `DIR/manifest.ndjson`, one line per file. The edge: the analysis hands ordered bytes to
//! [`Extractor`] through [`ContentSink`]; this writes them.
//!
//! Names come from the capture and are chosen by whoever sent the commands: a file's name is
//! derived ([`file_name`]: session and frame first, then a cleaned base name) and holds no
//! path separator, no `..`, no control character, within a bounded length. Every file is
//! created anew (`create_new`: O_CREAT|O_EXCL, which never follows a symlink planted at the
//! name and never overwrites), so nothing is written outside DIR nor over anything in it.
//!
//! Owns: DIR's files, the manifest, the disk allowance (`--extract-max`). Must not touch: the
//! analysis (the bytes arrive in order, gaps said, hashes computed by the core).

use crate::model::transfer_record::{Completeness, TransferRecord};
use crate::model::{ContentSink, Kept, Side, StreamEnd, StreamId};
use serde::Serialize;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// `--extract-max`'s default: 4 GiB of files.
pub const DEFAULT_MAX: u64 = 4 << 30;
/// Longest cleaned base name kept (bytes, ASCII): with the prefix, well under a file system's
/// 255.
const BASE_MAX: usize = 100;
/// Names tried with a counter when one is taken (by an earlier run's file, or a planted one).
const NAME_TRIES: u32 = 100;
/// The manifest's name in DIR.
pub const MANIFEST: &str = "manifest.ndjson";

/// Writes data streams into a directory.
pub struct Extractor {
    dir: PathBuf,
    manifest: io::BufWriter<File>,
    /// Files being written, by stream: few at once (the data connections open at once).
    open: HashMap<(u32, u32, u64, bool), Written>,
    /// Files written whose session has not settled yet: their lines wait for the transfer's
    /// record, by session and negotiation.
    ended: HashMap<(u32, u32), Vec<ManifestLine>>,
    max: u64,
    used: u64,
    /// The allowance was reached: some bytes were not written.
    reached: bool,
    /// The first thing that went wrong writing, said once at the end.
    error: Option<String>,
}

/// One file being written.
struct Written {
    file: Option<File>,
    name: String,
    /// Bytes written into it.
    bytes: u64,
    /// Bytes of the stream not written (allowance reached, or writing failed).
    refused: u64,
}

/// One line of the manifest. Written when the session settles: a stream ends before its
/// transfer is judged, and a stream seen whole can still be a transfer cut short (the server's
/// 451, an ABOR, a close before the announced size).
#[derive(Serialize)]
struct ManifestLine {
    session: u32,
    negotiation: u32,
    /// The transfer command's verb and its argument (the path as named), when read.
    command: Option<String>,
    path: Option<String>,
    command_frame: Option<u64>,
    /// The data connection's first frame.
    connection_frame: u64,
    sender: Side,
    /// The file written, relative to DIR.
    file: String,
    /// Bytes written into it.
    bytes: u64,
    sha256: Option<String>,
    md5: Option<String>,
    /// The file holds the whole transfer: the stream seen and written whole, and (for the
    /// stream that carried the transfer) its record not partial.
    complete: bool,
    /// The transfer record's completeness and why partial (the stream that carried the
    /// transfer); null for the other direction, or without a transfer record.
    completeness: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partial: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash_absent: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gap_at: Option<u64>,
    /// Bytes of the stream not written: `--extract-max` reached, or writing failed.
    #[serde(skip_serializing_if = "is_zero")]
    not_written: u64,
}

impl ManifestLine {
    /// The transfer's record joined in, for the stream that carried the file's bytes.
    fn judged(&mut self, record: &TransferRecord) {
        let carried_it = record.direction.is_none_or(|d| d.from_server() == (self.sender == Side::Server));
        if !carried_it {
            return;
        }
        self.completeness = Some(record.completeness.as_str());
        self.partial = record.completeness.partial().map(|p| p.as_str());
        self.complete &= !matches!(record.completeness, Completeness::Partial(_));
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Extractor {
    /// Files into `dir` (made if missing), at most `max` bytes of them. The manifest must not
    /// exist yet: a run never writes over another's.
    pub fn new(dir: &Path, max: u64) -> io::Result<Extractor> {
        std::fs::create_dir_all(dir)?;
        let manifest = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(MANIFEST))
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e} (choose an empty directory)", dir.join(MANIFEST).display())))?;
        Ok(Extractor {
            dir: dir.to_path_buf(),
            manifest: io::BufWriter::new(manifest),
            open: HashMap::new(),
            ended: HashMap::new(),
            max,
            used: 0,
            reached: false,
            error: None,
        })
    }

    fn key(id: StreamId) -> (u32, u32, u64, bool) {
        (id.session, id.negotiation, id.conn_frame, id.sender == Side::Server)
    }

    /// The stream's file, created at its first bytes (or at its end when it had none).
    fn file_of(&mut self, id: StreamId, command: Option<&str>) -> &mut Written {
        let (dir, error) = (&self.dir, &mut self.error);
        self.open.entry(Extractor::key(id)).or_insert_with(|| {
            let wanted = file_name(id, command);
            match create(dir, &wanted) {
                Ok((file, name)) => Written { file: Some(file), name, bytes: 0, refused: 0 },
                Err(e) => {
                    error.get_or_insert_with(|| format!("{}: {e}", dir.join(&wanted).display()));
                    Written { file: None, name: wanted, bytes: 0, refused: 0 }
                }
            }
        })
    }
}

/// Creates `wanted` in `dir`, or, taken, `wanted` with a counter: never over an existing name,
/// never through a symlink.
fn create(dir: &Path, wanted: &str) -> io::Result<(File, String)> {
    let mut last = None;
    for n in 0..NAME_TRIES {
        let name = if n == 0 { wanted.to_string() } else { format!("{wanted}.{n}") };
        match OpenOptions::new().write(true).create_new(true).open(dir.join(&name)) {
            Ok(f) => return Ok((f, name)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free name")))
}

impl ContentSink for Extractor {
    fn bytes(&mut self, id: StreamId, command: Option<&str>, at: u64, bytes: &[u8]) -> Kept {
        let len = bytes.len() as u64;
        let over = self.used.saturating_add(len) > self.max;
        let (dir, error) = (self.dir.clone(), self.error.is_none());
        let w = self.file_of(id, command);
        // A chunk is written whole or not at all: a file cut by the allowance ends at a chunk.
        let result = match &w.file {
            Some(f) if !over => f.write_all_at(bytes, at),
            _ => {
                w.refused = w.refused.saturating_add(len);
                self.reached |= over;
                return Kept::Refused;
            }
        };
        match result {
            Ok(()) => {
                w.bytes = w.bytes.saturating_add(len);
                self.used = self.used.saturating_add(len);
                Kept::Written
            }
            Err(e) => {
                w.refused = w.refused.saturating_add(len);
                let message = format!("{}: {e}", dir.join(&w.name).display());
                // A file that cannot be written gets nothing more.
                w.file = None;
                if error {
                    self.error = Some(message);
                }
                Kept::Refused
            }
        }
    }

    /// A hole stays a hole: the bytes after it are written at their own offsets (the file
    /// keeps the stream's layout, zeros where the capture missed bytes).
    fn gap(&mut self, _: StreamId, _: u64, _: u64) {}

    fn end(&mut self, id: StreamId, end: &StreamEnd<'_>) {
        self.file_of(id, end.command);
        let Some(w) = self.open.remove(&Extractor::key(id)) else { return };
        let c = end.content;
        let (verb, path) = split_command(end.command);
        let line = ManifestLine {
            session: id.session,
            negotiation: id.negotiation,
            command: verb.map(str::to_string),
            path: path.map(str::to_string),
            command_frame: end.command_frame,
            connection_frame: id.conn_frame,
            sender: id.sender,
            file: w.name,
            bytes: w.bytes,
            sha256: c.sha256.clone(),
            md5: c.md5.clone(),
            complete: c.complete && w.refused == 0,
            completeness: None,
            partial: None,
            hash_absent: c.hash_absent.map(|h| h.as_str()),
            gap_at: c.gap_at,
            not_written: w.refused,
        };
        // Until the session settles: as many as the streams of sessions still open.
        self.ended.entry((id.session, id.negotiation)).or_default().push(line);
    }

    fn settled(&mut self, session: u32, negotiation: u32, record: Option<&TransferRecord>) {
        let Some(mut lines) = self.ended.remove(&(session, negotiation)) else { return };
        for line in &mut lines {
            if let Some(r) = record {
                line.judged(r);
            }
            self.write_line(line);
        }
    }

    fn finish(&mut self) -> Result<(), String> {
        // Streams never ended (none, as every followed connection ends when its session
        // settles): their files stay as written, unlisted.
        self.open.clear();
        // Streams whose session never settled (none in a run that ends normally): listed
        // without a transfer's judgement.
        let mut left: Vec<((u32, u32), Vec<ManifestLine>)> = self.ended.drain().collect();
        left.sort_by_key(|(k, _)| *k);
        for line in left.iter().flat_map(|(_, lines)| lines) {
            self.write_line(line);
        }
        if let Err(e) = self.manifest.flush() {
            self.error.get_or_insert_with(|| format!("{}: {e}", self.dir.join(MANIFEST).display()));
        }
        match self.error.take() {
            Some(e) => Err(e),
            None if self.reached => Err(format!("--extract-max reached ({} bytes written): later data not extracted", self.used)),
            None => Ok(()),
        }
    }
}

impl Extractor {
    fn write_line(&mut self, line: &ManifestLine) {
        let written =
            serde_json::to_writer(&mut self.manifest, line).map_err(io::Error::from).and_then(|()| self.manifest.write_all(b"\n"));
        if let Err(e) = written {
            self.error.get_or_insert_with(|| format!("{}: {e}", self.dir.join(MANIFEST).display()));
        }
    }
}

/// The transfer command's verb and argument (the path as the client named it).
fn split_command(command: Option<&str>) -> (Option<&str>, Option<&str>) {
    let Some(c) = command else { return (None, None) };
    match c.split_once(' ') {
        Some((verb, arg)) => (Some(verb), Some(arg).filter(|a| !a.is_empty())),
        None => (Some(c), None),
    }
}

/// The name a stream's file is written under: `s<session>-f<frame>-<base>` where the frame is
/// the data connection's first and the base is the last component of the command's argument
/// with anything but letters, digits, `.`, `_`, `-` and `+` made `_`, leading dots and dashes
/// dropped (no `..`, no hidden file, no option), bounded; a listing is named after its verb,
/// a stream whose command is not known `data`. An upload's name says so (`up-`).
pub fn file_name(id: StreamId, command: Option<&str>) -> String {
    let (verb, arg) = split_command(command);
    let verb = verb.map(str::to_ascii_lowercase);
    let listing = matches!(verb.as_deref(), Some("list" | "nlst" | "mlsd"));
    let base = match (arg, listing) {
        (Some(arg), false) => clean_base(arg),
        _ => String::new(),
    };
    let base = if base.is_empty() { verb.filter(|v| clean_base(v) == *v).unwrap_or_else(|| "data".into()) } else { base };
    let up = if id.sender == Side::Client { "up-" } else { "" };
    format!("s{}-f{}-{up}{base}", id.session, id.conn_frame)
}

/// The last component of a path as named (either separator), made safe: see [`file_name`].
fn clean_base(arg: &str) -> String {
    let last = arg.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String =
        last.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') { c } else { '_' }).collect();
    let trimmed = cleaned.trim_start_matches(['.', '-']);
    // ASCII only by now: any byte is a character boundary.
    trimmed.get(..trimmed.len().min(BASE_MAX)).unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(sender: Side) -> StreamId {
        StreamId { session: 3, negotiation: 1, conn_frame: 120, sender }
    }

    #[test]
    fn a_name_from_the_capture_never_leaves_the_directory() {
        let names = [
            ("RETR ../../etc/passwd", "s3-f120-passwd"),
            ("RETR /etc/shadow", "s3-f120-shadow"),
            ("RETR ..\\..\\windows\\win.ini", "s3-f120-win.ini"),
            ("RETR ..", "s3-f120-retr"),
            ("RETR dir/..", "s3-f120-retr"),
            ("RETR a\u{1b}[2Jb\r\n.txt", "s3-f120-a__2Jb__.txt"),
            ("RETR .bashrc", "s3-f120-bashrc"),
            ("RETR -rf", "s3-f120-rf"),
            ("RETR rapport été.pdf", "s3-f120-rapport__t_.pdf"),
            ("LIST -la /", "s3-f120-list"),
            ("RETR", "s3-f120-retr"),
        ];
        for (command, want) in names {
            assert_eq!(file_name(id(Side::Server), Some(command)), want, "{command:?}");
        }
        assert_eq!(file_name(id(Side::Server), None), "s3-f120-data");
        assert_eq!(file_name(id(Side::Client), Some("STOR up.bin")), "s3-f120-up-up.bin");
        let long = format!("RETR {}", "x".repeat(5000));
        let name = file_name(id(Side::Server), Some(&long));
        assert!(name.len() <= 130, "bounded: {}", name.len());
        for (command, _) in names {
            let name = file_name(id(Side::Server), Some(command));
            assert!(!name.contains(['/', '\\']) && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_graphic()), "{name:?}");
        }
    }
}
