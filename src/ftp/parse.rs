//! FTP command lines and the arguments that negotiate a data channel.
//!
//! Owns: recognising a command verb, and turning PORT / EPRT / LPRT arguments and 227 / 228 / 229
//! reply text into socket addresses. Keeps the address, never only the port: the address is the
//! diagnosis. Pure functions over bytes (lines are not guaranteed UTF-8); judging an address
//! (private, unroutable, differs from the peer) is not done here but by the analyzer.

// Input from the wire: no arithmetic that can overflow, no index that can panic (issue 7).
#![deny(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// The commands the analyzer acts on; everything else is `Other` (see `CommandLine::name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    User,
    Pass,
    Acct,
    Port,
    Eprt,
    Lprt,
    Pasv,
    Epsv,
    Lpsv,
    Auth,
    Pbsz,
    Prot,
    Ccc,
    List,
    Nlst,
    Mlsd,
    Retr,
    Stor,
    Stou,
    Appe,
    Rest,
    Type,
    Quit,
    Abor,
    /// CWD and XCWD; CDUP and XCUP; PWD and XPWD: where the client is.
    Cwd,
    Cdup,
    Pwd,
    Mode,
    Stru,
    Size,
    /// RFC 2228's protected commands (ENC, MIC, CONF): a security mechanism's token, its
    /// command unreadable.
    Protected,
    Other,
}

const VERBS: [(&[u8], Verb); 36] = [
    (b"USER", Verb::User),
    (b"PASS", Verb::Pass),
    (b"ACCT", Verb::Acct),
    (b"PORT", Verb::Port),
    (b"EPRT", Verb::Eprt),
    (b"LPRT", Verb::Lprt),
    (b"PASV", Verb::Pasv),
    (b"EPSV", Verb::Epsv),
    (b"LPSV", Verb::Lpsv),
    (b"AUTH", Verb::Auth),
    (b"PBSZ", Verb::Pbsz),
    (b"PROT", Verb::Prot),
    (b"CCC", Verb::Ccc),
    (b"LIST", Verb::List),
    (b"NLST", Verb::Nlst),
    (b"MLSD", Verb::Mlsd),
    (b"RETR", Verb::Retr),
    (b"STOR", Verb::Stor),
    (b"STOU", Verb::Stou),
    (b"APPE", Verb::Appe),
    (b"REST", Verb::Rest),
    (b"TYPE", Verb::Type),
    (b"QUIT", Verb::Quit),
    (b"ABOR", Verb::Abor),
    (b"CWD", Verb::Cwd),
    (b"XCWD", Verb::Cwd),
    (b"CDUP", Verb::Cdup),
    (b"XCUP", Verb::Cdup),
    (b"PWD", Verb::Pwd),
    (b"XPWD", Verb::Pwd),
    (b"MODE", Verb::Mode),
    (b"STRU", Verb::Stru),
    (b"SIZE", Verb::Size),
    (b"ENC", Verb::Protected),
    (b"MIC", Verb::Protected),
    (b"CONF", Verb::Protected),
];

impl Verb {
    /// The verb for a command name in any case; `Other` for names the analyzer does not act on.
    pub fn from_name(name: &[u8]) -> Verb {
        // Every control line is looked up: one u32 per known name instead of a case-folding
        // comparison of each (about 280 instructions a command on the busy-server bench).
        let Some(key) = packed_upper(name) else { return Verb::Other };
        PACKED_VERBS.iter().find(|(known, _)| *known == key).map_or(Verb::Other, |&(_, verb)| verb)
    }
}

/// [`VERBS`] with each name as [`packed_upper`] gives it.
// Evaluated when compiling: an index out of range would fail the build, never a run.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const PACKED_VERBS: [(u64, Verb); VERBS.len()] = {
    let mut packed = [(0, Verb::Other); VERBS.len()];
    let mut i = 0;
    while i < VERBS.len() {
        let (name, verb) = VERBS[i];
        packed[i] = (pack_upper(name), verb);
        i += 1;
    }
    packed
};

/// A name of at most four bytes, upper-cased, and its length, as one number: two names pack the
/// same only when they are equal ignoring ASCII case. None when longer.
fn packed_upper(name: &[u8]) -> Option<u64> {
    (name.len() <= 4).then(|| pack_upper(name))
}

