//! The TCP reassembler on arbitrary segment sequences: reordered, duplicated, overlapping,
//! conflicting, cut by a snap length, far out of the window, across the wrap of the sequence
//! space, with ACKs and a final flush, under small bounds so that they are hit.
//!
//! Oracle: when every segment is a piece of one reference stream, the delivered bytes are that
//! stream's bytes at the offsets they are delivered for; always: every byte offset is handed
//! out once (data or gap), and the buffers stay within their bounds after each push.
#![no_main]

use arbitrary::Arbitrary;
use ftpscope::tcp::reassembly::{Chunk, Reassembler};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    /// `len` bytes of the reference stream from `offset` (both modulo its length), the last
    /// `cut` of them cut by the snap length.
    Piece { offset: u16, len: u16, cut: u8 },
    /// Bytes that may contradict the stream, at any sequence number relative to the start.
    Forged { rel_seq: u32, bytes: Vec<u8>, missing: u16 },
    /// The peer acknowledged up to this offset of the stream.
    Ack { rel_ack: u32 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    isn: u32,
    /// Whether the SYN was seen (`start_at`), or the stream starts with the first segment.
    syn_seen: bool,
    max_buffered: u16,
    max_segments: u8,
    stream: Vec<u8>,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let Input { isn, syn_seen, max_buffered, max_segments, stream, ops } = input;
    let max_buffered = usize::from(max_buffered);
    let max_segments = usize::from(max_segments).max(1);
    let mut r = Reassembler::new(max_buffered).max_segments(max_segments);
    if syn_seen {
        r.start_at(isn);
    }
    // Offset of the stream's first byte in what is delivered: known once the first segment
    // starts the stream (without a SYN, the first segment seen is offset 0).
    let mut origin: Option<u32> = syn_seen.then_some(isn);
    let mut handed_out = 0u64;
    let mut consistent = true;
    for op in ops.into_iter().take(256) {
        let mut chunks = Vec::new();
        let mut out = |c: Chunk<'_>| chunks.push(owned(c));
        match op {
            Op::Piece { offset, len, cut } => {
                if stream.is_empty() {
                    continue;
                }
                let from = usize::from(offset) % stream.len();
                let to = (from + usize::from(len)).min(stream.len());
                let piece = &stream[from..to];
                let cut = usize::from(cut).min(piece.len());
                let seq = isn.wrapping_add(from as u32);
                if !piece.is_empty() {
                    origin.get_or_insert(seq);
                }
                r.push(seq, &piece[..piece.len() - cut], cut as u32, &mut out);
            }
            Op::Forged { rel_seq, bytes, missing } => {
                consistent = false;
                let seq = isn.wrapping_add(rel_seq);
                if !bytes.is_empty() || missing > 0 {
                    origin.get_or_insert(seq);
                }
                r.push(seq, &bytes, u32::from(missing), &mut out);
            }
            Op::Ack { rel_ack } => r.acked(isn.wrapping_add(rel_ack), &mut out),
        }
        let reference = consistent.then_some(&stream[..]);
        check(&r, &chunks, &mut handed_out, origin.map(|o| o.wrapping_sub(isn)), reference, (max_buffered, max_segments));
    }
    let mut chunks = Vec::new();
    r.flush(&mut |c| chunks.push(owned(c)));
    let reference = consistent.then_some(&stream[..]);
    check(&r, &chunks, &mut handed_out, origin.map(|o| o.wrapping_sub(isn)), reference, (max_buffered, max_segments));
    assert_eq!(r.buffered_bytes(), 0, "a flush leaves nothing buffered");
});

/// A chunk as data (Some) or a gap (None), with its length.
fn owned(c: Chunk<'_>) -> (Option<Vec<u8>>, u64) {
    match c {
        Chunk::Data(d) => (Some(d.to_vec()), d.len() as u64),
        Chunk::Gap(n) => (None, n),
    }
}

/// The chunks one call handed out, from offset `handed_out` on. `origin`: the reference
/// stream's offset of delivered offset 0; `reference`: the stream, when every segment was a
/// piece of it.
fn check(
    r: &Reassembler,
    chunks: &[(Option<Vec<u8>>, u64)],
    handed_out: &mut u64,
    origin: Option<u32>,
    reference: Option<&[u8]>,
    (max_buffered, max_segments): (usize, usize),
) {
    for (data, len) in chunks {
        let at = *handed_out;
        *handed_out += len;
        let (Some(data), Some(origin), Some(stream)) = (data, origin, reference) else { continue };
        let from = u64::from(origin).wrapping_add(at);
        for (i, b) in data.iter().enumerate() {
            let Some(expected) = usize::try_from(from + i as u64).ok().and_then(|o| stream.get(o)) else { continue };
            assert_eq!(b, expected, "byte {} of the stream", from + i as u64);
        }
    }
    assert_eq!(r.delivered(), *handed_out, "delivered counts what was handed out");
    assert!(r.buffered_bytes() <= max_buffered, "byte bound: {} > {max_buffered}", r.buffered_bytes());
    assert!(r.buffered_segments() <= max_segments, "segment bound");
}
