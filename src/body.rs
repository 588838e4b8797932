//! The body filter of HTML entry pages (SPEC §6): each incoming buffer goes through the
//! request's [`EntryRewriter`] and what it emits leaves at once, in buffers of the request pool
//! that are recycled as soon as the next filters have sent them (`ngx_chain_update_chains`),
//! so a 50 MB page needs no more memory than a 50 KB one.
//!
//! Two variants replace the body of a 404 entry instead: the inline `html` (status 200, run
//! through the same rewriter) and `rewrite.notFoundUri` (status 404, its content fetched by a
//! subrequest, as nginx's addition module does).
//!
//! Only responses the header filter set up come here with a state; everything else (assets,
//! subrequests, other locations) goes straight to the next filter and keeps `sendfile`.

use core::ptr;

use frontend_gray_core::html::EntryRewriter;
use ngx::core::Status;
use ngx::ffi::{
    ngx_alloc_chain_link, ngx_buf_t, ngx_chain_get_free_buf, ngx_chain_t, ngx_chain_update_chains,
    ngx_http_output_body_filter_pt, ngx_http_request_t, ngx_http_send_special, ngx_http_subrequest,
    ngx_http_top_body_filter, ngx_int_t, ngx_palloc, ngx_pcalloc, ngx_str_t, NGX_HTTP_LAST,
    NGX_LOG_ERR,
};
use ngx::ngx_log_error;

use crate::ctx;
use crate::ffi_guard::guard;

/// Size of the output buffers (the rewriter's output is split into these).
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
    free: *mut ngx_chain_t,
    busy: *mut ngx_chain_t,
    /// The last buffer went out: pass anything after it through.
    done: bool,
}

impl BodyState {
    pub fn new(mode: Mode, rewriter: EntryRewriter<'static>) -> Self {
        BodyState {
            mode,
            rewriter,
            free: ptr::null_mut(),
            busy: ptr::null_mut(),
            done: false,
        }
    }
}

/// The output chain being built for one call of the filter.
struct Out {
    pool: *mut ngx::ffi::ngx_pool_t,
    head: *mut ngx_chain_t,
    tail: *mut *mut ngx_chain_t,
    /// The buffer being filled (the last link of the chain), if it has room.
    cur: *mut ngx_buf_t,
}

impl Out {
    fn new(pool: *mut ngx::ffi::ngx_pool_t) -> Self {
        Out {
            pool,
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            cur: ptr::null_mut(),
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
        }
    }

    /// Copies `data` into recycled (or new) pool buffers of this module.
    fn write(&mut self, free: &mut *mut ngx_chain_t, mut data: &[u8]) -> Option<()> {
        while !data.is_empty() {
            // SAFETY: cur is one of our temporary buffers with start..end allocated
            unsafe {
                if self.cur.is_null() || (*self.cur).last == (*self.cur).end {
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
                    self.cur = b;
                }
                let b = self.cur;
                let room = (*b).end.offset_from((*b).last) as usize;
                let n = room.min(data.len());
                ptr::copy_nonoverlapping(data.as_ptr(), (*b).last, n);
                (*b).last = (*b).last.add(n);
                data = &data[n..];
            }
        }
        Some(())
    }

    /// Appends an empty special buffer (`last_buf` or `flush`).
    fn special(&mut self, last: bool) -> Option<()> {
        // SAFETY: pool allocations, zeroed
        unsafe {
            let b = ngx_pcalloc(self.pool, core::mem::size_of::<ngx_buf_t>()) as *mut ngx_buf_t;
            let cl = ngx_alloc_chain_link(self.pool);
            if b.is_null() || cl.is_null() {
                return None;
            }
            if last {
                (*b).set_last_buf(1);
            } else {
                (*b).set_flush(1);
            }
            (*cl).buf = b;
            self.link(cl);
            self.cur = ptr::null_mut();
        }
        Some(())
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
        _ => return next(r, input),
    };
    guard(Status::NGX_ERROR.into(), || filter(r, st, input))
}

fn filter(r: *mut ngx_http_request_t, st: &mut BodyState, input: *mut ngx_chain_t) -> ngx_int_t {
    // SAFETY: live request
    let (pool, log) = unsafe { ((*r).pool, (*(*r).connection).log) };
    let mut out = Out::new(pool);
    let mut last = false;
    let mut flush = false;
    let mut ok = true; // no allocation failed
    let mut cl = input;
    while !cl.is_null() {
        // SAFETY: nginx chains hold valid buffers; memory buffers span pos..last
        unsafe {
            let b = (*cl).buf;
            if (*b).temporary() != 0 || (*b).memory() != 0 || (*b).mmap() != 0 {
                let len = (*b).last.offset_from((*b).pos) as usize;
                if len > 0 {
                    if let Mode::Rewrite = st.mode {
                        let data = core::slice::from_raw_parts((*b).pos, len);
                        let (free, ok) = (&mut st.free, &mut ok);
                        st.rewriter
                            .write(data, &mut |o| *ok &= out.write(free, o).is_some());
                    }
                }
                (*b).pos = (*b).last;
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
    if last {
        match st.mode {
            Mode::Rewrite => {}
            Mode::InlineHtml(html) => {
                let (free, ok) = (&mut st.free, &mut ok);
                st.rewriter.write(html.as_bytes(), &mut |o| {
                    *ok &= out.write(free, o).is_some()
                });
            }
            Mode::Subrequest(uri) => subrequest = Some(uri),
        }
        let (free, okr) = (&mut st.free, &mut ok);
        st.rewriter
            .end(&mut |o| *okr &= out.write(free, o).is_some());
        if !ok {
            return Status::NGX_ERROR.into();
        }
        st.done = true;
        if subrequest.is_none() && out.special(true).is_none() {
            return Status::NGX_ERROR.into();
        }
    } else if flush && out.special(false).is_none() {
        return Status::NGX_ERROR.into();
    }

    if out.head.is_null() && !input.is_null() && subrequest.is_none() {
        return Status::NGX_OK.into(); // all consumed, nothing to send yet
    }
    let mut chain = out.head;
    let rc = if chain.is_null() && subrequest.is_some() {
        Status::NGX_OK.into()
    } else {
        next(r, chain)
    };
    // SAFETY: pool and chains of this request; recycles our sent buffers into `free`
    unsafe { ngx_chain_update_chains(pool, &mut st.free, &mut st.busy, &mut chain, tag()) };
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
