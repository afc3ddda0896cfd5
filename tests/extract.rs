//! What crossed the data connections (issue 22, items 2 and 3): `--hash` puts each data stream
//! in order and hashes it, `--extract DIR` writes it out with a manifest. Crafted captures for
//! what a lab cannot be made to do on purpose: names that try to leave DIR, a symlink planted
//! in DIR, a gap in a data stream, a data connection's 4-tuple reused by the next transfer, a
//! FIN captured before the last data segments (a tap's two directions merged from two links),
//! segments out of order and retransmitted, and the disk allowance.

mod common;

#[allow(dead_code)]
#[path = "common/hostile.rs"]
mod hostile;

use hostile::segment::{ACK, FIN, PSH, SYN};
use hostile::Pcap;
use serde_json::Value;
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

const SERVER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 21);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 21);
const MSS: usize = 1000;

/// How a transfer's data segments reach the capture.
#[derive(Clone, Copy, PartialEq)]
enum Arrival {
    InOrder,
    /// Segment `k` is never captured (lost before the capture point, never retransmitted).
    Lost(usize),
    /// The server's FIN is captured before the last two data segments.
    FinFirst,
    /// Every other pair of segments swapped, and each segment captured twice.
    Shuffled,
}

/// One passive session being written: its control connection, then transfers.
struct Session {
    p: Pcap<BufWriter<std::fs::File>>,
    cseq: u32,
    sseq: u32,
}

impl Session {
    fn open(path: &Path) -> io::Result<Session> {
        let mut p = Pcap::new(BufWriter::new(std::fs::File::create(path)?))?;
        let (c, s) = ((CLIENT, 40_000), (SERVER, 21));
        p.tcp(c, s, 999, 0, SYN, &[])?;
        p.tcp(s, c, 4999, 1000, SYN | ACK, &[])?;
        p.tcp(c, s, 1000, 5000, ACK, &[])?;
        let mut session = Session { p, cseq: 1000, sseq: 5000 };
        for (from_client, line) in
            [(false, "220 (vsFTPd 3.0.5)"), (true, "USER anonymous"), (false, "331 Password?"), (true, "PASS x"), (false, "230 In.")]
        {
            session.line(from_client, line)?;
        }
        Ok(session)
    }

    fn line(&mut self, from_client: bool, text: &str) -> io::Result<()> {
        let mut bytes = text.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        let (c, s) = ((CLIENT, 40_000), (SERVER, 21));
        if from_client {
            self.p.tcp(c, s, self.cseq, self.sseq, PSH | ACK, &bytes)?;
            self.cseq = self.cseq.wrapping_add(bytes.len() as u32);
        } else {
            self.p.tcp(s, c, self.sseq, self.cseq, PSH | ACK, &bytes)?;
            self.sseq = self.sseq.wrapping_add(bytes.len() as u32);
        }
        Ok(())
    }

