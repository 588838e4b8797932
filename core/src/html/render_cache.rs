//! The render cache of entry pages served from files (issue "entry pages at the cost of a
//! static file"): a rewritten page is the same for every user of a version except the
//! per-user `head_first` (the global-config script, the reporter's token). [`render`] makes
//! the page once with the place of `head_first` marked; [`RenderCache`] keeps such pages per
//! worker, keyed by the file's identity (device, inode, size, mtime, byte range), the version
//! and the configuration, least recently used first out, within a byte budget.
//!
//! A hit is then `prefix + head_first + suffix`, byte-equal to what the streaming rewriter
//! makes of the same file (tested), without reading or scanning the file again.

use std::rc::Rc;

use super::{EntryRewriter, Injections};

/// A page rendered for the cache: `bytes[..split]`, the request's `head_first`, then
/// `bytes[split..]`. `split` is `None` when the page has no place for it (nothing goes in).
#[derive(Debug, PartialEq, Eq)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub split: Option<usize>,
}

impl Rendered {
    /// The page around `head_first`: (before, after).
    pub fn parts(&self) -> (&[u8], &[u8]) {
        match self.split {
            Some(s) => self.bytes.split_at(s),
            None => (&self.bytes[..], &[]),
        }
    }
}

/// The mark of `head_first`'s place: found by address among the pieces, never by content.
static MARK: [u8; 1] = [0];

/// Rewrites `page` (whole) for `version` with `inj`, whose `head_first` is ignored: its place
/// is recorded instead.
pub fn render(version: &str, inj: &Injections<'static>, page: &[u8]) -> Rendered {
    render_marked(version, inj, page, page.len().max(1)).0
}

/// [`render`], feeding the rewriter `step` bytes at a time and noting after each step what it
/// had sent by then (see `replay`).
pub(super) fn render_marked(
    version: &str,
    inj: &Injections<'static>,
    page: &[u8],
    step: usize,
) -> (Rendered, Vec<super::replay::Mark>) {
    let inj = Injections {
        head_first: &MARK,
        ..inj.clone()
    };
    let mut rw = EntryRewriter::new(version, inj);
    let mut out = Rendered {
        bytes: Vec::with_capacity(page.len() + 1024),
        split: None,
    };
    let mut marks = Vec::with_capacity(page.len() / step + 1);
    let mut fed = 0;
    for c in page.chunks(step) {
        rw.write(c, &mut |p| collect(&mut out, p));
        fed += c.len();
        marks.push(super::replay::Mark {
            fed,
            out: out.bytes.len(),
            head: out.split.is_some(),
        });
    }
    rw.end(&mut |p| collect(&mut out, p));
    (out, marks)
}

/// A piece of the rendered page, or the mark of `head_first`'s place.
fn collect(out: &mut Rendered, p: &[u8]) {
    if core::ptr::eq(p.as_ptr(), MARK.as_ptr()) {
        out.split = Some(out.bytes.len());
    } else {
        out.bytes.extend_from_slice(p);
    }
}
/// What a cached page was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub dev: u64,
    pub ino: u64,
    pub size: i64,
    pub mtime_sec: i64,
    pub mtime_nsec: i64,
    /// The byte range of the file served.
    pub range: (i64, i64),
    /// The version's address in the configuration (with `config`, unique while it lives).
    pub version: usize,
    /// The configuration's address and the generation of configurations it was read in
    /// (an address may be reused by a later configuration; the generation is not).
    pub config: usize,
    pub generation: u64,
}

/// What a cache is keyed by: anything comparable that tells the configuration it was made in.
pub trait CacheKey: PartialEq {
    fn generation(&self) -> u64;
}

impl CacheKey for Key {
    fn generation(&self) -> u64 {
        self.generation
    }
}

struct Entry<K, P> {
    key: K,
    page: Rc<P>,
    size: usize,
    used: u64,
}

/// Pages (of any form: the caller's `P`) by [`Key`] (or another [`CacheKey`]), within
/// `budget` bytes (a page larger than a quarter of it is not kept).
pub struct RenderCache<P, K = Key> {
    budget: usize,
    bytes: usize,
    clock: u64,
    entries: Vec<Entry<K, P>>,
    pub hits: u64,
    pub misses: u64,
}

impl<P, K: CacheKey> RenderCache<P, K> {
    pub fn new(budget: usize) -> Self {
        RenderCache {
            budget,
            bytes: 0,
            clock: 0,
            entries: Vec::new(),
            hits: 0,
            misses: 0,
        }
    }

    /// Whether a page of `len` bytes may be kept.
    pub fn fits(&self, len: usize) -> bool {
        len <= self.budget / 4
    }

    /// Bytes held (pages, their bookkeeping not counted).
    pub fn held(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&mut self, key: &K) -> Option<Rc<P>> {
        self.clock += 1;
        let clock = self.clock;
        match self.entries.iter_mut().find(|e| e.key == *key) {
            Some(e) => {
                e.used = clock;
                self.hits += 1;
                Some(e.page.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Keeps `page` of `len` bytes under `key` (replacing an entry of the same key),
    /// dropping the least recently used pages until it fits. A page too large is not kept.
    pub fn insert(&mut self, key: K, page: Rc<P>, len: usize) {
        if !self.fits(len) {
            return;
        }
        if let Some(i) = self.entries.iter().position(|e| e.key == key) {
            let e = self.entries.swap_remove(i);
            self.bytes -= e.size;
        }
        while self.bytes + len > self.budget {
            let Some(i) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.used)
                .map(|(i, _)| i)
            else {
                break;
            };
            let e = self.entries.swap_remove(i);
            self.bytes -= e.size;
        }
        self.clock += 1;
        self.bytes += len;
        self.entries.push(Entry {
            key,
            page,
            size: len,
            used: self.clock,
        });
    }

    /// Drops every page whose configuration generation is not `generation`.
    pub fn retain_generation(&mut self, generation: u64) {
        let mut freed = 0;
        self.entries.retain(|e| {
            let keep = e.key.generation() == generation;
            if !keep {
                freed += e.size;
            }
            keep
        });
        self.bytes -= freed;
    }
}

#[cfg(test)]
mod tests;
