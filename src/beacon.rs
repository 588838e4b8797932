//! JS error reports (SPEC §11): the reporter script an entry page gets first in `<head>`,
//! with a token for its version, and `frontend_gray_beacon`, the content handler that
//! counts a report in that version's `jsErrors`.
//!
//! A report is `POST <beacon>?t=TOKEN&n=SEQ`. It counts only when the token verifies (HMAC
//! with the zone's secret, issued in the last 10 minutes), names a deployment of this
//! configuration, and its (nonce, seq) was not counted before (the zone's replay table):
//! forged, stale, replayed and other-version reports count nothing. The handler never reads
//! the body: it is discarded (at most 4 KB; a larger one closes the connection unread), and
//! the answer is always 204. Nothing is allocated but nginx's own request memory.

use core::ffi::{c_char, c_void};
use core::sync::atomic::{AtomicU64, Ordering};

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;
use frontend_gray_core::release::reporter::{parse_report, reporter_script};
use frontend_gray_core::release::{issue_into, nonce, verify};
use frontend_gray_core::status::JS_ERRORS;
use frontend_gray_core::GrayConfig;
use ngx::core::{Status, NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_t, ngx_http_discard_request_body, ngx_http_request_t,
    ngx_http_send_header, ngx_int_t, NGX_HTTP_NOT_ALLOWED, NGX_HTTP_POST,
};
use ngx::http::{HttpModuleLocationConf, HttpModuleMainConf, NgxHttpCoreModule};

use crate::ffi_guard::guard;
use crate::headers::bytes;
use crate::zone::{deployment_index, MainConf};
use crate::Module;

/// Largest report body read (and discarded).
pub const MAX_REPORT_BODY: i64 = 4096;

/// `frontend_gray_beacon;` (location): the report endpoint.
pub extern "C" fn set_beacon(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    _conf: *mut c_void,
) -> *mut c_char {
    guard(NGX_CONF_ERROR, || {
        // SAFETY: nginx calls directive handlers with a valid cf
        let Some(clcf) = NgxHttpCoreModule::location_conf_mut(unsafe { &*cf }) else {
            return NGX_CONF_ERROR;
        };
        clcf.handler = Some(handler);
        NGX_CONF_OK
    })
}

extern "C" fn handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard(Status::NGX_ERROR.into(), || {
        // SAFETY: nginx passes a live request
        handle(unsafe { &mut *r })
    })
}

fn handle(r: &mut ngx_http_request_t) -> ngx_int_t {
    if r.method != NGX_HTTP_POST as usize {
        return NGX_HTTP_NOT_ALLOWED as ngx_int_t;
    }
    if r.headers_in.content_length_n > MAX_REPORT_BODY || r.headers_in.chunked() != 0 {
        // not read: the connection closes after the answer
        r.set_keepalive(0);
        r.set_lingering_close(0);
    } else {
        // SAFETY: live request
        let rc = unsafe { ngx_http_discard_request_body(r) };
        if rc != ngx_int_t::from(Status::NGX_OK) {
            return rc;
        }
    }
    if let Some(mcf) = Module::main_conf(r) {
        count(mcf, bytes(&r.args));
    }
    r.headers_out.status = 204;
    r.headers_out.content_length_n = 0;
    r.set_header_only(1);
    // SAFETY: live request
    unsafe { ngx_http_send_header(r) }
}

/// Counts the report of query `args` if it is genuine and new.
fn count(mcf: &MainConf, args: &[u8]) -> bool {
    let (Some((token, seq)), Some(root)) = (parse_report(args), mcf.root()) else {
        return false;
    };
    let Ok(token) = core::str::from_utf8(token) else {
        return false;
    };
    let now = crate::release::now();
    let Ok(v) = verify(&root.secret, token, now) else {
        return false;
    };
    let found = mcf.apps.iter().find_map(|a| {
        let i = a.dep_ids.iter().position(|&id| id == v.dep_id)?;
        a.cfg().monitor.as_ref()?;
        a.dep(i)
    });
    let Some(dep) = found else { return false };
    if !root.replay().accept(v.nonce, v.issued, seq, now) {
        return false;
    }
    dep.counters.0[JS_ERRORS].fetch_add(1, Ordering::Relaxed);
    true
}

/// This worker's nonces: a random seed and a counter.
static NONCE_SEED: AtomicU64 = AtomicU64::new(0);
static NONCE_NEXT: AtomicU64 = AtomicU64::new(0);

fn next_nonce() -> u64 {
    let mut seed = NONCE_SEED.load(Ordering::Relaxed);
    if seed == 0 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        seed = h.finish() | 1;
        NONCE_SEED.store(seed, Ordering::Relaxed);
    }
    nonce(seed, NONCE_NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Appends the reporter script with a fresh token for deployment `d` of `cfg` to `out`
/// (nothing without `monitor:`, a zone, or the deployment's record).
pub fn reporter<A: Allocator>(
    mcf: &MainConf,
    cfg: &GrayConfig,
    d: &frontend_gray_core::Deployment,
    out: &mut Vec<u8, A>,
) {
    let Some(m) = &cfg.monitor else { return };
    let (Some(root), Some(app)) = (mcf.root(), mcf.app_of(cfg)) else {
        return;
    };
    let Some(id) = deployment_index(cfg, d).and_then(|i| app.dep_ids.get(i)) else {
        return;
    };
    let token = issue_into(&root.secret, *id, crate::release::now(), next_nonce());
    let Ok(token) = core::str::from_utf8(&token) else {
        return;
    };
    reporter_script(out, &m.beacon, token);
}
