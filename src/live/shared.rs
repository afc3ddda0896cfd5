//! One output shared by the sink and the live edge's own lines (header, `capture_stats`, footer),
//! all written on the report's writer thread, so the lock is never contended; it only lets two
//! owners exist.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

pub(crate) struct Shared(Arc<Mutex<Box<dyn Write + Send>>>);

impl Clone for Shared {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl Shared {
    pub fn new(out: impl Write + Send + 'static) -> Shared {
        Shared(Arc::new(Mutex::new(Box::new(out))))
    }

    fn lock(&self) -> io::Result<std::sync::MutexGuard<'_, Box<dyn Write + Send>>> {
        self.0.lock().map_err(|_| io::Error::other("output lock poisoned"))
    }

    /// Writes `line` (with its newline) and flushes.
    pub fn write_line(&self, line: &str) -> io::Result<()> {
        let mut out = self.lock()?;
        out.write_all(line.as_bytes())?;
        out.flush()
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.lock()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lock()?.flush()
    }
}
