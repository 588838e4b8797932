//! nginx variables read by `variable` conditions (SPEC §8): resolved to variable indices when
//! the `frontend_gray` directive is read, and checked to exist once the whole configuration
//! is read (a `geo` or `map` may come after the directive), so that `nginx -t` names the YAML
//! file and the field of an unknown variable instead of nginx's bare `unknown variable`.

use std::sync::Mutex;

use frontend_gray_core::GrayConfig;
use ngx::ffi::{
    ngx_conf_t, ngx_hash_key_t, ngx_http_get_variable_index, ngx_http_variable_t, ngx_str_t,
    NGX_LOG_EMERG,
};
use ngx::http::{HttpModuleMainConf, NgxHttpCoreModule};
use ngx::ngx_conf_log_error;

/// (variable name, YAML file, field) of every variable named by a configuration being read.
static PENDING: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());

/// A new configuration is being read (preconfiguration).
pub fn reset() {
    if let Ok(mut p) = PENDING.lock() {
        p.clear();
    }
}

/// Gives `cfg` the variable index of each variable its conditions read. `Err` with the
/// message for `nginx -t`.
pub fn resolve(cf: &mut ngx_conf_t, cfg: &mut GrayConfig, file: &str) -> Result<(), String> {
    let mut idx = Vec::with_capacity(cfg.variables.len());
    for (name, field) in cfg.variables.iter().zip(&cfg.variable_fields) {
        let mut s = ngx_str_t {
            len: name.len(),
            data: name.as_ptr() as *mut u8,
        };
        // SAFETY: configuration time, valid cf; nginx copies the name
        let i = unsafe { ngx_http_get_variable_index(cf, &mut s) };
        if i < 0 {
            return Err(format!("{field}: cannot use variable \"${name}\""));
        }
        idx.push(i as usize);
        if let Ok(mut p) = PENDING.lock() {
            p.push((name.clone(), file.to_owned(), field.clone()));
        }
    }
    cfg.variable_indices = idx;
    Ok(())
}

/// Postconfiguration: every variable named exists (nginx's own check comes later and names
/// neither file nor field).
pub fn check(cf: *mut ngx_conf_t) -> bool {
    // SAFETY: postconfiguration with a valid cf
    let cf = unsafe { &mut *cf };
    let Some(cmcf) = NgxHttpCoreModule::main_conf(&*cf) else {
        return false;
    };
    let pending = match PENDING.lock() {
        Ok(mut p) => core::mem::take(&mut *p),
        Err(_) => return true,
    };
    for (name, file, field) in pending {
        if !known(cmcf, name.as_bytes()) {
            ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "\"frontend_gray\" file \"{}\": {}: unknown variable \"${}\"",
                file,
                field,
                name
            );
            return false;
        }
    }
    true
}

fn known(cmcf: &ngx::ffi::ngx_http_core_main_conf_t, name: &[u8]) -> bool {
    // SAFETY: during configuration the keys array and the prefix variables hold elements of
    // these types; names point at their len bytes
    unsafe {
        if let Some(keys) = cmcf.variables_keys.as_ref() {
            let k = core::slice::from_raw_parts(
                keys.keys.elts as *const ngx_hash_key_t,
                keys.keys.nelts,
            );
            if k.iter().any(|k| bytes(&k.key).eq_ignore_ascii_case(name)) {
                return true;
            }
        } else {
            return true; // nothing to check against: leave it to nginx
        }
        let p = core::slice::from_raw_parts(
            cmcf.prefix_variables.elts as *const ngx_http_variable_t,
            cmcf.prefix_variables.nelts,
        );
        p.iter().any(|v| {
            let pre = bytes(&v.name);
            name.len() >= pre.len() && name[..pre.len()].eq_ignore_ascii_case(pre)
        })
    }
}

fn bytes(s: &ngx_str_t) -> &[u8] {
    crate::headers::bytes(s)
}
