//! `frontend_gray_status [write=on];` (SPEC §9, §10): the content handler of the status
//! location. GET on the location's URI answers the JSON, the Prometheus text or the HTML
//! dashboard; `<URI>/apps/<APP>` answers one app's JSON, and takes PATCH (`control.rs`) when
//! writes are on. Everything the answer needs is allocated in the request pool.

use core::ffi::{c_char, c_void};

use allocator_api2::vec::Vec;
use frontend_gray_core::decide::is_percentage;
use frontend_gray_core::status::{
    dashboard_html, render_app_json, render_error, render_json, render_prometheus, AppSnapshot,
    DeploymentSnapshot, DeploymentStateName, Mode, N_COUNTERS, PROMETHEUS_CONTENT_TYPE,
};
use ngx::core::{Pool, Status, NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_buf_t, ngx_chain_t, ngx_command_t, ngx_conf_t, ngx_http_discard_request_body,
    ngx_http_output_filter, ngx_http_request_t, ngx_http_send_header, ngx_int_t, ngx_pcalloc,
    ngx_str_t, NGX_HTTP_GET, NGX_HTTP_HEAD, NGX_HTTP_PATCH, NGX_LOG_EMERG,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};
use ngx::ngx_conf_log_error;

use crate::ffi_guard::guard;
use crate::headers::{bytes, iter, ngx_str, push};
use crate::zone::{deployments, App, MainConf};
use crate::Module;

pub const JSON: &str = "application/json";

/// The directive: installs the content handler (read-only, or with writes).
pub extern "C" fn set_status(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    guard(NGX_CONF_ERROR, || {
        // SAFETY: nginx calls directive handlers with a valid cf
        let cf = unsafe { &mut *cf };
        // SAFETY: args holds the directive name and 0 or 1 argument
        let args = unsafe { (*cf.args).as_slice::<ngx_str_t>() };
        let write = match args.get(1).map(bytes) {
            None | Some(b"write=off") => false,
            Some(b"write=on") => true,
            Some(other) => {
                ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "\"frontend_gray_status\": invalid parameter \"{}\": expected write=on or write=off",
                    String::from_utf8_lossy(other)
                );
                return NGX_CONF_ERROR;
            }
        };
        let Some(clcf) = NgxHttpCoreModule::location_conf_mut(&*cf) else {
            return NGX_CONF_ERROR;
        };
        clcf.handler = Some(if write { handler_rw } else { handler_ro });
        NGX_CONF_OK
    })
}

extern "C" fn handler_ro(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx passes a live request
    guard(Status::NGX_ERROR.into(), || {
        handle(unsafe { &mut *r }, false)
    })
}

extern "C" fn handler_rw(r: *mut ngx_http_request_t) -> ngx_int_t {
    // SAFETY: nginx passes a live request
    guard(Status::NGX_ERROR.into(), || {
        handle(unsafe { &mut *r }, true)
    })
}

/// What a status URI names.
pub enum Route<'a> {
    Root,
    App(&'a [u8]),
    NotFound,
}

/// `<location>`, `<location>/`, `<location>/apps/<APP>`.
pub fn route(r: &ngx_http_request_t) -> Route<'_> {
    let Some(clcf) = NgxHttpCoreModule::location_conf(r) else {
        return Route::NotFound;
    };
    let uri = bytes(&r.uri);
    let Some(rest) = uri.strip_prefix(bytes(&clcf.name)) else {
        return Route::NotFound;
    };
    let rest = rest.strip_prefix(b"/").unwrap_or(rest);
    if rest.is_empty() {
        return Route::Root;
    }
    match rest.strip_prefix(b"apps/") {
        Some(app) if !app.is_empty() && !app.contains(&b'/') => Route::App(app),
        _ => Route::NotFound,
    }
}

enum Format {
    Json,
    Prometheus,
    Html,
}

