//! Guard edges: window boundary, minEntries, both limits, base without views, counters
//! that went backwards, the shared ring.

use super::guard::*;
use super::window::*;

fn plan() -> GuardPlan {
    GuardPlan {
        window: 60,
        min_entries: 100,
        max_rate: Some(0.05),
        max_over_base: None,
        errors: ErrorKinds::ALL,
    }
}

/// A sample at `t` with `entries` views and `errs` 5xx, base 1000 views and `base_errs`.
fn s(t: u64, entries: u64, errs: u64) -> Sample {
    Sample {
        t,
        entries,
        err_5xx: errs,
        base_entries: 10 * t,
        ..Sample::default()
    }
}

#[test]
fn validation() {
    assert!(plan().validate().is_ok());
    let none = GuardPlan {
        max_rate: None,
        ..plan()
    };
    assert!(none.validate().unwrap_err().contains("maxErrorRate"));
    assert!(GuardPlan {
        max_rate: Some(f64::NAN),
        ..plan()
    }
    .validate()
    .is_err());
    assert!(GuardPlan {
        max_rate: Some(-0.1),
        ..plan()
    }
    .validate()
    .is_err());
    assert!(GuardPlan {
        window: 0,
        ..plan()
    }
    .validate()
    .is_err());
    assert!(GuardPlan {
        errors: ErrorKinds(0),
        ..plan()
    }
    .validate()
    .is_err());
    assert_eq!(ErrorKinds::parse(["5xx", "jsError"]), Ok(ErrorKinds(5)));
    assert!(ErrorKinds::parse(["4xx"]).is_err());
    assert!(ErrorKinds::parse([]).is_err());
    assert_eq!(slot_width(60), 1);
    assert_eq!(slot_width(61), 2);
    assert_eq!(slot_width(600), 10);
    assert_eq!(slot_width(0), 1);
}

#[test]
fn empty_ring_and_min_entries() {
    let mut r = Ring::default();
    assert_eq!(
        judge(&plan(), &r, &s(100, 50, 50)),
        Verdict::TooFew { entries: 0 }
    );
    assert!(r.record(60, s(100, 0, 0)));
    assert_eq!(
        judge(&plan(), &r, &s(110, 99, 99)),
        Verdict::TooFew { entries: 99 }
    );
    assert!(judge(&plan(), &r, &s(110, 100, 6)).trips());
    assert!(
        !judge(&plan(), &r, &s(110, 100, 5)).trips(),
        "5 % is not above 5 %"
    );
}

#[test]
fn record_at_most_once_per_slot() {
    let mut r = Ring::default();
    assert!(r.record(600, s(100, 0, 0)));
    assert!(!r.record(600, s(109, 1, 0)));
    assert!(r.record(600, s(110, 2, 0)));
    assert_eq!(r.len(), 2);
    for t in 0..200 {
        r.record(600, s(200 + t * 10, t, 0));
    }
    assert_eq!(r.len(), RING_SLOTS);
}

#[test]
fn window_boundary() {
    let mut r = Ring::default();
    // one sample a second; errors all happened between t=0 and t=10
    r.record(60, s(0, 0, 0));
    r.record(60, s(10, 100, 50));
    for t in 11..=70 {
        r.record(60, s(t, 100 + (t - 10) * 10, 50));
    }
    // at t=70 the baseline is t=10 (exactly 60 s old): the 50 errors are outside
    let v = judge(&plan(), &r, &s(70, 700, 50));
    let Verdict::Holds(f) = v else {
        panic!("{v:?}")
    };
    assert_eq!((f.span, f.entries, f.errors), (60, 600, 0));
    // at t=69 the baseline is still t=10 (t=0 is 69 s old)
    assert!(!judge(&plan(), &r, &s(69, 690, 50)).trips());
    // with the window reaching back to t=0 the errors count
    let wide = GuardPlan {
        window: 70,
        ..plan()
    };
    assert!(judge(&wide, &r, &s(70, 700, 50)).trips());
}

#[test]
fn idle_gap_uses_newest_old_sample() {
    let mut r = Ring::default();
    r.record(60, s(0, 0, 0));
    r.record(60, s(5, 200, 1));
    // nothing recorded for an hour, then requests: baseline t=5
    let v = judge(&plan(), &r, &s(3600, 400, 1));
    let Verdict::Holds(f) = v else {
        panic!("{v:?}")
    };
    assert_eq!((f.span, f.entries, f.errors), (3595, 200, 0));
}

#[test]
fn both_limits_either_trips() {
    let both = GuardPlan {
        max_rate: Some(0.10),
        max_over_base: Some(0.02),
        ..plan()
    };
    let mut r = Ring::default();
    let base = |t, be, bx| Sample {
        t,
        base_entries: be,
        base_5xx: bx,
        ..Sample::default()
    };
    r.record(60, base(0, 0, 0));
    // 8 % absolute (under 10 %) but base has 1 %: over base by 7 % > 2 %
    let now = Sample {
        entries: 100,
        err_5xx: 8,
        ..base(30, 1000, 10)
    };
    let Verdict::Trips(t) = judge(&both, &r, &now) else {
        panic!()
    };
    assert_eq!(t.limit, Limit::OverBase(0.02));
    assert_eq!(
        t.reason(),
        "error rate 0.08 is 0.07 above base's 0.01 > maxErrorRateOverBase 0.02 over 30 s (8 errors / 100 entries; base 10 / 1000)"
    );
    // 12 % absolute trips maxErrorRate first
    let now = Sample {
        entries: 100,
        err_5xx: 12,
        ..base(60, 1000, 100)
    };
    let Verdict::Trips(t) = judge(&both, &r, &now) else {
        panic!()
    };
    assert_eq!(
        t.reason(),
        "error rate 0.12 > maxErrorRate 0.1 over 60 s (12 errors / 100 entries)"
    );
    // 9 % with base at 8 %: neither
    let now = Sample {
        entries: 100,
        err_5xx: 9,
        ..base(60, 1000, 80)
    };
    assert!(matches!(judge(&both, &r, &now), Verdict::Holds(_)));
}

