//! Writes one passive FTP session that downloads one file of `--size` bytes (segments of 1000
//! bytes; one pair in 64 swapped, the later
//! one captured again), for bench/extract.sh: `--extract`
//! on it must take memory that does not grow with the file. Prints the file's SHA-256, which
//! the extracted file must have.
//!
//! Run: `cargo run --release --example big_transfer -- OUT.pcap --size 1G`

#[allow(dead_code)]
#[path = "../tests/common/hostile.rs"]
mod hostile;
#[path = "../tests/common/transfer.rs"]
mod transfer;

use sha2::{Digest, Sha256};
use std::io::BufWriter;
use transfer::{body_at, Arrival, Session};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, size) = match args.as_slice() {
        [out, flag, size] if flag == "--size" => (out, parse_size(size)),
        _ => {
            eprintln!("usage: big_transfer OUT.pcap --size BYTES[K|M|G]");
            std::process::exit(2);
        }
    };
    let file = std::fs::File::create(out).unwrap_or_else(|e| panic!("{out}: {e}"));
    let mut s = Session::open(BufWriter::with_capacity(1 << 20, file)).expect("write");
    s.transfer(50_000, 40_001, 4_000_000_000, "RETR big.bin", size, 7, Arrival::Swapped(64)).expect("write");
    s.close().expect("write");
    // The same bytes, hashed a megabyte at a time.
    let mut sha = Sha256::new();
    let mut buf = vec![0; 1 << 20];
    let mut at = 0;
    while at < size {
        let piece = &mut buf[..(1 << 20).min(size - at)];
        body_at(at, 7, piece);
        sha.update(&*piece);
        at += piece.len();
    }
    println!("{}", sha.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>());
}

fn parse_size(text: &str) -> usize {
    let (digits, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: usize = digits.parse().expect("a size");
    n * match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => panic!("unit K, M or G"),
    }
}
