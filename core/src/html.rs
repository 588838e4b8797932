//! Streaming rewriting of the HTML entry page (SPEC §6): injections at the end of `<head>`,
//! right after `<body …>` and before `</body>`, the global-config script first in `<head>`,
//! and `{version}` replaced everywhere. Where the `<head>` / `<body>` tags are omitted, the
//! places are those a browser's parser implies (see [`scan`](Scanner) for the exact rules):
//! the global config and `injection.head` together where the head implicitly ends (before
//! the first element or text that cannot be in the head), the localStorage script and
//! `body.first` where the body implicitly begins (the same place, when neither `</head>` nor
//! `<body>` is there), `body.last` before `</body>` or at the end of the page.
//!
//! Tags are found by [`Scanner`], a streaming tokenizer of just the constructs that decide
//! where a tag is (quoted attributes, comments, `<script>` and the other raw-text elements),
//! chunk by chunk: the page is never held whole, and between two `<` it runs at `memchr`
//! speed. (lol_html, a complete tokenizer, ran at ~190 MB/s on a typical SPA page, which made
//! an entry page cost 10-20x a plain one; it remains the oracle of the differential tests.)
//! `{version}` is replaced by a byte search on the input stream, before tokenizing; a
//! placeholder split across two chunks is held back (at most 8 bytes) until the next one.

pub mod render_cache;
pub mod replay;
mod scan;

pub use scan::{Event, Piece, Scanner};

use crate::template::PLACEHOLDER;

/// What goes into one page. Snippets are HTML, `{version}` already filled in.
#[derive(Debug, Clone, Default)]
pub struct Injections<'a> {
    /// The global-config script, first in `<head>`, or right before `head_last` when the
    /// head is implied (may be empty).
    pub head_first: &'a [u8],
    /// `injection.head`, where the head ends (before `</head>`, or what ends it).
    pub head_last: &'a str,
    /// The localStorage script and `injection.body.first`, right after `<body …>`, or where
    /// the body implicitly begins.
    pub body_first: &'a str,
    /// `injection.body.last`, before `</body>` (at the end of the page when there is none).
    pub body_last: &'a str,
}

impl Injections<'_> {
    fn is_empty(&self) -> bool {
        Event::ALL.into_iter().all(|e| self.at(e).is_empty())
    }

    /// What goes in at `e`.
    fn at(&self, e: Event) -> &[u8] {
        match e {
            Event::HeadStart => self.head_first,
            Event::HeadEnd => self.head_last.as_bytes(),
            Event::BodyStart => self.body_first.as_bytes(),
            Event::BodyEnd => self.body_last.as_bytes(),
        }
    }
}

static PLACEHOLDER_FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(PLACEHOLDER));

/// Replaces `{version}` in a stream of chunks.
#[derive(Debug)]
pub struct VersionReplacer<'v> {
    version: &'v [u8],
    /// Bytes of a possible placeholder at the end of the previous chunk (a prefix of it).
    pending: usize,
}

impl<'v> VersionReplacer<'v> {
    pub fn new(version: &'v str) -> Self {
        VersionReplacer {
            version: version.as_bytes(),
            pending: 0,
        }
    }

    /// Feeds a chunk; `out` receives the replaced stream, in order, in pieces.
    pub fn feed<E>(
        &mut self,
        chunk: &[u8],
        out: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let pat = PLACEHOLDER.as_bytes();
        let mut chunk = chunk;
        if self.pending > 0 {
            let need = &pat[self.pending..];
            let n = need.len().min(chunk.len());
            if chunk[..n] == need[..n] {
                if n == need.len() {
                    out(self.version)?;
                    self.pending = 0;
                    chunk = &chunk[n..];
                } else {
                    self.pending += n;
                    return Ok(());
                }
            } else {
                // not a placeholder after all; only its first byte is '{', so no match can
                // start inside the held bytes
                out(&pat[..self.pending])?;
                self.pending = 0;
            }
        }
        let mut last = 0;
        while let Some(k) = scan::find(&chunk[last..], pat, &PLACEHOLDER_FINDER) {
            let m = last + k;
            if m > last {
                out(&chunk[last..m])?;
            }
            out(self.version)?;
            last = m + pat.len();
        }
        let tail = &chunk[last..];
        let held = (1..pat.len())
            .rev()
            .find(|&k| tail.ends_with(&pat[..k]))
            .unwrap_or(0);
        if tail.len() > held {
            out(&tail[..tail.len() - held])?;
        }
        self.pending = held;
        Ok(())
    }

