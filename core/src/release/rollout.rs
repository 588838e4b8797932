//! The rollout of a gray deployment (SPEC §11): its weight climbs `steps`, one step per
//! `interval` while the guard holds, then the deployment is `promoted`; a tripped guard
//! rolls it back (weight 0, its rule does not match) until a reset or a new version.
//!
//! Everything is a pure function of the plan, the [`RolloutState`], the time and the
//! guard's verdict. The state is `Copy` and encodes into [`STATE_WORDS`] words, so the
//! glue keeps it in shared memory and a reload finds it again ([`RolloutState::adopt`]).
//!
//! Conservative catch-up: when no request came for several intervals, [`tick`] advances
//! one step and starts the next interval at `now`; it never skips steps, so every weight
//! is watched by the guard for a full interval of traffic.
//!
//! `TooFew` (not enough views to judge) does not hold a rollout back: only a trip does,
//! otherwise a low-traffic app would never leave its first step.

use std::fmt;

use super::guard::{Trip, Verdict, TRIP_WORDS};
use crate::status::DeploymentStateName;

/// A deployment's `rollout:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutPlan {
    /// Weights in percent, non-decreasing.
    pub steps: Vec<u8>,
    /// Seconds per step.
    pub interval: u64,
}

impl RolloutPlan {
    /// At least one step, each 0–100, non-decreasing, at most 100 of them; an interval.
    pub fn validate(&self) -> Result<(), String> {
        if self.steps.is_empty() || self.steps.len() > 100 {
            return Err("rollout: steps must list 1 to 100 weights".into());
        }
        if let Some(w) = self.steps.iter().find(|w| **w > 100) {
            return Err(format!("rollout: step weight {w} is above 100"));
        }
        if let Some(p) = self.steps.windows(2).find(|p| p[1] < p[0]) {
            return Err(format!(
                "rollout: steps must not decrease ({} then {})",
                p[0], p[1]
            ));
        }
        if self.interval == 0 {
            return Err("rollout: interval must be at least 1s".into());
        }
        Ok(())
    }

    /// The weight of step `i` (the last step past the end).
    pub fn weight_at(&self, i: u32) -> u8 {
        let last = self.steps.len().saturating_sub(1);
        self.steps.get((i as usize).min(last)).copied().unwrap_or(0)
    }

    fn last(&self) -> u32 {
        self.steps.len().saturating_sub(1) as u32
    }
}

/// What identifies a rollout across reloads: the version and the steps (not the interval,
/// which a reload may change for the running step). A deployment with a guard and no
/// rollout hashes its version alone.
pub fn plan_hash(version: &str, plan: Option<&RolloutPlan>) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(version.as_bytes());
    h.update(&[0]);
    if let Some(p) = plan {
        h.update(&[1]);
        h.update(&p.steps);
    }
    h.digest()
}

/// Where a deployment with a rollout and/or a guard stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A guard without a rollout: the configured weight.
    Active = 1,
    Running = 2,
    Paused = 3,
    Promoted = 4,
    RolledBack = 5,
}

impl Phase {
    fn from_u8(v: u8) -> Option<Phase> {
        Some(match v {
            1 => Phase::Active,
            2 => Phase::Running,
            3 => Phase::Paused,
            4 => Phase::Promoted,
            5 => Phase::RolledBack,
            _ => return None,
        })
    }

    /// The status page's `state`.
    pub fn state_name(self) -> DeploymentStateName {
        match self {
            Phase::Active => DeploymentStateName::Active,
            Phase::Running => DeploymentStateName::Rollout,
            Phase::Paused => DeploymentStateName::Paused,
            Phase::Promoted => DeploymentStateName::Promoted,
            Phase::RolledBack => DeploymentStateName::RolledBack,
        }
    }
}

/// Words of an encoded [`RolloutState`].
pub const STATE_WORDS: usize = 4 + TRIP_WORDS;
/// Tag of the first word, so zeroed or foreign memory decodes to no state.
const TAG: u64 = 0x52 << 56;

/// The state of a rollout (or of a guard alone).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RolloutState {
    pub phase: Phase,
    /// Index into the plan's steps.
    pub step: u32,
    /// When the current step began, in unix seconds, moved forward by time paused.
    pub step_started: u64,
    /// When the current phase began (pause, promotion, rollback), unix seconds.
    pub since: u64,
    /// [`plan_hash`] of the plan this state belongs to.
    pub plan_hash: u64,
    /// What tripped the guard, when rolled back.
    pub trip: Option<Trip>,
}

/// A move of a rollout, to log once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transition {
    Step { from: u32, to: u32, weight: u8 },
    Promoted { weight: u8 },
    RolledBack(Trip),
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transition::Step { from, to, weight } => {
                write!(
                    f,
                    "rollout step {} -> {} (weight {weight})",
                    from + 1,
                    to + 1
                )
            }
            Transition::Promoted { weight } => write!(f, "promoted (weight {weight})"),
            Transition::RolledBack(t) => write!(f, "rolled back: {}", t.reason()),
        }
    }
}

/// Why a PATCH `rollout` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("the deployment has no rollout")]
    NoRollout,
    #[error("the rollout is {0}; reset it first")]
    Finished(&'static str),
}