#[test]
fn base_without_views_has_rate_zero() {
    let p = GuardPlan {
        max_rate: None,
        max_over_base: Some(0.02),
        ..plan()
    };
    let mut r = Ring::default();
    r.record(60, Sample::default());
    let now = Sample {
        t: 10,
        entries: 100,
        js_errors: 3,
        ..Sample::default()
    };
    let Verdict::Trips(t) = judge(&p, &r, &now) else {
        panic!()
    };
    assert_eq!(t.figures.base_rate(), 0.0);
    assert_eq!(t.figures.base_entries, 0);
}

#[test]
fn error_kinds_select_counters() {
    let p = GuardPlan {
        errors: ErrorKinds(ErrorKinds::ASSET_404),
        ..plan()
    };
    let mut r = Ring::default();
    r.record(60, Sample::default());
    let now = Sample {
        t: 10,
        entries: 100,
        err_5xx: 50,
        js_errors: 50,
        asset404: 5,
        ..Sample::default()
    };
    assert!(matches!(judge(&p, &r, &now), Verdict::Holds(f) if f.errors == 5));
}

#[test]
fn counters_backwards_is_an_empty_window() {
    let mut r = Ring::default();
    r.record(60, s(0, 1000, 0));
    r.record(60, s(10, 2000, 0));
    // counters cleared at t=20: no underflow, nothing judged
    assert_eq!(
        judge(&plan(), &r, &s(20, 5, 5)),
        Verdict::TooFew { entries: 0 }
    );
    assert!(r.record(60, s(20, 5, 5)));
    assert_eq!(r.len(), 1, "the ring restarted");
    assert!(judge(&plan(), &r, &s(30, 205, 100)).trips());
    // a sample from a worker whose clock is a second behind is skipped, the ring kept
    assert!(r.record(60, s(21, 300, 100)));
    assert!(!r.record(
        60,
        Sample {
            t: 20,
            ..s(21, 400, 100)
        }
    ));
    assert_eq!(r.len(), 2);
}

#[test]
fn clear_counts_from_now() {
    let mut r = Ring::default();
    r.record(60, s(0, 0, 0));
    assert!(judge(&plan(), &r, &s(30, 100, 50)).trips());
    r.clear();
    assert!(r.is_empty());
    assert_eq!(
        judge(&plan(), &r, &s(31, 100, 50)),
        Verdict::TooFew { entries: 0 }
    );
    r.record(60, s(31, 100, 50));
    assert!(!judge(&plan(), &r, &s(40, 300, 50)).trips());
}

#[test]
fn shared_ring_and_words() {
    let shared = SharedRing::default();
    assert!(shared.load().is_empty());
    assert!(shared.record(60, s(1, 0, 0)));
    assert!(!shared.record(60, s(1, 0, 0)));
    assert!(shared.record(60, s(2, 100, 10)));
    let r = shared.load();
    assert_eq!(r.len(), 2);
    assert_eq!(Ring::from_words(&r.to_words()), r);
    shared.clear();
    assert!(shared.load().is_empty());
    let mut junk = [u64::MAX; RING_WORDS];
    assert!(Ring::from_words(&junk).is_empty());
    junk[0] = 3;
    junk[1] = 63;
    assert_eq!(Ring::from_words(&junk).len(), 3);
}

#[test]
fn trip_words_round_trip() {
    let t = Trip {
        figures: Figures {
            span: 60,
            entries: 100,
            errors: 12,
            base_entries: 7,
            base_errors: 1,
        },
        limit: Limit::MaxRate(0.05),
    };
    assert_eq!(Trip::from_words(&t.to_words()), Some(t));
    assert_eq!(Trip::from_words(&[0; TRIP_WORDS]), None);
    assert_eq!(Trip::from_words(&[9, 0, 0, 0, 0, 0]), None);
}

#[test]
fn from_counts() {
    use crate::status::{self, CountKind};
    let mut g = [0u64; status::N_COUNTERS];
    g[status::total_slot(CountKind::Entry)] = 10;
    g[status::status_slot(CountKind::Entry, 3)] = 1;
    g[status::status_slot(CountKind::Asset, 3)] = 2;
    g[status::status_slot(CountKind::Manifest, 3)] = 3;
    g[status::ASSET_404] = 4;
    g[status::JS_ERRORS] = 5;
    let s = Sample::from_counts(7, &g, &g);
    assert_eq!(
        (s.t, s.entries, s.err_5xx, s.asset404, s.js_errors),
        (7, 10, 6, 4, 5)
    );
    assert_eq!(
        (s.base_entries, s.base_5xx, s.base_asset404, s.base_js),
        (10, 6, 4, 5)
    );
}
