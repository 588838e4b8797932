//! Every function nginx calls goes through [`guard`]: a panic (a bug: nothing in the request
//! path unwraps untrusted input) is caught, logged and turned into the given fallback
//! instead of unwinding into C.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ngx::ffi::NGX_LOG_ALERT;
use ngx::log::ngx_cycle_log;
use ngx::ngx_log_error;

pub fn guard<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(e) => {
            let msg = e
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| e.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("unknown panic");
            let log = ngx_cycle_log().as_ptr();
            ngx_log_error!(NGX_LOG_ALERT, log, "frontend_gray: internal error: {}", msg);
            fallback
        }
    }
}
