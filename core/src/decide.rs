//! Deciding the version (SPEC §4): does the module act, what kind of request is it, which
//! deployment and version does this user get.

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

use crate::config::{Deployment, GrayConfig, Rule, VERSION_TAG};
use crate::json_field;
use crate::path::extension;
use crate::uid::{bucket, Uid};
use crate::userid::percent_decode_into;

/// What the decision needs to see of a request. Implemented over nginx's `headers_in` by the
/// module and over plain maps by the tests.
pub trait RequestHeaders {
    /// The first request header called `name` (compared case-insensitively).
    fn header(&self, name: &str) -> Option<&[u8]>;
    /// The value of the first cookie called `name`, over all `Cookie` headers.
    fn cookie(&self, name: &str) -> Option<&[u8]>;
}

/// The kind of a request the module acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An HTML entry page: indexRouting, cookies, body rewriting.
    Html,
    /// An `indexPaths` request that is not HTML (a micro-frontend manifest, say).
    Index,
    /// Anything else: an asset.
    Asset,
}

impl Kind {
    /// Decided afresh each time, never sticky, never cached.
    pub fn is_entry(self) -> bool {
        self != Kind::Asset
    }
}

const HTML_EXTENSIONS: &[&[u8]] = &[
    b"html", b"htm", b"jsp", b"php", b"asp", b"aspx", b"erb", b"ejs", b"twig",
];

/// SPEC §4.3: `/`, no extension, or an HTML-ish extension.
pub fn is_html_path(path: &[u8]) -> bool {
    match extension(path) {
        None => true,
        Some(ext) => HTML_EXTENSIONS.iter().any(|h| ext.eq_ignore_ascii_case(h)),
    }
}

/// SPEC §4.2: `None` when the module leaves the request alone.
pub fn classify<H: RequestHeaders>(cfg: &GrayConfig, path: &[u8], h: &H) -> Option<Kind> {
    let html = is_html_path(path);
    if cfg.index_paths.matches(path) {
        return Some(if html { Kind::Html } else { Kind::Index });
    }
    if cfg.skipped_paths.matches(path) {
        return None;
    }
    if html {
        return Some(Kind::Html);
    }
    if cfg.rewrite.host.is_some() {
        return Some(Kind::Asset);
    }
    if cfg
        .skipped_by_headers
        .iter()
        .any(|(k, v)| h.header(k) == Some(v.as_slice()))
    {
        return None;
    }
    let routes = !cfg.rewrite.index_routing.is_empty() || !cfg.rewrite.file_routing.is_empty();
    (routes || !cfg.grays.is_empty()).then_some(Kind::Asset)
}

/// The outcome for a request the module acts on.
#[derive(Debug, Clone, Copy)]
pub struct Decision<'c> {
    pub kind: Kind,
    pub deployment: &'c Deployment,
    /// The version to serve: the deployment's, or a `versionPredicates` one for non-HTML.
    pub version: &'c str,
    /// The bucketing uid, when the configuration uses one.
    pub uid: Option<Uid>,
    /// An asset kept on the version of the `x-higress-tag` cookie.
    pub sticky: bool,
}

impl Decision<'_> {
    /// The response carries the version / uid / backend cookies.
    pub fn sets_cookies(&self, cfg: &GrayConfig) -> bool {
        self.kind == Kind::Html || (self.kind == Kind::Index && cfg.use_manifest_as_entry)
    }
}

/// Decides the deployment and version of a request (SPEC §4). `path` is the cleaned path;
/// `scratch` is a per-request buffer for URL-decoding a `graySubKey` value.
pub fn decide<'c, H: RequestHeaders, A: Allocator>(
    cfg: &'c GrayConfig,
    path: &[u8],
    h: &H,
    scratch: &mut Vec<u8, A>,
) -> Option<Decision<'c>> {
    decide_steered(cfg, path, h, scratch, &Unsteered)
}

