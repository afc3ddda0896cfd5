//! The reports' JSON writer: a serde `Serializer` straight into a byte buffer, writing the very
//! text sonic-rs (and serde_json before it) wrote: the same escapes, the same number forms
//! (integers by itoa, floats by zmij, sonic-rs's own float formatter), compact, keys in the
//! order given.
//!
//! Why not sonic-rs's writer: a report is mostly short keys and short values, and sonic-rs
//! sends every key, a static identifier that never needs escaping, through its SIMD string
//! escaper (reserving six times its length first), and every value through layers of
//! formatter calls. Here a struct's key is copied as it is and a string is scanned eight bytes
//! at a time: on 10,000 busy sessions (bench/sessions.sh's shape, callgrind), the writer
//! thread's instructions per session went from 59.8k to 52.5k (--json) and from 111.5k to
//! 102.2k (--ndjson).
//!
//! Owns the JSON text's form, not what is written: that is the values' `Serialize`.

use serde::ser::{self, Serialize};
use std::fmt::{self, Display};

/// Why a value could not be written: a `Serialize` impl failed, or a map key is not a string
/// or a number (JSON's keys are strings).
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

/// Appends `value`'s JSON to `out`.
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(Json { out })
}

/// The name under which a value hands sonic-rs raw JSON text to copy out as it is (a struct of
/// one field of that name, the text: sonic-rs's `OwnedLazyValue`, which the fix store keeps,
/// report::fix). Honoured here the same way, so the store's text is copied out here too.
const RAW_TOKEN: &str = "$sonic_rs::LazyValue";

/// The serializer: a buffer to append to.
pub struct Json<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Json<'a> {
    fn compound(self, open: &[u8], close: &'static [u8]) -> Compound<'a> {
        self.out.extend_from_slice(open);
        Compound { out: self.out, first: true, close }
    }
}

/// An array or object being written: a comma before every element but the first, `close` at
/// the end.
pub struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    close: &'static [u8],
}

impl Compound<'_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(Json { out: self.out })
    }

    /// A struct's key: a Rust identifier (or a `rename`), which needs no escape.
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.comma();
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        value.serialize(Json { out: self.out })
    }

    fn close(self) -> Result<(), Error> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// A struct whose one field is raw JSON text ([`RAW_TOKEN`]).
pub struct Raw<'a> {
    out: &'a mut Vec<u8>,
}

fn integer(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// As sonic-rs: the shortest text that reads back the same, `null` for NaN and infinities.
fn float<F: zmij::Float>(out: &mut Vec<u8>, value: F, finite: bool) {
    if finite {
        out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

impl<'a> ser::Serializer for Json<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Structure<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        integer(self.out, v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        float(self.out, v, v.is_finite());
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        float(self.out, v, v.is_finite());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        string(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            seq.serialize_element(byte)?;
        }
        seq.end()
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    /// `{"variant":value}`.
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let mut object = self.compound(b"{", b"}");
        object.field(variant, value)?;
        object.close()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.compound(b"[", b"]"))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    /// `{"variant":[...]}`.
    fn serialize_tuple_variant(self, _name: &'static str, _index: u32, variant: &'static str, _len: usize) -> Result<Compound<'a>, Error> {
        self.out.push(b'{');
        string(self.out, variant);
        Ok(self.compound(b":[", b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.compound(b"{", b"}"))
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Structure<'a>, Error> {
        Ok(if name == RAW_TOKEN { Structure::Raw(Raw { out: self.out }) } else { Structure::Object(self.compound(b"{", b"}")) })
    }

    /// `{"variant":{...}}`.
    fn serialize_struct_variant(self, _name: &'static str, _index: u32, variant: &'static str, _len: usize) -> Result<Compound<'a>, Error> {
        self.out.push(b'{');
        string(self.out, variant);
        Ok(self.compound(b":{", b"}}"))
    }

    /// A `Display` written into the buffer as it is, then escaped there if it needs to be (a
    /// finding's explanation comes in tens of pieces, and escaping each piece as it came cost
    /// more than the pieces: one scan of the whole is cheaper; almost none needs an escape).
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        struct Raw<'b>(&'b mut Vec<u8>);
        impl fmt::Write for Raw<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.extend_from_slice(s.as_bytes());
                Ok(())
            }
        }
        self.out.push(b'"');
        let start = self.out.len();
        fmt::write(&mut Raw(self.out), format_args!("{value}")).map_err(|_| Error("a Display impl failed".into()))?;
        let written = self.out.get(start..).unwrap_or_default();
        if clean_prefix(written) < written.len() {
            let raw = self.out.split_off(start);
            escaped(self.out, &raw);
        }
        self.out.push(b'"');
        Ok(())
    }
}

