//! The user id of the rules (SPEC §4.4): cookie `grayKey`, else header `grayKey`; with
//! `graySubKey`, a field of the URL-decoded JSON value, falling back to the raw value.

use std::fmt;

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

/// Percent-decodes `src` into `out` (cleared first). Invalid escapes are kept as they are.
pub fn percent_decode_into<A: Allocator>(src: &[u8], out: &mut Vec<u8, A>) {
    out.clear();
    out.reserve(src.len());
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if b == b'%' && i + 2 < src.len() {
            if let (Some(h), Some(l)) = (hex(src[i + 1]), hex(src[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Where the field was found in the decoded JSON: borrowed when it needs no unescaping.
#[derive(Debug, PartialEq, Eq)]
pub enum SubValue<'a> {
    Borrowed(&'a [u8]),
    /// Unescaped string or formatted number (rare).
    Owned(std::string::String),
}

/// The value of top-level field `key` of the JSON object in `json` (a string, or a number /
/// boolean written as text). `None` when `json` is not an object or lacks the field.
pub fn sub_key<'a>(json: &'a [u8], key: &str) -> Option<SubValue<'a>> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let found = FieldSeed { key }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    found
}

struct FieldSeed<'k> {
    key: &'k str,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Option<SubValue<'de>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Option<SubValue<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
        let mut found = None;
        while let Some(k) = m.next_key::<Key<'de>>()? {
            if found.is_none() && k.matches(self.key) {
                found = m.next_value::<Scalar<'de>>()?.0;
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// A JSON object key, borrowed when possible.
enum Key<'a> {
    B(&'a str),
    O(std::string::String),
}

impl Key<'_> {
    fn matches(&self, k: &str) -> bool {
        match self {
            Key::B(s) => *s == k,
            Key::O(s) => s == k,
        }
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::B(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::O(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// A field value usable as a user id: strings, numbers and booleans; others give `None`.
struct Scalar<'a>(Option<SubValue<'a>>);

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(SubValue::Borrowed(v.as_bytes()))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(SubValue::Owned(v.to_owned()))))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(SubValue::Owned(v.to_string()))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(SubValue::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(SubValue::Owned(v.to_string()))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar(Some(SubValue::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar(None))
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, mut s: S) -> Result<Scalar<'de>, S::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Scalar<'de>, M::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &[u8]) -> std::vec::Vec<u8> {
        let mut v = Vec::new();
        percent_decode_into(s, &mut v);
        v.to_vec()
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(dec(b"%7B%22a%22%3A1%7D"), b"{\"a\":1}");
        assert_eq!(dec(b"a%2"), b"a%2");
        assert_eq!(dec(b"%zz%"), b"%zz%");
        assert_eq!(dec(b"%"), b"%");
        assert_eq!(dec(b"%41"), b"A");
        assert_eq!(dec(b"%00x"), b"\0x");
    }

    #[test]
    fn sub_keys() {
        assert_eq!(
            sub_key(br#"{"userId":"00000002","x":[1,{"y":2}]}"#, "userId"),
            Some(SubValue::Borrowed(b"00000002"))
        );
        assert_eq!(
            sub_key(br#"{"x":{"userId":"nested"},"userId":7}"#, "userId"),
            Some(SubValue::Owned("7".into()))
        );
        assert_eq!(
            sub_key(br#"{"userId":"a\"b"}"#, "userId"),
            Some(SubValue::Owned("a\"b".into()))
        );
        assert_eq!(sub_key(br#"{"userId":null}"#, "userId"), None);
        assert_eq!(sub_key(br#"{"other":1}"#, "userId"), None);
        assert_eq!(sub_key(b"[1,2]", "userId"), None);
        assert_eq!(sub_key(b"not json", "userId"), None);
        assert_eq!(sub_key(b"{\"userId\":\"\xff\"}", "userId"), None);
        assert_eq!(sub_key(br#"{"userId":"a"} trailing"#, "userId"), None);
        assert_eq!(sub_key(b"", "userId"), None);
    }
}
