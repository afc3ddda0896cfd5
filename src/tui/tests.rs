//! The screens rendered to text (ratatui's TestBackend) on lab captures, reviewed as an
//! operator would read them; the keys driving the view; the store's bound; the feeder never
//! waiting; drawing that costs what the visible rows cost.

use super::app::{App, RunState, Screen, Status};
use super::feed::{self, Snapshot, SourceCounters, Update};
use super::input::Action;
use crate::analyzer::Analyzer;
use crate::model::{Event, Timestamp};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const LEAK: &str = "fixtures/pasv-private-leak-fail/client.pcap";
/// Active mode that works (through the client router's FTP helper).
const ACTIVE: &str = "fixtures/alg-active/client.pcap";

/// The app as it stands once the UI has taken every event of a capture, as the run loop
/// would (a fixed elapsed time keeps the rate out of the snapshots).
fn app_from(rel: &str) -> App {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    let mut analyzer = Analyzer::new(super::settings());
    crate::capture::read_path(&path, 1, &mut |f| analyzer.feed(f)).unwrap();
    analyzer.finish();
    let size = std::fs::metadata(&path).unwrap().len();
    let mut app = App::new(Status::new(format!("file {rel}"), Some(size)), false);
    while let Some(e) = analyzer.poll_event() {
        app.store.apply(e);
    }
    let snapshot = Snapshot {
        stats: analyzer.stats(),
        counters: SourceCounters { bytes: size, drops: None },
        elapsed: Duration::from_secs(1),
        ..Default::default()
    };
    app.on_snapshot(&snapshot, 0);
    app.status.state = RunState::Ended;
    app.refresh();
    app
}

