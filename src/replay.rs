//! Replay of entry pages that do not come from a file (`proxy_pass` to a CDN or object
//! store, mostly; also files with `sendfile off`): per worker, the last source page of each
//! (host and URI, version, configuration) with its rewritten form, and the next response
//! compared with it as it arrives instead of tokenized (`core::html::replay`). A response
//! that differs is served as the rewriter makes it, from the first differing byte on.
//!
//! Recordings live on the heap within the `frontend_gray_render_cache` budget (a second
//! budget of that size beside the one of pages from files; `off` turns both off), least
//! recently used first out. A page that changes from one response to the next (a page
//! rendered per request) is marked volatile after its first difference, and streams through
//! the rewriter from then on without being recorded. A reload starts new workers, with empty
//! caches.

use std::cell::RefCell;
use std::rc::Rc;

use frontend_gray_core::html::render_cache::{CacheKey, RenderCache};
use frontend_gray_core::html::replay::{Recorded, Replay};
use frontend_gray_core::html::Injections;
use ngx::ffi::ngx_http_request_t;

use crate::headers::bytes;
use crate::zone::MainConf;

/// What a recording is kept by.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// xxh3 of the host and the request line's URI (a collision only costs a difference).
    uri: u64,
    /// The version's and the configuration's addresses, and the generation it was read in.
    version: usize,
    config: usize,
    generation: u64,
}

impl CacheKey for Key {
    fn generation(&self) -> u64 {
        self.generation
    }
}

/// A recording, or the note that the page changes between responses.
pub enum Slot {
    Page {
        rec: Recorded,
        /// Responses replayed whole from it.
        replayed: core::cell::Cell<u64>,
    },
    Volatile,
}

thread_local! {
    static CACHE: RefCell<Option<RenderCache<Slot, Key>>> = const { RefCell::new(None) };
    /// Bytes reserved by responses being recorded now (within a quarter of the budget).
    static RECORDING: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// The replay side of one entry response.
pub struct Proxied {
    key: Key,
    version: &'static str,
    inj: Injections<'static>,
    budget: usize,
    /// The response's length, as the origin gave it (-1: not given).
    length: i64,
    /// The recording compared with; held until the request ends (buffers sent from it may
    /// still be on their way when the response differs).
    rec: Option<Rc<Slot>>,
    /// The response still matches `rec`.
    active: bool,
    pub replay: Replay,
    /// The response's bytes, kept for a new recording (`None`: not recorded), and the bytes
    /// reserved for it.
    source: Option<Vec<u8>>,
    reserved: usize,
    /// The response differed from a recording never replayed whole: the page changes
    /// between responses, and is marked so when this one ends.
    volatile: bool,
    /// `$gray_render_cache`: replayed whole, or recorded for the next response.
    hit: bool,
    recorded: bool,
}

/// Sets up the replay of an entry response, or `None` where the cache is off.
pub fn start(
    r: &ngx_http_request_t,
    mcf: &MainConf,
    version: &'static str,
    inj: &Injections<'static>,
    config: usize,
    length: i64,
) -> Option<Proxied> {
    let budget = crate::render_cache::budget(mcf);
    if budget == 0 {
        return None;
    }
    // SAFETY: the host header is null or a live element
    let host = unsafe { r.headers_in.host.as_ref() }.map_or(&[][..], |h| bytes(&h.value));
    let uri = frontend_gray_core::html::replay::page_key(host, bytes(&r.unparsed_uri));
    let key = Key {
        uri,
        version: version.as_ptr() as usize,
        config,
        generation: mcf.generation,
    };
    let slot = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let cache = c.get_or_insert_with(|| RenderCache::new(budget));
        cache.retain_generation(mcf.generation);
        cache.get(&key)
    });
    let (rec, source) = match slot {
        Some(s) => match &*s {
            Slot::Page { .. } => (Some(s), None),
            Slot::Volatile => (None, None),
        },
        None => (None, reserve(length, budget)),
    };
    let reserved = source.as_ref().map_or(0, Vec::capacity);
    Some(Proxied {
        reserved,
        active: rec.is_some(),
        key,
        version,
        inj: inj.clone(),
        budget,
        length,
        rec,
        replay: Replay::new(),
        source,
        volatile: false,
        hit: false,
        recorded: false,
    })
}

