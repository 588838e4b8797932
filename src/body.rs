//! The body filter of HTML entry pages (SPEC §6): each incoming buffer goes through the
//! request's [`EntryRewriter`] and what it emits leaves at once — mostly as buffers that point
//! into the incoming one (released to its producer once sent), the injected snippets and the
//! version by reference too, the rest copied into pool buffers that are reused as soon as they
//! have been sent — so a 50 MB page needs no more memory than a 50 KB one, and the page's
//! bytes are not copied on the way.
//!
//! Two variants replace the body of a 404 entry instead: the inline `html` (status 200, run
//! through the same rewriter) and `rewrite.notFoundUri` (status 404, its content fetched by a
//! subrequest, as nginx's addition module does).
//!
//! Only responses the header filter set up come here with a state; everything else (assets,
//! subrequests, other locations) goes straight to the next filter and keeps `sendfile`.

use core::ptr;

use frontend_gray_core::html::{EntryRewriter, Injections};
use ngx::core::Status;
use ngx::ffi::{
    ngx_buf_t, ngx_chain_get_free_buf, ngx_chain_t, ngx_http_output_body_filter_pt,
    ngx_http_request_t, ngx_http_send_special, ngx_http_subrequest, ngx_http_top_body_filter,
    ngx_int_t, ngx_palloc, ngx_str_t, NGX_HTTP_LAST, NGX_LOG_ERR,
};
use ngx::ngx_log_error;

use crate::ctx;
use crate::ffi_guard::guard;

/// Size of the buffers that copied bytes go into.
const BUF_SIZE: usize = 16 * 1024;

static mut NEXT_BODY_FILTER: ngx_http_output_body_filter_pt = None;

pub fn register() {
    // SAFETY: configuration time, single-threaded; how every nginx filter registers
    unsafe {
        NEXT_BODY_FILTER = ngx_http_top_body_filter;
        ngx_http_top_body_filter = Some(body_filter);
    }
}

fn next(r: *mut ngx_http_request_t, chain: *mut ngx_chain_t) -> ngx_int_t {
    // SAFETY: set at registration; nginx always has a next body filter
    match unsafe { NEXT_BODY_FILTER } {
        Some(f) => unsafe { f(r, chain) },
        None => Status::NGX_ERROR.into(),
    }
}

pub enum Mode {
    /// Rewrite the response body.
    Rewrite,
    /// Drop the response body; send this HTML (through the rewriter) instead.
    InlineHtml(&'static str),
    /// Drop the response body; a subrequest for this URI provides the page.
    Subrequest(ngx_str_t),
}

pub struct BodyState {
    pub mode: Mode,
    pub rewriter: EntryRewriter<'static>,
    /// Address ranges of the memory the rewriter's pieces may come from that outlives the
    /// request's buffers: the version, the snippets (configuration and request pool).
    stable: [(usize, usize); 6],
    /// Sent buffers of this module, for reuse: `free` own a block of [`BUF_SIZE`] bytes,
    /// `free_bare` point at memory of others (or are special).
    free: *mut ngx_chain_t,
    free_bare: *mut ngx_chain_t,
    /// Buffers handed to the next filter and not yet sent, in order.
    busy: *mut ngx_chain_t,
    /// The last buffer went out: pass anything after it through.
    done: bool,
    /// Set for a page that may come whole from a file (`render_cache.rs`): what the cache
    /// needs to render it, and the page sent, held until the request ends.
    file: Option<FilePage>,
    /// The header filter held the response header back (a page that may come from the
    /// render cache, whose length is known only here): the body filter sends it first.
    pub header_held: bool,
    /// A page that may be replayed from its last recording (`replay.rs`).
    pub proxied: Option<crate::replay::Proxied>,
    /// Bytes of the rewriter's output still to drop: they went out replayed.
    skip: usize,
}

/// The render cache's side of a page (`render_cache.rs`).
pub struct FilePage {
    version: &'static str,
    inj: Injections<'static>,
    config: usize,
    started: bool,
    page: Option<std::rc::Rc<crate::render_cache::Page>>,
    /// The page was in the cache.
    hit: bool,
    /// The length the response was sent with: the file's size.
    length: i64,
    /// The page went out; the rest of the file's buffers are dropped as they come.
    draining: bool,
}

impl BodyState {
    pub fn new(mode: Mode, rewriter: EntryRewriter<'static>) -> Self {
        let stable = rewriter.stable_parts().map(|p| {
            let r = p.as_ptr_range();
            (r.start as usize, r.end as usize)
        });
        BodyState {
            mode,
            rewriter,
            stable,
            free: ptr::null_mut(),
            free_bare: ptr::null_mut(),
            busy: ptr::null_mut(),
            done: false,
            file: None,
            header_held: false,
            proxied: None,
            skip: 0,
        }
    }

