//! One self-contained HTML page (`--html FILE`): the capture's summary, every problem session
//! in full (its negotiations, findings, explanations and fixes), the other sessions in one
//! compact table. Everything is inline (CSS only, no script, no font, no image), so the file can
//! be mailed or attached to a ticket and opens anywhere; its Content-Security-Policy forbids
//! scripts and every outside fetch, so even a failure of escaping could not run anything.
//!
//! Owns the page's layout. Every text taken from the capture goes through [`Escaped`]; the
//! words of findings and fixes come from report::finding and report::fix, as in the text output.

use super::addr::Sock;
use super::escape::Escaped;
use super::finding::{Explanation, Summary as FindingSummary};
use super::ladder::ladder;
use super::svg::ladder_svg;
use super::{InputSummary, Sink, Tone};
use crate::model::{Event, Finding, FindingKind, Fix, Negotiation, Outcome, Session, Severity, Summary};
use crate::AddrMap;
use std::fmt::{Display, Write as _};
use std::io::{self, Write};
use std::net::SocketAddr;

/// Problem sessions drawn in full; later ones get a row in the table, like healthy sessions (a
/// page of ten thousand ladders helps nobody, and the first ones show the cause).
const MAX_DETAILED: usize = 100;
/// Rows of the session table; past it the sessions are counted.
const MAX_ROWS: usize = 2000;

/// The page, written to `out` once the input is over (the summary comes first on the page but
/// is known last).
pub struct HtmlPage<W: Write> {
    out: W,
    detailed: Vec<Session>,
    rows: Vec<Row>,
    rows_not_shown: u64,
    across: Vec<Finding>,
    /// (kind, severity) -> sessions with such a finding, in order of first appearance.
    tally: Vec<((FindingKind, Severity), u64)>,
    summary: Summary,
}

/// A session in the compact table.
struct Row {
    id: u32,
    client: SocketAddr,
    server: SocketAddr,
    user: Option<String>,
    banner: Option<String>,
    negotiations: usize,
    /// Data connection outcomes with their counts, in order of first appearance.
    outcomes: Vec<(Outcome, u32)>,
    /// The findings' kinds and severities (info ones for a healthy session).
    findings: Vec<(Severity, FindingKind)>,
}

impl Row {
    fn of(s: &Session) -> Row {
        let mut outcomes: Vec<(Outcome, u32)> = Vec::new();
        for n in &s.negotiations {
            match outcomes.iter_mut().find(|(o, _)| *o == n.data.outcome) {
                Some((_, count)) => *count += 1,
                None => outcomes.push((n.data.outcome, 1)),
            }
        }
        Row {
            id: s.id,
            client: s.client,
            server: s.server,
            user: s.user.clone(),
            banner: s.banner.clone(),
            negotiations: s.negotiations.len(),
            outcomes,
            findings: s.findings.iter().map(|f| (f.severity, f.kind)).collect(),
        }
    }
}

/// A session is a problem when it has an error or a warning.
fn is_problem(s: &Session) -> bool {
    s.findings.iter().any(|f| f.severity >= Severity::Warning)
}

impl<W: Write> HtmlPage<W> {
    pub fn new(out: W) -> HtmlPage<W> {
        HtmlPage {
            out,
            detailed: Vec::new(),
            rows: Vec::new(),
            rows_not_shown: 0,
            across: Vec::new(),
            tally: Vec::new(),
            summary: Summary::default(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn count(&mut self, f: &Finding) {
        let key = (f.kind, f.severity);
        match self.tally.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => self.tally.push((key, 1)),
        }
    }
}

impl<W: Write> Sink for HtmlPage<W> {
    fn event(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::SessionEnd { record, .. } => {
                for f in &record.findings {
                    self.count(f);
                }
                if is_problem(record) && self.detailed.len() < MAX_DETAILED {
                    self.detailed.push((**record).clone());
                } else if self.rows.len() < MAX_ROWS {
                    self.rows.push(Row::of(record));
                } else {
                    self.rows_not_shown += 1;
                }
            }
            Event::Finding { finding, .. } => {
                self.count(finding);
                self.across.push((**finding).clone());
            }
            Event::Summary { summary, .. } => self.summary = (**summary).clone(),
            _ => {}
        }
        Ok(())
    }

    fn finish(&mut self, inputs: &[InputSummary]) -> io::Result<()> {
        let mut page = String::with_capacity(64 * 1024);
        self.write_page(&mut page, inputs);
        self.out.write_all(page.as_bytes())?;
        self.out.flush()
    }
}

impl<W: Write> HtmlPage<W> {
    fn write_page(&self, out: &mut String, inputs: &[InputSummary]) {
        let names: Vec<&str> = inputs.iter().map(|i| i.path.as_str()).collect();
        let _ = writeln!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>ftpscope: {}</title>\n<style>{STYLE}</style></head>\n<body>",
            Escaped(names.join(", "))
        );
        self.capture(out, inputs);
        let mut explained = Explained::default();
        for s in &self.detailed {
            session(out, s, &mut explained);
        }
        if !self.across.is_empty() {
            out.push_str("<section id=\"across\"><h2>Findings across sessions</h2>\n");
            for f in &self.across {
                finding(out, f, &mut explained);
            }
            out.push_str("</section>\n");
        }
        self.table(out);
        let _ = writeln!(out, "<footer>ftpscope {}</footer>\n</body></html>", env!("CARGO_PKG_VERSION"));
    }