/// Run-time overrides of SPEC §10 that the decision consults. Deployments are indexed as
/// the status page lists them: 0 is base, `i + 1` is `cfg.grays[i]`.
pub trait Steering {
    /// The deployment all traffic is pinned to.
    fn pinned(&self) -> Option<usize>;
    /// Whether any gray deployment's `enabled` or `weight` is overridden (else the
    /// configuration's own buckets apply, with no further calls).
    fn overridden(&self) -> bool;
    /// The overrides of `cfg.grays[i]`: (enabled, weight).
    fn gray(&self, i: usize) -> (Option<bool>, Option<u8>);
}

/// No overrides.
pub struct Unsteered;

impl Steering for Unsteered {
    fn pinned(&self) -> Option<usize> {
        None
    }
    fn overridden(&self) -> bool {
        false
    }
    fn gray(&self, _: usize) -> (Option<bool>, Option<u8>) {
        (None, None)
    }
}

/// The effective (enabled, weight) of `cfg.grays[i]` under `s`.
pub fn effective_gray<S: Steering>(cfg: &GrayConfig, s: &S, i: usize) -> (bool, u8) {
    let d = &cfg.grays[i];
    let (e, w) = if s.overridden() {
        s.gray(i)
    } else {
        (None, None)
    };
    let enabled = e.unwrap_or(true);
    let weight = if enabled {
        w.unwrap_or(d.bucket.1 - d.bucket.0)
    } else {
        0
    };
    (enabled, weight)
}

/// Percentage mode under the overrides (SPEC §4.5).
pub fn is_percentage<S: Steering>(cfg: &GrayConfig, s: &S) -> bool {
    if !s.overridden() {
        return cfg.percentage;
    }
    (0..cfg.grays.len()).any(|i| effective_gray(cfg, s, i).1 > 0)
}

/// [`decide`] under run-time overrides: a pin takes entries (and assets without a sticky
/// cookie); `enabled: false` and weights change which deployment the rules or buckets pick.
pub fn decide_steered<'c, H: RequestHeaders, A: Allocator, S: Steering>(
    cfg: &'c GrayConfig,
    path: &[u8],
    h: &H,
    scratch: &mut Vec<u8, A>,
    steer: &S,
) -> Option<Decision<'c>> {
    let kind = classify(cfg, path, h)?;
    let client_uid = || {
        if !cfg.uses_uid {
            return None;
        }
        let tag = cfg.unique_gray_tag.as_str();
        h.header(tag)
            .and_then(Uid::from_client)
            .or_else(|| h.cookie(tag).and_then(Uid::from_client))
    };
    let sets_cookies = kind == Kind::Html || (kind == Kind::Index && cfg.use_manifest_as_entry);
    let pinned = steer.pinned().and_then(|i| match i {
        0 => Some(&cfg.base),
        i => cfg.grays.get(i - 1),
    });

    let mut sticky = false;
    let (deployment, uid) = match (sticky_deployment(cfg, kind, h), pinned) {
        (Some(d), _) => {
            sticky = true;
            (d, client_uid())
        }
        (None, Some(d)) => {
            let uid = client_uid().or_else(|| (cfg.uses_uid && sets_cookies).then(Uid::generate));
            (d, uid)
        }
        (None, None) if is_percentage(cfg, steer) => {
            let uid = client_uid().unwrap_or_else(Uid::generate);
            let b = bucket(uid.as_bytes());
            let d = if steer.overridden() {
                let mut lo = 0u32;
                cfg.grays
                    .iter()
                    .enumerate()
                    .find(|(i, _)| {
                        let w = u32::from(effective_gray(cfg, steer, *i).1);
                        let hit = lo <= u32::from(b) && u32::from(b) < lo + w;
                        lo += w;
                        hit
                    })
                    .map(|(_, d)| d)
            } else {
                cfg.grays.iter().find(|d| d.bucket.0 <= b && b < d.bucket.1)
            };
            (d.unwrap_or(&cfg.base), Some(uid))
        }
        (None, None) => {
            let d = with_user_id(cfg, h, scratch, |user| {
                cfg.grays.iter().enumerate().find_map(|(i, d)| {
                    let on = !steer.overridden() || effective_gray(cfg, steer, i).0;
                    (on && d.rule.is_some_and(|r| rule_matches(&cfg.rules[r], user, h)))
                        .then_some(d)
                })
            });
            let uid = client_uid().or_else(|| (cfg.uses_uid && sets_cookies).then(Uid::generate));
            (d.unwrap_or(&cfg.base), uid)
        }
    };

    let version = if kind == Kind::Html {
        deployment.version.as_str()
    } else {
        predicated(deployment, path)
    };
    Some(Decision {
        kind,
        deployment,
        version,
        uid,
        sticky,
    })
}