#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // i < name.len() <= 4: in range
const fn pack_upper(name: &[u8]) -> u64 {
    let mut key = name.len() as u64;
    let mut i = 0;
    while i < name.len() && i < 4 {
        key = (key << 8) | name[i].to_ascii_uppercase() as u64;
        i += 1;
    }
    key
}

/// A client line that has the shape of an FTP command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandLine<'a> {
    pub verb: Verb,
    /// The verb as sent, original case.
    pub name: &'a [u8],
    /// After the first space, trailing spaces trimmed, may be empty.
    pub arg: &'a [u8],
}

/// Telnet "interpret as command": clients send IAC IP IAC DM (urgent) before ABOR (RFC 959 4.1.3).
const IAC: u8 = 0xFF;
/// Telnet WILL, WONT, DO, DONT: the only commands followed by an option byte.
const TELNET_NEGOTIATION: std::ops::RangeInclusive<u8> = 0xFB..=0xFE;
/// Telnet command bytes (SE .. IAC); DM may also arrive without its IAC when the urgent byte was
/// taken out of band.
const TELNET_COMMAND_MIN: u8 = 0xF0;

/// None when the line is not an FTP command: the verb must be 3 or 4 ASCII letters (any case), then
/// end of line or a space. (Telnet IAC bytes 0xFF.. at the start may be skipped, some clients send
/// them before ABOR.)
pub fn parse_command(line: &[u8]) -> Option<CommandLine<'_>> {
    let line = skip_telnet_commands(line);
    // Counting at most five letters is enough to reject a five-letter word.
    let verb_len = line.iter().take(5).take_while(|b| b.is_ascii_alphabetic()).count();
    if !(3..=4).contains(&verb_len) {
        return None;
    }
    let (name, rest) = line.split_at(verb_len);
    let arg = match rest.split_first() {
        None => rest,
        Some((b' ', arg)) => trim_end(arg),
        Some(_) => return None,
    };
    Some(CommandLine { verb: Verb::from_name(name), name, arg })
}

fn skip_telnet_commands(mut line: &[u8]) -> &[u8] {
    loop {
        match line {
            [IAC, negotiation, _option, rest @ ..] if TELNET_NEGOTIATION.contains(negotiation) => line = rest,
            [byte, rest @ ..] if *byte >= TELNET_COMMAND_MIN => line = rest,
            _ => return line,
        }
    }
}

/// Why a negotiation argument could not be read, in words a person understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Malformed {}

/// `PORT h1,h2,h3,h4,p1,p2` (port = p1*256+p2). Spaces around numbers are allowed
/// ("10, 0, 0, 1, 4, 1"); any value over 255, a wrong count or trailing text is Malformed.
pub fn parse_port(arg: &[u8]) -> Result<SocketAddrV4, Malformed> {
    let list = whole_number_list(arg, Malformed("PORT without an address"))?;
    if list.count != 6 {
        return Err(Malformed("PORT needs six comma-separated numbers"));
    }
    v4_from_six(list.values())
}

/// RFC 2428 `EPRT <d>1<d>v4<d>port<d>` or `<d>2<d>v6<d>port<d>`, where the delimiter `<d>` is any
/// printable ASCII character that is not a digit.
pub fn parse_eprt(arg: &[u8]) -> Result<SocketAddr, Malformed> {
    let arg = trim(arg);
    let Some((&delimiter, rest)) = arg.split_first() else {
        return Err(Malformed("EPRT without an address"));
    };
    if !is_extended_delimiter(delimiter) {
        return Err(Malformed("EPRT delimiter is not a printable non-digit character"));
    }
    let mut fields = rest.split(|&b| b == delimiter);
    let (Some(family), Some(addr), Some(port), Some(after)) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
        return Err(Malformed("EPRT needs four delimiters (|1|address|port|)"));
    };
    if !after.is_empty() || fields.next().is_some() {
        return Err(Malformed("text after the EPRT port"));
    }
    let Extended { addr, port } = extended_fields(family, addr, port, Context::Eprt)?;
    let addr = addr.ok_or(Malformed("EPRT without an address"))?;
    Ok(SocketAddr::new(addr, port))
}

/// RFC 1639 `LPRT 4,4,a,b,c,d,2,p1,p2` or `LPRT 6,16,<16 bytes>,2,p1,p2`.
pub fn parse_lprt(arg: &[u8]) -> Result<SocketAddr, Malformed> {
    let list = whole_number_list(arg, Malformed("LPRT without an address"))?;
    long_address(list.values(), list.count)
}

