//! `ngx_http_frontend_gray_module`: gray (canary) releases of web frontends for nginx.
//!
//! This file only registers the module. The parts, by file:
//! - `conf.rs`       — the `frontend_gray` directive and the per-location configuration;
//! - `handler.rs`    — the preaccess-phase handler: decides the version, rewrites the URI;
//! - `filter.rs`     — the header filter of entry responses (cookies, Cache-Control, 404s);
//! - `body.rs`       — the body filter: streams entry pages through the HTML rewriter;
//! - `render_cache.rs` — `frontend_gray_render_cache`: rewritten pages of files, per worker;
//! - `variables.rs`  — `$gray_version`, `$gray_backend_version`, `$gray_deployment`,
//!   `$gray_uid`, `$gray_host`, `$gray_reason`;
//! - `condvars.rs`   — the nginx variables that `variable` conditions read;
//! - `cookiescope.rs`— the warning for two apps whose cookies would cross;
//! - `ctx.rs`        — the per-request context, kept across internal redirects;
//! - `headers.rs`    — reading and writing nginx header lists;
//! - `zone.rs`       — the shared zone of counters and run-time overrides, `frontend_gray_zone`,
//!   `frontend_gray_state`;
//! - `counters.rs`   — the log-phase handler that counts finished requests;
//! - `status.rs`     — `frontend_gray_status`: JSON, Prometheus text, dashboard;
//! - `control.rs`    — PATCH of the status location: pin, weight, enabled, rollout commands;
//! - `release.rs`    — rollouts and guards: their state in the zone, evaluated once a second;
//! - `beacon.rs`     — `frontend_gray_beacon` and the entry page's JS error reporter;
//! - `ffi_guard.rs`  — no panic crosses into nginx.
//!
//! All decisions are made by the pure `frontend-gray-core` crate.

use core::ffi::{c_char, c_void};
use core::ptr::{addr_of, addr_of_mut};

use ngx::core::Status;
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_module_t, ngx_int_t, ngx_module_t, ngx_uint_t,
    NGX_CONF_NOARGS, NGX_CONF_TAKE1, NGX_HTTP_LOC_CONF, NGX_HTTP_LOC_CONF_OFFSET,
    NGX_HTTP_MAIN_CONF, NGX_HTTP_MAIN_CONF_OFFSET, NGX_HTTP_MODULE, NGX_HTTP_SRV_CONF,
};
use ngx::http::{HttpModule, HttpModuleLocationConf, HttpModuleMainConf};
use ngx::ngx_string;

/// `debug_http!(r, fmt, args…)`: an http debug line (`--with-debug` builds, `error_log … debug`)
/// for a raw `ngx_http_request_t`.
macro_rules! debug_http {
    ($r:expr, $($arg:tt)+) => {
        // SAFETY: a request always has its connection and log
        let log = unsafe { (*$r.connection).log };
        ngx::ngx_log_debug!(mask: ngx::log::DebugMask::Http, log, $($arg)+);
    };
}
#[allow(unused_imports)]
pub(crate) use debug_http;

mod beacon;
mod body;
mod condvars;
mod conf;
mod control;
mod cookiescope;
mod counters;
mod ctx;
mod ffi_guard;
mod filter;
mod handler;
mod headers;
mod release;
mod render_cache;
mod replay;
mod status;
mod variables;
mod zone;

pub(crate) struct Module;

impl HttpModule for Module {
    fn module() -> &'static ngx_module_t {
        // SAFETY: the module structure is a static that nginx only writes while loading it.
        unsafe { &*addr_of!(ngx_http_frontend_gray_module) }
    }

    unsafe extern "C" fn preconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        ffi_guard::guard(Status::NGX_ERROR.into(), || {
            condvars::reset();
            cookiescope::reset();
            variables::register(cf).into()
        })
    }

    unsafe extern "C" fn postconfiguration(cf: *mut ngx_conf_t) -> ngx_int_t {
        ffi_guard::guard(Status::NGX_ERROR.into(), || {
            if !condvars::check(cf) {
                return Status::NGX_ERROR.into();
            }
            cookiescope::check(cf);
            let rc = handler::register(cf);
            if rc != Status::NGX_OK {
                return rc.into();
            }
            filter::register();
            // SAFETY: valid cf during postconfiguration
            if let Some(mcf) = Module::main_conf_mut(unsafe { &*cf }) {
                mcf.generation = render_cache::new_generation();
            }
            if counters::register(cf) != Status::NGX_OK || !zone::add_zone(cf) {
                return Status::NGX_ERROR.into();
            }
            Status::NGX_OK.into()
        })
    }
}

