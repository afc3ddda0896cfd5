//! Why a session has a problem, as a value: its name, its sentence and its few words. The
//! causes themselves are defined (and worded) in problems/, each in the module of the kind that
//! first names it; the model holds the type so that a picture (a server's causes) can keep one
//! without depending on the words' modules.

use serde::{Serialize, Serializer};
use std::fmt::{self, Display, Formatter};
use std::hash::{Hash, Hasher};

/// Why a session has a problem, in the words a person would look for. Each is defined (and
/// worded) in problems/, in the module of the kind that first names it; other kinds that lead to the same
/// cause name that constant. Two causes are the same when their names are.
#[derive(Debug, Clone, Copy)]
pub struct Cause {
    /// Its name in JSON: `server_nat_private_address`.
    pub name: &'static str,
    /// Why it fails, as a sentence.
    pub sentence: &'static str,
    /// In a few words, for the verdict.
    pub brief: &'static str,
}

impl PartialEq for Cause {
    fn eq(&self, other: &Cause) -> bool {
        self.name == other.name
    }
}

impl Eq for Cause {}

impl Hash for Cause {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state)
    }
}

impl Serialize for Cause {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

impl Display for Cause {
    /// The cause as a sentence: why it fails.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.sentence)
    }
}