/// 227 reply text (all lines of the reply; for a multi-line 227 the address is usually on the last
/// line). RFC 1123 4.1.2.6: scan for the first digit, do not require parentheses.
///
/// Accepts the text after the code or whole reply lines (a leading `227 ` / `227-` on each line is
/// skipped). Lines are searched from the last; on each line every run of comma-separated numbers
/// is a candidate, so text such as "Mode 2 (1,2,3,4,5,6)" still yields the address.
pub fn parse_227(text: &[u8]) -> Result<SocketAddrV4, Malformed> {
    search_lines(text, Malformed("no h1,h2,h3,h4,p1,p2 address in 227 reply"), |line| {
        search_number_lists(line, |list| match list.count {
            // A lone number ("version 2") is prose, not a broken address.
            0 | 1 => None,
            6 => Some(v4_from_six(list.values())),
            2..=5 => Some(Err(Malformed("fewer than six numbers in 227 address"))),
            _ => Some(Err(Malformed("more than six numbers in 227 address"))),
        })
    })
}

/// The port (and the rarely given address) of a 229 reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epsv {
    pub addr: Option<IpAddr>,
    pub port: u16,
}

/// 229 reply text: `(|||6446|)`, any delimiter (`(!!!6446!)`), text after the parenthesis
/// (`(|||48758|).`), or with an address `(|1|10.0.0.5|4000|)`. `(||6446|)` and port 0 are Malformed.
/// Parentheses are looked for first; a line without any is searched for three equal delimiters.
///
/// Linear in the length of the text whatever it holds: a reply is whatever the peer sends, and a
/// line of 40,000 `(` must not cost 40,000 scans of the line.
pub fn parse_229(text: &[u8]) -> Result<Epsv, Malformed> {
    search_lines(text, Malformed("no (|||port|) in 229 reply"), |line| {
        let delimiters = NextSame::of(line);
        if line.contains(&b'(') {
            // The fields end at the closing parenthesis (or the line end when it is missing): every
            // `(` between two `)` shares the same end, so each piece of the line is looked at once.
            // Positions are indexes into the line: sums of them cannot reach usize::MAX.
            let pieces = line.split(|&b| b == b')').scan(0usize, |start, piece: &[u8]| {
                let range = (*start, start.saturating_add(piece.len()));
                *start = range.1.saturating_add(1);
                Some((range, piece))
            });
            let opens = pieces.flat_map(|((start, end), piece)| {
                let opens = piece.iter().enumerate().filter(|&(_, &b)| b == b'(');
                opens.map(move |(at, _)| (start.saturating_add(at).saturating_add(1), end))
            });
            first_found(opens.map(|(at, end)| epsv_at(line, &delimiters, at, end)))
        } else {
            // No parentheses at all: look for `|||port|` written bare.
            let triples =
                line.windows(3).enumerate().filter(|(_, w)| matches!(w, [a, b, c] if a == b && b == c && is_extended_delimiter(*a)));
            first_found(triples.map(|(at, _)| epsv_at(line, &delimiters, at, line.len())))
        }
    })
}

/// `<d><family><d><address><d><port><d>` starting at `line[at]` and ending before `end`; None when
/// `line[at]` is not a delimiter (so it is not a candidate at all). The delimiters after the first
/// are looked up in `delimiters`, not searched for, so a candidate costs no more than its fields.
fn epsv_at(line: &[u8], delimiters: &NextSame, at: usize, end: usize) -> Option<Result<Epsv, Malformed>> {
    let &delimiter = line.get(at..end)?.first()?;
    if !is_extended_delimiter(delimiter) {
        return None;
    }
    let second = delimiters.after(at, end);
    let third = second.and_then(|second| delimiters.after(second, end));
    let fourth = third.and_then(|third| delimiters.after(third, end));
    let (Some(second), Some(third), Some(fourth)) = (second, third, fourth) else {
        return Some(Err(Malformed("229 reply needs four delimiters around the port (|||port|)")));
    };
    let field = |from: usize, to: usize| line.get(from.saturating_add(1)..to).unwrap_or_default();
    let (family, addr, port) = (field(at, second), field(second, third), field(third, fourth));
    Some(extended_fields(family, addr, port, Context::Epsv).map(|e| Epsv { addr: e.addr, port: e.port }))
}

