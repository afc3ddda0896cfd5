//! `explain --html FILE`: the explanation as one self-contained HTML page. Per capture: what
//! was read and the totals, the verdict, each problem story in full (its ladder diagram in
//! SVG, what happened, why, what to change, its negotiations, its findings with their
//! explanations; the sessions like it counted), the healthy stories in one table, then what
//! concerns the whole capture (clear-text logins). Everything is inline (CSS only, no script, no
//! font, no image), so the file can be mailed or attached to a ticket and opens anywhere; its
//! Content-Security-Policy forbids scripts and every outside fetch, so even a failure of
//! escaping could not run anything.
//!
//! Owns the page's layout. The facts and words are report::explain's and the kinds' (problems/),
//! the diagram report::svg's; every text taken from the capture goes through [`Escaped`].

use super::escape::Escaped;
use super::explain::story::Fact;
use super::explain::words::NoFtp;
use super::explain::{Explained, Problem};
use super::fix::apply;
use super::points::{Compared, PointsText};
use super::svg::ladder_svg;
use super::Tone;
use crate::model::notation::Sock;
use crate::model::{Finding, FindingKind, Fix, Negotiation, Outcome, Session, Severity};
use crate::problems::told::Told;
use crate::problems::{cause, Brief, Explanation, Summary as FindingSummary};
use std::fmt::{Display, Write as _};
use std::io::{self, Write};
use std::net::SocketAddr;

/// Writes the page for every capture, one after the other, then what two capture points of
/// the same traffic show (`points`, given two captures).
pub fn write(out: &mut dyn Write, captures: &[Explained], points: Option<&Compared>) -> io::Result<()> {
    write_with(out, captures, points, None)
}

/// A section told before the explanations, in lines of plain text (escaped here): `probe`'s
/// verdict per mode, what the person asked first.
pub struct Preface<'a> {
    pub title: &'a str,
    pub lines: &'a [String],
}

/// [`write`], with `preface` first.
pub fn write_with(out: &mut dyn Write, captures: &[Explained], points: Option<&Compared>, preface: Option<&Preface<'_>>) -> io::Result<()> {
    let mut page = String::with_capacity(64 * 1024);
    let paths: Vec<&str> = captures.iter().flat_map(|e| &e.inputs).map(|i| i.path.as_str()).collect();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>ftpscope explain: {}</title>\n<style>{STYLE}</style></head>\n<body>\n<h1>ftpscope explain</h1>\n",
        Escaped(paths.join(", "))
    );
    if let Some(p) = preface {
        let _ = write!(page, "<section class=\"preface\"><h2>{}</h2>\n<ul>\n", Escaped(p.title));
        for line in p.lines {
            let _ = writeln!(page, "<li>{}</li>", Escaped(line));
        }
        page.push_str("</ul></section>\n");
    }
    // Written a capture at a time: two explanations and a comparison are not held at once.
    for (i, e) in captures.iter().enumerate() {
        capture(&mut page, &Anchor(i), e);
        out.write_all(page.as_bytes())?;
        page.clear();
    }
    if let Some(p) = points {
        // The comparison's own text layout, kept whole: its columns line up in a <pre>. Written
        // straight to the file, escaped on the way: for many sessions it is most of the page.
        writeln!(
            out,
            "<section class=\"points\"><h2>Two capture points: the same traffic at <code>{}</code> and <code>{}</code></h2>\n\
             <pre>{}</pre></section>",
            Escaped(&p.a.input.path),
            Escaped(&p.b.input.path),
            Escaped(PointsText(p))
        )?;
    }
    let _ = writeln!(page, "<footer>ftpscope {}</footer>\n</body></html>", env!("CARGO_PKG_VERSION"));
    out.write_all(page.as_bytes())?;
    out.flush()
}

/// Element ids of one capture's sessions: session ids repeat from one capture to the next.
struct Anchor(usize);

impl Anchor {
    fn session(&self, id: u32) -> String {
        format!("c{}-session-{id}", self.0)
    }
}

