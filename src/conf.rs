//! The `frontend_gray PATH | off;` directive and the per-location configuration.

use core::ffi::{c_char, c_void};
use std::sync::Arc;

use frontend_gray_core::GrayConfig;
use ngx::core::{NGX_CONF_ERROR, NGX_CONF_OK};
use ngx::ffi::{
    ngx_command_t, ngx_conf_full_name, ngx_conf_t, ngx_str_t, NGX_LOG_EMERG, NGX_LOG_WARN,
};
use ngx::http::{Merge, MergeConfigError};
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
        match GrayConfig::from_yaml(&text) {
            Ok(cfg) => {
                for w in &cfg.warnings {
                    ngx_conf_log_error!(
                        NGX_LOG_WARN,
                        cf,
                        "\"frontend_gray\" file \"{}\": {}",
                        path,
                        w
                    );
                }
                let cfg = Arc::new(cfg);
                if let Err(e) = crate::zone::register_app(cf, &cfg, &path) {
                    ngx_conf_log_error!(
                        NGX_LOG_EMERG,
                        cf,
                        "\"frontend_gray\" file \"{}\": {}",
                        path,
                        e
                    );
                    return NGX_CONF_ERROR;
                }
                lcf.state = State::On(cfg);
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
