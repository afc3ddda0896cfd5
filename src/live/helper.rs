//! The capture helper, ftpscope's dumpcap: when ftpscope may not open the interface itself (not
//! root, no capabilities), it runs `ftpscope-capture`, a small binary that the Debian package
//! installs root:ftpscope, mode 0750, with `cap_net_raw,cap_net_admin=eip`. The helper opens the
//! interface, applies the filter and writes the packets to its stdout as a pcap stream; this
//! module reads that stream as a [`PacketSource`]. ftpscope itself never holds a privilege, so
//! the code that parses hostile packets never runs privileged (issue 24).
//!
//! The helper's stderr carries two kinds of lines for ftpscope (anything else is for a person):
//! its libpcap counters (every second and at the end) and why its capture ended. So the drop
//! counters are libpcap's own, as with the device, only up to a second late while running and
//! exact at the end; the helper reports them after ftpscope asks it to stop (SIGTERM).
//!
//! Owns: finding the helper, running it, its stream and its lines, and the one line for a user
//! who may not capture. Must not touch: the packets (read as they come, parsed by the analysis).

use super::device::{self, OpenError, OpenOptions};
use super::pcap_stream::{StreamHeader, HEADER_LEN};
use super::source::{Counters, Next, Packet, PacketSource};
use crate::model::LinkType;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The helper's file name, looked for next to ftpscope's own executable (a `cargo install`).
pub const HELPER_NAME: &str = "ftpscope-capture";
/// Where the Debian package installs it (off PATH: only ftpscope runs it).
pub const INSTALLED_HELPER: &str = "/usr/lib/ftpscope/ftpscope-capture";
/// Names the helper to run instead of looking for it (tests; a helper installed elsewhere).
pub const HELPER_ENV: &str = "FTPSCOPE_CAPTURE_HELPER";
/// The group whose members may run the helper (created by the package's postinst).
pub const CAPTURE_GROUP: &str = "ftpscope";
/// The helper's exit status when it may not capture either (sysexits' EX_NOPERM): its file
/// capabilities were removed, or it was never given them.
pub const EXIT_NO_PERMISSION: u8 = 77;

/// How long the helper has to end its capture and say its last counters once asked to.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// A wait for the pipe returns after this long, as the device's does (device.rs).
const READ_TIMEOUT_MS: i32 = 50;
/// Bytes asked of the pipe per read.
const READ_CHUNK: usize = 1 << 16;

/// The helper's line with libpcap's counters.
pub fn counters_line(c: &Counters) -> String {
    format!("counters received={} dropped={} interface_dropped={}", c.received, c.dropped, c.interface_dropped)
}

/// The helper's line saying why its capture ended: `end KIND DETAIL`.
pub fn end_line(kind: &str, detail: &str) -> String {
    format!("end {kind} {}", detail.replace('\n', " "))
}

/// One line of the helper's stderr, as ftpscope reads it.
#[derive(Debug, PartialEq, Eq)]
enum Said {
    Counters(Counters),
    End(&'static str, String),
    /// For a person: relayed when the helper fails.
    Words(String),
}

fn parse_line(line: &str) -> Said {
    if let Some(rest) = line.strip_prefix("counters ") {
        let mut c = Counters::default();
        for field in rest.split(' ') {
            let value = |name: &str| field.strip_prefix(name).and_then(|v| v.parse::<u64>().ok());
            if let Some(v) = value("received=") {
                c.received = v;
            } else if let Some(v) = value("dropped=") {
                c.dropped = v;
            } else if let Some(v) = value("interface_dropped=") {
                c.interface_dropped = v;
            } else {
                return Said::Words(line.to_string());
            }
        }
        return Said::Counters(c);
    }
    if let Some(rest) = line.strip_prefix("end ") {
        let (kind, detail) = rest.split_once(' ').unwrap_or((rest, ""));
        return Said::End(known_end(kind), detail.to_string());
    }
    Said::Words(line.to_string())
}

/// The report's `ended` kinds a helper can give (capture.rs, source.rs); others read as the
/// helper's own end.
fn known_end(kind: &str) -> &'static str {
    match kind {
        "interface_gone" => "interface_gone",
        "input_end" => "input_end",
        "signal" => "signal",
        _ => "helper_end",
    }
}

