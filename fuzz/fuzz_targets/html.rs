//! The entry-page rewriter on arbitrary markup split at arbitrary points: never panics, and
//! the output does not depend on where the input was split.
#![no_main]
use frontend_gray_core::html::{EntryRewriter, Injections};
use libfuzzer_sys::fuzz_target;

fn run(page: &[u8], cuts: &[usize]) -> Vec<u8> {
    let inj = Injections {
        head_first: b"<GC>",
        head_last: "<HL>",
        body_first: "<BF>",
        body_last: "<BL>",
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
    // the first byte says how many cut points follow (2 bytes each); the rest is the page
    let n = *data.first().unwrap_or(&0) as usize % 8;
    if data.len() < 1 + 2 * n {
        return;
    }
    let (cut_bytes, page) = data[1..].split_at(2 * n);
    let mut cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]) as usize)
        .collect();
    cuts.sort_unstable();
    let whole = run(page, &[]);
    assert_eq!(run(page, &cuts), whole);
    let bytewise: Vec<usize> = (1..page.len().min(300)).collect();
    assert_eq!(run(page, &bytewise), whole);
});
