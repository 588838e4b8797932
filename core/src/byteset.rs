//! [`ByteSet`]: the sets of values a request's key, cookie or header is looked up in (the
//! user-id allow-lists, `grayTagValue`, a condition's `values`), hashed with xxh3 instead of
//! std's SipHash, which costs a few hundred instructions per lookup on the request path.
//!
//! SipHash's keyed hashing guards a map that untrusted input is *inserted* into against
//! collision floods; these sets are built once from the configuration and only looked up in,
//! so a fixed hash lets a request cost at most one probe sequence of a set it cannot grow.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// A set of byte strings, built at configuration time, looked up per request.
pub type ByteSet = HashSet<Box<[u8]>, BuildHasherDefault<Xxh3Bytes>>;

/// The hasher of [`ByteSet`]: xxh3 of the bytes, each write seeded with what came before
/// (std hashes a `[u8]` as its length and then its bytes).
#[derive(Default)]
pub struct Xxh3Bytes(u64);

impl Hasher for Xxh3Bytes {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxh3_64_with_seed(bytes, self.0);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        // the length prefix: mixed in cheaply, the bytes' hash does the rest
        self.0 ^= (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_put_and_nothing_else() {
        let put = [
            "alice",
            "bob",
            "",
            "a-very-long-user-id-of-more-than-sixteen-bytes",
        ];
        let set: ByteSet = put.iter().map(|s| s.as_bytes().into()).collect();
        for s in put {
            assert!(set.contains(s.as_bytes()), "{s}");
        }
        for s in [
            "alic",
            "alicee",
            "Bob",
            " ",
            "a-very-long-user-id-of-more-than-sixteen-byte",
        ] {
            assert!(!set.contains(s.as_bytes()), "{s}");
        }
    }

    #[test]
    fn the_length_and_the_bytes_both_count() {
        let h = |parts: &[&[u8]]| {
            let mut h = Xxh3Bytes::default();
            for p in parts {
                h.write_usize(p.len());
                h.write(p);
            }
            h.finish()
        };
        assert_ne!(h(&[b"ab"]), h(&[b"ba"]));
        assert_ne!(h(&[b"a", b"b"]), h(&[b"ab"]));
        assert_eq!(h(&[b"ab"]), h(&[b"ab"]));
    }
}
