//! A fixed number of `u64` words in shared memory, written by one process at a time (the
//! glue holds the zone lock) and read by any process without a lock: a sequence lock.
//! The writer makes the sequence odd, stores the words, makes it even again; a reader
//! that saw the same even sequence before and after its loads has a consistent copy.
//! Every access is atomic, so a torn read is detected and retried, never undefined.

use std::sync::atomic::{fence, AtomicU64, Ordering};

/// How many times a lock-free reader retries a copy that a writer tore.
const READ_TRIES: usize = 64;

/// `N` words and their sequence, as they sit in shared memory (all zero is valid).
#[repr(C)]
#[derive(Debug)]
pub struct SeqWords<const N: usize> {
    seq: AtomicU64,
    words: [AtomicU64; N],
}

impl<const N: usize> Default for SeqWords<N> {
    fn default() -> Self {
        SeqWords {
            seq: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl<const N: usize> SeqWords<N> {
    /// Stores all the words. Callers must not write concurrently (hold the zone lock).
    pub fn store(&self, w: &[u64; N]) {
        let odd = self.seq.load(Ordering::Relaxed).wrapping_add(1) | 1;
        self.seq.store(odd, Ordering::Relaxed);
        fence(Ordering::Release);
        for (a, v) in self.words.iter().zip(w) {
            a.store(*v, Ordering::Relaxed);
        }
        self.seq.store(odd.wrapping_add(1), Ordering::Release);
    }

    /// A consistent copy of the words, or `None` when writers kept tearing it (a reader
    /// under the lock always gets one).
    pub fn load(&self) -> Option<[u64; N]> {
        for _ in 0..READ_TRIES {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let mut out = [0u64; N];
            for (o, a) in out.iter_mut().zip(&self.words) {
                *o = a.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == s1 {
                return Some(out);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn() {
        let w = SeqWords::<3>::default();
        assert_eq!(w.load(), Some([0, 0, 0]));
        w.store(&[1, 2, 3]);
        assert_eq!(w.load(), Some([1, 2, 3]));
        // a writer that died mid-store leaves an odd sequence: readers give up, no hang
        w.seq.store(7, Ordering::Relaxed);
        assert_eq!(w.load(), None);
        w.store(&[4, 5, 6]);
        assert_eq!(w.load(), Some([4, 5, 6]));
    }
}
