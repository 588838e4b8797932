//! Rollout state machine with a fake clock.

use super::guard::{Figures, Limit, Trip, Verdict};
use super::rollout::*;

fn plan() -> RolloutPlan {
    RolloutPlan {
        steps: vec![1, 5, 25, 50, 100],
        interval: 600,
    }
}

fn trip() -> Trip {
    Trip {
        figures: Figures {
            span: 60,
            entries: 100,
            errors: 12,
            base_entries: 0,
            base_errors: 0,
        },
        limit: Limit::MaxRate(0.05),
    }
}

const HOLDS: Verdict = Verdict::TooFew { entries: 3 };

#[test]
fn validation() {
    assert!(plan().validate().is_ok());
    let p = |steps: Vec<u8>, interval| RolloutPlan { steps, interval }.validate();
    assert!(p(vec![], 600).unwrap_err().contains("1 to 100"));
    assert!(p(vec![1, 101], 600).unwrap_err().contains("above 100"));
    assert!(p(vec![5, 1], 600).unwrap_err().contains("decrease"));
    assert!(p(vec![5], 0).unwrap_err().contains("interval"));
    assert!(p(vec![0, 0, 100], 1).is_ok());
    assert!(p(vec![1; 101], 1).is_err());
}

#[test]
fn climbs_one_step_per_interval_then_promotes() {
    let p = plan();
    let mut s = RolloutState::start(Some(&p), 7, 1000);
    assert_eq!((s.phase, s.weight(Some(&p), 42)), (Phase::Running, 1));
    let (s2, t) = tick(Some(&p), s, 1599, Some(&HOLDS));
    assert_eq!((s2, t), (s, None), "not due yet");
    let mut log = vec![];
    let mut now = 1000;
    for _ in 0..5 {
        now += 600;
        let (n, t) = tick(Some(&p), s, now, Some(&HOLDS));
        s = n;
        log.push(t.unwrap());
        // a second worker ticking in the same second sees nothing more to do
        assert_eq!(tick(Some(&p), s, now, Some(&HOLDS)).1, None);
    }
    assert_eq!(
        log[0],
        Transition::Step {
            from: 0,
            to: 1,
            weight: 5
        }
    );
    assert_eq!(
        log[3],
        Transition::Step {
            from: 3,
            to: 4,
            weight: 100
        }
    );
    assert_eq!(log[4], Transition::Promoted { weight: 100 });
    assert_eq!(log[0].to_string(), "rollout step 1 -> 2 (weight 5)");
    assert_eq!((s.phase, s.weight(Some(&p), 0)), (Phase::Promoted, 100));
    assert_eq!(tick(Some(&p), s, now + 99_999, None).1, None);
}

#[test]
fn idle_advances_one_step_per_tick() {
    let p = plan();
    let s = RolloutState::start(Some(&p), 7, 0);
    let (s, t) = tick(Some(&p), s, 10_000, None);
    assert_eq!(
        t,
        Some(Transition::Step {
            from: 0,
            to: 1,
            weight: 5
        })
    );
    assert_eq!(s.step_started, 10_000, "the next interval starts now");
    assert_eq!(tick(Some(&p), s, 10_001, None).1, None);
}

#[test]
fn trip_rolls_back_until_reset() {
    let p = plan();
    let s = RolloutState::start(Some(&p), 7, 0);
    let (s, t) = tick(Some(&p), s, 30, Some(&Verdict::Trips(trip())));
    assert_eq!(t, Some(Transition::RolledBack(trip())));
    assert!(t
        .unwrap()
        .to_string()
        .starts_with("rolled back: error rate 0.12 > maxErrorRate 0.05"));
    assert_eq!(
        (s.phase, s.weight(Some(&p), 50), s.matches()),
        (Phase::RolledBack, 0, false)
    );
    assert_eq!(s.trip, Some(trip()));
    // stays rolled back: later trips and time change nothing, no second log line
    assert_eq!(
        tick(Some(&p), s, 99_999, Some(&Verdict::Trips(trip()))),
        (s, None)
    );
    assert!(s.pause(40).is_err());
    assert_eq!(s.resume(40), Err(ControlError::Finished("rolledBack")));
    let r = s.reset(Some(&p), 50);
    assert_eq!(
        (r.phase, r.step, r.step_started, r.trip),
        (Phase::Running, 0, 50, None)
    );
    assert!(r.matches());
}