    /// PASV (port `port`), a data connection from client port `client_port` (server ISN
    /// `isn`), `command`, its bytes as `arrival` says, FIN both ways, 226.
    fn transfer(&mut self, port: u16, client_port: u16, isn: u32, command: &str, body: &[u8], arrival: Arrival) -> io::Result<()> {
        self.line(true, "PASV")?;
        self.line(false, &format!("227 Entering Passive Mode (203,0,113,21,{},{}).", port >> 8, port & 0xff))?;
        let (dc, ds) = ((CLIENT, client_port), (SERVER, port));
        let cisn = isn.wrapping_add(77_777);
        self.p.tcp(dc, ds, cisn, 0, SYN, &[])?;
        self.p.tcp(ds, dc, isn, cisn.wrapping_add(1), SYN | ACK, &[])?;
        self.p.tcp(dc, ds, cisn.wrapping_add(1), isn.wrapping_add(1), ACK, &[])?;
        self.line(true, command)?;
        self.line(false, "150 Opening BINARY mode data connection.")?;
        let start = isn.wrapping_add(1);
        let segments: Vec<(u32, &[u8])> = body.chunks(MSS).enumerate().map(|(i, c)| (start.wrapping_add((i * MSS) as u32), c)).collect();
        let fin_seq = start.wrapping_add(body.len() as u32);
        let ack = cisn.wrapping_add(1);
        let mut order: Vec<usize> = (0..segments.len()).collect();
        match arrival {
            Arrival::InOrder | Arrival::FinFirst => {}
            Arrival::Lost(k) => order.retain(|&i| i != k),
            Arrival::Shuffled => {
                for pair in order.chunks_mut(2) {
                    pair.reverse();
                }
                order = order.into_iter().flat_map(|i| [i, i]).collect();
            }
        }
        let tail = if arrival == Arrival::FinFirst { order.split_off(order.len().saturating_sub(2)) } else { Vec::new() };
        for &i in &order {
            self.p.tcp(ds, dc, segments[i].0, ack, PSH | ACK, segments[i].1)?;
        }
        self.p.tcp(ds, dc, fin_seq, ack, FIN | ACK, &[])?;
        for &i in &tail {
            self.p.tcp(ds, dc, segments[i].0, ack, PSH | ACK, segments[i].1)?;
        }
        self.p.tcp(dc, ds, ack, fin_seq.wrapping_add(1), FIN | ACK, &[])?;
        self.line(false, "226 Transfer complete.")
    }

    fn close(mut self) -> io::Result<()> {
        self.line(true, "QUIT")?;
        self.line(false, "221 Goodbye.")?;
        let (c, s) = ((CLIENT, 40_000), (SERVER, 21));
        self.p.tcp(s, c, self.sseq, self.cseq, FIN | ACK, &[])?;
        self.p.tcp(c, s, self.cseq, self.sseq.wrapping_add(1), FIN | ACK, &[])?;
        self.p.into_inner().flush()
    }
}

/// A file's bytes that tell any misplaced piece: each 4-byte word its own offset.
fn body(len: usize, salt: u32) -> Vec<u8> {
    (0..len.div_ceil(4) as u32).flat_map(|i| (i ^ salt).to_be_bytes()).take(len).collect()
}

fn sha256(bytes: &[u8]) -> String {
    let dir = common::scratch("ftpscope-extract-sum");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(format!("{}", bytes.len()));
    std::fs::write(&f, bytes).unwrap();
    let out = Command::new("sha256sum").arg(&f).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(out.stdout).unwrap().split(' ').next().unwrap().to_string()
}

fn ftpscope(args: &[&str], path: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ftpscope")).args(args).arg(path).env("NO_COLOR", "1").output().unwrap()
}

/// Each negotiation's `data.content`, in order.
fn contents(path: &Path) -> Vec<Value> {
    let out = ftpscope(&["analyze", "-q", "--json", "--hash"], path);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let negotiations = v["sessions"].as_array().unwrap().iter().flat_map(|s| s["negotiations"].as_array().unwrap().clone());
    negotiations.map(|n| n["data"]["content"].clone()).collect()
}

