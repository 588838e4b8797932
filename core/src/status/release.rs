//! The `rollout` and `guard` objects of a deployment on the status page and their
//! Prometheus gauges (SPEC §11).
//!
//! ```json
//! "rollout": {"state": "rollout", "step": 2, "steps": [1, 5, 25], "weight": 5,
//!             "interval": 600, "stepStarted": 1764680000, "nextStep": 1764680600},
//! "guard": {"window": 60, "minEntries": 100, "maxErrorRate": 0.05,
//!           "maxErrorRateOverBase": null, "errors": ["5xx", "asset404", "jsError"],
//!           "judged": "holds", "span": 58, "entries": 120, "errorCount": 3,
//!           "errorRate": 0.025, "baseErrorRate": 0.01,
//!           "rollback": null}
//! ```
//! Rolled back, `guard.judged` is `"off"` and `guard.rollback` holds `at` (unix seconds),
//! `reason` and the figures of the window that tripped.

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

use super::render::{family, key, labels, push, push_json_str, push_num};
use super::AppSnapshot;
use crate::release::{ErrorKinds, Figures, GuardPlan, Phase, RolloutPlan, RolloutState, Verdict};

/// What the status page shows of a deployment's rollout and guard.
#[derive(Debug, Clone)]
pub struct ReleaseSnapshot<'a> {
    pub rollout: Option<&'a RolloutPlan>,
    pub guard: Option<&'a GuardPlan>,
    pub state: RolloutState,
    /// The guard's judgement of the window as it is now (`None` without a guard or once
    /// rolled back).
    pub verdict: Option<Verdict>,
    /// The weight in force (the step's, an override's, 0 rolled back).
    pub weight: u8,
}

/// A finite number with up to 6 decimals, written without allocating; `null` otherwise.
fn push_f64<A: Allocator>(out: &mut Vec<u8, A>, v: f64) {
    use core::fmt::Write;
    struct Buf([u8; 40], usize);
    impl Write for Buf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.1 + s.len();
            if end > self.0.len() {
                return Err(core::fmt::Error);
            }
            self.0[self.1..end].copy_from_slice(s.as_bytes());
            self.1 = end;
            Ok(())
        }
    }
    let mut b = Buf([0; 40], 0);
    if !v.is_finite() || write!(b, "{v:.6}").is_err() {
        push(out, "null");
        return;
    }
    let mut s = &b.0[..b.1];
    while s.len() > 1 && s.ends_with(b"0") {
        s = &s[..s.len() - 1];
    }
    if s.ends_with(b".") {
        s = &s[..s.len() - 1];
    }
    if s == b"-0" {
        s = b"0";
    }
    crate::buf::put(out, s);
}

fn push_opt_f64<A: Allocator>(out: &mut Vec<u8, A>, v: Option<f64>) {
    match v {
        Some(v) => push_f64(out, v),
        None => push(out, "null"),
    }
}

pub(super) fn rollout_json<A: Allocator>(out: &mut Vec<u8, A>, r: Option<&ReleaseSnapshot>) {
    let Some((r, p)) = r.and_then(|r| Some((r, r.rollout?))) else {
        push(out, "null");
        return;
    };
    let s = &r.state;
    let mut f = true;
    out.push(b'{');
    key(out, &mut f, "state");
    push_json_str(out, s.phase.state_name().name());
    key(out, &mut f, "step");
    push_num(out, u64::from(s.step) + 1);
    key(out, &mut f, "steps");
    out.push(b'[');
    for (i, w) in p.steps.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_num(out, (*w).into());
    }
    out.push(b']');
    key(out, &mut f, "weight");
    push_num(out, r.weight.into());
    key(out, &mut f, "interval");
    push_num(out, p.interval);
    key(out, &mut f, "stepStarted");
    push_num(out, s.step_started);
    key(out, &mut f, "nextStep");
    if s.phase == Phase::Running {
        push_num(out, s.step_started.saturating_add(p.interval));
    } else {
        push(out, "null");
    }
    out.push(b'}');
}

