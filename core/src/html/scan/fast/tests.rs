//! The block walker against the bytewise one, on random markup.

use super::super::simd::Way;
use super::super::skip_inert_bytewise;
use super::skip_inert;

/// `skip_inert` each way the CPU can go (on x86_64 with AVX-512 that is all of them), checked
/// against the bytewise walk.
fn check(d: &[u8], i: usize, what: &dyn Fn() -> String) {
    let want = skip_inert_bytewise(d, i);
    assert_eq!(skip_inert(d, i), want, "{}", what());
    for way in Way::ALL {
        if let Some(got) = way.skip_inert(d, i) {
            assert_eq!(got, want, "{way:?}: {}", what());
        }
    }
}

/// Bits of markup: single bytes of an HTML-ish alphabet, and names and shapes that take the
/// walker down each of its paths.
const BITS: &[&[u8]] = &[
    b"<",
    b"<",
    b"<",
    b">",
    b">",
    b">",
    b"/",
    b"\"",
    b"\"",
    b"'",
    b"=",
    b"=",
    b" ",
    b" ",
    b"s",
    b"t",
    b"b",
    b"x",
    b"i",
    b"n",
    b"p",
    b"m",
    b"a",
    b"!",
    b"-",
    b"\t",
    b"\n",
    b"\x0b",
    b"\0",
    b"<p>",
    b"</p>",
    b"<div class=\"c\">",
    b"</div>",
    b"<a href=\"/x\">",
    b"</a>",
    b"<br/>",
    b"<script>",
    b"<style",
    b"<title",
    b"<textarea",
    b"<svg",
    b"<math",
    b"<template",
    b"</template",
    b"<body",
    b"</body",
    b"<plaintext",
    b"<noscript",
    b"<xmp",
    b"<iframe",
    b"<span a=\"1\" b='2'>",
    b" x=\"",
    b"=\"",
    b"='",
    b"\">",
    b"'>",
    b"<!--",
    b"-->",
    b"<b title=a=\">",
    b"<p x==\"y\">",
    b"<i =\"x>\">",
    b"</a x=\">\">",
    b"<a/b=\"c>\">",
    b"<a b\t=\"c>\">",
    b"<tr",
    b"<ta",
    b"<Pre>",
    b"<STYLE>",
    b"</BODY>",
    b"</bodyx>",
    b"<img alt=\"Don't>\">",
    b"<q a='x\"y>'>",
    b"<a t=\"x='y'\">",
    b"<a t='x=\"y\"'>",
    b"<a t=\"x='\" u='>'>",
    b"<a t=\"it's\">",
    b"<a t=\"x='\" b><script>'>",
    b"<a t='x=\"' b><script>\">",
    b"<u a=\"\"b=\"c>\">",
    b"<u a=\"x\"=\"y>\">",
];

use crate::test_rng::Rng;

fn markup(r: &mut Rng, len: usize) -> Vec<u8> {
    let mut d = Vec::with_capacity(len + 32);
    // mostly bits of tags, or mostly single bytes
    let single = r.next().is_multiple_of(3);
    while d.len() < len {
        let k = r.next() as usize;
        let bit = if single {
            BITS[k % 29]
        } else {
            BITS[k % BITS.len()]
        };
        d.extend_from_slice(bit);
    }
    d.truncate(len);
    d
}

/// The same place as the bytewise walk, from every offset around the window boundaries of
/// random markup, 200,000 times.
#[test]
fn the_blocks_stop_where_the_bytes_do() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for n in 0..200_000 {
        let len = 60 + (r.next() % 200) as usize;
        let d = markup(&mut r, len);
        let i = match n % 4 {
            0 => 0,
            1 => (r.next() % 4) as usize,
            // near the end of the first window (and of the one after)
            2 => 56 + (r.next() % 16) as usize,
            _ => (r.next() % len as u64) as usize,
        }
        .min(len);
        check(&d, i, &|| {
            format!("{n}: from {i} in {:?}", String::from_utf8_lossy(&d))
        });
    }
}

/// The usual window's layout ([`Layout::of`] with `USUAL`, its `<` and `>` taken to
/// alternate) is the full one wherever it finds nothing odd: on random markup and on runs of
/// `<` and `>` (`<a <b>`, `<a>>`, a `>` before the first `<`).
#[test]
fn the_usual_layout_is_the_full_one() {
    use super::super::simd::{Classify, Swar};
    use super::Layout;
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    // tags of the usual shapes, and now and then a `<` or a `>` alone
    let bits: [&[u8]; 5] = [b"<a x=\"y\">", b"t", b"</a>", b" ", b"<b c='v' d>"];
    let mut usual = 0;
    for n in 0..200_000 {
        let d = if n % 2 == 0 {
            markup(&mut r, 64)
        } else {
            let mut d = Vec::new();
            while d.len() < 64 {
                d.extend_from_slice(match r.below(40) {
                    0 => b"<",
                    1 => b">",
                    k => bits[k % bits.len()],
                });
            }
            d
        };
        let m = Swar.classify(d[..64].try_into().unwrap());
        let (u, full) = (Layout::of::<true>(&m, 0), Layout::of::<false>(&m, 0));
        if u.odd & !(1 << 63) == 0 {
            usual += 1;
            let what = String::from_utf8_lossy(&d[..64]);
            assert_eq!((u.starts, u.inside), (full.starts, full.inside), "{what:?}");
            assert_eq!(u.odd, full.odd, "{what:?}");
        }
    }
    assert!(usual > 5_000, "{usual}");
}

/// Tags that straddle the windows, at every offset: long ones, quoted values across the
/// boundary, a `>` in a value just past it.
#[test]
fn tags_across_windows() {
    let tags: &[&[u8]] = &[
        b"<div class=\"a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5\">",
        b"<a href=\"/a/very/long/path/that/goes/on/and/on/and/on/for/more/than/64/b>c\">",
        b"<p title='>' x=\"y\" z=w>",
        b"<span a=\"1\"b=\"2\"c=\"3\">",
    ];
    for t in tags {
        for pad in 0..80 {
            let mut d = vec![b'x'; pad];
            for _ in 0..4 {
                d.extend_from_slice(t);
                d.extend_from_slice(b"<i>t</i>");
            }
            d.extend_from_slice(b"<script>");
            d.extend_from_slice(&[b'y'; 100]);
            for i in [0, pad.saturating_sub(1), pad] {
                check(&d, i, &|| {
                    format!("{pad} {i}: {:?}", String::from_utf8_lossy(&d))
                });
            }
        }
    }
}

/// The machine the tests run on goes every way there is (so that none is left untested
/// there); elsewhere, at least the portable one.
#[test]
fn every_way_is_tested() {
    assert!(Way::Swar.ready());
    #[cfg(target_arch = "x86_64")]
    assert!(Way::Sse2.ready());
    let ready: Vec<Way> = Way::ALL.into_iter().filter(|w| w.ready()).collect();
    eprintln!("ways this CPU can go: {ready:?}, best {:?}", Way::best());
    assert!(ready.contains(&Way::best()));
}
