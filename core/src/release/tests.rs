//! The pieces together, as the glue drives them, with a fake clock.

use std::sync::atomic::AtomicU64;

use super::*;

#[test]
fn one_claim_per_second() {
    let w = AtomicU64::new(0);
    assert!(claim_second(&w, 100));
    assert!(!claim_second(&w, 100));
    assert!(!claim_second(&w, 99), "a worker a second behind");
    assert!(claim_second(&w, 101));
    assert!(claim_second(&w, 10), "the clock was set back");
}

/// A deployment at a steady `rate` of 5xx per entry, 10 entries a second, base clean.
fn sample(t: u64, errs_per_100: u64) -> Sample {
    let entries = 10 * t;
    Sample {
        t,
        entries,
        err_5xx: entries * errs_per_100 / 100,
        base_entries: entries,
        ..Sample::default()
    }
}

#[test]
fn healthy_rollout_is_promoted_broken_one_rolled_back() {
    let plan = RolloutPlan {
        steps: vec![10, 50, 100],
        interval: 120,
    };
    let guard = GuardPlan {
        window: 60,
        min_entries: 100,
        max_rate: Some(0.05),
        max_over_base: None,
        errors: ErrorKinds::ALL,
    };
    for (errs, want) in [(1, Phase::Promoted), (20, Phase::RolledBack)] {
        let mut state = RolloutState::start(Some(&plan), plan_hash("v2", Some(&plan)), 0);
        let mut ring = Ring::default();
        let mut log = vec![];
        for t in 0..=400 {
            let e = evaluate(
                Some(&plan),
                Some(&guard),
                state,
                &mut ring,
                &sample(t, errs),
            );
            state = e.state;
            log.extend(e.transition);
        }
        assert_eq!(state.phase, want, "{log:?}");
        if want == Phase::RolledBack {
            assert_eq!(log.len(), 1, "logged once: {log:?}");
            assert_eq!(state.weight(Some(&plan), 0), 0);
            // tripped as soon as 100 entries were in the window (t = 10)
            assert_eq!(state.since, 10);
            assert!(state.trip.unwrap().reason().contains("> maxErrorRate 0.05"));
        } else {
            assert_eq!(log.len(), 3);
        }
    }
}

#[test]
fn shared_state_round_trip() {
    let words = SeqWords::<STATE_WORDS>::default();
    assert_eq!(
        words.load().and_then(|w| RolloutState::from_words(&w)),
        None
    );
    let s = RolloutState::start(None, 5, 1);
    words.store(&s.to_words());
    assert_eq!(
        words.load().and_then(|w| RolloutState::from_words(&w)),
        Some(s)
    );
}

/// Words, samples and tokens from a fixed pseudo-random stream: nothing panics.
#[test]
fn arbitrary_input_never_panics() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // mostly small numbers, sometimes extremes
        match x % 4 {
            0 => x,
            1 => u64::MAX - x % 3,
            _ => x % 1000,
        }
    };
    let plan = RolloutPlan {
        steps: vec![0, 50, 100],
        interval: 10,
    };
    let guard = GuardPlan {
        window: 60,
        min_entries: 0,
        max_rate: Some(0.0),
        max_over_base: Some(0.0),
        errors: ErrorKinds::ALL,
    };
    let secret = [1u8; 32];
    let slots: Vec<ReplaySlot> = (0..16).map(|_| ReplaySlot::default()).collect();
    for _ in 0..2000 {
        let mut w = [0u64; STATE_WORDS];
        w.iter_mut().for_each(|v| *v = next());
        w[0] = (w[0] & !(0xff << 56)) | (0x52 << 56);
        let s = RolloutState::from_words(&w).unwrap_or(RolloutState::start(Some(&plan), 1, 0));
        let mut ring_words = [0u64; window::RING_WORDS];
        ring_words.iter_mut().for_each(|v| *v = next());
        ring_words[0] %= 70;
        ring_words[1] %= 70;
        let mut ring = Ring::from_words(&ring_words);
        let mut sw = [0u64; 9];
        sw.iter_mut().for_each(|v| *v = next());
        let sample = Sample::from_words(&sw);
        let e = evaluate(Some(&plan), Some(&guard), s, &mut ring, &sample);
        let _ = e.state.weight(Some(&plan), 7);
        if let Some(Verdict::Trips(t)) = &e.verdict {
            let _ = t.reason();
        }
        let _ = e.state.pause(next()).and_then(|s| s.resume(next()));
        let tok: String = (0..43)
            .map(|_| (b'-' + (next() % 78) as u8) as char)
            .collect();
        let _ = verify(&secret, &tok, next());
        let _ = ReplaySlots(&slots).accept(next(), next(), (next() % 8) as u32, next());
        let _ = parse_duration(&tok[..(next() % 43) as usize]);
    }
}
