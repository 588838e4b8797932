//! The one place with `unsafe` in the crate: 64 bytes classified at once into bitmasks of the
//! bytes that matter to the tag walker of `fast` (`<`, `>`, the two quotes together, `=`,
//! what ends a name, `/`, and the letters, those that begin a name that matters apart), bit
//! `k` for byte `k`; and [`find`], the search for `{version}`. Four ways ([`Way`]): with
//! AVX-512BW a compare to a mask register per byte class and two nibble lookups for the
//! letters and blanks, with AVX2 two 32-byte compares per class, with SSE2 (the x86_64
//! baseline) four 16-byte ones, elsewhere eight-byte words (SWAR). The fastest the CPU has is
//! detected once ([`Way::best`]) and each SIMD way has its own copy of the whole walk
//! compiled for its instructions (`walk_avx512`, `walk_avx2`), so that the classification
//! inlines and the detection costs nothing per window. A unit test checks that every way the
//! CPU can go gives the same masks; the walker's tests go each way too.
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
    /// `/`
    pub slash: u64,
    /// ASCII letters.
    pub letter: u64,
    /// The letters that begin the names of start tags that matter (`stxinpm`, either case).
    pub open1: u64,
    /// The letters that begin the names of end tags that matter (`bt`, either case).
    pub close1: u64,
}

/// The letters of [`Masks::open1`] and [`Masks::close1`], lower case.
const OPEN1: &[u8; 7] = b"stxinpm";
const CLOSE1: &[u8; 2] = b"bt";

/// A way to classify 64 bytes, as a value that exists only where the CPU can run it (see
/// [`Way::ready`]): `fast::walk` is generic over it, so that each way's classification
/// inlines into a copy of the whole walk compiled for its instructions.
pub(super) trait Classify: Copy {
    /// The masks of `b`.
    fn classify(self, b: &[u8; 64]) -> Masks;
}

/// The ways there are, for the tests to force each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Way {
    /// Eight-byte words, no SIMD instructions: everywhere.
    Swar,
    /// Four 16-byte compares per class: the x86_64 baseline.
    Sse2,
    /// Two 32-byte compares per class, detected at run time.
    Avx2,
    /// One 64-byte compare to a mask register per class, detected at run time.
    Avx512,
}

/// [`Way::Swar`].
#[derive(Clone, Copy)]
pub(super) struct Swar;

impl Classify for Swar {
    #[inline(always)]
    fn classify(self, b: &[u8; 64]) -> Masks {
        classify_swar(b)
    }
}

/// [`Way::Sse2`]: made only by [`Way::ready`], on x86_64 (where SSE2 is in the baseline).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Sse2(());

#[cfg(target_arch = "x86_64")]
impl Classify for Sse2 {
    #[inline(always)]
    fn classify(self, b: &[u8; 64]) -> Masks {
        // SAFETY: an `Sse2` exists only where the CPU has SSE2 (`Way::ready`: it is in the
        // x86_64 baseline); `classify_sse2` reads no memory but `b`.
        unsafe { classify_sse2(b) }
    }
}

/// [`Way::Avx2`]: made only by [`Way::ready`], when the CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Classify for Avx2 {
    #[inline(always)]
    fn classify(self, b: &[u8; 64]) -> Masks {
        // SAFETY: an `Avx2` exists only where the CPU has AVX2 (`Way::ready` detected it);
        // `classify_avx2` reads no memory but `b`.
        unsafe { classify_avx2(b) }
    }
}

/// [`Way::Avx512`]: made only by [`Way::ready`], when the CPU has AVX-512F and BW.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx512(());

#[cfg(target_arch = "x86_64")]
impl Classify for Avx512 {
    #[inline(always)]
    fn classify(self, b: &[u8; 64]) -> Masks {
        // SAFETY: an `Avx512` exists only where the CPU has AVX-512F and BW (`Way::ready`
        // detected them); `classify_avx512` reads no memory but `b`.
        unsafe { classify_avx512(b) }
    }
}

/// The instructions, besides the way's own, that its copy of the walk is compiled with
/// (bit scans and resets on the masks).
#[cfg(target_arch = "x86_64")]
fn bmi() -> bool {
    std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("bmi2")
        && std::arch::is_x86_feature_detected!("lzcnt")
        && std::arch::is_x86_feature_detected!("popcnt")
}

