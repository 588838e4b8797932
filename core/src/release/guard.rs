//! The guard (SPEC §11): the error rate of a gray version over a sliding window, judged
//! against `maxErrorRate` and/or `maxErrorRateOverBase`.
//!
//! The shared zone keeps cumulative counters per deployment; the window is a ring of
//! samples of those counters, one at most every `slot_width` seconds, and a judgement
//! is the difference between the current counters and the oldest sample that is at most
//! `window` old. With requests flowing, that baseline is between `window - width` and
//! `window` old (the ring holds 64 samples of width `ceil(window / 60)`, so it always
//! reaches back a full window): the judged span is the window within one slot, and the
//! verdict reports the span it actually used. After an idle gap with no sample inside the
//! window, the newest older sample is used: nothing was counted during the gap.

use super::window::{Ring, Sample};

/// The error kinds a guard counts (`errors: [5xx, asset404, jsError]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKinds(pub u8);

impl ErrorKinds {
    /// 5xx responses of every kind (entry, asset, manifest).
    pub const SERVER: u8 = 1;
    /// 404s of assets.
    pub const ASSET_404: u8 = 2;
    /// Uncaught JS errors reported by the beacon.
    pub const JS: u8 = 4;
    pub const ALL: ErrorKinds = ErrorKinds(7);

    /// Reads the names `5xx`, `asset404`, `jsError` (at least one).
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<ErrorKinds, String> {
        let mut k = 0;
        for n in names {
            k |= match n {
                "5xx" => Self::SERVER,
                "asset404" => Self::ASSET_404,
                "jsError" => Self::JS,
                _ => {
                    return Err(format!(
                        "unknown error kind {n:?}: 5xx, asset404 or jsError"
                    ))
                }
            };
        }
        if k == 0 {
            return Err("errors: name at least one of 5xx, asset404, jsError".into());
        }
        Ok(ErrorKinds(k))
    }

    pub(super) fn has(self, k: u8) -> bool {
        self.0 & k != 0
    }
}

/// A deployment's `guard:`.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardPlan {
    /// Seconds of the sliding window.
    pub window: u64,
    /// Entry views of the version in the window before it is judged.
    pub min_entries: u64,
    pub max_rate: Option<f64>,
    pub max_over_base: Option<f64>,
    pub errors: ErrorKinds,
}

impl GuardPlan {
    /// At least one limit, limits finite and not negative, a window of 1 s to a day.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_rate.is_none() && self.max_over_base.is_none() {
            return Err("guard: give maxErrorRate or maxErrorRateOverBase (or both)".into());
        }
        for (name, v) in [
            ("maxErrorRate", self.max_rate),
            ("maxErrorRateOverBase", self.max_over_base),
        ] {
            if let Some(v) = v {
                if !v.is_finite() || v < 0.0 {
                    return Err(format!("guard: {name} must be a number >= 0"));
                }
            }
        }
        if self.window == 0 || self.window > 86_400 {
            return Err("guard: window must be between 1s and 24h".into());
        }
        if self.errors.0 & ErrorKinds::ALL.0 == 0 {
            return Err("guard: errors must name at least one kind".into());
        }
        Ok(())
    }
}

/// What the window holds: the counts between the baseline sample and now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    /// Seconds between the baseline and now.
    pub span: u64,
    pub entries: u64,
    pub errors: u64,
    pub base_entries: u64,
    pub base_errors: u64,
}

impl Figures {
    /// Errors per entry view of the version (0 without views).
    pub fn rate(&self) -> f64 {
        ratio(self.errors, self.entries)
    }
    /// Errors per entry view of base (0 without views).
    pub fn base_rate(&self) -> f64 {
        ratio(self.base_errors, self.base_entries)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The limit a version exceeded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    MaxRate(f64),
    OverBase(f64),
}

/// Why a version was rolled back: what the window held and the limit it broke.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trip {
    pub figures: Figures,
    pub limit: Limit,
}

/// Words of an encoded [`Trip`].
pub const TRIP_WORDS: usize = 6;

