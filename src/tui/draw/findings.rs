//! Findings: a list (severity, kind, session, evidence frames, summary) and, below it, the
//! selected finding in full: explanation and fixes, the text report's words.

use super::{fit, severity_word, wrap, wrap_typed, Theme};
use crate::model::{Finding, Fix};
use crate::problems::{Explanation, Summary};
use crate::tui::app::App;
use crate::tui::store::FindingId;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &mut App) {
    let theme = Theme { color: app.color };
    if app.finding_view.is_empty() {
        let block = Block::new().borders(Borders::TOP).title(" findings ");
        let msg = if app.store.findings().next().is_none() { "No finding so far." } else { "No finding matches. Esc clears the filter." };
        f.render_widget(Paragraph::new(msg).style(theme.dim()).block(block), area);
        return;
    }
    // The list gets a third of the height (at least 3 rows); the text the rest.
    let list_rows = (area.height / 3).max(3).min(app.finding_view.len() as u16 + 1);
    let [top, bottom] = Layout::vertical([Constraint::Length(list_rows + 1), Constraint::Min(1)]).areas(area);
    let block = Block::new().borders(Borders::TOP).title(" findings: severity, kind, session, evidence frames, summary ");
    let list = block.inner(top);
    f.render_widget(block, top);
    let height = list.height as usize;
    app.page = height.max(1);
    let range = app.findings.visible(app.finding_view.len(), height);
    let width = list.width as usize;
    let lines: Vec<Line<'_>> = app.finding_view[range.clone()]
        .iter()
        .enumerate()
        .filter_map(|(i, id)| Some((range.start + i, app.store.finding(*id)?)))
        .map(|(i, fi)| {
            let selected = i == app.findings.selected;
            let head = format!("{}{:<5} ", if selected { ">" } else { " " }, severity_word(Some(fi.severity)));
            let rest = format!("{} {} {}  {}", kind(fi), Whose(fi.session, "s"), frames(fi, 4), Summary(fi));
            let rest = fit(&rest, width.saturating_sub(head.chars().count()));
            let line = Line::from(vec![Span::styled(head, theme.severity(Some(fi.severity))), Span::raw(rest)]);
            if selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), list);

    let Some(id) = app.selected_finding() else { return };
    let Some(fi) = app.store.finding(id) else { return };
    let w = bottom.width as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(severity_word(Some(fi.severity)), theme.severity(Some(fi.severity))),
        Span::styled(format!(" {}", kind(fi)), theme.bold()),
        Span::raw(format!("  {}  frames {}", Whose(fi.session, "session "), frames(fi, usize::MAX))),
    ])];
    for l in wrap(&Summary(fi).to_string(), w) {
        lines.push(Line::styled(l, theme.bold()));
    }
    for l in wrap(&Explanation(fi).to_string(), w) {
        lines.push(Line::raw(l));
    }
    fix_lines(&mut lines, theme, &fi.fix, w);
    // A session's fixes that name the server's range leave the lines to its block: shown here.
    if let FindingId::Session(session, _) = id {
        let in_block = fi.fix.iter().any(Fix::in_server_block);
        let server = app.store.get(session).map(|row| row.server);
        match server
            .and_then(|at| app.store.servers.servers().iter().find(|s| (s.picture.address, s.picture.control_port) == (at.ip(), at.port())))
        {
            Some(block) if in_block => {
                lines.push(Line::styled("the server's fix block, from the whole capture so far:", theme.bold()));
                let mut text = String::new();
                crate::report::server::picture_text(&mut text, block, w.max(20), |sev| severity_word(Some(sev)).to_string());
                lines.extend(text.lines().map(|l| Line::raw(l.to_string())));
                fix_lines(&mut lines, theme, &block.fix, w);
            }
            None if in_block => lines.push(Line::styled(
                "the server's fix block comes with the whole capture: at its end (live: each minute its picture changes)",
                theme.dim(),
            )),
            _ => {}
        }
    }
    // Its consequences: listed here, not as problems of their own.
    if let FindingId::Session(session, index) = id {
        let effects = app.store.get(session).map_or(&[][..], |row| row.findings());
        for effect in effects.iter().filter(|e| e.caused_by == Some(index as u32)) {
            let text = format!("so: {} {}  {}", kind(effect), frames(effect, usize::MAX), Summary(effect));
            for l in wrap(&text, w) {
                lines.push(Line::styled(l, theme.dim()));
            }
        }
    }
    let height = bottom.height.saturating_sub(1) as usize;
    app.finding_scroll = app.finding_scroll.min(lines.len().saturating_sub(height));
    let more = match (app.finding_scroll > 0, app.finding_scroll + height < lines.len()) {
        (_, true) => " (more: PgDn)",
        (true, false) => " (PgUp: back to the top)",
        (false, false) => "",
    };
    let block = Block::new().borders(Borders::TOP).title(format!(" in full, as in the report; Enter opens its session{more} "));
    let text_area = block.inner(bottom);
    f.render_widget(block, bottom);
    let shown: Vec<Line<'_>> = lines.into_iter().skip(app.finding_scroll).collect();
    f.render_widget(Paragraph::new(shown), text_area);
}

/// Each fix in words ("fix: ..."), then the lines to type, every character shown: cut at the
/// pane's edge, they would not work when copied.
fn fix_lines(lines: &mut Vec<Line<'static>>, theme: Theme, fixes: &[Fix], w: usize) {
    for fix in fixes {
        for (i, l) in wrap(&fix.to_string(), w.saturating_sub(5)).into_iter().enumerate() {
            let lead = if i == 0 { Span::styled("fix: ", theme.bold()) } else { Span::raw("     ") };
            lines.push(Line::from(vec![lead, Span::raw(l)]));
        }
        for l in crate::report::fix::apply(fix) {
            for row in wrap_typed(&l, w.saturating_sub(7)) {
                lines.push(Line::raw(format!("       {row}")));
            }
        }
    }
}

fn kind(f: &Finding) -> String {
    if f.occurrences > 1 {
        format!("{} (x{})", f.kind.as_str(), f.occurrences)
    } else {
        f.kind.as_str().to_string()
    }
}

/// "#16 #17 #18 …" with at most `max` frames.
pub fn frames(f: &Finding, max: usize) -> String {
    let mut s: Vec<String> = f.frames.iter().take(max).map(|x| format!("#{x}")).collect();
    if f.frames.len() > max {
        s.push("…".into());
    }
    s.join(" ")
}

/// Whose finding it is: a session's id after `prefix`, or the whole capture's (clear-text
/// logins, dropped packets), which no session has.
struct Whose(u32, &'static str);

impl std::fmt::Display for Whose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            crate::model::finding::NO_SESSION => f.write_str("capture"),
            id => write!(f, "{}{id}", self.1),
        }
    }
}