impl Way {
    /// Whether the CPU running this can go this way.
    pub(super) fn ready(self) -> bool {
        match self {
            Way::Swar => true,
            #[cfg(target_arch = "x86_64")]
            Way::Sse2 => true,
            #[cfg(target_arch = "x86_64")]
            Way::Avx2 => std::arch::is_x86_feature_detected!("avx2") && bmi(),
            #[cfg(target_arch = "x86_64")]
            Way::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && bmi()
            }
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The fastest way the CPU can go, found once.
    pub(super) fn best() -> Way {
        use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
        const WAYS: [Way; 4] = [Way::Avx512, Way::Avx2, Way::Sse2, Way::Swar];
        static BEST: AtomicU8 = AtomicU8::new(u8::MAX);
        match BEST.load(Relaxed) {
            k if (k as usize) < WAYS.len() => WAYS[k as usize],
            _ => {
                let k = WAYS
                    .iter()
                    .position(|w| w.ready())
                    .unwrap_or(WAYS.len() - 1);
                BEST.store(k as u8, Relaxed);
                WAYS[k]
            }
        }
    }

    /// `fast::walk` this way, `None` if the CPU cannot go it.
    #[inline]
    pub(super) fn skip_inert(self, d: &[u8], i: usize) -> Option<usize> {
        if !self.ready() {
            return None;
        }
        Some(match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `ready`: the CPU has AVX-512F and BW, AVX2, BMI1, BMI2, LZCNT, POPCNT,
            // all that `walk_avx512` is compiled for; the token is made only here.
            Way::Avx512 => unsafe { walk_avx512(Avx512(()), d, i) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2 and the bit instructions.
            Way::Avx2 => unsafe { walk_avx2(Avx2(()), d, i) },
            #[cfg(target_arch = "x86_64")]
            Way::Sse2 => super::fast::walk(Sse2(()), d, i),
            _ => super::fast::walk(Swar, d, i),
        })
    }
}

/// The first place of `needle` (two bytes or more) in `hay`, as `finder` (made for it) finds
/// it: with AVX-512BW, 64 places at a time by the needle's first and last bytes, each that has
/// both checked whole (a `memmem` takes 32 at a time); the rest of `hay` with `finder`.
pub(crate) fn find(
    hay: &[u8],
    needle: &[u8],
    finder: &memchr::memmem::Finder<'_>,
) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if needle.len() >= 2 && Way::best() == Way::Avx512 {
        // SAFETY: `Way::best` found that the CPU has AVX-512F and BW.
        let (found, from) = unsafe { find_avx512(hay, needle) };
        return found.or_else(|| finder.find(&hay[from..]).map(|k| from + k));
    }
    finder.find(hay)
}

/// [`find`] with AVX-512: the place of `needle` (two bytes or more) if it begins before the
/// offset returned, which is where the blocks end (`needle` is not at any offset before it).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,bmi1")]
fn find_avx512(hay: &[u8], needle: &[u8]) -> (Option<usize>, usize) {
    use std::arch::x86_64::{
        __m512i, _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_set1_epi8,
    };
    let last = needle.len() - 1;
    let (first_b, last_b) = (
        _mm512_set1_epi8(needle[0] as i8),
        _mm512_set1_epi8(needle[last] as i8),
    );
    let mut i = 0;
    // two blocks at a time, the places of both looked at only when there are some
    while let Some(block) = hay.get(i..i + last + 128) {
        // SAFETY: `block` holds the 128 bytes from 0 and the 128 from `last`.
        let (a0, a1, b0, b1) = unsafe {
            let p = block.as_ptr();
            (
                _mm512_loadu_si512(p.cast::<__m512i>()),
                _mm512_loadu_si512(p.add(64).cast::<__m512i>()),
                _mm512_loadu_si512(p.add(last).cast::<__m512i>()),
                _mm512_loadu_si512(p.add(last + 64).cast::<__m512i>()),
            )
        };
        let k0 = _mm512_cmpeq_epi8_mask(a0, first_b) & _mm512_cmpeq_epi8_mask(b0, last_b);
        let k1 = _mm512_cmpeq_epi8_mask(a1, first_b) & _mm512_cmpeq_epi8_mask(b1, last_b);
        if k0 | k1 != 0 {
            for (at, mut k) in [(0, k0), (64, k1)] {
                while k != 0 {
                    let j = at + k.trailing_zeros() as usize;
                    if block.get(j..j + needle.len()) == Some(needle) {
                        return (Some(i + j), i);
                    }
                    k &= k - 1;
                }
            }
        }
        i += 128;
    }
    (None, i)
}

