//! Byte counts past 2 and 4 GiB of sequence space (issue 20, item 3): passive downloads of 1.5,
//! 3.5 and 5 GB, one of them from a server whose ISN sits just below 2^32 (its sequence numbers
//! wrap right after the SYN), each followed by its 226. The captures are made at test time, cut
//! by their snap length: a data frame holds its headers (and a few payload bytes), while its IP
//! total length says what was on the wire, so 5 GB of transfer is a few megabytes of capture.
//! The report must give the exact byte counts: in the JSON (the data connection's each way and the
//! transfer's total), in the NDJSON's session record, and in the text's negotiation line. (A
//! session has no byte total of its own: its transfers' are these.)
//!
//! Headers come from etherparse's types, not its `PacketBuilder`: a builder writes the payload it
//! is given and computes the lengths from it, and these frames' IP lengths promise payload that
//! the frame does not hold.

// Its frame writer only: the hostile generators are not used here.
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
const CONTROL: u16 = 40_000;
const DATA_CLIENT: u16 = 40_001;
/// The port the 227 advertises: 195 * 256 + 80.
const DATA_SERVER: u16 = 50_000;
/// Bytes kept of each frame: every control line fits, a data frame keeps 74 of its payload bytes.
const SNAPLEN: u32 = 128;
/// Headers of a data frame: Ethernet, IPv4 and TCP without options.
const HEADERS: usize = 14 + 20 + 20;
/// Payload of one data segment: as large as an IPv4 length allows (a GSO super-segment, as a
/// capture on the sender shows), so that few frames carry the gigabytes.
const SEGMENT: u64 = 65_000;

/// One direction of a TCP connection: its endpoints and its next sequence number.
struct Side {
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    seq: u32,
}

/// A capture being written, one microsecond between frames, each segment advancing its side.
struct Capture<W: Write>(Pcap<W>);

impl<W: Write> Capture<W> {
    fn new(out: W) -> io::Result<Capture<W>> {
        Ok(Capture(Pcap::with_snaplen(out, SNAPLEN)?))
    }

    /// A segment from `side` carrying `payload` and then `unseen` more payload bytes that were on
    /// the wire (the IP length counts them) but are not in the frame.
    fn segment(&mut self, side: &mut Side, ack: u32, flags: u8, payload: &[u8], unseen: u16) -> io::Result<()> {
        self.0.tcp_cut(side.src, side.dst, side.seq, ack, flags, payload, unseen)?;
        let advance = payload.len() as u32 + u32::from(unseen) + u32::from(flags & (SYN | FIN) != 0);
        side.seq = side.seq.wrapping_add(advance);
        Ok(())
    }

    /// A whole line from `side`, acknowledging everything `peer` sent.
    fn line(&mut self, side: &mut Side, peer: &Side, text: &str) -> io::Result<()> {
        self.segment(side, peer.seq, PSH | ACK, text.as_bytes(), 0)
    }

    /// A handshake: SYN, SYN-ACK, ACK.
    fn open(&mut self, client: &mut Side, server: &mut Side) -> io::Result<()> {
        self.segment(client, 0, SYN, &[], 0)?;
        self.segment(server, client.seq, SYN | ACK, &[], 0)?;
        self.segment(client, server.seq, ACK, &[], 0)
    }

    /// Both FINs and the last ACK, `first` closing first.
    fn close(&mut self, first: &mut Side, second: &mut Side) -> io::Result<()> {
        self.segment(first, second.seq, FIN | ACK, &[], 0)?;
        self.segment(second, first.seq, FIN | ACK, &[], 0)?;
        self.segment(first, second.seq, ACK, &[], 0)
    }
}

