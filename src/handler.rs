//! The preaccess-phase handler: decides the version of a request once and rewrites its URI.
//!
//! It runs in the location that serves the request, after that location's own rewrite
//! directives (`rewrite`, `if`, `return`, `set`: the rewrite phase) and after the rest of the
//! preaccess phase (location-level `realip`, `limit_req`): it is the last preaccess handler.
//! So an `if ($uri …) { return 403; }` sees the public URI, a `rewrite … break` hands the
//! module the URI it leaves, and a `rewrite … last` lets the location it moves to decide.
//! The URI is changed as `rewrite … break` would change it: nginx does not look for another
//! location, the location's `root` serves, or its `proxy_pass` receives, the new URI.
//!
//! A `$gray_*` variable read before that (in the location's `if`, `set`, `return`) makes the
//! decision on the spot, on the URI of that moment; the URI is still rewritten here.

use allocator_api2::vec::Vec;
use frontend_gray_core::conditions::Facts;
use frontend_gray_core::path::{clean_into, is_clean};
use frontend_gray_core::rewrite::{rewrite_into, Rewrite};
use frontend_gray_core::{decide_with, Kind, VERSION_TAG_LC};
use ngx::core::{Pool, Status};
use ngx::ffi::{
    ngx_array_push, ngx_conf_t, ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_PREACCESS_PHASE,
    ngx_http_request_t, ngx_http_set_exten, ngx_int_t, NGX_HTTP_INTERNAL_SERVER_ERROR,
    NGX_HTTP_NOT_FOUND, NGX_LOG_ERR, NGX_LOG_INFO,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};
use ngx::ngx_log_error;

use crate::ctx::{self, RequestCtx};
use crate::ffi_guard::guard;
use crate::headers::{
    bytes, hide_from_upstream, ngx_str, set_request_header, NgxHeaders, RequestHeader,
};
use crate::Module;

pub fn register(cf: *mut ngx_conf_t) -> Status {
    // SAFETY: called from postconfiguration with a valid cf
    let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(unsafe { &*cf }) else {
        return Status::NGX_ERROR;
    };
    let phase = &mut cmcf.phases[ngx_http_phases_NGX_HTTP_PREACCESS_PHASE as usize];
    // SAFETY: the handlers array holds ngx_http_handler_pt
    let h = unsafe { ngx_array_push(&mut phase.handlers) } as *mut ngx_http_handler_pt;
    if h.is_null() {
        return Status::NGX_ERROR;
    }
    // nginx runs a phase's handlers from the last element of the array to the first: the
    // first element runs last, after realip's and limit_req's preaccess handlers.
    // SAFETY: the array holds nelts initialised elements, h the last of them
    unsafe {
        *h = Some(preaccess_handler);
        let all = core::slice::from_raw_parts_mut(
            phase.handlers.elts as *mut ngx_http_handler_pt,
            phase.handlers.nelts,
        );
        all.rotate_right(1);
    }
    Status::NGX_OK
}

extern "C" fn preaccess_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard(Status::NGX_DECLINED.into(), || {
        // SAFETY: nginx passes a live request
        let r = unsafe { &mut *r };
        handle(r)
    })
}

fn handle(r: &mut ngx_http_request_t) -> ngx_int_t {
    let declined = Status::NGX_DECLINED.into();
    if !core::ptr::eq(r.main, r) {
        return declined; // subrequests are never acted on
    }
    if Module::location_conf(&*r)
        .and_then(|l| l.config())
        .is_none()
    {
        return declined;
    }
    let c = match ctx::get(r) {
        Some(c) => c,
        None => match decide_now(r) {
            Some(c) => c,
            None => return declined,
        },
    };
    if c.rewritten.replace(true) {
        return declined; // done already for this client request (before an internal redirect)
    }
    match c.decision {
        Some(_) => rewrite_uri(r, c),
        None => declined,
    }
}

/// Makes the decision for a `$gray_*` variable read before the access phase (in the
/// location's `if`, `set`, `return`): only in a location the module is on for, once the
/// location is known, and before a response has gone out.
pub fn decide_for_variable(r: &mut ngx_http_request_t) {
    if !core::ptr::eq(r.main, r) || r.header_sent() != 0 || ctx::get(r).is_some() {
        return;
    }
    let Some(cmcf) = NgxHttpCoreModule::main_conf(&*r) else {
        return;
    };
    if (r.phase_handler as usize) < cmcf.phase_engine.location_rewrite_index {
        return; // the server's rewrite directives: the location is not known yet
    }
    if Module::location_conf(&*r)
        .and_then(|l| l.config())
        .is_some()
    {
        decide_now(r);
    }
}