/// The four kinds of array serde knows (a sequence, a tuple, a tuple struct, a tuple variant's
/// fields): elements with commas between them.
macro_rules! array {
    ($($kind:ident :: $method:ident),*) => {$(
        impl ser::$kind for Compound<'_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }

            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

array!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(Key { out: self.out })?;
        self.out.push(b':');
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(Json { out: self.out })
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// A struct: an object, or raw JSON text ([`RAW_TOKEN`]).
pub enum Structure<'a> {
    Object(Compound<'a>),
    Raw(Raw<'a>),
}

impl ser::SerializeStruct for Structure<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        match self {
            Structure::Object(object) => object.field(key, value),
            Structure::Raw(raw) => value.serialize(RawText { out: raw.out }),
        }
    }

    fn end(self) -> Result<(), Error> {
        match self {
            Structure::Object(object) => object.close(),
            Structure::Raw(_) => Ok(()),
        }
    }
}

/// `"text"`, escaped as serde_json and sonic-rs escape: `"`, `\` and control characters only.
/// Most strings of a report are short (a key, a variant's name, an address) and need no escape:
/// room for them is made once, and they are looked at one table entry per byte.
fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len().saturating_add(2));
    out.push(b'"');
    // Up to 8 bytes (a variant's name, a short key): checked and copied a byte at a time, no
    // call to memcpy.
    if bytes.len() <= 8 && !bytes.iter().any(|&b| NEEDS_ESCAPE[usize::from(b)]) {
        for &b in bytes {
            out.push(b);
        }
    } else {
        escaped(out, bytes);
    }
    out.push(b'"');
}

/// `text` (UTF-8) escaped, without quotes: runs that need no escape copied whole. Only ASCII
/// bytes are escaped, so a multi-byte character is copied whole.
fn escaped(out: &mut Vec<u8>, text: &[u8]) {
    let mut rest = text;
    loop {
        let clean = clean_prefix(rest);
        let (run, tail) = rest.split_at(clean);
        out.extend_from_slice(run);
        let Some((&byte, tail)) = tail.split_first() else { return };
        escape(out, byte);
        rest = tail;
    }
}

/// How many bytes at the start of `bytes` need no escape: eight at a time while none of the
/// eight does (one word's arithmetic instead of eight table looks), the last few one by one.
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    // Nonzero when some byte of `x` is below `n` (n <= 128): "hasless" of Bit Twiddling Hacks.
    let has_below = |x: u64, n: u8| x.wrapping_sub(ONES.wrapping_mul(u64::from(n))) & !x & HIGHS;
    let has_byte = |x: u64, b: u8| has_below(x ^ ONES.wrapping_mul(u64::from(b)), 1);
    let mut clean = 0;
    if bytes.len() >= 8 {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let x = u64::from_le_bytes(word.try_into().unwrap_or_default());
            if has_below(x, 0x20) | has_byte(x, b'"') | has_byte(x, b'\\') != 0 {
                break;
            }
            clean += 8;
        }
    }
    let tail = bytes.get(clean..).unwrap_or_default();
    clean + tail.iter().position(|&b| NEEDS_ESCAPE[usize::from(b)]).unwrap_or(tail.len())
}

/// The bytes JSON strings escape: control characters, `"` and `\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// One byte that needs an escape, as serde_json writes it: the short forms, else `\u00XX`.
fn escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x09 => b't',
        0x0a => b'n',
        0x0c => b'f',
        0x0d => b'r',
        _ => {
            let hex = |nibble: u8| HEX.get(usize::from(nibble & 0xf)).copied().unwrap_or(b'0');
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hex(byte >> 4), hex(byte)]);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

/// A map's key: JSON's keys are strings, so numbers are quoted (as sonic-rs and serde_json do).
struct Key<'a> {
    out: &'a mut Vec<u8>,
}

impl Key<'_> {
    fn quoted(self, digits: &str) -> Result<(), Error> {
        self.out.push(b'"');
        self.out.extend_from_slice(digits.as_bytes());
        self.out.push(b'"');
        Ok(())
    }
}