    /// The end of the stream: releases held bytes.
    pub fn finish<E>(&mut self, out: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        if self.pending > 0 {
            let p = self.pending;
            self.pending = 0;
            out(&PLACEHOLDER.as_bytes()[..p])?;
        }
        Ok(())
    }
}

/// The rewriter of one entry page: [`write`](Self::write) each chunk as it arrives, then
/// [`end`](Self::end). The rewritten page goes to `sink` as it is produced, in pieces that
/// borrow from the input chunk, the version or the snippets: nothing is buffered or copied here
/// (at most a few bytes of a placeholder or tag split across chunks are held back).
pub struct EntryRewriter<'h> {
    /// `None` when there is nothing to inject: only `{version}` is replaced.
    scanner: Option<Scanner>,
    inj: Injections<'static>,
    replacer: VersionReplacer<'h>,
}

impl<'h> EntryRewriter<'h> {
    pub fn new(version: &'h str, inj: Injections<'static>) -> Self {
        let scanner = (!inj.is_empty())
            .then(|| Scanner::wanting(Event::ALL.into_iter().filter(|&e| !inj.at(e).is_empty())));
        EntryRewriter {
            scanner,
            inj,
            replacer: VersionReplacer::new(version),
        }
    }

    /// Where the pieces come from besides the input chunk: the version, the snippets and the
    /// placeholder — memory that stays put and unchanged while the rewriter lives, so that a
    /// caller may point at it instead of copying. Any other piece (a few bytes held back across
    /// a chunk boundary) lives in the rewriter's scratch space and is valid only in the call.
    pub fn stable_parts(&self) -> [&[u8]; 6] {
        [
            self.replacer.version,
            self.inj.head_first,
            self.inj.head_last.as_bytes(),
            self.inj.body_first.as_bytes(),
            self.inj.body_last.as_bytes(),
            PLACEHOLDER.as_bytes(),
        ]
    }

    pub fn write(&mut self, chunk: &[u8], sink: &mut impl FnMut(&[u8])) {
        let (scanner, inj) = (&mut self.scanner, &self.inj);
        let _ = self
            .replacer
            .feed(chunk, &mut |piece: &[u8]| -> Result<(), ()> {
                match scanner {
                    Some(s) => s.feed(piece, &mut |p| put(sink, inj, p)),
                    None => sink(piece),
                }
                Ok(())
            });
    }

    pub fn end(&mut self, sink: &mut impl FnMut(&[u8])) {
        let (scanner, inj) = (&mut self.scanner, &self.inj);
        let _ = self.replacer.finish(&mut |piece: &[u8]| -> Result<(), ()> {
            match scanner {
                Some(s) => s.feed(piece, &mut |p| put(sink, inj, p)),
                None => sink(piece),
            }
            Ok(())
        });
        if let Some(s) = scanner {
            s.finish(&mut |p| put(sink, inj, p));
        }
    }
}

fn put(sink: &mut impl FnMut(&[u8]), inj: &Injections<'_>, p: Piece) {
    let bytes = match p {
        Piece::Bytes(b) => b,
        Piece::At(e) => inj.at(e),
    };
    if !bytes.is_empty() {
        sink(bytes);
    }
}

/// Escapes `s` for a JavaScript string literal inside an HTML `<script>` (JSON, with `<`
/// escaped so that `</script>` cannot end the script).
pub fn js_string(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c")
}

#[cfg(test)]
mod tests;
