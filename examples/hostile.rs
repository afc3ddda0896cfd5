//! Writes one of the hostile captures of tests/common/hostile.rs (a SYN flood, idle flows, PORTs
//! in one session, an endless line, one-byte segments, conflicting retransmissions) as a pcap.
//!
//! Usage: cargo run --release --example hostile -- NAME N OUT.pcap ("-" for standard output)
//! Names: syn-flood, idle-flows, ports, endless-line, one-byte-segments,
//! conflicting-retransmissions. Deterministic: the same N gives the same bytes.

#[path = "../tests/common/hostile.rs"]
mod hostile;

use std::io::{BufWriter, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, n, out] = &args[..] else {
        let names: Vec<&str> = hostile::ALL.iter().map(|(name, _)| *name).collect();
        eprintln!("usage: hostile NAME N OUT.pcap   (NAME: {})", names.join(", "));
        std::process::exit(2);
    };
    let Some((_, generate)) = hostile::ALL.iter().find(|(g, _)| g == name) else {
        eprintln!("hostile: no capture named {name}");
        std::process::exit(2);
    };
    let n: u64 = n.parse().expect("N is a number");
    let sink: Box<dyn Write + Send> =
        if out == "-" { Box::new(std::io::stdout()) } else { Box::new(std::fs::File::create(out).expect("create OUT")) };
    let mut w = generate(Box::new(BufWriter::with_capacity(1 << 20, sink)), n).expect("write the capture");
    w.flush().expect("write the capture");
}