/// [`find`] gives what `memmem` gives, at every offset around the blocks, of needles whose
/// first and last bytes are frequent in the haystack.
#[cfg(test)]
#[test]
fn find_is_memmem() {
    let mut r = crate::test_rng::Rng(0x9e37_79b9_7f4a_7c15);
    let bits: [&[u8]; 6] = [b"{", b"}", b"{version}", b"{versio}", b"version", b"x"];
    for needle in [&b"{version}"[..], b"{}", b"{v}"] {
        let finder = memchr::memmem::Finder::new(needle);
        for _ in 0..20_000 {
            let mut hay = Vec::new();
            let len = (r.next() % 300) as usize;
            while hay.len() < len {
                hay.extend_from_slice(bits[(r.next() % 6) as usize]);
            }
            for from in 0..hay.len().min(70) {
                let h = &hay[from..];
                assert_eq!(find(h, needle, &finder), finder.find(h), "{h:?}");
            }
        }
    }
}

/// `fast::walk` with AVX-512 classification, compiled for it (and its masks scanned with
/// BMI), so that the classification inlines.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx2,bmi1,bmi2,lzcnt,popcnt")]
fn walk_avx512(t: Avx512, d: &[u8], i: usize) -> usize {
    super::fast::walk(t, d, i)
}

/// `fast::walk` with AVX2 classification, compiled for it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,lzcnt,popcnt")]
fn walk_avx2(t: Avx2, d: &[u8], i: usize) -> usize {
    super::fast::walk(t, d, i)
}

/// Class bits of a byte looked up by its two nibbles (`NIBBLE_HI[b >> 4] & NIBBLE_LO[b & 15]`),
/// for the classes that would take several compares each: the letters, those of [`OPEN1`]
/// and those of [`CLOSE1`] (two bits each: `A`–`O` and `P`–`Z`, in either case), the blanks
/// below the space, and the space.
const LETTER: u8 = 0b11;
const OPEN: u8 = 0b1100;
const CLOSE: u8 = 0b11_0000;
const CTL: u8 = 0b0100_0000;
const SPACE: u8 = 0b1000_0000;
const BLANK: u8 = CTL | SPACE;
const NIBBLE_HI: [u8; 16] = nibbles().0;
const NIBBLE_LO: [u8; 16] = nibbles().1;

