//! Drawing: one module per screen, plus the tab line, the status bar and the key hints.
//! Every screen builds only the rows it shows (a list of 100,000 sessions costs what its visible
//! rows cost).
//!
//! Owns: layout and wording on screen. The wording of findings and fixes is the report's (the
//! same `Finding` texts and `Fix` rendering). Must not touch: the store's content, the channel.

mod detail;
mod findings;
mod help;
mod list;
mod status;

use super::app::{App, Screen};
use crate::model::{Outcome, Severity};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

/// Smaller than this, only a line asking for a larger terminal is drawn.
const MIN_WIDTH: u16 = 40;
const MIN_HEIGHT: u16 = 8;

pub fn draw(f: &mut Frame<'_>, app: &mut App) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!("ftpscope: terminal too small ({}x{}); {MIN_WIDTH}x{MIN_HEIGHT} at least. q quits.", area.width, area.height);
        f.render_widget(Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    }
    let [tabs, body, bar, hints] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1), Constraint::Length(1), Constraint::Length(1)]).areas(area);
    status::tabs(f, tabs, app);
    match app.screen {
        Screen::Sessions => list::draw(f, body, app),
        Screen::Findings => findings::draw(f, body, app),
        Screen::Detail => detail::draw(f, body, app),
        Screen::Help => help::draw(f, body, app),
    }
    status::bar(f, bar, app);
    status::hints(f, hints, app);
}

/// Colours when allowed (a terminal, no NO_COLOR, no --no-color); otherwise bold, dim and
/// reverse only, which NO_COLOR permits.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    pub fn severity(self, s: Option<Severity>) -> Style {
        match s {
            Some(Severity::Error) => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Some(Severity::Warning) => self.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            Some(Severity::Info) => self.fg(Color::Cyan),
            None => self.fg(Color::Green),
        }
    }
    pub fn outcome(self, o: Outcome) -> Style {
        if o == Outcome::Established {
            self.fg(Color::Green)
        } else if o.is_failure() || o == Outcome::Rejected {
            self.fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::Yellow)
        }
    }
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn bold(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn bar(self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
}

pub fn severity_word(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Error) => "ERROR",
        Some(Severity::Warning) => "WARN",
        Some(Severity::Info) => "INFO",
        None => "ok",
    }
}

/// Cuts `s` to `width` characters, with "…" when something was cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Cuts `s` to `width` characters from the left ("…ong/path.pcap"): the end of a path says most.
pub fn fit_left(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::from("…");
    out.extend(s.chars().skip(n - (width - 1)));
    out
}

/// Words to lines of at most `width` characters (a longer word gets a line of its own, cut by
/// the terminal): the text report's wrapping, to the pane's width.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if cur_len > 0 && cur_len + 1 + len > width {
            lines.push(std::mem::take(&mut cur));
            cur_len = 0;
        }
        if cur_len > 0 {
            cur.push(' ');
            cur_len += 1;
        }
        cur.push_str(word);
        cur_len += len;
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Commands a fix gives for a POSIX shell: their rows end in the shell's line continuation.
const SHELL_COMMANDS: [&str; 2] = ["iptables", "ip6tables"];

/// A line to type (a fix's command or configuration line) in rows of at most `width`
/// characters, cut at its spaces, every character kept: cut at the pane's edge it could not be
/// copied. A shell command's rows end in the shell's line continuation (" \\" at a space, "\\"
/// inside a word too long for a row), so that the rows copied together still run as one
/// command; other lines (configuration, a Windows command) continue on rows indented by two
/// spaces.
pub fn wrap_typed(line: &str, width: usize) -> Vec<String> {
    let width = width.max(24);
    if line.chars().count() <= width {
        return vec![line.to_string()];
    }
    let shell = line.split(' ').next().is_some_and(|cmd| SHELL_COMMANDS.contains(&cmd));
    // Room on a row: a shell row keeps two columns for " \\".
    let room = if shell { width - 2 } else { width };
    // Rows, each with whether it ended at a space (else inside a word).
    let mut rows: Vec<(String, bool)> = Vec::new();
    let mut cur = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            if cur.chars().count() + 1 + word.chars().count() > room && !cur.trim().is_empty() {
                rows.push((std::mem::replace(&mut cur, "  ".to_string()), true));
            } else {
                cur.push(' ');
            }
        }
        cur.push_str(word);
        while cur.chars().count() > room {
            let head: String = cur.chars().take(room).collect();
            let tail: String = cur.chars().skip(room).collect();
            rows.push((head, false));
            // A shell joins "\\" and the next row as they are: no indent there.
            cur = if shell { tail } else { format!("  {tail}") };
        }
    }
    rows.push((cur, true));
    let last = rows.len() - 1;
    rows.into_iter()
        .enumerate()
        .map(|(i, (row, at_space))| match (shell && i < last, at_space) {
            (true, true) => format!("{row} \\"),
            (true, false) => format!("{row}\\"),
            (false, _) => row,
        })
        .collect()
}

/// "12.3 KiB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// "1,234,567".
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A line of "key what" pairs, as many as fit; the last two (help and quit) always.
fn hint_line(theme: Theme, pairs: &[(&str, &str)], width: u16) -> Line<'static> {
    let len = |(k, what): &(&str, &str)| k.chars().count() + 1 + what.chars().count() + 2;
    let (first, last) = pairs.split_at(pairs.len().saturating_sub(2));
    let mut used: usize = last.iter().map(len).sum();
    let mut shown: Vec<&(&str, &str)> = Vec::new();
    for pair in first {
        if used + len(pair) > width as usize {
            continue;
        }
        used += len(pair);
        shown.push(pair);
    }
    shown.extend(last);
    let mut spans = Vec::new();
    for (k, what) in shown {
        spans.push(Span::styled(k.to_string(), theme.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_helpers() {
        assert_eq!(super::fit("abcdef", 4), "abc…");
        assert_eq!(super::fit_left("abcdef", 4), "…def");
        assert_eq!(super::count(1234567), "1,234,567");
        assert_eq!(super::bytes(1536), "1.5 KiB");
        assert_eq!(super::wrap("aaa bbb ccc", 10), vec!["aaa bbb", "ccc"]);
    }
}
