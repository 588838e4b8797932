//! One top-level field of a JSON object, for `graySubKey` (SPEC §4.4), found without
//! allocating: the document is validated in one pass over the caller's buffer and an escaped
//! string value is unescaped in place (it only gets shorter).
//!
//! What counts as valid follows `serde_json` (its `from_slice` with a field visitor was the
//! first implementation and is the oracle of the tests below): RFC 8259 syntax, nothing but
//! whitespace after the object, keys and the chosen value valid UTF-8 without lone
//! surrogates; strings that are skipped only need well-formed escapes. Two differences, both
//! on purpose: nesting deeper than [`MAX_DEPTH`] makes the document invalid (serde_json keeps
//! a heap stack for skipped values), and a number is returned as written (`1.50` stays
//! `1.50`, as the gateway plugin's gjson does for integers) instead of re-formatted.

/// Deepest nesting accepted, the top-level object included.
pub const MAX_DEPTH: u32 = 128;

/// The value of the first field named `key` of the JSON object in `json`, as a user id: a
/// string (unescaped), a number as written, `true` or `false`. `None` when `json` is not a
/// valid JSON object, lacks the field, or the field is `null`, an array or an object (then a
/// later field of the same name is taken, as serde_json does). May rewrite `json` in place.
pub fn field<'a>(json: &'a mut [u8], key: &str) -> Option<&'a [u8]> {
    match find(json, key.as_bytes())? {
        Found::Raw(a, b) => Some(&json[a..b]),
        Found::Escaped(a, b) => {
            let n = unescape_in_place(&mut json[a..b]);
            Some(&json[a..a + n])
        }
        Found::Lit(l) => Some(l),
    }
}