/// For every byte of a line, where the same byte value occurs next: built in one pass over the
/// line, so that the delimiters of every candidate in it are found without searching again.
struct NextSame(Vec<usize>);

impl NextSame {
    fn of(line: &[u8]) -> NextSame {
        let mut next = vec![usize::MAX; line.len()];
        let mut seen = [usize::MAX; 256];
        for (at, (slot, &b)) in next.iter_mut().zip(line).enumerate().rev() {
            if let Some(last) = seen.get_mut(usize::from(b)) {
                *slot = std::mem::replace(last, at);
            }
        }
        NextSame(next)
    }

    /// The next position after `at` holding the same byte as `at`, if there is one before `end`.
    fn after(&self, at: usize, end: usize) -> Option<usize> {
        self.0.get(at).copied().filter(|&next| next < end)
    }
}

/// 228 reply text: `228 Entering Long Passive Mode (4,4,a,b,c,d,2,p1,p2)` or the `6,16,...` form.
/// Accepts the text after the code or whole reply lines, like [`parse_227`].
pub fn parse_228(text: &[u8]) -> Result<SocketAddr, Malformed> {
    search_lines(text, Malformed("no long address (4,4,...,2,p1,p2) in 228 reply"), |line| {
        search_number_lists(line, |list| match list.count {
            0 | 1 => None,
            count => Some(long_address(list.values(), count)),
        })
    })
}

/// Calls `in_line` on every line of `text`, last line first, with a leading reply code removed.
/// The first address found wins; otherwise the first complaint, otherwise `nothing`.
fn search_lines<T>(text: &[u8], nothing: Malformed, in_line: impl FnMut(&[u8]) -> Option<Result<T, Malformed>>) -> Result<T, Malformed> {
    let lines = text.split(|&b| b == b'\n').rev().map(strip_reply_code);
    first_found(lines.map(in_line)).unwrap_or(Err(nothing))
}

/// Calls `judge` on every run of comma-separated numbers in `line`, in order. Runs do not overlap:
/// "1,2,3,4,5,6,7" is one run of seven, never six numbers starting at "2".
fn search_number_lists<T>(line: &[u8], mut judge: impl FnMut(&NumberList) -> Option<Result<T, Malformed>>) -> Option<Result<T, Malformed>> {
    let mut from = 0usize;
    let runs = std::iter::from_fn(|| {
        let start = from.saturating_add(line.get(from..)?.iter().position(u8::is_ascii_digit)?);
        let list = read_numbers(line, start);
        from = list.end;
        Some(list)
    });
    first_found(runs.map(|list| judge(&list)))
}

/// Of several places that may hold an address: the first one that parses; else the first
/// complaint (the most specific thing to tell a person); None when no place looked like one.
/// Stops at the first success, so later candidates are never even read.
fn first_found<T>(attempts: impl Iterator<Item = Option<Result<T, Malformed>>>) -> Option<Result<T, Malformed>> {
    let mut complaint = None;
    for attempt in attempts {
        match attempt {
            Some(Ok(found)) => return Some(Ok(found)),
            Some(Err(e)) => {
                complaint.get_or_insert(e);
            }
            None => {}
        }
    }
    complaint.map(Err)
}