    /// What was read and the totals, as the text report's last lines say them.
    fn capture(&self, out: &mut String, inputs: &[InputSummary]) {
        let c = &self.summary;
        out.push_str("<header id=\"capture\"><h1>ftpscope report</h1>\n<table class=\"inputs\"><tr><th>input</th><th>frames</th><th>first frame</th><th></th></tr>\n");
        for i in inputs {
            let _ = write!(out, "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>", Escaped(&i.path), i.frames, i.first_frame);
            if let Some(why) = &i.truncated {
                let _ = write!(out, "<span class=\"note\">ends early ({}): analysed up to the break</span>", Escaped(why));
            }
            out.push_str("</td></tr>\n");
        }
        out.push_str("</table>\n<dl class=\"totals\">");
        for (name, value) in [
            ("frames", c.frames),
            ("TCP connections", c.tcp_connections),
            ("FTP sessions", c.sessions),
            ("negotiations", c.negotiations),
            ("errors", c.errors),
            ("warnings", c.warnings),
            ("info", c.infos),
        ] {
            let _ = write!(out, "<div><dt>{name}</dt><dd>{value}</dd></div>");
        }
        out.push_str("</dl>\n");
        if c.sessions == 0 {
            out.push_str(
                "<p>No FTP control channel found (FTP is recognised by content on any port: a reply line from the server and an FTP \
                 command from the client).</p>\n",
            );
        }
        if !self.tally.is_empty() {
            out.push_str("<table class=\"kinds\"><tr><th>severity</th><th>finding</th><th>sessions</th></tr>\n");
            for ((kind, severity), sessions) in &self.tally {
                let _ = writeln!(out, "<tr><td>{}</td><td><code>{}</code></td><td>{sessions}</td></tr>", badge(*severity), kind.as_str());
            }
            out.push_str("</table>\n");
        }
        let dropped = [
            (c.undecodable_frames, "undecodable frame(s)"),
            (c.unsupported_frames, "frame(s) of unsupported link type"),
            (c.evicted_connections, "connection(s) evicted from memory"),
            (c.sessions_over_limit, "session(s) over the limit"),
            (c.control_over_budget_bytes, "control byte(s) over the buffer budget"),
        ];
        let dropped: Vec<String> = dropped.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
        if !dropped.is_empty() {
            let _ = writeln!(out, "<p class=\"dim\">Not analysed: {}.</p>", dropped.join(", "));
        }
        out.push_str("</header>\n");
    }

    /// Healthy sessions (and problem sessions past [`MAX_DETAILED`]), one row each.
    fn table(&self, out: &mut String) {
        if self.rows.is_empty() {
            return;
        }
        out.push_str(
            "<section id=\"sessions\"><h2>Other sessions</h2>\n<table class=\"sessions\"><tr><th>session</th><th>client</th>\
             <th>server</th><th>user</th><th>banner</th><th>negotiations</th><th>data connections</th><th>findings</th></tr>\n",
        );
        for r in &self.rows {
            let outcomes: Vec<String> = r.outcomes.iter().map(|(o, n)| format!("{n} {}", outcome(*o))).collect();
            let findings: Vec<String> = r.findings.iter().map(|(s, k)| format!("{} <code>{}</code>", badge(*s), k.as_str())).collect();
            let _ = writeln!(
                out,
                "<tr id=\"session-{}\"><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                r.id,
                r.id,
                Sock(r.client),
                Sock(r.server),
                Escaped(r.user.as_deref().unwrap_or("")),
                Escaped(r.banner.as_deref().unwrap_or("")),
                r.negotiations,
                outcomes.join(", "),
                findings.join(" "),
            );
        }
        out.push_str("</table>\n");
        if self.rows_not_shown > 0 {
            let _ = writeln!(out, "<p class=\"dim\">and {} more session(s), not shown</p>", self.rows_not_shown);
        }
        out.push_str("</section>\n");
    }
}

