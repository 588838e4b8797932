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

/// What tells this process's uids apart from those of the other processes forked from the
/// same parent (0: not set, then the process id is asked on every call).
static PROCESS: AtomicU64 = AtomicU64::new(0);

/// To be called once in each new process that makes uids (nginx's worker start): the process
/// id and a fresh OS-seeded key, so that `random_u64` needs no system call.
pub fn set_process(pid: u32) {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(pid);
    PROCESS.store(h.finish() | 1, Ordering::Relaxed);
}

/// 64 random bits. The OS-seeded key is mixed with the process (see [`set_process`]), so
/// nginx workers forked from one master never produce the same sequence, and with a counter,
/// so no two calls in a process collide.
fn random_u64() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| RandomState::new().build_hasher().finish());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let process = match PROCESS.load(Ordering::Relaxed) {
        0 => u64::from(std::process::id()),
        p => p,
    };
    // distinct inputs (the counter) under a secret key: one short hash, no allocation
    let mut input = [0u8; 24];
    input[..8].copy_from_slice(&n.to_le_bytes());
    input[8..16].copy_from_slice(&process.to_le_bytes());
    input[16..].copy_from_slice(&t.to_le_bytes());
    xxhash_rust::xxh3::xxh3_64_with_seed(&input, seed)
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

    /// Every byte value, alone and in the middle of a good uid: exactly `[A-Za-z0-9_-]` pass.
    #[test]
    fn validity_over_every_byte() {
        for b in 0..=255u8 {
            let want = matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-');
            assert_eq!(is_valid(&[b]), want, "byte {b:#04x} alone");
            assert_eq!(is_valid(&[b'a', b, b'z']), want, "byte {b:#04x} inside");
            assert_eq!(is_valid(&[b; 64]), want, "64 x byte {b:#04x}");
            assert_eq!(
                Uid::from_client(&[b'x', b]).is_some(),
                want,
                "from_client {b:#04x}"
            );
        }
    }

    #[test]
    fn buckets_are_xxh3_mod_100() {
        // (input, xxh3_64, bucket) from the reference xxHash C library (Python's `xxhash`
        // 4.1.0 binding, libxxhash 0.8.4), not from this crate's dependency: lengths cover
        // each of xxh3's input-size code paths (0, 1-3, 4-8, 9-16, 17-128, 129-240, >240)
        const PAT: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_";
        let pat: std::vec::Vec<u8> = PAT.iter().copied().cycle().take(300).collect();
        for (n, h, b) in [
            (0usize, 0x2d06800538d394c2u64, 38u8),
            (1, 0xe6c632b61e964e1f, 19),
            (3, 0x78af5f94892f3950, 4),
            (4, 0x6497a96f53a89890, 88),
            (8, 0x6f45a76842a96483, 7),
            (9, 0xe0dde4fc174590a0, 36),
            (16, 0x3d3ccac9af14d8a8, 88),
            (17, 0xca7f3571df47cacf, 3),
            (64, 0xfde56fcff908cea4, 12),
            (128, 0xdf36ece7208758f2, 6),
            (129, 0x6194dc1435d94fc8, 4),
            (240, 0x6d68cb526c73f9a5, 25),
            (241, 0xf7a9d6d816db8aca, 22),
            (300, 0xe913587a286bde54, 60),
        ] {
            assert_eq!(h % 100, b as u64);
            assert_eq!(xxhash_rust::xxh3::xxh3_64(&pat[..n]), h, "length {n}");
            assert_eq!(bucket(&pat[..n]), b, "length {n}");
        }
        // the uids of tests/t/002-decision.t TEST 5
        for (u, b) in [
            (&b"user2"[..], 11u8),
            (b"user5", 18),
            (b"user4", 20),
            (b"user3", 46),
            (b"user1", 56),
            (b"user8", 98),
            (b"00000001", 75),
            (b"0123456789abcdef0123456789abcdef", 9),
        ] {
            assert_eq!(bucket(u), b, "{u:?}");
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
