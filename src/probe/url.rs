//! The probe's target as typed: `ftp://[user@]host[:port][/path]`, and its addresses.
//!
//! Owns what a URL may say. A password in the URL is refused (it would sit in the shell's
//! history and in `ps`): it comes from FTPSCOPE_PASSWORD or a prompt.

use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// The default control port.
pub const FTP_PORT: u16 = 21;

/// A parsed `ftp://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// None: anonymous.
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
    /// The directory to list ("" is the login directory).
    pub path: String,
}

/// Why a URL is not a probe's target (one line, exit status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadUrl(pub String);

impl fmt::Display for BadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, BadUrl> {
        let bad = |why: &str| BadUrl(format!("{url:?}: {why}"));
        let rest = url.strip_prefix("ftp://").ok_or_else(|| bad("not an ftp:// URL (ftp://[user@]host[:port])"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, _)) if user.contains(':') => {
                // Not echoed: the URL holds the password.
                return Err(BadUrl("a password in the URL would be seen by others (ps, history): give it in FTPSCOPE_PASSWORD".into()));
            }
            Some(("", _)) => return Err(bad("an empty user name")),
            Some((user, hostport)) => (Some(user.to_string()), hostport),
            None => (None, authority),
        };
        let (host, port) = split_port(hostport).ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("no host"));
        }
        if user.as_deref().is_some_and(|u| u.chars().any(|c| c.is_control() || c.is_whitespace())) {
            return Err(bad("a user name with blanks or control characters"));
        }
        if path.chars().any(|c| c.is_control()) {
            return Err(bad("a path with control characters"));
        }
        Ok(Target { user, host: host.to_string(), port, path: path.trim_end_matches('/').to_string() })
    }

    /// The host's first address (IPv4 first: the data modes judged are PASV and PORT), or one
    /// line saying why there is none.
    pub fn resolve(&self) -> Result<SocketAddr, BadUrl> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        let found: Vec<SocketAddr> =
            (self.host.as_str(), self.port).to_socket_addrs().map_err(|e| BadUrl(format!("{}: unknown host ({e})", self.host)))?.collect();
        found
            .iter()
            .find(|a| a.is_ipv4())
            .or(found.first())
            .copied()
            .ok_or_else(|| BadUrl(format!("{}: unknown host (no address)", self.host)))
    }

    /// The URL again, without anything secret (there is nothing secret in it).
    pub fn display(&self) -> String {
        let user = self.user.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let port = if self.port == FTP_PORT { String::new() } else { format!(":{}", self.port) };
        format!("ftp://{user}{host}{port}/{}", self.path)
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`.
fn split_port(hostport: &str) -> Option<(&str, u16)> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|&p| p > 0);
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(p) => Some((host, port(p)?)),
            None if after.is_empty() => Some((host, FTP_PORT)),
            None => None,
        };
    }
    match hostport.split_once(':') {
        Some((host, p)) => Some((host, port(p)?)),
        None => Some((hostport, FTP_PORT)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_the_issue_writes_them() {
        let t = Target::parse("ftp://ftp.example.net").unwrap();
        assert_eq!((t.user, t.host.as_str(), t.port, t.path.as_str()), (None, "ftp.example.net", 21, ""));
        let t = Target::parse("ftp://alice@192.0.2.10:2121/pub/").unwrap();
        assert_eq!((t.user.as_deref(), t.host.as_str(), t.port, t.path.as_str()), (Some("alice"), "192.0.2.10", 2121, "pub"));
        let t = Target::parse("ftp://[2001:db8::1]:21").unwrap();
        assert_eq!(t.host, "2001:db8::1");
        assert_eq!(t.resolve().unwrap(), "[2001:db8::1]:21".parse().unwrap());
    }

    #[test]
    fn bad_urls_say_why_in_one_line() {
        for (url, why) in [
            ("http://x", "not an ftp:// URL"),
            ("ftp://alice:secret@x", "password"),
            ("ftp://x:99999", "port"),
            ("ftp://x:0", "port"),
            ("ftp://", "no host"),
            ("ftp://@x", "empty user"),
        ] {
            let e = Target::parse(url).unwrap_err().0;
            assert!(e.contains(why) && !e.contains('\n'), "{url}: {e}");
            assert!(!e.contains("secret"), "never the password: {e}");
        }
    }
}
