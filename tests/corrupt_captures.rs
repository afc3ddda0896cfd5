//! Damaged captures never crash the analyzer: real captures with bytes overwritten and cut at
//! random places (a fixed seed, so a failure reproduces) go through the library's reader and
//! analyzer in process. Each yields a report, or a clear error when the header is gone.

use ftpscope::analyzer::Analyzer;
use std::path::PathBuf;

/// xorshift64*: small, deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn captures() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "fixtures/pasv-private-leak-fail",
        "fixtures/lossy-control",
        "fixtures/alg-passive",
        "fixtures/nonstandard-port-2121",
        "fixtures/crafted",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "fixtures present");
    files
}

#[test]
fn corrupted_captures_give_a_report_or_a_clear_error() {
    let files = captures();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut reports, mut errors) = (0, 0);
    for round in 0..300 {
        let path = &files[rng.below(files.len())];
        let mut bytes = std::fs::read(path).unwrap();
        let flips = [1, 8, 64, 512][rng.below(4)];
        for _ in 0..flips {
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
        }
        if rng.below(5) == 0 {
            bytes.truncate(rng.below(bytes.len()));
        }
        let mut analyzer = Analyzer::default();
        let name = format!("{} (round {round})", path.display());
        match ftpscope::capture::read_capture(&name, &bytes[..], 1, &mut |f| analyzer.feed(f)) {
            Ok(_) => {
                let report = ftpscope::report::Report::collect(&mut analyzer);
                serde_json::to_string(&report).unwrap();
                reports += 1;
            }
            Err(e) => {
                assert!(e.to_string().starts_with(&name), "errors name the input: {e}");
                errors += 1;
            }
        }
    }
    // Most damage leaves the header intact: the analyzer, not only the reader, was exercised.
    assert!(reports > 200, "{reports} reports, {errors} errors");
}
