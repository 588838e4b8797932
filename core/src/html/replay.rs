//! Replay of entry pages that come through `proxy_pass` (issue "entry pages at the cost of
//! a static file"): a page from a CDN or object-store origin is, most of the time, the same
//! bytes as last time, but nothing in the response proves it before the bytes are there.
//! So the source of the last page is kept with its rewritten form ([`Recorded`]), and the
//! next response is *compared* with it as it arrives (`memcmp`, ~20x the tokenizer's speed)
//! instead of being tokenized: while it matches, the rewritten page goes out from the
//! recording, as far as the rewriter would have sent it for the bytes seen so far.
//!
//! That last point is what makes a late difference safe: the recording notes, every
//! [`STEP`] bytes of source, how much output the streaming rewriter had committed by then
//! ([`Mark`]). What went out at a mark depends only on the source before it, so it is a
//! prefix of the rewritten *new* page whenever the new page starts with those bytes. On the
//! first differing byte, the caller feeds the matched source to a fresh rewriter, drops the
//! first [`Replay::sent`] bytes of its output (they already went out), and streams the rest
//! as usual; the client sees one page, byte for byte the one the rewriter makes of the new
//! source (tested on random pages and random differences).

use super::render_cache::{render_marked, Rendered};
use super::Injections;

/// Source bytes between two marks.
pub const STEP: usize = 4096;

/// After `fed` bytes of source, the streaming rewriter had sent `out` bytes of the page and,
/// when `head`, the request's `head_first` (at the page's split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub fed: usize,
    pub out: usize,
    pub head: bool,
}

/// A source page and what the rewriter makes of it, with its marks.
#[derive(Debug)]
pub struct Recorded {
    pub source: Vec<u8>,
    pub page: Rendered,
    marks: Vec<Mark>,
}

impl Recorded {
    /// Rewrites `source` for `version` with `inj` (whose `head_first` is ignored: its place
    /// is recorded), noting a mark every [`STEP`] bytes.
    pub fn new(version: &str, inj: &Injections<'static>, source: Vec<u8>) -> Self {
        let (page, marks) = render_marked(version, inj, &source, STEP);
        Recorded {
            source,
            page,
            marks,
        }
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.source.len() + self.page.bytes.len() + self.marks.len() * core::mem::size_of::<Mark>()
    }
}

/// What may go out now: `before`, then the request's `head_first` when `head`, then `after`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Emit<'r> {
    pub before: &'r [u8],
    pub head: bool,
    pub after: &'r [u8],
}

/// One response compared with a recording.
#[derive(Debug, Default)]
pub struct Replay {
    /// Source bytes matched so far.
    verified: usize,
    /// What went out: page bytes, and whether `head_first` did.
    out: usize,
    head: bool,
    /// The first mark not yet reached.
    next_mark: usize,
}

impl Replay {
    pub fn new() -> Self {
        Self::default()
    }

    /// The response's next bytes: whether they are the recording's next source bytes.
    pub fn feed(&mut self, rec: &Recorded, data: &[u8]) -> bool {
        let end = self.verified + data.len();
        if rec.source.get(self.verified..end) != Some(data) {
            return false;
        }
        self.verified = end;
        true
    }

    /// Source bytes matched so far.
    pub fn verified(&self) -> usize {
        self.verified
    }

    /// The whole source matched (for the response's last buffer).
    pub fn complete(&self, rec: &Recorded) -> bool {
        self.verified == rec.source.len()
    }

    /// The bytes of the rewritten page sent so far, `head_first` counted at `head_len`:
    /// what a fresh rewriter's output must skip to go on from here.
    pub fn sent(&self, head_len: usize) -> usize {
        self.out + if self.head { head_len } else { 0 }
    }

    /// What may go out now that the source matched this far: up to the last mark reached,
    /// or the rest of the page once the response ended (`finished`) with the whole source.
    pub fn ready<'r>(&mut self, rec: &'r Recorded, finished: bool) -> Emit<'r> {
        let mut to = Mark {
            fed: self.verified,
            out: self.out,
            head: self.head,
        };
        if finished && self.complete(rec) {
            to.out = rec.page.bytes.len();
            to.head = rec.page.split.is_some();
            self.next_mark = rec.marks.len();
        } else {
            while let Some(m) = rec
                .marks
                .get(self.next_mark)
                .filter(|m| m.fed <= self.verified)
            {
                to = *m;
                self.next_mark += 1;
            }
        }
        let bytes = &rec.page.bytes;
        let from = self.out;
        let emit = match rec.page.split {
            Some(s) if to.head && !self.head => Emit {
                before: &bytes[from.min(s)..s],
                head: true,
                after: &bytes[s.max(from)..to.out.max(s)],
            },
            _ => Emit {
                before: &bytes[from..to.out.max(from)],
                head: false,
                after: &[],
            },
        };
        self.out = to.out.max(from);
        self.head |= to.head;
        emit
    }
}

/// What a recording is found by: the host and the request line's URI, hashed (a collision
/// costs only a difference).
pub fn page_key(host: &[u8], uri: &[u8]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&(host.len() as u64).to_le_bytes());
    h.update(host);
    h.update(uri);
    h.digest()
}

#[cfg(test)]
mod tests;
