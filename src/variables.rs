//! The variables of SPEC §2, read from the request context.
//!
//! | variable                | value                                                     |
//! |-------------------------|-----------------------------------------------------------|
//! | `$gray_version`         | the chosen frontend version (empty where the module did not act) |
//! | `$gray_backend_version` | that deployment's `backendVersion`                          |
//! | `$gray_deployment`      | the chosen gray deployment's name, or `base`                |
//! | `$gray_uid`             | the bucketing uid (empty where not used)                    |
//! | `$gray_host`            | `rewrite.host` where the module acted, else `$host`         |
//! | `$gray_reason`          | why: `preview`, `pin`, `sticky`, `weight`, `rule:<name>`, `rollback:<name>`, `base` |
//! | `$gray_render_cache`    | `HIT` / `MISS` for an entry page sent by the render cache, else empty (known once the body went out: for `log_format`) |

use ngx::core::Status;
use ngx::ffi::{
    ngx_conf_t, ngx_http_add_variable, ngx_http_request_t, ngx_http_variable_value_t, ngx_int_t,
    ngx_str_t, NGX_HTTP_VAR_NOCACHEABLE,
};
use ngx::http::{HttpModuleServerConf, NgxHttpCoreModule};
use ngx::ngx_string;

use crate::ctx;
use crate::ffi_guard::guard;
use crate::headers::bytes;

#[derive(Clone, Copy)]
enum Var {
    Version,
    BackendVersion,
    Deployment,
    Uid,
    Host,
    Reason,
    RenderCache,
}

const VARS: [(ngx_str_t, Var); 7] = [
    (ngx_string!("gray_version"), Var::Version),
    (ngx_string!("gray_backend_version"), Var::BackendVersion),
    (ngx_string!("gray_deployment"), Var::Deployment),
    (ngx_string!("gray_uid"), Var::Uid),
    (ngx_string!("gray_host"), Var::Host),
    (ngx_string!("gray_reason"), Var::Reason),
    (ngx_string!("gray_render_cache"), Var::RenderCache),
];

pub fn register(cf: *mut ngx_conf_t) -> Status {
    for (i, (name, _)) in VARS.iter().enumerate() {
        let mut name = *name;
        // SAFETY: preconfiguration with a valid cf; nginx copies the name
        let v = unsafe { ngx_http_add_variable(cf, &mut name, NGX_HTTP_VAR_NOCACHEABLE as _) };
        if v.is_null() {
            return Status::NGX_ERROR;
        }
        // SAFETY: v is the variable nginx just created
        unsafe {
            (*v).get_handler = Some(get_variable);
            (*v).data = i;
        }
    }
    Status::NGX_OK
}

extern "C" fn get_variable(
    r: *mut ngx_http_request_t,
    v: *mut ngx_http_variable_value_t,
    data: usize,
) -> ngx_int_t {
    guard(Status::NGX_ERROR.into(), || {
        // SAFETY: nginx passes a live request and value slot
        let (r, v) = unsafe { (&mut *r, &mut *v) };
        if core::ptr::eq(r.main, r) {
            // read in the location's rewrite directives, before the module's handler ran
            crate::handler::decide_for_variable(r);
        }
        let r = &*r;
        // subrequests see the decision of their main request
        // SAFETY: r.main is always a live request
        let c = ctx::get(unsafe { &*r.main });
        let d = c.and_then(|c| c.decision.as_ref());
        let value: &[u8] = match VARS.get(data).map(|x| x.1) {
            Some(Var::Version) => d.map_or(&[], |d| d.version.as_bytes()),
            Some(Var::BackendVersion) => d
                .and_then(|d| d.deployment.backend_version.as_deref())
                .unwrap_or("")
                .as_bytes(),
            Some(Var::Deployment) => d.map_or(&[], |d| d.deployment.name.as_bytes()),
            Some(Var::Uid) => match d.and_then(|d| d.uid.as_ref()) {
                Some(u) => u.as_bytes(),
                None => &[],
            },
            Some(Var::Host) => match (d, c.and_then(|c| c.cfg.rewrite.host.as_deref())) {
                (Some(_), Some(h)) => h.as_bytes(),
                _ => host(r),
            },
            Some(Var::Reason) => match (d, c) {
                (Some(d), Some(c)) => d.reason.as_str(c.cfg).as_bytes(),
                _ => &[],
            },
            Some(Var::RenderCache) => match c.and_then(|c| c.body().as_ref()) {
                Some(st) => st.cache_status().as_bytes(),
                None => &[],
            },
            None => &[],
        };
        v.set_len(value.len() as _);
        v.data = value.as_ptr() as *mut u8;
        v.set_valid(1);
        v.set_no_cacheable(0);
        v.set_not_found(0);
        Status::NGX_OK.into()
    })
}

/// nginx's `$host`: the request's host name, else the server's name.
fn host(r: &ngx_http_request_t) -> &[u8] {
    let h = bytes(&r.headers_in.server);
    if !h.is_empty() {
        return h;
    }
    NgxHttpCoreModule::server_conf(r).map_or(&[], |c| bytes(&c.server_name))
}
