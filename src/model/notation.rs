//! Addresses written out quickly, in std's notation (`192.0.2.1`, `192.0.2.1:21`; IPv6 as std
//! writes it), for `{}` and for serde.
//!
//! Part of the model because it is notation, not wording: the records' own JSON (a negotiation,
//! a data connection, a finding's details) writes its addresses with it, and the model must
//! serialise without the report. Owns the digits only: no words, nothing about classes.
//!
//! A report names several addresses per session and the JSON document tens of them: std's
//! `Display` for `Ipv4Addr` runs the formatting machinery for each octet and then pads, which
//! took a quarter of the writer's time on a capture of many sessions. IPv4 is written from a
//! small buffer here; IPv6 (rarer) goes to std.

use serde::{Serialize, Serializer};
use std::fmt::{self, Display, Formatter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// An address for `{}`: `Ip(addr)`.
pub struct Ip(pub IpAddr);

/// An endpoint for `{}`: `Sock(addr)`, `192.0.2.1:21` or `[2001:db8::1]:21`.
pub struct Sock(pub SocketAddr);

/// Longest IPv4 endpoint: `255.255.255.255:65535`.
const V4_SOCK_LEN: usize = 21;

impl Display for Ip {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => f.pad(V4Text::new(v4, None).as_str()),
            IpAddr::V6(v6) => Display::fmt(&v6, f),
        }
    }
}

impl Display for Sock {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            SocketAddr::V4(v4) => f.pad(V4Text::new(*v4.ip(), Some(v4.port())).as_str()),
            SocketAddr::V6(v6) => Display::fmt(&v6, f),
        }
    }
}

/// Each octet's decimal digits and how many they are (`OCTETS[20] == ([b'2', b'0', 0], 2)`):
/// copied, where working them out for each octet of each address was most of the time of
/// writing one (measured on the JSON writer: 376 instructions an endpoint before).
static OCTETS: [([u8; 3], u8); 256] = octet_digits();

// Evaluated by the compiler: an index or a sum out of range fails the build, not a run.
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
const fn octet_digits() -> [([u8; 3], u8); 256] {
    let mut table = [([0u8; 3], 0u8); 256];
    let mut n = 0;
    while n < 256 {
        let (hundreds, tens, units) = (b'0' + (n / 100) as u8, b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8);
        table[n] = if n >= 100 {
            ([hundreds, tens, units], 3)
        } else if n >= 10 {
            ([tens, units, 0], 2)
        } else {
            ([units, 0, 0], 1)
        };
        n += 1;
    }
    table
}

/// `a.b.c.d` (and `:port`) written into a buffer on the stack.
struct V4Text {
    buf: [u8; V4_SOCK_LEN],
    len: usize,
}

impl V4Text {
    fn new(ip: Ipv4Addr, port: Option<u16>) -> V4Text {
        let mut text = V4Text { buf: [0; V4_SOCK_LEN], len: 0 };
        for (i, octet) in ip.octets().into_iter().enumerate() {
            if i > 0 {
                text.push(b'.');
            }
            if let Some((digits, count)) = OCTETS.get(usize::from(octet)) {
                for &digit in digits.iter().take(usize::from(*count)) {
                    text.push(digit);
                }
            }
        }
        if let Some(port) = port {
            text.push(b':');
            text.decimal(port);
        }
        text
    }

    /// The buffer holds the longest endpoint: no byte is ever left out.
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = byte;
            self.len = self.len.saturating_add(1);
        }
    }

    /// `value` in decimal, without leading zeros: itoa's two digits at a time, not five
    /// divisions and a scan for the first digit.
    fn decimal(&mut self, value: u16) {
        for &digit in itoa::Buffer::new().format(value).as_bytes() {
            self.push(digit);
        }
    }

    fn as_str(&self) -> &str {
        let bytes = self.buf.get(..self.len).unwrap_or_default();
        debug_assert!(bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.' || *b == b':'));
        // SAFETY: only ASCII digits, dots and a colon are pushed: valid UTF-8. (Checking it
        // again was a fiftieth of the JSON writer's time.)
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

impl Sock {
    /// Appended to `out` as `{}` writes it, without the formatting machinery for IPv4.
    pub fn push_to(&self, out: &mut String) {
        match self.0 {
            SocketAddr::V4(v4) => out.push_str(V4Text::new(*v4.ip(), Some(v4.port())).as_str()),
            SocketAddr::V6(_) => {
                use std::fmt::Write;
                let _ = write!(out, "{self}");
            }
        }
    }
}

impl Serialize for Sock {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            SocketAddr::V4(v4) => s.serialize_str(V4Text::new(*v4.ip(), Some(v4.port())).as_str()),
            SocketAddr::V6(_) => s.collect_str(&self.0),
        }
    }
}

impl Serialize for Ip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            IpAddr::V4(v4) => s.serialize_str(V4Text::new(v4, None).as_str()),
            IpAddr::V6(_) => s.collect_str(&self.0),
        }
    }
}

/// `#[serde(serialize_with)]` for a `SocketAddr` field.
pub fn socket<S: Serializer>(a: &SocketAddr, s: S) -> Result<S::Ok, S::Error> {
    Sock(*a).serialize(s)
}

/// `#[serde(serialize_with)]` for an `Option<SocketAddr>` field.
pub fn socket_opt<S: Serializer>(a: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => Sock(*a).serialize(s),
        None => s.serialize_none(),
    }
}

/// `#[serde(serialize_with)]` for an `IpAddr` field.
pub fn ip<S: Serializer>(a: &IpAddr, s: S) -> Result<S::Ok, S::Error> {
    Ip(*a).serialize(s)
}

// Tests index their own literals: a panic there is a failing test, not a crash on input.
#[cfg(test)]
#[allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn written_as_std_writes_them() {
        for text in ["0.0.0.0:0", "192.0.2.1:21", "255.255.255.255:65535", "10.0.0.20:40002", "[2001:db8::1]:21", "[::ffff:1.2.3.4]:9"] {
            let a: SocketAddr = text.parse().unwrap();
            assert_eq!(Sock(a).to_string(), a.to_string());
            assert_eq!(Ip(a.ip()).to_string(), a.ip().to_string());
            assert_eq!(format!("{:>24}|{:<16}|", Sock(a), Ip(a.ip())), format!("{:>24}|{:<16}|", a, a.ip()));
            assert_eq!(serde_json::to_string(&Sock(a)).unwrap(), serde_json::to_string(&a).unwrap());
            assert_eq!(serde_json::to_string(&Ip(a.ip())).unwrap(), serde_json::to_string(&a.ip()).unwrap());
        }
    }
}
