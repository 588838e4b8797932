//! The output chain the body filter builds (see `body.rs`): pieces of the rewritten page by
//! reference where their memory outlives the buffer, copied into recycled pool buffers where
//! not, and the sent buffers handed back.

use core::ptr;

use ngx::ffi::{ngx_buf_t, ngx_chain_get_free_buf, ngx_chain_t, ngx_palloc};

use super::BodyState;

/// Size of the buffers that copied bytes go into.
const BUF_SIZE: usize = 16 * 1024;

/// The output chain being built for one call of the filter.
///
/// The rewritten page is mostly the input page, so most pieces are *referenced*: a buffer of
/// ours points into the input buffer, and the input buffer is marked consumed only once that
/// buffer has been sent (its `shadow`, released in [`release_sent`]) — how nginx's own
/// sub_filter hands bytes on. Pieces from the version and the snippets are referenced too; the
/// few bytes the rewriter held back across a chunk boundary are copied into pool buffers.
pub(super) struct Out {
    pub(super) pool: *mut ngx::ffi::ngx_pool_t,
    pub(super) head: *mut ngx_chain_t,
    pub(super) tail: *mut *mut ngx_chain_t,
    /// The last buffer linked.
    pub(super) last: *mut ngx_buf_t,
    /// `last` is a copy buffer that may take more bytes.
    pub(super) filling: bool,
    /// The input buffer being rewritten, and its bytes' address range.
    pub(super) input: *mut ngx_buf_t,
    pub(super) input_range: (usize, usize),
    /// Some output points into `input`.
    pub(super) uses_input: bool,
    /// Bytes of output to drop before any goes out (they went out replayed).
    pub(super) skip: usize,
}

impl Out {
    pub(super) fn new(pool: *mut ngx::ffi::ngx_pool_t) -> Self {
        Out {
            pool,
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            last: ptr::null_mut(),
            filling: false,
            input: ptr::null_mut(),
            input_range: (0, 0),
            uses_input: false,
            skip: 0,
        }
    }

    pub(super) fn link(&mut self, cl: *mut ngx_chain_t) {
        // SAFETY: cl is a fresh chain link
        unsafe {
            (*cl).next = ptr::null_mut();
            if self.tail.is_null() {
                self.head = cl;
            } else {
                *self.tail = cl;
            }
            self.tail = &mut (*cl).next;
            self.last = (*cl).buf;
        }
        self.filling = false;
    }

    /// A zeroed buffer of ours (recycled or new) that owns no memory.
    pub(super) fn bare(&mut self, free_bare: &mut *mut ngx_chain_t) -> Option<*mut ngx_buf_t> {
        // SAFETY: request pool; a recycled buffer is ours and sent
        unsafe {
            let cl = ngx_chain_get_free_buf(self.pool, free_bare);
            if cl.is_null() {
                return None;
            }
            let b = (*cl).buf;
            ptr::write_bytes(b, 0, 1);
            (*b).tag = tag();
            self.link(cl);
            Some(b)
        }
    }

