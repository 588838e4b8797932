//! `skip_inert` a block at a time: the walk over the tags of a body that change nothing, on
//! bitmasks of 64-byte windows (`simd::classify`) instead of byte by byte.
//!
//! # Figures
//!
//! `cargo run --release --example rewrite_speed -p frontend-gray-core -- MODE` on a 2-core VM
//! with AVX-512 whose speed changes by up to a factor of two from one minute to the next (the
//! same binary gave 1364 and 2250 MB/s for `ssr` within the hour), so two builds are compared
//! in alternating runs, and the medians are what counts:
//!
//! | mode      | before these changes (median / best) | now (median / best) |
//! |-----------|--------------------------------------|---------------------|
//! | `ssr`     | 1642 / 1651 MB/s                     | 2223 / 2250 MB/s    |
//! | default   | 698 / 739 MB/s                       | 1028 / 1098 MB/s    |
//!
//! (7 alternating runs each; in an earlier, faster quarter of an hour `ssr` gave 2881 MB/s at
//! best.) On that machine the 2.5 GB/s aimed at for `ssr` is reached only in its fast spells.
//! On another of the same 2-core kind, an AMD EPYC with AVX-512 (the same code, each way
//! forced in turn by a throwaway build, alternating runs, no other load):
//!
//! | way     | `ssr`           | default         |
//! |---------|-----------------|-----------------|
//! | AVX-512 | 6561–7228 MB/s  | 1962–2786 MB/s  |
//! | AVX2    | 5301–5462 MB/s  |                 |
//! | SSE2    | 3220–3302 MB/s  |                 |
//!
//! (AVX-512 `ssr`: 3598–3686 MB/s while a build ran on both cores.) What made the difference
//! on the first machine, each measured the same way:
//!
//! - The usual window (its tags in the usual shapes, the last maybe going on past it) is
//!   decided in one pass: its next start comes from its last `<` and `>` alone (a guess the
//!   layout then confirms), the layout's tags from its `<` and `>` at once when they alternate
//!   (`Layout::of::<true>`), and its masks are not kept for the rare window, which classifies
//!   again (no spills). On the cards of `ssr` every window is a usual one.
//! - The classification of letters, first letters and blanks by two nibble lookups
//!   (`simd::classify_avx512`) instead of a compare per letter: +20 %.
//! - `{version}` searched 128 bytes at a time (`simd::find`): +70 % for the replacer alone.
//!
//! perf (`-e cpu-clock`, `ssr`): the walk ~83 % of the time, the `{version}` search ~8 %. Tried
//! and dropped: the next start from the `<` and `>` of aligned blocks (so that no load waits
//! for the previous window): slower (median 1223 against 1418 MB/s on the cards). With fixed
//! 64-byte steps and the same work per window, the walk is no faster than this one (1923
//! against 1798 MB/s, within the noise): what is left is the work of each window (~160
//! instructions, half of them the layout), not the wait between windows.
//!
//!
//! # How
//!
//! A window is the 64 bytes from where the walk stands, in text. Its tags and their quoted
//! values are found for all of them at once, assuming the usual shapes ([`Layout`]): a value
//! is a quote right after `=` up to the next quote, and the `<` and `>` inside values are
//! dropped; of the others, the `<` that begins a tag is the first of a run of `<` (the rest
//! are inside the tag), its `>` the first of the run of `>` that follows ([`runs`]: a carry
//! through the bytes in between). Then what would break the assumptions is looked for, again
//! for the whole window ([`Layout::odd`]): a quote in a tag that is neither end of a value, a
//! `=` in a tag that does not open one, a value outside a tag, or one whose `=` does not
//! follow an attribute's name (the tag's name must have ended before it: a `<a="x">` is
//! all name). Everything before the first such place is what the tokenizer reads, so the
//! tags there are checked by their first letters (and their names, for the few letters that
//! begin a name that matters) as the bytewise walk does; the tag holding the odd place, if
//! any, goes to the state machine, and the walk goes on after it. A tag that does not fit in
//! the window is looked at again from a window that begins at its `<` (and with
//! [`tag::end`] if it does not fit in that one either). The last 64 bytes go to the bytewise
//! walk.
//!
//! The result is always that of the bytewise walk (`skip_inert_bytewise`), which the tests
//! check on random markup at every offset around the window boundaries.

use super::simd::{Classify, Masks, Swar, Way};
use super::tree::Name;
use super::{name_len, skip_inert_bytewise, tag, tag_name, LOOKAHEAD};

/// Bytes classified at once.
const W: usize = 64;

/// Offsets `from` and above.
#[inline]
fn above(from: usize) -> u64 {
    !0u64 << from
}

/// Offsets below `to` (`to < 64`).
#[inline]
fn below(to: usize) -> u64 {
    !(!0u64 << to)
}

