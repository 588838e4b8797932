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
    ngx_buf_t, ngx_chain_t, ngx_http_output_body_filter_pt, ngx_http_request_t,
    ngx_http_send_special, ngx_http_subrequest, ngx_http_top_body_filter, ngx_int_t, ngx_palloc,
    ngx_str_t, NGX_HTTP_LAST, NGX_LOG_ERR,
};
use ngx::ngx_log_error;

use crate::ctx;
use crate::ffi_guard::guard;

mod out;
mod replayed;

use out::{release_sent, Bufs, Out};
use replayed::{replay_ended, replayed};

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
    /// Sent buffers of this module, for reuse: `free` own a block of `BUF_SIZE` bytes,
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
