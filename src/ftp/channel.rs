//! A control channel's two byte streams: reassembled per direction and split into lines.
//!
//! Owns the plumbing from TCP segments to lines (and to raw bytes while the channel is TLS).
//! Must not interpret the lines: that is [`super::session`]'s job.

use super::detect::{is_ftp_command, is_reply_line};
use super::lines::{Line, LineSplitter};
use crate::decode::TcpSegment;
use crate::tcp::flow::{Conn, Dir};
use crate::tcp::reassembly::{Chunk, Reassembler, ReassemblyStats};

/// One complete line (or a gap marker) from one direction.
pub struct LineOut {
    pub dir: Dir,
    pub bytes: Vec<u8>,
    pub overlong: bool,
}

impl LineOut {
    fn line(dir: Dir, line: Line<'_>) -> LineOut {
        LineOut { dir, bytes: line.bytes.to_vec(), overlong: line.overlong }
    }

    /// A gap travels in the line stream as an overlong empty line: no real line is both.
    fn gap(dir: Dir) -> LineOut {
        LineOut { dir, bytes: Vec::new(), overlong: true }
    }
    pub fn is_gap(&self) -> bool {
        self.overlong && self.bytes.is_empty()
    }
}

/// Both directions of reassembly and line splitting for one control channel.
pub struct Channel {
    reasm: [Reassembler; 2],
    lines: [LineSplitter; 2],
    pub gaps_seen: bool,
}

impl Channel {
    pub fn new(conn: &Conn, max_line: usize, max_buffered: usize) -> Channel {
        let mut reasm = [Reassembler::new(max_buffered), Reassembler::new(max_buffered)];
        if let Some(isn) = conn.client_isn {
            reasm[0].start_at(isn.wrapping_add(1));
        }
        if let Some(isn) = conn.server_isn {
            reasm[1].start_at(isn.wrapping_add(1));
        }
        let lines = [LineSplitter::new(max_line).keep_after_gap(is_ftp_command), LineSplitter::new(max_line).keep_after_gap(is_reply_line)];
        Channel { reasm, lines, gaps_seen: false }
    }

    /// Reassembles one segment. With `split`, complete lines go to `out`; without (the channel
    /// is TLS), the delivered bytes go to `raw` so clear text coming back can be spotted. The
    /// segment's ACK may also release the other direction past a hole the capture missed.
    pub fn push(&mut self, dir: Dir, seg: &TcpSegment<'_>, split: bool, out: &mut Vec<LineOut>, raw: &mut Vec<u8>) {
        // The ACK first: the peer had those bytes before it sent this segment, so a command
        // it releases comes before the reply this segment carries.
        // Under TLS (no splitting) holes do not matter, and `raw` must hold this direction only.
        if seg.flags.ack && split {
            let other = if dir == Dir::ToServer { Dir::ToClient } else { Dir::ToServer };
            self.deliver(other, split, out, raw, |r, sink| r.acked(seg.ack, sink));
        }
        self.deliver(dir, split, out, raw, |r, sink| r.push(seg.seq, seg.payload, seg.missing, sink));
    }

    fn deliver(
        &mut self,
        dir: Dir,
        split: bool,
        out: &mut Vec<LineOut>,
        raw: &mut Vec<u8>,
        step: impl FnOnce(&mut Reassembler, &mut dyn FnMut(Chunk<'_>)),
    ) {
        let i = dir as usize;
        let Channel { reasm, lines, gaps_seen } = self;
        let splitter = &mut lines[i];
        step(&mut reasm[i], &mut |chunk| match chunk {
            Chunk::Data(bytes) if split => splitter.push(bytes, &mut |line| out.push(LineOut::line(dir, line))),
            Chunk::Data(bytes) => raw.extend_from_slice(bytes),
            Chunk::Gap(_) => {
                splitter.gap();
                *gaps_seen = true;
                out.push(LineOut::gap(dir));
            }
        });
    }

    /// Clear text resumed in direction `dir` after TLS: both splitters restart, and `raw` (the
    /// clear bytes just seen) is split as lines.
    pub fn resume_clear(&mut self, dir: Dir, raw: &[u8], out: &mut Vec<LineOut>) {
        for splitter in &mut self.lines {
            splitter.gap();
        }
        self.lines[dir as usize].push(raw, &mut |line| out.push(LineOut::line(dir, line)));
    }

    /// Gives up waiting for holes: delivers everything buffered (gaps where bytes are missing).
    pub fn flush(&mut self, out: &mut Vec<LineOut>) {
        let mut raw = Vec::new();
        for dir in [Dir::ToServer, Dir::ToClient] {
            self.deliver(dir, true, out, &mut raw, |r, sink| r.flush(sink));
        }
    }

    /// Memory held for this channel: out-of-order bytes and partial lines, both ways.
    pub fn buffered(&self) -> usize {
        self.reasm.iter().map(Reassembler::buffered_bytes).sum::<usize>() + self.lines.iter().map(|l| l.pending().len()).sum::<usize>()
    }

    /// Drops the partial lines (as after a gap): the global buffer budget ran out.
    pub fn drop_partial_lines(&mut self) -> usize {
        let held = self.lines.iter().map(|l| l.pending().len()).sum();
        for splitter in &mut self.lines {
            splitter.gap();
        }
        held
    }

    pub fn stats(&self) -> [ReassemblyStats; 2] {
        [self.reasm[0].stats(), self.reasm[1].stats()]
    }
}
