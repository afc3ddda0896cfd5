//! `--filter` on saved captures: a BPF expression compiled as `tcpdump -r FILE EXPR` compiles
//! it (libpcap's compiler, on a "dead" handle of the frames' link type) and run on each frame.
//! A pcapng file may hold several link types (one per interface): the expression is compiled
//! once per link type met, each frame tested with its own. Built only with the `live` feature
//! (libpcap).
//!
//! Owns: compiling and testing. Must not touch the reading (capture::background calls it) or
//! the analysis.

use super::background::FrameFilter;
use crate::model::{Frame, LinkType};
use pcap::{BpfProgram, Capture, Linktype};

/// The expression, and its program for each link type met so far (or why libpcap refused it
/// for that link type).
struct Compiled {
    expression: String,
    programs: Vec<(LinkType, Result<BpfProgram, String>)>,
}

/// The filter for `expression`, checked first against Ethernet (the link type of most files):
/// a mistake in it is said before anything is read.
pub fn frame_filter(expression: &str) -> Result<FrameFilter, String> {
    compile(expression, LinkType::Ethernet)?;
    let mut compiled = Compiled { expression: expression.to_string(), programs: Vec::new() };
    Ok(Box::new(move |frame: &Frame<'_>| compiled.keeps(frame)))
}

impl Compiled {
    fn keeps(&mut self, frame: &Frame<'_>) -> Result<bool, String> {
        if !self.programs.iter().any(|(link, _)| *link == frame.link) {
            self.programs.push((frame.link, compile(&self.expression, frame.link)));
        }
        match self.programs.iter().find(|(link, _)| *link == frame.link).map(|(_, p)| p) {
            Some(Ok(program)) => Ok(program.filter(frame.data)),
            Some(Err(why)) => Err(format!("frame {}: {why}", frame.number)),
            None => Err(format!("frame {}: no program for link type {:?}", frame.number, frame.link)),
        }
    }
}

/// libpcap's program for `expression` on frames of `link`.
fn compile(expression: &str, link: LinkType) -> Result<BpfProgram, String> {
    let dlt = dlt(link);
    let dead = Capture::dead(Linktype(dlt)).map_err(|e| format!("libpcap cannot take link type {dlt}: {e}"))?;
    dead.compile(expression, true).map_err(|e| match link {
        LinkType::Ethernet => format!("--filter {expression:?}: {e}"),
        _ => format!("--filter {expression:?} does not apply to frames of link type {link:?} (DLT {dlt}): {e}"),
    })
}

/// The DLT_ value libpcap's compiler knows the link type by (as libpcap maps LINKTYPE_ values
/// read from a file: LINKTYPE_RAW 101 is DLT_RAW 12 on Linux).
fn dlt(link: LinkType) -> i32 {
    let value = match link {
        LinkType::Ethernet => 1,
        LinkType::LinuxSll => 113,
        LinkType::LinuxSll2 => 276,
        LinkType::Raw => 12,
        LinkType::Ipv4 => 228,
        LinkType::Ipv6 => 229,
        LinkType::Null => 0,
        LinkType::Loop => 108,
        LinkType::Other(n) => n,
    };
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::Timestamp;

    /// An Ethernet frame carrying IPv4 TCP from 10.0.0.1 to 10.0.0.2, ports 1024 -> 21.
    fn ethernet_tcp() -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&40u16.to_be_bytes());
        f[22] = 64;
        f[23] = 6;
        f[26..30].copy_from_slice(&[10, 0, 0, 1]);
        f[30..34].copy_from_slice(&[10, 0, 0, 2]);
        f[34..36].copy_from_slice(&1024u16.to_be_bytes());
        f[36..38].copy_from_slice(&21u16.to_be_bytes());
        f[46] = 0x50;
        f
    }

    fn frame(link: LinkType, data: &[u8]) -> Frame<'_> {
        Frame { number: 7, ts: Timestamp::default(), link, data, orig_len: data.len() as u32 }
    }

    #[test]
    fn frames_are_judged_by_their_own_link_type() {
        let ether = ethernet_tcp();
        let mut keep = frame_filter("host 10.0.0.2 and tcp port 21").unwrap();
        assert_eq!(keep(&frame(LinkType::Ethernet, &ether)), Ok(true));
        // The same IP packet without its Ethernet header: raw IP, its own program.
        assert_eq!(keep(&frame(LinkType::Raw, &ether[14..])), Ok(true));
        let mut other = frame_filter("host 10.0.0.9").unwrap();
        assert_eq!(other(&frame(LinkType::Ethernet, &ether)), Ok(false));
        assert_eq!(other(&frame(LinkType::Raw, &ether[14..])), Ok(false));
    }

    #[test]
    fn a_mistake_is_said_before_reading_and_a_link_type_it_cannot_apply_to_at_its_frame() {
        let Err(why) = frame_filter("host and and") else { panic!("accepted") };
        assert!(why.contains("--filter"), "{why}");
        let ether = ethernet_tcp();
        let mut keep = frame_filter("ether host 00:11:22:33:44:55").unwrap();
        let why = keep(&frame(LinkType::Raw, &ether[14..])).unwrap_err();
        assert!(why.starts_with("frame 7: ") && why.contains("link type Raw"), "{why}");
    }
}