/// Room for recording a response of `length` bytes: only with a known length that fits (the
/// source and its page, a quarter of the budget together), exactly that much, and while
/// the responses being recorded at once hold no more than a quarter of the budget.
fn reserve(length: i64, budget: usize) -> Option<Vec<u8>> {
    let len = usize::try_from(length)
        .ok()
        .filter(|&l| l > 0 && l <= budget / 8)?;
    let held = RECORDING.with(|c| c.get());
    if held + len > budget / 4 {
        return None;
    }
    RECORDING.with(|c| c.set(held + len));
    Some(Vec::with_capacity(len))
}

impl Drop for Proxied {
    fn drop(&mut self) {
        let n = self.reserved;
        RECORDING.with(|c| c.set(c.get().saturating_sub(n)));
    }
}

impl Proxied {
    /// The recording compared with, while the response matches it.
    pub fn recording(&self) -> Option<Rc<Slot>> {
        self.rec.clone().filter(|_| self.active)
    }

    /// The request's own `head_first`.
    pub fn head_first(&self) -> &'static [u8] {
        self.inj.head_first
    }

    /// The response differed from the recording (or cannot be compared): what the fresh
    /// rewriter must be fed again, the matched source, and how many of its output bytes
    /// already went out.
    pub fn differ(&mut self) -> (Rc<Slot>, usize, usize) {
        let head_len = self.inj.head_first.len();
        self.active = false;
        let rec = self.rec.clone().unwrap_or_else(|| Rc::new(Slot::Volatile));
        let verified = self.replay.verified();
        if let Slot::Page { rec: r, replayed } = &*rec {
            if replayed.get() > 0 {
                // a page that was replayed before changed (a deploy): record the new one
                self.source = reserve(self.length, self.budget).and_then(|mut v| {
                    self.reserved += v.capacity();
                    (verified <= v.capacity()).then(|| {
                        v.extend_from_slice(&r.source[..verified]);
                        v
                    })
                });
            } else {
                self.volatile = true;
            }
        }
        (rec, verified, self.replay.sent(head_len))
    }

    /// The response's next bytes, on the streaming path.
    pub fn keep(&mut self, data: &[u8]) {
        if let Some(s) = &mut self.source {
            if s.len() + data.len() > s.capacity() {
                self.source = None;
            } else {
                s.extend_from_slice(data);
            }
        }
    }

    /// The response ended on the streaming path: keep its recording (or the note that the
    /// page changes).
    pub fn finish_streamed(&mut self) {
        let slot = match self.source.take() {
            _ if self.volatile => Slot::Volatile,
            Some(source) => Slot::Page {
                rec: Recorded::new(self.version, &self.inj, source),
                replayed: core::cell::Cell::new(0),
            },
            None => return,
        };
        let size = match &slot {
            Slot::Page { rec, .. } => rec.size(),
            Slot::Volatile => 64,
        };
        let key = self.key;
        self.recorded = matches!(slot, Slot::Page { .. });
        CACHE.with(|c| {
            if let Some(cache) = c.borrow_mut().as_mut() {
                cache.insert(key, Rc::new(slot), size);
            }
        });
    }

    /// The response was replayed whole.
    pub fn finish_replayed(&mut self) {
        self.hit = true;
        if let Some(Slot::Page { replayed, .. }) = self.rec.as_deref() {
            replayed.set(replayed.get() + 1);
        }
    }

    /// `$gray_render_cache`: `HIT` (replayed whole), `MISS` (streamed and recorded), or
    /// empty (streamed, not recorded: too long, no length, or a page that changes).
    pub fn status(&self) -> &'static str {
        match (self.hit, self.recorded) {
            (true, _) => "HIT",
            (_, true) => "MISS",
            _ => "",
        }
    }
}
