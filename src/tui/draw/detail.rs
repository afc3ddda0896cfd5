//! One session in detail: who talked to whom, the NAT picture when the addresses imply one,
//! each negotiation with what it advertised (and the address class) and its data connection
//! (outcome, frames, bytes), the session's findings in one line each, and the control channel's
//! timeline. Two panes, Tab between them.

use super::{bytes, fit, severity_word, Theme};
use crate::model::{classify, Directions, EndReason, MatchedBy, Mode, Negotiation, Side};
use crate::problems::Summary;
use crate::tui::app::{App, Pane};
use crate::tui::draw::findings::frames;
use crate::tui::store::Row;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;
use std::net::IpAddr;

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &mut App) {
    let theme = Theme { color: app.color };
    let Some(s) = app.detail.and_then(|id| app.store.get(id)) else {
        f.render_widget(
            Paragraph::new("This session is no longer kept (the oldest healthy sessions are dropped first). Esc goes back."),
            area,
        );
        return;
    };
    let width = area.width as usize;
    let mut head = header(theme, s, width);
    let nat = nat_picture(s);
    if !nat.is_empty() {
        head.push(Line::styled("NAT picture, from the addresses:", theme.bold()));
        for (role, ip, note) in &nat {
            head.push(Line::from(vec![
                Span::styled(format!("  {role:<7}"), theme.bold()),
                Span::raw(fit(&format!("{ip:<16} {note}"), width.saturating_sub(9))),
            ]));
        }
    }
    let head_h = (head.len() as u16).min(area.height / 2);
    let [top, panes] = Layout::vertical([Constraint::Length(head_h), Constraint::Min(4)]).areas(area);
    f.render_widget(Paragraph::new(head), top);

    // The data pane takes what it needs, up to 60 % (the timeline keeps the rest).
    let data_need = data_line_count(s) as u16 + 2;
    let data_h = data_need.min(panes.height * 3 / 5).max(4.min(panes.height));
    let [data_area, timeline_area] = Layout::vertical([Constraint::Length(data_h), Constraint::Min(0)]).areas(panes);

    let focus = |p: Pane| if app.pane == p { theme.bold() } else { theme.dim() };
    let inner_w = data_area.width.saturating_sub(2) as usize;
    let h = data_area.height.saturating_sub(2) as usize;
    let total = data_line_count(s);
    app.scroll[0] = app.scroll[0].min(total.saturating_sub(h));
    let lines = data_lines(theme, s, inner_w, app.scroll[0], h);
    let title = format!(" data connections: {} negotiation(s){} ", s.negotiations().len(), more(app.scroll[0], h, total));
    let block = Block::bordered().title(Span::styled(title, focus(Pane::Data))).border_style(focus(Pane::Data));
    f.render_widget(Paragraph::new(lines).block(block), data_area);

    let h = timeline_area.height.saturating_sub(2) as usize;
    let inner_w = timeline_area.width.saturating_sub(2) as usize;
    let (lines, total) = timeline_lines(theme, s, inner_w);
    app.scroll[1] = app.scroll[1].min(total.saturating_sub(h));
    let shown: Vec<Line<'_>> = lines.into_iter().skip(app.scroll[1]).take(h).collect();
    let kept = s.timeline().map_or(0, |t| t.len());
    let title = format!(" control channel: {kept} line(s), passwords shown as ••••{} ", more(app.scroll[1], h, total));
    let block = Block::bordered().title(Span::styled(title, focus(Pane::Timeline))).border_style(focus(Pane::Timeline));
    f.render_widget(Paragraph::new(shown).block(block), timeline_area);
}

/// " ▼" when more lines follow below, " ▲" when some are above.
fn more(scroll: usize, height: usize, total: usize) -> &'static str {
    match (scroll > 0, scroll + height < total) {
        (true, true) => " ▲▼",
        (false, true) => " ▼",
        (true, false) => " ▲",
        (false, false) => "",
    }
}