/// Where to look for the helper, in order: the environment's choice alone, else next to this
/// executable, then the package's place.
pub fn candidates() -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os(HELPER_ENV) {
        return vec![PathBuf::from(path)];
    }
    let beside = std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join(HELPER_NAME)));
    beside.into_iter().chain([PathBuf::from(INSTALLED_HELPER)]).collect()
}

/// The helper, when one is installed (whether this user may run it is another matter).
pub fn find() -> Option<PathBuf> {
    candidates().into_iter().find(|path| path.is_file())
}

/// An open capture: the interface itself, or the helper's stream.
pub struct Opened {
    pub source: Box<dyn PacketSource + Send>,
    /// The helper capturing for this process, when it is one.
    pub helper: Option<PathBuf>,
}

/// Opens the interface when this process may (root, or capabilities), else asks the helper.
pub fn open(options: &OpenOptions<'_>) -> Result<Opened, OpenError> {
    match device::open(options) {
        Ok(device) => Ok(Opened { source: Box::new(device), helper: None }),
        Err(OpenError::Permission { interface, detail }) => match find() {
            Some(helper) => {
                let source = HelperSource::spawn(&helper, options)?;
                Ok(Opened { source: Box::new(source), helper: Some(helper) })
            }
            None => Err(OpenError::Permission { interface, detail }),
        },
        Err(e) => Err(e),
    }
}

/// Lines read from the helper's stderr.
#[derive(Default)]
struct Heard {
    counters: Option<Counters>,
    end: Option<(&'static str, String)>,
    words: Vec<String>,
    partial: Vec<u8>,
}

impl Heard {
    /// Takes in what was read; whole lines are parsed, a partial one waits for its end.
    fn take(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        while let Some(at) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=at).collect();
            match parse_line(String::from_utf8_lossy(&line).trim_end()) {
                Said::Counters(c) => self.counters = Some(c),
                Said::End(kind, detail) => self.end = Some((kind, detail)),
                Said::Words(w) if !w.is_empty() => self.words.push(w),
                Said::Words(_) => {}
            }
        }
    }

    /// The helper's last words for a person, without its name.
    fn last_words(&self) -> Option<String> {
        let line = self.words.last()?;
        Some(line.strip_prefix("ftpscope-capture: ").unwrap_or(line).to_string())
    }
}

/// A running helper: its pcap stream on one pipe, its lines on the other.
pub struct HelperSource {
    child: Child,
    stream: ChildStdout,
    stderr: ChildStderr,
    header: StreamHeader,
    link: LinkType,
    /// Bytes read from the stream; records are parsed from `start`.
    buf: Vec<u8>,
    start: usize,
    /// The last read found nothing: wait on the pipe before the next.
    drained: bool,
    heard: Heard,
    /// The helper was waited for.
    exited: Option<ExitStatus>,
}

/// What a read of the stream gave.
enum Filled {
    More,
    Nothing,
    End,
}