impl RolloutState {
    /// A fresh state: the first step from `now`, or `Active` without a rollout.
    pub fn start(plan: Option<&RolloutPlan>, plan_hash: u64, now: u64) -> RolloutState {
        RolloutState {
            phase: if plan.is_some() {
                Phase::Running
            } else {
                Phase::Active
            },
            step: 0,
            step_started: now,
            since: now,
            plan_hash,
            trip: None,
        }
    }

    /// After a reload: the stored state if it belongs to the same plan (version and steps),
    /// else a fresh start.
    pub fn adopt(
        stored: Option<RolloutState>,
        plan: Option<&RolloutPlan>,
        plan_hash: u64,
        now: u64,
    ) -> RolloutState {
        match stored {
            Some(s) if s.plan_hash == plan_hash && (s.phase == Phase::Active) == plan.is_none() => {
                s
            }
            _ => RolloutState::start(plan, plan_hash, now),
        }
    }

    /// PATCH `reset`: the first step again, no rollback (the glue also clears the window).
    pub fn reset(self, plan: Option<&RolloutPlan>, now: u64) -> RolloutState {
        RolloutState::start(plan, self.plan_hash, now)
    }

    fn control(self) -> Result<(), ControlError> {
        match self.phase {
            Phase::Active => Err(ControlError::NoRollout),
            Phase::Promoted => Err(ControlError::Finished("promoted")),
            Phase::RolledBack => Err(ControlError::Finished("rolledBack")),
            Phase::Running | Phase::Paused => Ok(()),
        }
    }

    /// PATCH `rollout: pause` (a paused rollout stays paused).
    pub fn pause(self, now: u64) -> Result<RolloutState, ControlError> {
        self.control()?;
        Ok(match self.phase {
            Phase::Running => RolloutState {
                phase: Phase::Paused,
                since: now,
                ..self
            },
            _ => self,
        })
    }

    /// PATCH `rollout: resume`: the time paused does not count toward the interval.
    pub fn resume(self, now: u64) -> Result<RolloutState, ControlError> {
        self.control()?;
        Ok(match self.phase {
            Phase::Paused => RolloutState {
                phase: Phase::Running,
                step_started: self
                    .step_started
                    .saturating_add(now.saturating_sub(self.since)),
                since: now,
                ..self
            },
            _ => self,
        })
    }

    /// The effective weight: the step's, the last step's once promoted, 0 rolled back,
    /// `configured` for a guard without a rollout.
    pub fn weight(&self, plan: Option<&RolloutPlan>, configured: u8) -> u8 {
        match (self.phase, plan) {
            (Phase::RolledBack, _) => 0,
            (Phase::Active, _) | (_, None) => configured,
            (_, Some(p)) => p.weight_at(self.step),
        }
    }

    /// Whether the deployment's rule may match (not rolled back).
    pub fn matches(&self) -> bool {
        self.phase != Phase::RolledBack
    }

    pub fn to_words(&self) -> [u64; STATE_WORDS] {
        let mut w = [0u64; STATE_WORDS];
        w[0] = TAG | (self.step as u64) << 8 | self.phase as u64;
        w[1] = self.step_started;
        w[2] = self.since;
        w[3] = self.plan_hash;
        if let Some(t) = &self.trip {
            w[4..].copy_from_slice(&t.to_words());
        }
        w
    }

    /// The state of [`RolloutState::to_words`]; `None` for zeroed or foreign words.
    pub fn from_words(w: &[u64; STATE_WORDS]) -> Option<RolloutState> {
        if w[0] & (0xff << 56) != TAG {
            return None;
        }
        let phase = Phase::from_u8((w[0] & 0xff) as u8)?;
        let mut t = [0u64; TRIP_WORDS];
        t.copy_from_slice(&w[4..]);
        Some(RolloutState {
            phase,
            step: (w[0] >> 8) as u32,
            step_started: w[1],
            since: w[2],
            plan_hash: w[3],
            trip: if phase == Phase::RolledBack {
                Trip::from_words(&t)
            } else {
                None
            },
        })
    }
}

/// One evaluation at `now`: a tripped guard rolls back (in every phase but rolled back);
/// otherwise a running rollout whose step has lasted `interval` moves one step, or is
/// promoted after its last step. `verdict` is `None` without a guard.
pub fn tick(
    plan: Option<&RolloutPlan>,
    s: RolloutState,
    now: u64,
    verdict: Option<&Verdict>,
) -> (RolloutState, Option<Transition>) {
    if s.phase == Phase::RolledBack {
        return (s, None);
    }
    if let Some(Verdict::Trips(t)) = verdict {
        let next = RolloutState {
            phase: Phase::RolledBack,
            since: now,
            trip: Some(*t),
            ..s
        };
        return (next, Some(Transition::RolledBack(*t)));
    }
    let Some(p) = plan.filter(|_| s.phase == Phase::Running) else {
        return (s, None);
    };
    if now.saturating_sub(s.step_started) < p.interval {
        return (s, None);
    }
    if s.step < p.last() {
        let to = s.step + 1;
        let next = RolloutState {
            step: to,
            step_started: now,
            since: now,
            ..s
        };
        let weight = p.weight_at(to);
        return (
            next,
            Some(Transition::Step {
                from: s.step,
                to,
                weight,
            }),
        );
    }
    let next = RolloutState {
        phase: Phase::Promoted,
        since: now,
        ..s
    };
    (
        next,
        Some(Transition::Promoted {
            weight: p.weight_at(s.step),
        }),
    )
}
