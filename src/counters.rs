//! Counting finished requests (SPEC §9): a log-phase handler adds the main request the
//! module acted on to its (app, deployment) counters in the shared zone — atomic adds at
//! addresses resolved when the configuration was read; no lock, no allocation. Then the
//! app's rollouts and guards are evaluated, at most once a second (`release.rs`).

use frontend_gray_core::status::{CountKind, Finished};
use ngx::core::Status;
use ngx::ffi::{
    ngx_array_push, ngx_conf_t, ngx_http_handler_pt, ngx_http_phases_NGX_HTTP_LOG_PHASE,
    ngx_http_request_t, ngx_int_t,
};
use ngx::http::{HttpModuleMainConf, NgxHttpCoreModule};

use crate::ffi_guard::guard;
use crate::zone::deployment_index;
use crate::{ctx, Module};

pub fn register(cf: *mut ngx_conf_t) -> Status {
    // SAFETY: called from postconfiguration with a valid cf
    let Some(cmcf) = NgxHttpCoreModule::main_conf_mut(unsafe { &*cf }) else {
        return Status::NGX_ERROR;
    };
    let phase = &mut cmcf.phases[ngx_http_phases_NGX_HTTP_LOG_PHASE as usize];
    // SAFETY: the handlers array holds ngx_http_handler_pt
    let h = unsafe { ngx_array_push(&mut phase.handlers) } as *mut ngx_http_handler_pt;
    if h.is_null() {
        return Status::NGX_ERROR;
    }
    // SAFETY: h points at a fresh slot of the array
    unsafe { *h = Some(log_phase_handler) };
    Status::NGX_OK
}

extern "C" fn log_phase_handler(r: *mut ngx_http_request_t) -> ngx_int_t {
    guard(Status::NGX_OK.into(), || {
        // SAFETY: nginx passes a live request
        count(unsafe { &*r });
        Status::NGX_OK.into()
    })
}

/// The final status as `$status` has it.
pub fn final_status(r: &ngx_http_request_t) -> u64 {
    if r.err_status != 0 {
        r.err_status as u64
    } else {
        r.headers_out.status as u64
    }
}

fn count(r: &ngx_http_request_t) {
    if !core::ptr::eq(r.main, r) {
        return;
    }
    let Some(c) = ctx::get(r) else { return };
    let Some(d) = c.decision else { return };
    let Some(mcf) = Module::main_conf(r) else {
        return;
    };
    let Some(app) = mcf.app_of(c.cfg) else { return };
    let Some(rec) = deployment_index(c.cfg, d.deployment).and_then(|i| app.dep(i)) else {
        return;
    };
    let status = final_status(r);
    // SAFETY: a request always has its connection
    let sent = unsafe { (*r.connection).sent };
    rec.counters.record(&Finished {
        kind: CountKind::of(d.kind),
        status,
        bytes: sent.max(0) as u64,
        new_user: status == 200 && d.uid.is_some_and(|u| u.fresh) && d.sets_cookies(c.cfg),
    });
    // SAFETY: as above
    crate::release::evaluate(mcf, app, unsafe { (*r.connection).log });
}