/// Causes already explained on the page: (kind, severity, fixes) -> the session that explains it.
#[derive(Default)]
struct Explained(AddrMap<(FindingKind, Severity, Vec<Fix>), u32>);

fn session(out: &mut String, s: &Session, explained: &mut Explained) {
    let _ = write!(
        out,
        "<section class=\"session\" id=\"session-{}\">\n<h2>Session {}: <code>{}</code> → <code>{}</code>",
        s.id,
        s.id,
        Sock(s.client),
        Sock(s.server)
    );
    if let Some(user) = &s.user {
        let _ = write!(out, " user <code>{}</code>", Escaped(user));
    }
    out.push_str("</h2>\n<p class=\"facts\">");
    if let Some(banner) = &s.banner {
        let _ = write!(out, "banner <q>{}</q> ({}), ", Escaped(banner), s.software.name());
    }
    let _ = write!(out, "frames {} to {}, {} command(s), {} reply(ies)", s.first_frame, s.last_frame, s.commands, s.replies);
    if let Some(f) = s.tls_frame {
        let _ = write!(out, ", TLS from frame {f}");
    }
    out.push_str("</p>\n<figure>");
    ladder_svg(out, s.id, &ladder(s));
    out.push_str("</figure>\n");
    negotiations(out, s);
    for f in &s.findings {
        finding(out, f, explained);
    }
    out.push_str("</section>\n");
}

fn negotiations(out: &mut String, s: &Session) {
    if s.negotiations.is_empty() {
        return;
    }
    out.push_str(
        "<table class=\"negotiations\"><tr><th>frame</th><th>command</th><th>reply</th><th>advertised</th><th>data connection</th>\
         <th>transfer</th></tr>\n",
    );
    for n in &s.negotiations {
        negotiation(out, n);
    }
    out.push_str("</table>\n");
    if s.negotiations_over_limit > 0 {
        let _ = writeln!(out, "<p class=\"dim\">and {} more negotiation(s), not kept</p>", s.negotiations_over_limit);
    }
}

fn negotiation(out: &mut String, n: &Negotiation) {
    let _ = write!(out, "<tr><td>#{}</td><td>{:?}", n.frame, n.command);
    if let Some(arg) = &n.argument {
        let _ = write!(out, " <code>{}</code>", Escaped(arg));
    }
    out.push_str("</td><td>");
    if let Some(code) = n.reply_code {
        let _ = write!(out, "{code}");
        if let Some(frame) = n.reply_frame {
            let _ = write!(out, " #{frame}");
        }
    }
    out.push_str("</td><td>");
    match (&n.advertised, n.malformed) {
        (Some(a), _) => {
            let _ = write!(out, "<code>{}</code>", Sock(*a));
            if let Some(class) = n.advertised_class.filter(|c| c.is_unreachable_from_elsewhere()) {
                let _ = write!(out, " <span class=\"note\">{}</span>", class.describe());
            }
        }
        (None, Some(why)) => {
            let _ = write!(out, "malformed: {}", Escaped(why));
        }
        (None, None) => {}
    }
    let _ = write!(out, "</td><td>{}", outcome(n.data.outcome));
    if let Some(c) = &n.data.connection {
        let _ = write!(out, " SYN #{} <code>{}</code> → <code>{}</code>", c.syn_frame, Sock(c.client), Sock(c.server));
        if c.syns > 1 {
            let _ = write!(out, ", {} SYNs", c.syns);
        }
        if let (Some(icmp), Some(frame)) = (c.unreachable, c.unreachable_frame) {
            let _ = write!(out, ", {icmp} in #{frame}");
        }
        if let Some(frame) = c.rst_frame {
            let by = c.rst_from.map(|side| side.as_str()).unwrap_or("unknown side");
            let _ = write!(out, ", RST #{frame} from the {by}");
        }
        if n.data.bytes > 0 {
            let _ = write!(out, ", {} bytes", n.data.bytes);
        }
    }
    out.push_str("</td><td>");
    if let Some(cmd) = &n.data.command {
        let _ = write!(out, "<code>{}</code>", Escaped(cmd));
        if let Some(code) = n.data.reply_code {
            let _ = write!(out, " {code}");
        }
        if let Some(text) = &n.data.reply_text {
            let _ = write!(out, " <q>{}</q>", Escaped(text.trim()));
        }
    }
    out.push_str("</td></tr>\n");
}

