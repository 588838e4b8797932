//! The user id of the rules (SPEC §4.4): cookie `grayKey`, else header `grayKey`; with
//! `graySubKey`, a field of the URL-decoded JSON value ([`crate::json_field`]), falling back to
//! the raw value.

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

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
}
