use super::*;
use crate::html::EntryRewriter;
use crate::test_rng::Rng;

const HEAD: &[u8] = b"<script>var GC={u:7}</script>";

fn inj(head_first: &'static [u8]) -> Injections<'static> {
    Injections {
        head_first,
        head_last: "<meta name=h content={version}>",
        body_first: "<i>first</i>",
        body_last: "<i>last</i>",
    }
}

/// What the streaming rewriter makes of `page`.
fn streamed(page: &[u8], head_first: &'static [u8]) -> Vec<u8> {
    let mut rw = EntryRewriter::new("v9", inj(head_first));
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| out.extend_from_slice(b);
    for c in page.chunks(1000) {
        rw.write(c, &mut sink);
    }
    rw.end(&mut sink);
    out
}

/// A response `new` compared with the recording of `old`, in `chunk`-byte buffers, as the
/// module does it: replayed while it matches, then the matched source fed to a fresh rewriter
/// whose output skips what went out. What the client gets, and whether it was all replayed.
fn served(old: &[u8], new: &[u8], chunk: usize, head_first: &'static [u8]) -> (Vec<u8>, bool) {
    let rec = Recorded::new("v9", &inj(head_first), old.to_vec());
    let mut rp = Replay::new();
    let mut got = Vec::new();
    let emit = |got: &mut Vec<u8>, e: Emit| {
        got.extend_from_slice(e.before);
        if e.head {
            got.extend_from_slice(head_first);
        }
        got.extend_from_slice(e.after);
    };
    let chunks: Vec<&[u8]> = new.chunks(chunk.max(1)).collect();
    let mut i = 0;
    while i < chunks.len() {
        if !rp.feed(&rec, chunks[i]) {
            break;
        }
        let e = rp.ready(&rec, i + 1 == chunks.len());
        emit(&mut got, e);
        i += 1;
    }
    if i == chunks.len() && rp.complete(&rec) {
        if chunks.is_empty() {
            emit(&mut got, rp.ready(&rec, true));
        }
        return (got, true);
    }
    // the fallback: the matched source again, then the rest, skipping what went out
    let mut skip = rp.sent(head_first.len());
    let mut rw = EntryRewriter::new("v9", inj(head_first));
    let mut sink = |b: &[u8]| {
        let n = skip.min(b.len());
        skip -= n;
        got.extend_from_slice(&b[n..]);
    };
    rw.write(&rec.source[..rp.verified()], &mut sink);
    for c in &chunks[i..] {
        rw.write(c, &mut sink);
    }
    rw.end(&mut sink);
    (got, false)
}

const PARTS: &[&str] = &[
    "<!doctype html>",
    "<html>",
    "<head>",
    "</head>",
    "<body class=x>",
    "</body>",
    "</html>",
    "<title>t {version}</title>",
    "<script>var s='</body><head>';</script>",
    "<!-- <body> -->",
    "<div class=\"card\"><h3>T</h3><p>text</p><a href=\"/i/1\">more</a></div>",
    "<meta charset=utf-8>",
    "{version}",
    "{vers",
    "ion}",
    "plain text ",
    "<template><body></template>",
    "<svg><style></style></svg>",
    "<p>",
    "'\"<>",
];

fn page(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = rng.below(max.max(1));
    let mut p = Vec::new();
    while p.len() < len {
        p.extend_from_slice(PARTS[rng.below(PARTS.len())].as_bytes());
    }
    p
}

#[test]
fn the_same_page_is_replayed_whole_and_equal() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        let p = page(&mut rng, 3 * STEP);
        let head: &'static [u8] = if round % 3 == 0 { b"" } else { HEAD };
        for chunk in [1, 7, 100, STEP - 1, STEP, STEP + 1, 16 * 1024] {
            let (got, replayed) = served(&p, &p, chunk, head);
            assert!(replayed, "round {round} chunk {chunk}");
            assert_eq!(got, streamed(&p, head), "round {round} chunk {chunk}");
        }
    }
}

#[test]
fn a_different_page_is_served_as_the_rewriter_makes_it() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for round in 0..2000 {
        let old = page(&mut rng, 4 * STEP);
        let mut new = old.clone();
        if new.is_empty() {
            new.push(b'x');
        }
        match rng.below(4) {
            // a changed byte, a cut, an extension, a changed span
            0 => {
                let at = rng.below(new.len());
                new[at] = b"<>/ ax\"'"[rng.below(8)];
            }
            1 => new.truncate(rng.below(new.len())),
            2 => new.extend_from_slice(&page(&mut rng, 200)),
            _ => {
                let at = rng.below(new.len());
                let tail = page(&mut rng, 300);
                new.truncate(at);
                new.extend_from_slice(&tail);
            }
        }
        let head: &'static [u8] = if round % 4 == 0 { b"" } else { HEAD };
        let chunk = [1, 13, 512, STEP, 3 * STEP / 2][rng.below(5)];
        let (got, _) = served(&old, &new, chunk, head);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&streamed(&new, head)),
            "round {round} chunk {chunk}"
        );
    }
}

#[test]
fn output_goes_out_as_the_source_matches() {
    // a long page: what was sent after half of it is most of its first half (streaming)
    let mut p = b"<html><head><title>x</title></head><body>".to_vec();
    while p.len() < 20 * STEP {
        p.extend_from_slice(b"<div class=\"card\"><p>text</p></div>");
    }
    p.extend_from_slice(b"</body></html>");
    let rec = Recorded::new("v9", &inj(HEAD), p.clone());
    let mut rp = Replay::new();
    assert!(rp.feed(&rec, &p[..10 * STEP]));
    let e = rp.ready(&rec, false);
    assert!(e.head);
    assert!(e.before.len() + e.after.len() > 9 * STEP);
    // nothing new without new bytes; the rest at the end
    assert_eq!(rp.ready(&rec, false), Emit::default());
    assert!(rp.feed(&rec, &p[10 * STEP..]));
    let e = rp.ready(&rec, true);
    assert!(!e.head);
    assert!(e.before.ends_with(b"<i>last</i></body></html>"));
    // a byte past the end is a difference
    assert!(!rp.feed(&rec, b"x"));
}
