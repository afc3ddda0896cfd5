use super::*;
use crate::model::{Failure, FindingKind, LinkType, Outcome, Severity, Verdict};
use crate::report::Report;
use crate::tcp::flow::FlowLimits;
use etherparse::PacketBuilder;
use proptest::prelude::*;

#[derive(Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
}

/// A raw IPv4 frame (LINKTYPE_IPV4) carrying one TCP segment.
fn segment(src: ([u8; 4], u16), dst: ([u8; 4], u16), seq: u32, ack: u32, f: Flags, payload: &[u8]) -> Vec<u8> {
    let mut b = PacketBuilder::ipv4(src.0, dst.0, 64).tcp(src.1, dst.1, seq, 64240);
    if f.syn {
        b = b.syn();
    }
    if f.ack {
        b = b.ack(ack);
    }
    if f.fin {
        b = b.fin();
    }
    if f.rst {
        b = b.rst();
    }
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

struct Feeder {
    a: Analyzer,
    frame: u64,
}

impl Feeder {
    fn new(settings: Settings) -> Feeder {
        Feeder { a: Analyzer::new(settings), frame: 0 }
    }
    fn feed(&mut self, bytes: &[u8]) {
        self.frame += 1;
        let ts = Timestamp(self.frame as i64 * 1_000_000);
        self.a.feed(&Frame { number: self.frame, ts, link: LinkType::Ipv4, data: bytes, orig_len: bytes.len() as u32 });
    }
}

const C: ([u8; 4], u16) = ([192, 168, 1, 10], 40000);
const S: ([u8; 4], u16) = ([203, 0, 113, 5], 21);
const SYN: Flags = Flags { syn: true, ack: false, fin: false, rst: false };
const SYNACK: Flags = Flags { syn: true, ack: true, fin: false, rst: false };
const ACK: Flags = Flags { syn: false, ack: true, fin: false, rst: false };

/// A control connection: handshake, then the lines in order, each in its own segment.
fn control(f: &mut Feeder, lines: &[(bool, &[u8])]) {
    control_between(f, C, S, lines);
}

type End = ([u8; 4], u16);

/// Like `control`, between any two endpoints; returns the next sequence numbers both ways.
fn control_between(f: &mut Feeder, c: End, s: End, lines: &[(bool, &[u8])]) -> (u32, u32) {
    let (mut cs, mut ss) = (1000u32, 5000u32);
    f.feed(&segment(c, s, cs, 0, SYN, b""));
    f.feed(&segment(s, c, ss, cs + 1, SYNACK, b""));
    cs += 1;
    ss += 1;
    for (from_client, line) in lines {
        if *from_client {
            f.feed(&segment(c, s, cs, ss, ACK, line));
            cs += line.len() as u32;
        } else {
            f.feed(&segment(s, c, ss, cs, ACK, line));
            ss += line.len() as u32;
        }
    }
    (cs, ss)
}

/// FIN both ways and the last ACK.
fn close(f: &mut Feeder, c: End, s: End, (cs, ss): (u32, u32)) {
    let fin = Flags { fin: true, ..ACK };
    f.feed(&segment(c, s, cs, ss, fin, b""));
    f.feed(&segment(s, c, ss, cs + 1, fin, b""));
    f.feed(&segment(c, s, cs + 1, ss + 1, ACK, b""));
}

/// The record of the first session that settled among `events`.
fn settled(events: Vec<Event>) -> Option<crate::model::Session> {
    events.into_iter().find_map(|e| match e {
        Event::SessionEnd { record, .. } => Some(*record),
        _ => None,
    })
}

fn drain(a: &mut Analyzer) -> Vec<Event> {
    std::iter::from_fn(|| a.poll_event()).collect()
}

const PASSIVE_LEAK: &[(bool, &[u8])] = &[
    (false, b"220 (vsFTPd 3.0.3)\r\n"),
    (true, b"USER ftp\r\n"),
    (false, b"230 Login successful.\r\n"),
    (true, b"PASV\r\n"),
    (false, b"227 Entering Passive Mode (10,0,0,20,156,64).\r\n"),
    (true, b"QUIT\r\n"),
    (false, b"221 Goodbye.\r\n"),
];

#[test]
fn a_closed_session_is_reported_at_once_and_forgotten() {
    let mut f = Feeder::new(Settings::default());
    let seqs = control_between(&mut f, C, S, PASSIVE_LEAK);
    let before: Vec<_> = drain(&mut f.a).iter().map(Event::name).collect();
    assert_eq!(before, ["session_start", "negotiation"], "nothing settles while the control connection is open");
    close(&mut f, C, S, seqs);
    let events = drain(&mut f.a);
    let names: Vec<_> = events.iter().map(Event::name).collect();
    // No SYN to the advertised port came, the client moved on: every negotiation is final,
    // so the session settles with the FIN, not at the end of the input.
    assert_eq!(names, ["data_outcome", "session_end"], "{events:?}");
    let Event::SessionEnd { record, .. } = &events[1] else { unreachable!() };
    assert_eq!(record.end, EndReason::Closed);
    assert_eq!(record.negotiations[0].data.outcome, Outcome::NotAttempted);
    assert_eq!(record.findings[0].kind, crate::model::FindingKind::PrivateAddressLeak);
    assert_eq!(f.a.open_sessions().count(), 0, "its state is dropped");
    assert_eq!(f.a.budget.held(), 0, "and its buffers");
    assert!(f.a.flows.is_empty(), "its closed control connection left the flow table");
    f.a.finish();
    // Its server's picture, from the whole capture, comes before the summary.
    let Some(Event::Server { server, .. }) = f.a.poll_event() else { panic!("the server's picture") };
    assert_eq!((server.picture.sessions, server.picture.leaked), (1, true));
    let Some(Event::Summary { summary, .. }) = f.a.poll_event() else { panic!("summary last") };
    // The client left without connecting or transferring: a failed transfer, an error.
    assert_eq!((summary.sessions, summary.negotiations, summary.errors), (1, 1, 1));
    // Its last ACK, after the session settled, was known as its own, not a new connection.
    assert_eq!(summary.tcp_connections, 1);
    assert_eq!((summary.transfers.total, summary.transfers.failed), (1, 1));
}

#[test]
fn a_live_capture_tells_a_changed_server_from_time_to_time_by_capture_time() {
    const EVERY: i64 = 60 * 1_000_000_000;
    let mut f = Feeder::new(Settings { server_events_every_ns: Some(EVERY), ..Settings::default() });
    let seqs = control_between(&mut f, C, S, PASSIVE_LEAK);
    close(&mut f, C, S, seqs);
    let servers = |events: &[Event]| events.iter().filter(|e| matches!(e, Event::Server { .. })).count();
    assert_eq!(servers(&drain(&mut f.a)), 0, "not before its time");
    // Time passes without packets: the settled session's server is told once.
    f.a.advance(Timestamp(2 * EVERY));
    let told = drain(&mut f.a);
    let Some(Event::Server { server, .. }) = told.iter().find(|e| matches!(e, Event::Server { .. })) else { panic!("{told:?}") };
    assert_eq!((server.picture.sessions, server.picture.advertised.ports()), (1, &[40000][..]));
    f.a.advance(Timestamp(4 * EVERY));
    assert_eq!(servers(&drain(&mut f.a)), 0, "unchanged: not told again");
}

#[test]
fn without_negotiation_events_the_same_session_settles() {
    let run = |negotiation_events: bool| {
        let mut f = Feeder::new(Settings { negotiation_events, ..Settings::default() });
        let seqs = control_between(&mut f, C, S, PASSIVE_LEAK);
        close(&mut f, C, S, seqs);
        let events = drain(&mut f.a);
        let names: Vec<&str> = events.iter().map(Event::name).collect();
        (names, serde_json::to_string(&crate::report::record::SessionView::of(&settled(events).unwrap())).unwrap())
    };
    let (all, record) = run(true);
    let (some, same) = run(false);
    assert_eq!(all, ["session_start", "negotiation", "data_outcome", "session_end"]);
    assert_eq!(some, ["session_start", "session_end"]);
    assert_eq!(record, same);
}

/// RFC 959 4.1.3: the client aborts a running transfer with ABOR; the server answers the
/// transfer with 426 and the ABOR with 226. That is the client's own doing, not a refusal of
/// the data channel: the transfer failed as aborted. The same 426 without an ABOR is a refusal.
#[test]
fn a_426_answering_the_clients_abor_is_an_aborted_transfer_not_a_refusal() {
    let run = |abort: bool| {
        let mut lines: Vec<(bool, &[u8])> = vec![
            (false, b"220 (vsFTPd 3.0.3)\r\n"),
            (true, b"USER ftp\r\n"),
            (false, b"230 Login successful.\r\n"),
            (true, b"PASV\r\n"),
            (false, b"227 Entering Passive Mode (203,0,113,5,156,64).\r\n"),
            (true, b"RETR big.iso\r\n"),
            (false, b"150 Opening BINARY mode data connection.\r\n"),
        ];
        if abort {
            lines.push((true, b"\xff\xf4\xff\xf2ABOR\r\n"));
        }
        lines.push((false, b"426 Failure writing network stream.\r\n"));
        if abort {
            lines.push((false, b"226 Abort successful\r\n"));
        }
        lines.extend([(true, &b"QUIT\r\n"[..]), (false, &b"221 Goodbye.\r\n"[..])]);
        let mut f = Feeder::new(Settings::default());
        let seqs = control_between(&mut f, C, S, &lines);
        close(&mut f, C, S, seqs);
        f.a.finish();
        settled(drain(&mut f.a)).unwrap()
    };
    let aborted = run(true);
    let data = &aborted.negotiations[0].data;
    assert_eq!(data.reply_code, Some(426));
    assert!(data.aborted_frame.is_some());
    assert_ne!(data.outcome, Outcome::Rejected);
    assert_eq!(data.transfer, Some(Verdict::Failed(Failure::Aborted)));
    let kinds: Vec<_> = aborted.findings.iter().map(|f| (f.kind, f.severity)).collect();
    assert_eq!(kinds, [(FindingKind::TransferFailed, Severity::Error)], "no data_command_rejected");
    let refused = run(false);
    assert_eq!(refused.negotiations[0].data.outcome, Outcome::Rejected);
    assert_eq!(refused.negotiations[0].data.transfer, Some(Verdict::Failed(Failure::Refused)));
    assert!(refused.findings.iter().any(|f| f.kind == crate::model::FindingKind::DataCommandRejected && f.severity == Severity::Error));
}

#[test]
fn time_passing_without_packets_settles_unanswered_and_idle_sessions() {
    let settings = Settings::default();
    let mut f = Feeder::new(settings);
    let seqs = control_between(&mut f, C, S, &PASSIVE_LEAK[..5]);
    // The client tries the private address once, then quits.
    f.feed(&segment(([192, 168, 1, 10], 40001), ([10, 0, 0, 20], 40000), 777, 0, SYN, b""));
    close(&mut f, C, S, seqs);
    drain(&mut f.a);
    assert_eq!(f.a.open_sessions().count(), 1, "a SYN with no answer yet: wait for the grace");
    let grace_end = f.a.poll_timeout().expect("a deadline");
    f.a.advance(Timestamp(grace_end.0 - 1));
    assert!(!drain(&mut f.a).iter().any(|e| e.name() == "session_end"));
    f.a.advance(grace_end);
    let end = settled(drain(&mut f.a)).expect("settled");
    assert_eq!(end.negotiations[0].data.outcome, Outcome::Unanswered);

    // A session that just stops talking settles as idle after the idle timeout.
    let other = ([192, 168, 1, 11], 40000);
    control_between(&mut f, other, S, &PASSIVE_LEAK[..3]);
    let quiet_from = Timestamp(f.frame as i64 * 1_000_000);
    f.a.advance(quiet_from.plus_ns(settings.idle_timeout_ns - 1));
    assert_eq!(f.a.open_sessions().count(), 1);
    f.a.advance(quiet_from.plus_ns(settings.idle_timeout_ns));
    let end = settled(drain(&mut f.a)).expect("idle");
    assert_eq!(end.end, EndReason::Idle);
}

#[test]
fn memory_follows_open_sessions_not_sessions_seen() {
    let mut f = Feeder::new(Settings::default());
    for i in 0..20_000u32 {
        let c = ([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 40000);
        let seqs = control_between(&mut f, c, S, PASSIVE_LEAK);
        close(&mut f, c, S, seqs);
        while f.a.poll_event().is_some() {}
    }
    assert_eq!(f.a.open_sessions_high_water(), 1);
    assert!(f.a.pairing.len() <= 20_000);
    // The flow table holds what is open: 20 s of capture time, four closed timeouts, would
    // otherwise keep up to 10,000 ended connections whole.
    assert!(f.a.flows.is_empty(), "{} flows", f.a.flows.len());
    f.a.finish();
    let Some(Event::Summary { summary, .. }) = std::iter::from_fn(|| f.a.poll_event()).last() else { panic!() };
    assert_eq!(summary.sessions, 20_000);
    assert_eq!(summary.errors, 20_000);
    assert_eq!((summary.tcp_connections, summary.evicted_connections), (20_000, 0));
}

/// Session ids are never reused: once the last is given (the one before `NO_SESSION`), new
/// sessions are counted over the limit, as when too many are open.
#[test]
fn sessions_past_the_last_id_are_counted_over_the_limit() {
    let mut f = Feeder { a: Analyzer::with_next_session(Settings::default(), NO_SESSION - 2), frame: 0 };
    let mut ids = Vec::new();
    for i in 0..4u8 {
        let c = ([10, 0, 0, i], 40000);
        let seqs = control_between(&mut f, c, S, PASSIVE_LEAK);
        close(&mut f, c, S, seqs);
        ids.extend(drain(&mut f.a).into_iter().filter_map(|e| match e {
            Event::SessionEnd { record, .. } => Some(record.id),
            _ => None,
        }));
    }
    assert_eq!(ids, [NO_SESSION - 2, NO_SESSION - 1]);
    f.a.finish();
    let Some(Event::Summary { summary, .. }) = std::iter::from_fn(|| f.a.poll_event()).last() else { panic!("summary last") };
    assert_eq!((summary.sessions, summary.sessions_over_limit), (2, 2));
}

#[test]
fn the_buffer_budget_holds_across_sessions_and_counts_what_it_gave_up() {
    let settings = Settings { buffer_budget: 64 * 1024, ..Settings::default() };
    let mut f = Feeder::new(settings);
    let mut given_up = 0;
    for i in 0..100u32 {
        let c = ([10, 1, (i >> 8) as u8, i as u8], 40000);
        let (cs, ss) = control_between(&mut f, c, S, &PASSIVE_LEAK[..3]);
        // Out-of-order data after a hole the capture never fills: 4 KiB held per session.
        for k in 0..4u32 {
            f.feed(&segment(c, S, cs + 100 + k * 1024, ss, ACK, &[b'x'; 1024]));
        }
        assert!(f.a.budget.held() <= settings.buffer_budget, "session {i}: {} held", f.a.budget.held());
        given_up = f.a.summary.control_over_budget_bytes;
    }
    // Past the budget each channel gave up what it held (the bytes after such a gap are
    // dropped up to the next line end, like after any gap).
    assert!(given_up >= 80 * 1024, "{given_up}");
    let r = Report::collect(&mut f.a);
    assert_eq!(r.sessions.len(), 100, "sessions holding the budget did not stop new ones from being recognised");
    assert_eq!(r.capture.summary.control_over_budget_bytes, given_up);
    assert!(r.sessions.iter().any(|s| s.control.over_budget_bytes > 0));
}

#[test]
fn private_227_with_unanswered_syns_fails_and_says_why() {
    let mut f = Feeder::new(Settings::default());
    control(
        &mut f,
        &[
            (false, b"220 (vsFTPd 3.0.3)\r\n"),
            (true, b"USER ftp\r\n"),
            (false, b"230 Login successful.\r\n"),
            (true, b"PASV\r\n"),
            (false, b"227 Entering Passive Mode (10,0,0,20,156,64).\r\n"),
        ],
    );
    let data_dst = ([10, 0, 0, 20], 40000);
    let other = segment(([1, 1, 1, 1], 1), ([2, 2, 2, 2], 2), 1, 1, ACK, b"");
    // The SYN and its retries, 1 s apart (the same bytes closer together would be a copy made
    // by the capture); then the client gives up: the capture goes on for 10 s.
    for syn in 0..3 {
        f.feed(&segment(([192, 168, 1, 10], 40001), data_dst, 777, 0, SYN, b""));
        for _ in 0..if syn < 2 { 1000 } else { 10_000 } {
            f.feed(&other);
        }
    }
    let r = Report::collect(&mut f.a);
    let n = &r.sessions[0].negotiations[0];
    assert_eq!(n.advertised, Some("10.0.0.20:40000".parse().unwrap()));
    assert_eq!(n.data.outcome, Outcome::Unanswered);
    assert_eq!(n.data.connection.as_ref().map(|c| (c.syn_frame, c.syns)), Some((8, 3)));
    let kinds: Vec<_> = r.all_findings().map(|f| (f.kind.as_str(), f.severity)).collect();
    assert!(kinds.contains(&("private_address_leak", Severity::Error)), "{kinds:?}");
    assert!(kinds.contains(&("data_connection_failed", Severity::Error)), "{kinds:?}");
    assert!(r.has_errors());
}

/// AUTH TLS, an encrypted CCC, then PASV in clear text again.
const AFTER_CCC: &[(bool, &[u8])] = &[
    (false, b"220 ready\r\n"),
    (true, b"AUTH TLS\r\n"),
    (false, b"234 Proceed.\r\n"),
    (true, b"\x16\x03\x01\x00\x05hello"),
    (false, b"\x16\x03\x03\x00\x05\x0a\x0d\x0a\x0d\x0a"),
    (true, b"\x17\x03\x03\x00\x03CCC"),
    (true, b"PASV\r\n"),
    (false, b"227 Entering Passive Mode (203,0,113,5,4,1)\r\n"),
];

#[test]
fn clear_text_after_ccc_is_read_again() {
    let mut f = Feeder::new(Settings::default());
    control(&mut f, AFTER_CCC);
    let r = Report::collect(&mut f.a);
    let s = &r.sessions[0];
    assert!(s.tls);
    assert_eq!(s.tls_frame, Some(5));
    assert_eq!(s.clear_again_frame, Some(9));
    assert!(s.anomalies.is_empty(), "TLS bytes are not lines: {:?}", s.anomalies);
    assert_eq!(s.negotiations.len(), 1);
    assert_eq!(s.negotiations[0].advertised, Some("203.0.113.5:1025".parse().unwrap()));
}

#[test]
fn the_text_report_says_the_control_channel_went_back_to_clear_text() {
    use crate::report::Sink;
    let mut f = Feeder::new(Settings::default());
    control(&mut f, AFTER_CCC);
    f.a.finish();
    let mut text = crate::report::text::Text::new(Vec::new(), false);
    while let Some(event) = f.a.poll_event() {
        text.event(&event).unwrap();
    }
    text.finish(&[]).unwrap();
    let out = String::from_utf8(text.into_inner()).unwrap();
    assert!(out.contains("TLS from frame 5, back to clear text from frame 9 (CCC)"), "{out}");
}

#[test]
fn a_flood_of_connections_stays_within_the_flow_limit() {
    let settings = Settings { flows: FlowLimits { max_flows: 1_000, ..FlowLimits::default() }, ..Settings::default() };
    let mut f = Feeder::new(settings);
    for i in 0..20_000u32 {
        let src = ([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 1024 + (i % 60000) as u16);
        f.feed(&segment(src, ([10, 9, 9, 9], 80), i, 0, SYN, b""));
        assert!(f.a.flows.len() <= 1_000);
    }
    let r = Report::collect(&mut f.a);
    assert_eq!(r.capture.summary.tcp_connections, 20_000);
    assert!(r.capture.summary.evicted_connections >= 19_000);
}

#[test]
fn a_peer_that_never_ends_its_line_costs_bounded_memory() {
    let mut f = Feeder::new(Settings::default());
    control(&mut f, &[(false, b"220 ready\r\n"), (true, b"USER x\r\n"), (false, b"331 pw\r\n")]);
    let mut seq = 1001 + 8;
    let junk = vec![b'A'; 1400];
    for _ in 0..2_000 {
        f.feed(&segment(C, S, seq, 5000 + 1 + 18, ACK, &junk));
        seq += junk.len() as u32;
    }
    let key = FlowKey::new("192.168.1.10:40000".parse().unwrap(), "203.0.113.5:21".parse().unwrap());
    let Some(Flow { role: Role::Control { channel, .. }, .. }) = f.a.flows.get_mut(&key).map(|f| &mut **f) else { panic!("control flow") };
    assert!(channel.buffered() <= Settings::default().max_line);
    let r = Report::collect(&mut f.a);
    assert_eq!(r.sessions.len(), 1);
    assert_eq!(r.sessions[0].control.bytes_to_server, 8 + 2_000 * 1400);
}

proptest! {
    /// Any mix of segments, flags and FTP-ish or random payloads on a few connections: no
    /// panic, and a report that serialises.
    #[test]
    fn arbitrary_traffic_never_panics(
        segs in proptest::collection::vec((0usize..4, any::<u32>(), any::<u32>(), 0u8..16, 0usize..12, proptest::collection::vec(any::<u8>(), 0..40)), 0..120)
    ) {
        const WORDS: [&[u8]; 12] = [b"220 hi\r\n", b"USER a\r\n", b"PASV\r\n", b"227 (10,0,0,1,4,1)\r\n", b"EPSV\r\n", b"229 (|||70000|)\r\n",
            b"PORT 1,2,3,4,5,6\r\n", b"200 ok\r\n", b"AUTH TLS\r\n", b"234 go\r\n", b"230-", b"LIST\r\n"];
        let ends = [(C, S), (S, C), (([10, 0, 0, 1], 4), ([10, 0, 0, 2], 1025)), (([10, 0, 0, 2], 1025), ([10, 0, 0, 1], 4))];
        let mut f = Feeder::new(Settings::default());
        // Two 4-tuples; a SYN on a closed one opens a new connection (ports are reused).
        let most = 2 + segs.iter().filter(|s| s.3 & 1 != 0).count();
        for (e, seq, ack, flags, word, junk) in segs {
            let fl = Flags { syn: flags & 1 != 0, ack: flags & 2 != 0, fin: flags & 4 != 0, rst: flags & 8 != 0 };
            let mut payload = WORDS[word % WORDS.len()].to_vec();
            if word >= WORDS.len() - 1 {
                payload.extend_from_slice(&junk);
            }
            let (src, dst) = ends[e];
            f.feed(&segment(src, dst, seq, ack, fl, &payload));
        }
        f.a.finish();
        let r = Report::collect(&mut f.a);
        prop_assert!(serde_json::to_string(&r).is_ok());
        prop_assert!(r.sessions.len() <= most);
    }
}