    /// The page may arrive as one file buffer: then it comes from the render cache.
    pub fn expect_file(
        &mut self,
        version: &'static str,
        inj: Injections<'static>,
        config: usize,
        length: i64,
    ) {
        self.file = Some(FilePage {
            version,
            inj,
            config,
            started: false,
            page: None,
            hit: false,
            length,
            draining: false,
        });
    }

    /// `$gray_render_cache`: `HIT`, `MISS` (rendered and sent by the cache), or empty.
    pub fn cache_status(&self) -> &'static str {
        if let Some(p) = &self.proxied {
            return p.status();
        }
        match &self.file {
            Some(f) if f.page.is_some() && f.hit => "HIT",
            Some(f) if f.page.is_some() => "MISS",
            _ => "",
        }
    }

    /// The rewriter and the mode, apart from what [`Out`] needs to hand pieces on.
    fn split(&mut self) -> (&mut EntryRewriter<'static>, &mut Mode, Bufs<'_>) {
        let BodyState {
            mode,
            rewriter,
            stable,
            free,
            free_bare,
            ..
        } = self;
        (
            rewriter,
            mode,
            Bufs {
                stable,
                free,
                free_bare,
            },
        )
    }
}

/// The output chain being built for one call of the filter.
///
/// The rewritten page is mostly the input page, so most pieces are *referenced*: a buffer of
/// ours points into the input buffer, and the input buffer is marked consumed only once that
/// buffer has been sent (its `shadow`, released in [`release_sent`]) — how nginx's own
/// sub_filter hands bytes on. Pieces from the version and the snippets are referenced too; the
/// few bytes the rewriter held back across a chunk boundary are copied into pool buffers.
struct Out {
    pool: *mut ngx::ffi::ngx_pool_t,
    head: *mut ngx_chain_t,
    tail: *mut *mut ngx_chain_t,
    /// The last buffer linked.
    last: *mut ngx_buf_t,
    /// `last` is a copy buffer that may take more bytes.
    filling: bool,
    /// The input buffer being rewritten, and its bytes' address range.
    input: *mut ngx_buf_t,
    input_range: (usize, usize),
    /// Some output points into `input`.
    uses_input: bool,
    /// Bytes of output to drop before any goes out (they went out replayed).
    skip: usize,
}

