//! What the control channel has put in force for the next transfer: TYPE, MODE and STRU (RFC
//! 959's defaults A, S, F until a 200 accepts another), the working directory (a 257 to PWD, a
//! 250 after CWD or CDUP; unknown until then, never guessed), a REST offset a 350 accepted, and
//! the size a 213 gave for a path. A command's change takes effect only with the reply that
//! accepts it: a refused TYPE I leaves ASCII in force.
//!
//! Owns those settings. Must not touch: pairing commands with replies (session does) nor the
//! data connection.

use crate::ftp::parse::{CommandLine, Verb};
use crate::model::transfer_record::{Asked, DataType, Direction, SizeFrom};

/// Longest working directory kept; past it, the directory is unknown again.
const MAX_CWD: usize = 1024;

/// A command whose accepting reply changes what is in force, kept with it until that reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Type(DataType),
    Mode(char),
    Stru(char),
    Rest(u64),
    /// The CWD argument, printable.
    Cwd(String),
    Cdup,
    Pwd,
    /// The SIZE argument, printable.
    Size(String),
}

impl Setting {
    /// The setting a command asks for, if it asks for one. `printable` is the argument as the
    /// record shows it (control characters escaped).
    pub fn of(cmd: &CommandLine<'_>, printable: impl FnOnce() -> String) -> Option<Setting> {
        let letter = || cmd.arg.first().map(|b| char::from(b.to_ascii_uppercase())).filter(char::is_ascii_alphabetic);
        Some(match cmd.verb {
            Verb::Type => Setting::Type(DataType::parse(cmd.arg)?),
            Verb::Mode => Setting::Mode(letter()?),
            Verb::Stru => Setting::Stru(letter()?),
            Verb::Rest => Setting::Rest(std::str::from_utf8(cmd.arg).ok()?.trim().parse().ok()?),
            Verb::Cwd => Setting::Cwd(printable()),
            Verb::Cdup => Setting::Cdup,
            Verb::Pwd => Setting::Pwd,
            Verb::Size => Setting::Size(printable()),
            _ => return None,
        })
    }
}

/// The settings in force on one control connection.
#[derive(Debug, Clone)]
pub struct InForce {
    data_type: DataType,
    mode: char,
    stru: char,
    cwd: Option<String>,
    rest: Option<u64>,
    /// The last SIZE answered: its path and size.
    size: Option<(String, u64)>,
}

impl Default for InForce {
    fn default() -> InForce {
        InForce { data_type: DataType::Ascii, mode: 'S', stru: 'F', cwd: None, rest: None, size: None }
    }
}

impl InForce {
    pub fn data_type(&self) -> DataType {
        self.data_type
    }

    /// The final reply to a command that asked for `setting`.
    pub fn answered(&mut self, setting: Setting, code: u16, text: &str) {
        let accepted = (200..300).contains(&code);
        match setting {
            Setting::Type(t) if accepted => self.data_type = t,
            Setting::Mode(m) if accepted => self.mode = m,
            Setting::Stru(s) if accepted => self.stru = s,
            Setting::Rest(offset) if code == 350 => self.rest = Some(offset),
            Setting::Cwd(dir) if accepted => self.cwd = changed(self.cwd.take(), &dir),
            Setting::Cdup if accepted => self.cwd = self.cwd.take().map(|d| parent(&d)),
            Setting::Pwd if code == 257 => self.cwd = quoted(text).filter(|d| d.len() <= MAX_CWD),
            Setting::Size(path) if code == 213 => self.size = text.trim().parse().ok().map(|n| (path, n)),
            _ => {}
        }
    }

    /// What is in force for a transfer command `verb` naming `path`; its REST offset is used up.
    pub fn for_transfer(&mut self, verb: &str, path: Option<String>) -> Asked {
        let direction = Direction::of_verb(verb);
        // A SIZE answers for the file a download will bring; an upload's is the old file's.
        let announced = match (&self.size, &path) {
            (Some((sized, n)), Some(p)) if sized == p && direction == Some(Direction::Download) => Some((*n, SizeFrom::SizeReply)),
            _ => None,
        };
        Asked {
            direction,
            path,
            cwd: self.cwd.clone(),
            data_type: self.data_type,
            mode: self.mode,
            stru: self.stru,
            rest: self.rest.take(),
            announced,
            // The server's habit after REST is known once the session is judged.
            announces_rest: false,
        }
    }

    /// A transfer whose command the capture does not hold: what is in force all the same.
    pub fn for_unknown_transfer(&mut self) -> Asked {
        self.for_transfer("", None)
    }
}

