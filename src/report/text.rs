//! Plain text, written as sessions settle: each session with findings, with its negotiations
//! (one line each) and its findings with explanation and fix. A finding whose cause and fix
//! were already explained for an earlier session gets one line pointing there, so 10,000
//! sessions with the same problem read as one problem, not 10,000 essays. At the end: the
//! verdict (explain's), the sessions with nothing to say as one line per story
//! (report::alike), what concerns the whole capture (clear-text logins), then the totals. A
//! healthy capture thus reads as its verdict first. With `-v`, the command log comes first too:
//! a line per command and its reply as each settles (the NDJSON `command` events' view).
//!
//! Owns the human-readable layout. Colour only when asked (the caller decides from the terminal
//! and NO_COLOR).

use super::alike::{HealthyStory, Stories};
use super::explain::{Healthy, Verdict as CaptureVerdict, HEALTHY_KEPT};
use super::{InputSummary, Sink, Tone};
use crate::model::finding::NO_SESSION;
use crate::model::notation::Sock;
use crate::model::{CommandLog, Event, Finding, FindingKind, Fix, Negotiation, Outcome, Session, Severity, Summary, Transfers, Verdict};
use crate::problems::{Explanation, Summary as FindingSummary};
use crate::AddrMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Distinct causes remembered for "explained above"; past it, findings are explained in full.
const MAX_CAUSES: usize = 10_000;

pub struct Text<W: Write> {
    out: W,
    st: Style,
    /// (kind, severity, fixes) -> the session where it was explained.
    explained: AddrMap<(FindingKind, Severity, Vec<Fix>), u32>,
    /// (kind, severity, where) -> sessions with such a finding (outside any session: its
    /// occurrences; about the whole capture: the findings), in order of first appearance, and
    /// the last session counted (two findings of one kind in one session count it once).
    tally: Vec<((FindingKind, Severity, Place), u64, u32)>,
    summary: Summary,
    servers: super::server::Latest,
    verdict: CaptureVerdict,
    /// Sessions without any finding, one per story, for the end (at most [`HEALTHY_KEPT`]).
    quiet: Stories<HealthyStory, Healthy>,
    /// Findings about the whole capture, for the end, after the verdict.
    about_capture: Vec<Finding>,
    /// `-v`: the command log, a line per command and its reply, as each settles.
    commands: bool,
    /// Narrowed to some sessions (report::narrow): what the verdict counts of those shown, and
    /// the line that says so.
    narrowed: Option<String>,
    shown: Shown,
    buf: String,
}

/// What a narrowed report's verdict counts: the shown sessions' findings and transfers (the
/// totals line stays the whole capture's).
#[derive(Default)]
struct Shown {
    errors: u64,
    warnings: u64,
    transfers: Transfers,
}

impl Shown {
    fn add(&mut self, s: &Session) {
        self.errors += s.findings.iter().filter(|f| f.severity == Severity::Error).count() as u64;
        self.warnings += s.findings.iter().filter(|f| f.severity == Severity::Warning).count() as u64;
        let t = Transfers::of(s);
        let sum = &mut self.transfers;
        (sum.total, sum.ok, sum.failed, sum.unknown) = (sum.total + t.total, sum.ok + t.ok, sum.failed + t.failed, sum.unknown + t.unknown);
    }
}

impl<W: Write> Text<W> {
    pub fn new(out: W, color: bool) -> Text<W> {
        Text {
            out,
            st: Style { color },
            explained: AddrMap::default(),
            tally: Vec::new(),
            summary: Summary::default(),
            servers: Default::default(),
            verdict: CaptureVerdict::default(),
            quiet: Stories::new(HEALTHY_KEPT),
            about_capture: Vec::new(),
            commands: false,
            narrowed: None,
            shown: Shown::default(),
            buf: String::new(),
        }
    }

