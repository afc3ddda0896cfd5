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
#[path = "common/transfer.rs"]
mod transfer;

use serde_json::Value;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use transfer::{body, Arrival, Session, MSS};

/// A session writing into the capture at `path`.
fn session(path: &Path) -> Session<BufWriter<std::fs::File>> {
    Session::open(BufWriter::new(std::fs::File::create(path).unwrap())).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
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
    let mut s = session(&path);
    s.transfer(50_000, 40_001, 1_000_000, "RETR in-order.bin", a.len(), 1, Arrival::InOrder).unwrap();
    s.transfer(50_001, 40_002, u32::MAX - 2_500, "RETR shuffled.bin", b.len(), 2, Arrival::Shuffled).unwrap();
    s.transfer(50_002, 40_003, 5, "RETR empty.txt", c.len(), 3, Arrival::InOrder).unwrap();
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
    // Every view says it: the text report's transfer line, the NDJSON session_end record.
    let text = String::from_utf8(ftpscope(&["analyze", "-q", "--hash"], &path).stdout).unwrap();
    assert!(text.contains(&format!("sha256 {} md5 ", sha256(&a))), "{text}");
    assert!(text.contains("(7000 bytes from the server, complete)"), "{text}");
    let ndjson = String::from_utf8(ftpscope(&["analyze", "-q", "--ndjson", "--hash"], &path).stdout).unwrap();
    let end: Value = ndjson.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|e| e["event"] == "session_end").unwrap();
    assert_eq!(end["record"]["negotiations"][1]["data"]["content"], got[1], "{end}");
    // explain --hash tells what crossed where its story tells a transfer (a problem session's):
    // the refused STOR's data connection carried nothing, closed (an empty file's SHA-256).
    let refused = common::root().join("fixtures/transfer-refused/client.pcap");
    let story = String::from_utf8(ftpscope(&["explain", "-q", "--hash"], &refused).stdout).unwrap();
    // The story's lines are wrapped: read as one line.
    let story = story.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(story.contains("Its bytes: sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "{story}");
    let story = String::from_utf8(ftpscope(&["explain", "-q"], &refused).stdout).unwrap();
    assert!(!story.contains("Its bytes"), "not asked, not told: {story}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stream_the_capture_missed_bytes_of_has_no_hash_and_says_where_the_gap_began() {
    let dir = scratch("gap");
    let path = dir.join("gap.pcap");
    let file = body(5_000, 9);
    let mut s = session(&path);
    s.transfer(50_000, 40_001, 70_000, "RETR holed.bin", file.len(), 9, Arrival::Lost(2)).unwrap();
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
fn a_stream_without_its_start_or_its_end_has_no_hash_and_says_which() {
    let dir = scratch("ends");
    let path = dir.join("no-start.pcap");
    let mut s = session(&path);
    s.transfer(50_000, 40_001, 500, "RETR headless.bin", 4_000, 1, Arrival::NoSynAck).unwrap();
    s.close().unwrap();
    let got = contents(&path);
    assert_eq!((got[0]["hash_absent"].as_str(), got[0]["complete"].as_bool()), (Some("no_start"), Some(false)), "{}", got[0]);
    let path = dir.join("not-closed.pcap");
    let mut s = session(&path);
    s.transfer(50_000, 40_001, 500, "RETR endless.bin", 4_000, 2, Arrival::NoFin).unwrap();
    s.cut().unwrap();
    let got = contents(&path);
    assert_eq!((got[0]["hash_absent"].as_str(), got[0]["bytes"].as_u64()), (Some("not_closed"), Some(4_000)), "{}", got[0]);
    assert!(got[0].get("sha256").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fin_captured_before_the_last_data_segments_still_ends_a_whole_stream() {
    let dir = scratch("fin-first");
    let path = dir.join("fin-first.pcap");
    let file = body(6_400, 4);
    let mut s = session(&path);
    s.transfer(50_000, 40_001, 123, "RETR merged.bin", file.len(), 4, Arrival::FinFirst).unwrap();
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
    let mut s = session(&path);
    s.transfer(50_000, 40_001, 1_000, "RETR first.bin", a.len(), 5, Arrival::InOrder).unwrap();
    s.transfer(50_000, 40_001, 900_000, "RETR second.bin", b.len(), 6, Arrival::InOrder).unwrap();
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
    let mut s = session(&path);
    for (i, command) in commands.iter().enumerate() {
        s.transfer(50_000 + i as u16, 40_001 + i as u16, 10_000 * i as u32, command, 1_500, i as u32, Arrival::InOrder).unwrap();
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
    let mut s = session(&path);
    s.transfer(50_000, 40_001, 1, "RETR big.bin", file.len(), 8, Arrival::InOrder).unwrap();
    s.close().unwrap();
    let out = dir.join("out");
    let (manifest, text) = extract(&path, &out, &["--extract-max", "5K"]);
    assert_eq!(manifest[0]["bytes"], 5 * MSS);
    assert_eq!((manifest[0]["complete"].as_bool(), manifest[0]["not_written"].as_u64()), (Some(false), Some(15_000)));
    assert!(text.contains("--extract-max reached"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The lab (CI): RETR of a random 3 MB file and STOR of a random 2.5 MB one, in PASV, EPSV,
/// PORT and EPRT (the active modes through the client router's FTP helper), once clean and
/// once with every 25th full-size data segment dropped in the client's router. At each capture
/// point (client, router-wan, server) every extracted file has its original's SHA-256 and is
/// complete, and `--hash` says the same in the JSON.
#[test]
fn the_lab_files_come_back_byte_for_byte_in_every_mode_with_and_without_loss() {
    let Some(lab) = common::lab_ready() else { return };
    let dir = scratch("lab");
    let mut failures = Vec::new();
    for scenario in ["transfers-all-modes", "transfers-all-modes-lossy"] {
        let run = Command::new("timeout").arg("300").arg(lab.join("lab.sh")).arg(scenario).arg(&dir).output().unwrap();
        assert!(run.status.success(), "lab.sh {scenario}: {}", String::from_utf8_lossy(&run.stderr));
        let out = dir.join(scenario);
        let originals = std::fs::read_to_string(out.join("originals.sha256")).unwrap();
        let sha_of =
            |name: &str| originals.lines().find(|l| l.ends_with(&format!("  {name}"))).unwrap().split(' ').next().unwrap().to_string();
        let (download, upload) = (sha_of("big.bin"), sha_of("up.bin"));
        for point in ["client", "router-wan", "server"] {
            let capture = out.join(format!("{point}.pcap"));
            let label = format!("{scenario}/{point}");
            let (manifest, _) = extract(&capture, &out.join(format!("extracted-{point}")), &[]);
            let modes: Vec<String> = negotiations(&capture).iter().map(|n| n["command"].as_str().unwrap().to_string()).collect();
            if modes != ["PASV", "PASV", "EPSV", "EPSV", "PORT", "PORT", "EPRT", "EPRT"] {
                failures.push(format!("{label}: negotiations {modes:?}"));
            }
            if manifest.len() != 8 {
                failures.push(format!("{label}: {} files, not 8", manifest.len()));
            }
            for line in &manifest {
                let want = if line["command"] == "STOR" { &upload } else { &download };
                let file = out.join(format!("extracted-{point}")).join(line["file"].as_str().unwrap());
                let written = sha256(&std::fs::read(&file).unwrap());
                if &written != want || line["complete"] != true || line["sha256"] != *want {
                    failures.push(format!("{label}: {line} (the file's SHA-256 {written}, the original's {want})"));
                }
            }
            // Without --hash too, each transfer's record reads whole: the loss at the router was
            // refilled by retransmissions, many holes in flight at once.
            for n in negotiations(&capture) {
                let r = &n["data"]["record"];
                if r["completeness"] != "complete" || r["missing_bytes"] != 0 {
                    failures.push(format!("{label}: the record of {} {}: {r}", n["command"], n["data"]["command"]));
                }
            }
            for (n, content) in contents(&capture).iter().enumerate() {
                let want = if n % 2 == 1 { &upload } else { &download };
                if content["sha256"] != *want || content["complete"] != true {
                    failures.push(format!("{label}: --hash, negotiation {n}: {content}"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The negotiations of a capture's sessions, in order.
fn negotiations(path: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&ftpscope(&["analyze", "-q", "--json"], path).stdout).unwrap();
    v["sessions"].as_array().unwrap().iter().flat_map(|s| s["negotiations"].as_array().unwrap().clone()).collect()
}

#[test]
fn a_stream_seen_whole_of_a_transfer_cut_short_is_no_complete_file() {
    // transfer-records.pcap (examples/craft.rs): short.bin closes at 2000 of 5000 announced,
    // resumed.bin carries 2000 after REST 1000 of 3000, broken.bin ends with a 451 after 1000.
    // Each stream is seen whole; only the transfer's record tells which files are cut short.
    let path = common::root().join("fixtures/crafted/transfer-records.pcap");
    let out = std::env::temp_dir().join(format!("ftpscope-extract-judged-{}", std::process::id()));
    let (manifest, _) = extract(&path, &out, &[]);
    let by_path = |p: &str| manifest.iter().find(|l| l["path"] == p).unwrap_or_else(|| panic!("{p}: {manifest:?}"));
    for (p, complete, completeness, partial) in [
        ("short.bin", false, "partial", Some("closed_short")),
        ("resumed.bin", true, "complete", None),
        ("broken.bin", false, "partial", Some("server_ended")),
    ] {
        let line = by_path(p);
        assert!(line["sha256"].is_string(), "seen whole, hashed: {line}");
        assert_eq!(line["complete"], complete, "{line}");
        assert_eq!(line["completeness"], completeness, "{line}");
        assert_eq!(line["partial"].as_str(), partial, "{line}");
    }
    let _ = std::fs::remove_dir_all(&out);
}
