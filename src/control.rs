//! `PATCH <status>/apps/<APP>` (SPEC §10): reads the body, checks the merge-patch with the
//! core's parser and applies it to the app's overrides and rollouts in the shared zone, under
//! the zone's mutex, so every worker's next decision sees it. Accepted writes are logged at `notice`
//! with the client address and, with `frontend_gray_state PATH;`, written to the state file
//! (a temporary file renamed over it).

use core::ptr;
use core::sync::atomic::Ordering;

use allocator_api2::vec::Vec;
use frontend_gray_core::status::{parse_patch, Patch, PatchError, Steered, MAX_PATCH_BODY};
use ngx::core::{Pool, Status};
use ngx::ffi::{
    ngx_http_finalize_request, ngx_http_read_client_request_body, ngx_http_request_t, ngx_int_t,
    ngx_log_t, NGX_HTTP_SPECIAL_RESPONSE, NGX_LOG_ERR, NGX_LOG_NOTICE,
};
use ngx::http::HttpModuleMainConf;
use ngx::ngx_log_error;

use crate::ffi_guard::guard;
use crate::headers::bytes;
use crate::release::Steer;
use crate::status::{app_json, error, route, send, Route, JSON};
use crate::zone::{deployments, update_steered, App, MainConf};
use crate::Module;

/// Starts reading the body; the answer is sent once it is in.
pub fn start(r: &mut ngx_http_request_t) -> ngx_int_t {
    if r.headers_in.content_length_n > MAX_PATCH_BODY as i64 {
        // SAFETY: live request; the body is read and dropped, the connection stays usable
        let rc = unsafe { ngx::ffi::ngx_http_discard_request_body(r) };
        if rc != ngx_int_t::from(Status::NGX_OK) {
            return rc;
        }
        return error(r, 400, &format!("body over {MAX_PATCH_BODY} bytes"), None);
    }
    // SAFETY: live request; nginx calls body_read when the body is in
    let rc = unsafe { ngx_http_read_client_request_body(r, Some(body_read)) };
    if rc >= NGX_HTTP_SPECIAL_RESPONSE as ngx_int_t {
        return rc;
    }
    Status::NGX_DONE.into()
}

unsafe extern "C" fn body_read(r: *mut ngx_http_request_t) {
    let rc = guard(Status::NGX_ERROR.into(), || {
        // SAFETY: nginx passes the live request whose body was read
        finish(unsafe { &mut *r })
    });
    // SAFETY: as above; the count taken by the body read is released here
    unsafe { ngx_http_finalize_request(r, rc) };
}

/// The body, joined in the request pool; `None` when part of it went to a file.
fn body<'p>(r: &ngx_http_request_t, pool: &'p Pool) -> Option<&'p [u8]> {
    let mut out = Vec::new_in(pool);
    if r.request_body.is_null() {
        return Some(out.leak());
    }
    // SAFETY: the request body nginx read, its chain of buffers
    unsafe {
        let mut cl = (*r.request_body).bufs;
        while !cl.is_null() {
            let b = (*cl).buf;
            if (*b).in_file() != 0 {
                return None;
            }
            let len = (*b).last.offset_from((*b).pos) as usize;
            if len > 0 {
                frontend_gray_core::buf::put(&mut out, core::slice::from_raw_parts((*b).pos, len));
            }
            cl = (*cl).next;
        }
    }
    Some(out.leak())
}

fn finish(r: &mut ngx_http_request_t) -> ngx_int_t {
    let Some(mcf) = Module::main_conf(&*r) else {
        return Status::NGX_ERROR.into();
    };
    let Route::App(name) = route(r) else {
        return error(r, 404, "not found", None);
    };
    let Some(app) = mcf.app_named(name) else {
        return error(r, 404, "unknown app", None);
    };
    // SAFETY: the request pool lives as long as the request
    let pool = unsafe { Pool::from_ngx_pool(r.pool) };
    let Some(body) = body(r, &pool) else {
        return error(r, 400, &format!("body over {MAX_PATCH_BODY} bytes"), None);
    };
    let patch = match parse_patch(body) {
        Ok(p) => p,
        Err(e) => return error(r, 400, &e.0, None),
    };
    let log = log(r);
    let run = || {
        let res = apply(app, &patch, mcf);
        if res.is_ok() {
            write_state(mcf, log);
        }
        res
    };
    let applied = if mcf.zone.is_some() {
        mcf.locked(run)
    } else {
        Some(run())
    };
    match applied {
        None => Status::NGX_ERROR.into(),
        Some(Err(e)) => error(r, 400, &e.0, None),
        Some(Ok(())) => {
            // SAFETY: a request always has its connection
            let addr = unsafe { bytes(&(*r.connection).addr_text) };
            ngx_log_error!(
                NGX_LOG_NOTICE,
                log,
                "frontend_gray: app \"{}\" changed by {}: {}",
                app.name,
                String::from_utf8_lossy(addr),
                printable(body)
            );
            let out = app_json(app, &pool);
            send(r, 200, JSON, out)
        }
    }
}