/// One finding: its summary, then its explanation and fixes, or a link to the session that
/// already explained the same cause.
fn finding(out: &mut String, f: &Finding, explained: &mut Explained) {
    let frames: Vec<String> = f.frames.iter().map(|x| format!("#{x}")).collect();
    let _ = write!(
        out,
        "<article class=\"finding {}\">\n<h3>{} <code>{}</code>",
        severity_class(f.severity),
        badge(f.severity),
        f.kind.as_str()
    );
    if f.occurrences > 1 {
        let _ = write!(out, " (×{})", f.occurrences);
    }
    let _ =
        writeln!(out, " <span class=\"frames\">{}</span></h3>\n<p class=\"summary\">{}</p>", frames.join(" "), Escaped(FindingSummary(f)));
    let cause = (f.kind, f.severity, f.fix.clone());
    match explained.0.get(&cause).copied().filter(|&s| s != f.session) {
        Some(first) => {
            let _ = writeln!(
                out,
                "<p class=\"dim\">Same cause and fix as in <a href=\"#session-{first}\">session {first}</a>, explained above.</p>"
            );
        }
        None => {
            explained.0.entry(cause).or_insert(f.session);
            let _ = writeln!(out, "<p class=\"explanation\">{}</p>", Escaped(Explanation(f)));
            if !f.fix.is_empty() {
                out.push_str("<h4>Fix</h4>\n<ol class=\"fixes\">\n");
                for fix in &f.fix {
                    let _ = writeln!(out, "<li><pre><code>{}</code></pre></li>", Escaped(fix));
                }
                out.push_str("</ol>\n");
            }
        }
    }
    out.push_str("</article>\n");
}

fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

fn badge(s: Severity) -> impl Display {
    let word = match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARN",
        Severity::Info => "INFO",
    };
    format!("<span class=\"badge {}\">{word}</span>", severity_class(s))
}

fn outcome(o: Outcome) -> impl Display {
    let class = match Tone::of(o) {
        Tone::Good => "ok",
        Tone::Bad => "error",
        Tone::Doubtful => "warning",
    };
    format!("<span class=\"outcome {class}\">{}</span>", o.as_str())
}

const STYLE: &str = "
body{font:15px/1.45 system-ui,sans-serif;color:#1d1d1f;background:#fff;margin:0 auto;max-width:1140px;padding:16px 24px}
h1{font-size:24px;margin:8px 0}h2{font-size:19px;margin:28px 0 6px;border-top:1px solid #d8d8de;padding-top:14px}
h3{font-size:15px;margin:0 0 4px}h4{font-size:14px;margin:8px 0 2px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre{background:#f3f3f6;border:1px solid #dedee4;border-radius:4px;padding:6px 8px;margin:2px 0;white-space:pre-wrap;user-select:all}
table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid #e4e4ea;padding:3px 8px;text-align:left;vertical-align:top}
th{font-weight:600;background:#f6f6f9}
dl.totals{display:flex;flex-wrap:wrap;gap:6px 22px;margin:8px 0}dl.totals div{display:flex;gap:6px}dt{color:#555}dd{margin:0;font-weight:600}
.badge{font:700 11px/1 system-ui,sans-serif;padding:2px 5px;border-radius:3px;color:#fff}
.badge.error{background:#a4262c}.badge.warning{background:#986f0b}.badge.info{background:#2b6cb0}
.outcome.ok{color:#1e7b34;font-weight:600}.outcome.error{color:#a4262c;font-weight:600}.outcome.warning{color:#986f0b;font-weight:600}
.note{color:#986f0b}
article.finding{border-left:4px solid #ccc;padding:4px 12px;margin:10px 0}
article.error{border-color:#a4262c}article.warning{border-color:#986f0b}article.info{border-color:#2b6cb0}
.frames,.dim,footer{color:#666}footer{margin-top:24px;font-size:12px}
ol.fixes{padding-left:22px;margin:2px 0}
figure{margin:10px 0;overflow-x:auto}
";
