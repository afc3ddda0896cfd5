//! Keys to actions. One table, so that the help screen and the key hints cannot drift from
//! what the keys do.
//!
//! Owns: the key bindings. Must not touch: the view state (see `app`), the terminal.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Open,
    Back,
    NextPane,
    Filter,
    Sort,
    Follow,
    ErrorsOnly,
    Pause,
    Help,
    Quit,
    /// While the filter is being typed.
    Type(char),
    Erase,
}

/// Every key with what it does, for the help screen (keys, description).
pub const KEYS: &[(&str, &str)] = &[
    ("↑ ↓  j k", "move one row (scroll in detail and help)"),
    ("PgUp PgDn", "move one page (on findings: scroll the finding's text)"),
    ("Home End", "first / last row"),
    ("Enter", "open: a session's detail; from a finding, its session"),
    ("Esc", "back (from detail, findings, help); clears the filter on the list"),
    ("Tab", "next pane: sessions <-> findings; in detail, data <-> timeline"),
    ("/", "filter by address, user or finding kind (Enter keeps it, Esc clears it)"),
    ("s", "sort: start, worst severity, failures, client, server, user"),
    ("f", "follow the newest session"),
    ("e", "errors only: sessions with an error or a failed data connection"),
    ("p", "pause the display (the analysis goes on)"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit (the terminal is restored; --report prints the report)"),
];

/// The action of a key; `typing`: the filter is being edited, so letters are text.
pub fn action(key: KeyEvent, typing: bool) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
        return Some(Action::Quit);
    }
    if typing {
        return match key.code {
            KeyCode::Enter => Some(Action::Open),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Backspace => Some(Action::Erase),
            KeyCode::Char(c) if !ctrl && !c.is_control() => Some(Action::Type(c)),
            _ => None,
        };
    }
    if ctrl {
        return match key.code {
            // Emacs and less habits for a page.
            KeyCode::Char('f') | KeyCode::Char('d') => Some(Action::PageDown),
            KeyCode::Char('b') | KeyCode::Char('u') => Some(Action::PageUp),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Enter => Action::Open,
        KeyCode::Esc => Action::Back,
        KeyCode::Tab | KeyCode::BackTab => Action::NextPane,
        KeyCode::Char('/') => Action::Filter,
        KeyCode::Char('s') => Action::Sort,
        KeyCode::Char('f') => Action::Follow,
        KeyCode::Char('e') => Action::ErrorsOnly,
        KeyCode::Char('p') => Action::Pause,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn letters_are_commands_unless_the_filter_is_typed() {
        assert_eq!(action(key(KeyCode::Char('q')), false), Some(Action::Quit));
        assert_eq!(action(key(KeyCode::Char('q')), true), Some(Action::Type('q')));
        assert_eq!(action(key(KeyCode::Char('j')), false), Some(Action::Down));
        assert_eq!(action(key(KeyCode::Esc), true), Some(Action::Back));
        assert_eq!(action(key(KeyCode::Char('x')), false), None);
    }

    #[test]
    fn ctrl_c_quits_even_while_typing() {
        let c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action(c, true), Some(Action::Quit));
        assert_eq!(action(c, false), Some(Action::Quit));
    }
}
