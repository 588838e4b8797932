//! The entry-page rewriter on arbitrary markup split at arbitrary points: never panics, the
//! output does not depend on where the input was split, and configuring fewer snippets only
//! leaves those snippets out (the scanner stops tokenizing once nothing it wants can come).
#![no_main]
use frontend_gray_core::html::{EntryRewriter, Injections};
use libfuzzer_sys::fuzz_target;

const SNIPPETS: [&str; 4] = ["<GC>", "<HL>", "<BF>", "<BL>"];

/// What placement depends on (SPEC §6, last bullet), for bytes 0xE0..=0xFF to stand for when
/// the page is built from fragments: the fuzzer then composes omitted tags, templates,
/// foreign content, script escapes and comment endings in few steps.
const FRAGMENTS: [&[u8]; 32] = [
    b"<head>",
    b"</head>",
    b"<body>",
    b"</body>",
    b"<template>",
    b"</template>",
    b"<svg>",
    b"</svg>",
    b"<math><mi>",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"--!>",
    b"-->",
    b"<script>",
    b"</script>",
    b"<!-- <script>",
    b"<style/>",
    b"<title>",
    b"<foreignObject>",
    b"</foreignObject>",
    b"<a title=a=\">",
    b"<meta charset=utf-8>",
    b"<div id=app>",
    b"<p>",
    b"text",
    b"\xef\xbb\xbf",
    b"<plaintext>",
    b"<frameset>",
    b"</br>",
    b"<html>",
    b"<noscript>",
];

/// `mask`: which of the four snippets are configured.
fn run(page: &[u8], cuts: &[usize], mask: u8) -> Vec<u8> {
    let pick = |k: usize| {
        if mask & (1 << k) != 0 {
            SNIPPETS[k]
        } else {
            ""
        }
    };
    let inj = Injections {
        head_first: pick(0).as_bytes(),
        head_last: pick(1),
        body_first: pick(2),
        body_last: pick(3),
    };
    let mut rw = EntryRewriter::new("V1", inj);
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| out.extend_from_slice(b);
    let mut at = 0;
    for &c in cuts {
        let c = c.clamp(at, page.len());
        rw.write(&page[at..c], &mut sink);
        at = c;
    }
    rw.write(&page[at..], &mut sink);
    rw.end(&mut sink);
    out
}

fuzz_target!(|data: &[u8]| {
    // the first byte says how many cut points follow (2 bytes each, low 3 bits), whether the
    // page is built from fragments (bit 3) and which snippets are configured (high 4 bits);
    // the rest is the page
    let first = *data.first().unwrap_or(&0);
    let n = first as usize % 8;
    let mask = first >> 4;
    if data.len() < 1 + 2 * n {
        return;
    }
    let (cut_bytes, raw) = data[1..].split_at(2 * n);
    let mut built = Vec::new();
    let page = if first & 0b1000 != 0 {
        for &b in raw {
            match b {
                0xe0.. => built.extend_from_slice(FRAGMENTS[(b - 0xe0) as usize]),
                _ => built.push(b),
            }
        }
        &built[..]
    } else {
        raw
    };
    let mut cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as usize)
        .collect();
    cuts.sort_unstable();
    let whole = run(page, &[], mask);
    assert_eq!(run(page, &cuts, mask), whole);
    let bytewise: Vec<usize> = (1..page.len().min(300)).collect();
    assert_eq!(run(page, &bytewise, mask), whole);
    // the same page with all four snippets, the unconfigured ones taken out again
    if !page
        .windows(4)
        .any(|w| SNIPPETS.iter().any(|s| w == s.as_bytes()))
    {
        let mut all = String::from_utf8_lossy(&run(page, &[], 0b1111)).into_owned();
        for (k, s) in SNIPPETS.iter().enumerate() {
            if mask & (1 << k) == 0 {
                all = all.replace(s, "");
            }
        }
        assert_eq!(String::from_utf8_lossy(&whole), all);
    }
});
