//! The percentage-bucketing user id (`x-higress-uid`): validation, bucketing and generation.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

pub const MAX_UID_LEN: usize = 64;

/// A uid fits in a cookie value and a header unchanged: `[A-Za-z0-9_-]{1,64}`.
pub fn is_valid(uid: &[u8]) -> bool {
    !uid.is_empty()
        && uid.len() <= MAX_UID_LEN
        && uid
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `xxh3_64(uid) % 100` (SPEC §4.5).
pub fn bucket(uid: &[u8]) -> u8 {
    (xxhash_rust::xxh3::xxh3_64(uid) % 100) as u8
}

/// A uid held inline (no allocation): valid ones from the request are copied in.
#[derive(Clone, Copy)]
pub struct Uid {
    buf: [u8; MAX_UID_LEN],
    len: u8,
    /// Generated for this request (not sent by the client).
    pub fresh: bool,
}

impl Uid {
    /// Copies a client-sent uid, if it is valid.
    pub fn from_client(v: &[u8]) -> Option<Uid> {
        if !is_valid(v) {
            return None;
        }
        let mut buf = [0; MAX_UID_LEN];
        buf[..v.len()].copy_from_slice(v);
        Some(Uid {
            buf,
            len: v.len() as u8,
            fresh: false,
        })
    }

    /// A new random id of 32 lower-case hex digits.
    pub fn generate() -> Uid {
        let (a, b) = (random_u64(), random_u64());
        let mut buf = [0; MAX_UID_LEN];
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, byte) in a
            .to_be_bytes()
            .iter()
            .chain(b.to_be_bytes().iter())
            .enumerate()
        {
            buf[2 * i] = HEX[(byte >> 4) as usize];
            buf[2 * i + 1] = HEX[(byte & 15) as usize];
        }
        Uid {
            buf,
            len: 32,
            fresh: true,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    pub fn as_str(&self) -> &str {
        // only ASCII goes in
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

impl std::fmt::Debug for Uid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Uid({:?}, fresh: {})", self.as_str(), self.fresh)
    }
}

/// 64 random bits. The OS-seeded key is mixed with the process id on every call, so nginx
/// workers forked from one master never produce the same sequence, and with a counter, so no
/// two calls in a process collide.
fn random_u64() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| RandomState::new().build_hasher().finish());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(seed);
    h.write_u32(std::process::id());
    h.write_u64(n);
    h.write_u64(t);
    xxhash_rust::xxh3::xxh3_64_with_seed(&h.finish().to_le_bytes(), seed ^ n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        assert!(is_valid(b"abc-DEF_123"));
        assert!(is_valid(&[b'a'; 64]));
        assert!(!is_valid(&[b'a'; 65]));
        assert!(!is_valid(b""));
        for bad in [
            &b"a b"[..],
            b"a;b",
            b"a\r\nSet-Cookie: x",
            b"../x",
            b"\xff",
            b"a=b",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn buckets_are_xxh3_mod_100() {
        // vectors cross-checked with the reference xxh3 implementation
        assert_eq!(bucket(b""), (0x2d06800538d394c2u64 % 100) as u8);
        for u in [&b"user-1"[..], b"abc", b"00000001"] {
            assert_eq!(bucket(u) as u64, xxhash_rust::xxh3::xxh3_64(u) % 100);
        }
    }

    #[test]
    fn generated_uids_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let u = Uid::generate();
            assert!(u.fresh);
            assert_eq!(u.as_bytes().len(), 32);
            assert!(u
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert!(seen.insert(u.as_str().to_owned()));
        }
        // buckets of random uids spread over 0..100
        let hits = (0..10_000)
            .filter(|_| bucket(Uid::generate().as_bytes()) < 30)
            .count();
        assert!((2_500..3_500).contains(&hits), "{hits}");
    }

    #[test]
    fn client_uid() {
        assert_eq!(Uid::from_client(b"abc").unwrap().as_str(), "abc");
        assert!(!Uid::from_client(b"abc").unwrap().fresh);
        assert!(Uid::from_client(b"a;b").is_none());
    }
}
