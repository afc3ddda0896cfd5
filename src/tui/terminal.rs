//! The terminal: raw mode and the alternate screen on the way in; the normal screen back on
//! the way out, whichever way out: quit, Ctrl-C (a key in raw mode), SIGINT/SIGTERM/SIGHUP
//! from outside, or a panic in any thread (the hook restores the screen, prints the panic,
//! and ends the process: a UI drawing over a restored terminal helps nobody).
//!
//! The UI is drawn on standard output when it is a terminal, else on the controlling terminal
//! (/dev/tty): `--tui --report > file` puts the UI on the terminal and the report in the file.
//!
//! Owns: terminal modes and signals while the UI runs. Must not touch: what is drawn.

use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::prelude::CrosstermBackend;
use ratatui::Terminal;
use std::fs::File;
use std::io::{self, IsTerminal, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

/// The UI owns the terminal: the panic hook restores it only then.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The UI is on /dev/tty, not standard output: the terminal is restored there.
static ON_TTY: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();
/// Held while a frame is written: a panic on another thread restores the terminal between two
/// frames, never in the middle of an escape sequence.
static DRAWING: Mutex<()> = Mutex::new(());

/// Where the UI is drawn: standard output, or the controlling terminal when standard output
/// is redirected.
pub enum Tty {
    Stdout(Stdout),
    Device(File),
}

impl Tty {
    /// Standard output when it is a terminal, else the controlling terminal (an error when
    /// there is none: no UI can be shown).
    pub fn open() -> io::Result<Tty> {
        let stdout = io::stdout();
        if stdout.is_terminal() {
            return Ok(Tty::Stdout(stdout));
        }
        let tty = File::options().write(true).open("/dev/tty")?;
        Ok(Tty::Device(tty))
    }
}

impl Write for Tty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Tty::Stdout(s) => s.write(buf),
            Tty::Device(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Tty::Stdout(s) => s.flush(),
            Tty::Device(f) => f.flush(),
        }
    }
}

/// The terminal in UI mode; dropping it restores the terminal.
pub struct Screen {
    pub terminal: Terminal<CrosstermBackend<Tty>>,
    /// Set by SIGINT, SIGTERM or SIGHUP: the UI loop ends as on `q`.
    pub stop: Arc<AtomicBool>,
}

impl Screen {
    pub fn enter() -> io::Result<Screen> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if ACTIVE.load(Ordering::SeqCst) {
                    // Waits for a frame being written on another thread to end; a panic while
                    // drawing holds the lock on this very thread, hence the deadline.
                    let since = Instant::now();
                    let guard = loop {
                        match DRAWING.try_lock() {
                            Ok(g) => break Some(g),
                            Err(std::sync::TryLockError::Poisoned(p)) => break Some(p.into_inner()),
                            Err(_) if since.elapsed() > Duration::from_millis(300) => break None,
                            Err(_) => std::thread::sleep(Duration::from_millis(5)),
                        }
                    };
                    if ACTIVE.swap(false, Ordering::SeqCst) {
                        restore();
                    }
                    previous(info);
                    // Nobody else writes to the terminal from here: the process ends.
                    std::mem::forget(guard);
                    std::process::exit(101);
                }
                previous(info);
            }));
        });
        let stop = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
            signal_hook::flag::register(signal, stop.clone())?;
        }
        let mut tty = Tty::open()?;
        ON_TTY.store(matches!(tty, Tty::Device(_)), Ordering::SeqCst);
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        if let Err(e) = execute!(tty, EnterAlternateScreen) {
            leave();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(tty)) {
            Ok(terminal) => Ok(Screen { terminal, stop }),
            Err(e) => {
                leave();
                Err(e)
            }
        }
    }
}

impl Screen {
    /// Draws one frame, unless a panic elsewhere has given the terminal back (then false).
    pub fn draw(&mut self, f: impl FnOnce(&mut ratatui::Frame<'_>)) -> io::Result<bool> {
        let _guard = DRAWING.lock().unwrap_or_else(|p| p.into_inner());
        if !ACTIVE.load(Ordering::SeqCst) {
            return Ok(false);
        }
        self.terminal.draw(f)?;
        Ok(true)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        leave();
    }
}

/// The UI owns the terminal (false once a panic hook has restored it).
pub fn active() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}

fn leave() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        restore();
    }
}

fn restore() {
    let _ = disable_raw_mode();
    if ON_TTY.load(Ordering::SeqCst) {
        if let Ok(mut tty) = File::options().write(true).open("/dev/tty") {
            let _ = execute!(tty, LeaveAlternateScreen, Show);
        }
    } else {
        let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
    }
}