impl HelperSource {
    /// Runs `helper` for `options` and reads its stream's header. A helper that may not capture
    /// or cannot (a bad filter, no such interface) exits instead: its refusal is the error.
    pub fn spawn(helper: &Path, options: &OpenOptions<'_>) -> Result<HelperSource, OpenError> {
        let interface = options.interface.to_string();
        let mut command = Command::new(helper);
        command.arg("-i").arg(options.interface).arg("--filter").arg(options.filter);
        command.arg("--snaplen").arg(options.snaplen.to_string());
        if !options.promiscuous {
            command.arg("--no-promisc");
        }
        if let Some(bytes) = options.buffer_size {
            command.arg("--buffer-size").arg(bytes.to_string());
        }
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| match e.kind() {
            // Mode 0750 root:ftpscope: only the group may run it.
            io::ErrorKind::PermissionDenied => OpenError::NotInGroup { interface: interface.clone() },
            _ => OpenError::Other { interface: interface.clone(), detail: format!("cannot run {}: {e}", helper.display()) },
        })?;
        let (Some(mut stream), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(OpenError::Other { interface, detail: "the capture helper's pipes were not set up".into() });
        };
        let mut head = [0u8; HEADER_LEN];
        if stream.read_exact(&mut head).is_err() {
            // No stream: the helper refused and exited; its stderr says why.
            let mut words = Vec::new();
            let _ = stderr.read_to_end(&mut words);
            let status = child.wait().ok();
            let mut heard = Heard::default();
            heard.take(&words);
            heard.take(b"\n");
            return Err(refusal(interface, helper, status, heard.last_words()));
        }
        let header = match StreamHeader::parse(&head) {
            Ok(h) => h,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(OpenError::Other { interface, detail: format!("{}: {e}", helper.display()) });
            }
        };
        for fd in [stream.as_raw_fd(), stderr.as_raw_fd()] {
            set_nonblocking(fd).map_err(|e| OpenError::Other { interface: interface.clone(), detail: e.to_string() })?;
        }
        Ok(HelperSource {
            child,
            stream,
            stderr,
            header,
            link: LinkType::from_linktype(header.linktype),
            buf: Vec::with_capacity(READ_CHUNK * 2),
            start: 0,
            drained: false,
            heard: Heard::default(),
            exited: None,
        })
    }

    /// Reads what the pipe holds, without waiting.
    fn fill(&mut self) -> Filled {
        // Records already parsed are dropped once they are most of the buffer.
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let filled = self.buf.len();
        self.buf.resize(filled + READ_CHUNK, 0);
        let read = self.stream.read(&mut self.buf[filled..]);
        self.buf.truncate(filled + read.as_ref().map_or(0, |n| *n));
        match read {
            Ok(0) => Filled::End,
            Ok(_) => Filled::More,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => Filled::Nothing,
            Err(_) => Filled::End,
        }
    }

    /// Reads the helper's stderr, without waiting.
    fn listen(&mut self) {
        let mut chunk = [0u8; 4096];
        while let Ok(n @ 1..) = self.stderr.read(&mut chunk) {
            self.heard.take(&chunk[..n]);
        }
    }

    /// Waits up to the read timeout for the stream (or stderr) to have something; false when
    /// nothing came.
    fn wait(&mut self, timeout_ms: i32) -> bool {
        let mut fds = [
            libc::pollfd { fd: self.stream.as_raw_fd(), events: libc::POLLIN, revents: 0 },
            libc::pollfd { fd: self.stderr.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        // SAFETY: two valid pollfds, for pipes this struct owns.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) };
        if ready > 0 && fds[1].revents != 0 {
            self.listen();
        }
        ready > 0 && fds[0].revents != 0
    }

    /// The stream ended: the helper exited (or closed it). Its last lines say why.
    fn ended(&mut self) -> Next<'_> {
        self.reap();
        if let Some((kind, detail)) = self.heard.end.clone() {
            return Next::End(kind, detail);
        }
        let status = self.exited.map(|s| s.to_string()).unwrap_or_else(|| "not known".into());
        let words = self.heard.last_words().map(|w| format!(": {w}")).unwrap_or_default();
        Next::End("helper_end", format!("the capture helper ended ({status}){words}"))
    }

    /// Waits for the helper to exit and reads its last lines.
    fn reap(&mut self) {
        if self.exited.is_some() {
            return;
        }
        let deadline = Instant::now() + STOP_GRACE;
        // Its stream is read to the end (packets after the stop are not analysed: libpcap
        // counted them as received, as it counts those left in the kernel's buffer).
        self.buf.clear();
        self.start = 0;
        while Instant::now() < deadline {
            match self.fill() {
                Filled::End => break,
                Filled::More => self.buf.clear(),
                Filled::Nothing => {
                    self.wait(READ_TIMEOUT_MS);
                }
            }
        }
        if Instant::now() >= deadline {
            let _ = self.child.kill();
        }
        self.exited = self.child.wait().ok();
        // Exited: all it wrote is in the pipe, which now ends.
        let _ = clear_nonblocking(self.stderr.as_raw_fd());
        self.listen();
    }
}

