//! The capture reader on arbitrary bytes: pcap and pcapng headers, blocks, options, interface
//! tables, timestamps. It must end with frames, a truncation note or an error, never a panic,
//! and number the frames it hands out 1, 2, 3...
#![no_main]

use ftpscope::capture::file::read_capture;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut next = 1u64;
    let result = read_capture("fuzz", data, 1, &mut |frame| {
        assert_eq!(frame.number, next, "frames are numbered in order");
        next += 1;
        // What the analyzer does next with each frame (the decoder has its own target too).
        let _ = ftpscope::decode::decode(frame.link, frame.data, frame.orig_len);
    });
    if let Ok(summary) = result {
        assert_eq!(summary.frames, next - 1, "the summary counts the frames handed out");
    }
});
