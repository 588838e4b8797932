//! Beacon tokens of the JS-error guard (SPEC §11): an entry page of a version issues a
//! token; the injected script sends it with each uncaught-error report. A report counts
//! for that version only with a token of it issued within [`LIFETIME`] seconds, at most
//! [`MAX_REPORTS`] times per page view (`seq` 1–5), each `(nonce, seq)` once.
//!
//! Token: base64url (no padding, 43 characters) of `dep_id` (8 bytes) | `issued` (4,
//! unix seconds) | `nonce` (8) | HMAC-SHA256 of those 20 bytes, truncated to 12 bytes.
//! All big-endian. The secret is the zone's, random per start of nginx.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{KeyInit, Mac};

/// Seconds a token counts after it was issued.
pub const LIFETIME: u64 = 600;
/// Seconds a token may be ahead of the clock (workers' cached clocks differ a little).
pub const FUTURE_SKEW: u64 = 5;
/// Reports one page view may count.
pub const MAX_REPORTS: u32 = 5;
/// Slots a nonce may occupy in a [`ReplaySlots`] table, from its hash on.
pub const PROBES: usize = 8;
/// Length of a token.
pub const TOKEN_LEN: usize = 43;

const BODY: usize = 20;
const TAG: usize = 12;
const DOMAIN: &[u8] = b"frontend-gray beacon 1\0";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The deployment a token speaks for: a hash of app, deployment and version.
pub fn dep_id(app: &str, deployment: &str, version: &str) -> u64 {
    let mut buf = Vec::with_capacity(24 + app.len() + deployment.len() + version.len());
    for part in [app, deployment, version] {
        buf.extend_from_slice(&(part.len() as u64).to_le_bytes());
        buf.extend_from_slice(part.as_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&buf)
}

fn mac(secret: &[u8; 32], body: &[u8]) -> HmacSha256 {
    // HMAC pads a key shorter than its 64-byte block with zeros: the same MAC as the
    // 32-byte key, with an infallible constructor.
    let mut key = [0u8; 64];
    key[..32].copy_from_slice(secret);
    HmacSha256::new(&key.into())
        .chain_update(DOMAIN)
        .chain_update(body)
}

/// A token for `dep_id` issued at `issued` (unix seconds; kept as 32 bits, good until
/// 2106). `nonce` must be random and not 0 (a 0 nonce never verifies).
pub fn issue(secret: &[u8; 32], dep_id: u64, issued: u64, nonce: u64) -> String {
    let t = issue_into(secret, dep_id, issued, nonce);
    String::from_utf8_lossy(&t).into_owned()
}

/// [`issue`] without allocating: the token's [`TOKEN_LEN`] base64url bytes.
pub fn issue_into(secret: &[u8; 32], dep_id: u64, issued: u64, nonce: u64) -> [u8; TOKEN_LEN] {
    let mut raw = [0u8; BODY + TAG];
    raw[..8].copy_from_slice(&dep_id.to_be_bytes());
    raw[8..12].copy_from_slice(&(issued as u32).to_be_bytes());
    raw[12..20].copy_from_slice(&nonce.to_be_bytes());
    let tag = mac(secret, &raw[..BODY]).finalize().into_bytes();
    raw[BODY..].copy_from_slice(&tag[..TAG]);
    let mut out = [0u8; TOKEN_LEN];
    // 32 bytes encode to exactly TOKEN_LEN characters without padding
    let _ = URL_SAFE_NO_PAD.encode_slice(raw, &mut out);
    out
}

/// What a valid token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub dep_id: u64,
    pub nonce: u64,
    pub issued: u64,
}

/// Why a token counts nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// Not 43 base64url characters, or a 0 nonce.
    Malformed,
    /// Not issued with this secret (forged or altered).
    BadMac,
    /// Issued more than [`LIFETIME`] seconds ago.
    Stale,
    /// Issued more than [`FUTURE_SKEW`] seconds from now.
    Future,
}

