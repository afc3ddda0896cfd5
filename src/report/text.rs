//! Plain-text rendering of a [`Report`]: a header with totals, then each session with its
//! negotiations (one line each) and its findings with explanation and fix.
//!
//! Owns the human-readable layout. Colour only when asked (the caller decides from the terminal
//! and NO_COLOR).

use crate::report::{Finding, Negotiation, Report, Session, Severity};
use std::fmt::Write;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn severity(&self, sev: Severity) -> String {
        match sev {
            Severity::Error => self.paint("1;31", "ERROR"),
            Severity::Warning => self.paint("1;33", "WARN "),
            Severity::Info => self.paint("1;36", "INFO "),
        }
    }
    fn outcome(&self, o: crate::report::Outcome) -> String {
        let code = if o == crate::report::Outcome::Established { "32" } else if o.is_failure() || o == crate::report::Outcome::Rejected { "31" } else { "33" };
        self.paint(code, o.as_str())
    }
}

pub fn render(report: &Report, color: bool) -> String {
    let st = Style { color };
    let mut out = String::new();
    let c = &report.capture;
    let count = |sev| report.findings.iter().filter(|f| f.severity == sev).count();
    let negotiations: usize = report.sessions.iter().map(|s| s.negotiations.len()).sum();
    let _ = writeln!(
        out,
        "{} {} frames, {} TCP connections, {} FTP session(s), {} negotiation(s): {} error(s), {} warning(s), {} info",
        st.bold("ftpscope:"),
        c.frames,
        c.tcp_connections,
        report.sessions.len(),
        negotiations,
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    for input in &c.inputs {
        if let Some(why) = &input.truncated {
            let _ = writeln!(out, "{} {}: capture ends early ({why}); analysed up to the break", st.severity(Severity::Warning), input.path);
        }
    }
    if c.undecodable_frames + c.unsupported_frames + c.evicted_connections + c.sessions_over_limit > 0 {
        let _ = writeln!(
            out,
            "{}",
            st.dim(&format!(
                "({} undecodable frame(s), {} of unsupported link type, {} connection(s) evicted from memory, {} session(s) over the limit)",
                c.undecodable_frames, c.unsupported_frames, c.evicted_connections, c.sessions_over_limit
            ))
        );
    }
    if report.sessions.is_empty() {
        let _ = writeln!(out, "\nNo FTP control channel found (FTP is recognised by content on any port: a reply line from the server and an FTP command from the client).");
    }
    for s in &report.sessions {
        out.push('\n');
        session(&mut out, &st, s);
        for f in report.findings.iter().filter(|f| f.session == s.id) {
            finding(&mut out, &st, f);
        }
    }
    out
}

fn session(out: &mut String, st: &Style, s: &Session) {
    let mut head = format!("session {}  {} -> {}", s.id, s.client, s.server);
    if let Some(u) = &s.user {
        let _ = write!(head, "  user {u}");
    }
    let _ = writeln!(out, "{}", st.bold(&head));
    let mut facts = Vec::new();
    if let Some(b) = &s.banner {
        facts.push(format!("banner \"{b}\""));
    }
    facts.push(format!("first frame {}", s.first_frame));
    facts.push(format!("{} command(s), {} reply(ies)", s.commands, s.replies));
    if let Some(f) = s.tls_frame {
        facts.push(format!("TLS from frame {f}"));
    }
    if s.control.gaps > 0 || s.control.retransmitted_bytes > 0 {
        facts.push(format!(
            "control: {} gap(s), {} retransmitted byte(s), {} out-of-order segment(s)",
            s.control.gaps, s.control.retransmitted_bytes, s.control.out_of_order_segments
        ));
    }
    let _ = writeln!(out, "  {}", st.dim(&facts.join(", ")));
    for n in &s.negotiations {
        negotiation(out, st, n);
    }
    if s.negotiations_over_limit > 0 {
        let _ = writeln!(out, "  ... and {} more negotiation(s) not kept", s.negotiations_over_limit);
    }
    for c in &s.probable_data_channels {
        let _ = writeln!(out, "  {:>6}  probable data connection {} -> {}: {}", format!("#{}", c.syn_frame), c.client, c.server, st.outcome(c.outcome));
    }
}

fn negotiation(out: &mut String, st: &Style, n: &Negotiation) {
    let mut line = format!("  {:>6}  {:<4}", format!("#{}", n.frame), format!("{:?}", n.command));
    match n.reply_code {
        Some(code) => {
            let _ = write!(line, " {code}");
        }
        None => line.push_str(" ---"),
    }
    match (&n.advertised, &n.malformed) {
        (Some(a), _) => {
            let class = n.advertised_class.filter(|c| c.is_unreachable_from_elsewhere()).map(|c| format!(" ({})", c.describe()));
            let _ = write!(line, " {a}{}", class.unwrap_or_default());
        }
        (None, Some(m)) => {
            let _ = write!(line, " malformed: {m}");
        }
        (None, None) => {}
    }
    let _ = write!(line, "  -> {}", st.outcome(n.data.outcome));
    if let Some(c) = &n.data.connection {
        let _ = write!(line, " (SYN #{} {} -> {}", c.syn_frame, c.client, c.server);
        if c.syns > 1 {
            let _ = write!(line, ", {} SYNs", c.syns);
        }
        if n.data.bytes > 0 {
            let _ = write!(line, ", {} bytes", n.data.bytes);
        }
        line.push(')');
    }
    if let Some(cmd) = &n.data.command {
        let _ = write!(line, "  {cmd}");
        if let Some(code) = n.data.reply_code {
            let _ = write!(line, " {code}");
        }
    }
    let _ = writeln!(out, "{line}");
}

fn finding(out: &mut String, st: &Style, f: &Finding) {
    let frames: Vec<String> = f.frames.iter().map(|x| format!("#{x}")).collect();
    let times = if f.occurrences > 1 { format!(" (x{})", f.occurrences) } else { String::new() };
    let _ = writeln!(out, "  {} {}{times} {}  {}", st.severity(f.severity), f.kind.as_str(), st.dim(&frames.join(" ")), f.summary);
    for line in wrap(&f.explanation, 92) {
        let _ = writeln!(out, "        {line}");
    }
    for fix in &f.fix {
        let mut first = true;
        for line in wrap(fix, 90) {
            let _ = writeln!(out, "        {} {line}", if first { st.bold("fix:") } else { "    ".into() });
            first = false;
        }
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
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