/// The directory after a CWD to `dir` from `from`: an absolute argument is the directory; a
/// relative one is joined to a known directory, and leaves an unknown one unknown.
fn changed(from: Option<String>, dir: &str) -> Option<String> {
    let new = if dir.starts_with('/') {
        dir.to_string()
    } else {
        let mut from = from?;
        for part in dir.split('/').filter(|p| !p.is_empty() && *p != ".") {
            if part == ".." {
                from = parent(&from);
            } else {
                if !from.ends_with('/') {
                    from.push('/');
                }
                from.push_str(part);
            }
        }
        from
    };
    (new.len() <= MAX_CWD).then_some(new)
}

/// The parent of an absolute directory; "/" stays "/".
fn parent(dir: &str) -> String {
    match dir.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/".to_string(),
        Some((up, _)) => up.to_string(),
    }
}

/// The directory a 257 reply names: `"/pub/x" is the current directory`, doubled quotes
/// standing for one (RFC 959 appendix II).
fn quoted(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
            } else {
                return Some(out);
            }
        }
        out.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ftp::parse::parse_command;

    fn setting(line: &[u8]) -> Option<Setting> {
        let cmd = parse_command(line).unwrap();
        Setting::of(&cmd, || String::from_utf8_lossy(cmd.arg).into_owned())
    }

    fn apply(f: &mut InForce, line: &[u8], code: u16, text: &str) {
        f.answered(setting(line).unwrap(), code, text);
    }

    #[test]
    fn rfc_959_defaults_hold_until_a_200_accepts_another() {
        let mut f = InForce::default();
        let a = f.for_transfer("RETR", Some("a".into()));
        assert_eq!((a.data_type, a.mode, a.stru, a.cwd), (DataType::Ascii, 'S', 'F', None));
        apply(&mut f, b"TYPE I", 504, "Command not implemented for that parameter.");
        assert_eq!(f.for_transfer("RETR", None).data_type, DataType::Ascii, "refused: ASCII stays");
        apply(&mut f, b"TYPE I", 200, "Switching to Binary mode.");
        apply(&mut f, b"MODE B", 200, "ok");
        apply(&mut f, b"STRU R", 504, "no");
        let a = f.for_transfer("RETR", None);
        assert_eq!((a.data_type, a.mode, a.stru), (DataType::Image, 'B', 'F'));
        assert_eq!(setting(b"TYPE L 8"), Some(Setting::Type(DataType::Local)));
        assert_eq!(setting(b"NOOP"), None);
    }

    #[test]
    fn the_directory_is_known_from_pwd_and_followed_through_cwd_and_cdup() {
        let mut f = InForce::default();
        apply(&mut f, b"CWD pub", 250, "Directory successfully changed.");
        assert_eq!(f.for_transfer("RETR", None).cwd, None, "relative to an unknown directory: unknown");
        apply(&mut f, b"PWD", 257, "\"/home/ftp\" is the current directory");
        apply(&mut f, b"CWD pub/./x", 250, "ok");
        assert_eq!(f.for_transfer("RETR", None).cwd.as_deref(), Some("/home/ftp/pub/x"));
        apply(&mut f, b"CWD ../y", 250, "ok");
        apply(&mut f, b"CWD missing", 550, "Failed to change directory.");
        assert_eq!(f.for_transfer("RETR", None).cwd.as_deref(), Some("/home/ftp/pub/y"));
        apply(&mut f, b"CDUP", 250, "ok");
        apply(&mut f, b"XCUP", 200, "ok");
        apply(&mut f, b"CDUP", 250, "ok");
        apply(&mut f, b"CDUP", 250, "ok");
        assert_eq!(f.for_transfer("RETR", None).cwd.as_deref(), Some("/"));
        apply(&mut f, b"CWD /srv", 250, "ok");
        assert_eq!(f.for_transfer("RETR", None).cwd.as_deref(), Some("/srv"));
        assert_eq!(quoted("\"/a \"\"b\"\"\" created"), Some("/a \"b\"".into()));
        assert_eq!(quoted("/no quotes"), None);
    }

    #[test]
    fn rest_is_used_by_the_next_transfer_and_size_by_a_download_of_the_same_path() {
        let mut f = InForce::default();
        apply(&mut f, b"REST 1000", 350, "Restart position accepted (1000).");
        apply(&mut f, b"SIZE big.iso", 213, "4096");
        let a = f.for_transfer("RETR", Some("big.iso".into()));
        assert_eq!((a.rest, a.announced, a.direction), (Some(1000), Some((4096, SizeFrom::SizeReply)), Some(Direction::Download)));
        let b = f.for_transfer("RETR", Some("other.iso".into()));
        assert_eq!((b.rest, b.announced), (None, None), "used up; another path's size is not this one's");
        assert_eq!(f.for_transfer("STOR", Some("big.iso".into())).announced, None);
        apply(&mut f, b"REST 5", 502, "REST not implemented.");
        assert_eq!(f.for_transfer("RETR", None).rest, None);
        assert_eq!(setting(b"REST x"), None);
    }
}
