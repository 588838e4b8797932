//! The sliding window of a guard: a ring of [`Sample`]s of the cumulative counters, one at
//! most every [`slot_width`] seconds, kept plain ([`Ring`]) or in shared memory
//! ([`SharedRing`], written under the zone lock, read by anyone).

use super::guard::ErrorKinds;
use super::shared::SeqWords;
use crate::status::{self, CountKind};

/// Samples in a ring.
pub const RING_SLOTS: usize = 64;
/// Words of one encoded sample.
pub const SAMPLE_WORDS: usize = 9;
/// Words of an encoded ring: `len`, `next`, then the slots.
pub const RING_WORDS: usize = 2 + RING_SLOTS * SAMPLE_WORDS;

/// Seconds between two samples of a window: `ceil(window / 60)`, at least 1.
pub fn slot_width(window: u64) -> u64 {
    window.div_ceil(60).max(1)
}

/// The cumulative counters of a gray deployment and of its app's base at time `t`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    pub t: u64,
    pub entries: u64,
    pub err_5xx: u64,
    pub asset404: u64,
    pub js_errors: u64,
    pub base_entries: u64,
    pub base_5xx: u64,
    pub base_asset404: u64,
    pub base_js: u64,
}

impl Sample {
    /// A sample from the counter snapshots ([`status::Counters::snapshot`]) of the gray
    /// deployment and of base.
    pub fn from_counts(
        t: u64,
        gray: &[u64; status::N_COUNTERS],
        base: &[u64; status::N_COUNTERS],
    ) -> Sample {
        let fives = |c: &[u64; status::N_COUNTERS]| {
            CountKind::ALL
                .iter()
                .fold(0u64, |a, k| a.saturating_add(c[status::status_slot(*k, 3)]))
        };
        let entry = status::total_slot(CountKind::Entry);
        Sample {
            t,
            entries: gray[entry],
            err_5xx: fives(gray),
            asset404: gray[status::ASSET_404],
            js_errors: gray[status::JS_ERRORS],
            base_entries: base[entry],
            base_5xx: fives(base),
            base_asset404: base[status::ASSET_404],
            base_js: base[status::JS_ERRORS],
        }
    }

    pub fn to_words(&self) -> [u64; SAMPLE_WORDS] {
        [
            self.t,
            self.entries,
            self.err_5xx,
            self.asset404,
            self.js_errors,
            self.base_entries,
            self.base_5xx,
            self.base_asset404,
            self.base_js,
        ]
    }

    pub fn from_words(w: &[u64; SAMPLE_WORDS]) -> Sample {
        let [t, entries, err_5xx, asset404, js_errors, base_entries, base_5xx, base_asset404, base_js] =
            *w;
        Sample {
            t,
            entries,
            err_5xx,
            asset404,
            js_errors,
            base_entries,
            base_5xx,
            base_asset404,
            base_js,
        }
    }

    /// No counter (and not the time) is above `later`'s: `later` can follow `self`.
    pub(super) fn precedes(&self, later: &Sample) -> bool {
        self.to_words()
            .iter()
            .zip(later.to_words())
            .all(|(a, b)| *a <= b)
    }

    pub(super) fn errors(&self, k: ErrorKinds) -> (u64, u64) {
        let pick = |on: u8, g: u64, b: u64| if k.has(on) { (g, b) } else { (0, 0) };
        [
            pick(ErrorKinds::SERVER, self.err_5xx, self.base_5xx),
            pick(ErrorKinds::ASSET_404, self.asset404, self.base_asset404),
            pick(ErrorKinds::JS, self.js_errors, self.base_js),
        ]
        .iter()
        .fold((0u64, 0u64), |(g, b), (x, y)| {
            (g.saturating_add(*x), b.saturating_add(*y))
        })
    }
}

/// The window's samples, oldest first from `next - len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    slots: [Sample; RING_SLOTS],
    len: usize,
    next: usize,
}

impl Default for Ring {
    fn default() -> Self {
        Ring {
            slots: [Sample::default(); RING_SLOTS],
            len: 0,
            next: 0,
        }
    }
}

impl Ring {
    pub(super) fn iter(&self) -> impl Iterator<Item = &Sample> {
        (0..self.len)
            .map(move |i| &self.slots[(self.next + RING_SLOTS - self.len + i) % RING_SLOTS])
    }

    fn newest(&self) -> Option<&Sample> {
        self.iter().last()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the window (PATCH `reset`): the next judgement counts from the next sample.
    pub fn clear(&mut self) {
        *self = Ring::default();
    }

    /// Adds `s` unless the newest sample is less than [`slot_width`] old (or newer: the
    /// workers' cached clocks differ by a second); returns whether it did. Counters that
    /// went backwards (counters cleared) empty the ring first: the window starts again.
    pub fn record(&mut self, window: u64, s: Sample) -> bool {
        if let Some(n) = self.newest() {
            if !(Sample { t: 0, ..*n }).precedes(&Sample { t: 0, ..s }) {
                self.clear();
            } else if s.t < n.t.saturating_add(slot_width(window)) {
                return false;
            }
        }
        self.slots[self.next] = s;
        self.next = (self.next + 1) % RING_SLOTS;
        self.len = (self.len + 1).min(RING_SLOTS);
        true
    }

    pub fn to_words(&self) -> [u64; RING_WORDS] {
        let mut w = [0u64; RING_WORDS];
        w[0] = self.len as u64;
        w[1] = self.next as u64;
        for (chunk, s) in w[2..].chunks_exact_mut(SAMPLE_WORDS).zip(&self.slots) {
            chunk.copy_from_slice(&s.to_words());
        }
        w
    }

    /// The ring of [`Ring::to_words`]; out-of-range positions give an empty ring.
    pub fn from_words(w: &[u64; RING_WORDS]) -> Ring {
        let mut r = Ring::default();
        let (len, next) = (w[0], w[1]);
        if len > RING_SLOTS as u64 || next >= RING_SLOTS as u64 {
            return r;
        }
        for (s, chunk) in r.slots.iter_mut().zip(w[2..].chunks_exact(SAMPLE_WORDS)) {
            let mut a = [0u64; SAMPLE_WORDS];
            a.copy_from_slice(chunk);
            *s = Sample::from_words(&a);
        }
        r.len = len as usize;
        r.next = next as usize;
        r
    }
}

/// A [`Ring`] in shared memory: written under the zone lock, read by anyone.
#[repr(C)]
#[derive(Debug, Default)]
pub struct SharedRing(pub SeqWords<RING_WORDS>);

impl SharedRing {
    /// The ring (empty when a concurrent writer kept tearing the copy).
    pub fn load(&self) -> Ring {
        self.0
            .load()
            .map(|w| Ring::from_words(&w))
            .unwrap_or_default()
    }
    /// Under the zone lock: stores the ring.
    pub fn store(&self, r: &Ring) {
        self.0.store(&r.to_words());
    }
    /// Under the zone lock: [`Ring::record`] on the shared ring.
    pub fn record(&self, window: u64, s: Sample) -> bool {
        let mut r = self.load();
        let added = r.record(window, s);
        if added {
            self.store(&r);
        }
        added
    }
    /// Under the zone lock: empties the window.
    pub fn clear(&self) {
        self.store(&Ring::default());
    }
}