fn capture(out: &mut String, at: &Anchor, e: &Explained) {
    let paths: Vec<&str> = e.inputs.iter().map(|i| i.path.as_str()).collect();
    let _ = writeln!(out, "<section class=\"capture\" id=\"c{}\">\n<h2>{}</h2>", at.0, Escaped(paths.join(", ")));
    summary(out, e);
    if e.no_ftp() {
        let _ = writeln!(out, "<p class=\"verdict\">{}</p>", Escaped(NoFtp(e)));
        let mut told = Told::default();
        for f in &e.across {
            finding(out, at, f, &[], &mut told);
        }
        out.push_str("</section>\n");
        return;
    }
    let _ = writeln!(out, "<p class=\"verdict\">{}</p>", Escaped(&e.verdict));
    kinds(out, e);
    // Each server from the whole capture: what it shows (the text report's words, in a <pre>
    // so its columns line up), then its one fix block with the lines to type.
    for s in e.servers.servers() {
        let at = Sock(SocketAddr::new(s.picture.address, s.picture.control_port));
        let _ = writeln!(out, "<h3>Server <code>{}</code></h3>", Escaped(at));
        let mut picture = String::new();
        super::server::picture_text(&mut picture, s, 100, |sev| super::server::severity_word(sev).to_string());
        let _ = writeln!(out, "<pre class=\"server\">{}</pre>", Escaped(picture.trim_end()));
        if s.fix.is_empty() {
            out.push_str("<p>Its passive setup needs no change: the capture shows nothing to fix there.</p>\n");
        } else {
            out.push_str("<h4>What to change on it</h4>\n");
            fixes(out, &s.fix);
        }
    }
    let mut told = Told::default();
    let (capture_wide, across): (Vec<&Finding>, Vec<&Finding>) = e.across.iter().partition(|f| f.is_about_capture());
    if !across.is_empty() {
        out.push_str("<h3>Across sessions</h3>\n");
        for f in across {
            finding(out, at, f, &[], &mut told);
        }
    }
    for p in &e.problems {
        problem(out, at, p, &mut told);
    }
    if e.problems_left_out > 0 {
        let _ = writeln!(
            out,
            "<p class=\"dim\">{} more session(s) with a problem, counted in the verdict, not told here.</p>",
            e.problems_left_out
        );
    }
    healthy(out, at, e);
    // About the capture, not a session's problem: once, after the sessions.
    if !capture_wide.is_empty() {
        out.push_str("<h3>For the whole capture</h3>\n");
        for f in capture_wide {
            finding(out, at, f, &[], &mut told);
        }
    }
    out.push_str("</section>\n");
}

