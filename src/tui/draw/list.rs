//! The session list: one row per session, only the visible rows built.

use super::{severity_word, Theme};
use crate::model::EndReason;
use crate::tui::app::App;
use crate::tui::store::Row as Session;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Cell, HighlightSpacing, Paragraph, Row, Table, TableState};
use ratatui::Frame;

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &mut App) {
    let theme = Theme { color: app.color };
    let block = Block::new().borders(Borders::TOP).title(" sessions (Enter: detail) ");
    let body = block.inner(area);
    f.render_widget(block, area);
    if app.view.is_empty() {
        let msg = if app.store.is_empty() {
            "No FTP session yet. (FTP is recognised by content on any port: a reply line from the server and a command from the client.)"
        } else {
            "No session matches. Esc clears the filter and errors only."
        };
        f.render_widget(Paragraph::new(msg).style(theme.dim()).wrap(ratatui::widgets::Wrap { trim: true }), body);
        return;
    }
    // One line for the header.
    let height = body.height.saturating_sub(1) as usize;
    app.page = height.max(1);
    let range = app.sessions.visible(app.view.len(), height);
    let selected = app.sessions.selected - range.start;
    let visible: Vec<&Session> = app.view[range].iter().filter_map(|id| app.store.get(*id)).collect();
    // Addresses are the key facts: their columns are as wide as the visible ones need (an
    // IPv6 address is cut only when it must be); the user gets the rest.
    let widest =
        |f: &dyn Fn(&Session) -> String, min: usize| visible.iter().map(|s| f(s).chars().count()).max().unwrap_or(0).max(min) as u16;
    let id_w = widest(&|s| s.id.to_string(), 2);
    let client_w = widest(&|s| s.client.to_string(), 6).min(47);
    let server_w = widest(&|s| s.server.to_string(), 6).min(47);
    let rows: Vec<Row<'_>> = visible.iter().map(|s| row(theme, s)).collect();
    let header = Row::new(["ID", "CLIENT", "SERVER:PORT", "USER", "MODE", "OK/FAIL", "WORST", "STATE"]).style(theme.bold());
    let widths = [
        Constraint::Length(id_w),
        Constraint::Length(client_w),
        Constraint::Length(server_w),
        Constraint::Min(4),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(6),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(">")
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(Some(selected));
    f.render_stateful_widget(table, body, &mut state);
}

fn row<'a>(theme: Theme, s: &Session) -> Row<'a> {
    let mode = match (s.active, s.passive) {
        (true, true) => "both",
        (true, false) => "actv",
        (false, true) => "pasv",
        (false, false) => "-",
    };
    let state = if s.tls {
        "TLS"
    } else {
        match s.record.as_ref().map(|r| r.end) {
            Some(EndReason::Closed) => "closed",
            Some(EndReason::Idle) => "idle",
            // Still open when the capture ended.
            Some(EndReason::CaptureEnd) => "open",
            None if s.closing => "closed",
            None => "open",
        }
    };
    let data = if s.ok + s.failed == 0 { "-".to_string() } else { format!("{}/{}", s.ok, s.failed) };
    let data_style = if s.failed > 0 { theme.severity(Some(crate::model::Severity::Error)) } else { ratatui::style::Style::new() };
    Row::new([
        Cell::from(s.id.to_string()),
        Cell::from(s.client.to_string()),
        Cell::from(s.server.to_string()),
        Cell::from(s.user.clone().unwrap_or_else(|| "-".into())),
        Cell::from(mode),
        Cell::from(Line::styled(data, data_style)),
        Cell::from(Line::styled(severity_word(s.worst), theme.severity(s.worst))),
        Cell::from(state),
    ])
}