/// The body for the log: at most 256 bytes, control characters escaped.
fn printable(body: &[u8]) -> String {
    let cut = &body[..body.len().min(256)];
    let mut s: String = String::from_utf8_lossy(cut)
        .chars()
        .flat_map(|c| {
            let esc = c.is_control().then(|| c.escape_default());
            esc.into_iter()
                .flatten()
                .chain((!c.is_control()).then_some(c))
        })
        .collect();
    if body.len() > cut.len() {
        s.push('…');
    }
    s
}

/// Checks `patch` against the app's overrides in force and stores the result (zone locked).
fn apply(app: &App, patch: &Patch, mcf: &MainConf) -> Result<(), PatchError> {
    let cfg = app.cfg();
    if mcf.zone.is_none() {
        return Err(PatchError(
            "frontend_gray_zone is off: nothing can be steered".into(),
        ));
    }
    let (Some(rec), true) = (app.rec(), app.deps.iter().all(|d| !d.is_null())) else {
        return Err(PatchError(format!(
            "app \"{}\" has no room in the zone: raise frontend_gray_zone",
            app.name
        )));
    };
    let mut st: std::vec::Vec<Steered> = deployments(cfg)
        .enumerate()
        .map(|(i, d)| {
            let rec = app.dep(i);
            let weight = match crate::release::steered_weight(app, i) {
                _ if i == 0 => 0,
                Some(Steer::Weight(w)) => w,
                Some(Steer::RolledBack(_)) => 0,
                None => d.bucket.1 - d.bucket.0,
            };
            Steered {
                name: &d.name,
                version: &d.version,
                weight,
                weight_override: rec.and_then(|r| r.weight_override()),
                enabled_override: rec.and_then(|r| r.enabled_override()),
                has_rollout: d.rollout.is_some(),
            }
        })
        .collect();
    let mut pin = app.pinned();
    patch.apply(&mut st, &mut pin)?;
    // rollout commands and resets, all checked before anything is stored
    let mut release = std::vec::Vec::new();
    for p in &patch.deployments {
        let Some(i) = deployments(cfg).position(|d| d.name == p.name) else {
            continue;
        };
        if let Some(s) = crate::release::check(app, i, p.reset, p.rollout).map_err(PatchError)? {
            release.push((i, p.reset, s));
        }
    }
    for (i, reset, s) in release {
        crate::release::apply(app, i, reset, s);
    }
    for (i, s) in st.iter().enumerate().skip(1) {
        if let Some(d) = app.dep(i) {
            d.set_overrides(s.weight_override, s.enabled_override);
        }
    }
    update_steered(app);
    rec.pin.store(
        pin.map_or(ptr::null_mut(), |i| app.deps[i]),
        Ordering::Release,
    );
    if let Some(root) = mcf.root() {
        root.generation.fetch_add(1, Ordering::Release);
    }
    Ok(())
}

/// Writes the overrides of every app to the state file (zone locked: writes are ordered).
pub fn write_state(mcf: &MainConf, log: *mut ngx_log_t) {
    let Some(path) = &mcf.state_path else { return };
    let text = crate::zone::state_of(mcf).to_json();
    let tmp = format!("{path}.{}.tmp", std::process::id());
    let res = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        ngx_log_error!(
            NGX_LOG_ERR,
            log,
            "frontend_gray_state file \"{}\": cannot write: {}",
            path,
            e
        );
    }
}

fn log(r: &ngx_http_request_t) -> *mut ngx_log_t {
    // SAFETY: a request always has its connection
    unsafe { (*r.connection).log }
}