#[test]
fn guard_without_rollout() {
    let s = RolloutState::start(None, 9, 0);
    assert_eq!((s.phase, s.weight(None, 30)), (Phase::Active, 30));
    assert_eq!(s.pause(1), Err(ControlError::NoRollout));
    assert_eq!(tick(None, s, 1_000_000, Some(&HOLDS)), (s, None));
    let (b, t) = tick(None, s, 5, Some(&Verdict::Trips(trip())));
    assert!(matches!(t, Some(Transition::RolledBack(_))));
    assert_eq!(b.weight(None, 30), 0);
    assert_eq!(b.reset(None, 6).phase, Phase::Active);
}

#[test]
fn pause_does_not_count() {
    let p = plan();
    let s = RolloutState::start(Some(&p), 7, 0);
    let s = s.pause(100).unwrap();
    assert_eq!(s.pause(150).unwrap(), s, "pausing twice is pausing once");
    assert_eq!(s.phase.state_name().name(), "paused");
    assert_eq!(tick(Some(&p), s, 5000, None).1, None, "paused: no step");
    assert_eq!(s.weight(Some(&p), 0), 1);
    let s = s.resume(1100).unwrap();
    assert_eq!(s.resume(1100).unwrap(), s);
    // 100 s ran before the pause, 1000 s paused: due at 1100 + 500
    assert_eq!(tick(Some(&p), s, 1599, None).1, None);
    assert!(tick(Some(&p), s, 1600, None).1.is_some());
    // the guard still watches a paused rollout
    let paused = s.pause(1200).unwrap();
    assert_eq!(
        tick(Some(&p), paused, 1201, Some(&Verdict::Trips(trip())))
            .0
            .phase,
        Phase::RolledBack
    );
}

#[test]
fn promoted_is_final_but_guarded() {
    let p = RolloutPlan {
        steps: vec![100],
        interval: 10,
    };
    let s = RolloutState::start(Some(&p), 1, 0);
    let (s, t) = tick(Some(&p), s, 10, None);
    assert_eq!(
        (s.phase, t),
        (Phase::Promoted, Some(Transition::Promoted { weight: 100 }))
    );
    assert_eq!(s.pause(11), Err(ControlError::Finished("promoted")));
    assert_eq!(
        tick(Some(&p), s, 12, Some(&Verdict::Trips(trip()))).0.phase,
        Phase::RolledBack
    );
}

#[test]
fn reload_mid_step_keeps_state() {
    let p = plan();
    let h = plan_hash("v2", Some(&p));
    let s = RolloutState::start(Some(&p), h, 0);
    let (s, _) = tick(Some(&p), s, 600, None);
    let s = s.pause(700).unwrap();
    let back = RolloutState::from_words(&s.to_words());
    assert_eq!(back, Some(s));
    // a reload with the same version and steps (another interval) keeps it
    let p2 = RolloutPlan {
        interval: 60,
        ..plan()
    };
    let h2 = plan_hash("v2", Some(&p2));
    assert_eq!(h, h2);
    assert_eq!(RolloutState::adopt(back, Some(&p2), h2, 900), s);
    // a new version or new steps restart it
    let h3 = plan_hash("v3", Some(&p));
    assert_eq!(
        RolloutState::adopt(back, Some(&p), h3, 900),
        RolloutState::start(Some(&p), h3, 900)
    );
    let p4 = RolloutPlan {
        steps: vec![10, 100],
        ..plan()
    };
    assert_ne!(plan_hash("v2", Some(&p4)), h);
    assert_ne!(plan_hash("v2", None), h);
    assert_eq!(RolloutState::adopt(None, Some(&p), h, 5).step_started, 5);
}

#[test]
fn rolled_back_words_keep_the_trip() {
    let p = plan();
    let s = RolloutState::start(Some(&p), 3, 0);
    let (s, _) = tick(Some(&p), s, 1, Some(&Verdict::Trips(trip())));
    assert_eq!(RolloutState::from_words(&s.to_words()), Some(s));
}

#[test]
fn foreign_words_decode_to_none() {
    assert_eq!(RolloutState::from_words(&[0; STATE_WORDS]), None);
    assert_eq!(RolloutState::from_words(&[u64::MAX; STATE_WORDS]), None);
    let mut w = RolloutState::start(None, 1, 1).to_words();
    w[0] = (w[0] & !0xff) | 9;
    assert_eq!(RolloutState::from_words(&w), None);
}

#[test]
fn out_of_range_step_is_the_last() {
    let p = plan();
    let s = RolloutState {
        step: 99,
        ..RolloutState::start(Some(&p), 1, 0)
    };
    assert_eq!(s.weight(Some(&p), 0), 100);
    assert_eq!(
        tick(Some(&p), s, 600, None).1,
        Some(Transition::Promoted { weight: 100 })
    );
    // the clock going backwards never steps
    let s = RolloutState::start(Some(&p), 1, 1000);
    assert_eq!(tick(Some(&p), s, 10, None).1, None);
}