/// What was read and the analyzer's totals.
fn summary(out: &mut String, e: &Explained) {
    let c = &e.summary;
    out.push_str("<table class=\"inputs\"><tr><th>input</th><th>frames</th><th>first frame</th><th></th></tr>\n");
    for i in &e.inputs {
        let _ = write!(out, "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>", Escaped(&i.path), i.frames, i.first_frame);
        if let Some(why) = &i.truncated {
            let _ = write!(out, "<span class=\"note\">ends early ({}): explained up to the break</span>", Escaped(why));
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n");
    for note in [super::notes::implicit_ftps_note(c), super::notes::cut_note(c)].into_iter().flatten() {
        let _ = writeln!(out, "<p class=\"note\">{}.</p>", Escaped(&note));
    }
    out.push_str("<dl class=\"totals\">");
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
    let dropped = super::notes::set_aside(c);
    if !dropped.is_empty() {
        let _ = writeln!(out, "<p class=\"dim\">Set aside: {}.</p>", dropped.join(", "));
    }
}

/// The problems by cause (sessions, from the verdict) and the findings by kind and severity
/// (sessions told on the page, and the findings across sessions).
fn kinds(out: &mut String, e: &Explained) {
    if !e.verdict.causes.is_empty() {
        out.push_str("<table class=\"causes\"><tr><th>cause</th><th>sessions</th></tr>\n");
        for (cause, sessions) in &e.verdict.causes {
            let _ = writeln!(out, "<tr><td>{}</td><td>{sessions}</td></tr>", Brief(*cause));
        }
        out.push_str("</table>\n");
    }
    let mut tally: Vec<((FindingKind, Severity), u64)> = Vec::new();
    let mut count = |key: (FindingKind, Severity), sessions: u64| match tally.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => *n += sessions,
        None => tally.push((key, sessions)),
    };
    for p in &e.problems {
        // Problems only: a consequence is shown with its cause. The sessions of its story have
        // the same findings.
        let causes = p.session.findings.iter().filter(|f| f.caused_by.is_none());
        let mut seen: Vec<(FindingKind, Severity)> = causes.map(|f| (f.kind, f.severity)).collect();
        seen.dedup();
        seen.into_iter().for_each(|key| count(key, 1 + p.like.count()));
    }
    // A finding about the whole capture is in no session: it has its own section.
    e.across.iter().filter(|f| !f.is_about_capture()).for_each(|f| count((f.kind, f.severity), 1));
    if tally.is_empty() {
        return;
    }
    out.push_str("<table class=\"kinds\"><tr><th>severity</th><th>finding</th><th>sessions</th></tr>\n");
    for ((kind, severity), sessions) in &tally {
        let _ = writeln!(out, "<tr><td>{}</td><td><code>{}</code></td><td>{sessions}</td></tr>", badge(*severity), kind.as_str());
    }
    out.push_str("</table>\n");
    if e.problems_left_out > 0 {
        let _ = writeln!(out, "<p class=\"dim\">Findings counted in the {} problem session(s) told below.</p>", e.problems.len());
    }
}

/// Healthy sessions, one row each.
fn healthy(out: &mut String, at: &Anchor, e: &Explained) {
    if e.healthy.is_empty() {
        return;
    }
    out.push_str(
        "<h3>Healthy sessions</h3>\n<table class=\"healthy\"><tr><th>session</th><th>client</th><th>server</th><th>user</th>\
         <th>transfers</th><th>data connections established</th><th>sessions like it</th></tr>\n",
    );
    for h in &e.healthy {
        let like = if h.like.is_empty() { String::new() } else { format!("{}: {}", h.like.count(), h.like) };
        let _ = writeln!(
            out,
            "<tr id=\"{}\"><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{like}</td></tr>",
            at.session(h.session),
            h.session,
            Sock(h.client),
            Sock(h.server),
            Escaped(h.user.as_deref().unwrap_or("")),
            if h.unread { "encrypted: none seen, commands unread".to_string() } else { h.transfers.to_string() },
            h.transfers_ok,
        );
    }
    out.push_str("</table>\n");
    if e.healthy_left_out > 0 {
        let _ = writeln!(out, "<p class=\"dim\">{} more healthy session(s), not listed.</p>", e.healthy_left_out);
    }
}

fn problem(out: &mut String, at: &Anchor, p: &Problem, told: &mut Told) {
    let s = &p.session;
    let worst = s.findings.iter().map(|f| f.severity).max().unwrap_or(Severity::Warning);
    let _ = write!(
        out,
        "<section class=\"session\" id=\"{}\">\n<h3>{} Session {}: <code>{}</code> → <code>{}</code>",
        at.session(s.id),
        badge(worst),
        s.id,
        Sock(s.client),
        Sock(s.server)
    );
    if let Some(user) = &s.user {
        let _ = write!(out, " user <code>{}</code>", Escaped(user));
    }
    out.push_str("</h3>\n<p class=\"facts\">");
    if let Some(banner) = &s.banner {
        let _ = write!(out, "banner <q>{}</q> ({}), ", Escaped(banner), s.software.name());
    }
    let _ = write!(out, "frames {} to {}, {} command(s), {} reply(ies)", s.first_frame, s.last_frame, s.commands, s.replies);
    if let Some((f, by)) = s.protected() {
        let _ = write!(out, ", {} from frame {f}", by.name());
    }
    if let Some(f) = s.clear_again_frame {
        let _ = write!(out, ", back to clear text from frame {f} (CCC)");
    }
    out.push_str("</p>\n");
    if !p.like.is_empty() {
        let _ = writeln!(out, "<p class=\"like\">The same story in {} more session(s): {}.</p>", p.like.count(), p.like);
    }
    out.push_str("<figure>");
    ladder_svg(out, s.id, &p.ladder);
    out.push_str("</figure>\n<h4>What happened</h4>\n<ol class=\"story\">\n");
    for fact in p.story.steps.iter().filter(|f| !matches!(f, Fact::Why { .. })) {
        let _ = writeln!(out, "<li>{}</li>", Escaped(fact));
    }
    out.push_str("</ol>\n");
    match p.told_by(told) {
        Some(first) => {
            let _ = writeln!(
                out,
                "<h4>Why, and what to change</h4>\n<p class=\"dim\">As for <a href=\"#{}\">session {first}</a>, above.</p>",
                at.session(first)
            );
        }
        None => {
            out.push_str("<h4>Why</h4>\n<ul class=\"why\">\n");
            for fact in p.story.steps.iter().filter(|f| matches!(f, Fact::Why { .. })) {
                let _ = writeln!(out, "<li>{}</li>", Escaped(fact));
            }
            out.push_str("</ul>\n");
            if !p.fixes.is_empty() {
                out.push_str("<h4>What to change</h4>\n");
                fixes(out, &p.fixes);
            }
        }
    }
    negotiations(out, s);
    out.push_str("<h4>Findings</h4>\n");
    for f in &s.findings {
        match f.caused_by.and_then(|i| s.findings.get(i as usize)) {
            Some(cause) => consequence(out, f, cause),
            None => finding(out, at, f, &p.fixes, told),
        }
    }
    out.push_str("</section>\n");
}

/// Each fix in words, then the lines to type (report::fix::apply), whole and copyable.
fn fixes(out: &mut String, fixes: &[Fix]) {
    out.push_str("<ol class=\"fixes\">\n");
    for fix in fixes {
        let _ = write!(out, "<li><p>{}</p>", Escaped(fix));
        let lines = apply(fix);
        if !lines.is_empty() {
            let _ = write!(out, "<pre><code>{}</code></pre>", Escaped(lines.join("\n")));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n");
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
    for c in &n.data.earlier_attempts {
        let _ = write!(out, "; earlier try SYN #{} → <code>{}</code> {}", c.syn_frame, Sock(c.server), c.outcome.as_str());
        if c.syns > 1 {
            let _ = write!(out, ", {} SYNs", c.syns);
        }
    }
    out.push_str("</td><td>");
    // A transfer known from its replies alone (only the server's side captured): "(transfer)".
    if n.data.command.is_some() || n.data.reply_code.is_some() {
        match &n.data.command {
            Some(cmd) => {
                let _ = write!(out, "<code>{}</code>", Escaped(cmd));
            }
            None => out.push_str("(transfer)"),
        }
        if let Some(code) = n.data.reply_code {
            let _ = write!(out, " {code}");
        }
        if let Some(text) = &n.data.reply_text {
            let _ = write!(out, " <q>{}</q>", Escaped(text.trim()));
        }
    }
    out.push_str("</td></tr>\n");
}

/// One finding: its summary, then its explanation and the fixes not in `shown` (the session's
/// "What to change"), or a link to the session that already told its cause with its fixes
/// (problems::told).
fn finding(out: &mut String, at: &Anchor, f: &Finding, shown: &[Fix], told: &mut Told) {
    let frames: Vec<String> = f.frames.iter().map(|x| format!("#{x}")).collect();
    let _ = write!(
        out,
        "<article class=\"finding {}\">\n<div class=\"head\">{} <code>{}</code>",
        severity_class(f.severity),
        badge(f.severity),
        f.kind.as_str()
    );
    if f.occurrences > 1 {
        let _ = write!(out, " (×{})", f.occurrences);
    }
    let _ =
        writeln!(out, " <span class=\"frames\">{}</span></div>\n<p class=\"summary\">{}</p>", frames.join(" "), Escaped(FindingSummary(f)));
    match told.earlier(&[cause(f)], &f.fix, f.session) {
        Some(first) => {
            let _ = writeln!(
                out,
                "<p class=\"dim\">Same cause and fix as in <a href=\"#{}\">session {first}</a>, explained above.</p>",
                at.session(first)
            );
        }
        None => {
            let _ = writeln!(out, "<p class=\"explanation\">{}</p>", Escaped(Explanation(f)));
            let more: Vec<Fix> = f.fix.iter().filter(|fix| !shown.contains(fix)).cloned().collect();
            if !more.is_empty() {
                out.push_str("<div class=\"fix\">Fix:</div>\n");
                fixes(out, &more);
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

/// A consequence, under the findings: what it is, of which cause; its fixes are the cause's.
fn consequence(out: &mut String, f: &Finding, cause: &Finding) {
    let frames: Vec<String> = f.frames.iter().map(|x| format!("#{x}")).collect();
    let _ = write!(out, "<article class=\"finding consequence\">\n<div class=\"head\"><code>{}</code>", f.kind.as_str());
    if f.occurrences > 1 {
        let _ = write!(out, " (×{})", f.occurrences);
    }
    let _ = writeln!(
        out,
        ", a consequence of <code>{}</code> <span class=\"frames\">{}</span></div>\n<p class=\"summary\">{}</p>\n\
         <p class=\"explanation\">{}</p>\n</article>",
        cause.kind.as_str(),
        frames.join(" "),
        Escaped(FindingSummary(f)),
        Escaped(Explanation(f))
    );
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
h1{font-size:24px;margin:8px 0}h2{font-size:20px;margin:28px 0 6px;border-top:2px solid #c8c8d0;padding-top:14px}
h3{font-size:17px;margin:26px 0 6px;border-top:1px solid #e4e4ea;padding-top:12px}h4{font-size:15px;margin:12px 0 4px}
.head{font-weight:600;margin:0 0 4px}.fix{font-weight:600;font-size:14px}.verdict{font-size:16px}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
pre{background:#f3f3f6;border:1px solid #dedee4;border-radius:4px;padding:6px 8px;margin:2px 0;white-space:pre-wrap;user-select:all}
table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid #e4e4ea;padding:3px 8px;text-align:left;vertical-align:top}
th{font-weight:600;background:#f6f6f9}
dl.totals{display:flex;flex-wrap:wrap;gap:6px 22px;margin:8px 0}dl.totals div{display:flex;gap:6px}dt{color:#555}dd{margin:0;font-weight:600}
.badge{font:700 11px/1 system-ui,sans-serif;padding:2px 5px;border-radius:3px;color:#fff}
.badge.error{background:#a4262c}.badge.warning{background:#986f0b}.badge.info{background:#2b6cb0}
.outcome.ok{color:#1e7b34;font-weight:600}.outcome.error{color:#a4262c;font-weight:600}.outcome.warning{color:#986f0b;font-weight:600}
.note{color:#986f0b}.like{font-weight:600}
article.finding{border-left:4px solid #ccc;padding:4px 12px;margin:10px 0}
article.error{border-color:#a4262c}article.warning{border-color:#986f0b}article.info{border-color:#2b6cb0}
.frames,.dim,footer{color:#666}footer{margin-top:24px;font-size:12px}
ol.fixes{padding-left:22px;margin:2px 0}ol.fixes p{margin:4px 0 2px}
figure{margin:10px 0}svg.ladder{width:100%;height:auto;max-width:1040px}
";
