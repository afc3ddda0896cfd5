//! Texts that many records share (a server's banner, a user name), each held once. Records
//! kept a while for comparison (NAT pairing's settled sessions, explain's pairing summaries)
//! hold a shared handle instead of a copy of their own, and compare the texts themselves: a
//! digest of text that whoever is on the wire chooses could be made to collide.
//!
//! Owns the table of texts. Must not judge what the texts mean.

use std::collections::HashSet;
use std::sync::Arc;

/// One handle per distinct text: equal texts share their storage.
#[derive(Debug, Default)]
pub struct Interned {
    /// Seeded per process (foldhash), as `AddrMap`: the keys are the wire's text.
    texts: HashSet<Arc<str>, foldhash::fast::RandomState>,
}

impl Interned {
    /// The shared handle of `text`, made on its first use.
    pub fn get(&mut self, text: &str) -> Arc<str> {
        if let Some(held) = self.texts.get(text) {
            return Arc::clone(held);
        }
        let held: Arc<str> = Arc::from(text);
        self.texts.insert(Arc::clone(&held));
        held
    }

    /// `text` is given back: when no record holds it any more, it is forgotten, so the table
    /// holds only texts in use.
    pub fn release(&mut self, text: Arc<str>) {
        // The table's handle and this one.
        if Arc::strong_count(&text) == 2 {
            self.texts.remove(&*text);
        }
    }

    /// Distinct texts held.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_handle_until_the_last_is_given_back() {
        let mut t = Interned::default();
        let (a, b, c) = (t.get("220 (vsFTPd 3.0.3)"), t.get("220 (vsFTPd 3.0.3)"), t.get("220 ProFTPD"));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(t.len(), 2);
        t.release(a);
        assert_eq!(t.len(), 2, "still held by b");
        t.release(b);
        t.release(c);
        assert!(t.is_empty());
    }
}
