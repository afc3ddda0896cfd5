//! capture_drops (live capture): libpcap or the interface dropped packets, so the analysis
//! missed some.

use super::{Cause, Words};
use crate::model::finding::CaptureDrops;
use crate::model::{Details, Finding};
use std::fmt::{self, Formatter};

pub const CAPTURE_DROPS: Cause = Cause {
    name: "capture_drops",
    sentence: "The capture dropped packets: some facts may be missing.",
    brief: "packets dropped by the capture",
};

impl Words for CaptureDrops {
    fn summary(&self, finding: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        match &finding.details {
            Details::Drops { received, dropped, interface_dropped } => write!(
                f,
                "the capture dropped {} of {received} packet(s): {dropped} for want of buffer room, {interface_dropped} by the \
                 interface",
                dropped + interface_dropped
            ),
            _ => f.write_str("the capture dropped packets"),
        }
    }

    fn explanation(&self, _: &Finding, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "Packets that were dropped were never analysed: a missing SYN-ACK, reply or FIN can make an outcome read wrong \
             (unanswered instead of established, unknown instead of closed), and a missing reply can hide a negotiation. \
             Capture less (a narrower --filter, e.g. on the FTP hosts, but not on ports: the data connections use others) or \
             give the kernel more room (--buffer-size, e.g. 128M).",
        )
    }

    fn cause(&self) -> Cause {
        CAPTURE_DROPS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FindingKind, Severity, Text};
    use crate::problems::{cause, Summary};

    #[test]
    fn the_summary_counts_both_kinds_of_drop() {
        let details = Details::Drops { received: 1000, dropped: 12, interface_dropped: 3 };
        let f = Finding::new(FindingKind::CaptureDrops, Severity::Warning, 0, Vec::new(), Text::CaptureDrops(CaptureDrops), details);
        assert_eq!(Summary(&f).to_string(), "the capture dropped 15 of 1000 packet(s): 12 for want of buffer room, 3 by the interface");
        assert_eq!(cause(&f).name, "capture_drops");
    }
}
