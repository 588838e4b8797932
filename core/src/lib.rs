//! The pure logic of frontend-gray for nginx, with no nginx types anywhere: configuration,
//! decision, rewriting, cookies. The nginx module (`src/` of the workspace root) adapts nginx
//! requests to these functions and nothing else.
// No unsafe code but in two audited places, allowed there alone: the one copy of
// `buf::put` and the SSE2 loads of `html/scan/simd.rs`.
#![deny(unsafe_code)]

pub mod buf;
pub mod byteset;
pub mod conditions;
pub mod config;
pub mod cookies;
pub mod decide;
pub mod glob;
pub mod html;
pub mod json_field;
pub mod path;
pub mod release;
pub mod rewrite;
pub mod status;
pub mod template;
#[cfg(test)]
mod test_rng;
pub mod uid;
pub mod userid;

pub use config::{ConfigError, Deployment, GrayConfig};
pub use decide::{
    decide, decide_steered, decide_with, Decision, Kind, Reason, RequestHeaders, Steering,
};

/// `x-higress-tag`, as a lower-case header name.
pub const VERSION_TAG_LC: &[u8] = config::VERSION_TAG.as_bytes();
