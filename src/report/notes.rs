//! What the reports say of the capture as a whole, from its totals: what was set aside or
//! counted once, frames the snap length cut, connections to the implicit FTPS port. One wording
//! for text, explain and HTML.

use crate::ftp::IMPLICIT_FTPS_PORT;
use crate::model::Summary;

/// Said when connections to the implicit FTPS port were seen: what they are, and that they
/// are not in the report.
pub fn implicit_ftps_note(s: &Summary) -> Option<String> {
    (s.implicit_ftps_connections > 0).then(|| {
        format!(
            "{} TCP connection(s) to port {}: implicit FTPS, encrypted from the first byte; nothing in them can be read, \
             here or by a NAT helper, so their sessions are not in this report",
            s.implicit_ftps_connections, IMPLICIT_FTPS_PORT
        )
    })
}

/// Said when the capture holds no FTP session: what it shows instead, as the findings outside
/// any session tell it (diagnose::unclaimed), and what to capture.
pub fn without_sessions(s: &Summary) -> Option<String> {
    if s.sessions > 0 {
        return None;
    }
    let shows = if s.control_connections_failed > 0 {
        format!(
            "No FTP session: {} connection(s) to the control port never opened (control_connection_failed): the FTP server \
             cannot be reached, so no login, command or data connection followed",
            s.control_connections_failed
        )
    } else if s.data_connections_without_control > 0 {
        format!(
            "No FTP control channel in this capture, but {} of its {} TCP connection(s) look like FTP data \
             (data_without_control): the control connection was left out (a filter such as `not port 21`) or does not pass \
             this capture point; capture it too",
            s.data_connections_without_control, s.tcp_connections
        )
    } else {
        format!(
            "No FTP control channel in this capture ({} frame(s), {} TCP connection(s)), no connection to the control port that \
             failed, and none that looks like FTP data. FTP is recognised by content on any port (a reply line from the server and \
             an FTP command from the client): capture where the FTP client's or server's traffic passes, with a filter on the FTP \
             hosts (`host <the FTP server's address>`) or `tcp`",
            s.frames, s.tcp_connections
        )
    };
    Some(shows + ".")
}

/// Said when the snap length cut frames: what is missing, and how to capture instead.
pub fn cut_note(s: &Summary) -> Option<String> {
    (s.cut_frames > 0).then(|| {
        format!(
            "{} frame(s) cut by the capture's snap length (at most {} bytes kept of each): the bytes past it are missing \
             (transfer sizes still come from sequence numbers; a control line in them is lost); capture whole packets \
             (tcpdump -s 0)",
            s.cut_frames, s.cut_kept
        )
    })
}

/// What the analysis left out or counted once, with how much of each, as the reports list it:
/// only the ones that happened.
pub fn set_aside(s: &Summary) -> Vec<String> {
    [
        (s.undecodable_frames, "undecodable frame(s)"),
        (s.unsupported_frames, "frame(s) of unsupported link type"),
        (s.duplicate_frames, "duplicate frame(s) analysed once"),
        (s.evicted_connections, "connection(s) evicted from memory"),
        (s.sessions_over_limit, "session(s) over the limit"),
        (s.control_over_budget_bytes, "control byte(s) over the buffer budget"),
        (s.incomplete_datagrams, "fragmented datagram(s) incomplete"),
        (s.datagrams_over_budget, "fragmented datagram(s) over the reassembly budget"),
        (s.invalid_datagrams, "invalid fragmented datagram(s)"),
        (s.control_gap_bytes, "control byte(s) lost in gaps"),
        (s.overlong_lines, "overlong line(s) cut"),
        (s.conflicting_overlaps, "retransmitted control byte(s) that differed"),
        (s.negotiations_over_limit, "negotiation(s) over the per-session limit"),
        (s.extract_refused_bytes, "data byte(s) not extracted (--extract-max reached, or writing failed)"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect()
}

/// What a data connection carried, hashed (`--hash`), as every view says it: `sha256 9f86…
/// md5 098f… (1500000 bytes from the server, complete)`, or why there is no hash.
pub fn content(c: &crate::model::Content) -> String {
    let sender = c.sender.map_or("sender", |s| s.as_str());
    match (&c.sha256, &c.md5, c.hash_absent) {
        (Some(sha256), Some(md5), _) => format!("sha256 {sha256} md5 {md5} ({} bytes from the {sender}, complete)", c.bytes),
        (_, _, absent) => {
            let why = absent.map_or("not seen whole", |a| a.as_str());
            let at = c.gap_at.map(|at| format!(" at byte {at}")).unwrap_or_default();
            format!("no hash: {}{at} ({} bytes from the {sender} seen)", why.replace('_', " "), c.bytes)
        }
    }
}