fn not_a_key() -> Error {
    Error("a map key must be a string or a number".into())
}

impl ser::Serializer for Key<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        string(self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        Json { out: self.out }.collect_str(value)
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.quoted(itoa::Buffer::new().format(v))
    }

    fn serialize_bool(self, _v: bool) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_none(self) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<(), Error> {
        Err(not_a_key())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_key())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_key())
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_key())
    }

    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_key())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_key())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_key())
    }

    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_key())
    }
}

/// Raw JSON text ([`RAW_TOKEN`]): copied out as it is. Only a string can be.
struct RawText<'a> {
    out: &'a mut Vec<u8>,
}

fn not_raw() -> Error {
    Error("raw JSON must be given as a string".into())
}

impl ser::Serializer for RawText<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.out.extend_from_slice(v.as_bytes());
        Ok(())
    }

    fn serialize_bool(self, _v: bool) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_i8(self, _v: i8) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_i16(self, _v: i16) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_i32(self, _v: i32) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_i64(self, _v: i64) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_u8(self, _v: u8) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_u16(self, _v: u16) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_u32(self, _v: u32) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_u64(self, _v: u64) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_char(self, _v: char) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_none(self) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<(), Error> {
        Err(not_raw())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_raw())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_raw())
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_raw())
    }

    fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_raw())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_raw())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(not_raw())
    }

    fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, _: usize) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_raw())
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn text<T: Serialize>(value: &T) -> String {
        let mut out = Vec::new();
        super::write(&mut out, value).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(u8, &'static str),
        Struct { a: u8, b: Option<u8> },
    }

    #[derive(Serialize)]
    #[serde(tag = "event", rename_all = "snake_case")]
    enum Tagged {
        Started { at: f64 },
    }

    #[derive(Serialize)]
    struct Flat<'a> {
        first: u8,
        #[serde(flatten)]
        rest: &'a Tagged,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        last: (),
    }

    /// Every shape serde hands a serializer, written as sonic-rs (the reports' writer before)
    /// and serde_json write it.
    #[test]
    fn writes_what_sonic_rs_and_serde_json_write() {
        let mut keys = BTreeMap::new();
        keys.insert(7u16, "seven\n");
        let mut text_keys = BTreeMap::new();
        text_keys.insert("a\"b", [1.5f32, f32::INFINITY]);
        let value = (
            [Shape::Unit, Shape::Newtype(3), Shape::Tuple(4, "x\u{1}"), Shape::Struct { a: 5, b: None }],
            Flat { first: 1, rest: &Tagged::Started { at: 1795634789.5125299 }, skipped: None, last: () },
            (keys, text_keys, 'q', '"', i64::MIN, u128::MAX, -7i8, b"by".as_slice(), Vec::<u8>::new()),
            // A Display: written whole, then escaped.
            (crate::report::Rendered("plain"), crate::report::Rendered(format_args!("{}\t{}", "a\"b", 1))),
        );
        let ours = text(&value);
        assert_eq!(ours, sonic_rs::to_string(&value).unwrap());
        assert_eq!(ours, serde_json::to_string(&value).unwrap());
    }

    /// Escapes at every position of the eight-byte scan, and every byte that needs one.
    #[test]
    fn escapes_what_serde_json_escapes() {
        let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        all.push_str("\u{2028}\u{2029}\u{fffd}é漢\u{1F600}");
        for start in 0..all.len() {
            let Some(s) = all.get(start..) else { continue };
            for end in 0..=s.len().min(20) {
                let Some(piece) = s.get(..end) else { continue };
                let padded = format!("{}{piece}{}", "p".repeat(start % 9), "s".repeat(end % 11));
                assert_eq!(text(&padded), serde_json::to_string(&padded).unwrap());
            }
        }
    }

    /// sonic-rs's raw text (the fix store's `OwnedLazyValue`) is copied out as it is.
    #[test]
    fn copies_raw_json_out() {
        let raw: sonic_rs::OwnedLazyValue = sonic_rs::from_str(r#"{"a":[1,"b\n"]}"#).unwrap();
        assert_eq!(text(&[&raw, &raw]), r#"[{"a":[1,"b\n"]},{"a":[1,"b\n"]}]"#);
    }
}