/// The nibble tables: each ASCII byte puts its bits in the row of its high nibble and in that
/// of its low one, so that a bit's class is every pairing of its bytes' high and low nibbles.
/// For the classes above that is the class itself (each half of the alphabet, in either
/// case, is one or two rows of high nibbles times one set of low ones; the masks test checks
/// it); a byte of 128 or more has no bits.
const fn nibbles() -> ([u8; 16], [u8; 16]) {
    const fn has(s: &[u8], c: u8) -> bool {
        let mut k = 0;
        while k < s.len() {
            if s[k] == c {
                return true;
            }
            k += 1;
        }
        false
    }
    let (mut hi, mut lo) = ([0u8; 16], [0u8; 16]);
    let mut c = 0u8;
    while c < 128 {
        let l = c | 0x20;
        let mut bits = 0;
        if l.is_ascii_lowercase() {
            // the low bit of each pair for `a`–`o`, the high one for `p`–`z`
            let half = (l > b'o') as u32;
            bits |= (LETTER & 0b01_0101) << half;
            if has(OPEN1, l) {
                bits |= (OPEN & 0b01_0101) << half;
            }
            if has(CLOSE1, l) {
                bits |= (CLOSE & 0b01_0101) << half;
            }
        }
        if matches!(c, b'\t' | b'\n' | 0x0c | b'\r') {
            bits |= CTL;
        }
        if c == b' ' {
            bits |= SPACE;
        }
        hi[(c >> 4) as usize] |= bits;
        lo[(c & 15) as usize] |= bits;
        c += 1;
    }
    (hi, lo)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
#[inline]
fn classify_avx512(b: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m512i, _mm512_and_si512, _mm512_broadcast_i32x4, _mm512_cmpeq_epi8_mask,
        _mm512_loadu_si512, _mm512_set1_epi8, _mm512_shuffle_epi8, _mm512_srli_epi16,
        _mm512_test_epi8_mask, _mm_loadu_si128,
    };
    // SAFETY: `b` is 64 bytes long, all that an unaligned load reads; the tables 16.
    let (v, hi_t, lo_t) = unsafe {
        (
            _mm512_loadu_si512(b.as_ptr().cast::<__m512i>()),
            _mm512_broadcast_i32x4(_mm_loadu_si128(NIBBLE_HI.as_ptr().cast())),
            _mm512_broadcast_i32x4(_mm_loadu_si128(NIBBLE_LO.as_ptr().cast())),
        )
    };
    macro_rules! is {
        ($c:expr) => {
            _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8($c as i8))
        };
    }
    let low4 = _mm512_set1_epi8(0x0f);
    let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), low4);
    let bits = _mm512_and_si512(
        _mm512_shuffle_epi8(hi_t, hi),
        _mm512_shuffle_epi8(lo_t, _mm512_and_si512(v, low4)),
    );
    let has = |c: u8| _mm512_test_epi8_mask(bits, _mm512_set1_epi8(c as i8));
    let dq = is!(b'"');
    let slash = is!(b'/');
    Masks {
        lt: is!(b'<'),
        gt: is!(b'>'),
        quote: dq | is!(b'\''),
        dq,
        eq: is!(b'='),
        sep: has(BLANK) | slash,
        slash,
        letter: has(LETTER),
        open1: has(OPEN),
        close1: has(CLOSE),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn classify_avx2(b: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_andnot_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_setzero_si256,
        _mm256_sub_epi8,
    };
    let mut m = Masks::default();
    for (k, c) in b.chunks_exact(32).enumerate() {
        // SAFETY: `c` is 32 bytes long (`chunks_exact`), all that an unaligned load reads.
        let v = unsafe { _mm256_loadu_si256(c.as_ptr().cast::<__m256i>()) };
        macro_rules! bits {
            ($x:expr) => {
                ((_mm256_movemask_epi8($x) as u32) as u64) << (32 * k)
            };
        }
        macro_rules! is {
            ($c:expr) => {
                _mm256_cmpeq_epi8(v, _mm256_set1_epi8($c as i8))
            };
        }
        let t = _mm256_sub_epi8(v, _mm256_set1_epi8(9));
        let ctl = _mm256_andnot_si256(
            is!(0x0b),
            _mm256_cmpeq_epi8(_mm256_min_epu8(t, _mm256_set1_epi8(4)), t),
        );
        m.lt |= bits!(is!(b'<'));
        m.gt |= bits!(is!(b'>'));
        let dq = is!(b'"');
        m.quote |= bits!(_mm256_or_si256(dq, is!(b'\'')));
        m.dq |= bits!(dq);
        m.eq |= bits!(is!(b'='));
        let slash = is!(b'/');
        m.sep |= bits!(_mm256_or_si256(_mm256_or_si256(is!(b' '), slash), ctl));
        m.slash |= bits!(slash);
        let lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
        let t = _mm256_sub_epi8(lower, _mm256_set1_epi8(b'a' as i8));
        m.letter |= bits!(_mm256_cmpeq_epi8(
            _mm256_min_epu8(t, _mm256_set1_epi8(25)),
            t
        ));
        let any = |s: &[u8]| {
            s.iter().fold(_mm256_setzero_si256(), |m, &c| {
                _mm256_or_si256(m, _mm256_cmpeq_epi8(lower, _mm256_set1_epi8(c as i8)))
            })
        };
        m.open1 |= bits!(any(OPEN1));
        m.close1 |= bits!(any(CLOSE1));
    }
    m
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn classify_sse2(b: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_setzero_si128, _mm_sub_epi8,
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
        let slash = is(b'/');
        m.sep |= bits(_mm_or_si128(_mm_or_si128(is(b' '), slash), ctl));
        m.slash |= bits(slash);
        let lower = _mm_or_si128(v, splat(0x20));
        let t = _mm_sub_epi8(lower, splat(b'a'));
        m.letter |= bits(_mm_cmpeq_epi8(_mm_min_epu8(t, splat(25)), t));
        let any = |s: &[u8]| {
            s.iter().fold(_mm_setzero_si128(), |m, &c| {
                _mm_or_si128(m, _mm_cmpeq_epi8(lower, splat(c)))
            })
        };
        m.open1 |= bits(any(OPEN1));
        m.close1 |= bits(any(CLOSE1));
    }
    m
}