fn format(r: &ngx_http_request_t) -> Option<Format> {
    let args = bytes(&r.args);
    for kv in args.split(|&b| b == b'&') {
        if let Some(v) = kv.strip_prefix(b"format=") {
            return match v {
                b"json" => Some(Format::Json),
                b"prometheus" => Some(Format::Prometheus),
                b"html" => Some(Format::Html),
                _ => None,
            };
        }
    }
    let accept = iter(&r.headers_in.headers)
        .find(|h| bytes(&h.key).eq_ignore_ascii_case(b"accept"))
        .map(|h| bytes(&h.value))
        .unwrap_or(b"");
    let has = |t: &[u8]| accept.windows(t.len()).any(|w| w.eq_ignore_ascii_case(t));
    Some(if has(b"text/html") {
        Format::Html
    } else if has(b"text/plain") {
        Format::Prometheus
    } else {
        Format::Json
    })
}

fn handle(r: &mut ngx_http_request_t, write: bool) -> ngx_int_t {
    let method = r.method as u32;
    let read = method == NGX_HTTP_GET || method == NGX_HTTP_HEAD;
    let Some(mcf) = Module::main_conf(&*r) else {
        return Status::NGX_ERROR.into();
    };
    // SAFETY: the request pool lives as long as the request
    let pool = unsafe { Pool::from_ngx_pool(r.pool) };
    match route(r) {
        Route::NotFound => error(r, 404, "not found", None),
        Route::Root if !read => discard(r).unwrap_or_else(|| {
            error(
                r,
                405,
                "the status URI takes GET or HEAD",
                Some(b"GET, HEAD"),
            )
        }),
        Route::Root => {
            if let Some(rc) = discard(r) {
                return rc;
            }
            let Some(fmt) = format(r) else {
                return error(r, 400, "format must be json, prometheus or html", None);
            };
            let mut out = Vec::new_in(&pool);
            let apps = snapshot(mcf, &pool);
            let generation = mcf.root().map_or(0, |z| {
                z.generation.load(core::sync::atomic::Ordering::Relaxed)
            });
            let ctype = match fmt {
                Format::Json => {
                    render_json(&mut out, generation, apps);
                    JSON
                }
                Format::Prometheus => {
                    render_prometheus(&mut out, apps);
                    PROMETHEUS_CONTENT_TYPE
                }
                Format::Html => {
                    let (a, b, c) = dashboard_html(write);
                    for s in [a, b, c] {
                        frontend_gray_core::buf::put(&mut out, s.as_bytes());
                    }
                    "text/html; charset=utf-8"
                }
            };
            send(r, 200, ctype, out.leak())
        }
        Route::App(name) => {
            // SAFETY: the URI lives in the request pool; detached from the borrow of `r`
            let name: &[u8] = unsafe { core::slice::from_raw_parts(name.as_ptr(), name.len()) };
            if method == NGX_HTTP_PATCH {
                if !write {
                    return discard(r).unwrap_or_else(|| {
                        error(
                            r,
                            403,
                            "writes are off: frontend_gray_status write=on; allows them",
                            None,
                        )
                    });
                }
                if mcf.app_named(name).is_none() {
                    return discard(r).unwrap_or_else(|| error(r, 404, "unknown app", None));
                }
                return crate::control::start(r);
            }
            if !read {
                let allow: &'static [u8] = if write {
                    b"GET, HEAD, PATCH"
                } else {
                    b"GET, HEAD"
                };
                return discard(r).unwrap_or_else(|| {
                    error(r, 405, "an app URI takes GET, HEAD or PATCH", Some(allow))
                });
            }
            if let Some(rc) = discard(r) {
                return rc;
            }
            match mcf.app_named(name) {
                None => error(r, 404, "unknown app", None),
                Some(app) => {
                    let out = app_json(app, &pool);
                    send(r, 200, JSON, out)
                }
            }
        }
    }
}

/// Discards the request body; `Some(rc)` when that failed.
fn discard(r: &mut ngx_http_request_t) -> Option<ngx_int_t> {
    // SAFETY: live request
    let rc = unsafe { ngx_http_discard_request_body(r) };
    (rc != ngx_int_t::from(Status::NGX_OK)).then_some(rc)
}

/// One app's JSON, in the request pool.
pub fn app_json<'p>(app: &App, pool: &'p Pool) -> &'p [u8] {
    let deps = app_deployments(app, pool);
    let snap = app_snapshot(app, deps);
    let mut out = Vec::new_in(pool);
    render_app_json(&mut out, &snap);
    out.push(b'\n');
    out.leak()
}

