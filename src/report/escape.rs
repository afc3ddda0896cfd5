//! Text made safe for HTML and SVG, in element content and in quoted attribute values.
//!
//! Banners, user names, reply texts and command arguments come from the capture: whoever sent
//! the packets chose them. Everything written into the page goes through [`Escaped`], which
//! escapes while it formats (no intermediate `String`), so a `Display` value such as a finding's
//! explanation is escaped as a whole.
//!
//! Owns the escaping, nothing else. Five characters are enough (OWASP's rule for HTML content and
//! quoted attributes); the page is UTF-8, so nothing else needs an entity.

use std::fmt::{self, Display, Formatter, Write};

/// `value`'s `Display`, with `& < > " '` written as entities.
pub struct Escaped<T>(pub T);

impl<T: Display> Display for Escaped<T> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(Escaping(f), "{}", self.0)
    }
}

/// A writer that escapes what goes through it.
struct Escaping<'a, 'b>(&'a mut Formatter<'b>);

impl Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            self.0.write_str(&rest[..i])?;
            self.0.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_from_the_wire_becomes_text() {
        let banner = "220 <script>alert('x')</script> & \"quoted\"";
        assert_eq!(Escaped(banner).to_string(), "220 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;");
        assert_eq!(Escaped("plain 10.0.0.20:40005 é").to_string(), "plain 10.0.0.20:40005 é");
        assert_eq!(Escaped("&&").to_string(), "&amp;&amp;");
    }

    #[test]
    fn a_display_value_is_escaped_whole() {
        // Written in pieces, as a finding's explanation is: each piece is escaped.
        struct Reply(&'static str);
        impl Display for Reply {
            fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
                write!(f, "550 {}", self.0)?;
                f.write_str(" & <done>")
            }
        }
        assert_eq!(Escaped(Reply("<b>")).to_string(), "550 &lt;b&gt; &amp; &lt;done&gt;");
    }
}