const LO: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of each byte of `w` equal to `c` (exactly: no borrow between bytes).
#[inline]
fn eq_bytes(w: u64, c: u8) -> u64 {
    let x = w ^ (LO * c as u64);
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// The high bit of each byte of `x` (its case bit set) from `a` to `z`, exactly: the low
/// seven bits of each plus at most `0x1f` do not carry into the next byte.
#[inline]
fn letters(x: u64) -> u64 {
    let low = x & LOW7;
    let from_a = low + LO * (0x80 - b'a' as u64);
    let past_z = low + LO * (0x80 - b'z' as u64 - 1);
    from_a & !past_z & !x & !LOW7
}

/// The high bits of the bytes of `h` gathered into the low eight bits.
#[inline]
fn gather(h: u64) -> u64 {
    ((h >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// [`Classify::classify`] eight bytes at a time, with no SIMD instructions.
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
        m.slash |= bits(eq_bytes(w, b'/'));
        let lower = w | (LO * 0x20);
        m.letter |= bits(letters(lower));
        let any = |s: &[u8]| s.iter().fold(0, |h, &c| h | eq_bytes(lower, c));
        m.open1 |= bits(any(OPEN1));
        m.close1 |= bits(any(CLOSE1));
    }
    m
}

#[cfg(test)]
impl Way {
    /// Every way, the CPU able to go it or not.
    pub(super) const ALL: [Way; 4] = [Way::Swar, Way::Sse2, Way::Avx2, Way::Avx512];

    /// The masks of `b` this way, `None` if the CPU cannot go it.
    fn classify(self, b: &[u8; 64]) -> Option<Masks> {
        if !self.ready() {
            return None;
        }
        Some(match self {
            #[cfg(target_arch = "x86_64")]
            Way::Avx512 => Avx512(()).classify(b),
            #[cfg(target_arch = "x86_64")]
            Way::Avx2 => Avx2(()).classify(b),
            #[cfg(target_arch = "x86_64")]
            Way::Sse2 => Sse2(()).classify(b),
            _ => Swar.classify(b),
        })
    }
}

/// Each way the CPU can go gives the masks byte by byte comparison gives, on random and on
/// adversarial windows (the bytes around each class, the ends of the blank range, high bits).
#[cfg(test)]
#[test]
fn every_way_gives_the_same_masks() {
    #[cfg(target_arch = "x86_64")]
    {
        // on the machine the tests run on, all of them are exercised
        assert!(Way::Sse2.ready());
    }
    let alphabet = b"<>\"'=/ aAsStTxXiInNpPmMbBzZ@[`{\x53\x73\xd3\xf3\x00\xff\xbc\x3d\x3b\x3f\x21\t\n\x0b\x0c\r\x08\x0e\x89";
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
            want.slash |= ((c == b'/') as u64) << k;
            want.letter |= (c.is_ascii_alphabetic() as u64) << k;
            let l = c.to_ascii_lowercase();
            want.open1 |= ((c.is_ascii_alphabetic() && OPEN1.contains(&l)) as u64) << k;
            want.close1 |= ((c.is_ascii_alphabetic() && CLOSE1.contains(&l)) as u64) << k;
        }
        assert_eq!(classify_swar(&b), want, "{b:?}");
        for way in Way::ALL {
            if let Some(m) = way.classify(&b) {
                assert_eq!(m, want, "{way:?} {b:?}");
            }
        }
    }
}