fn figures_json<A: Allocator>(out: &mut Vec<u8, A>, f: &mut bool, fig: &Figures) {
    key(out, f, "span");
    push_num(out, fig.span);
    key(out, f, "entries");
    push_num(out, fig.entries);
    key(out, f, "errorCount");
    push_num(out, fig.errors);
    key(out, f, "errorRate");
    push_f64(out, fig.rate());
    key(out, f, "baseErrorRate");
    push_f64(out, fig.base_rate());
}

pub(super) fn guard_json<A: Allocator>(out: &mut Vec<u8, A>, r: Option<&ReleaseSnapshot>) {
    let Some((r, g)) = r.and_then(|r| Some((r, r.guard?))) else {
        push(out, "null");
        return;
    };
    let mut f = true;
    out.push(b'{');
    key(out, &mut f, "window");
    push_num(out, g.window);
    key(out, &mut f, "minEntries");
    push_num(out, g.min_entries);
    key(out, &mut f, "maxErrorRate");
    push_opt_f64(out, g.max_rate);
    key(out, &mut f, "maxErrorRateOverBase");
    push_opt_f64(out, g.max_over_base);
    key(out, &mut f, "errors");
    out.push(b'[');
    let mut first = true;
    for (bit, name) in [
        (ErrorKinds::SERVER, "5xx"),
        (ErrorKinds::ASSET_404, "asset404"),
        (ErrorKinds::JS, "jsError"),
    ] {
        if g.errors.0 & bit != 0 {
            if !first {
                out.push(b',');
            }
            first = false;
            push_json_str(out, name);
        }
    }
    out.push(b']');
    key(out, &mut f, "judged");
    match &r.verdict {
        None => push(out, "\"off\""),
        Some(Verdict::TooFew { entries }) => {
            push(out, "\"tooFew\"");
            key(out, &mut f, "entries");
            push_num(out, *entries);
        }
        Some(Verdict::Holds(fig)) => {
            push(out, "\"holds\"");
            figures_json(out, &mut f, fig);
        }
        Some(Verdict::Trips(t)) => {
            push(out, "\"trips\"");
            figures_json(out, &mut f, &t.figures);
        }
    }
    key(out, &mut f, "rollback");
    match (&r.state.phase, &r.state.trip) {
        (Phase::RolledBack, Some(t)) => {
            let mut g = true;
            out.push(b'{');
            key(out, &mut g, "at");
            push_num(out, r.state.since);
            key(out, &mut g, "reason");
            push_json_str(out, &t.reason());
            figures_json(out, &mut g, &t.figures);
            out.push(b'}');
        }
        _ => push(out, "null"),
    }
    out.push(b'}');
}