    /// With the command log (`-v`): each command and its reply, a line each, as they settle.
    pub fn with_commands(self, commands: bool) -> Text<W> {
        Text { commands, ..self }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// Sessions with a finding of its kind and severity (two in one session count it once);
    /// outside any session, its occurrences; about the whole capture, the findings.
    fn count(&mut self, f: &Finding) {
        let place = match (f.session == NO_SESSION, f.is_about_capture()) {
            (false, _) => Place::Sessions,
            (true, false) => Place::Outside,
            (true, true) => Place::Capture,
        };
        let times = match place {
            Place::Outside => u64::from(f.occurrences),
            Place::Sessions | Place::Capture => 1,
        };
        let key = (f.kind, f.severity, place);
        match self.tally.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, n, _)) if place != Place::Sessions => *n += times,
            Some((_, n, last)) if *last != f.session => {
                *n += 1;
                *last = f.session;
            }
            Some(_) => {}
            None => self.tally.push((key, times, f.session)),
        }
    }

    fn finding(&mut self, f: &Finding, across: bool) {
        self.count(f);
        let cause = (f.kind, f.severity, f.fix.clone());
        let earlier = self.explained.get(&cause).copied();
        if earlier.is_none() && self.explained.len() < MAX_CAUSES {
            self.explained.insert(cause, f.session);
        }
        let st = &self.st;
        let out = &mut self.buf;
        let indent = if across { "" } else { "  " };
        let _ = write!(out, "{indent}{} {}", st.severity(f.severity), f.kind.as_str());
        if f.occurrences > 1 {
            let _ = write!(out, " (x{})", f.occurrences);
        }
        out.push(' ');
        st.painted(out, "2", |out| frame_list(out, &f.frames));
        let _ = writeln!(out, "  {}", FindingSummary(f));
        if let Some(first) = earlier.filter(|&s| s != f.session) {
            let _ = writeln!(out, "        {}", st.dim(&format!("(same cause and fix as in session {first}, explained above)")));
            return;
        }
        write_wrapped(out, &Explanation(f).to_string(), 92, "        ", "        ");
        let fix_label = format!("        {} ", st.bold("fix:"));
        for fix in &f.fix {
            write_wrapped(out, &fix.to_string(), 90, &fix_label, "             ");
            // What to type, whole: a wrapped command would not work when pasted.
            for line in super::fix::apply(fix) {
                let _ = writeln!(out, "               {line}");
            }
        }
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.out.write_all(self.buf.as_bytes())?;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> Sink for Text<W> {
    fn wants_command_events(&self) -> bool {
        self.commands
    }

    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Command { session, log, .. } => {
                command_line(&mut self.buf, &self.st, *session, log);
                self.flush_buf()
            }
            Event::SessionEnd { record, .. } => {
                self.verdict.add(record);
                self.shown.add(record);
                if nothing_to_say(record) {
                    let h = Healthy::of(record);
                    self.quiet.add(HealthyStory::of(record, h.transfers, h.transfers_ok), record.id, || h);
                    return Ok(());
                }
                session(&mut self.buf, &self.st, record);
                // Each problem once, its consequences listed under it.
                for (i, f) in record.findings.iter().enumerate().filter(|(_, f)| f.caused_by.is_none()) {
                    self.finding(f, false);
                    for effect in record.findings.iter().filter(|e| e.caused_by == Some(i as u32)) {
                        consequence(&mut self.buf, &self.st, effect);
                    }
                }
                self.buf.push('\n');
                self.flush_buf()
            }
            Event::Finding { finding, .. } if finding.session == NO_SESSION => {
                self.verdict.add_about_capture(finding);
                self.about_capture.push((**finding).clone());
                Ok(())
            }
            Event::Finding { finding, .. } => {
                self.finding(finding, true);
                self.buf.push('\n');
                self.flush_buf()
            }
            Event::Server { server, .. } => {
                self.servers.tell(server);
                Ok(())
            }
            Event::Summary { summary, .. } => {
                self.summary = (**summary).clone();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn narrowed(&mut self, shown: u64, of: u64, how: &str) {
        let line = format!(
            "({how}: {shown} of {of} session(s) shown, counted below; the line above, the findings across sessions and the \
             servers' blocks are the whole capture's)"
        );
        self.narrowed = Some(line);
    }

    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()> {
        if self.summary.sessions > 0 && (self.narrowed.is_none() || self.verdict.sessions > 0) {
            let v = &mut self.verdict;
            // Narrowed, the verdict speaks of the sessions shown; otherwise of the capture's
            // totals (findings across sessions counted too).
            let counts = match &self.narrowed {
                Some(_) => (self.shown.errors, self.shown.warnings, self.shown.transfers),
                None => (self.summary.errors, self.summary.warnings, self.summary.transfers),
            };
            (v.errors, v.warnings, v.transfers) = counts;
            for line in wrap(&self.verdict.to_string(), 92) {
                let _ = writeln!(self.buf, "{}", self.st.bold(&line));
            }
            let (quiet, left_out) = self.quiet.take();
            for h in &quiet {
                let _ = writeln!(self.buf, "  {h}");
            }
            if left_out > 0 {
                let _ = writeln!(self.buf, "  ({left_out} more session(s) without a finding, not listed)");
            }
            self.buf.push('\n');
        }
        for f in std::mem::take(&mut self.about_capture) {
            self.finding(&f, true);
            self.buf.push('\n');
        }
        let st = &self.st;
        let c = &self.summary;
        let out = &mut self.buf;
        if let Some(note) = super::notes::without_sessions(c) {
            let _ = writeln!(out, "{note}\n");
        }
        let _ = writeln!(out, "{}", totals(st, c));
        if let Some(n) = &self.narrowed {
            for line in wrap(n, 99) {
                let _ = writeln!(out, "{}", st.dim(&line));
            }
        }
        for ((kind, severity, place), n, _) in &self.tally {
            let place = match place {
                Place::Sessions => format!("in {n} session(s)"),
                Place::Outside => format!("{n} time(s), outside any session"),
                // Named apart from the totals above, which leave these out.
                Place::Capture if *n > 1 => format!("{n} time(s), about the whole capture"),
                Place::Capture => "about the whole capture".to_string(),
            };
            let _ = writeln!(out, "  {} {:<26} {place}", st.severity(*severity), kind.as_str());
        }
        for input in inputs {
            if let Some(why) = &input.truncated {
                let _ = writeln!(
                    out,
                    "{} {}: capture ends early ({why}); analysed up to the break",
                    st.severity(Severity::Warning),
                    input.path
                );
            }
        }
        if let Some(note) = super::notes::implicit_ftps_note(c) {
            let _ = writeln!(out, "{} {note}", st.severity(Severity::Info));
        }
        if let Some(note) = super::notes::cut_note(c) {
            let _ = writeln!(out, "{} {note}", st.severity(Severity::Warning));
        }
        if let Some(e) = &c.extract_error {
            let _ = writeln!(out, "{} --extract: {e}", st.severity(Severity::Warning));
        }
        let set_aside = super::notes::set_aside(c);
        if !set_aside.is_empty() {
            let _ = writeln!(out, "{}", st.dim(&format!("({})", set_aside.join(", "))));
        }
        // One block per server, from the whole capture: the fixes to apply.
        for server in self.servers.servers() {
            out.push('\n');
            super::server::text_block(out, server, 99, |sev| st.severity(sev));
        }
        self.flush_buf()?;
        self.out.flush()
    }
}

/// Where the tally's findings are: in sessions, outside any session, about the whole capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Sessions,
    Outside,
    Capture,
}

/// The capture's totals in one line: `ftpscope: 120 frames, 9 TCP connections, 2 FTP
/// session(s), ...` (also the last line of `--summary`).
pub(crate) fn totals(st: &Style, c: &Summary) -> String {
    format!(
        "{} {} frames, {} TCP connections, {} FTP session(s), {} negotiation(s); findings: {} error(s), {} warning(s), {} info",
        st.bold("ftpscope:"),
        c.frames,
        c.tcp_connections,
        c.sessions,
        c.negotiations,
        c.errors,
        c.warnings,
        c.infos
    )
}

/// A session without findings whose control channel lost or cut nothing: its block would only
/// repeat what its story's line at the end says.
fn nothing_to_say(s: &Session) -> bool {
    let c = &s.control;
    let hashed = s.negotiations.iter().any(|n| !n.data.content.not_asked());
    s.findings.is_empty() && c.gaps == 0 && c.overlong_lines == 0 && s.negotiations_over_limit == 0 && !hashed
}

/// One command of the log and its reply: `session 0  #5 RETR a.txt  -> 150 #6, 226 Transfer
/// complete. #9`; the frames dim, like a finding's.
fn command_line(out: &mut String, st: &Style, session: u32, log: &CommandLog) {
    let _ = write!(out, "session {session}  {} {}  -> ", st.dim(&format!("#{}", log.command_frame)), log.command);
    if let Some(p) = &log.preliminary {
        let _ = write!(out, "{} {}, ", p.code, st.dim(&format!("#{}", p.frame)));
    }
    match &log.reply {
        Some(r) => {
            let _ = writeln!(out, "{} {} {}", r.code, r.text, st.dim(&format!("#{}", r.frame)));
        }
        None => out.push_str("no reply in the capture\n"),
    }
}

/// A consequence under its cause: one line, its frames, no advice of its own (the cause's
/// fixes are the fixes).
fn consequence(out: &mut String, st: &Style, f: &Finding) {
    let times = if f.occurrences > 1 { format!(" (x{})", f.occurrences) } else { String::new() };
    let line = format!("so: {}{times} {}", f.kind.as_str(), FindingSummary(f));
    write_wrapped(out, &line, 90, "        ", "            ");
    out.push_str("            ");
    st.painted(out, "2", |out| frame_list(out, &f.frames));
    out.push('\n');
}

/// `#12 #15 #20`: a finding's frames, written where they go.
fn frame_list(out: &mut String, frames: &[u64]) {
    for (i, frame) in frames.iter().enumerate() {
        out.push_str(if i == 0 { "#" } else { " #" });
        out.push_str(itoa::Buffer::new().format(*frame));
    }
}

/// ANSI colour and weight, or plain text when colour is off. Also explain's (report::explain::text).
pub(crate) struct Style {
    pub(crate) color: bool,
}

impl Style {
    pub(crate) fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// What `body` writes, painted as [`paint`](Self::paint) paints a string, written where it
    /// goes (no `String` of its own).
    fn painted(&self, out: &mut String, code: &str, body: impl FnOnce(&mut String)) {
        if self.color {
            let _ = write!(out, "\x1b[{code}m");
        }
        body(out);
        if self.color {
            out.push_str("\x1b[0m");
        }
    }
    /// `word` painted, written where it goes.
    fn word(&self, out: &mut String, code: &str, word: &str) {
        self.painted(out, code, |out| out.push_str(word));
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    pub(crate) fn severity(&self, sev: Severity) -> String {
        match sev {
            Severity::Error => self.paint("1;31", "ERROR"),
            Severity::Warning => self.paint("1;33", "WARN "),
            Severity::Info => self.paint("1;36", "INFO "),
        }
    }
    fn outcome(&self, o: Outcome) -> String {
        self.paint(self.outcome_code(o), o.as_str())
    }
    /// The colour of an outcome's word.
    fn outcome_code(&self, o: Outcome) -> &'static str {
        match Tone::of(o) {
            Tone::Good => "32",
            Tone::Bad => "31",
            Tone::Doubtful => "33",
        }
    }
}

fn session(out: &mut String, st: &Style, s: &Session) {
    st.painted(out, "1", |out| {
        let _ = write!(out, "session {}  {} -> {}", s.id, Sock(s.client), Sock(s.server));
        if let Some(u) = &s.user {
            let _ = write!(out, "  user {u}");
        }
    });
    out.push_str("\n  ");
    st.painted(out, "2", |out| facts(out, s));
    out.push('\n');
    // A run of negotiations that led to nothing and read alike but for their frame and port (a
    // client repeating PORT, a bounce scan) is folded: its first two, a count, its last.
    for run in s.negotiations.chunk_by(alike) {
        match run {
            [first, second, middle @ .., last] if middle.len() >= FOLD_FROM => {
                negotiation(out, st, first);
                negotiation(out, st, second);
                folded(out, middle);
                negotiation(out, st, last);
            }
            _ => run.iter().for_each(|n| negotiation(out, st, n)),
        }
    }
    if s.negotiations_over_limit > 0 {
        let _ = writeln!(out, "  ... and {} more negotiation(s) not kept", s.negotiations_over_limit);
    }
    let transfers = Transfers::of(s);
    if transfers.total > 0 {
        let _ = writeln!(out, "  {transfers}");
    }
    for c in &s.probable_data_channels {
        let _ = writeln!(
            out,
            "  {:>6}  probable data connection {} -> {}: {}",
            format!("#{}", c.syn_frame),
            Sock(c.client),
            Sock(c.server),
            st.outcome(c.outcome)
        );
    }
}

/// A run of alike negotiations is folded when at least this many lie between its first two and
/// its last (a run of six or more): they become one line.
const FOLD_FROM: usize = 3;

/// Two negotiations whose lines differ only in their frame and the advertised port, and that led
/// to nothing (no connection, no transfer): nothing but the frames would tell them apart.
fn alike(a: &Negotiation, b: &Negotiation) -> bool {
    let led_to_nothing = |n: &Negotiation| {
        let d = &n.data;
        d.connection.is_none()
            && d.earlier_attempts.is_empty()
            && d.command.is_none()
            && d.reply_code.is_none()
            && d.transfer.is_none()
            && d.record.is_none()
            && d.content.not_asked()
    };
    led_to_nothing(a)
        && led_to_nothing(b)
        && a.command == b.command
        && a.command_implied == b.command_implied
        && a.reply_code == b.reply_code
        && a.advertised.map(|s| s.ip()) == b.advertised.map(|s| s.ip())
        && a.advertised_class == b.advertised_class
        && a.malformed == b.malformed
        && a.data.outcome == b.data.outcome
}

/// The middle of a run of alike negotiations, on one line: how many, their frames and ports.
fn folded(out: &mut String, middle: &[Negotiation]) {
    let (Some(first), Some(last)) = (middle.first(), middle.last()) else { return };
    let _ = write!(out, "          ... {} more alike, frames #{} to #{}", middle.len(), first.frame, last.frame);
    let ports = middle.iter().filter_map(|n| n.advertised.map(|a| a.port()));
    if let (Some(low), Some(high)) = (ports.clone().min(), ports.max()) {
        if low == high {
            let _ = write!(out, ", port {low}");
        } else {
            let _ = write!(out, ", ports {low} to {high}");
        }
    }
    out.push_str(" (each in --json)\n");
}

/// The session's facts on one line, `, ` between them.
fn facts(out: &mut String, s: &Session) {
    if let Some(b) = &s.banner {
        let _ = write!(out, "banner \"{b}\", ");
    }
    let _ = write!(out, "first frame {}, {} command(s), {} reply(ies)", s.first_frame, s.commands, s.replies);
    if let Some((f, by)) = s.protected() {
        let _ = write!(out, ", {} from frame {f}", by.name());
    }
    // After CCC the control channel is readable again: what follows was read, not guessed.
    if let Some(f) = s.clear_again_frame {
        let _ = write!(out, ", back to clear text from frame {f} (CCC)");
    }
    if s.control.gaps > 0 || s.control.retransmitted_bytes > 0 {
        let _ = write!(
            out,
            ", control: {} gap(s), {} retransmitted byte(s), {} out-of-order segment(s)",
            s.control.gaps, s.control.retransmitted_bytes, s.control.out_of_order_segments
        );
    }
    if s.control.overlong_lines > 0 {
        let _ = write!(out, ", {} overlong control line(s) cut", s.control.overlong_lines);
    }
}

fn negotiation(out: &mut String, st: &Style, n: &Negotiation) {
    // Written piece by piece into `out`: this line is most of a busy capture's report, and the
    // formatting machinery (a `format!` per padded field) was most of its cost.
    let mut digits = itoa::Buffer::new();
    // The frame right-aligned as `{:>6}` aligns "#N"; the command left-aligned in 4 columns,
    // in parentheses when the capture does not hold it (one direction only).
    let frame = digits.format(n.frame);
    out.push_str("  ");
    pad(out, 5usize.saturating_sub(frame.len()));
    out.push('#');
    out.push_str(frame);
    out.push_str("  ");
    let name = n.command.as_str();
    if n.command_implied {
        out.push('(');
        out.push_str(name);
        out.push(')');
    } else {
        out.push_str(name);
        pad(out, 4usize.saturating_sub(name.len()));
    }
    match n.reply_code {
        Some(code) => {
            out.push(' ');
            out.push_str(digits.format(code));
        }
        None => out.push_str(" ---"),
    }
    match (&n.advertised, &n.malformed) {
        (Some(a), _) => {
            out.push(' ');
            Sock(*a).push_to(out);
            if let Some(class) = n.advertised_class.filter(|c| c.is_unreachable_from_elsewhere()) {
                out.push_str(" (");
                out.push_str(class.describe());
                out.push(')');
            }
        }
        (None, Some(m)) => {
            out.push_str(" malformed: ");
            out.push_str(m);
        }
        (None, None) => {}
    }
    out.push_str("  -> ");
    st.word(out, st.outcome_code(n.data.outcome), n.data.outcome.as_str());
    if let Some(c) = &n.data.connection {
        out.push_str(" (SYN #");
        out.push_str(digits.format(c.syn_frame));
        out.push(' ');
        Sock(c.client).push_to(out);
        out.push_str(" -> ");
        Sock(c.server).push_to(out);
        if c.syns > 1 {
            let _ = write!(out, ", {} SYNs", c.syns);
        }
        if n.data.bytes > 0 {
            out.push_str(", ");
            out.push_str(digits.format(n.data.bytes));
            out.push_str(" bytes");
        }
        out.push(')');
    }
    for c in &n.data.earlier_attempts {
        let _ = write!(out, " [earlier try: SYN #{} -> {} {}", c.syn_frame, Sock(c.server), c.outcome.as_str());
        if c.syns > 1 {
            let _ = write!(out, ", {} SYNs", c.syns);
        }
        out.push(']');
    }
    // A transfer known from its replies alone (only the server's side captured): "(transfer)".
    match (&n.data.command, n.data.reply_code) {
        (Some(cmd), code) => {
            out.push_str("  ");
            out.push_str(cmd);
            if let Some(code) = code {
                out.push(' ');
                out.push_str(digits.format(code));
            }
        }
        (None, Some(code)) => {
            out.push_str("  (transfer) ");
            out.push_str(digits.format(code));
        }
        (None, None) => {}
    }
    match n.data.transfer {
        Some(Verdict::Ok) => {
            out.push_str(": ");
            st.word(out, "32", "ok");
        }
        Some(Verdict::Failed(why)) => {
            out.push_str(": ");
            st.word(out, "31", "failed");
            let _ = write!(out, " ({})", why.as_str().replace('_', " "));
        }
        Some(Verdict::Unknown) => {
            out.push_str(": ");
            st.word(out, "33", "not known");
        }
        None => {}
    }
    out.push('\n');
    if let Some(r) = n.data.record.as_ref().filter(|r| super::transfer::worth_a_line(r)) {
        let _ = writeln!(out, "          {}", super::transfer::RecordLine(r));
    }
    if !n.data.content.not_asked() {
        let _ = writeln!(out, "          {}", super::notes::content(&n.data.content));
    }
}

/// `n` blanks.
fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// `text` as [`wrap`] cuts it, each line written after its indent (`first` for the first line)
/// and ended: straight into `out`, without a `String` per line.
fn write_wrapped(out: &mut String, text: &str, width: usize, first: &str, indent: &str) {
    // Bytes of the line being written, 0 before its first word.
    let mut len = 0;
    let mut lines = 0;
    for word in text.split_whitespace() {
        if len > 0 && len + 1 + word.len() > width {
            out.push('\n');
            len = 0;
        }
        if len == 0 {
            out.push_str(if lines == 0 { first } else { indent });
            lines += 1;
        } else {
            out.push(' ');
            len += 1;
        }
        out.push_str(word);
        len += word.len();
    }
    if len > 0 {
        out.push('\n');
    }
}

/// `text` in lines of at most `width` bytes, words kept whole (a longer word stands alone).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(super::wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert!(super::wrap("", 7).is_empty());
    }
}
