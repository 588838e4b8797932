//! The `frontend_gray PATH | off;` directive and the per-location configuration.

use core::ffi::{c_char, c_void};
use std::sync::Arc;

use frontend_gray_core::GrayConfig;
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_full_name, ngx_conf_t, ngx_str_t, NGX_LOG_EMERG, NGX_LOG_WARN,
};
use ngx::http::{HttpModuleLocationConf, Merge, MergeConfigError, NgxHttpCoreModule};
use ngx::ngx_conf_log_error;

use crate::ffi_guard::guard;

/// Per-location state of the module, merged downwards (`off` switches an inherited one off).
#[derive(Debug, Default)]
pub struct LocationConf {
    pub state: State,
}

#[derive(Debug, Default, Clone)]
pub enum State {
    #[default]
    Unset,
    Off,
    /// The compiled YAML, shared by every location that inherits it.
    On(Arc<GrayConfig>),
}

impl LocationConf {
    pub fn config(&self) -> Option<&GrayConfig> {
        match &self.state {
            State::On(c) => Some(c),
            _ => None,
        }
    }
}

impl Merge for LocationConf {
    fn merge(&mut self, prev: &LocationConf) -> Result<(), MergeConfigError> {
        if let State::Unset = self.state {
            self.state = prev.state.clone();
        }
        Ok(())
    }
}

/// `merge_loc_conf` of the module: the inherited state, then the `alias` check.
///
/// With `alias`, nginx maps a URI to a file by replacing the location's prefix, which only
/// works for a URI that starts with it; nginx refuses `alias` for a URI that `rewrite … break`
/// moved elsewhere. So in a location with `alias` every routing target must lie under the
/// location's prefix (`/application/` → `/application/{version}`), and a regex location with
/// `alias` (whose path comes from the regex captures, not the URI) cannot be rewritten at all.
/// Checked here, at `nginx -t`, rather than failing requests.
pub unsafe extern "C" fn merge_loc_conf(
    cf: *mut ngx_conf_t,
    prev: *mut c_void,
    conf: *mut c_void,
) -> *mut c_char {
    guard(NGX_CONF_ERROR, || {
        // SAFETY: nginx calls merge_loc_conf with valid cf and this module's loc confs; during
        // the merge cf->ctx holds the loc confs of the location being merged
        let (cf, prev, conf) = unsafe {
            (
                &mut *cf,
                &*(prev as *const LocationConf),
                &mut *(conf as *mut LocationConf),
            )
        };
        if conf.merge(prev).is_err() {
            return NGX_CONF_ERROR;
        }
        let (Some(cfg), Some(clcf)) = (conf.config(), NgxHttpCoreModule::location_conf(&*cf))
        else {
            return NGX_CONF_OK;
        };
        if clcf.alias == 0 {
            return NGX_CONF_OK;
        }
        let name = String::from_utf8_lossy(clcf.name.as_bytes()).into_owned();
        if !clcf.regex.is_null() || clcf.alias == usize::MAX {
            ngx_conf_log_error!(
                NGX_LOG_EMERG,
                cf,
                "\"frontend_gray\" cannot rewrite the URI in regex location \"{}\", which uses \"alias\": use \"root\"",
                name
            );
            return NGX_CONF_ERROR;
        }
        let routes = cfg
            .rewrite
            .index_routing
            .iter()
            .map(|r| ("indexRouting", r))
            .chain(cfg.rewrite.file_routing.iter().map(|r| ("fileRouting", r)));
        for (table, (key, target)) in routes {
            if !target.literal_prefix().starts_with(&name) {
                ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "\"frontend_gray\" in location \"{}\", which uses \"alias\": rewrite.{}.{} targets \"{}\", outside the location, where \"alias\" cannot map it; use \"root\", or a target under \"{}\"",
                    name,
                    table,
                    key,
                    target.source(),
                    name
                );
                return NGX_CONF_ERROR;
            }
        }
        NGX_CONF_OK
    })
}

/// Handler of the `frontend_gray` directive: reads and compiles the YAML file now, so that
/// `nginx -t` reports every error, with the file and the line, column or field.
pub extern "C" fn set_frontend_gray(
    cf: *mut ngx_conf_t,
    _cmd: *mut ngx_command_t,
    conf: *mut c_void,
) -> *mut c_char {
    guard(NGX_CONF_ERROR, || {
        // SAFETY: nginx calls directive handlers with valid cf and this module's loc conf.
        let (cf, lcf) = unsafe { (&mut *cf, &mut *(conf as *mut LocationConf)) };
        if !matches!(lcf.state, State::Unset) {
            return c"is duplicate".as_ptr() as *mut c_char;
        }
        // SAFETY: TAKE1: args holds the directive name and one argument
        let arg: ngx_str_t = unsafe { (*cf.args).as_slice::<ngx_str_t>()[1] };
        if arg.as_bytes() == b"off" {
            lcf.state = State::Off;
            return NGX_CONF_OK;
        }
        let mut name = arg;
        // Relative paths are relative to the configuration prefix, as for `include`.
        // SAFETY: cf.cycle is valid during configuration parsing
        if unsafe { ngx_conf_full_name(cf.cycle, &mut name, 1) } != 0 {
            return NGX_CONF_ERROR;
        }
        let path = String::from_utf8_lossy(name.as_bytes()).into_owned();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "\"frontend_gray\" file \"{}\": {}",
                    path,
                    e
                );
                return NGX_CONF_ERROR;
            }
        };
        let dir = std::path::Path::new(&path)
            .parent()
            .unwrap_or(std::path::Path::new("."));
        match GrayConfig::from_yaml_in(&text, dir) {
            Ok(mut cfg) => {
                crate::cookiescope::record(&path, &cfg);
                if let Err(e) = crate::condvars::resolve(cf, &mut cfg, &path) {
                    ngx_conf_log_error!(
                        NGX_LOG_EMERG,
                        cf,
                        "\"frontend_gray\" file \"{}\": {}",
                        path,
                        e
                    );
                    return NGX_CONF_ERROR;
                }
                for w in &cfg.warnings {
                    ngx_conf_log_error!(
                        NGX_LOG_WARN,
                        cf,
                        "\"frontend_gray\" file \"{}\": {}",
                        path,
                        w
                    );
                }
                lcf.state = State::On(Arc::new(cfg));
                NGX_CONF_OK
            }
            Err(e) => {
                ngx_conf_log_error!(
                    NGX_LOG_EMERG,
                    cf,
                    "\"frontend_gray\" file \"{}\": {}",
                    path,
                    e
                );
                NGX_CONF_ERROR
            }
        }
    })
}