/// Offsets up to `to`, included.
#[inline]
fn upto(to: usize) -> u64 {
    !((!0u64 << to) << 1)
}

/// For each bit of `after`, the first bit of `stop` at or after it (where a carry through the
/// bits of neither ends).
#[inline]
fn first_stop(after: u64, stop: u64) -> u64 {
    let gap = !stop;
    (gap.wrapping_add(after & gap) & stop) | (after & stop)
}

/// The tags of `lt` and `gt` (the `<` and `>` outside quoted values, from offset `from` on,
/// which is in text): the `<` that begins each, and its `>`. Each is the first of its kind
/// after one of the other kind.
#[inline]
fn runs(lt: u64, gt: u64, from: usize) -> (u64, u64) {
    let both = lt | gt;
    let starts = first_stop(gt << 1 | 1 << from, both) & lt;
    let ends = first_stop(lt << 1, both) & gt;
    (starts, ends)
}

/// A window's tags and quoted values from an offset on, as far as they have usual shapes.
struct Layout {
    /// The `<` of each tag.
    starts: u64,
    /// The offsets inside tags, from the `<` to before the `>` (to the end of the window for
    /// a tag that ends later).
    inside: u64,
    /// The places where the shapes are not the usual ones (only the first of them matters).
    odd: u64,
}

impl Layout {
    /// From offset `from` on; `USUAL`: from 0, and only whether the window is the usual one
    /// matters (when its `<` and `>` do not alternate, the first place is odd).
    #[inline]
    fn of<const USUAL: bool>(m: &Masks, from: usize) -> Layout {
        let keep = above(from);
        let (quote, eq) = (m.quote & keep, m.eq & keep);
        let (dq, sq) = (quote & m.dq, quote & !m.dq);
        // values: from a quote right after `=` to the next quote of its kind
        let open = quote & (eq << 1);
        let (open_dq, open_sq) = (open & dq, open & sq);
        let (close_dq, close_sq) = (first_stop(open_dq << 1, dq), first_stop(open_sq << 1, sq));
        let close = close_dq | close_sq;
        // [open, close) of each, and to the end for one that does not close in the window
        let (value_dq, value_sq) = (
            close_dq.wrapping_sub(open_dq),
            close_sq.wrapping_sub(open_sq),
        );
        let value = value_dq | value_sq;
        let (lt, gt) = (m.lt & keep & !value, m.gt & keep & !value);
        let (starts, inside, alternate) = if USUAL {
            // the usual window: each `<` followed by a `>` before the next `<` (but maybe
            // the last), the span from each `<` to its `>` at once, and whether they do
            let inside = gt.wrapping_sub(lt);
            (lt, inside, inside & lt == lt && inside & gt == 0)
        } else {
            let (starts, ends) = runs(lt, gt, from);
            (starts, ends.wrapping_sub(starts), true)
        };
        let name = !(m.sep | m.lt | m.gt | m.quote | m.eq);
        let odd = (!alternate as u64) // any place: as odd as the first
            | (inside & 1 << 63) // a tag that goes on after the window
            | (open & close) // `"…="`: a quote ending a value is no opening one
            // a quote after `=` inside a value of the other kind opens nothing (`"a='b'"`)
            | (open_sq & value_dq)
            | (open_dq & value_sq)
            | (quote & inside & !(value | close)) // `<a b'c>`
            | (eq & inside & !value & !(open >> 1)) // `a=b`, `a= "b"`, `<a=b>`
            | (open & !inside) // `x="` in text
            | (open & !(name << 2)) // `<a ="b">`
            // a value before the tag's name has ended (from after its first letter):
            // `<a="b">`, or after a `/` of `</a="b">`
            | (first_stop(starts << 2, m.sep | open) & open);
        Layout {
            starts,
            inside,
            odd,
        }
    }

    /// The offset of the tag that goes on past the window, if one does (the last that begins).
    #[inline]
    fn past(&self) -> Option<usize> {
        (self.inside >> 63 != 0).then(|| 63 - (self.starts | 1).leading_zeros() as usize)
    }
}

/// The offsets where a tag that begins there is surely inert (its first letters say so, as
/// in [`first_live`], from the masks of the bytes after it): a letter after `<` that begins
/// no name that matters, or one that does but is alone (`<p>`, `<b `); the same after `</`.
/// Not the last three, whose bytes go past the window.
#[inline(always)]
fn surely_inert(m: &Masks) -> u64 {
    let short = m.sep | m.gt; // after a name's first letter: it is one letter long
    let open = m.letter >> 1 & !(m.open1 >> 1 & !(short >> 2));
    let close = m.slash >> 1 & m.letter >> 2 & !(m.close1 >> 2 & !(short >> 3));
    open | close
}

