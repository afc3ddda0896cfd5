//! The NAT lab, live: builds network namespaces with Linux NAT routers, runs real FTP servers
//! (vsftpd, pyftpdlib, Pure-FTPd) and clients (curl, lftp, Python ftplib) with the machine's
//! current packages (fixtures/lab/ci-subset.sh), captures with tcpdump, and checks that ftpscope's
//! report on the fresh captures agrees with the facts tshark reads from the same files.
//!
//! Runs only when CI asks for it (CI=true, set by .ci/run), as root (namespaces, iptables), with
//! the lab's packages installed (fixtures/lab/install-deps.sh, run by .ci/run, never by a test);
//! otherwise it is skipped with one line saying what it needs, and in CI that is a failure. All
//! traffic stays inside the namespaces the script creates and removes; every step is bounded by
//! `timeout`.

mod common;

use std::process::Command;

#[test]
fn fresh_lab_captures_are_analysed_like_tshark_reads_them() {
    let Some(lab) = common::lab_ready() else { return };
    let out = common::scratch("ftpscope-lab");
    let status = Command::new("timeout").arg("600").arg("bash").arg(lab.join("ci-subset.sh")).arg(&out).status().unwrap();
    assert!(status.success(), "ci-subset.sh failed");

    let captures = common::expected(&out.join("expected.json"));
    assert!(captures.len() >= 5, "the subset's captures: {}", captures.len());
    let mut diffs = common::check_all(&out, &captures);
    // The issue-19 scenario, read as a whole at each point outside the server's NAT.
    for point in ["client.pcap", "router-wan.pcap"] {
        let path = out.join("pasv-range-partial-leak").join(point);
        if let Err(why) = common::scenario::leak_and_partial_range(&common::analyze(&path)) {
            diffs.push(format!("pasv-range-partial-leak/{point}: {why}"));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    assert!(diffs.is_empty(), "{} difference(s) on fresh lab captures:\n{}", diffs.len(), diffs.join("\n"));
}