impl Trip {
    /// `error rate 0.12 > maxErrorRate 0.05 over 60 s (12 errors / 100 entries)`.
    pub fn reason(&self) -> String {
        let f = &self.figures;
        let tail = format!(
            "over {} s ({} errors / {} entries",
            f.span, f.errors, f.entries
        );
        match self.limit {
            Limit::MaxRate(m) => format!("error rate {} > maxErrorRate {} {tail})", num(f.rate()), num(m)),
            Limit::OverBase(m) => format!(
                "error rate {} is {} above base's {} > maxErrorRateOverBase {} {tail}; base {} / {})",
                num(f.rate()),
                num(f.rate() - f.base_rate()),
                num(f.base_rate()),
                num(m),
                f.base_errors,
                f.base_entries
            ),
        }
    }

    /// The trip as words; the first is never 0 (it holds the limit's kind).
    pub fn to_words(&self) -> [u64; TRIP_WORDS] {
        let f = &self.figures;
        let (kind, v) = match self.limit {
            Limit::MaxRate(v) => (1u64, v),
            Limit::OverBase(v) => (2, v),
        };
        [
            kind | f.span << 8,
            f.entries,
            f.errors,
            f.base_entries,
            f.base_errors,
            v.to_bits(),
        ]
    }

    /// `None` for words that are no trip (all zero, or an unknown kind).
    pub fn from_words(w: &[u64; TRIP_WORDS]) -> Option<Trip> {
        let v = f64::from_bits(w[5]);
        let limit = match w[0] & 0xff {
            1 => Limit::MaxRate(v),
            2 => Limit::OverBase(v),
            _ => return None,
        };
        let figures = Figures {
            span: w[0] >> 8,
            entries: w[1],
            errors: w[2],
            base_entries: w[3],
            base_errors: w[4],
        };
        Some(Trip { figures, limit })
    }
}

/// A number of a reason: up to 4 decimals, trailing zeros dropped (`0.12`, `0.05`, `1`).
fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The judgement of a window.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Fewer than `minEntries` entry views in the window: not judged yet.
    TooFew {
        entries: u64,
    },
    Holds(Figures),
    Trips(Trip),
}

impl Verdict {
    pub fn trips(&self) -> bool {
        matches!(self, Verdict::Trips(_))
    }
}

/// The baseline of a judgement at `now`: the oldest sample at most `window` old, else the
/// newest older one; samples that cannot precede `now` (counters were cleared since) are
/// ignored.
fn baseline<'a>(window: u64, ring: &'a Ring, now: &Sample) -> Option<&'a Sample> {
    let usable = || ring.iter().filter(|s| s.precedes(now));
    usable()
        .filter(|s| now.t - s.t <= window)
        .min_by_key(|s| s.t)
        .or_else(|| usable().max_by_key(|s| s.t))
}

/// Judges the window of `ring` ending at `now` (the current counters; recording `now`
/// first or not does not change the verdict).
pub fn judge(plan: &GuardPlan, ring: &Ring, now: &Sample) -> Verdict {
    let Some(old) = baseline(plan.window, ring, now) else {
        return Verdict::TooFew { entries: 0 };
    };
    let (e_now, b_now) = now.errors(plan.errors);
    let (e_old, b_old) = old.errors(plan.errors);
    let f = Figures {
        span: now.t - old.t,
        entries: now.entries - old.entries,
        errors: e_now.saturating_sub(e_old),
        base_entries: now.base_entries - old.base_entries,
        base_errors: b_now.saturating_sub(b_old),
    };
    if f.entries < plan.min_entries || f.entries == 0 {
        return Verdict::TooFew { entries: f.entries };
    }
    if let Some(m) = plan.max_rate.filter(|m| f.rate() > *m) {
        return Verdict::Trips(Trip {
            figures: f,
            limit: Limit::MaxRate(m),
        });
    }
    if let Some(m) = plan.max_over_base.filter(|m| f.rate() - f.base_rate() > *m) {
        return Verdict::Trips(Trip {
            figures: f,
            limit: Limit::OverBase(m),
        });
    }
    Verdict::Holds(f)
}