/// See `skip_inert_bytewise`: the same, with the same result, the fastest way the CPU can.
#[inline]
pub(super) fn skip_inert(d: &[u8], i: usize) -> usize {
    Way::best()
        .skip_inert(d, i)
        .unwrap_or_else(|| walk(Swar, d, i))
}

/// [`skip_inert`] with the classification `c` (inlined here, into the copy of the walk that
/// `simd` compiles for its instructions).
#[inline(always)]
pub(super) fn walk<C: Classify>(c: C, d: &[u8], mut i: usize) -> usize {
    'window: while let Some(ext) = d.get(i..i + W + LOOKAHEAD) {
        let ext: &[u8; W + LOOKAHEAD] = ext.try_into().unwrap_or(&[0; W + LOOKAHEAD]);
        let w = i;
        let m = c.classify(ext[..W].try_into().unwrap_or(&[0; W]));
        let sure = surely_inert(&m);
        // The usual window, in a few instructions, so that the next one's bytes are loaded
        // before this one's layout is known: its last `<` begins the tag that goes on past
        // it, if no `>` follows (else it ends in text). Checked against the layout below.
        let lt_last = 63 - (m.lt | 1).leading_zeros() as usize;
        let guess = if m.gt >> lt_last == 0 && lt_last > 0 {
            lt_last
        } else {
            W
        };
        {
            let l = Layout::of::<true>(&m, 0);
            let past = l.past();
            if l.odd & !(1 << 63) == 0 && past.unwrap_or(W) == guess {
                // the tag that goes on past is looked at again from the next window
                let again = past.map_or(0, |k| 1u64 << k);
                // (most windows have none to look at: not even a call then)
                if l.starts & !sure & !again != 0 {
                    if let Some(p) = first_live(d, ext, w, sure, l.starts & !again) {
                        return p;
                    }
                }
                i = w + guess;
                continue 'window;
            }
        }
        // Not the usual window: its masks again, from its bytes (`black_box`: not kept from
        // above, where holding them all for this rare case would cost every window).
        let ext = std::hint::black_box(ext);
        let m = c.classify(ext[..W].try_into().unwrap_or(&[0; W]));
        let sure = surely_inert(&m);
        // where the walk stands in the window, in text
        let mut from = 0;
        while from < W {
            let l = Layout::of::<false>(&m, from);
            if l.odd & !(1 << 63) == 0 {
                // every tag has its usual shape, but maybe one that goes on past the window:
                // only their names are left to look at, and then that tag is looked at again
                // from a window that begins at its `<` (if that is not this one)
                let past = l.past();
                if past != Some(0) {
                    if let Some(p) = first_live(d, ext, w, sure, l.starts) {
                        return p;
                    }
                    i = w + past.unwrap_or(W);
                    continue 'window;
                }
            }
            let b = l.odd.trailing_zeros() as usize;
            // the tags that begin before the odd place (or at it: bit 63)
            let before = l.starts & upto(b);
            if l.inside & 1 << b == 0 {
                // in text: it changes nothing (a quote, a `=`)
                if let Some(p) = first_live(d, ext, w, sure, before) {
                    return p;
                }
                from = b + 1;
                continue;
            }
            // in a tag: the last one that begins before it, to the state machine
            debug_assert!(before != 0);
            let k = 63 - before.leading_zeros() as usize;
            if let Some(p) = first_live(d, ext, w, sure, before & below(k) | 1 << k) {
                return p;
            }
            let p = w + k;
            // from its name (the `/` of an end tag is no separator)
            let name = k + 1 + (ext[k + 1] == b'/') as usize;
            match end_in(d, w, &m, name) {
                End::At(e) => from = e + 1,
                End::Out if k > 0 => {
                    i = p; // again, in a window that begins at the tag
                    continue 'window;
                }
                End::Out | End::Unsure => match tag::end(d, w + name) {
                    Some(j) => {
                        i = j;
                        continue 'window;
                    }
                    None => return p,
                },
            }
        }
        i = w + W;
    }
    skip_inert_bytewise(d, i)
}

/// What the byte after a `<` (`AFTER_LT`) or after a `</` (`AFTER_SLASH`) says of the tag.
const INERT: u8 = 0;
/// A letter that begins a name that matters: the name decides.
const NAME: u8 = 1;
/// `</`: the next byte decides.
const SLASH: u8 = 2;
/// Not a tag that can be skipped.
const LIVE: u8 = 3;

static AFTER_LT: [u8; 256] = after(b"stxinpm", true);
static AFTER_SLASH: [u8; 256] = after(b"bt", false);

