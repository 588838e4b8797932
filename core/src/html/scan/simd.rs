//! The one place with `unsafe` in the crate: 64 bytes classified at once into bitmasks of the
//! bytes that matter to the tag walker of `fast` (`<`, `>`, the two quotes together, `=`, and
//! what ends a name), bit `k` for byte `k`. On x86_64 with SSE2 (part of its baseline, so there is nothing to detect
//! at run time) that is four 16-byte compares per class; elsewhere the same masks come from
//! eight-byte words (SWAR). A unit test checks that both agree.
#![allow(unsafe_code)]

/// Bitmasks of one 64-byte block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Masks {
    /// `<`
    pub lt: u64,
    /// `>`
    pub gt: u64,
    /// `"` or `'`
    pub quote: u64,
    /// `"`
    pub dq: u64,
    /// `=`
    pub eq: u64,
    /// What ends a tag's or an attribute's name: the blanks (space, tab, LF, FF, CR) and `/`.
    pub sep: u64,
}

/// The masks of `b`.
#[inline(always)]
pub(super) fn classify(b: &[u8; 64]) -> Masks {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        // SAFETY: `sse2` is enabled for the whole build (the cfg above), so the CPU running
        // this has it; `classify_sse2` reads no memory but `b`.
        unsafe { classify_sse2(b) }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        classify_swar(b)
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn classify_sse2(b: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
    };
    let splat = |c: u8| _mm_set1_epi8(c as i8);
    let mut m = Masks::default();
    for (k, c) in b.chunks_exact(16).enumerate() {
        // SAFETY: `c` is 16 bytes long (`chunks_exact`), all that an unaligned load reads.
        let v = unsafe { _mm_loadu_si128(c.as_ptr().cast::<__m128i>()) };
        let bits = |x| ((_mm_movemask_epi8(x) as u32 & 0xffff) as u64) << (16 * k);
        let is = |c: u8| _mm_cmpeq_epi8(v, splat(c));
        // tab, LF, (not VT), FF, CR: 9 to 13 but 11
        let t = _mm_sub_epi8(v, splat(9));
        let ctl = _mm_andnot_si128(is(0x0b), _mm_cmpeq_epi8(_mm_min_epu8(t, splat(4)), t));
        m.lt |= bits(is(b'<'));
        m.gt |= bits(is(b'>'));
        let dq = is(b'"');
        m.quote |= bits(_mm_or_si128(dq, is(b'\'')));
        m.dq |= bits(dq);
        m.eq |= bits(is(b'='));
        m.sep |= bits(_mm_or_si128(_mm_or_si128(is(b' '), is(b'/')), ctl));
    }
    m
}

const LO: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each byte of `w` equal to `c` (exactly: no borrow between bytes).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline]
fn eq_bytes(w: u64, c: u8) -> u64 {
    let x = w ^ (LO * c as u64);
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The high bits of the bytes of `h` gathered into the low eight bits.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline]
fn gather(h: u64) -> u64 {
    ((h >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// [`classify`] eight bytes at a time, with no SIMD instructions.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn classify_swar(b: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (k, c) in b.chunks_exact(8).enumerate() {
        let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
        let bits = |h: u64| gather(h) << (8 * k);
        let blank = [b' ', b'\t', b'\n', 0x0c, b'\r', b'/']
            .iter()
            .fold(0, |h, &c| h | eq_bytes(w, c));
        m.lt |= bits(eq_bytes(w, b'<'));
        m.gt |= bits(eq_bytes(w, b'>'));
        m.quote |= bits(eq_bytes(w, b'"') | eq_bytes(w, b'\''));
        m.dq |= bits(eq_bytes(w, b'"'));
        m.eq |= bits(eq_bytes(w, b'='));
        m.sep |= bits(blank);
    }
    m
}

#[cfg(test)]
#[test]
fn every_way_gives_the_same_masks() {
    let alphabet = b"<>\"'=/ a\x00\xff\xbc\x3d\x3b\x3f\x21\t\n\x0b\x0c\r\x08\x0e\x89";
    let mut r = 0x2545_f491_4f6c_dd1du64;
    for n in 0..100_000 {
        let mut b = [0u8; 64];
        for x in b.iter_mut() {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            *x = if n % 4 == 0 {
                r as u8 // any byte
            } else {
                alphabet[(r >> 20) as usize % alphabet.len()]
            };
        }
        let mut want = Masks::default();
        for (k, &c) in b.iter().enumerate() {
            want.lt |= ((c == b'<') as u64) << k;
            want.gt |= ((c == b'>') as u64) << k;
            want.quote |= ((c == b'"' || c == b'\'') as u64) << k;
            want.dq |= ((c == b'"') as u64) << k;
            want.eq |= ((c == b'=') as u64) << k;
            want.sep |= (b" \t\n\x0c\r/".contains(&c) as u64) << k;
        }
        assert_eq!(classify_swar(&b), want, "{b:?}");
        assert_eq!(classify(&b), want, "{b:?}");
    }
}