#[derive(Debug, Clone, Copy)]
enum Found {
    /// Bytes of the document, as they are.
    Raw(usize, usize),
    /// The content of a string with escapes.
    Escaped(usize, usize),
    Lit(&'static [u8]),
}

fn ws(s: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = s.get(i) {
        i += 1;
    }
    i
}

fn find(s: &[u8], key: &[u8]) -> Option<Found> {
    let mut i = ws(s, 0);
    if s.get(i) != Some(&b'{') {
        return None;
    }
    i = ws(s, i + 1);
    let mut found: Option<Found> = None;
    if s.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            if s.get(i) != Some(&b'"') {
                return None;
            }
            let (end, escaped) = string(s, i + 1, true)?;
            let name = &s[i + 1..end];
            i = ws(s, end + 1);
            if s.get(i) != Some(&b':') {
                return None;
            }
            i = ws(s, i + 1);
            if found.is_none() && key_eq(name, escaped, key) {
                let (v, next) = chosen_value(s, i)?;
                found = v;
                i = next;
            } else {
                i = skip_value(s, i, 1)?;
            }
            i = ws(s, i);
            match s.get(i) {
                Some(b',') => i = ws(s, i + 1),
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    if ws(s, i) != s.len() {
        return None;
    }
    found
}

/// The value of the matched field: strings are fully validated.
fn chosen_value(s: &[u8], i: usize) -> Option<(Option<Found>, usize)> {
    match *s.get(i)? {
        b'"' => {
            let (end, escaped) = string(s, i + 1, true)?;
            let v = if escaped {
                Found::Escaped(i + 1, end)
            } else {
                Found::Raw(i + 1, end)
            };
            Some((Some(v), end + 1))
        }
        b't' => literal(s, i, b"true").map(|n| (Some(Found::Lit(b"true")), n)),
        b'f' => literal(s, i, b"false").map(|n| (Some(Found::Lit(b"false")), n)),
        b'-' | b'0'..=b'9' => number(s, i).map(|n| (Some(Found::Raw(i, n)), n)),
        _ => skip_value(s, i, 1).map(|n| (None, n)),
    }
}

fn literal(s: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    s[i..].starts_with(lit).then_some(i + lit.len())
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` from `i`; the index after it.
fn number(s: &[u8], mut i: usize) -> Option<usize> {
    let digits = |s: &[u8], mut i: usize| -> Option<usize> {
        let from = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > from).then_some(i)
    };
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(s, i)?,
        _ => return None,
    }
    if s.get(i) == Some(&b'.') {
        i = digits(s, i + 1)?;
    }
    if let Some(b'e' | b'E') = s.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = s.get(i) {
            i += 1;
        }
        i = digits(s, i)?;
    }
    Some(i)
}

/// A string's content from `i` (after the opening quote): the index of its closing quote and
/// whether it has escapes. `full`: also valid UTF-8 and no lone surrogate escapes.
fn string(s: &[u8], mut i: usize, full: bool) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut run = i; // start of the current run of unescaped bytes
    loop {
        let k = memchr::memchr2(b'"', b'\\', &s[i..])?;
        let stop = i + k;
        if s[i..stop].iter().any(|&b| b < 0x20) {
            return None; // control characters must be escaped
        }
        if full && std::str::from_utf8(&s[run..stop]).is_err() {
            return None;
        }
        if s[stop] == b'"' {
            return Some((stop, escaped));
        }
        escaped = true;
        let (_, next) = escape(s, stop + 1, full)?;
        i = next;
        run = next;
    }
}

/// The escape after a backslash at `i`: the bytes it stands for (UTF-8) and the index after
/// it. Without `full`, a `\u` escape only needs four hex digits (its value is not used).
fn escape(s: &[u8], i: usize, full: bool) -> Option<(Utf8, usize)> {
    let one = |b: u8| Some((Utf8::one(b), i + 1));
    match *s.get(i)? {
        b'"' => one(b'"'),
        b'\\' => one(b'\\'),
        b'/' => one(b'/'),
        b'b' => one(8),
        b'f' => one(12),
        b'n' => one(b'\n'),
        b'r' => one(b'\r'),
        b't' => one(b'\t'),
        b'u' => {
            let hi = hex4(s, i + 1)?;
            let mut next = i + 5;
            let c = match hi {
                0xD800..=0xDBFF => {
                    // a high surrogate needs a low one right after it
                    if s.get(next..next + 2) != Some(b"\\u") {
                        return if full {
                            None
                        } else {
                            Some((Utf8::one(0), next))
                        };
                    }
                    let lo = hex4(s, next + 2)?;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        if full {
                            return None;
                        }
                        return Some((Utf8::one(0), next));
                    }
                    next += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                }
                0xDC00..=0xDFFF if full => return None,
                c => c,
            };
            Some((Utf8::of(char::from_u32(c).unwrap_or('\u{FFFD}')), next))
        }
        _ => None,
    }
}

fn hex4(s: &[u8], i: usize) -> Option<u32> {
    let h = s.get(i..i + 4)?;
    h.iter().try_fold(0u32, |acc, &b| {
        let d = (b as char).to_digit(16)?;
        Some(acc << 4 | d)
    })
}

/// Up to four bytes of UTF-8.
#[derive(Clone, Copy)]
struct Utf8 {
    b: [u8; 4],
    n: usize,
}

impl Utf8 {
    fn one(b: u8) -> Utf8 {
        Utf8 {
            b: [b, 0, 0, 0],
            n: 1,
        }
    }
    fn of(c: char) -> Utf8 {
        let mut b = [0; 4];
        let n = c.encode_utf8(&mut b).len();
        Utf8 { b, n }
    }
    fn bytes(&self) -> &[u8] {
        &self.b[..self.n]
    }
}

/// A key (string content, validated) equals `key` once unescaped.
fn key_eq(name: &[u8], escaped: bool, key: &[u8]) -> bool {
    if !escaped {
        return name == key;
    }
    let (mut r, mut k) = (0, 0);
    while r < name.len() {
        if name[r] == b'\\' {
            let Some((u, next)) = escape(name, r + 1, true) else {
                return false;
            };
            if !key[k..].starts_with(u.bytes()) {
                return false;
            }
            k += u.n;
            r = next;
        } else {
            if key.get(k) != Some(&name[r]) {
                return false;
            }
            k += 1;
            r += 1;
        }
    }
    k == key.len()
}

/// Unescapes a validated string's content in place; its new length.
fn unescape_in_place(s: &mut [u8]) -> usize {
    let (mut r, mut w) = (0, 0);
    while r < s.len() {
        if s[r] == b'\\' {
            // validated already; should it fail, keep the rest as it is
            let Some((u, next)) = escape(s, r + 1, true) else {
                s.copy_within(r.., w);
                return w + s.len() - r;
            };
            s[w..w + u.n].copy_from_slice(u.bytes()); // w + u.n <= r + 2 <= next
            w += u.n;
            r = next;
        } else {
            s[w] = s[r];
            w += 1;
            r += 1;
        }
    }
    w
}

/// Skips one value from `i` (whitespace before it already skipped), `depth` levels deep
/// already; the index after it. Iterative: nesting is a bit stack (1 = object).
fn skip_value(s: &[u8], mut i: usize, depth: u32) -> Option<usize> {
    let mut stack: u128 = 0;
    let mut level: u32 = 0;
    loop {
        // a value at i
        match *s.get(i)? {
            open @ (b'{' | b'[') => {
                if depth + level + 1 > MAX_DEPTH {
                    return None;
                }
                stack = stack << 1 | u128::from(open == b'{');
                level += 1;
                i = ws(s, i + 1);
                let close = if open == b'{' { b'}' } else { b']' };
                if s.get(i) == Some(&close) {
                    i += 1;
                    stack >>= 1;
                    level -= 1;
                } else {
                    if open == b'{' {
                        i = member_key(s, i)?;
                    }
                    continue;
                }
            }
            b'"' => i = string(s, i + 1, false)?.0 + 1,
            b't' => i = literal(s, i, b"true")?,
            b'f' => i = literal(s, i, b"false")?,
            b'n' => i = literal(s, i, b"null")?,
            _ => i = number(s, i)?,
        }
        // after a value: commas and closers until the next value, or the end of this one
        loop {
            if level == 0 {
                return Some(i);
            }
            i = ws(s, i);
            let object = stack & 1 == 1;
            match (*s.get(i)?, object) {
                (b',', true) => {
                    i = member_key(s, ws(s, i + 1))?;
                    break;
                }
                (b',', false) => {
                    i = ws(s, i + 1);
                    break;
                }
                (b'}', true) | (b']', false) => {
                    i += 1;
                    stack >>= 1;
                    level -= 1;
                }
                _ => return None,
            }
        }
    }
}

/// `"key" :` of a skipped object from `i`; the index of the value after it.
fn member_key(s: &[u8], i: usize) -> Option<usize> {
    if s.get(i) != Some(&b'"') {
        return None;
    }
    let end = string(s, i + 1, false)?.0;
    let i = ws(s, end + 1);
    if s.get(i) != Some(&b':') {
        return None;
    }
    Some(ws(s, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(json: &[u8], key: &str) -> Option<std::vec::Vec<u8>> {
        let mut buf = json.to_vec();
        field(&mut buf, key).map(<[u8]>::to_vec)
    }

    /// The first implementation: serde_json with a field visitor (allocates on escapes,
    /// numbers and nesting). Numbers are compared as written, see the module doc.
    fn oracle(json: &[u8], key: &str) -> Option<std::vec::Vec<u8>> {
        use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
        struct Seed<'k>(&'k str);
        impl<'de> DeserializeSeed<'de> for Seed<'_> {
            type Value = Option<std::vec::Vec<u8>>;
            fn deserialize<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<Self::Value, D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> Visitor<'de> for Seed<'_> {
            type Value = Option<std::vec::Vec<u8>>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut found = None;
                while let Some(k) = m.next_key::<String>()? {
                    if found.is_none() && k == self.0 {
                        found = match m.next_value::<serde_json::Value>()? {
                            serde_json::Value::String(s) => Some(s.into_bytes()),
                            serde_json::Value::Bool(b) => Some(b.to_string().into_bytes()),
                            serde_json::Value::Number(n) => Some(n.to_string().into_bytes()),
                            _ => None,
                        };
                    } else {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(found)
            }
        }
        let mut de = serde_json::Deserializer::from_slice(json);
        let v = Seed(key).deserialize(&mut de).ok()?;
        de.end().ok()?;
        v
    }

    #[test]
    fn fields() {
        let s = |v: &str| Some(v.as_bytes().to_vec());
        assert_eq!(
            get(br#"{"userId":"00000002","x":[1,{"y":2}]}"#, "userId"),
            s("00000002")
        );
        assert_eq!(
            get(br#"{"x":{"userId":"nested"},"userId":7}"#, "userId"),
            s("7")
        );
        assert_eq!(
            get(br#"{"userId":"a\"b\u00e9\ud83d\ude00"}"#, "userId"),
            s("a\"bé😀")
        );
        assert_eq!(get(br#"{"user\u0049d":"k"}"#, "userId"), s("k"));
        assert_eq!(get(br#" { "userId" : true } "#, "userId"), s("true"));
        assert_eq!(get(br#"{"userId":-1.50e+3}"#, "userId"), s("-1.50e+3"));
        assert_eq!(
            get(br#"{"userId":null,"userId":"second"}"#, "userId"),
            s("second")
        );
        assert_eq!(
            get(br#"{"userId":"first","userId":"second"}"#, "userId"),
            s("first")
        );
        assert_eq!(get(br#"{"userId":null}"#, "userId"), None);
        assert_eq!(get(br#"{"userId":[1]}"#, "userId"), None);
        assert_eq!(get(br#"{"other":1}"#, "userId"), None);
        assert_eq!(get(b"[1,2]", "userId"), None);
        assert_eq!(get(b"not json", "userId"), None);
        assert_eq!(get(b"{\"userId\":\"\xff\"}", "userId"), None);
        assert_eq!(get(br#"{"userId":"\ud800"}"#, "userId"), None);
        assert_eq!(get(br#"{"userId":"a"} trailing"#, "userId"), None);
        assert_eq!(get(br#"{"userId":"a",}"#, "userId"), None);
        assert_eq!(get(br#"{"userId":01}"#, "userId"), None);
        assert_eq!(get(b"", "userId"), None);
        // skipped strings need only well-formed escapes, as in serde_json
        assert_eq!(
            get(b"{\"x\":\"\xff\\ud800\",\"userId\":\"u\"}", "userId"),
            s("u")
        );
    }

    #[test]
    fn deep_nesting_is_bounded_and_never_recursive() {
        let deep = |n: usize| {
            format!(
                r#"{{"x":{}1{},"userId":"u"}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        assert_eq!(get(deep(100).as_bytes(), "userId"), Some(b"u".to_vec()));
        assert_eq!(
            get(deep(MAX_DEPTH as usize - 1).as_bytes(), "userId"),
            Some(b"u".to_vec())
        );
        assert_eq!(get(deep(MAX_DEPTH as usize).as_bytes(), "userId"), None);
        assert_eq!(get(deep(100_000).as_bytes(), "userId"), None);
    }

    /// Generated documents, valid and broken, against serde_json.
    #[test]
    fn agrees_with_serde_json() {
        let atoms: &[&str] = &[
            r#""00000002""#,
            r#""a\"b""#,
            r#""\u00e9x""#,
            r#""\ud83d\ude00""#,
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""\ud83dx""#,
            r#""\q""#,
            "\"\u{e9}\"",
            "7",
            "-0.5",
            "1e3",
            "01",
            "-",
            "true",
            "false",
            "null",
            "nul",
            "[]",
            "[1,[2,{\"a\":[]}]]",
            "{}",
            r#"{"userId":"in"}"#,
            "[1,]",
            "{\"a\"}",
            "\"tab\there\"",
            r#""\/""#,
        ];
        let keys: &[&str] = &[
            r#""userId""#,
            r#""user\u0049d""#,
            r#""x""#,
            r#""""#,
            "userId",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let pick = |next: &mut dyn FnMut(usize) -> usize, xs: &[&'static str]| xs[next(xs.len())];
        let mut checked = 0;
        for _ in 0..20_000 {
            let mut doc = String::from(pick(&mut next, &["{", "{", "{", " {", "[", ""]));
            for m in 0..next(4) {
                if m > 0 {
                    doc.push_str(pick(&mut next, &[",", ",", ",", " , ", ",,"]));
                }
                doc.push_str(pick(&mut next, keys));
                doc.push_str(pick(&mut next, &[":", ":", ":", " : ", ""]));
                doc.push_str(pick(&mut next, atoms));
            }
            doc.push_str(pick(&mut next, &["}", "}", "}", "} ", "}x", ""]));
            let (a, b) = (
                get(doc.as_bytes(), "userId"),
                oracle(doc.as_bytes(), "userId"),
            );
            if doc.contains("-0.5") || doc.contains("1e3") {
                // numbers: as written here, re-formatted by serde_json; validity must agree
                assert_eq!(a.is_some(), b.is_some(), "{doc}");
            } else {
                assert_eq!(a, b, "{doc}");
            }
            checked += usize::from(b.is_some());
        }
        assert!(checked > 400, "too few documents with the field: {checked}");
    }
}
