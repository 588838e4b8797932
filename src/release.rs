//! Unattended release (SPEC §11) in nginx: the rollout and guard state of each gray
//! deployment that has one lives in the shared zone ([`RelRec`]); the pure state machines
//! of `frontend_gray_core::release` decide what it becomes.
//!
//! - The master makes the records while it reads a configuration and adopts their state
//!   ([`adopt_all`]): a reload keeps a rollout, new steps restart it, a rollback stays.
//! - The decision reads the state without a lock ([`steered_weight`]).
//! - The log phase of any request of the app evaluates it, once per app per second across
//!   all workers ([`evaluate`]): the worker that claims the second takes the zone lock,
//!   records the window, judges it, ticks the rollout, stores the state and logs the
//!   transition — once, in that worker.
//! - PATCH `pause` / `resume` / `reset` go through [`crate::control`].

use frontend_gray_core::release::{
    claim_second, evaluate as evaluate_once, plan_hash, Phase, RolloutState, Sample, SeqWords,
    SharedRing, Transition, Verdict, STATE_WORDS,
};
use frontend_gray_core::status::ReleaseSnapshot;
use frontend_gray_core::Deployment;
use ngx::ffi::{ngx_cached_time, ngx_log_t, NGX_LOG_NOTICE, NGX_LOG_WARN};
use ngx::ngx_log_error;

use crate::zone::{deployments, App, MainConf};

/// A deployment's rollout / guard record in the zone (zeroed: no state yet).
#[repr(C)]
pub struct RelRec {
    pub state: SeqWords<STATE_WORDS>,
    pub ring: SharedRing,
}

/// nginx's cached time, in unix seconds.
pub fn now() -> u64 {
    // SAFETY: nginx's cached time is set before any configuration is read
    unsafe { ngx_cached_time.as_ref().map_or(0, |t| t.sec.max(0) as u64) }
}

/// Deployment `i` has a rollout or a guard.
pub fn released(d: &Deployment) -> bool {
    d.rollout.is_some() || d.guard.is_some()
}

fn deployment(app: &App, i: usize) -> Option<&Deployment> {
    deployments(app.cfg()).nth(i)
}

/// The stored state of deployment `i` (`None` without a record or before the first one).
pub fn state(app: &App, i: usize) -> Option<RolloutState> {
    RolloutState::from_words(&app.rel(i)?.state.load()?)
}

/// What the release makes of a gray deployment's weight, for the decision.
pub enum Steer {
    /// The step's weight (no effect for a guard alone: `None` is returned then).
    Weight(u8),
    /// Rolled back; the width its bucket range had.
    RolledBack(u8),
}

/// The release's say on deployment `i` (`i >= 1`), read without a lock.
pub fn steered_weight(app: &App, i: usize) -> Option<Steer> {
    let d = deployment(app, i)?;
    if !released(d) {
        return None;
    }
    let s = state(app, i)?;
    let configured = d.bucket.1 - d.bucket.0;
    match s.phase {
        Phase::RolledBack => {
            let held = app.dep(i).and_then(|r| r.weight_override());
            let w = match (&d.rollout, held) {
                (_, Some(w)) => w,
                (Some(p), None) => p.weight_at(s.step),
                (None, None) => configured,
            };
            Some(Steer::RolledBack(w))
        }
        Phase::Active => None,
        _ => d
            .rollout
            .as_ref()
            .map(|p| Steer::Weight(s.weight(Some(p), configured))),
    }
}

fn hash(d: &Deployment) -> u64 {
    plan_hash(&d.version, d.rollout.as_ref())
}

/// The state to keep for deployment `d` from what is stored: the stored one for the same
/// plan, a fresh start for new steps — but a rollback lasts until a reset or a new version
/// (a record belongs to one version: a new version is a new record, with no state).
fn adopt(d: &Deployment, stored: Option<RolloutState>, now: u64) -> RolloutState {
    let h = hash(d);
    match stored {
        Some(s) if s.phase == Phase::RolledBack => RolloutState { plan_hash: h, ..s },
        _ => RolloutState::adopt(stored, d.rollout.as_ref(), h, now),
    }
}

/// The master, zone locked, after resolving a configuration's records (and after reading
/// the state file): every released deployment gets its state for this configuration.
pub fn adopt_all(mcf: &MainConf) {
    let now = now();
    for app in &mcf.apps {
        for (i, d) in deployments(app.cfg()).enumerate().skip(1) {
            if let (true, Some(rel)) = (released(d), app.rel(i)) {
                let stored = state(app, i);
                let s = adopt(d, stored, now);
                if Some(s) != stored {
                    rel.state.store(&s.to_words());
                }
            }
        }
    }
}

