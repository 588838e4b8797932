//! Unattended release (SPEC §11), as pure state machines: a rollout climbs its weight
//! steps while a guard watches the version's error rate and rolls it back when it trips.
//! No nginx and no configuration parsing here; the glue is meant to use it like this.
//!
//! Shared zone (survives reloads): per app one "eval second" `AtomicU64`; per deployment
//! with a rollout or a guard a [`SeqWords<STATE_WORDS>`](SeqWords) for its
//! [`RolloutState`] and a [`SharedRing`] for its guard window; per zone a table of
//! [`ReplaySlot`]s and a random 32-byte beacon secret.
//!
//! Evaluation, once per app per second while requests flow: a request of the app calls
//! [`claim_second`] on the app's eval word; only the winner of that second goes on, so a
//! due transition happens within a second, in whichever worker sees it first. Under the
//! zone lock the winner, for each such deployment: loads the state words
//! ([`RolloutState::from_words`], then [`RolloutState::adopt`] with [`plan_hash`] of the
//! configured version and steps: a reload keeps the state, a new version or new steps
//! restart it), makes a [`Sample`] of the cumulative counters of the deployment and of
//! base ([`Sample::from_counts`]), calls [`evaluate`], stores the ring and the state
//! words, and after unlocking logs the [`Transition`], if any: once, by that worker.
//!
//! Decision: any worker reads the state words without a lock ([`SeqWords::load`]) and
//! uses [`RolloutState::weight`] and [`RolloutState::matches`] (a rolled-back
//! deployment's rule does not match). The status page shows
//! [`Phase::state_name`] and, rolled back, [`Trip::reason`] and its figures.
//!
//! PATCH, under the zone lock: [`RolloutState::pause`], [`RolloutState::resume`],
//! [`RolloutState::reset`]; a reset also empties the window ([`SharedRing::clear`]).
//!
//! JS errors: an entry page of a version gets a token ([`token::issue`] with
//! [`token::dep_id`] of app, deployment and version, the time and a random non-zero
//! nonce); the beacon handler counts a report in that deployment's `JS_ERRORS` counter
//! only if [`token::verify`] accepts the token, its `dep_id` is a current deployment of
//! the app, and [`ReplaySlots::accept`] accepts its `(nonce, seq)`.
pub mod duration;
pub mod guard;
pub mod reporter;
pub mod rollout;
pub mod shared;
pub mod token;
pub mod window;

use std::sync::atomic::{AtomicU64, Ordering};

pub use duration::{duration_from_yaml, parse_duration, DurationError};
pub use guard::{judge, ErrorKinds, Figures, GuardPlan, Limit, Trip, Verdict};
pub use rollout::{
    plan_hash, tick, ControlError, Phase, RolloutPlan, RolloutState, Transition, STATE_WORDS,
};
pub use shared::SeqWords;
pub use token::{
    dep_id, issue, issue_into, nonce, verify, Reject, ReplaySlot, ReplaySlots, Verified,
};
pub use window::{slot_width, Ring, Sample, SharedRing};

/// How far back a clock may step before the eval word follows it (the workers' cached
/// clocks differ by a second; a larger step is the system clock being set back).
const CLOCK_STEP_BACK: u64 = 60;

/// Claims the evaluation of second `now` on an app's eval word: true for exactly one
/// caller per second (and never for a second already passed, unless the clock was set
/// back by more than a minute).
pub fn claim_second(word: &AtomicU64, now: u64) -> bool {
    let last = word.load(Ordering::Acquire);
    if now == last || (now < last && last - now <= CLOCK_STEP_BACK) {
        return false;
    }
    word.compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
}

/// The outcome of one evaluation of a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub state: RolloutState,
    /// To log once.
    pub transition: Option<Transition>,
    /// The guard's judgement, for the status page (`None` without a guard or once
    /// rolled back).
    pub verdict: Option<Verdict>,
}

/// One evaluation of a deployment at `now.t`: records `now` in the window, judges it and
/// ticks the rollout.
pub fn evaluate(
    rollout: Option<&RolloutPlan>,
    guard: Option<&GuardPlan>,
    state: RolloutState,
    ring: &mut Ring,
    now: &Sample,
) -> Evaluation {
    let verdict = match guard {
        Some(g) if state.phase != Phase::RolledBack => {
            ring.record(g.window, *now);
            Some(judge(g, ring, now))
        }
        _ => None,
    };
    let (state, transition) = tick(rollout, state, now.t, verdict.as_ref());
    Evaluation {
        state,
        transition,
        verdict,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_guard;
#[cfg(test)]
mod tests_rollout;
#[cfg(test)]
mod tests_token;