/// A passive session downloading `total` bytes, the data connection's server sending its first
/// payload byte at `data_isn + 1`.
fn download<W: Write>(out: W, total: u64, data_isn: u32) -> io::Result<W> {
    let mut cap = Capture::new(out)?;
    let mut client = Side { src: (CLIENT, CONTROL), dst: (SERVER, 21), seq: 1_000 };
    let mut server = Side { src: (SERVER, 21), dst: (CLIENT, CONTROL), seq: 2_000 };
    cap.open(&mut client, &mut server)?;
    cap.line(&mut server, &client, "220 ready\r\n")?;
    cap.line(&mut client, &server, "USER anonymous\r\n")?;
    cap.line(&mut server, &client, "331 password please\r\n")?;
    cap.line(&mut client, &server, "PASS guest\r\n")?;
    cap.line(&mut server, &client, "230 logged in\r\n")?;
    cap.line(&mut client, &server, "TYPE I\r\n")?;
    cap.line(&mut server, &client, "200 binary\r\n")?;
    cap.line(&mut client, &server, "PASV\r\n")?;
    cap.line(&mut server, &client, "227 Entering Passive Mode (203,0,113,21,195,80).\r\n")?;
    cap.line(&mut client, &server, "RETR big.iso\r\n")?;

    let mut data_client = Side { src: (CLIENT, DATA_CLIENT), dst: (SERVER, DATA_SERVER), seq: 7_000 };
    let mut data_server = Side { src: (SERVER, DATA_SERVER), dst: (CLIENT, DATA_CLIENT), seq: data_isn };
    cap.open(&mut data_client, &mut data_server)?;
    cap.line(&mut server, &client, "150 opening data connection\r\n")?;
    // What the snap length keeps of each data frame's payload.
    let kept = vec![0x5a; SNAPLEN as usize - HEADERS];
    let mut sent = 0;
    while sent < total {
        let len = SEGMENT.min(total - sent);
        let shown = &kept[..kept.len().min(len as usize)];
        let unseen = u16::try_from(len - shown.len() as u64).expect("a segment fits an IP length");
        cap.segment(&mut data_server, data_client.seq, ACK, shown, unseen)?;
        sent += len;
        // The client acknowledges now and then, as a receiver does.
        if sent % (16 * SEGMENT) == 0 {
            cap.segment(&mut data_client, data_server.seq, ACK, &[], 0)?;
        }
    }
    cap.close(&mut data_server, &mut data_client)?;
    cap.line(&mut server, &client, "226 transfer complete\r\n")?;
    cap.line(&mut client, &server, "QUIT\r\n")?;
    cap.line(&mut server, &client, "221 bye\r\n")?;
    cap.close(&mut server, &mut client)?;
    Ok(cap.0.into_inner())
}

/// The download written to a file of its own (removed when dropped).
struct File(PathBuf);

impl Drop for File {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn capture(total: u64, data_isn: u32) -> File {
    let path = std::env::temp_dir().join(format!("ftpscope-bytes-{total}-{data_isn}-{}.pcap", std::process::id()));
    let out = BufWriter::new(std::fs::File::create(&path).unwrap());
    download(out, total, data_isn).unwrap().flush().unwrap();
    File(path)
}

fn ftpscope(path: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ftpscope")).arg("analyze").args(args).arg(path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Analyzes a download of `total` bytes and checks every place its size is reported.
fn check(total: u64, data_isn: u32) {
    let file = capture(total, data_isn);
    let report: Value = serde_json::from_str(&ftpscope(&file.0, &["--json"])).unwrap();
    let sessions = report["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{report:#}");
    let negotiations = sessions[0]["negotiations"].as_array().unwrap();
    assert_eq!(negotiations.len(), 1);
    let data = &negotiations[0]["data"];
    assert_eq!(data["outcome"], "established", "{data:#}");
    assert_eq!(data["reply_code"], 226);
    assert_eq!(data["connection"]["server_isn"], u64::from(data_isn));
    assert_eq!(data["connection"]["bytes_to_client"], total, "bytes to the client");
    assert_eq!(data["connection"]["bytes_to_server"], 0);
    assert_eq!(data["bytes"], total, "the transfer's bytes");
    // The control connection's own counts stay small and exact beside them.
    let control = &sessions[0]["control"];
    assert_eq!((control["gap_bytes"].as_u64(), control["retransmitted_bytes"].as_u64()), (Some(0), Some(0)));
    let data_frames = total.div_ceil(SEGMENT);
    assert_eq!(report["capture"]["cut_frames"], data_frames, "every data frame, and only they, cut");

    // The stream says the same in the session's closing record.
    let ndjson = ftpscope(&file.0, &["--ndjson"]);
    let end: Value = ndjson.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|e| e["event"] == "session_end").unwrap();
    let streamed = &end["record"]["negotiations"][0]["data"];
    assert_eq!((&streamed["bytes"], &streamed["connection"]["bytes_to_client"]), (&data["bytes"], &data["connection"]["bytes_to_client"]));

    // The text report tells a healthy session in one line, at the end, with its bytes.
    let text = ftpscope(&file.0, &[]);
    let line = text.lines().find(|l| l.starts_with("  session 0 ")).unwrap_or_else(|| panic!("no session line in:\n{text}"));
    assert!(line.ends_with(&format!("  1 transfer(s) ok, {total} bytes")), "{line}");
}

#[test]
fn a_1_5_gb_download_is_counted_exactly() {
    check(1_500_000_000, 3_000);
}

#[test]
fn a_3_5_gb_download_is_counted_exactly() {
    check(3_500_000_000, 3_000);
}

#[test]
fn a_5_gb_download_is_counted_exactly() {
    check(5_000_000_000, 3_000);
}

#[test]
fn a_5_gb_download_whose_isn_is_near_2_32_is_counted_exactly() {
    // The SYN-ACK's sequence number is u32::MAX - 1: the first payload byte is u32::MAX, and
    // the second is already past the wrap.
    check(5_000_000_000, u32::MAX - 1);
}
