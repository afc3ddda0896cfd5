//! port_outside_range: a passive reply's port outside the intended range (`--pasv-range`).

use super::{Cause, Spaced, Subject, Words};
use crate::model::finding::OutsideRange;
use crate::model::notation::Sock;
use crate::model::Finding;
use std::fmt::{self, Formatter};

pub const OUTSIDE_INTENDED_RANGE: Cause = Cause {
    name: "outside_intended_range",
    sentence: "The server advertises passive ports outside the intended range: its own range setting differs from the one the \
               router forwards.",
    brief: "passive ports outside the intended range",
};

impl Words for OutsideRange {
    fn summary(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        let (port, range) = (self.advertised.port(), self.range);
        write!(f, "passive reply advertises port {port}, outside the intended range {}-{}", range.lo, range.hi)
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "The server advertised {} although the intended passive range is {}-{}: the router forwards (or the firewall allows) \
             the intended range, so a port outside it is not reached. The data connection was {}. The server's own passive \
             range differs from the intended one.",
            Sock(self.advertised),
            self.range.lo,
            self.range.hi,
            Spaced(self.outcome)
        )
    }

    fn cause(&self) -> Cause {
        OUTSIDE_INTENDED_RANGE
    }

    fn subject(&self) -> Option<Subject> {
        Some(Subject::Advertised(self.advertised))
    }
}