fn header(theme: Theme, s: &Row, width: usize) -> Vec<Line<'static>> {
    let state = match s.record.as_ref().map(|r| r.end) {
        Some(EndReason::Closed) => "closed",
        Some(EndReason::Idle) => "idle (settled)",
        Some(EndReason::CaptureEnd) => "open when the capture ended",
        None if s.closing => "closing (data connections settling)",
        None => "open",
    };
    let mut first = format!("session {}  {} -> {}", s.id, s.client, s.server);
    if let Some(u) = &s.user {
        first.push_str(&format!("  user {u}"));
    }
    let mut facts = vec![state.to_string()];
    let r = s.record.as_deref();
    if let Some(b) = r.and_then(|r| r.banner.as_ref()) {
        facts.push(format!("banner \"{b}\""));
    }
    match r {
        Some(r) => {
            facts.push(format!("frames #{}-#{}", r.first_frame, r.last_frame));
            facts.push(format!("{} command(s), {} reply(ies)", r.commands, r.replies));
            facts.push(format!("control {} to server, {} to client", bytes(r.control.bytes_to_server), bytes(r.control.bytes_to_client)));
            if let Some((t, by)) = r.protected() {
                facts.push(format!("{} from frame {t}{}", by.name(), if r.protected_data { ", data protected (PROT P)" } else { "" }));
            }
            if r.control.gaps > 0 {
                facts.push(format!("control: {} gap(s)", r.control.gaps));
            }
        }
        None => {
            facts.push(format!("first frame #{}", s.first_frame));
            if s.tls {
                facts.push("TLS".into());
            }
        }
    }
    let mut lines = vec![Line::styled(fit(&first, width), theme.bold())];
    // The facts wrap at their separators: none is cut.
    let mut cur = String::new();
    for fact in facts {
        if !cur.is_empty() && cur.chars().count() + 2 + fact.chars().count() > width {
            lines.push(Line::styled(std::mem::take(&mut cur), theme.dim()));
        }
        if !cur.is_empty() {
            cur.push_str(", ");
        }
        cur.push_str(&fact);
    }
    if !cur.is_empty() {
        lines.push(Line::styled(fit(&cur, width), theme.dim()));
    }
    lines
}

/// Who is where, when the addresses imply NAT: (role, address, what says so). Empty otherwise.
fn nat_picture(s: &Row) -> Vec<(&'static str, IpAddr, String)> {
    let negs = s.negotiations();
    let (client, server) = (s.client.ip(), s.server.ip());
    let private = |ip: IpAddr| classify(ip).is_unreachable_from_elsewhere();
    let mut out = Vec::new();
    let mut implied = false;
    let active_inside =
        negs.iter().filter(|n| n.mode == Mode::Active).filter_map(|n| n.advertised).map(|a| a.ip()).find(|ip| *ip != client);
    match active_inside {
        Some(inside) => {
            implied = true;
            out.push(("client", inside, "its own address, as its PORT/EPRT said".to_string()));
            out.push(("router", client, "the client's NAT router: the server sees this".to_string()));
        }
        None if private(client) && !private(server) => {
            implied = true;
            out.push(("client", client, "private: reaches the server through a NAT router".to_string()));
        }
        None => out.push(("client", client, String::new())),
    }
    let passive_other = negs
        .iter()
        .filter(|n| n.mode == Mode::Passive && !n.address_implied)
        .filter_map(|n| n.advertised.map(|a| (a.ip(), n.reply_implied)))
        .find(|(ip, _)| *ip != server);
    // With only the client's side captured, the reply is not seen: the client's connection to
    // the address shows it (correlate::one_way).
    let source = match passive_other {
        Some((_, true)) => "as the client's connection after its PASV shows",
        _ => "as its 227 reply said",
    };
    match passive_other.map(|(ip, _)| ip) {
        Some(adv) if private(adv) && !private(server) => {
            implied = true;
            out.push(("router", server, "the server's NAT router: the client dialled this".to_string()));
            out.push(("server", adv, format!("its own address, {source}")));
        }
        Some(adv) if private(server) && !private(adv) => {
            implied = true;
            out.push(("router", adv, format!("the server's public side, {source}")));
            out.push(("server", server, "the address seen here, behind the router".to_string()));
        }
        Some(adv) => {
            implied = true;
            out.push(("server", server, "the address the client dialled".to_string()));
            out.push(("other", adv, "another address, in the 227 reply".to_string()));
        }
        None => out.push(("server", server, String::new())),
    }
    if let Some(c) = negs.iter().find(|n| n.data.matched_by == Some(MatchedBy::PortOnly)).and_then(|n| n.data.connection.as_ref()) {
        implied = true;
        out.push((
            "data",
            c.server.ip(),
            format!("reached on the advertised port {}: the address was translated between", c.server.port()),
        ));
    }
    if implied {
        out
    } else {
        Vec::new()
    }
}