    /// Hands on one piece of the rewritten page.
    pub(super) fn put(&mut self, st: &mut Bufs, mut data: &[u8]) -> Option<()> {
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            data = &data[n..];
        }
        if data.is_empty() {
            return Some(());
        }
        let (a, e) = (data.as_ptr() as usize, data.as_ptr() as usize + data.len());
        let from_input = self.input_range.0 <= a && e <= self.input_range.1;
        if !from_input && !st.stable.iter().any(|&(s, t)| s <= a && e <= t) {
            return self.copy(st.free, data);
        }
        self.uses_input |= from_input;
        // SAFETY: `last` is a buffer of ours in this chain; data outlives the buffer (the
        // input until released, the rest until the request ends)
        unsafe {
            let l = self.last;
            if !self.filling
                && !l.is_null()
                && (*l).memory() != 0
                && (*l).shadow.is_null()
                && (*l).last as usize == a
            {
                (*l).last = (*l).last.add(data.len()); // contiguous with the previous piece
                return Some(());
            }
            let b = self.bare(st.free_bare)?;
            (*b).pos = data.as_ptr() as *mut u8;
            (*b).last = (*b).pos.add(data.len());
            (*b).set_memory(1);
            // as the producer's own buffers: send promptly, the producer wants them back
            (*b).set_recycled(1);
        }
        Some(())
    }

    /// Hands on `data`, memory that outlives the request's buffers, by reference.
    pub(super) fn refer(&mut self, free_bare: &mut *mut ngx_chain_t, data: &[u8]) -> Option<()> {
        if data.is_empty() {
            return Some(());
        }
        let b = self.bare(free_bare)?;
        // SAFETY: a zeroed buffer of ours; data lives until the request ends
        unsafe {
            (*b).pos = data.as_ptr() as *mut u8;
            (*b).last = (*b).pos.add(data.len());
            (*b).set_memory(1);
        }
        Some(())
    }

    /// Hands on `len` bytes at `offset` of the memory file `fd` (which outlives the request),
    /// as a file buffer for sendfile.
    pub(super) fn file_part(
        &mut self,
        free_bare: &mut *mut ngx_chain_t,
        fd: i32,
        offset: usize,
        len: usize,
    ) -> Option<()> {
        if len == 0 {
            return Some(());
        }
        // SAFETY: request pool; a zeroed file record and a zeroed buffer of ours
        unsafe {
            let file =
                ngx::ffi::ngx_pcalloc(self.pool, core::mem::size_of::<ngx::ffi::ngx_file_t>())
                    as *mut ngx::ffi::ngx_file_t;
            if file.is_null() {
                return None;
            }
            (*file).fd = fd;
            (*file).name = ngx::ngx_string!("frontend-gray render cache");
            (*file).log = (*self.pool).log;
            let b = self.bare(free_bare)?;
            (*b).set_in_file(1);
            (*b).file = file;
            (*b).file_pos = offset as i64;
            (*b).file_last = (offset + len) as i64;
        }
        Some(())
    }

    /// Copies `data` into recycled (or new) pool buffers of this module.
    pub(super) fn copy(&mut self, free: &mut *mut ngx_chain_t, mut data: &[u8]) -> Option<()> {
        while !data.is_empty() {
            // SAFETY: `last`, when filling, is one of our temporary buffers with start..end
            // allocated
            unsafe {
                if !self.filling || (*self.last).last == (*self.last).end {
                    let cl = ngx_chain_get_free_buf(self.pool, free);
                    if cl.is_null() {
                        return None;
                    }
                    let b = (*cl).buf;
                    if (*b).start.is_null() {
                        let mem = ngx_palloc(self.pool, BUF_SIZE) as *mut u8;
                        if mem.is_null() {
                            return None;
                        }
                        (*b).start = mem;
                        (*b).end = mem.add(BUF_SIZE);
                    }
                    (*b).pos = (*b).start;
                    (*b).last = (*b).start;
                    (*b).set_temporary(1);
                    (*b).set_recycled(1);
                    (*b).tag = tag();
                    self.link(cl);
                    self.filling = true;
                }
                let b = self.last;
                let room = (*b).end.offset_from((*b).last) as usize;
                let n = room.min(data.len());
                ptr::copy_nonoverlapping(data.as_ptr(), (*b).last, n);
                (*b).last = (*b).last.add(n);
                data = &data[n..];
            }
        }
        Some(())
    }

    /// Starts on input buffer `b`, whose bytes are in memory.
    pub(super) fn begin_input(&mut self, b: *mut ngx_buf_t) {
        // SAFETY: a live buffer with pos..last in memory
        let (p, l) = unsafe { ((*b).pos as usize, (*b).last as usize) };
        self.input = b;
        self.input_range = (p, l);
        self.uses_input = false;
    }

    /// Done with the current input buffer: consumed now when nothing points into it, else
    /// when the last buffer that does has been sent.
    pub(super) fn end_input(&mut self, st: &mut Bufs) -> Option<()> {
        let b = core::mem::replace(&mut self.input, ptr::null_mut());
        self.input_range = (0, 0);
        if b.is_null() {
            return Some(());
        }
        // SAFETY: b is the live input buffer; `last` a buffer of ours in this chain
        unsafe {
            if !self.uses_input {
                (*b).pos = (*b).last;
                return Some(());
            }
            let l = if !self.filling && (*self.last).shadow.is_null() {
                self.last
            } else {
                let s = self.bare(st.free_bare)?;
                (*s).set_sync(1);
                s
            };
            (*l).shadow = b;
        }
        Some(())
    }

    /// Appends an empty special buffer (`last_buf` or `flush`).
    pub(super) fn special(&mut self, st: &mut Bufs, last: bool) -> Option<()> {
        let b = self.bare(st.free_bare)?;
        // SAFETY: a zeroed buffer of ours
        unsafe {
            if last {
                (*b).set_last_buf(1);
            } else {
                (*b).set_flush(1);
            }
        }
        Some(())
    }
}

/// What [`Out`] needs of [`BodyState`]: the stable ranges and the free lists.
pub(super) struct Bufs<'a> {
    pub(super) stable: &'a [(usize, usize)],
    pub(super) free: &'a mut *mut ngx_chain_t,
    pub(super) free_bare: &'a mut *mut ngx_chain_t,
}

/// Moves `out` to the end of `busy`, then takes the sent buffers (empty ones) off its front,
/// in order: a sent buffer's shadow — an input buffer it was the last to point into — is
/// marked consumed for its producer, and the buffer goes back to its free list.
///
/// # Safety
/// All links are this module's, from the request pool.
pub(super) unsafe fn release_sent(st: &mut BodyState, out: *mut ngx_chain_t) {
    unsafe {
        if !out.is_null() {
            let mut t = &mut st.busy as *mut *mut ngx_chain_t;
            while !(*t).is_null() {
                t = &mut (**t).next;
            }
            *t = out;
        }
        while !st.busy.is_null() {
            let cl = st.busy;
            let b = (*cl).buf;
            let in_memory = (*b).temporary() != 0 || (*b).memory() != 0 || (*b).mmap() != 0;
            if (in_memory && (*b).pos != (*b).last)
                || (!in_memory && (*b).in_file() != 0 && (*b).file_pos != (*b).file_last)
            {
                break; // not sent yet
            }
            if !(*b).shadow.is_null() {
                let s = (*b).shadow;
                (*s).pos = (*s).last;
                (*b).shadow = ptr::null_mut();
            }
            st.busy = (*cl).next;
            if (*b).temporary() != 0 && !(*b).start.is_null() {
                (*b).pos = (*b).start;
                (*b).last = (*b).start;
                (*cl).next = st.free;
                st.free = cl;
            } else {
                (*cl).next = st.free_bare;
                st.free_bare = cl;
            }
        }
    }
}

pub(super) fn tag() -> ngx::ffi::ngx_buf_tag_t {
    // only the address of the module is taken
    ptr::addr_of!(crate::ngx_http_frontend_gray_module) as ngx::ffi::ngx_buf_tag_t
}
