//! The configuration loader on arbitrary YAML/JSON bytes: errors, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cfg) = frontend_gray_core::GrayConfig::from_yaml(text) {
            // a loaded configuration is usable
            let _ = cfg.to_string();
        }
    }
});