/// `frontend_gray_rollout_step` and `frontend_gray_guard_error_rate` /
/// `frontend_gray_guard_entries` (the window as judged now).
pub(super) fn prometheus<A: Allocator>(out: &mut Vec<u8, A>, apps: &[AppSnapshot]) {
    let with = |f: fn(&ReleaseSnapshot) -> bool| {
        apps.iter()
            .flat_map(|a| a.deployments.iter())
            .any(|d| d.release.as_ref().is_some_and(f))
    };
    if with(|r| r.rollout.is_some()) {
        family(
            out,
            "frontend_gray_rollout_step",
            "gauge",
            "Number of the rollout's current step (1 is the first).",
        );
        for a in apps {
            for d in a.deployments {
                if let Some(r) = d.release.as_ref().filter(|r| r.rollout.is_some()) {
                    labels(out, "frontend_gray_rollout_step", a, d);
                    push(out, "} ");
                    push_num(out, u64::from(r.state.step) + 1);
                    out.push(b'\n');
                }
            }
        }
    }
    if with(|r| r.guard.is_some()) {
        for (name, help, rate) in [
            (
                "frontend_gray_guard_error_rate",
                "Errors per entry view of the version in the guard's window.",
                true,
            ),
            (
                "frontend_gray_guard_entries",
                "Entry views of the version in the guard's window.",
                false,
            ),
        ] {
            family(out, name, "gauge", help);
            for a in apps {
                for d in a.deployments {
                    let Some(r) = d.release.as_ref().filter(|r| r.guard.is_some()) else {
                        continue;
                    };
                    let (entries, value) = match &r.verdict {
                        Some(Verdict::Holds(f)) => (f.entries, f.rate()),
                        Some(Verdict::Trips(t)) => (t.figures.entries, t.figures.rate()),
                        Some(Verdict::TooFew { entries }) => (*entries, 0.0),
                        None => match &r.state.trip {
                            Some(t) => (t.figures.entries, t.figures.rate()),
                            None => (0, 0.0),
                        },
                    };
                    labels(out, name, a, d);
                    push(out, "} ");
                    if rate {
                        push_f64(out, value);
                    } else {
                        push_num(out, entries);
                    }
                    out.push(b'\n');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> String {
        let mut out = Vec::new();
        push_f64(&mut out, v);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn floats_are_short_and_json() {
        assert_eq!(f(0.05), "0.05");
        assert_eq!(f(1.0), "1");
        assert_eq!(f(0.0), "0");
        assert_eq!(f(-0.0), "0");
        assert_eq!(f(0.125), "0.125");
        assert_eq!(f(1.0 / 3.0), "0.333333");
        assert_eq!(f(f64::NAN), "null");
        assert_eq!(f(f64::INFINITY), "null");
        assert_eq!(f(1e300), "null");
    }

    fn json(r: &ReleaseSnapshot) -> (serde_json::Value, serde_json::Value) {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        rollout_json(&mut a, Some(r));
        guard_json(&mut b, Some(r));
        (
            serde_json::from_slice(&a).unwrap(),
            serde_json::from_slice(&b).unwrap(),
        )
    }

    #[test]
    fn rollout_and_guard_objects() {
        use crate::release::{Limit, Trip};
        let plan = RolloutPlan {
            steps: vec![1, 5, 25],
            interval: 600,
        };
        let guard = GuardPlan {
            window: 60,
            min_entries: 100,
            max_rate: Some(0.05),
            max_over_base: None,
            errors: ErrorKinds(ErrorKinds::SERVER | ErrorKinds::JS),
        };
        let mut state = RolloutState::start(Some(&plan), 7, 1000);
        state.step = 1;
        let fig = Figures {
            span: 58,
            entries: 120,
            errors: 3,
            base_entries: 1000,
            base_errors: 10,
        };
        let r = ReleaseSnapshot {
            rollout: Some(&plan),
            guard: Some(&guard),
            state,
            verdict: Some(Verdict::Holds(fig)),
            weight: 5,
        };
        let (ro, g) = json(&r);
        assert_eq!(
            ro,
            serde_json::json!({"state": "rollout", "step": 2, "steps": [1, 5, 25], "weight": 5,
                "interval": 600, "stepStarted": 1000, "nextStep": 1600})
        );
        assert_eq!(
            g,
            serde_json::json!({"window": 60, "minEntries": 100, "maxErrorRate": 0.05,
                "maxErrorRateOverBase": null, "errors": ["5xx", "jsError"], "judged": "holds",
                "span": 58, "entries": 120, "errorCount": 3, "errorRate": 0.025,
                "baseErrorRate": 0.01, "rollback": null})
        );
        let trip = Trip {
            figures: Figures {
                errors: 12,
                entries: 100,
                ..fig
            },
            limit: Limit::MaxRate(0.05),
        };
        let back = ReleaseSnapshot {
            state: RolloutState {
                phase: Phase::RolledBack,
                since: 1500,
                trip: Some(trip),
                ..state
            },
            verdict: None,
            weight: 0,
            ..r
        };
        let (ro, g) = json(&back);
        assert_eq!(ro["state"], "rolledBack");
        assert_eq!(ro["nextStep"], serde_json::Value::Null);
        assert_eq!(g["judged"], "off");
        assert_eq!(g["rollback"]["at"], 1500);
        assert_eq!(g["rollback"]["errorRate"], 0.12);
        assert_eq!(g["rollback"]["reason"], trip.reason());
        let (mut n, mut m) = (Vec::new(), Vec::new());
        rollout_json(&mut n, None);
        guard_json(&mut m, None);
        assert_eq!((&n[..], &m[..]), (&b"null"[..], &b"null"[..]));
    }
}