fn app_deployments<'a>(app: &'a App, pool: &'a Pool) -> &'a [DeploymentSnapshot<'a>] {
    let mut v = Vec::new_in(pool);
    for (i, d) in deployments(app.cfg()).enumerate() {
        let (enabled, weight) = app.effective(i);
        let release = if i > 0 {
            crate::release::snapshot(app, i, weight)
        } else {
            None
        };
        v.push(DeploymentSnapshot {
            name: &d.name,
            version: &d.version,
            enabled,
            weight,
            state: match &release {
                _ if !enabled => DeploymentStateName::Disabled,
                Some(r) => r.state.phase.state_name(),
                None => DeploymentStateName::Active,
            },
            counts: app
                .dep(i)
                .map_or([0; N_COUNTERS], |c| c.counters.snapshot()),
            release,
        });
    }
    v.leak()
}

fn app_snapshot<'a>(app: &'a App, deps: &'a [DeploymentSnapshot<'a>]) -> AppSnapshot<'a> {
    let steer = app.steering();
    AppSnapshot {
        name: &app.name,
        config: &app.path,
        mode: if is_percentage(app.cfg(), &steer) {
            Mode::Percentage
        } else {
            Mode::Rules
        },
        pinned: app
            .pinned()
            .and_then(|i| deployments(app.cfg()).nth(i))
            .map(|d| d.version.as_str()),
        deployments: deps,
    }
}

fn snapshot<'a>(mcf: &'a MainConf, pool: &'a Pool) -> &'a [AppSnapshot<'a>] {
    let mut v = Vec::new_in(pool);
    for app in &mcf.apps {
        v.push(app_snapshot(app, app_deployments(app, pool)));
    }
    v.leak()
}

/// A `{"error": "…"}` answer.
pub fn error(
    r: &mut ngx_http_request_t,
    status: usize,
    msg: &str,
    allow: Option<&'static [u8]>,
) -> ngx_int_t {
    // SAFETY: the request pool lives as long as the request
    let pool = unsafe { Pool::from_ngx_pool(r.pool) };
    let mut out = Vec::new_in(&pool);
    render_error(&mut out, msg);
    if let Some(a) = allow {
        if push(&mut r.headers_out.headers, b"Allow", ngx_str(a)).is_none() {
            return Status::NGX_ERROR.into();
        }
    }
    send(r, status, JSON, out.leak())
}

/// Sends a whole answer; `body` lives in the request pool (or is static).
pub fn send(
    r: &mut ngx_http_request_t,
    status: usize,
    ctype: &'static str,
    body: &[u8],
) -> ngx_int_t {
    r.headers_out.status = status;
    r.headers_out.content_type = ngx_str(ctype.as_bytes());
    r.headers_out.content_type_len = ctype.len();
    r.headers_out.content_type_lowcase = core::ptr::null_mut();
    r.headers_out.content_length_n = body.len() as _;
    if push(
        &mut r.headers_out.headers,
        b"Cache-Control",
        ngx_str(b"no-store"),
    )
    .is_none()
    {
        return Status::NGX_ERROR.into();
    }
    // SAFETY: live request
    let rc = unsafe { ngx_http_send_header(r) };
    if rc == ngx_int_t::from(Status::NGX_ERROR)
        || rc > ngx_int_t::from(Status::NGX_OK)
        || r.header_only() != 0
    {
        return rc;
    }
    // SAFETY: a zeroed buffer from the request pool, pointing at memory that outlives it
    unsafe {
        let b = ngx_pcalloc(r.pool, core::mem::size_of::<ngx_buf_t>()) as *mut ngx_buf_t;
        if b.is_null() {
            return Status::NGX_ERROR.into();
        }
        (*b).pos = body.as_ptr() as *mut u8;
        (*b).last = (*b).pos.add(body.len());
        if !body.is_empty() {
            (*b).set_memory(1);
        }
        (*b).set_last_buf(1);
        (*b).set_last_in_chain(1);
        let mut out = ngx_chain_t {
            buf: b,
            next: core::ptr::null_mut(),
        };
        ngx_http_output_filter(r, &mut out)
    }
}