/// Decides for the client request `r` (a main request without a context, in a location the
/// module is on for) and stores the decision in its context. `None`: no context (an
/// `error_page` redirect, or no memory).
fn decide_now(r: &mut ngx_http_request_t) -> Option<&'static RequestCtx> {
    if r.err_status != 0 {
        // an error_page redirect of a request the module did not act on: the error page is
        // served as configured
        return None;
    }
    let cfg = Module::location_conf(&*r)?.config()?;
    // SAFETY: the request pool lives as long as the request
    let pool = unsafe { Pool::from_ngx_pool(r.pool) };
    let path = clean_path(r);

    let mut scratch = Vec::new_in(&pool);
    let facts = Facts::default();
    let steer = crate::zone::steering_for(r, cfg);
    let decision = decide_with(
        cfg,
        path,
        &NgxHeaders::new(r, &cfg.variable_indices),
        &facts,
        &mut scratch,
        &steer,
    );
    // SAFETY (lifetime): the configuration lives in the cycle's pool, which outlives requests
    let cfg: &'static _ = unsafe { &*(cfg as *const _) };
    let at = (r.uri.data as usize, r.uri.len);
    let Some(c) = ctx::create(r, || RequestCtx::new(cfg, decision, facts)) else {
        ngx_log_error!(
            NGX_LOG_ERR,
            log(r),
            "frontend_gray: out of memory, request left alone"
        );
        return None;
    };
    let Some(d) = decision else {
        debug_http!(
            r,
            "frontend_gray: not acting on \"{}\"",
            String::from_utf8_lossy(path)
        );
        // x-higress-tag upstream comes from the module or not at all: a client's own value
        // would pass for the module's on the paths it skips (an API routed by it, say)
        hide_from_upstream(&mut r.headers_in.headers, &CLIENT_TAG);
        return Some(c);
    };

    c.path.set(Some((at, path)));

    // The upstream learns the version; a client-sent value is replaced, never trusted.
    if set_request_header(
        &mut r.headers_in.headers,
        VERSION_TAG,
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
        entry_request_headers(r, c);
    }
    Some(c)
}

/// `x-higress-tag` upstream: the module's, set as nginx's parser would (with its hash, so that
/// a `proxy_set_header` of it replaces it).
const VERSION_TAG: RequestHeader = RequestHeader::new(VERSION_TAG_LC, VERSION_TAG_LC);

/// A request header `lc` renamed `X-Frontend-Gray-<Name>` (see [`hide_from_upstream`]).
macro_rules! renamed {
    ($name:literal, $lc:literal) => {
        (
            $lc.as_bytes(),
            RequestHeader::new(
                concat!("X-Frontend-Gray-", $name).as_bytes(),
                concat!("x-frontend-gray-", $lc).as_bytes(),
            ),
        )
    };
}

/// A client's own `x-higress-tag`, renamed on paths the module does not act on.
const CLIENT_TAG: [(&[u8], RequestHeader); 1] = [(
    VERSION_TAG_LC,
    RequestHeader::new(b"X-Frontend-Gray-Client-Tag", b"x-frontend-gray-client-tag"),
)];

/// What [`entry_request_headers`] renames.
const ENTRY_HIDDEN: [(&[u8], RequestHeader); 7] = [
    renamed!("Accept-Encoding", "accept-encoding"),
    renamed!("Range", "range"),
    renamed!("If-Range", "if-range"),
    renamed!("If-None-Match", "if-none-match"),
    renamed!("If-Modified-Since", "if-modified-since"),
    renamed!("If-Match", "if-match"),
    renamed!("If-Unmodified-Since", "if-unmodified-since"),
];

/// Request headers an HTML entry must not pass on (SPEC §6): the entry differs per user and
/// carries cookies, so neither nginx (static files) nor an origin may answer it with a 304 or a
/// 206, and its body is rewritten, so the origin must send it uncompressed. The shortcut
/// pointers are cleared for nginx's own not-modified and range filters; the list elements are
/// renamed for upstream modules, which copy the list. `Accept-Encoding` is also held back
/// from the content phase, so `gzip_static` / `brotli_static` serve the plain file; the header
/// filter puts it back, so nginx's `gzip` still compresses the rewritten page for the client.
fn entry_request_headers(r: &mut ngx_http_request_t, c: &RequestCtx) {
    let h = &mut r.headers_in;
    c.accept_encoding.set(h.accept_encoding);
    h.accept_encoding = core::ptr::null_mut();
    h.if_modified_since = core::ptr::null_mut();
    h.if_unmodified_since = core::ptr::null_mut();
    h.if_match = core::ptr::null_mut();
    h.if_none_match = core::ptr::null_mut();
    h.range = core::ptr::null_mut();
    h.if_range = core::ptr::null_mut();
    hide_from_upstream(&mut h.headers, &ENTRY_HIDDEN);
}

