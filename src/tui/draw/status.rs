//! The tab line (screens, counts, sort and toggles), the status bar (source, progress,
//! counters, rate, state, filter) and the key hints.

use super::{bytes, count, fit_left, hint_line, Theme};
use crate::tui::app::{App, RunState, Screen};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

pub fn tabs(f: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = Theme { color: app.color };
    let tab =
        |name: String, on: bool| if on { Span::styled(format!(" {name} "), theme.selected()) } else { Span::raw(format!(" {name} ")) };
    let mut spans = vec![
        Span::styled("ftpscope ", theme.bold()),
        tab(format!("Sessions {}", count(app.view.len() as u64)), app.screen == Screen::Sessions),
    ];
    // The store's bound, where it cannot be missed.
    let dropped = app.store.dropped_healthy + app.store.dropped_with_problems;
    if dropped > 0 {
        spans
            .push(Span::styled(format!("({} oldest dropped: keeps {}) ", count(dropped), count(app.store.capacity() as u64)), theme.dim()));
    }
    spans.extend([tab(format!("Findings {}", count(app.finding_view.len() as u64)), app.screen == Screen::Findings)]);
    if let Some(id) = app.detail {
        spans.push(tab(format!("Session {id}"), app.screen == Screen::Detail));
    }
    if app.screen == Screen::Help {
        spans.push(tab("Help".into(), true));
    }
    let mut flags = vec![format!("sort:{}", app.sort.name())];
    if app.follow {
        flags.push("follow".into());
    }
    if app.errors_only {
        flags.push("errors only".into());
    }
    if app.paused {
        flags.push("PAUSED".into());
    }
    spans.push(Span::styled(format!("  {}", flags.join(" ")), theme.dim()));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn bar(f: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = Theme { color: app.color };
    let s = &app.status;
    let state = match (&s.state, app.paused) {
        (RunState::Failed(_), _) => "FAILED".to_string(),
        (_, true) => "paused".to_string(),
        (RunState::Running, false) => "running".to_string(),
        (RunState::Ended, false) => "ended".to_string(),
        (RunState::EndedEarly(_), false) => "ENDED EARLY (truncated)".to_string(),
    };
    // The most important first; what does not fit is left out, the source last of all
    // (it is cut from the left instead).
    let mut parts = vec![state];
    // A truncated file is read to its last byte: "100%" would read as the whole capture.
    let cut_short = matches!(s.state, RunState::EndedEarly(_));
    if let Some(total) = s.total_bytes.filter(|&t| t > 0 && !cut_short) {
        let pct = (s.counters.bytes.min(total) as f64 * 100.0 / total as f64).floor();
        parts.push(format!("{pct:.0}%"));
    }
    parts.push(format!("{} session(s), {} open", count(s.stats.sessions), count(s.stats.open_sessions)));
    parts.push(format!("{} err {} warn", count(s.stats.errors), count(s.stats.warnings)));
    parts.push(format!("{} pkts", count(s.stats.frames)));
    parts.push(bytes(s.counters.bytes));
    if let Some(d) = s.counters.drops {
        parts.push(format!("{} dropped", count(d)));
    }
    if s.state == RunState::Running {
        parts.push(format!("{} pkt/s", count(s.rate.round() as u64)));
    }
    if !app.filter.is_empty() || app.typing {
        parts.insert(1, format!("filter /{}{}", app.filter, if app.typing { "▏" } else { "" }));
    }
    if s.dropped_events > 0 {
        parts.push(format!("{} events skipped (display behind)", count(s.dropped_events)));
    }
    if let RunState::Failed(why) | RunState::EndedEarly(why) = &s.state {
        parts.insert(1, why.clone());
    }
    let width = area.width as usize;
    // The source first, cut from the left to a quarter of the line at most; then the parts in
    // order of importance, as many as fit.
    let source_room = s.source.chars().count().min((width / 4).max(16)).min(width);
    let mut text = fit_left(&s.source, source_room);
    for p in parts {
        let add = p.chars().count() + 3;
        if text.chars().count() + add > width {
            continue;
        }
        text.push_str(" │ ");
        text.push_str(&p);
    }
    f.render_widget(Paragraph::new(format!("{text:<width$}")).style(theme.bar()), area);
}

pub fn hints(f: &mut Frame<'_>, area: Rect, app: &App) {
    let theme = Theme { color: app.color };
    let pairs: &[(&str, &str)] = if app.typing {
        &[("type", "address, user or finding kind"), ("Enter", "keep"), ("Esc", "clear"), ("Ctrl-C", "quit")]
    } else {
        match app.screen {
            Screen::Sessions => &[
                ("j/k", "move"),
                ("Enter", "open"),
                ("/", "filter"),
                ("s", "sort"),
                ("f", "follow"),
                ("e", "errors"),
                ("p", "pause"),
                ("Tab", "findings"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Screen::Findings => &[
                ("j/k", "move"),
                ("Enter", "its session"),
                ("/", "filter"),
                ("e", "errors"),
                ("Tab", "sessions"),
                ("Esc", "back"),
                ("?", "help"),
                ("q", "quit"),
            ],
            Screen::Detail => {
                &[("j/k", "scroll"), ("Tab", "data/timeline"), ("Esc", "back"), ("PgUp/PgDn", "page"), ("?", "help"), ("q", "quit")]
            }
            Screen::Help => &[("j/k", "scroll"), ("Esc", "back"), ("q", "quit")],
        }
    };
    f.render_widget(Paragraph::new(hint_line(theme, pairs, area.width)), area);
}