impl PacketSource for HelperSource {
    fn next_packet(&mut self) -> Next<'_> {
        loop {
            match self.header.record(&self.buf[self.start..]) {
                Err(e) => return Next::End("helper_end", format!("the capture helper's stream: {e}")),
                Ok(Some(record)) => {
                    let at = self.start;
                    self.start += record.stream_len();
                    let data = &self.buf[at + record.data_start..at + record.stream_len()];
                    return Next::Packet(Packet { ts: record.ts, data, orig_len: record.orig_len });
                }
                Ok(None) => {}
            }
            if self.drained {
                self.drained = false;
                if !self.wait(READ_TIMEOUT_MS) {
                    return Next::Timeout;
                }
            }
            match self.fill() {
                Filled::More => {}
                Filled::Nothing => {
                    self.drained = true;
                    return Next::Idle;
                }
                Filled::End => return self.ended(),
            }
        }
    }

    fn counters(&mut self) -> Option<Counters> {
        self.listen();
        self.heard.counters
    }

    fn link(&self) -> (LinkType, u32) {
        (self.link, self.header.linktype)
    }

    fn snaplen(&self) -> u32 {
        self.header.snaplen
    }

    /// Asks the helper to end its capture (SIGTERM) and waits for its last counters.
    fn stop(&mut self) {
        if self.exited.is_none() {
            // SAFETY: a signal to the child this struct started and has not yet waited for.
            unsafe {
                libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
            }
        }
        self.reap();
    }
}

impl Drop for HelperSource {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why a helper exited instead of streaming, as one line for the user.
fn refusal(interface: String, helper: &Path, status: Option<ExitStatus>, words: Option<String>) -> OpenError {
    if status.and_then(|s| s.code()) == Some(i32::from(EXIT_NO_PERMISSION)) {
        return OpenError::HelperWithoutCapabilities { interface, helper: helper.to_path_buf() };
    }
    let status = status.map(|s| s.to_string()).unwrap_or_else(|| "not known".into());
    OpenError::Helper { text: words.unwrap_or_else(|| format!("the capture helper {} failed ({status})", helper.display())) }
}

fn set_nonblocking(fd: std::os::fd::RawFd) -> io::Result<()> {
    set_flag(fd, true)
}

fn clear_nonblocking(fd: std::os::fd::RawFd) -> io::Result<()> {
    set_flag(fd, false)
}

fn set_flag(fd: std::os::fd::RawFd, nonblocking: bool) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor this module owns, with integer arguments.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        let flags = if nonblocking { flags | libc::O_NONBLOCK } else { flags & !libc::O_NONBLOCK };
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_helpers_lines_are_read_back() {
        let c = Counters { received: 12, dropped: 3, interface_dropped: 1 };
        assert_eq!(parse_line(&counters_line(&c)), Said::Counters(c));
        assert_eq!(
            parse_line(&end_line("interface_gone", "The interface\nwent down")),
            Said::End("interface_gone", "The interface went down".into())
        );
        assert_eq!(parse_line("end something_new why"), Said::End("helper_end", "why".into()));
        assert_eq!(parse_line("counters received=x"), Said::Words("counters received=x".into()));
        assert_eq!(parse_line("ftpscope-capture: bad capture filter"), Said::Words("ftpscope-capture: bad capture filter".into()));
    }

    #[test]
    fn lines_split_across_reads_are_put_together() {
        let mut heard = Heard::default();
        heard.take(b"counters received=1 dropped=0 interface_dropped=0\ncounters rec");
        assert_eq!(heard.counters.map(|c| c.received), Some(1));
        heard.take(b"eived=7 dropped=2 interface_dropped=0\nftpscope-capture: no interface eth9\n");
        assert_eq!(heard.counters, Some(Counters { received: 7, dropped: 2, interface_dropped: 0 }));
        assert_eq!(heard.last_words().as_deref(), Some("no interface eth9"));
    }
}
