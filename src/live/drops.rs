//! The finding about the capture itself: libpcap dropped packets, so the analysis missed some
//! and an outcome may read wrong (a SYN-ACK dropped makes an established connection look
//! unanswered). It belongs to no session.

use super::source::Counters;
use crate::model::finding::CaptureDrops;
use crate::model::finding::{Details, Text};
use crate::model::{Event, Finding, FindingKind, Severity};

pub use crate::model::finding::NO_SESSION;

pub(super) fn finding(c: &Counters, frames: u64) -> Option<Event> {
    if c.lost() == 0 {
        return None;
    }
    let finding = Finding {
        kind: FindingKind::CaptureDrops,
        occurrences: 1,
        caused_by: None,
        also: Vec::new(),
        group: Default::default(),
        severity: Severity::Warning,
        session: NO_SESSION,
        frames: Vec::new(),
        text: Text::CaptureDrops(CaptureDrops),
        fix: Vec::new(),
        details: Details::Drops { received: c.received, dropped: c.dropped, interface_dropped: c.interface_dropped },
    };
    Some(Event::Finding { session: NO_SESSION, frame: frames, time: super::capture::wall_clock(), finding: Box::new(finding) })
}
