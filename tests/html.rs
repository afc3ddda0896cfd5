//! `ftpscope explain --html`'s page, opened in a real browser: headless Chromium renders the page made from a
//! lab capture, and the tests read what it rendered (the DOM after parsing, a screenshot, the
//! console). Facts are asserted (addresses, frames, finding kinds, fixes' settings), not
//! wording.
//!
//! Chromium (Debian's `chromium`) is installed by .ci/run. Without it each browser test skips
//! with one line saying so; in CI (CI=true) that is a failure. The checks on the file itself
//! (escaping, no password) need no browser and always run.

mod common;

use common::needs::{self, Need, CHROMIUM};
use ftpscope::report::svg::{FAILURE, PANEL};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

/// A directory of the test's own, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ftpscope-html-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `explain --html` on `captures`, writing the page into `dir`: its exit status, path
/// and text.
fn explain(captures: &[&Path], dir: &Scratch) -> (Option<i32>, PathBuf, String) {
    let html = dir.path("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("explain").args(captures).arg("--html").arg(&html).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&html).unwrap();
    (out.status.code(), html, text)
}

/// Writes the page for `capture` into `dir` and returns its path and text.
fn page(capture: &Path, dir: &Scratch) -> (PathBuf, String) {
    let (_, path, text) = explain(&[capture], dir);
    (path, text)
}

/// Browser runs so far: each gets a profile directory of its own.
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// Headless Chromium, or None when it is not installed (the test is skipped with a line saying
/// so; in CI it fails).
struct Browser;

impl Browser {
    fn get() -> Option<Browser> {
        needs::met(&[Need::Chromium]).then_some(Browser)
    }

    /// Runs Chromium on `page` with `args`, bounded in time. As root it needs --no-sandbox; the
    /// other switches keep it from reaching for the network (refused on a closed network) and
    /// from using anyone's profile (a fresh empty one each run).
    fn run(&self, dir: &Scratch, page: &Path, args: &[&str]) -> Output {
        let profile = dir.path(&format!("profile-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
        let out = Command::new("timeout")
            .arg("60")
            .arg(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "chromium {args:?}: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        out
    }

    /// The DOM as the browser built it, serialised.
    fn dom(&self, dir: &Scratch, page: &Path) -> String {
        String::from_utf8(self.run(dir, page, &["--dump-dom"]).stdout).unwrap()
    }

    /// What the page said on the console (Chromium logs it as `CONSOLE`): uncaught errors, a
    /// Content-Security-Policy violation. The page writes nothing there, so any line counts.
    /// Chromium's own noise (GPU, D-Bus) is not the page's and is left out.
    fn console_errors(&self, dir: &Scratch, page: &Path) -> Vec<String> {
        let out = self.run(dir, page, &["--enable-logging=stderr", "--v=0", "--dump-dom"]);
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        log.lines().filter(|l| l.contains("Uncaught") || l.contains("Refused to") || l.contains(":CONSOLE")).map(str::to_string).collect()
    }
}

#[test]
fn the_page_shows_the_capture_the_findings_and_the_fixes() {
    let Some(browser) = Browser::get() else { return };
    let dir = Scratch::new("dom");
    let (path, _) = page(&fixture("pasv-private-leak-fail/client.pcap"), &dir);
    let dom = browser.dom(&dir, &path);
    // The capture's summary: its input, 31 frames, the two error kinds.
    assert!(dom.contains("pasv-private-leak-fail/client.pcap"), "input named");
    assert!(dom.contains("<dd>31</dd>"), "frame count");
    for kind in ["private_address_leak", "data_connection_failed"] {
        assert!(dom.contains(kind), "{kind}");
    }
    // Every address the report names, the leaked endpoint and the ICMP sender among them.
    for addr in ["192.168.1.10:40542", "198.51.100.2", "10.0.0.20:40005", "10.0.0.20:40004", "192.168.1.10:51626", "203.0.113.1"] {
        assert!(dom.contains(addr), "{addr} missing");
    }
    // The PASV commands, their 227 replies, the SYNs to the private address and the ICMP errors.
    for frame in ["#15", "#16", "#17", "#18", "#22", "#23", "#24", "#25"] {
        assert!(dom.contains(frame), "frame {frame} missing");
    }
    // The ladder diagram, drawn in SVG: its lanes (client, the router that answered with ICMP,
    // the server's NAT and the server behind it), the 227 with the leaked endpoint, the SYN
    // that died at the router and the ICMP error, each with its frame.
    let svg = dom.split("<svg").nth(1).and_then(|s| s.split("</svg>").next()).expect("an <svg> element");
    assert_eq!(dom.matches("<svg").count(), 1, "one problem session, one diagram");
    for text in ["192.168.1.10", "203.0.113.1", "198.51.100.2", "10.0.0.20", "227 10.0.0.20:40005", "SYN :40005", "ICMP 3/1"] {
        assert!(svg.contains(text), "{text} not in the diagram");
    }
    for frame in ["#15", "#16", "#17", "#18"] {
        assert!(svg.contains(&format!(">{frame}<")), "frame {frame} not in the diagram");
    }
    assert!(svg.contains(">unreachable<"), "the failure is named where it happened");
    // The fixes' lines to type, whole and copyable: vsftpd's settings with the public address
    // and the passive ports the capture showed, the router's forwarding to the server.
    let typed: Vec<&str> = dom.split("<pre><code>").skip(1).map(|p| p.split("</code></pre>").next().unwrap()).collect();
    let lines: Vec<&str> = typed.iter().flat_map(|block| block.lines()).collect();
    // The server's block: a range that covers both ports seen, with room (10 ports).
    for line in ["pasv_address=198.51.100.2", "pasv_min_port=40004", "pasv_max_port=40013"] {
        assert!(lines.contains(&line), "{line} not a line of its own: {typed:?}");
    }
    assert!(lines.iter().any(|l| l.contains("--dport 40004:40013") && l.ends_with("--to-destination 10.0.0.20")), "{typed:?}");
    // Nothing is fetched from elsewhere: no script, stylesheet, image or font reference.
    for external in ["<script", "<link", "<img", "src=", "url("] {
        assert!(!dom.contains(external), "{external} in the page");
    }
}

#[test]
fn the_page_logs_no_console_error_and_the_check_would_see_one() {
    let Some(browser) = Browser::get() else { return };
    let dir = Scratch::new("console");
    let (path, text) = page(&fixture("pasv-private-leak-fail/client.pcap"), &dir);
    assert_eq!(browser.console_errors(&dir, &path), Vec::<String>::new());
    // The same page with a script slipped in: its policy refuses it, and the check sees that.
    let tampered = dir.path("tampered.html");
    std::fs::write(&tampered, text.replace("</body>", "<script>document.title = 'ran'</script></body>")).unwrap();
    let errors = browser.console_errors(&dir, &tampered);
    assert!(errors.iter().any(|l| l.contains("Content Security Policy")), "{errors:?}");
}

/// The screenshot's pixels as RGB, row by row, and its width.
fn pixels(png_file: &Path) -> (Vec<[u8; 3]>, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png_file).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("screenshot in {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let rgb = buf[..info.buffer_size()].chunks(step).map(|p| [p[0], p[1], p[2]]).collect();
    (rgb, info.width as usize)
}

/// `#rrggbb` as RGB.
fn colour(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[test]
fn the_screenshot_shows_the_diagram_with_the_failure_marked() {
    let Some(browser) = Browser::get() else { return };
    let dir = Scratch::new("screenshot");
    let (path, _) = page(&fixture("pasv-private-leak-fail/client.pcap"), &dir);
    let (panel, failure) = (colour(PANEL), colour(FAILURE));
    let shot = dir.path("page.png");
    browser.run(&dir, &path, &[&format!("--screenshot={}", shot.display()), "--window-size=1200,2000"]);
    let (px, width) = pixels(&shot);
    assert_eq!((width, px.len() / width), (1200, 2000));
    let at = |i: usize| (i % width, i / width);
    // Where the diagram is drawn: the box of its background colour.
    let panel_px: Vec<(usize, usize)> = (0..px.len()).filter(|&i| px[i] == panel).map(at).collect();
    let (x0, x1) = (panel_px.iter().map(|p| p.0).min().unwrap(), panel_px.iter().map(|p| p.0).max().unwrap());
    let (y0, y1) = (panel_px.iter().map(|p| p.1).min().unwrap(), panel_px.iter().map(|p| p.1).max().unwrap());
    assert!(x1 - x0 > 800 && y1 - y0 > 250, "diagram box {x0},{y0} to {x1},{y1}");
    let inside = |&(x, y): &(usize, usize)| (x0..=x1).contains(&x) && (y0..=y1).contains(&y);
    // Drawn on: lanes, arrows, text (far from all background).
    let ink = (0..px.len()).map(at).filter(inside).filter(|&(x, y)| px[y * width + x].iter().all(|&c| c < 160)).count();
    assert!(ink > 2000, "{ink} dark pixels in the diagram");
    // The failure colour: only in the diagram, and as crosses (taller than the failed arrow's line
    // and the words beside it, some 10 px).
    let failed: Vec<(usize, usize)> = (0..px.len()).filter(|&i| px[i] == failure).map(at).collect();
    assert!(failed.len() > 60, "{} pixels of the failure colour", failed.len());
    assert!(failed.iter().all(inside), "failure colour outside the diagram");
    let tallest = failed
        .iter()
        .map(|&(x, y)| failed.iter().filter(|p| p.0 == x && (y..y + 24).contains(&p.1)).map(|p| p.1 - y).max().unwrap_or(0))
        .max()
        .unwrap();
    assert!(tallest >= 15, "no cross: the failure colour is at most {tallest} px tall in a column");
}

/// `capture` with every occurrence of `from` replaced by `to` (same length: TCP sequence numbers
/// stay right; ftpscope, like tcpdump, does not check TCP checksums).
fn patched(capture: &Path, from: &[u8], to: &[u8], dir: &Scratch) -> PathBuf {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(capture).unwrap();
    let mut found = 0;
    for i in 0..bytes.len().saturating_sub(from.len()) {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            found += 1;
        }
    }
    assert!(found > 0, "{} not in {}", String::from_utf8_lossy(from), capture.display());
    let out = dir.path("patched.pcap");
    std::fs::write(&out, bytes).unwrap();
    out
}

#[test]
fn markup_in_a_banner_is_shown_as_text_and_never_runs() {
    let dir = Scratch::new("hostile");
    let capture = patched(&fixture("pasv-private-leak-fail/client.pcap"), b"(vsFTPd 3.0.3)", b"<script>pwn();", &dir);
    let (path, text) = page(&capture, &dir);
    assert!(!text.contains("<script"), "the banner's markup reached the page as markup");
    assert!(text.contains("&lt;script&gt;pwn();"), "the banner is shown, escaped");
    let Some(browser) = Browser::get() else { return };
    let dom = browser.dom(&dir, &path);
    assert!(!dom.contains("<script"), "the browser built a script element");
    assert!(dom.contains("&lt;script&gt;pwn();"), "the banner is text in the DOM");
    assert!(dom.contains("10.0.0.20:40005"), "the rest of the page is there");
    assert_eq!(browser.console_errors(&dir, &path), Vec::<String>::new());
}

#[test]
fn a_password_sent_in_clear_text_is_not_on_the_page() {
    let capture = fixture("active-unreachable/client.pcap");
    assert!(std::fs::read(&capture).unwrap().windows(11).any(|w| w == b"PASS secret"), "the capture has the password");
    let dir = Scratch::new("password");
    let (_, text) = page(&capture, &dir);
    assert!(text.contains("cleartext_credentials"), "the page says a password was sent");
    assert!(!text.contains("secret"), "the password is on the page");
}

#[test]
fn several_captures_share_one_page_with_healthy_sessions_in_a_table() {
    let dir = Scratch::new("several");
    let (failing, healthy) = (fixture("pasv-private-leak-fail/client.pcap"), fixture("pasv-ok-forwarded/server.pcap"));
    let (status, _, text) = explain(&[&failing, &healthy], &dir);
    assert_eq!(status, Some(1), "the first capture has errors");
    assert_eq!(text.matches("<section class=\"capture\"").count(), 2);
    // The forwarded server's sessions are healthy: rows of the table, not diagrams.
    let second = text.split("<section class=\"capture\"").nth(2).unwrap();
    assert!(!second.contains("<svg"), "a healthy session drawn");
    let table = second.split("<table class=\"healthy\">").nth(1).expect("healthy table").split("</table>").next().unwrap();
    assert!(table.matches("<tr id=").count() >= 1 && table.contains("203.0.113.2:") && table.contains("10.0.0.20:21"), "{table}");
    // Session numbers start again in each capture; the page's ids do not repeat.
    let mut ids: Vec<&str> = text.split(" id=\"").skip(1).map(|rest| rest.split('"').next().unwrap()).collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "repeated element ids");
}

#[test]
fn two_capture_points_add_what_the_device_between_them_rewrote() {
    let dir = Scratch::new("points");
    let (client, server) = (fixture("alg-passive/client.pcap"), fixture("alg-passive/server.pcap"));
    let (_, _, text) = explain(&[&client, &server], &dir);
    let points = text.split("<section class=\"points\">").nth(1).expect("the comparison's section").split("</section>").next().unwrap();
    // The same PASV seen inside (the ALG's rewrite of the 227) and outside, with both client addresses.
    for fact in ["198.51.100.2:40005", "10.0.0.20:40005", "192.168.1.10:", "203.0.113.2:", "ALG"] {
        assert!(points.contains(fact), "{fact} missing: {points}");
    }
}

#[test]
fn a_refused_login_is_a_problem_on_the_page_with_its_reason_and_its_fix() {
    let Some(browser) = Browser::get() else { return };
    let dir = Scratch::new("refused");
    // vsftpd requiring TLS of a clear-text client (issue 21).
    let (code, path, _) = explain(&[&fixture("login-tls-required/client.pcap")], &dir);
    assert_eq!(code, Some(1), "an error");
    let dom = browser.dom(&dir, &path);
    assert!(dom.contains("tls_required"), "the kind");
    assert!(
        dom.contains("530 &quot;Non-anonymous sessions must use encryption.&quot;")
            || dom.contains("530 \"Non-anonymous sessions must use encryption.\""),
        "the refusal in the story"
    );
    assert!(!dom.contains("none with a problem"), "never healthy");
    let typed: Vec<&str> = dom.split("<pre><code>").skip(1).map(|p| p.split("</code></pre>").next().unwrap()).collect();
    let lines: Vec<&str> = typed.iter().flat_map(|block| block.lines()).collect();
    for line in ["force_local_logins_ssl=NO", "force_local_data_ssl=NO"] {
        assert!(lines.contains(&line), "{line} not a line of its own: {typed:?}");
    }
}
