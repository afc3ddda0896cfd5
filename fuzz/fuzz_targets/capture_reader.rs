//! The capture reader on arbitrary bytes: pcap and pcapng headers, blocks, options, interface
//! tables, timestamps. It must end with frames, a truncation note or an error, never a panic,
//! and number the frames it hands out in increasing order (as Wireshark does: 1, 2, 3..., where a
//! pcapng custom block or journal entry between two frames takes a number of its own).
#![no_main]

use ftpscope::capture::file::read_capture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut last, mut handed_out) = (0u64, 0u64);
    let result = read_capture("fuzz", data, 1, &mut |frame| {
        assert!(frame.number > last, "frames are numbered in increasing order");
        last = frame.number;
        handed_out += 1;
        // What the analyzer does next with each frame (the decoder has its own target too).
        let _ = ftpscope::decode::decode(frame.link, frame.data, frame.orig_len);
    });
    if let Ok(summary) = result {
        assert_eq!(summary.frames, handed_out, "the summary counts the frames handed out");
    }
});
