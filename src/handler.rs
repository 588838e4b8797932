//! The rewrite-phase handler: decides the version of a request once and rewrites its URI.
//!
//! It runs in the location that serves the request (after `location` matching), so the
//! location's `root` serves, or its `proxy_pass` receives, the rewritten URI — like
//! `rewrite … break`: nginx does not look for another location.

use allocator_api2::vec::Vec;
use frontend_gray_core::path::{clean_into, is_clean};
use frontend_gray_core::rewrite::rewrite_into;
use frontend_gray_core::{decide_steered, Kind, VERSION_TAG_LC};
use ngx::core::{Pool, Status};
use ngx::ffi::{
    ngx_array_push, ngx_conf_t, ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_REWRITE_PHASE,
    ngx_http_request_t, ngx_http_set_exten, ngx_int_t, NGX_LOG_ERR,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};
use ngx::ngx_log_error;

use crate::ctx::{self, RequestCtx};
use crate::ffi_guard::guard;
use crate::headers::{bytes, hide_from_upstream, ngx_str, set_request_header, NgxHeaders};
use crate::Module;

pub fn register(cf: *mut ngx_conf_t) -> Status {
    // SAFETY: called from postconfiguration with a valid cf
    let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(unsafe { &*cf }) else {
        return Status::NGX_ERROR;
    };
    let phase = &mut cmcf.phases[ngx_http_phases_NGX_HTTP_REWRITE_PHASE as usize];
    // SAFETY: the handlers array holds ngx_http_handler_pt
    let h = unsafe { ngx_array_push(&mut phase.handlers) } as *mut ngx_http_handler_pt;
    if h.is_null() {
        return Status::NGX_ERROR;
    }
    // SAFETY: h points at a fresh slot of the array
    unsafe { *h = Some(rewrite_phase_handler) };
    Status::NGX_OK
}

extern "C" fn rewrite_phase_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard(Status::NGX_DECLINED.into(), || {
        // SAFETY: nginx passes a live request
        let r = unsafe { &mut *r };
        handle(r);
        Status::NGX_DECLINED.into()
    })
}

fn handle(r: &mut ngx_http_request_t) {
    if !core::ptr::eq(r.main, r) {
        return; // subrequests are never acted on
    }
    let Some(lcf) = Module::location_conf(&*r) else {
        return;
    };
    let Some(cfg) = lcf.config() else { return };
    if ctx::get(r).is_some() {
        return; // decided already for this client request (before an internal redirect)
    }

    // SAFETY: the request pool lives as long as the request
    let pool = unsafe { Pool::from_ngx_pool(r.pool) };
    let uri = bytes(&r.uri);
    let mut cleaned = Vec::new_in(&pool);
    let path: &[u8] = if is_clean(uri) {
        uri
    } else {
        clean_into(uri, &mut cleaned);
        &cleaned
    };

    let mut scratch = Vec::new_in(&pool);
    let steer = crate::zone::steering_for(r, cfg);
    let decision = decide_steered(
        cfg,
        path,
        &NgxHeaders {
            list: &r.headers_in.headers,
        },
        &mut scratch,
        &steer,
    );
    // SAFETY (lifetime): the configuration lives in the cycle's pool, which outlives requests
    let cfg: &'static _ = unsafe { &*(cfg as *const _) };
    if ctx::create(r, RequestCtx::new(cfg, decision)).is_none() {
        ngx_log_error!(
            NGX_LOG_ERR,
            log(r),
            "frontend_gray: out of memory, request left alone"
        );
        return;
    }
    let Some(d) = decision else {
        debug_http!(
            r,
            "frontend_gray: not acting on \"{}\"",
            String::from_utf8_lossy(path)
        );
        return;
    };

    // The upstream learns the version; a client-sent value is replaced, never trusted.
    if set_request_header(
        &mut r.headers_in.headers,
        VERSION_TAG_LC,
        ngx_str(d.version.as_bytes()),
    )
    .is_none()
    {
        ngx_log_error!(
            NGX_LOG_ERR,
            log(r),
            "frontend_gray: cannot set the x-higress-tag header"
        );
    }

    if d.kind == Kind::Html {
        // The entry differs per user and carries cookies: never answer it with a 304.
        r.headers_in.if_modified_since = core::ptr::null_mut();
        r.headers_in.if_none_match = core::ptr::null_mut();
        // The entry body is rewritten: the upstream must send it uncompressed. nginx's own
        // gzip still compresses the output (it reads headers_in.accept_encoding).
        hide_from_upstream(
            &mut r.headers_in.headers,
            b"accept-encoding",
            b"X-Frontend-Gray-Accept-Encoding",
            b"x-frontend-gray-accept-encoding",
        );
    }

    let mut tmp = Vec::new_in(&pool);
    let mut out = Vec::new_in(&pool);
    if rewrite_into(cfg, d.kind, path, d.version, &mut tmp, &mut out) {
        let new = out.leak();
        debug_http!(
            r,
            "frontend_gray: {:?} {} -> {} ({} {})",
            d.kind,
            String::from_utf8_lossy(uri),
            String::from_utf8_lossy(new),
            d.deployment.name,
            d.version
        );
        r.uri = ngx_str(new);
        // the unparsed URI no longer matches: proxy_pass must send r.uri (with r.args)
        r.set_valid_unparsed_uri(0);
        // SAFETY: live request; recomputes r.exten (the static module's content type)
        unsafe { ngx_http_set_exten(r) };
    } else {
        debug_http!(
            r,
            "frontend_gray: {:?} {} kept ({} {})",
            d.kind,
            String::from_utf8_lossy(uri),
            d.deployment.name,
            d.version
        );
    }
}

fn log(r: &ngx_http_request_t) -> *mut ngx::ffi::ngx_log_t {
    // SAFETY: a request always has its connection
    unsafe { (*r.connection).log }
}
