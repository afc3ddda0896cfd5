//! Writes the fuzz targets' seed corpora (fuzz/README.md) from the capture fixtures, each in
//! the input form its target reads: whole capture files for the reader, single frames for the
//! decoder, control-channel payloads for the FTP parsers, frame sequences for the analyzer.
//! The reassembler's input is structured (arbitrary): it starts from nothing.
//!
//! Usage: cargo run --release --example fuzz_seeds -- FIXTURES_DIR CORPUS_DIR
//! Deterministic: the same fixtures give the same files (named by a hash of their content).

use ftpscope::capture::file::read_capture;
use ftpscope::decode::{decode, Decoded};
use ftpscope::model::LinkType;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The largest seed written: libFuzzer mutates small inputs much faster.
const MAX_SEED: usize = 64 * 1024;
/// Seeds per fixture for the per-frame and per-payload targets.
const PER_FIXTURE: usize = 40;

/// The target's link type table (fuzz_targets/decode.rs and analyzer.rs), by LINKTYPE_ number.
const DECODE_LINKTYPES: [u32; 11] = [1, 113, 276, 12, 14, 101, 228, 229, 0, 108, 147];
const ANALYZER_LINKTYPES: [u32; 8] = [1, 113, 276, 101, 228, 229, 0, 108];

fn linktype(link: LinkType) -> u32 {
    match link {
        LinkType::Ethernet => 1,
        LinkType::LinuxSll => 113,
        LinkType::LinuxSll2 => 276,
        LinkType::Raw => 101,
        LinkType::Ipv4 => 228,
        LinkType::Ipv6 => 229,
        LinkType::Null => 0,
        LinkType::Loop => 108,
        LinkType::Other(n) => n,
    }
}

fn index_in(table: &[u32], link: LinkType) -> u8 {
    table.iter().position(|&t| t == linktype(link)).unwrap_or(table.len() - 1) as u8
}

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            captures(&path, out);
        } else if path.extension().is_some_and(|e| e == "pcap" || e == "pcapng") {
            out.push(path);
        }
    }
}

fn write(dir: &Path, bytes: &[u8]) {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    std::fs::write(dir.join(format!("{:016x}", h.finish())), bytes).expect("write a seed");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(fixtures), Some(corpus)) = (args.next(), args.next()) else {
        eprintln!("usage: fuzz_seeds FIXTURES_DIR CORPUS_DIR");
        std::process::exit(2);
    };
    let corpus = Path::new(&corpus);
    let dirs: Vec<PathBuf> = ["capture_reader", "decode", "ftp_parse", "reassembly", "analyzer"].iter().map(|t| corpus.join(t)).collect();
    for d in &dirs {
        std::fs::create_dir_all(d).expect("create the corpus folders");
    }
    let mut files = Vec::new();
    captures(Path::new(&fixtures), &mut files);
    for path in &files {
        let bytes = std::fs::read(path).expect("read a fixture");
        write(&dirs[0], &bytes[..bytes.len().min(MAX_SEED)]);
        let (mut frames, mut payloads) = (0, 0);
        // The analyzer's input: flags (tight bounds, negotiation events), then the frames.
        let mut sequence = vec![3u8];
        let mut last_tick: Option<i64> = None;
        let _ = read_capture("seed", &bytes[..], 1, &mut |frame| {
            if frames < PER_FIXTURE {
                let mut seed = vec![index_in(&DECODE_LINKTYPES, frame.link), 0, 0];
                seed.extend_from_slice(frame.data);
                write(&dirs[1], &seed);
                frames += 1;
            }
            if let Ok(Decoded::Tcp(seg)) = decode(frame.link, frame.data, frame.orig_len) {
                let control = [seg.src.port(), seg.dst.port()].iter().any(|p| [21, 2121].contains(p));
                if control && !seg.payload.is_empty() && payloads < PER_FIXTURE {
                    let mut seed = vec![0x7f];
                    seed.extend_from_slice(seg.payload);
                    write(&dirs[2], &seed);
                    payloads += 1;
                }
            }
            let len = frame.data.len().min(usize::from(u16::MAX));
            if sequence.len() + 5 + len <= MAX_SEED {
                let tick = frame.ts.0 / 10_000_000;
                let dt = tick.saturating_sub(last_tick.unwrap_or(tick)).clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
                last_tick = Some(tick);
                let cut = if (frame.orig_len as usize) > frame.data.len() { 0x80 } else { 0 };
                sequence.push(index_in(&ANALYZER_LINKTYPES, frame.link) | cut);
                sequence.extend_from_slice(&dt.to_be_bytes());
                sequence.extend_from_slice(&(len as u16).to_be_bytes());
                sequence.extend_from_slice(&frame.data[..len]);
            }
        });
        write(&dirs[4], &sequence);
        // The same frames with the default bounds.
        sequence[0] = 2;
        write(&dirs[4], &sequence);
    }
    println!("{} fixtures -> {}", files.len(), corpus.display());
}