/// The manifest's lines after `--extract DIR` (DIR made fresh), and the run's stdout.
fn extract(path: &Path, dir: &Path, extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec!["analyze", "-q", "--extract", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = ftpscope(&args, path);
    let manifest = std::fs::read_to_string(dir.join("manifest.ndjson")).unwrap_or_default();
    let lines = manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (lines, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn scratch(name: &str) -> PathBuf {
    let dir = common::scratch(&format!("ftpscope-extract-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn whole_streams_are_hashed_and_written_byte_for_byte_whatever_the_order_they_came_in() {
    let dir = scratch("whole");
    let path = dir.join("whole.pcap");
    let (a, b, c) = (body(10_500, 1), body(7_000, 2), body(0, 3));
    let mut s = Session::open(&path).unwrap();
    s.transfer(50_000, 40_001, 1_000_000, "RETR in-order.bin", &a, Arrival::InOrder).unwrap();
    s.transfer(50_001, 40_002, u32::MAX - 2_500, "RETR shuffled.bin", &b, Arrival::Shuffled).unwrap();
    s.transfer(50_002, 40_003, 5, "RETR empty.txt", &c, Arrival::InOrder).unwrap();
    s.close().unwrap();
    let got = contents(&path);
    for (content, want) in got.iter().zip([&a, &b, &c]) {
        assert_eq!(content["complete"], true, "{content}");
        assert_eq!(content["sha256"], sha256(want), "{content}");
        assert_eq!(content["bytes"], want.len(), "{content}");
        assert_eq!(content["sender"], "server");
    }
    assert_eq!(got[2]["md5"], "d41d8cd98f00b204e9800998ecf8427e", "the empty file's MD5");
    let out = dir.join("out");
    let (manifest, _) = extract(&path, &out, &[]);
    assert_eq!(manifest.len(), 3, "{manifest:?}");
    for (line, want) in manifest.iter().zip([&a, &b, &c]) {
        let file = out.join(line["file"].as_str().unwrap());
        assert_eq!(&std::fs::read(&file).unwrap(), want, "{line}");
        assert_eq!((line["complete"].as_bool(), line["sha256"].as_str()), (Some(true), Some(sha256(want).as_str())));
        assert_eq!(line["command"], "RETR");
    }
    assert_eq!(manifest[1]["path"], "shuffled.bin");
    // Without the options the stream is only counted: nothing of it in the report.
    let plain: Value = serde_json::from_slice(&ftpscope(&["analyze", "-q", "--json"], &path).stdout).unwrap();
    assert!(plain["sessions"][0]["negotiations"][0]["data"].get("content").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stream_the_capture_missed_bytes_of_has_no_hash_and_says_where_the_gap_began() {
    let dir = scratch("gap");
    let path = dir.join("gap.pcap");
    let file = body(5_000, 9);
    let mut s = Session::open(&path).unwrap();
    s.transfer(50_000, 40_001, 70_000, "RETR holed.bin", &file, Arrival::Lost(2)).unwrap();
    s.close().unwrap();
    let got = contents(&path);
    assert_eq!(got[0]["hash_absent"], "gap", "{}", got[0]);
    assert_eq!(got[0]["gap_at"], 2 * MSS);
    assert_eq!((got[0]["complete"].as_bool(), got[0].get("sha256")), (Some(false), None));
    assert_eq!(got[0]["bytes"], file.len() - MSS);
    let out = dir.join("out");
    let (manifest, _) = extract(&path, &out, &[]);
    assert_eq!((manifest[0]["complete"].as_bool(), manifest[0]["gap_at"].as_u64()), (Some(false), Some(2000)));
    // The partial file is kept, the bytes after the hole at their own offsets.
    let kept = std::fs::read(out.join(manifest[0]["file"].as_str().unwrap())).unwrap();
    assert_eq!(kept.len(), file.len());
    assert_eq!(&kept[..2 * MSS], &file[..2 * MSS]);
    assert!(kept[2 * MSS..3 * MSS].iter().all(|&b| b == 0));
    assert_eq!(&kept[3 * MSS..], &file[3 * MSS..]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fin_captured_before_the_last_data_segments_still_ends_a_whole_stream() {
    let dir = scratch("fin-first");
    let path = dir.join("fin-first.pcap");
    let file = body(6_400, 4);
    let mut s = Session::open(&path).unwrap();
    s.transfer(50_000, 40_001, 123, "RETR merged.bin", &file, Arrival::FinFirst).unwrap();
    s.close().unwrap();
    let got = contents(&path);
    assert_eq!((got[0]["complete"].as_bool(), got[0]["sha256"].as_str()), (Some(true), Some(sha256(&file).as_str())), "{}", got[0]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_transfers_on_one_reused_4_tuple_are_two_files() {
    let dir = scratch("reused");
    let path = dir.join("reused.pcap");
    let (a, b) = (body(3_000, 5), body(4_500, 6));
    let mut s = Session::open(&path).unwrap();
    s.transfer(50_000, 40_001, 1_000, "RETR first.bin", &a, Arrival::InOrder).unwrap();
    s.transfer(50_000, 40_001, 900_000, "RETR second.bin", &b, Arrival::InOrder).unwrap();
    s.close().unwrap();
    let got = contents(&path);
    assert_eq!(got.len(), 2);
    assert_eq!((got[0]["sha256"].as_str(), got[1]["sha256"].as_str()), (Some(sha256(&a).as_str()), Some(sha256(&b).as_str())));
    let out = dir.join("out");
    let (manifest, _) = extract(&path, &out, &[]);
    let files: Vec<Vec<u8>> = manifest.iter().map(|l| std::fs::read(out.join(l["file"].as_str().unwrap())).unwrap()).collect();
    assert_eq!(files, [a, b]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn names_from_the_capture_never_leave_the_directory_nor_follow_a_planted_symlink() {
    let dir = scratch("names");
    let path = dir.join("names.pcap");
    let long = format!("RETR {}", "n".repeat(1_000));
    let commands = ["RETR ../../escaped", "RETR /tmp/absolute", "RETR ..\\..\\back", "RETR bell\u{7}\u{1b}[31mred", "RETR ..", &long];
    let mut s = Session::open(&path).unwrap();
    for (i, command) in commands.iter().enumerate() {
        s.transfer(50_000 + i as u16, 40_001 + i as u16, 10_000 * i as u32, command, &body(1_500, i as u32), Arrival::InOrder).unwrap();
    }
    s.close().unwrap();
    // A symlink planted where the first file goes, pointing outside.
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let outside = dir.join("outside.txt");
    std::fs::write(&outside, b"untouched").unwrap();
    let first_frame = contents_frames(&path)[0];
    let planted = out.join(format!("s0-f{first_frame}-escaped"));
    std::os::unix::fs::symlink(&outside, &planted).unwrap();
    let (manifest, _) = extract(&path, &out, &[]);
    assert_eq!(manifest.len(), commands.len());
    assert_eq!(std::fs::read(&outside).unwrap(), b"untouched", "the symlink was not followed");
    assert_eq!(manifest[0]["file"], format!("s0-f{first_frame}-escaped.1"), "a taken name gets a counter");
    for line in &manifest {
        let name = line["file"].as_str().unwrap();
        assert!(!name.contains(['/', '\\']) && !name.starts_with('.') && name.len() < 140, "{name:?}");
        assert!(name.chars().all(|c| c.is_ascii_graphic()), "{name:?}");
        assert_eq!(line["complete"], true);
    }
    // Nothing but the files, the manifest and the planted link in DIR; nothing new beside it.
    let mut in_dir: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    in_dir.sort();
    assert_eq!(in_dir.len(), commands.len() + 2, "{in_dir:?}");
    let mut beside: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    beside.sort();
    assert_eq!(beside, ["names.pcap", "out", "outside.txt"]);
    // A second run into the same directory refuses: it would mix two runs' files.
    let again = ftpscope(&["analyze", "-q", "--extract", out.to_str().unwrap()], &path);
    assert_eq!(again.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each negotiation's data connection's SYN frame.
fn contents_frames(path: &Path) -> Vec<u64> {
    let v: Value = serde_json::from_slice(&ftpscope(&["analyze", "-q", "--json"], path).stdout).unwrap();
    let negotiations = v["sessions"][0]["negotiations"].as_array().unwrap().clone();
    negotiations.iter().map(|n| n["data"]["connection"]["syn_frame"].as_u64().unwrap()).collect()
}

#[test]
fn the_disk_allowance_bounds_what_is_written_and_the_summary_says_so() {
    let dir = scratch("max");
    let path = dir.join("max.pcap");
    let file = body(20_000, 8);
    let mut s = Session::open(&path).unwrap();
    s.transfer(50_000, 40_001, 1, "RETR big.bin", &file, Arrival::InOrder).unwrap();
    s.close().unwrap();
    let out = dir.join("out");
    let (manifest, text) = extract(&path, &out, &["--extract-max", "5K"]);
    assert_eq!(manifest[0]["bytes"], 5 * MSS);
    assert_eq!((manifest[0]["complete"].as_bool(), manifest[0]["not_written"].as_u64()), (Some(false), Some(15_000)));
    assert!(text.contains("--extract-max reached"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