impl Out {
    fn new(pool: *mut ngx::ffi::ngx_pool_t) -> Self {
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

    fn link(&mut self, cl: *mut ngx_chain_t) {
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
    fn bare(&mut self, free_bare: &mut *mut ngx_chain_t) -> Option<*mut ngx_buf_t> {
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
    fn put(&mut self, st: &mut Bufs, mut data: &[u8]) -> Option<()> {
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
    fn refer(&mut self, free_bare: &mut *mut ngx_chain_t, data: &[u8]) -> Option<()> {
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
    fn file_part(
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
    fn copy(&mut self, free: &mut *mut ngx_chain_t, mut data: &[u8]) -> Option<()> {
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
    fn begin_input(&mut self, b: *mut ngx_buf_t) {
        // SAFETY: a live buffer with pos..last in memory
        let (p, l) = unsafe { ((*b).pos as usize, (*b).last as usize) };
        self.input = b;
        self.input_range = (p, l);
        self.uses_input = false;
    }

    /// Done with the current input buffer: consumed now when nothing points into it, else
    /// when the last buffer that does has been sent.
    fn end_input(&mut self, st: &mut Bufs) -> Option<()> {
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
    fn special(&mut self, st: &mut Bufs, last: bool) -> Option<()> {
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
struct Bufs<'a> {
    stable: &'a [(usize, usize)],
    free: &'a mut *mut ngx_chain_t,
    free_bare: &'a mut *mut ngx_chain_t,
}

/// Moves `out` to the end of `busy`, then takes the sent buffers (empty ones) off its front,
/// in order: a sent buffer's shadow — an input buffer it was the last to point into — is
/// marked consumed for its producer, and the buffer goes back to its free list.
///
/// # Safety
/// All links are this module's, from the request pool.
unsafe fn release_sent(st: &mut BodyState, out: *mut ngx_chain_t) {
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

fn tag() -> ngx::ffi::ngx_buf_tag_t {
    // only the address of the module is taken
    ptr::addr_of!(crate::ngx_http_frontend_gray_module) as ngx::ffi::ngx_buf_tag_t
}

extern "C" fn body_filter(r: *mut ngx_http_request_t, input: *mut ngx_chain_t) -> ngx_int_t {
    // SAFETY: nginx passes a live request
    let rr = unsafe { &*r };
    if rr.main != r {
        return next(r, input);
    }
    let Some(c) = ctx::get(rr) else {
        return next(r, input);
    };
    let st = match c.body() {
        Some(st) if !st.done => st,
        Some(st) if st.file.as_ref().is_some_and(|f| f.draining) => {
            // the page went out from the render cache: the file's later pieces are dropped
            // SAFETY: nginx chains hold valid buffers
            let last = unsafe { consume(input) };
            if let (true, Some(f)) = (last, st.file.as_mut()) {
                f.draining = false;
            }
            return Status::NGX_OK.into();
        }
        _ => return next(r, input),
    };
    guard(Status::NGX_ERROR.into(), || filter(r, st, input))
}

fn filter(r: *mut ngx_http_request_t, st: &mut BodyState, input: *mut ngx_chain_t) -> ngx_int_t {
    if st.file.as_ref().is_some_and(|f| !f.started) && !input.is_null() {
        if let Some(rc) = from_cache(r, st, input) {
            return rc;
        }
    }
    if st.header_held {
        // streamed: the length is unknown, the page goes out chunked (or until close)
        st.header_held = false;
        let rc = crate::filter::send_header(r);
        // SAFETY: live request
        if rc == Status::NGX_ERROR.0 || rc > Status::NGX_OK.0 || unsafe { (*r).header_only() } != 0
        {
            return rc;
        }
    }
    // SAFETY: live request
    let (pool, log) = unsafe { ((*r).pool, (*(*r).connection).log) };
    let mut out = Out::new(pool);
    out.skip = st.skip;
    let mut last = false;
    let mut flush = false;
    let mut ok = true; // no allocation failed
    let rewrite = matches!(st.mode, Mode::Rewrite);
    if let Some(f) = st.file.as_mut() {
        f.started = true;
    }
    let mut cl = input;
    while !cl.is_null() {
        // SAFETY: nginx chains hold valid buffers; memory buffers span pos..last
        unsafe {
            let b = (*cl).buf;
            let in_memory = (*b).temporary() != 0 || (*b).memory() != 0 || (*b).mmap() != 0;
            if (*b).in_file() != 0 && !in_memory && rewrite && st.file.is_some() {
                // a file piece let through for the render cache that it could not take:
                // read here (its size was checked against the cache's bound)
                if !read_file_buf(pool, b) {
                    ngx_log_error!(
                        NGX_LOG_ERR,
                        log,
                        "frontend_gray: cannot read the entry page's file"
                    );
                    return Status::NGX_ERROR.into();
                }
            }
            if (*b).temporary() != 0 || (*b).memory() != 0 || (*b).mmap() != 0 {
                let len = (*b).last.offset_from((*b).pos) as usize;
                let data = core::slice::from_raw_parts((*b).pos, len);
                if len > 0 && rewrite && replayed(st, &mut out, data, &mut ok) {
                    (*b).pos = (*b).last; // matched the recording, whose page went out
                } else if len > 0 && rewrite {
                    if let Some(p) = st.proxied.as_mut() {
                        p.keep(data);
                    }
                    out.begin_input(b);
                    let (rewriter, _, mut bufs) = st.split();
                    rewriter.write(data, &mut |o| ok &= out.put(&mut bufs, o).is_some());
                    ok &= out.end_input(&mut bufs).is_some();
                } else {
                    (*b).pos = (*b).last; // dropped (or empty)
                }
            }
            if (*b).in_file() != 0 {
                (*b).file_pos = (*b).file_last;
            }
            last |= (*b).last_buf() != 0;
            flush |= (*b).flush() != 0;
            cl = (*cl).next;
        }
    }

    if !ok {
        ngx_log_error!(
            NGX_LOG_ERR,
            log,
            "frontend_gray: out of memory for the entry page's buffers"
        );
        return Status::NGX_ERROR.into();
    }
    let mut subrequest = None;
    if last && replay_ended(st, &mut out, &mut ok) {
        // the whole page went out from its recording
        if !ok || out.special(&mut st.split().2, true).is_none() {
            return Status::NGX_ERROR.into();
        }
        st.done = true;
    } else if last {
        if let Some(p) = st.proxied.as_mut() {
            p.finish_streamed();
        }
        let (rewriter, mode, mut bufs) = st.split();
        let mut put = |o: &[u8]| ok &= out.put(&mut bufs, o).is_some();
        match mode {
            Mode::Rewrite => {}
            Mode::InlineHtml(html) => rewriter.write(html.as_bytes(), &mut put),
            Mode::Subrequest(uri) => subrequest = Some(*uri),
        }
        rewriter.end(&mut put);
        if !ok || (subrequest.is_none() && out.special(&mut bufs, true).is_none()) {
            return Status::NGX_ERROR.into();
        }
        st.done = true;
    } else if flush && out.special(&mut st.split().2, false).is_none() {
        return Status::NGX_ERROR.into();
    }

    st.skip = out.skip;
    if out.head.is_null() && !input.is_null() && subrequest.is_none() {
        return Status::NGX_OK.into(); // all consumed, nothing to send yet
    }
    let chain = out.head;
    let rc = if chain.is_null() && subrequest.is_some() {
        Status::NGX_OK.into()
    } else {
        next(r, chain)
    };
    // SAFETY: our chain links, from the request pool
    unsafe { release_sent(st, chain) };
    if rc == Status::NGX_ERROR.0 {
        return rc;
    }
    if let Some(mut uri) = subrequest {
        // The page of rewrite.notFoundUri, in place of the dropped 404 body; nginx's postpone
        // filter sends the subrequest's output where it belongs, then the last buffer.
        let mut sr = ptr::null_mut();
        // SAFETY: live main request; uri lives in the request pool
        let rc = unsafe {
            ngx_http_subrequest(r, &mut uri, ptr::null_mut(), &mut sr, ptr::null_mut(), 0)
        };
        if rc != Status::NGX_OK.0 {
            return Status::NGX_ERROR.into();
        }
        // SAFETY: live request; re-enters this filter, which passes it on (done is set)
        return unsafe { ngx_http_send_special(r, NGX_HTTP_LAST as _) };
    }
    rc
}

/// `data`, the response's next bytes, compared with the page's recording: when they match,
/// what the recording's page has ready goes into `out` (true); when they differ, the fresh
/// rewriter is fed the matched source, its output set to skip what went out, and the caller
/// streams `data` on (false, as when there is no recording).
fn replayed(st: &mut BodyState, out: &mut Out, data: &[u8], ok: &mut bool) -> bool {
    let Some(p) = st.proxied.as_mut() else {
        return false;
    };
    let Some(slot) = p.recording() else {
        return false;
    };
    let crate::replay::Slot::Page { rec, .. } = &*slot else {
        return false;
    };
    if p.replay.feed(rec, data) {
        let e = p.replay.ready(rec, false);
        *ok &= emit(out, &mut st.free_bare, e, p.head_first()).is_some();
        return true;
    }
    differ(st, out, ok);
    false
}

/// The response's last buffer came while it matched its recording: the rest of the page
/// goes out (true), or, when the response was shorter, the fresh rewriter takes over
/// (false).
fn replay_ended(st: &mut BodyState, out: &mut Out, ok: &mut bool) -> bool {
    let Some(p) = st.proxied.as_mut() else {
        return false;
    };
    let Some(slot) = p.recording() else {
        return false;
    };
    let crate::replay::Slot::Page { rec, .. } = &*slot else {
        return false;
    };
    if p.replay.complete(rec) {
        let e = p.replay.ready(rec, true);
        *ok &= emit(out, &mut st.free_bare, e, p.head_first()).is_some();
        p.finish_replayed();
        return true;
    }
    differ(st, out, ok);
    if let Some(p) = st.proxied.as_mut() {
        p.finish_streamed();
    }
    false
}

/// The response differs from its recording from here on: the fresh rewriter is fed the
/// source that matched, and its output skips what went out replayed.
fn differ(st: &mut BodyState, out: &mut Out, ok: &mut bool) {
    let Some(p) = st.proxied.as_mut() else {
        return;
    };
    let (slot, verified, sent) = p.differ();
    out.skip = sent;
    if let crate::replay::Slot::Page { rec, .. } = &*slot {
        let (rewriter, _, mut bufs) = st.split();
        rewriter.write(&rec.source[..verified], &mut |o| {
            *ok &= out.put(&mut bufs, o).is_some()
        });
    }
}

/// Pieces of a recording's page (held until the request ends) and the request's
/// `head_first`, by reference.
fn emit(
    out: &mut Out,
    free_bare: &mut *mut ngx_chain_t,
    e: frontend_gray_core::html::replay::Emit<'_>,
    head_first: &[u8],
) -> Option<()> {
    out.refer(free_bare, e.before)?;
    if e.head {
        out.refer(free_bare, head_first)?;
    }
    out.refer(free_bare, e.after)
}

/// Reads the bytes of file buffer `b` into request memory, making it a memory buffer.
///
/// # Safety
/// `b` is a live file buffer of this request.
unsafe fn read_file_buf(pool: *mut ngx::ffi::ngx_pool_t, b: *mut ngx_buf_t) -> bool {
    unsafe {
        let len = ((*b).file_last - (*b).file_pos).max(0) as usize;
        if len == 0 {
            return true;
        }
        let mem = ngx_palloc(pool, len) as *mut u8;
        if mem.is_null() || (*b).file.is_null() {
            return false;
        }
        let n = ngx::ffi::ngx_read_file((*b).file, mem, len, (*b).file_pos);
        if n != len as isize {
            return false;
        }
        (*b).start = mem;
        (*b).pos = mem;
        (*b).last = mem.add(len);
        (*b).end = (*b).last;
        (*b).set_temporary(1);
        (*b).file_pos = (*b).file_last;
        true
    }
}

/// A page that came as one buffer of a whole file: sent from the render cache (rendered
/// and kept on a miss), with this request's `head_first` in its place. `None`: not such a
/// page, or its file could not be read; the streaming path takes it.
fn from_cache(
    r: *mut ngx_http_request_t,
    st: &mut BodyState,
    input: *mut ngx_chain_t,
) -> Option<ngx_int_t> {
    // SAFETY: live request and chain
    let b = unsafe { (*input).buf };
    let length = st.file.as_ref()?.length;
    // SAFETY: a live buffer
    let (fd, fs) = unsafe { crate::render_cache::file_identity(b, length) }?;
    // SAFETY: live request
    let mcf = <crate::Module as ngx::http::HttpModuleMainConf>::main_conf(unsafe { &*r })?;
    let f = st.file.as_mut()?;
    let (page, hit) = crate::render_cache::page(mcf, fd, fs, f.version, &f.inj, f.config)?;
    f.started = true;
    f.hit = hit;
    // SAFETY: live buffers: consumed (the file's own, unread)
    f.draining = !unsafe { consume(input) };
    let (before, after) = page.parts();
    let head_first = match page.split() {
        Some(_) => f.inj.head_first,
        None => &[][..],
    };
    f.page = Some(page.clone());
    if st.header_held {
        // the page's whole length is known: no chunked encoding
        st.header_held = false;
        // SAFETY: live request
        unsafe {
            (*r).headers_out.content_length_n =
                (before.len() + head_first.len() + after.len()) as i64;
        }
        let rc = crate::filter::send_header(r);
        // SAFETY: live request
        if rc == Status::NGX_ERROR.0 || rc > Status::NGX_OK.0 || unsafe { (*r).header_only() } != 0
        {
            st.done = true;
            return Some(rc);
        }
    }
    // SAFETY: live request
    let pool = unsafe { (*r).pool };
    let mut out = Out::new(pool);
    // the constant parts by sendfile from the page's memory file, unless a later filter
    // (gzip …) needs the bytes in memory; what comes before `head_first` (the page up to
    // `<head>`, mostly) and a short rest in memory, so that the header, that start and
    // `head_first` leave in one writev and the rest in one sendfile, as a static file does
    // SAFETY: live request (need_in_memory is known once the header filters ran)
    let in_memory =
        unsafe { (*r).main_filter_need_in_memory() != 0 || (*r).filter_need_in_memory() != 0 };
    let file = if in_memory { None } else { page.fd() };
    let by_file = |part: &[u8], limit| file.filter(|_| part.len() >= limit);
    let (_, _, bufs) = st.split();
    let mut ok = match by_file(before, crate::render_cache::PREFIX_MAX) {
        Some(fd) => out.file_part(bufs.free_bare, fd, 0, before.len()).is_some(),
        None => out.refer(bufs.free_bare, before).is_some(),
    };
    ok &= out.refer(bufs.free_bare, head_first).is_some();
    ok &= match by_file(after, crate::render_cache::SENDFILE_MIN) {
        Some(fd) => out
            .file_part(bufs.free_bare, fd, before.len(), after.len())
            .is_some(),
        None => out.refer(bufs.free_bare, after).is_some(),
    };
    let mut bufs = st.split().2;
    ok &= out.special(&mut bufs, true).is_some();
    if !ok {
        return Some(Status::NGX_ERROR.into());
    }
    st.done = true;
    let chain = out.head;
    let rc = next(r, chain);
    // SAFETY: our chain links, from the request pool
    unsafe { release_sent(st, chain) };
    Some(rc)
}

/// Marks every buffer of `input` consumed; whether the last one was among them.
///
/// # Safety
/// `input` is a live chain.
unsafe fn consume(input: *mut ngx_chain_t) -> bool {
    let mut last = false;
    let mut cl = input;
    unsafe {
        while !cl.is_null() {
            let b = (*cl).buf;
            (*b).pos = (*b).last;
            if (*b).in_file() != 0 {
                (*b).file_pos = (*b).file_last;
            }
            last |= (*b).last_buf() != 0;
            cl = (*cl).next;
        }
    }
    last
}
