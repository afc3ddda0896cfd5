//! The JSON of a session record and of a finding: views over the model's values that add what
//! the model does not hold (a finding's summary, explanation and fix texts), in docs/schema.md's
//! field order.
//!
//! Owns the JSON shape of a session and a finding. The words are the kinds' (problems/) and
//! report::fix's; the values are the model's, which serialise everything else themselves.

use crate::model::notation::Sock;
use crate::model::{Finding, Session, Transfers};
use crate::problems::{also, Explanation, Summary};
use crate::report::fix::Fixes;
use crate::report::Rendered;
use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

/// A session record as written out, with or without its findings.
pub struct SessionView<'a> {
    session: &'a Session,
    findings: bool,
}

impl SessionView<'_> {
    /// The whole record, findings included.
    pub fn of(session: &Session) -> SessionView<'_> {
        SessionView { session, findings: true }
    }

    /// The record without its findings: an NDJSON `session_end` follows its `finding` events,
    /// which already carry them.
    pub fn without_findings(session: &Session) -> SessionView<'_> {
        SessionView { session, findings: false }
    }
}

impl Serialize for SessionView<'_> {
    /// The fields in docs/schema.md's order.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.session;
        let mut st = s.serialize_struct("Session", 27)?;
        st.serialize_field("id", &r.id)?;
        st.serialize_field("client", &Sock(r.client))?;
        st.serialize_field("server", &Sock(r.server))?;
        st.serialize_field("control_port", &r.control_port)?;
        st.serialize_field("first_frame", &r.first_frame)?;
        st.serialize_field("start_time", &r.start_time)?;
        st.serialize_field("last_frame", &r.last_frame)?;
        st.serialize_field("end_time", &r.end_time)?;
        st.serialize_field("end", &r.end)?;
        st.serialize_field("user", &r.user)?;
        st.serialize_field("banner", &r.banner)?;
        st.serialize_field("software", &r.software)?;
        st.serialize_field("tls", &r.tls)?;
        st.serialize_field("tls_frame", &r.tls_frame)?;
        st.serialize_field("gssapi_frame", &r.gssapi_frame)?;
        st.serialize_field("protected_data", &r.protected_data)?;
        st.serialize_field("clear_again_frame", &r.clear_again_frame)?;
        st.serialize_field("commands", &r.commands)?;
        st.serialize_field("replies", &r.replies)?;
        st.serialize_field("captured_directions", &r.captured_directions)?;
        st.serialize_field("negotiations", &r.negotiations)?;
        st.serialize_field("negotiations_over_limit", &r.negotiations_over_limit)?;
        st.serialize_field("transfers", &Transfers::of(r))?;
        st.serialize_field("probable_data_channels", &r.probable_data_channels)?;
        st.serialize_field("anomalies", &r.anomalies)?;
        st.serialize_field("control", &r.control)?;
        if self.findings {
            st.serialize_field("findings", &Findings(&r.findings))?;
        }
        st.end()
    }
}

/// A finding as written out: its values, with `summary`, `explanation` and each fix's `text`
/// rendered straight into the output.
pub struct FindingView<'a>(pub &'a Finding);

impl Serialize for FindingView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut st = s.serialize_struct("Finding", 11)?;
        st.serialize_field("kind", &f.kind)?;
        st.serialize_field("occurrences", &f.occurrences)?;
        st.serialize_field("caused_by", &f.caused_by)?;
        st.serialize_field("severity", &f.severity)?;
        st.serialize_field("session", &f.session)?;
        st.serialize_field("frames", &f.frames)?;
        st.serialize_field("summary", &Rendered(Summary(f)))?;
        st.serialize_field("explanation", &Rendered(Explanation(f)))?;
        // Each fix as `{"action": ..., its parameters, "text": the rendered advice}`.
        st.serialize_field("fix", &Fixes(&f.fix))?;
        st.serialize_field("details", &f.details)?;
        // The subjects of the merged repeats.
        st.serialize_field("also", &Also(f))?;
        st.end()
    }
}

/// A list of findings as written out, each a [`FindingView`].
pub struct Findings<'a>(pub &'a [Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(FindingView))
    }
}

/// A list of session records as written out, each whole.
pub struct Sessions<'a>(pub &'a [Session]);

impl Serialize for Sessions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(SessionView::of))
    }
}

/// `#[serde(serialize_with)]` for a list of session records.
pub fn sessions<S: Serializer>(sessions: &[Session], s: S) -> Result<S::Ok, S::Error> {
    Sessions(sessions).serialize(s)
}

/// `#[serde(serialize_with)]` for a list of findings.
pub fn findings<S: Serializer>(findings: &[Finding], s: S) -> Result<S::Ok, S::Error> {
    Findings(findings).serialize(s)
}

/// JSON: the subjects of a merged finding's other occurrences (`also`).
struct Also<'a>(&'a Finding);

impl Serialize for Also<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(also(self.0))
    }
}
