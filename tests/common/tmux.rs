//! A tmux server of a test's own, to run the real binary in a terminal and read its screen
//! (tests/tui.rs, tests/passwords.rs). Nothing of anyone else's tmux is touched.

#[path = "needs.rs"]
#[allow(dead_code)] // the tests that include this file use part of it
mod needs;

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A pane of `cols` x `rows` running a bare shell (prompt `READY$ `, no colour), or None when
    /// tmux is missing (the test is skipped with a line saying so; in CI it fails).
    pub fn start(name: &str, cols: u16, rows: u16) -> Option<Tmux> {
        if !needs::met(&[needs::Need::Tmux]) {
            return None;
        }
        let t = Tmux { socket: format!("ftpscope-tui-{name}-{}", std::process::id()) };
        let (cols, rows) = (cols.to_string(), rows.to_string());
        let shell = "env PS1='READY$ ' NO_COLOR=1 RUST_BACKTRACE=0 bash --norc --noprofile";
        t.run(&["new-session", "-d", "-s", "ui", "-x", &cols, "-y", &rows, shell]);
        t.wait_for("a shell prompt", Duration::from_secs(10), |s| s.contains("READY$"));
        Some(t)
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "ui"])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "ui", k]);
        }
    }

    /// Polls the pane until `pred` holds or `limit` passes: the last screen, and whether it held.
    pub fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(start.elapsed() < limit, "waited {limit:?} for {what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
    }
}
