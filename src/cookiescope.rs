//! SPEC §7: two YAML files loaded into one nginx that would set the same cookie names on
//! overlapping `cookiePath`s of one domain get one warning at `nginx -t` naming both files —
//! one app's version cookie would then steer the other's assets. Collected as the
//! `frontend_gray` directives are read (once per file, however many locations include it),
//! compared once the configuration is read.

use std::sync::Mutex;

use frontend_gray_core::cookies::paths_overlap;
use frontend_gray_core::GrayConfig;
use ngx::ffi::{ngx_conf_t, NGX_LOG_WARN};
use ngx::ngx_conf_log_error;

struct Scope {
    file: String,
    /// `cookieDomain` without its leading dot, lower-case; empty: the request's host.
    domain: String,
    path: String,
    names: Vec<String>,
}

static SCOPES: Mutex<Vec<Scope>> = Mutex::new(Vec::new());

/// A new configuration is being read (preconfiguration).
pub fn reset() {
    if let Ok(mut s) = SCOPES.lock() {
        s.clear();
    }
}

/// The `frontend_gray` directive loaded `cfg` from `file`.
pub fn record(file: &str, cfg: &GrayConfig) {
    let Ok(mut scopes) = SCOPES.lock() else {
        return;
    };
    if scopes.iter().any(|s| s.file == file) {
        return;
    }
    scopes.push(Scope {
        file: file.to_owned(),
        domain: cfg
            .cookie_domain
            .as_deref()
            .unwrap_or("")
            .trim_start_matches('.')
            .to_ascii_lowercase(),
        path: cfg.cookie_path.clone(),
        names: cfg.cookie_names().into_iter().map(str::to_owned).collect(),
    });
}

/// Postconfiguration: one warning per pair of files whose cookies collide.
pub fn check(cf: *mut ngx_conf_t) {
    let scopes = match SCOPES.lock() {
        Ok(mut s) => core::mem::take(&mut *s),
        Err(_) => return,
    };
    // SAFETY: postconfiguration with a valid cf
    let cf = unsafe { &mut *cf };
    for (i, a) in scopes.iter().enumerate() {
        for b in &scopes[i + 1..] {
            if a.domain != b.domain || !paths_overlap(&a.path, &b.path) {
                continue;
            }
            let shared: Vec<&str> = a
                .names
                .iter()
                .filter(|n| b.names.contains(n))
                .map(String::as_str)
                .collect();
            if shared.is_empty() {
                continue;
            }
            ngx_conf_log_error!(
                NGX_LOG_WARN,
                cf,
                "\"frontend_gray\" files \"{}\" and \"{}\" both set cookie{} \"{}\" on overlapping paths (\"{}\", \"{}\") of the same domain: their versions can cross; give each app its own \"cookiePath\"",
                a.file,
                b.file,
                if shared.len() > 1 { "s" } else { "" },
                shared.join("\", \""),
                a.path,
                b.path
            );
        }
    }
}
