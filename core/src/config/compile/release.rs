//! `rollout:`, `guard:` (per gray deployment) and the top-level `monitor:` of SPEC §11,
//! checked with the pure validations of [`crate::release`].

use super::{text, value_err};
use crate::config::raw::{RawDeployment, RawGuard, RawMonitor, RawRollout};
use crate::config::{ConfigError, Monitor};
use crate::release::{duration_from_yaml, ErrorKinds, GuardPlan, RolloutPlan};

/// `minEntries` when not given: a rate over fewer views says little.
pub const DEFAULT_MIN_ENTRIES: u64 = 10;

/// A validation message of `crate::release` at `field` (its own `rollout: ` / `guard: ` /
/// `errors: ` prefix dropped: the field path says it).
fn err(field: &str, msg: String) -> ConfigError {
    let m = ["rollout: ", "guard: ", "errors: "]
        .iter()
        .find_map(|p| msg.strip_prefix(p))
        .unwrap_or(&msg);
    value_err(field, m.to_string())
}

pub(super) fn rollout(field: &str, r: &RawRollout) -> Result<RolloutPlan, ConfigError> {
    let f = format!("{field}.rollout");
    let steps = r
        .steps
        .as_ref()
        .ok_or_else(|| value_err(format!("{f}.steps"), "is required"))?;
    let mut out = Vec::with_capacity(steps.len());
    for (i, w) in steps.iter().enumerate() {
        if !(0..=100).contains(w) {
            return Err(value_err(
                format!("{f}.steps[{i}]"),
                format!("{w} is outside 0-100"),
            ));
        }
        out.push(*w as u8);
    }
    let interval = match &r.interval {
        None => return Err(value_err(format!("{f}.interval"), "is required")),
        Some(v) => duration_from_yaml(v).map_err(|e| value_err(format!("{f}.interval"), e.0))?,
    };
    let plan = RolloutPlan {
        steps: out,
        interval,
    };
    plan.validate().map_err(|m| {
        let sub = if m.contains("interval") {
            "interval"
        } else {
            "steps"
        };
        err(&format!("{f}.{sub}"), m)
    })?;
    Ok(plan)
}

pub(super) fn guard(field: &str, g: &RawGuard) -> Result<GuardPlan, ConfigError> {
    let f = format!("{field}.guard");
    let window = match &g.window {
        None => return Err(value_err(format!("{f}.window"), "is required")),
        Some(v) => duration_from_yaml(v).map_err(|e| value_err(format!("{f}.window"), e.0))?,
    };
    let min_entries = match g.min_entries {
        None => DEFAULT_MIN_ENTRIES,
        Some(n) if n >= 0 => n as u64,
        Some(n) => {
            return Err(value_err(
                format!("{f}.minEntries"),
                format!("{n} is below 0"),
            ))
        }
    };
    let errors = match &g.errors {
        None => ErrorKinds::ALL,
        Some(v) => ErrorKinds::parse(v.iter().map(|t| t.0.as_str()))
            .map_err(|m| err(&format!("{f}.errors"), m))?,
    };
    let plan = GuardPlan {
        window,
        min_entries,
        max_rate: g.max_error_rate,
        max_over_base: g.max_error_rate_over_base,
        errors,
    };
    plan.validate().map_err(|m| {
        let sub = if m.contains("window") {
            ".window"
        } else if m.contains("maxErrorRateOverBase must") {
            ".maxErrorRateOverBase"
        } else if m.contains("maxErrorRate must") {
            ".maxErrorRate"
        } else {
            ""
        };
        err(&format!("{f}{sub}"), m)
    })?;
    Ok(plan)
}

/// The rollout and guard of a deployment; refused on base.
pub(super) fn plans(
    field: &str,
    d: &RawDeployment,
    base: bool,
) -> Result<(Option<RolloutPlan>, Option<GuardPlan>), ConfigError> {
    if base {
        for (set, name) in [
            (d.rollout.is_some(), "rollout"),
            (d.guard.is_some(), "guard"),
        ] {
            if set {
                return Err(value_err(
                    format!("{field}.{name}"),
                    format!("the base deployment cannot have a {name}: it takes what the gray ones leave"),
                ));
            }
        }
        return Ok((None, None));
    }
    let r = d.rollout.as_ref().map(|r| rollout(field, r)).transpose()?;
    let g = d.guard.as_ref().map(|g| guard(field, g)).transpose()?;
    Ok((r, g))
}

/// `monitor.beacon`: an absolute URL path, written into a script (so only path-safe bytes).
pub(super) fn monitor(m: &Option<RawMonitor>) -> Result<Option<Monitor>, ConfigError> {
    let Some(m) = m else { return Ok(None) };
    let beacon = text(&m.beacon).ok_or_else(|| value_err("monitor.beacon", "is required"))?;
    if !beacon.starts_with('/') || beacon.starts_with("//") {
        return Err(value_err(
            "monitor.beacon",
            format!("\"{beacon}\" must be an absolute path on this server, like /gray/beacon"),
        ));
    }
    if beacon.len() > 200 {
        return Err(value_err("monitor.beacon", "is longer than 200 bytes"));
    }
    if let Some(c) = beacon
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/_.~-".contains(*c)))
    {
        return Err(value_err(
            "monitor.beacon",
            format!("\"{beacon}\" contains {c:?}: only letters, digits and / _ . ~ - are allowed"),
        ));
    }
    Ok(Some(Monitor { beacon }))
}