/// SPEC §4.8: an asset whose `x-higress-tag` cookie names a configured deployment's version.
fn sticky_deployment<'c, H: RequestHeaders>(
    cfg: &'c GrayConfig,
    kind: Kind,
    h: &H,
) -> Option<&'c Deployment> {
    if kind != Kind::Asset {
        return None;
    }
    cfg.deployment_by_version(h.cookie(VERSION_TAG)?)
}

/// SPEC §4.9: the longest matching `versionPredicates` prefix picks the version.
fn predicated<'c>(d: &'c Deployment, path: &[u8]) -> &'c str {
    d.predicates
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix.as_bytes()))
        .map_or(d.version.as_str(), |(_, v)| v.as_str())
}

/// SPEC §4.6: the user id is in the allow-list, or the tag cookie has an allowed value.
pub fn rule_matches<H: RequestHeaders>(rule: &Rule, user: Option<&[u8]>, h: &H) -> bool {
    if let Some(u) = user {
        if rule.gray_key_values.contains(u) {
            return true;
        }
    }
    match &rule.gray_tag_key {
        Some(k) => h
            .cookie(k)
            .is_some_and(|v| rule.gray_tag_values.contains(v)),
        None => false,
    }
}

/// Calls `f` with the user id of SPEC §4.4 (cookie, else header; `graySubKey` applied).
pub fn with_user_id<H: RequestHeaders, A: Allocator, R>(
    cfg: &GrayConfig,
    h: &H,
    scratch: &mut Vec<u8, A>,
    f: impl FnOnce(Option<&[u8]>) -> R,
) -> R {
    let Some(key) = &cfg.gray_key else {
        return f(None);
    };
    let Some(raw) = h.cookie(key).or_else(|| h.header(key)) else {
        return f(None);
    };
    let Some(sub) = &cfg.gray_sub_key else {
        return f(Some(raw));
    };
    percent_decode_into(raw, scratch);
    match json_field::field(scratch, sub) {
        Some(v) => f(Some(v)),
        None => f(Some(raw)),
    }
}

/// Appends the global-config script of SPEC §6 for this user to `out`; `false` (nothing
/// appended) when it is not configured:
/// `var KEY = {FEATURE_KEY: {"rule": true|false, …}, <value without its outer braces>}`,
/// each flag the rule match of SPEC §4.6. Everything but the flags and the version was
/// formatted at configuration time.
pub fn global_config_script<H: RequestHeaders, A: Allocator, B: Allocator>(
    cfg: &GrayConfig,
    version: &str,
    h: &H,
    scratch: &mut Vec<u8, A>,
    out: &mut Vec<u8, B>,
) -> bool {
    let Some(gc) = cfg.injection.global_config.as_ref() else {
        return false;
    };
    out.extend_from_slice(gc.open.as_bytes());
    with_user_id(cfg, h, scratch, |user| {
        for (rule, key) in cfg.rules.iter().zip(&gc.rule_keys) {
            out.extend_from_slice(key.as_bytes());
            let on = rule_matches(rule, user, h);
            out.extend_from_slice(if on { b"true" } else { b"false" });
        }
    });
    gc.close.render_into(version, out);
    true
}

#[cfg(test)]
mod tests;