/// Lines of a negotiation: what was asked and advertised, then what became of the connection.
/// `replies_captured`: false when only the client's side of the control connection is in the
/// capture (a missing reply is then not "no reply").
fn negotiation_lines(theme: Theme, n: &Negotiation, replies_captured: bool, width: usize) -> Vec<Line<'static>> {
    let mut first = format!("#{} {:?}", n.frame, n.command);
    let advertised = match (&n.advertised, n.malformed) {
        (Some(a), _) => {
            let class = n.advertised_class.map(|c| c.describe()).unwrap_or("");
            if n.address_implied {
                format!("port {} (address implied: {a}), {class}", a.port())
            } else {
                format!("{a}, {class}")
            }
        }
        (None, Some(m)) => format!("malformed: {m}"),
        (None, None) => "nothing advertised".into(),
    };
    let reply = match n.reply_code {
        Some(c) => c.to_string(),
        None if replies_captured => "no reply".into(),
        None => "reply not captured".into(),
    };
    if n.mode == Mode::Active {
        first.push_str(&format!(" {advertised} -> {reply}"));
    } else {
        first.push_str(&format!(" -> {reply} {advertised}"));
    }
    let mut lines = vec![Line::styled(fit(&first, width), theme.bold())];
    let d = &n.data;
    let mut second = vec![Span::raw("    data "), Span::styled(d.outcome.as_str().to_string(), theme.outcome(d.outcome))];
    let mut third = String::from("    ");
    match &d.connection {
        Some(c) => {
            second.push(Span::raw(format!("  {} -> {}", c.client, c.server)));
            // The frames that show what happened, in the order they came.
            let mut seen = vec![format!("SYN #{}", c.syn_frame)];
            if c.syns > 1 {
                seen[0].push_str(&format!(" (x{})", c.syns));
            }
            if let Some(f) = c.synack_frame {
                seen.push(format!("SYN-ACK #{f}"));
            }
            if let (Some(f), Some(i)) = (c.unreachable_frame, &c.unreachable) {
                seen.push(format!("#{f} {i}"));
            }
            if let Some(f) = c.rst_frame {
                seen.push(format!("RST #{f}{}", c.rst_from.map(|s| format!(" from the {}", s.as_str())).unwrap_or_default()));
            }
            if let Some(f) = c.fin_frame {
                seen.push(format!("FIN #{f}"));
            }
            if c.last_frame > c.syn_frame {
                seen.push(format!("last #{}", c.last_frame));
            }
            seen.push(bytes(d.bytes));
            third.push_str(&seen.join(", "));
            match d.matched_by {
                Some(MatchedBy::ControlAddress) => third.push_str(", matched at the control connection's address"),
                Some(MatchedBy::PortOnly) => third.push_str(", matched by port only (address translated)"),
                Some(MatchedBy::AfterCommand) => third.push_str(", matched as the client's next connection"),
                _ => {}
            }
        }
        None => third.push_str("no data connection seen"),
    }
    // Tries that did not open: counted on the outcome's line (short enough for 80 columns),
    // told after the frames.
    if !d.earlier_attempts.is_empty() {
        second.insert(2, Span::raw(format!(" (try {})", d.earlier_attempts.len() + 1)));
    }
    for (k, c) in d.earlier_attempts.iter().enumerate() {
        third.push_str(&format!("; try {} SYN #{} -> {} {}", k + 1, c.syn_frame, c.server, c.outcome.as_str()));
        if c.syns > 1 {
            third.push_str(&format!(" (x{})", c.syns));
        }
    }
    // A transfer known from its replies alone (only the server's side captured): "(transfer)".
    if d.command.is_some() || d.reply_code.is_some() {
        third.push_str(&format!("; {}", d.command.as_deref().unwrap_or("(transfer)")));
        if let Some(code) = d.reply_code {
            third.push_str(&format!(" -> {code}"));
            if let Some(t) = &d.reply_text {
                third.push_str(&format!(" {t}"));
            }
        }
    }
    if let Some(r) = d.record.as_ref().filter(|r| crate::report::transfer::worth_a_line(r)) {
        third.push_str(&format!("; {}", crate::report::transfer::RecordLine(r)));
    }
    lines.push(Line::from(second));
    lines.push(Line::raw(fit(&third, width)));
    if !d.content.not_asked() {
        lines.push(Line::raw(fit(&format!("    {}", crate::report::notes::content(&d.content)), width)));
    }
    lines
}

const LINES_PER_NEGOTIATION: usize = 3;