fn render(app: &mut App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    app.refresh();
    terminal.draw(|f| super::draw(f, app)).unwrap();
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..height {
        let line: String = (0..width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn keys(app: &mut App, actions: &[Action]) {
    for a in actions {
        app.apply(*a);
        app.refresh();
    }
}

/// Each screen at both sizes, as one snapshot per (capture, screen, size).
fn screens(name: &str, rel: &str) {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = app_from(rel);
        insta::assert_snapshot!(format!("{name}_list_{w}x{h}"), render(&mut app, w, h));
        keys(&mut app, &[Action::Open]);
        insta::assert_snapshot!(format!("{name}_detail_{w}x{h}"), render(&mut app, w, h));
        keys(&mut app, &[Action::Back, Action::NextPane]);
        insta::assert_snapshot!(format!("{name}_findings_{w}x{h}"), render(&mut app, w, h));
        keys(&mut app, &[Action::Help]);
        insta::assert_snapshot!(format!("{name}_help_{w}x{h}"), render(&mut app, w, h));
    }
}

#[test]
fn screens_of_a_failing_passive_session() {
    screens("pasv_leak_fail", LEAK);
}

#[test]
fn screens_of_a_working_active_session() {
    screens("active_alg", ACTIVE);
}

#[test]
fn the_list_shows_the_key_facts_at_80_columns() {
    let mut app = app_from(LEAK);
    let screen = render(&mut app, 80, 24);
    for fact in ["192.168.1.10:40542", "198.51.100.2:21", "anonymous", "pasv", "0/2", "ERROR", "closed", "? help", "q quit"] {
        assert!(screen.contains(fact), "{fact} missing:\n{screen}");
    }
}

#[test]
fn the_detail_shows_the_leak_the_outcome_and_the_nat_picture() {
    let mut app = app_from(LEAK);
    keys(&mut app, &[Action::Open]);
    let screen = render(&mut app, 80, 24);
    for fact in
        ["10.0.0.20:40005, a private (RFC 1918) address", "unreachable", "ICMP 3/1 host unreachable", "NAT picture", "USER anonymous"]
    {
        assert!(screen.contains(fact), "{fact} missing:\n{screen}");
    }
}

#[test]
fn a_password_never_reaches_the_screen() {
    // alice logs in with the password "secret" in clear text.
    let mut app = app_from("fixtures/ipv6-eprt-epsv/client.pcap");
    keys(&mut app, &[Action::Open, Action::NextPane]);
    let mut seen = String::new();
    for _ in 0..30 {
        seen.push_str(&render(&mut app, 120, 40));
        keys(&mut app, &[Action::Down]);
    }
    assert!(seen.contains("PASS ••••"), "{seen}");
    assert!(!seen.to_lowercase().contains("secret"), "{seen}");
}

#[test]
fn enter_on_a_finding_opens_its_session() {
    let mut app = app_from(ACTIVE);
    keys(&mut app, &[Action::NextPane, Action::End, Action::Open]);
    assert_eq!(app.screen, Screen::Detail);
    assert_eq!(app.detail, Some(1), "the last finding is session 1's");
    keys(&mut app, &[Action::Back]);
    assert_eq!(app.screen, Screen::Findings);
}

#[test]
fn the_filter_matches_address_user_and_finding_kind() {
    let mut app = app_from(ACTIVE);
    assert_eq!(app.view.len(), 2);
    let type_in = |app: &mut App, text: &str| {
        keys(app, &[Action::Back, Action::Filter]);
        for c in text.chars() {
            keys(app, &[Action::Type(c)]);
        }
        keys(app, &[Action::Open]);
    };
    type_in(&mut app, ":38148");
    assert_eq!(app.view, vec![1]);
    type_in(&mut app, "ANONYMOUS");
    assert_eq!(app.view.len(), 2, "case does not matter");
    type_in(&mut app, "alg_rewrite");
    assert_eq!(app.view.len(), 2);
    assert_eq!(app.finding_view.len(), 2, "findings filtered by kind");
    type_in(&mut app, "nobody-like-this");
    assert!(app.view.is_empty());
    assert!(render(&mut app, 80, 24).contains("No session matches"));
    keys(&mut app, &[Action::Back]);
    assert_eq!(app.view.len(), 2, "Esc clears the filter");
}

#[test]
fn errors_only_sort_follow_and_pause() {
    let mut app = app_from(ACTIVE);
    keys(&mut app, &[Action::ErrorsOnly]);
    assert!(app.view.is_empty(), "warnings and infos only, no failed connection");
    keys(&mut app, &[Action::ErrorsOnly, Action::Follow]);
    assert_eq!(app.selected_session(), Some(1), "follow selects the newest");
    keys(&mut app, &[Action::Up]);
    assert!(!app.follow, "moving by hand stops following");
    keys(&mut app, &[Action::Sort]);
    assert!(render(&mut app, 80, 24).contains("sort:severity"));
    keys(&mut app, &[Action::Pause]);
    let before = app.view.clone();
    app.store.apply(start(7));
    app.refresh();
    assert_eq!(app.view, before, "paused: the list stays as it is");
    assert!(render(&mut app, 80, 24).contains("paused"));
    keys(&mut app, &[Action::Pause]);
    assert_eq!(app.view.len(), 3);
}

#[test]
fn small_and_resized_terminals_do_not_break() {
    let mut app = app_from(LEAK);
    for (w, h) in [(20, 5), (40, 8), (60, 12), (200, 60), (80, 24)] {
        for screen in [Action::Open, Action::Help, Action::Back, Action::Back, Action::NextPane, Action::NextPane] {
            keys(&mut app, &[screen]);
            let _ = render(&mut app, w, h);
        }
    }
    assert!(render(&mut app, 20, 5).contains("too small"));
}

fn start(id: u32) -> Event {
    let client: SocketAddr = format!("192.168.{}.{}:40000", id / 250 % 250, id % 250 + 1).parse().unwrap();
    Event::SessionStart {
        session: id,
        frame: u64::from(id),
        time: Timestamp(0),
        first_frame: u64::from(id),
        start_time: Timestamp(0),
        client,
        server: "198.51.100.2:21".parse().unwrap(),
    }
}

/// A session that settled, without findings (healthy) or with an error.
fn settled(id: u32, error: bool) -> Event {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(if error { LEAK } else { "fixtures/pasv-ok-forwarded/client.pcap" });
    let mut analyzer = Analyzer::new(super::settings());
    crate::capture::read_path(&path, 1, &mut |f| analyzer.feed(f)).unwrap();
    analyzer.finish();
    let mut record = std::iter::from_fn(|| analyzer.poll_event())
        .find_map(|e| match e {
            Event::SessionEnd { record, .. } => Some(record),
            _ => None,
        })
        .unwrap();
    record.id = id;
    for f in &mut record.findings {
        f.session = id;
    }
    Event::SessionEnd { session: id, frame: 0, time: Timestamp(0), record }
}

#[test]
fn the_store_drops_the_oldest_healthy_sessions_first() {
    let (healthy, failing) = (settled(0, false), settled(0, true));
    let capacity = 2_000;
    let mut store = super::store::Store::with_capacity(capacity);
    let total = capacity as u32 + 10;
    for id in 0..total {
        let mut e = if id % 10 == 0 { failing.clone() } else { healthy.clone() };
        if let Event::SessionEnd { session, record, .. } = &mut e {
            *session = id;
            record.id = id;
        }
        store.apply(e);
    }
    assert!(store.len() <= capacity);
    assert_eq!(store.dropped_with_problems, 0);
    assert!(store.dropped_healthy >= 10);
    assert!(store.get(0).is_some(), "the oldest session with an error is kept");
    assert!(store.get(1).is_none(), "the oldest healthy one went");
    assert!(store.get(total - 1).is_some());
}

#[test]
fn the_analysis_never_waits_for_the_ui() {
    let (mut feeder, ui) = feed::channel();
    let analyzer = Analyzer::new(super::settings());
    // Nobody reads: after the channel fills, publishing keeps the events and returns at once.
    let started = Instant::now();
    for id in 0..50_000u32 {
        feeder.push(start(id));
        feeder.publish(&analyzer, SourceCounters::default(), false);
    }
    assert!(started.elapsed() < Duration::from_secs(20), "publishing blocked");
    // Everything arrives once the UI reads: the held events went out coalesced.
    feeder.publish(&analyzer, SourceCounters::default(), false);
    let mut starts = 0;
    while let Ok(Update::Batch { events, .. }) = ui.rx.try_recv() {
        starts += events.len();
    }
    feeder.publish(&analyzer, SourceCounters::default(), false);
    while let Ok(Update::Batch { events, .. }) = ui.rx.try_recv() {
        starts += events.len();
    }
    assert_eq!(starts, 50_000);
}

#[test]
fn the_backlog_is_bounded_and_drops_what_the_ui_can_do_without() {
    let (mut feeder, _ui) = feed::channel();
    let analyzer = Analyzer::new(super::settings());
    // Nobody reads: the channel fills.
    for _ in 0..8 {
        feeder.publish(&analyzer, SourceCounters::default(), false);
    }
    for id in 0..(feed::MAX_BACKLOG as u32 + 100) {
        feeder.push(start(id));
    }
    feeder.push(settled(1, true));
    assert_eq!(feeder.dropped(), 100, "session starts past the bound are dropped and counted");
    assert_eq!(feeder.backlog(), feed::MAX_BACKLOG + 1, "a settled session is still kept");
}

/// Drawing the list costs what its visible rows cost, not what the store holds: 40,000
/// sessions draw in about the time of 10,000 (a full pass over them would take 4 times as long).
#[test]
fn drawing_touches_only_the_visible_rows() {
    let make = |n: usize| {
        let mut app = App::new(Status::new("file x".into(), None), false);
        for id in 0..n as u32 {
            app.store.apply(start(id));
        }
        app.refresh();
        // The selection in the middle: a list that walked from the top would pay for it.
        app.sessions.selected = n / 2;
        std::cell::RefCell::new((app, Terminal::new(TestBackend::new(120, 40)).unwrap()))
    };
    let Some(ratio) = crate::growth::growth(10_000, 40_000, make, |cell| {
        let (app, terminal) = &mut *cell.borrow_mut();
        terminal.draw(|f| super::draw(f, app)).unwrap();
    }) else {
        return;
    };
    assert!(ratio < 2.0, "drawing 40k sessions took {ratio:.1}x the time of 10k");
}

#[test]
fn the_detail_shows_a_data_connection_tried_again() {
    // Session 0: three SYNs to the private 227 address unanswered, then the control address.
    let mut app = app_from("fixtures/crafted/retried-elsewhere.pcap");
    keys(&mut app, &[Action::Open]);
    let screen = render(&mut app, 80, 24);
    let fact = "data established (try 2)  192.0.2.50:41301 -> 203.0.113.50:10025";
    assert!(screen.contains(fact), "{fact} missing:\n{screen}");
    let screen = render(&mut app, 160, 40);
    let fact = "; try 1 SYN #11 -> 10.0.0.50:10025 unanswered (x3)";
    assert!(screen.contains(fact), "{fact} missing:\n{screen}");
}

#[test]
fn with_only_the_clients_side_a_missing_reply_is_not_called_no_reply() {
    // PORT (its 200 is on the path the capture does not see), then the server's connection.
    let mut app = app_from("fixtures/crafted/one-way-client-active.pcap");
    keys(&mut app, &[Action::Open]);
    let screen = render(&mut app, 80, 24);
    assert!(screen.contains("#6 PORT 192.0.2.10:51221, a public address -> reply not captured"), "{screen}");
    assert!(!screen.contains("no reply"), "{screen}");
}

#[test]
fn with_only_the_clients_side_the_nat_picture_says_where_the_private_address_came_from() {
    // Session 1: the 227 (not captured) named 10.0.0.5; the client's SYNs to it show it.
    let mut app = app_from("fixtures/crafted/one-way-client-passive.pcap");
    keys(&mut app, &[Action::Down, Action::Open]);
    let screen = render(&mut app, 120, 30);
    let fact = "server 10.0.0.5         its own address, as the client's connection after its PASV shows";
    assert!(screen.contains(fact), "{fact} missing:\n{screen}");
    assert!(!screen.contains("as its 227 reply said"), "{screen}");
}

#[test]
fn the_lines_to_type_wrap_at_the_panes_edge_and_copy_back_whole() {
    let mut app = app_from(LEAK);
    keys(&mut app, &[Action::NextPane]);
    let id = app.selected_finding().unwrap();
    // The session's fixes leave the lines to the server's block, shown below them.
    assert!(app.store.finding(id).unwrap().fix.iter().all(|f| crate::report::fix::apply(f).is_empty()));
    let typed: Vec<String> = app.store.servers.servers()[0].fix.iter().flat_map(crate::report::fix::apply).collect();
    assert!(typed.iter().any(|l| l.chars().count() > 80 - 7), "a command wider than the pane: {typed:?}");
    let screen = render(&mut app, 80, 60);
    // Each line to type, from its rows as a shell reads them (a backslash at a row's end joins
    // the next row, its indent a space like any other).
    let rows: Vec<&str> = screen.lines().skip_while(|l| !l.starts_with("fix:")).filter(|l| l.starts_with("       ")).collect();
    let mut copied = Vec::new();
    let mut cur = String::new();
    for row in rows {
        let row = if cur.is_empty() { row.trim_start() } else { row.trim_start_matches("       ") };
        match row.strip_suffix('\\') {
            Some(head) => cur.push_str(head),
            None => copied.push(std::mem::take(&mut cur) + row),
        }
    }
    let spaced = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(copied.iter().map(|l| spaced(l)).collect::<Vec<_>>(), typed, "{screen}");
}

#[test]
fn a_line_to_type_keeps_every_character_in_its_rows() {
    use super::draw::wrap_typed;
    let cmd = "iptables -t nat -A PREROUTING -d 198.51.100.2 -p tcp --dport 40004:40005 -j DNAT --to-destination 10.0.0.20";
    let rows = wrap_typed(cmd, 40);
    assert!(rows.len() > 2 && rows.iter().all(|r| r.chars().count() <= 40), "{rows:?}");
    assert!(rows[..rows.len() - 1].iter().all(|r| r.ends_with(" \\")), "{rows:?}");
    assert_eq!(rows.iter().map(|r| r.trim_end_matches('\\').trim()).collect::<Vec<_>>().join(" "), cmd);
    // A word longer than a row is cut with a bare backslash and no indent: the shell joins it as it was.
    let long = format!("iptables -I FORWARD -m comment --comment {}", "x".repeat(50));
    let rows = wrap_typed(&long, 30);
    let joined: String = rows
        .iter()
        .map(|r| r.strip_suffix(" \\").map(|h| format!("{h} ")).unwrap_or_else(|| r.trim_end_matches('\\').to_string()))
        .collect();
    assert_eq!(joined.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "), long);
    // A configuration line is not a shell command: no backslash, its rows indented.
    let conf = format!("handler.masquerade_address = '{}'", "2001:db8:ffff:ffff:ffff:ffff:ffff:1");
    let rows = wrap_typed(&conf, 30);
    assert!(rows.len() > 1 && rows.iter().all(|r| !r.ends_with('\\')) && rows[1].starts_with("  "), "{rows:?}");
    assert_eq!(wrap_typed("pasv_min_port=40004", 30), ["pasv_min_port=40004"]);
}

#[test]
fn a_refused_login_reads_as_its_refusal_and_its_fix() {
    // vsftpd answering a named user "530 This FTP server is anonymous only." (issue 21).
    let mut app = app_from("fixtures/login-anonymous-only/client.pcap");
    let list = render(&mut app, 120, 30);
    assert!(list.contains("ftplab") && list.contains("ERROR"), "the session is a problem in the list:\n{list}");
    keys(&mut app, &[Action::Open]);
    let detail = render(&mut app, 120, 40);
    for fact in ["login_failed", "S< 530 This FTP server is anonymous only.", "C> USER ftplab"] {
        assert!(detail.contains(fact), "{fact} missing:\n{detail}");
    }
    // The findings in full, with their fixes.
    keys(&mut app, &[Action::Back, Action::NextPane]);
    let findings = render(&mut app, 120, 40);
    for fact in ["login_failed", "local_enable=YES"] {
        assert!(findings.contains(fact), "{fact} missing:\n{findings}");
    }
}