const fn after(names: &[u8], slash: bool) -> [u8; 256] {
    let mut t = [LIVE; 256];
    let mut c = 0;
    while c < 26 {
        t[(b'a' + c) as usize] = INERT;
        t[(b'A' + c) as usize] = INERT;
        c += 1;
    }
    let mut k = 0;
    while k < names.len() {
        t[names[k] as usize] = NAME;
        t[(names[k] - 0x20) as usize] = NAME;
        k += 1;
    }
    if slash {
        t[b'/' as usize] = SLASH;
    }
    t
}

/// The first of the tags beginning at the bits of `starts` (in the window at `w`, whose
/// bytes and the [`LOOKAHEAD`] after them are `ext`) that is not inert (see
/// `skip_inert_bytewise`), those at the bits of `sure` ([`surely_inert`]) being inert.
#[inline]
fn first_live(
    d: &[u8],
    ext: &[u8; W + LOOKAHEAD],
    w: usize,
    sure: u64,
    starts: u64,
) -> Option<usize> {
    // the others, one by one
    let mut starts = starts & !sure;
    while starts != 0 {
        let k = starts.trailing_zeros() as usize;
        starts &= starts - 1;
        let (class, at) = match AFTER_LT[ext[k + 1] as usize] {
            SLASH => (AFTER_SLASH[ext[k + 2] as usize], k + 2),
            c => (c, k + 1),
        };
        match class {
            INERT => {}
            // one letter (`<p>`, `<b>`, `</b>`): none of those matters
            NAME if !ext[at + 1].is_ascii_alphanumeric() => {}
            NAME if inert_name(&d[w + at..], at == k + 2) => {}
            _ => return Some(w + k),
        }
    }
    None
}

enum End {
    /// At this offset in the window, the tag's `>`.
    At(usize),
    /// The window ends first.
    Out,
    /// A quote that [`opens_value`] cannot place.
    Unsure,
}

/// The end of the tag whose name begins at offset `off` of the window at `w`, from its masks,
/// one quoted value after the other.
#[inline]
fn end_in(d: &[u8], w: usize, m: &Masks, mut off: usize) -> End {
    // the state at `off`: in the tag's name, or before an attribute (after a quoted value)
    let mut after_value = false;
    loop {
        if off >= W {
            return End::Out;
        }
        let from = above(off);
        let g = m.gt & from;
        if g == 0 {
            return End::Out;
        }
        let e = g.trailing_zeros() as usize;
        let q = m.quote & from & below(e);
        if q == 0 {
            return End::At(e);
        }
        let k = q.trailing_zeros() as usize;
        if !opens_value(d, w, m, off, k, after_value) {
            return End::Unsure;
        }
        // the value ends at the next quote of its kind
        let mark = d[w + k];
        let mut rest = m.quote & (!1u64 << k);
        loop {
            if rest == 0 {
                return End::Out;
            }
            let c = rest.trailing_zeros() as usize;
            if d[w + c] == mark {
                off = c + 1;
                break;
            }
            rest &= rest - 1;
        }
        after_value = true;
    }
}

/// Whether the quote at offset `k` of the window at `w` surely opens a quoted value, the
/// bytes from offset `off` to it holding no quote and no `>`, the tag being in its name at
/// `off` (or before an attribute, `after_value`): `=` and a byte of a name before it, no
/// other `=` since `off` (no value began), and a blank or `/` before that name (the tag's
/// name has ended). `false` when unsure (`a = "x"`, `a=b c="x"`, `<a b'c>` …).
#[inline]
fn opens_value(d: &[u8], w: usize, m: &Masks, off: usize, k: usize, after_value: bool) -> bool {
    if k < off + 2 || d[w + k - 1] != b'=' {
        return false;
    }
    // offsets `off..k - 1`
    let span = above(off) & below(k - 1);
    let name = !(m.sep | m.lt | m.gt | m.quote | m.eq);
    m.eq & span == 0 && name & 1 << (k - 2) != 0 && (after_value || m.sep & span != 0)
}

/// The name at the start of `s` (of a letter that begins a name that matters) is none of
/// those: they are 3 to 9 letters long (`svg` … `plaintext`), those of end tags `body` and
/// `template`.
#[inline(never)]
fn inert_name(s: &[u8], close: bool) -> bool {
    let n = name_len(s);
    // the first letter and the length of each (`span`, `table`, `pre` need no more)
    let may = match (s[0] | 0x20, n) {
        (b't', 8) => true,
        (b'b', 4) => close,
        (b's' | b'x', 3) | (b'm', 4) | (b's' | b't', 5) | (b's' | b'i', 6) | (b'n', 7) => !close,
        (b'n', 8) | (b'p', 9) => !close,
        _ => false,
    };
    if !may {
        return true;
    }
    let name = tag_name(s, false, false).0;
    if close {
        !matches!(name, Name::Body | Name::Template)
    } else {
        !matches!(name, Name::Template | Name::Svg | Name::Math) && name.is_plain()
    }
}

#[cfg(test)]
mod tests;
