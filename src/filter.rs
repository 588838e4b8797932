//! The header filter of entry responses (SPEC §6): `Cache-Control` on entries, and the
//! version / uid / backend cookies on HTML entries (and on manifests with
//! `useManifestAsEntry`), the 404 replacements of `html` / `rewrite.notFoundUri`, and the
//! setting up of the body rewriter (`body.rs`) for HTML entries. Main requests the module
//! acted on only.
//!
//! nginx has no safe wrapper for filters: the chain is the `ngx_http_top_*_filter` globals.

use frontend_gray_core::decide::global_config_script_with;
use frontend_gray_core::decide::SetCookie;
use frontend_gray_core::html::{EntryRewriter, Injections};
use frontend_gray_core::{Decision, GrayConfig, Kind};
use ngx::core::{Pool, Status};
use ngx::ffi::{
    ngx_http_output_header_filter_pt, ngx_http_request_t, ngx_http_top_header_filter, ngx_int_t,
    ngx_pnalloc, NGX_HTTP_NOT_FOUND, NGX_HTTP_OK, NGX_LOG_ERR, NGX_LOG_WARN,
};
use ngx::http::HttpModuleMainConf;
use ngx::ngx_log_error;

use crate::body::{BodyState, Mode};
use crate::ctx::{self, RequestCtx};
use crate::ffi_guard::guard;
use crate::headers::{bytes, hide_response_header, ngx_str, push, NgxHeaders};
use crate::Module;

const NO_CACHE: &[u8] = b"no-cache, no-store, max-age=0, must-revalidate";

static mut NEXT_HEADER_FILTER: ngx_http_output_header_filter_pt = None;

/// Puts the module's filters at the top of nginx's filter chain (postconfiguration).
pub fn register() {
    // SAFETY: configuration time, single-threaded; this is how every nginx filter registers
    unsafe {
        NEXT_HEADER_FILTER = ngx_http_top_header_filter;
        ngx_http_top_header_filter = Some(header_filter);
    }
    crate::body::register();
}

extern "C" fn header_filter(r: *mut ngx_http_request_t) -> ngx_int_t {
    let held = guard(false, || {
        // SAFETY: nginx passes a live request
        let r = unsafe { &mut *r };
        if !core::ptr::eq(r.main, r) {
            return false;
        }
        let Some(c) = ctx::get(r) else { return false };
        let ae = c.accept_encoding.replace(core::ptr::null_mut());
        if !ae.is_null() {
            // for the gzip filter, which runs after this one: test the client again
            r.headers_in.accept_encoding = ae;
            r.set_gzip_tested(0);
        }
        let Some(d) = &c.decision else { return false };
        if d.kind.is_entry() && entry_response(r, c, d).is_none() {
            ngx_log_error!(
                NGX_LOG_ERR,
                log(r),
                "frontend_gray: out of memory preparing the entry response"
            );
        }
        c.body().as_ref().is_some_and(|st| st.header_held)
    });
    if held {
        // a page that may come from the render cache: the header goes out with the body's
        // first buffer, when its length is known (body.rs), as nginx's image filter does
        return Status::NGX_OK.into();
    }
    send_header(r)
}

/// The rest of the header filter chain, for a header this filter held back.
pub fn send_header(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: the next filter was set at registration; nginx always has one
    match unsafe { NEXT_HEADER_FILTER } {
        Some(next) => unsafe { next(r) },
        None => Status::NGX_ERROR.into(),
    }
}

fn log(r: &ngx_http_request_t) -> *mut ngx::ffi::ngx_log_t {
    // SAFETY: a request always has its connection
    unsafe { (*r.connection).log }
}

