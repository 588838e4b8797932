//! Beacon tokens and the replay table.

use super::token::*;

const SECRET: [u8; 32] = [7; 32];
const NOW: u64 = 1_800_000_000;

fn table(n: usize) -> Vec<ReplaySlot> {
    (0..n).map(|_| ReplaySlot::default()).collect()
}

#[test]
fn issue_and_verify() {
    let d = dep_id("shop", "beta", "v2");
    assert_ne!(d, dep_id("shop", "beta", "v3"));
    assert_ne!(dep_id("a\0b", "c", "d"), dep_id("a", "b\0c", "d"));
    let t = issue(&SECRET, d, NOW, 42);
    assert_eq!(t.len(), TOKEN_LEN);
    assert!(t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(
        verify(&SECRET, &t, NOW),
        Ok(Verified {
            dep_id: d,
            nonce: 42,
            issued: NOW
        })
    );
    assert!(verify(&SECRET, &t, NOW + LIFETIME).is_ok());
    assert_ne!(issue(&SECRET, d, NOW, 43), t);
}

#[test]
fn mac_is_hmac_sha256_of_the_key() {
    // the zero-padded 64-byte key of `mac` gives the 32-byte key's HMAC
    use hmac::{KeyInit, Mac};
    let t = issue(&SECRET, 1, NOW, 2);
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &t).unwrap();
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(&SECRET).unwrap();
    m.update(b"frontend-gray beacon 1\0");
    m.update(&raw[..20]);
    assert_eq!(&m.finalize().into_bytes()[..12], &raw[20..]);
}

#[test]
fn forged_and_malformed() {
    let t = issue(&SECRET, 1, NOW, 2);
    assert_eq!(verify(&[8; 32], &t, NOW), Err(Reject::BadMac));
    // every altered character is refused
    for i in 0..t.len() {
        let mut b = t.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        let s = String::from_utf8(b).unwrap();
        assert!(verify(&SECRET, &s, NOW).is_err(), "{i}");
    }
    // a token of another deployment keeps its own dep_id: the glue checks it
    let other = issue(&SECRET, 99, NOW, 2);
    assert_eq!(verify(&SECRET, &other, NOW).unwrap().dep_id, 99);
    for s in [
        "",
        "x",
        &t[1..],
        &format!("{t}A"),
        &"!".repeat(43),
        "é".repeat(21).as_str(),
    ] {
        assert_eq!(verify(&SECRET, s, NOW), Err(Reject::Malformed), "{s}");
    }
    assert_eq!(
        verify(&SECRET, &issue(&SECRET, 1, NOW, 0), NOW),
        Err(Reject::Malformed)
    );
}

#[test]
fn stale_and_future() {
    let t = issue(&SECRET, 1, NOW, 2);
    assert_eq!(verify(&SECRET, &t, NOW + LIFETIME + 1), Err(Reject::Stale));
    assert!(verify(&SECRET, &t, NOW - FUTURE_SKEW).is_ok());
    assert_eq!(
        verify(&SECRET, &t, NOW - FUTURE_SKEW - 1),
        Err(Reject::Future)
    );
    assert_eq!(verify(&SECRET, &t, 0), Err(Reject::Future));
}

#[test]
fn each_seq_once_at_most_five() {
    let t = table(64);
    let r = ReplaySlots(&t);
    for seq in 1..=MAX_REPORTS {
        assert!(r.accept(42, NOW, seq, NOW + 1), "{seq}");
        assert!(!r.accept(42, NOW, seq, NOW + 2), "replayed {seq}");
    }
    assert!(!r.accept(42, NOW, 6, NOW + 1), "6th report");
    assert!(!r.accept(42, NOW, 0, NOW + 1));
    assert!(!r.accept(0, NOW, 1, NOW + 1), "nonce 0");
    assert!(r.accept(43, NOW, 1, NOW + 1), "another page view");
    assert!(!r.accept(44, NOW, 1, NOW + LIFETIME + 1), "stale");
    assert!(!r.accept(44, NOW + 10, 1, NOW), "future");
    assert!(!ReplaySlots(&[]).accept(1, NOW, 1, NOW));
}

#[test]
fn full_table_then_expiry_reuse() {
    let t = table(PROBES);
    let r = ReplaySlots(&t);
    for n in 1..=PROBES as u64 {
        assert!(r.accept(n, NOW, 1, NOW));
    }
    assert!(!r.accept(1000, NOW, 1, NOW), "full of live entries");
    // the known ones still answer
    assert!(!r.accept(3, NOW, 1, NOW + 1));
    assert!(r.accept(3, NOW, 2, NOW + 1));
    // entries of expired tokens are reused once past the grace
    let later = NOW + LIFETIME + 100;
    assert!(r.accept(1000, later - 10, 1, later));
    assert!(!r.accept(1000, later - 10, 1, later));
    assert!(r.accept(1000, later - 10, 2, later));
    assert!(r.accept(1001, later, 5, later));
}

#[test]
fn reuse_keeps_nothing_of_the_former_holder() {
    let t = table(1);
    let r = ReplaySlots(&t);
    for seq in 1..=5 {
        assert!(r.accept(7, NOW, seq, NOW));
    }
    let later = NOW + 2 * LIFETIME;
    for seq in 1..=5 {
        assert!(r.accept(8, later, seq, later), "{seq}");
    }
}

#[test]
fn concurrent_reports_count_once() {
    let t = table(4096);
    let r = ReplaySlots(&t);
    let wins = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|sc| {
        for i in 0..8u64 {
            let (r, wins) = (&r, &wins);
            sc.spawn(move || {
                for k in 0..200u64 {
                    // each thread starts elsewhere and half go backwards
                    let j = (k + i * 25) % 200;
                    let nonce = 1 + if i % 2 == 0 { j } else { 199 - j };
                    for seq in 1..=5 {
                        if r.accept(nonce, NOW, seq, NOW) {
                            wins.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    assert_eq!(wins.into_inner(), 200 * 5);
}

#[test]
fn load_factor() {
    // a quarter full, every page view finds a slot; near full, some do not (they count
    // nothing: never more than allowed)
    let t = table(1024);
    let r = ReplaySlots(&t);
    assert_eq!(
        (1..=256u64).filter(|n| r.accept(*n, NOW, 1, NOW)).count(),
        256
    );
    let t = table(256);
    let r = ReplaySlots(&t);
    let n = (1..=256u64).filter(|n| r.accept(*n, NOW, 1, NOW)).count();
    assert!(n < 256 && n > 128, "{n}");
}