fn data_line_count(s: &Row) -> usize {
    let findings = s.findings().len();
    let probable = s.record.as_ref().map_or(0, |r| r.probable_data_channels.len());
    s.negotiations().iter().map(|n| LINES_PER_NEGOTIATION + usize::from(!n.data.content.not_asked())).sum::<usize>()
        + probable
        + if findings > 0 { findings + 1 } else { 0 }
        + s.negotiations().is_empty() as usize
}

/// The data pane's lines from `from`, at most `height`: only these negotiations are formatted.
fn data_lines(theme: Theme, s: &Row, width: usize, from: usize, height: usize) -> Vec<Line<'static>> {
    let negs = s.negotiations();
    let replies_captured = s.record.as_ref().is_none_or(|r| r.captured_directions != Directions::ClientToServer);
    let mut lines = Vec::with_capacity(height);
    let mut i = from;
    let end = from + height;
    while i < end {
        let n = i / LINES_PER_NEGOTIATION;
        if n < negs.len() {
            let mut ls = negotiation_lines(theme, &negs[n], replies_captured, width);
            let skip = i % LINES_PER_NEGOTIATION;
            let take = (LINES_PER_NEGOTIATION - skip).min(end - i);
            lines.extend(ls.drain(..).skip(skip).take(take));
            i += take;
            continue;
        }
        let mut rest: Vec<Line<'static>> = Vec::new();
        if negs.is_empty() {
            rest.push(Line::styled("no data-channel negotiation (no PORT, EPRT, PASV or EPSV)", theme.dim()));
        }
        if let Some(r) = &s.record {
            for c in &r.probable_data_channels {
                rest.push(Line::from(vec![
                    Span::raw(format!("#{} probable data connection {} -> {}: ", c.syn_frame, c.client, c.server)),
                    Span::styled(c.outcome.as_str(), theme.outcome(c.outcome)),
                ]));
            }
        }
        if !s.findings().is_empty() {
            rest.push(Line::styled("findings (in full with their fixes: Esc, then Tab):", theme.dim()));
            for fi in s.findings() {
                let text = format!(" {} {}  {}", fi.kind.as_str(), frames(fi, 3), Summary(fi));
                // A consequence reads under its cause, without a severity of its own.
                let head = match fi.caused_by {
                    None => Span::styled(format!("{:<5}", severity_word(Some(fi.severity))), theme.severity(Some(fi.severity))),
                    Some(_) => Span::styled("  so:", theme.dim()),
                };
                rest.push(Line::from(vec![head, Span::raw(fit(&text, width.saturating_sub(5)))]));
            }
        }
        let skip = i - negs.len() * LINES_PER_NEGOTIATION;
        lines.extend(rest.into_iter().skip(skip).take(end - i));
        break;
    }
    lines
}

/// The timeline (at most its limit of lines, plus notes) and its line count.
fn timeline_lines(theme: Theme, s: &Row, width: usize) -> (Vec<Line<'static>>, usize) {
    let mut lines = Vec::new();
    let Some(t) = s.timeline() else {
        lines.push(Line::styled("(the control channel's lines come with the next update)", theme.dim()));
        return (lines, 1);
    };
    let start = s.start;
    for l in t.iter() {
        let dir = match l.from {
            Side::Client => "C>",
            Side::Server => "S<",
        };
        let secs = l.time.since(start) as f64 / 1e9;
        let lead = format!("#{:<5} {:>8.3}s {dir} ", l.frame, secs);
        let style = if l.from == Side::Client { theme.bold() } else { Style::new() };
        let text = fit(l.text, width.saturating_sub(lead.chars().count()));
        lines.push(Line::from(vec![Span::styled(lead, theme.dim()), Span::styled(text, style)]));
    }
    if t.limit() == 0 {
        lines.push(Line::styled("(this analysis keeps no control-channel line: its timeline_lines setting is 0)", theme.dim()));
    } else if t.not_kept > 0 {
        lines.push(Line::styled(format!("... {} more line(s) not kept (the first {} are)", t.not_kept, t.limit()), theme.dim()));
    }
    if let Some(frame) = s.record.as_ref().and_then(|r| r.tls_frame) {
        lines.push(Line::styled(format!("encrypted from frame {frame} (AUTH TLS): no lines after it"), theme.dim()));
    }
    if t.is_empty() && s.record.is_none() {
        lines.push(Line::styled("(no line yet)", theme.dim()));
    }
    let total = lines.len();
    (lines, total)
}