/// Checks a token at `now`: the MAC (in constant time), then its age.
pub fn verify(secret: &[u8; 32], token: &str, now: u64) -> Result<Verified, Reject> {
    if token.len() != TOKEN_LEN {
        return Err(Reject::Malformed);
    }
    let mut raw = [0u8; BODY + TAG + 2];
    match URL_SAFE_NO_PAD.decode_slice(token, &mut raw) {
        Ok(n) if n == BODY + TAG => {}
        _ => return Err(Reject::Malformed),
    }
    let word = |r: std::ops::Range<usize>| raw[r].iter().fold(0u64, |a, b| a << 8 | *b as u64);
    let (dep_id, issued, nonce) = (word(0..8), word(8..12), word(12..20));
    if nonce == 0 {
        return Err(Reject::Malformed);
    }
    mac(secret, &raw[..BODY])
        .verify_truncated_left(&raw[BODY..BODY + TAG])
        .map_err(|_| Reject::BadMac)?;
    if issued > now.saturating_add(FUTURE_SKEW) {
        return Err(Reject::Future);
    }
    if now.saturating_sub(issued) > LIFETIME {
        return Err(Reject::Stale);
    }
    Ok(Verified {
        dep_id,
        nonce,
        issued,
    })
}

/// Nonce `n` of a process whose random `seed` is fixed: distinct for distinct `n`
/// (a bijective mix), never 0.
pub fn nonce(seed: u64, n: u64) -> u64 {
    match mix(seed ^ n) {
        0 => 1,
        x => x,
    }
}

/// One slot of a [`ReplaySlots`] table, as it sits in shared memory (zero = empty).
/// `key` is the nonce; `meta` is `issued` (32 bits) | a 27-bit tag of the nonce | the
/// 5 bits of the `seq`s seen, written together so a reader can tell whether the meta
/// belongs to the key it read.
#[repr(C)]
#[derive(Debug, Default)]
pub struct ReplaySlot {
    key: AtomicU64,
    meta: AtomicU64,
}

/// The reports seen, in a fixed table of slots (in shared memory), without a lock.
#[derive(Debug, Clone, Copy)]
pub struct ReplaySlots<'a>(pub &'a [ReplaySlot]);

/// A slot's entry is reusable once its token expired with this margin past
/// [`LIFETIME`] (so that no worker, with its clock a little behind, still marks it).
const GRACE: u64 = 60;
const BITS: u64 = 0x1f;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The meta of `nonce` issued at `issued`, without seq bits.
fn owner(nonce: u64, issued: u64) -> u64 {
    (issued & 0xffff_ffff) << 32 | (mix(nonce) >> 37) << 5
}

impl ReplaySlots<'_> {
    /// Whether report `seq` (1–5) of the page view `nonce` (from a verified token issued
    /// at `issued`) counts: true the first time only. Refused: a 0 nonce, a seq out of
    /// range, an expired token, or no free slot among the nonce's [`PROBES`].
    pub fn accept(&self, nonce: u64, issued: u64, seq: u32, now: u64) -> bool {
        let n = self.0.len();
        if nonce == 0 || !(1..=MAX_REPORTS).contains(&seq) || n == 0 {
            return false;
        }
        if issued > now.saturating_add(FUTURE_SKEW) || now.saturating_sub(issued) > LIFETIME {
            return false;
        }
        let own = owner(nonce, issued);
        let bit = 1u64 << (seq - 1);
        let start = (mix(nonce) % n as u64) as usize;
        let probe = || (0..PROBES.min(n)).map(|i| &self.0[(start + i) % n]);
        if let Some(s) = probe().find(|s| s.key.load(Ordering::Acquire) == nonce) {
            return mark(s, own, bit);
        }
        for s in probe() {
            loop {
                let k = s.key.load(Ordering::Acquire);
                if k == nonce {
                    return mark(s, own, bit);
                }
                if k != 0 && !reusable(s, k, now) {
                    break;
                }
                if s.key
                    .compare_exchange(k, nonce, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    return mark(s, own, bit);
                }
            }
        }
        false
    }
}

/// A slot held by `k` whose meta is `k`'s and long expired. A meta that is not `k`'s is
/// a claim in progress: the slot is live.
fn reusable(s: &ReplaySlot, k: u64, now: u64) -> bool {
    let m = s.meta.load(Ordering::Acquire);
    let issued = m >> 32;
    m & !BITS & 0xffff_ffff == owner(k, 0) && now.saturating_sub(issued) > LIFETIME + GRACE
}

/// Sets `bit` in the slot's meta, first making the meta `own` if it is still the former
/// holder's; true when the bit was not set.
fn mark(s: &ReplaySlot, own: u64, bit: u64) -> bool {
    for _ in 0..64 {
        let m = s.meta.load(Ordering::Acquire);
        let next = if m & !BITS == own {
            if m & bit != 0 {
                return false;
            }
            m | bit
        } else {
            own | bit
        };
        if s.meta
            .compare_exchange(m, next, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return true;
        }
    }
    false
}
