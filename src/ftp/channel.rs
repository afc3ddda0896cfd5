//! A control channel's two byte streams: reassembled per direction and split into lines.
//!
//! Owns the plumbing from TCP segments to lines (and to raw bytes while the channel is TLS).
//! Must not interpret the lines: that is [`super::session`]'s job.

use super::detect::{is_ftp_command, is_reply_line};
use super::lines::{Line, LineSplitter};
use crate::decode::TcpSegment;
use crate::tcp::flow::{Conn, Dir};
use crate::tcp::reassembly::{Chunk, Reassembler, ReassemblyStats};

/// Lines handed out by a channel, their bytes in one buffer that is cleared and reused packet
/// after packet: a line costs no allocation of its own.
#[derive(Debug, Default)]
pub struct Lines {
    bytes: Vec<u8>,
    marks: Vec<Mark>,
}

/// Where one line ends in [`Lines::bytes`] (it starts where the previous one ended).
#[derive(Debug, Clone, Copy)]
struct Mark {
    dir: Dir,
    end: usize,
    overlong: bool,
    gap: bool,
}

/// One complete line (or a gap marker) from one direction.
#[derive(Debug, Clone, Copy)]
pub struct LineRef<'a> {
    pub dir: Dir,
    pub bytes: &'a [u8],
    pub overlong: bool,
    gap: bool,
}

impl LineRef<'_> {
    /// Bytes were lost in this direction here (the reassembler reported a hole).
    pub fn is_gap(&self) -> bool {
        self.gap
    }
}

impl Lines {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.marks.clear();
    }

    pub fn len(&self) -> usize {
        self.marks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    /// Bytes the lines hold.
    pub fn held(&self) -> usize {
        self.bytes.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = LineRef<'_>> {
        let mut start = 0;
        self.marks.iter().map(move |m| {
            // Each mark ends where the next line's bytes begin: always in range.
            let bytes = self.bytes.get(start..m.end).unwrap_or_default();
            start = m.end;
            LineRef { dir: m.dir, bytes, overlong: m.overlong, gap: m.gap }
        })
    }

    /// Appends a line (a copy of its bytes).
    pub fn push(&mut self, line: LineRef<'_>) {
        self.bytes.extend_from_slice(line.bytes);
        self.marks.push(Mark { dir: line.dir, end: self.bytes.len(), overlong: line.overlong, gap: line.gap });
    }

    fn line(&mut self, dir: Dir, line: Line<'_>) {
        self.push(LineRef { dir, bytes: line.bytes, overlong: line.overlong, gap: false });
    }

    fn gap(&mut self, dir: Dir) {
        self.push(LineRef { dir, bytes: &[], overlong: false, gap: true });
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
    pub fn push(&mut self, dir: Dir, seg: &TcpSegment<'_>, split: bool, out: &mut Lines, raw: &mut Vec<u8>) {
        // The ACK first: the peer had those bytes before it sent this segment, so a command
        // it releases comes before the reply this segment carries.
        // Under TLS (no splitting) holes do not matter, and `raw` must hold this direction only.
        if seg.flags.ack && split {
            let other = if dir == Dir::ToServer { Dir::ToClient } else { Dir::ToServer };
            self.deliver(other, split, out, raw, |r, sink| r.acked(seg.ack, sink));
        }
        // Data on a SYN (TCP Fast Open; a server's banner in its SYN-ACK) follows the SYN's own
        // sequence number (RFC 793: the SYN occupies the ISN).
        let seq = if seg.flags.syn { seg.seq.wrapping_add(1) } else { seg.seq };
        self.deliver(dir, split, out, raw, |r, sink| r.push(seq, seg.payload, seg.missing, sink));
    }

    fn deliver(
        &mut self,
        dir: Dir,
        split: bool,
        out: &mut Lines,
        raw: &mut Vec<u8>,
        step: impl FnOnce(&mut Reassembler, &mut dyn FnMut(Chunk<'_>)),
    ) {
        let Channel { reasm, lines, gaps_seen } = self;
        let splitter = dir.of_mut(lines);
        step(dir.of_mut(reasm), &mut |chunk| match chunk {
            Chunk::Data(bytes) if split => splitter.push(bytes, &mut |line| out.line(dir, line)),
            Chunk::Data(bytes) => raw.extend_from_slice(bytes),
            Chunk::Gap(_) => {
                splitter.gap();
                *gaps_seen = true;
                out.gap(dir);
            }
        });
    }

    /// Clear text resumed in direction `dir` after TLS: both splitters restart, and `raw` (the
    /// clear bytes just seen) is split as lines.
    pub fn resume_clear(&mut self, dir: Dir, raw: &[u8], out: &mut Lines) {
        for splitter in &mut self.lines {
            splitter.gap();
        }
        dir.of_mut(&mut self.lines).push(raw, &mut |line| out.line(dir, line));
    }

    /// Gives up waiting for holes: delivers everything buffered (gaps where bytes are missing).
    pub fn flush(&mut self, out: &mut Lines) {
        let mut raw = Vec::new();
        for dir in [Dir::ToServer, Dir::ToClient] {
            self.deliver(dir, true, out, &mut raw, |r, sink| r.flush(sink));
        }
    }

    /// Memory held for this channel: out-of-order bytes and partial lines, both ways.
    pub fn buffered(&self) -> usize {
        let bytes = self.reasm.iter().map(Reassembler::buffered_bytes).chain(self.lines.iter().map(|l| l.pending().len()));
        bytes.fold(0, usize::saturating_add)
    }

    /// Unfinished lines already longer than the longest kept (0, 1 or 2): a peer that sends an
    /// endless line until the capture ends still sent an overlong line.
    pub fn overlong_unfinished(&self) -> u64 {
        self.lines.iter().filter(|l| l.pending_line().is_some_and(|line| line.overlong)).count() as u64
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
