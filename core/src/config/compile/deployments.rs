//! `baseDeployment` and `grayDeployments[]`: versions, weights → bucket ranges, rules by
//! name, `versionPredicates`, pre-formatted cookies.

use std::collections::BTreeMap;

use super::{text, value_err};
use crate::config::raw::{Predicates, RawConfig, RawDeployment};
use crate::config::{ConfigError, Deployment, RenderedInjection, Rule, VERSION_TAG};
use crate::cookies::{self, CookieAttrs};

/// The compiled deployments: base, the enabled grays in file order, and whether any
/// deployment has a `backendVersion`.
pub(super) struct Deployments {
    pub base: Deployment,
    pub grays: Vec<Deployment>,
    pub disabled: Vec<Deployment>,
    pub any_backend: bool,
    /// Some enabled gray deployment has a `rollout` (percentage mode, SPEC §11).
    pub any_rollout: bool,
}

pub(super) fn compile(
    raw: &RawConfig,
    rules: &[Rule],
    attrs: &CookieAttrs,
    backend_gray_tag: &str,
    warnings: &mut Vec<String>,
) -> Result<Deployments, ConfigError> {
    let base_raw = raw
        .base_deployment
        .as_ref()
        .ok_or_else(|| value_err("baseDeployment.version", "is required"))?;
    let base = deployment(
        "baseDeployment",
        base_raw,
        "base".into(),
        attrs,
        backend_gray_tag,
    )?;

    let mut grays = Vec::new();
    let mut disabled = Vec::new();
    let mut weight_sum: i64 = 0;
    let mut any_backend = base.backend_version.is_some();
    // the sum of the weights once every rollout has reached its last step, and the
    // rollout named when it goes over 100
    let (mut last_sum, mut last_rollout) = (0i64, None::<String>);
    for (i, d) in raw.gray_deployments.iter().flatten().enumerate() {
        let field = format!("grayDeployments[{i}]");
        let weight = d.weight.unwrap_or(0);
        if !(0..=100).contains(&weight) {
            return Err(value_err(
                format!("{field}.weight"),
                format!("{weight} is outside 0-100"),
            ));
        }
        let name =
            text(&d.name).ok_or_else(|| value_err(format!("{field}.name"), "is required"))?;
        let mut dep = deployment(&field, d, name, attrs, backend_gray_tag)?;
        any_backend |= dep.backend_version.is_some();
        if !d.enabled.unwrap_or(false) {
            disabled.push(dep);
            continue;
        }
        // a rollout sets the weight: its first step now, its last one at the end
        let weight = match &dep.rollout {
            Some(p) => {
                // (the SPEC's own example gives `weight` as the first step: no warning then)
                if d.weight.is_some_and(|w| w != i64::from(p.weight_at(0))) {
                    warnings.push(format!(
                        "{field}.weight: ignored: the rollout's steps set the weight"
                    ));
                }
                last_rollout = Some(format!("{field}.rollout.steps"));
                last_sum += i64::from(p.weight_at(u32::MAX));
                i64::from(p.weight_at(0))
            }
            None => {
                last_sum += weight;
                weight
            }
        };
        if let (true, Some(f)) = (last_sum > 100, &last_rollout) {
            return Err(value_err(
                f.clone(),
                format!(
                    "the last steps and weights of enabled gray deployments sum to {last_sum}, over 100"
                ),
            ));
        }
        dep.rule = rules.iter().position(|r| r.name == dep.name);
        if dep.rule.is_none() && weight == 0 && dep.rollout.is_none() {
            warnings.push(format!(
                "{field}: no rule named \"{}\": the deployment never matches in rule mode",
                dep.name
            ));
        }
        let lo = weight_sum;
        weight_sum += weight;
        if weight_sum > 100 {
            // (a rollout's first step is at most its last: the check above comes first)
            return Err(value_err(
                format!("{field}.weight"),
                format!("weights of enabled gray deployments sum to {weight_sum}, over 100"),
            ));
        }
        dep.bucket = (lo as u8, weight_sum as u8);
        grays.push(dep);
    }

    Ok(Deployments {
        base,
        grays,
        disabled,
        any_backend,
        any_rollout: last_rollout.is_some(),
    })
}

/// A version goes into a cookie value and into a filesystem path: cookie-octets only, no
/// path separators, and not `.` / `..`.
pub(super) fn check_version(field: &str, v: &str) -> Result<(), ConfigError> {
    if v.is_empty() {
        return Err(value_err(field, "must not be empty"));
    }
    if v == "." || v == ".." {
        return Err(value_err(field, "must not be \".\" or \"..\""));
    }
    if let Some(c) = v
        .bytes()
        .find(|&b| !cookies::is_cookie_octet(b) || b == b'/' || b == b'\\')
    {
        return Err(value_err(
            field,
            format!(
                "\"{v}\" contains {:?}, which cannot go into a cookie or a path",
                c as char
            ),
        ));
    }
    Ok(())
}

fn predicates(field: &str, p: &Option<Predicates>) -> Result<Vec<(String, String)>, ConfigError> {
    let map: BTreeMap<String, String> = match p {
        None => BTreeMap::new(),
        Some(Predicates::Map(m)) => m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect(),
        Some(Predicates::Json(s)) if s.trim().is_empty() => BTreeMap::new(),
        Some(Predicates::Json(s)) => serde_json::from_str(s).map_err(|e| {
            value_err(
                field,
                format!("not a JSON object of prefix to version: {e}"),
            )
        })?,
    };
    let mut out = Vec::new();
    for (k, v) in map {
        check_version(&format!("{field}.{k}"), &v)?;
        out.push((k, v));
    }
    out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

fn deployment(
    field: &str,
    d: &RawDeployment,
    name: String,
    attrs: &CookieAttrs,
    backend_tag: &str,
) -> Result<Deployment, ConfigError> {
    let version =
        text(&d.version).ok_or_else(|| value_err(format!("{field}.version"), "is required"))?;
    check_version(&format!("{field}.version"), &version)?;
    let backend_version = text(&d.backend_version);
    if let Some(b) = &backend_version {
        check_version(&format!("{field}.backendVersion"), b)?;
    }
    let (rollout, guard) = super::release::plans(field, d, field == "baseDeployment")?;
    Ok(Deployment {
        rollout,
        guard,
        rollback_reason: format!("rollback:{name}"),
        version_cookie: attrs.format(VERSION_TAG, &version),
        backend_cookie: backend_version
            .as_ref()
            .map(|b| attrs.format(backend_tag, b)),
        predicates: predicates(&format!("{field}.versionPredicates"), &d.version_predicates)?,
        name,
        version,
        backend_version,
        bucket: (0, 0),
        rule: None,
        inject: RenderedInjection::default(),
    })
}
