//! A finding: one problem (or fact worth knowing) with its evidence frames, a plain-words
//! explanation and the fixes, as values.

use super::{FindingKind, Fix, Severity};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// Findings of one kind and cause in one session are reported once, with the frames of
    /// the first few and this count (689 identical PASV replies are one problem).
    pub occurrences: u32,
    /// What makes two findings "the same" for that merge.
    #[serde(skip)]
    pub group: String,
    pub severity: Severity,
    pub session: u32,
    pub frames: Vec<u64>,
    pub summary: String,
    pub explanation: String,
    /// Each fix as `{"action": ..., its parameters, "text": the rendered advice}`.
    #[serde(serialize_with = "crate::report::fix::serialize_fixes")]
    pub fix: Vec<Fix>,
    pub details: serde_json::Value,
}