/// `NNN ` or `NNN-` (or a bare `NNN`) at the start of a reply line: skipped, so that the parsers
/// accept whole lines as well as the text after the code.
fn strip_reply_code(line: &[u8]) -> &[u8] {
    match line {
        [a, b, c, rest @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => match rest {
            [] => rest,
            [b' ' | b'-', text @ ..] => text,
            _ => line,
        },
        _ => line,
    }
}

/// Most numbers any negotiation carries: LPRT for IPv6 has 2 + 16 + 1 + 2.
const MAX_NUMBERS: usize = 21;
/// Values are clamped here while reading: enough to tell "over 255" and "over 65535" apart from
/// valid values without overflow, whatever the number of digits.
const VALUE_CLAMP: u32 = 1_000_000;

/// A run of comma-separated decimal numbers.
struct NumberList {
    stored: [u32; MAX_NUMBERS],
    /// How many numbers the run has; those past `MAX_NUMBERS` are counted, not stored.
    count: usize,
    /// Index just after the last digit of the run.
    end: usize,
}

impl NumberList {
    fn values(&self) -> &[u32] {
        self.stored.get(..self.count).unwrap_or(&self.stored)
    }
}

/// Reads numbers separated by commas from `text[start..]`, which starts with a digit. Blanks around
/// the commas are allowed; the run stops before anything else (a comma not followed by a number is
/// not part of it).
fn read_numbers(text: &[u8], start: usize) -> NumberList {
    let mut list = NumberList { stored: [0; MAX_NUMBERS], count: 0, end: start };
    let mut at = start;
    loop {
        let mut value: u32 = 0;
        let first = at;
        while let Some(&b) = text.get(at).filter(|b| b.is_ascii_digit()) {
            value = decimal(value, b);
            at = at.saturating_add(1);
        }
        if at == first {
            break;
        }
        if let Some(slot) = list.stored.get_mut(list.count) {
            *slot = value;
        }
        list.count = list.count.saturating_add(1);
        list.end = at;
        let comma = skip_blanks(text, at);
        if text.get(comma) != Some(&b',') {
            break;
        }
        let next = skip_blanks(text, comma.saturating_add(1));
        if !text.get(next).is_some_and(u8::is_ascii_digit) {
            break;
        }
        at = next;
    }
    list
}

/// A command argument that must be a number list and nothing else (PORT, LPRT).
fn whole_number_list(arg: &[u8], empty: Malformed) -> Result<NumberList, Malformed> {
    let arg = trim(arg);
    match arg.first() {
        None => Err(empty),
        Some(b) if !b.is_ascii_digit() => Err(Malformed("address does not start with a number")),
        Some(_) => {
            let list = read_numbers(arg, 0);
            if list.end != arg.len() {
                return Err(Malformed("unexpected text in the comma-separated address"));
            }
            Ok(list)
        }
    }
}

fn v4_from_six(values: &[u32]) -> Result<SocketAddrV4, Malformed> {
    let &[a, b, c, d, p1, p2] = values else {
        return Err(Malformed("expected six comma-separated numbers"));
    };
    let ip = octets::<4>(&[a, b, c, d]).ok_or(Malformed("value over 255 in address"))?;
    let port = port_from_bytes(&[p1, p2])?;
    Ok(SocketAddrV4::new(Ipv4Addr::from(ip), port))
}

/// RFC 1639 `af,hal,h1..,pal,p1..` from its numbers. `count` may exceed the stored values.
fn long_address(values: &[u32], count: usize) -> Result<SocketAddr, Malformed> {
    let (&family, rest) = values.split_first().ok_or(Malformed("empty long address"))?;
    let (&addr_len, rest) = rest.split_first().ok_or(Malformed("long address without a length"))?;
    match (family, addr_len) {
        (4, 4) | (6, 16) => {}
        (4, _) => return Err(Malformed("long address family 4 with a length other than 4")),
        (6, _) => return Err(Malformed("long address family 6 with a length other than 16")),
        _ => return Err(Malformed("long address family is neither 4 nor 6")),
    }
    // addr_len is 4 or 16 here, so the conversion and the split are in range or checked.
    let addr_len = addr_len as usize;
    let (addr, rest) = rest.split_at_checked(addr_len).ok_or(Malformed("long address cut short"))?;
    let (&port_len, port) = rest.split_first().ok_or(Malformed("long address without a port"))?;
    if !(1..=2).contains(&port_len) {
        return Err(Malformed("long address port length is not 2"));
    }
    // af, hal, the address, pal, the port: every value read, none left over. `values` holds at
    // most MAX_NUMBERS, so a longer run has more values than it holds.
    if count != values.len() || port.len() != port_len as usize {
        return Err(Malformed("long address has the wrong number of values"));
    }
    let ip = match addr_len {
        4 => octets::<4>(addr).map(|o| IpAddr::from(Ipv4Addr::from(o))),
        _ => octets::<16>(addr).map(|o| IpAddr::from(Ipv6Addr::from(o))),
    }
    .ok_or(Malformed("value over 255 in address"))?;
    Ok(SocketAddr::new(ip, port_from_bytes(port)?))
}

/// Bytes from numbers that must each fit in a byte; None when one is over 255 or the count is wrong.
fn octets<const N: usize>(values: &[u32]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    if values.len() != N {
        return None;
    }
    for (slot, &value) in out.iter_mut().zip(values) {
        *slot = u8::try_from(value).ok()?;
    }
    Some(out)
}

/// A port written as big-endian bytes (`p1,p2` or a single byte for LPRT's port length 1).
fn port_from_bytes(values: &[u32]) -> Result<u16, Malformed> {
    let mut port: u32 = 0;
    for &value in values {
        if value > 255 {
            return Err(Malformed("value over 255 in port"));
        }
        // At most two bytes: no overflow.
        port = port.saturating_mul(256).saturating_add(value);
    }
    nonzero_port(port)
}

fn nonzero_port(port: u32) -> Result<u16, Malformed> {
    match u16::try_from(port) {
        Ok(0) => Err(Malformed("port 0")),
        Ok(port) => Ok(port),
        Err(_) => Err(Malformed("port over 65535")),
    }
}

/// RFC 2428: the delimiter is any printable ASCII character (33..=126) that is not a digit.
fn is_extended_delimiter(b: u8) -> bool {
    (33..=126).contains(&b) && !b.is_ascii_digit()
}

/// Longest text `IpAddr` parses: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`. Longer fields are
/// refused before parsing, so that a 229 line with many candidates costs no more than its length.
const MAX_ADDRESS_TEXT: usize = 45;

/// Which message set to use: EPRT requires family and address, 229 usually leaves them empty.
#[derive(Clone, Copy)]
enum Context {
    Eprt,
    Epsv,
}

struct Extended {
    addr: Option<IpAddr>,
    port: u16,
}

/// The three fields between RFC 2428 delimiters: family, address, port.
fn extended_fields(family: &[u8], addr: &[u8], port: &[u8], context: Context) -> Result<Extended, Malformed> {
    let eprt = matches!(context, Context::Eprt);
    let family = match trim(family) {
        b"" if eprt => return Err(Malformed("EPRT without an address family")),
        b"" => None,
        b"1" => Some(1),
        b"2" => Some(2),
        _ if eprt => return Err(Malformed("EPRT address family is neither 1 (IPv4) nor 2 (IPv6)")),
        _ => return Err(Malformed("229 address family is neither 1 (IPv4) nor 2 (IPv6)")),
    };
    let addr = match trim(addr) {
        b"" => None,
        text => Some(
            Some(text)
                .filter(|text| text.len() <= MAX_ADDRESS_TEXT)
                .and_then(|text| std::str::from_utf8(text).ok())
                .and_then(|s| s.parse::<IpAddr>().ok())
                .ok_or(if eprt {
                    Malformed("EPRT address is neither IPv4 nor IPv6")
                } else {
                    Malformed("229 address is neither IPv4 nor IPv6")
                })?,
        ),
    };
    match (family, addr) {
        (Some(1), Some(IpAddr::V6(_))) if eprt => return Err(Malformed("EPRT family 1 with an IPv6 address")),
        (Some(2), Some(IpAddr::V4(_))) if eprt => return Err(Malformed("EPRT family 2 with an IPv4 address")),
        (Some(1), Some(IpAddr::V6(_))) => return Err(Malformed("229 family 1 with an IPv6 address")),
        (Some(2), Some(IpAddr::V4(_))) => return Err(Malformed("229 family 2 with an IPv4 address")),
        _ => {}
    }
    Ok(Extended { addr, port: decimal_port(trim(port))? })
}

fn decimal_port(text: &[u8]) -> Result<u16, Malformed> {
    if text.is_empty() {
        return Err(Malformed("missing port"));
    }
    if !text.iter().all(u8::is_ascii_digit) {
        return Err(Malformed("port is not a number"));
    }
    let value = text.iter().fold(0u32, |acc, &d| decimal(acc, d));
    nonzero_port(value)
}

/// `value` with the ASCII digit `d` appended, clamped at [`VALUE_CLAMP`].
fn decimal(value: u32, d: u8) -> u32 {
    let digit = char::from(d).to_digit(10).unwrap_or(0);
    value.saturating_mul(10).saturating_add(digit).min(VALUE_CLAMP)
}

fn skip_blanks(text: &[u8], at: usize) -> usize {
    let blanks = text.get(at..).unwrap_or_default().iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    at.saturating_add(blanks)
}

fn is_blank(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

fn trim_end(text: &[u8]) -> &[u8] {
    let len = text.iter().rposition(|b| !is_blank(b)).map_or(0, |last| last.saturating_add(1));
    text.get(..len).unwrap_or(text)
}

fn trim(text: &[u8]) -> &[u8] {
    let text = trim_end(text);
    let start = text.iter().position(|b| !is_blank(b)).unwrap_or(text.len());
    text.get(start..).unwrap_or_default()
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests;
