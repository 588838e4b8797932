//! Unattended release (SPEC §11), as pure state machines.
pub mod duration;

pub use duration::{duration_from_yaml, parse_duration, DurationError};