/// The log phase of a request of `app`: evaluates the app's rollouts and guards if this
/// worker is the first to claim the current second.
pub fn evaluate(mcf: &MainConf, app: &App, log: *mut ngx_log_t) {
    if !app.cfg().released {
        return;
    }
    let Some(rec) = app.rec() else { return };
    let now = now();
    if !claim_second(&rec.eval, now) {
        return;
    }
    let mut moves: [Option<(usize, Transition)>; 8] = [None; 8];
    let mut more = false;
    mcf.locked(|| {
        let mut n = 0;
        for (i, d) in deployments(app.cfg()).enumerate().skip(1) {
            if let Some(t) = evaluate_deployment(app, i, d, now) {
                if n < moves.len() {
                    moves[n] = Some((i, t));
                    n += 1;
                } else {
                    more = true;
                }
            }
        }
        if n > 0 {
            crate::control::write_state(mcf, log);
        }
    });
    for (i, t) in moves.iter().flatten() {
        log_transition(app, *i, t, log);
    }
    if more {
        ngx_log_error!(
            NGX_LOG_NOTICE,
            log,
            "frontend_gray: app \"{}\": more rollout transitions than logged",
            app.name
        );
    }
}

/// One evaluation of deployment `i` (zone locked).
fn evaluate_deployment(app: &App, i: usize, d: &Deployment, now: u64) -> Option<Transition> {
    if !released(d) {
        return None;
    }
    let rel = app.rel(i)?;
    let (gray, base) = (app.dep(i)?, app.dep(0)?);
    let stored = state(app, i);
    let s = adopt(d, stored, now);
    let mut ring = rel.ring.load();
    let sample = Sample::from_counts(now, &gray.counters.snapshot(), &base.counters.snapshot());
    let ev = evaluate_once(d.rollout.as_ref(), d.guard.as_ref(), s, &mut ring, &sample);
    if d.guard.is_some() && s.phase != Phase::RolledBack {
        rel.ring.store(&ring);
    }
    if Some(ev.state) != stored {
        rel.state.store(&ev.state.to_words());
    }
    ev.transition
}

fn log_transition(app: &App, i: usize, t: &Transition, log: *mut ngx_log_t) {
    let Some(d) = deployment(app, i) else { return };
    match t {
        Transition::RolledBack(trip) => {
            ngx_log_error!(
                NGX_LOG_WARN,
                log,
                "frontend_gray: app \"{}\": deployment \"{}\" version \"{}\" rolled back: {}",
                app.name,
                d.name,
                d.version,
                trip.reason()
            );
        }
        t => {
            ngx_log_error!(
                NGX_LOG_NOTICE,
                log,
                "frontend_gray: app \"{}\": deployment \"{}\" version \"{}\": {}",
                app.name,
                d.name,
                d.version,
                t
            );
        }
    }
}

/// Checks PATCH `reset` and then `rollout: pause|resume` for deployment `i` (zone locked):
/// the state to store, `Ok(None)` when there is nothing to do (a reset of a deployment
/// without a rollout or a guard has no effect).
pub fn check(
    app: &App,
    i: usize,
    reset: bool,
    rollout: Option<frontend_gray_core::status::Rollout>,
) -> Result<Option<RolloutState>, String> {
    use frontend_gray_core::status::Rollout;
    let Some(d) = deployment(app, i) else {
        return Ok(None);
    };
    if !released(d) || (!reset && rollout.is_none()) {
        return Ok(None);
    }
    if app.rel(i).is_none() {
        return Err(format!(
            "deployments.{}: no room in the zone for its rollout: raise frontend_gray_zone",
            d.name
        ));
    }
    let now = now();
    let mut s = adopt(d, state(app, i), now);
    if reset {
        s = s.reset(d.rollout.as_ref(), now);
    }
    let s = match rollout {
        None => Ok(s),
        Some(Rollout::Pause) => s.pause(now),
        Some(Rollout::Resume) => s.resume(now),
    };
    s.map(Some)
        .map_err(|e| format!("deployments.{}.rollout: {e}", d.name))
}

/// Stores what [`check`] accepted (zone locked); a reset also empties the window.
pub fn apply(app: &App, i: usize, reset: bool, s: RolloutState) {
    if let Some(rel) = app.rel(i) {
        if reset {
            rel.ring.clear();
        }
        rel.state.store(&s.to_words());
    }
}

/// The status page's view of deployment `i`.
pub fn snapshot(app: &App, i: usize, weight: u8) -> Option<ReleaseSnapshot<'_>> {
    let d = deployment(app, i)?;
    if !released(d) {
        return None;
    }
    let now = now();
    let state = adopt(d, state(app, i), now);
    let verdict = match (&d.guard, app.rel(i), app.dep(i), app.dep(0)) {
        (Some(g), Some(rel), Some(gray), Some(base)) if state.phase != Phase::RolledBack => {
            let sample =
                Sample::from_counts(now, &gray.counters.snapshot(), &base.counters.snapshot());
            Some(frontend_gray_core::release::judge(
                g,
                &rel.ring.load(),
                &sample,
            ))
        }
        _ => None::<Verdict>,
    };
    Some(ReleaseSnapshot {
        rollout: d.rollout.as_ref(),
        guard: d.guard.as_ref(),
        state,
        verdict,
        weight,
    })
}
