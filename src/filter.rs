//! The header filter of entry responses (SPEC §6): `Cache-Control` on entries, and the
//! version / uid / backend cookies on HTML entries (and on manifests with
//! `useManifestAsEntry`). Only 200 responses of main requests the module acted on.
//!
//! nginx has no safe wrapper for filters: the chain is the `ngx_http_top_*_filter` globals.

use frontend_gray_core::{Decision, GrayConfig};
use ngx::core::Status;
use ngx::ffi::{
    ngx_http_output_header_filter_pt, ngx_http_request_t, ngx_http_top_header_filter, ngx_int_t,
    ngx_pnalloc, NGX_HTTP_OK, NGX_LOG_ERR,
};
use ngx::ngx_log_error;

use crate::ctx;
use crate::ffi_guard::guard;
use crate::headers::{hide_response_header, ngx_str, push};

const NO_CACHE: &[u8] = b"no-cache, no-store, max-age=0, must-revalidate";

static mut NEXT_HEADER_FILTER: ngx_http_output_header_filter_pt = None;

/// Puts the module's filters at the top of nginx's filter chain (postconfiguration).
pub fn register() {
    // SAFETY: configuration time, single-threaded; this is how every nginx filter registers
    unsafe {
        NEXT_HEADER_FILTER = ngx_http_top_header_filter;
        ngx_http_top_header_filter = Some(header_filter);
    }
}

extern "C" fn header_filter(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard((), || {
        // SAFETY: nginx passes a live request
        let r = unsafe { &mut *r };
        if r.main == r as *mut _ && r.headers_out.status == NGX_HTTP_OK as usize {
            if let Some(c) = ctx::get(r) {
                if let Some(d) = &c.decision {
                    if d.kind.is_entry() && entry_headers(r, c.cfg, d).is_none() {
                        ngx_log_error!(
                            NGX_LOG_ERR,
                            unsafe { (*r.connection).log },
                            "frontend_gray: out of memory adding the entry headers"
                        );
                    }
                }
            }
        }
    });
    // SAFETY: the next filter was set at registration; nginx always has one
    match unsafe { NEXT_HEADER_FILTER } {
        Some(next) => unsafe { next(r) },
        None => Status::NGX_ERROR.into(),
    }
}

fn entry_headers(
    r: &mut ngx_http_request_t,
    cfg: &'static GrayConfig,
    d: &Decision<'static>,
) -> Option<()> {
    let out = &mut r.headers_out.headers;
    hide_response_header(out, b"cache-control");
    push(out, b"Cache-Control", None, ngx_str(NO_CACHE))?;
    if !d.sets_cookies(cfg) {
        return Some(());
    }
    // pre-formatted at configuration time: the header points into the configuration
    push(
        out,
        b"Set-Cookie",
        None,
        ngx_str(d.deployment.version_cookie.as_bytes()),
    )?;
    if cfg.uses_uid {
        if let Some(uid) = &d.uid {
            let parts = [
                cfg.uid_cookie.prefix.as_bytes(),
                uid.as_bytes(),
                cfg.uid_cookie.suffix.as_bytes(),
            ];
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
            // SAFETY: p holds len initialised bytes for the request's lifetime
            let v = ngx::ffi::ngx_str_t { len, data: p };
            push(&mut r.headers_out.headers, b"Set-Cookie", None, v)?;
        }
    }
    if cfg.uses_backend_cookie {
        let v = d
            .deployment
            .backend_cookie
            .as_deref()
            .unwrap_or(&cfg.backend_cookie_clear);
        push(
            &mut r.headers_out.headers,
            b"Set-Cookie",
            None,
            ngx_str(v.as_bytes()),
        )?;
    }
    Some(())
}