/// Rewrites the URI of a request the module acts on (SPEC §5), as `rewrite … break` would.
fn rewrite_uri(r: &mut ngx_http_request_t, c: &'static RequestCtx) -> ngx_int_t {
    let declined = Status::NGX_DECLINED.into();
    let Some(d) = c.decision else {
        return declined;
    };
    // SAFETY: the request pool lives as long as the request
    let pool = unsafe { Pool::from_ngx_pool(r.pool) };
    let uri = bytes(&r.uri);
    // the decision's cleaned path, unless a rewrite directive changed the URI since
    let path = match c.path.get() {
        Some((at, p)) if at == (r.uri.data as usize, r.uri.len) => p,
        _ => clean_path(r),
    };
    let mut tmp = Vec::new_in(&pool);
    let mut out = Vec::new_in(&pool);
    match rewrite_into(c.cfg, d.kind, path, d.version, &mut tmp, &mut out) {
        Rewrite::Kept => {
            debug_http!(
                r,
                "frontend_gray: {:?} {} kept ({} {})",
                d.kind,
                String::from_utf8_lossy(uri),
                d.deployment.name,
                d.version
            );
            declined
        }
        Rewrite::Escapes => {
            ngx_log_error!(
                NGX_LOG_INFO,
                log(r),
                "frontend_gray: \"{}\" would leave the versioned directory of its route, not served",
                String::from_utf8_lossy(path)
            );
            NGX_HTTP_NOT_FOUND as ngx_int_t
        }
        Rewrite::Rewritten => {
            let new: &[u8] = out.leak();
            debug_http!(
                r,
                "frontend_gray: {:?} {} -> {} ({} {})",
                d.kind,
                String::from_utf8_lossy(uri),
                String::from_utf8_lossy(new),
                d.deployment.name,
                d.version
            );
            let Some(clcf) = NgxHttpCoreModule::location_conf(&*r) else {
                return declined;
            };
            // `alias` and a `proxy_pass` with a URI part replace the location's prefix of the
            // URI: they still can where the new URI starts with it. Elsewhere the location is
            // no longer valid for the URI, as after `rewrite … break` (`proxy_pass` then sends
            // the whole new URI; nginx refuses `alias` there, and so does `nginx -t`, see
            // conf.rs — this only guards against a route target that cleans outside).
            let name = bytes(&clcf.name);
            let under_location = clcf.regex.is_null()
                && clcf.named() == 0
                && clcf.noname() == 0
                && !name.is_empty()
                && new.starts_with(name);
            if !under_location {
                if clcf.alias != 0 {
                    ngx_log_error!(
                        NGX_LOG_ERR,
                        log(r),
                        "frontend_gray: \"{}\" is outside location \"{}\", which uses \"alias\"",
                        String::from_utf8_lossy(new),
                        String::from_utf8_lossy(name)
                    );
                    return NGX_HTTP_INTERNAL_SERVER_ERROR as ngx_int_t;
                }
                r.set_valid_location(0);
            }
            r.uri = ngx_str(new);
            // the unparsed URI no longer matches: proxy_pass must send r.uri (with r.args)
            r.set_valid_unparsed_uri(0);
            // SAFETY: live request; recomputes r.exten (the static module's content type)
            unsafe { ngx_http_set_exten(r) };
            declined
        }
    }
}

/// The request's URI, cleaned (SPEC §4.1): the URI itself when it is clean already, else a
/// cleaned copy in the request pool.
fn clean_path(r: &ngx_http_request_t) -> &'static [u8] {
    // SAFETY (lifetime): both the URI and the request pool live as long as the request
    let uri: &'static [u8] = unsafe { &*(bytes(&r.uri) as *const [u8]) };
    if is_clean(uri) {
        return uri;
    }
    // SAFETY: the request pool lives as long as the request
    let mut cleaned = Vec::new_in(unsafe { Pool::from_ngx_pool(r.pool) });
    clean_into(uri, &mut cleaned);
    cleaned.leak()
}

fn log(r: &ngx_http_request_t) -> *mut ngx::ffi::ngx_log_t {
    // SAFETY: a request always has its connection
    unsafe { (*r.connection).log }
}
