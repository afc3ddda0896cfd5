//! Help: every key (from the one table in `input`) and what the screens show.

use super::{wrap, Theme};
use crate::tui::app::App;
use crate::tui::feed::MAX_OPEN_IN_SNAPSHOT;
use crate::tui::input::KEYS;
use crate::tui::store::MAX_SESSIONS;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

pub fn draw(f: &mut Frame<'_>, area: Rect, app: &mut App) {
    let theme = Theme { color: app.color };
    let block = Block::new().borders(Borders::TOP).title(" keys ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    // Descriptions wrap under themselves, not under the keys.
    let mut lines: Vec<Line<'_>> = Vec::new();
    for (k, what) in KEYS {
        for (i, part) in wrap(what, (inner.width as usize).saturating_sub(11)).into_iter().enumerate() {
            let key = if i == 0 { format!("{k:<11}") } else { " ".repeat(11) };
            lines.push(Line::from(vec![Span::styled(key, theme.key()), Span::raw(part)]));
        }
    }
    lines.push(Line::raw(""));
    for note in [
        "Sessions: ID, client, server:control port, user, modes (pasv, actv, both), data connections established/failed, worst finding, state (open, closed, idle, TLS).",
        "Detail: the negotiations with what they advertised and the address class, each data connection's outcome, frames and bytes, the NAT picture when the addresses imply one, and the control channel's first 200 lines (passwords as ••••).",
        "Findings: severity, kind, session, evidence frames; below, the explanation and the fixes in the report's words.",
    ] {
        lines.push(Line::raw(note));
    }
    lines.push(Line::styled(
        format!(
            "Memory: the UI keeps {MAX_SESSIONS} sessions; past that the oldest without a problem are dropped first (the status bar counts them). \
             Open sessions are refreshed up to {MAX_OPEN_IN_SNAPSHOT} at a time, the most recently active first."
        ),
        theme.dim(),
    ));
    // Scrolling stops at the last line (counted with wrapping at this width).
    let width = inner.width.max(1) as usize;
    let total: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    app.help_scroll = app.help_scroll.min(total.saturating_sub(inner.height as usize));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((app.help_scroll as u16, 0)), inner);
}
