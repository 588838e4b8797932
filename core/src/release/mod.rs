//! Unattended release (SPEC §11), as pure state machines.
pub mod duration;
pub mod guard;
pub mod rollout;
pub mod shared;
pub mod token;
pub mod window;

pub use duration::{duration_from_yaml, parse_duration, DurationError};
pub use guard::{judge, ErrorKinds, Figures, GuardPlan, Limit, Trip, Verdict};
pub use rollout::{
    plan_hash, tick, ControlError, Phase, RolloutPlan, RolloutState, Transition, STATE_WORDS,
};
pub use shared::SeqWords;
pub use token::{dep_id, issue, verify, Reject, ReplaySlot, ReplaySlots, Verified};
pub use window::{slot_width, Ring, Sample, SharedRing};

#[cfg(test)]
mod tests_guard;
#[cfg(test)]
mod tests_rollout;
#[cfg(test)]
mod tests_token;