// SAFETY: LocationConf is what create_loc_conf allocates for this module.
unsafe impl HttpModuleLocationConf for Module {
    type LocationConf = conf::LocationConf;
}

// SAFETY: MainConf is what create_main_conf allocates for this module.
unsafe impl HttpModuleMainConf for Module {
    type MainConf = zone::MainConf;
}

static mut COMMANDS: [ngx_command_t; 7] = [
    ngx_command_t {
        name: ngx_string!("frontend_gray"),
        type_: (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1)
            as ngx_uint_t,
        set: Some(conf::set_frontend_gray),
        conf: NGX_HTTP_LOC_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    ngx_command_t {
        name: ngx_string!("frontend_gray_zone"),
        type_: (NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1) as ngx_uint_t,
        set: Some(zone::set_zone_size),
        conf: NGX_HTTP_MAIN_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    ngx_command_t {
        name: ngx_string!("frontend_gray_state"),
        type_: (NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1) as ngx_uint_t,
        set: Some(zone::set_state_path),
        conf: NGX_HTTP_MAIN_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    ngx_command_t {
        name: ngx_string!("frontend_gray_status"),
        type_: (NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS | NGX_CONF_TAKE1) as ngx_uint_t,
        set: Some(status::set_status),
        conf: NGX_HTTP_LOC_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    ngx_command_t {
        name: ngx_string!("frontend_gray_render_cache"),
        type_: (NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1) as ngx_uint_t,
        set: Some(render_cache::set_render_cache),
        conf: NGX_HTTP_MAIN_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    ngx_command_t {
        name: ngx_string!("frontend_gray_beacon"),
        type_: (NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS) as ngx_uint_t,
        set: Some(beacon::set_beacon),
        conf: NGX_HTTP_LOC_CONF_OFFSET,
        offset: 0,
        post: core::ptr::null_mut(),
    },
    ngx_command_t::empty(),
];

static MODULE_CTX: ngx_http_module_t = ngx_http_module_t {
    preconfiguration: Some(Module::preconfiguration),
    postconfiguration: Some(Module::postconfiguration),
    create_main_conf: Some(Module::create_main_conf),
    init_main_conf: None,
    create_srv_conf: None,
    merge_srv_conf: None,
    create_loc_conf: Some(Module::create_loc_conf),
    merge_loc_conf: Some(conf::merge_loc_conf),
};

// The tables nginx reads from a dynamic module (what `ngx::ngx_modules!` generates, plus the
// load order). The order puts this module before `ngx_http_headers_filter_module` (which comes
// right before `ngx_http_copy_filter_module`, where nginx's build system puts every other
// filter). Filters run in the reverse of that order, so ours run after the copy filter (the
// body arrives in memory, read from files only for the responses that ask for it), after the
// headers filter (an entry's `Cache-Control` / `Expires` from `expires` and `add_header` are
// there to be replaced) and before gzip (which compresses the rewritten page).
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut ngx_modules: [*const ngx_module_t; 2] =
    [addr_of!(ngx_http_frontend_gray_module), core::ptr::null()];

#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut ngx_module_names: [*const c_char; 2] =
    [c"ngx_http_frontend_gray_module".as_ptr(), core::ptr::null()];

#[no_mangle]
#[allow(non_upper_case_globals)]
pub static mut ngx_module_order: [*const c_char; 4] = [
    c"ngx_http_frontend_gray_module".as_ptr(),
    c"ngx_http_headers_filter_module".as_ptr(),
    c"ngx_http_copy_filter_module".as_ptr(),
    core::ptr::null(),
];

#[used]
#[allow(non_upper_case_globals)]
pub static mut ngx_http_frontend_gray_module: ngx_module_t = ngx_module_t {
    ctx: addr_of!(MODULE_CTX) as *mut c_void,
    // SAFETY: only the address is taken
    commands: unsafe { addr_of_mut!(COMMANDS[0]) },
    type_: NGX_HTTP_MODULE as ngx_uint_t,
    init_process: Some(init_process),
    ..ngx_module_t::default()
};

/// A new worker: what makes its uids its own, known once instead of asked per uid.
extern "C" fn init_process(_cycle: *mut ngx::ffi::ngx_cycle_t) -> ngx::ffi::ngx_int_t {
    ffi_guard::guard((), || {
        frontend_gray_core::uid::set_process(std::process::id())
    });
    ngx::core::Status::NGX_OK.into()
}