/// An entry response: 404 replacements, headers, and the body rewriter of HTML entries.
fn entry_response(
    r: &mut ngx_http_request_t,
    c: &'static RequestCtx,
    d: &Decision<'static>,
) -> Option<()> {
    let cfg = c.cfg;
    let mut mode = Mode::Rewrite;
    if d.kind == Kind::Html && r.headers_out.status == NGX_HTTP_NOT_FOUND as usize {
        if let Some(html) = &cfg.html {
            // the inline entry page, as a 200
            r.headers_out.status = NGX_HTTP_OK as usize;
            r.headers_out.status_line.len = 0;
            set_content_type_html(r);
            clear_validators(r);
            mode = Mode::InlineHtml(html);
        } else if let Some(t) = &cfg.rewrite.not_found_uri {
            // the notFoundUri page, as the body of the 404
            let mut uri = allocator_api2::vec::Vec::new_in(unsafe { Pool::from_ngx_pool(r.pool) });
            t.render_into(d.version, &mut uri);
            let uri = ngx_str(uri.leak());
            clear_validators(r);
            set_content_type_html(r);
            clear_length(r);
            if r.header_only() == 0 {
                *c.body() = Some(BodyState::new(
                    Mode::Subrequest(uri),
                    EntryRewriter::new(d.version, Injections::default()),
                ));
            }
            return Some(());
        }
    }
    if r.headers_out.status != NGX_HTTP_OK as usize {
        return Some(());
    }
    entry_headers(r, cfg, d)?;
    if d.kind != Kind::Html || r.header_only() != 0 {
        return Some(()); // manifests are never modified; HEAD has no body
    }
    if !is_html(bytes(&r.headers_out.content_type)) {
        return Some(()); // an extension-less JSON API answer, say
    }
    // SAFETY: content_encoding is null or a live header element
    if let Some(ce) = unsafe { r.headers_out.content_encoding.as_ref() } {
        if ce.hash != 0 && ce.value.len != 0 {
            ngx_log_error!(NGX_LOG_WARN, log(r),
                "frontend_gray: entry response arrived with Content-Encoding \"{}\", sent unmodified",
                String::from_utf8_lossy(bytes(&ce.value)));
            return Some(());
        }
    }
    let headers = NgxHeaders::new(r, &cfg.variable_indices);
    // SAFETY (both): the request pool outlives the request's body filter calls
    let mut scratch = allocator_api2::vec::Vec::new_in(unsafe { Pool::from_ngx_pool(r.pool) });
    let mut script = allocator_api2::vec::Vec::new_in(unsafe { Pool::from_ngx_pool(r.pool) });
    if cfg.monitor.is_some() {
        if let Some(mcf) = Module::main_conf(r) {
            crate::beacon::reporter(mcf, cfg, d.deployment, &mut script);
        }
    }
    global_config_script_with(
        cfg,
        d.version,
        &headers,
        &c.facts,
        &mut scratch,
        &mut script,
    );
    let inj = Injections {
        head_first: script.leak(),
        head_last: &d.deployment.inject.head,
        body_first: &d.deployment.inject.body_first,
        body_last: &d.deployment.inject.body_last,
    };
    // a file nginx serves whole by sendfile may come from the render cache: let its buffer
    // through as it is (render_cache.rs); anything else must come in memory buffers
    let from_file = matches!(mode, Mode::Rewrite)
        && r.upstream.is_null()
        // SAFETY: a request always has its connection
        && unsafe { (*r.connection).sendfile() } != 0
        && Module::main_conf(r)
            .is_some_and(|m| crate::render_cache::cacheable(m, r.headers_out.content_length_n));
    let mut st = BodyState::new(mode, EntryRewriter::new(d.version, inj.clone()));
    if from_file {
        let length = r.headers_out.content_length_n;
        st.expect_file(d.version, inj, cfg as *const GrayConfig as usize, length);
        st.header_held = true;
    } else if matches!(st.mode, Mode::Rewrite) {
        // anything else (proxied, mostly) may be replayed from its last recording
        st.proxied = Module::main_conf(r).and_then(|m| {
            let length = r.headers_out.content_length_n;
            crate::replay::start(
                r,
                m,
                d.version,
                &inj,
                cfg as *const GrayConfig as usize,
                length,
            )
        });
    }
    *c.body() = Some(st);
    clear_length(r);
    clear_validators(r);
    if !from_file {
        r.set_filter_need_in_memory(1);
    }
    Some(())
}

fn is_html(content_type: &[u8]) -> bool {
    content_type.len() >= 9 && content_type[..9].eq_ignore_ascii_case(b"text/html")
}

fn set_content_type_html(r: &mut ngx_http_request_t) {
    r.headers_out.content_type = ngx_str(b"text/html");
    r.headers_out.content_type_len = 9;
    r.headers_out.content_type_lowcase = core::ptr::null_mut();
    r.headers_out.charset.len = 0;
}

/// A modified body has another length and no range support (ngx_http_clear_content_length,
/// ngx_http_clear_accept_ranges).
fn clear_length(r: &mut ngx_http_request_t) {
    r.headers_out.content_length_n = -1;
    // SAFETY: these shortcut pointers are null or live elements of headers_out
    unsafe {
        if let Some(h) = r.headers_out.content_length.as_mut() {
            h.hash = 0;
        }
        r.headers_out.content_length = core::ptr::null_mut();
        r.set_allow_ranges(0);
        if let Some(h) = r.headers_out.accept_ranges.as_mut() {
            h.hash = 0;
        }
        r.headers_out.accept_ranges = core::ptr::null_mut();
    }
}

/// The page differs per user: no ETag / Last-Modified to revalidate against.
fn clear_validators(r: &mut ngx_http_request_t) {
    // SAFETY: as above
    unsafe {
        if let Some(h) = r.headers_out.etag.as_mut() {
            h.hash = 0;
        }
        r.headers_out.etag = core::ptr::null_mut();
        if let Some(h) = r.headers_out.last_modified.as_mut() {
            h.hash = 0;
        }
        r.headers_out.last_modified = core::ptr::null_mut();
    }
    r.headers_out.last_modified_time = -1;
}

fn entry_headers(
    r: &mut ngx_http_request_t,
    cfg: &'static GrayConfig,
    d: &Decision<'static>,
) -> Option<()> {
    // The entry's caching headers are the module's alone (SPEC §6): what `expires` or
    // `add_header` of the location added (the headers filter ran before this one) goes.
    let out = &mut r.headers_out.headers;
    hide_response_header(out, b"cache-control");
    hide_response_header(out, b"expires");
    r.headers_out.expires = core::ptr::null_mut();
    let out = &mut r.headers_out.headers;
    push(out, b"Cache-Control", ngx_str(NO_CACHE))?;
    for c in d.set_cookies(cfg) {
        let v = match c {
            // pre-formatted at configuration time: the header points into the configuration
            SetCookie::Whole(s) => ngx_str(s.as_bytes()),
            SetCookie::Uid(prefix, uid, suffix) => {
                let parts = [prefix.as_bytes(), uid, suffix.as_bytes()];
                let len = parts.iter().map(|p| p.len()).sum();
                // SAFETY: request pool; len bytes written below
                let p = unsafe { ngx_pnalloc(r.pool, len) } as *mut u8;
                if p.is_null() {
                    return None;
                }
                let mut at = 0;
                for part in parts {
                    // SAFETY: within the len bytes just allocated
                    unsafe { core::ptr::copy_nonoverlapping(part.as_ptr(), p.add(at), part.len()) };
                    at += part.len();
                }
                ngx::ffi::ngx_str_t { len, data: p }
            }
        };
        push(&mut r.headers_out.headers, b"Set-Cookie", v)?;
    }
    Some(())
}
