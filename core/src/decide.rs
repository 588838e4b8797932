//! Deciding the version (SPEC §4): does the module act, what kind of request is it, which
//! deployment and version does this user get.

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;
use std::net::IpAddr;

use crate::conditions::{all_hold, Env, Facts};

use crate::config::{Deployment, GrayConfig, Rule, VERSION_TAG};
use crate::json_field;
use crate::path::extension;
use crate::rewrite::climbs;
use crate::uid::{bucket, Uid};
use crate::userid::percent_decode_into;

/// What the decision needs to see of a request. Implemented over nginx's `headers_in` by the
/// module and over plain maps by the tests.
pub trait RequestHeaders {
    /// The first request header called `name` (compared case-insensitively).
    fn header(&self, name: &str) -> Option<&[u8]>;
    /// The value of the first cookie called `name`, over all `Cookie` headers.
    fn cookie(&self, name: &str) -> Option<&[u8]>;
    /// The raw (not URL-decoded) value of the first query argument called `name`.
    fn query_arg(&self, _name: &str) -> Option<&[u8]> {
        None
    }
    /// The client address as nginx sees it (after realip).
    fn client_addr(&self) -> Option<IpAddr> {
        None
    }
    /// The value of the nginx variable in slot `slot` of [`GrayConfig::variables`].
    fn variable(&self, _slot: usize) -> Option<&[u8]> {
        None
    }
    /// Now, in seconds since the epoch (JWT `exp` / `nbf`).
    fn now(&self) -> u64 {
        0
    }
}

/// Why a request got its version: `$gray_reason` (SPEC §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The preview header or query argument named the version.
    Preview,
    /// The app is pinned to a version at run time.
    Pin,
    /// An asset kept on the version of its `x-higress-tag` cookie.
    Sticky,
    /// The percentage bucket chose (gray or base).
    Weight,
    /// The rule of this index in [`GrayConfig::rules`] matched.
    Rule(usize),
    /// The rule or bucket chose this gray deployment (index in [`GrayConfig::grays`]), which
    /// was rolled back: base instead.
    Rollback(usize),
    /// Nothing chose a gray deployment.
    Base,
}

impl Reason {
    /// The value of `$gray_reason`: `preview`, `pin`, `sticky`, `weight`, `rule:<name>`,
    /// `rollback:<name>`, `base`.
    pub fn as_str<'c>(&self, cfg: &'c GrayConfig) -> &'c str {
        match self {
            Reason::Preview => "preview",
            Reason::Pin => "pin",
            Reason::Sticky => "sticky",
            Reason::Weight => "weight",
            Reason::Rule(i) => cfg.rules.get(*i).map_or("rule", |r| r.reason.as_str()),
            Reason::Rollback(i) => cfg
                .grays
                .get(*i)
                .map_or("rollback", |d| d.rollback_reason.as_str()),
            Reason::Base => "base",
        }
    }
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
    pub reason: Reason,
}

impl<'c> Decision<'c> {
    /// The response carries the version / uid / backend cookies.
    pub fn sets_cookies(&self, cfg: &GrayConfig) -> bool {
        self.kind == Kind::Html || (self.kind == Kind::Index && cfg.use_manifest_as_entry)
    }

    /// The `Set-Cookie` values of a 200 entry response (SPEC §6), in the order they are sent:
    /// the version cookie, the uid cookie, the backend cookie (set or cleared). Empty where
    /// the response sets no cookies.
    pub fn set_cookies<'a>(&'a self, cfg: &'a GrayConfig) -> impl Iterator<Item = SetCookie<'a>> {
        let on = self.sets_cookies(cfg);
        let version = on.then_some(SetCookie::Whole(self.deployment.version_cookie.as_str()));
        let uid = self.uid.as_ref().filter(|_| on && cfg.uses_uid).map(|u| {
            SetCookie::Uid(
                cfg.uid_cookie.prefix.as_str(),
                u.as_bytes(),
                cfg.uid_cookie.suffix.as_str(),
            )
        });
        let backend = (on && cfg.uses_backend_cookie).then(|| {
            SetCookie::Whole(
                self.deployment
                    .backend_cookie
                    .as_deref()
                    .unwrap_or(&cfg.backend_cookie_clear),
            )
        });
        version.into_iter().chain(uid).chain(backend)
    }
}

/// One `Set-Cookie` value: whole (pre-formatted at configuration time), or the uid cookie as
/// prefix, uid, suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetCookie<'a> {
    Whole(&'a str),
    Uid(&'a str, &'a [u8], &'a str),
}

impl SetCookie<'_> {
    /// The header value, as bytes.
    pub fn to_vec(&self) -> std::vec::Vec<u8> {
        match self {
            SetCookie::Whole(s) => s.as_bytes().to_vec(),
            SetCookie::Uid(p, u, s) => [p.as_bytes(), u, s.as_bytes()].concat(),
        }
    }
}

/// Decides the deployment and version of a request (SPEC §4, §8). `path` is the cleaned path;
/// `scratch` is a per-request buffer for URL-decoding a `graySubKey` value.
pub fn decide<'c, H: RequestHeaders, A: Allocator>(
    cfg: &'c GrayConfig,
    path: &[u8],
    h: &H,
    scratch: &mut Vec<u8, A>,
) -> Option<Decision<'c>> {
    decide_with(cfg, path, h, &Facts::default(), scratch, &Unsteered)
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
    /// `Some(width)` when `cfg.grays[i]` is rolled back (SPEC §11): its rule does not match
    /// and its bucket range, `width` wide so that the others' ranges stay where they were,
    /// goes to base with `$gray_reason` `rollback:<name>`. Only asked when `overridden`.
    fn rolled_back(&self, _i: usize) -> Option<u8> {
        None
    }
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
    (0..cfg.grays.len()).any(|i| {
        effective_gray(cfg, s, i).1 > 0
            || s.rolled_back(i).is_some_and(|w| w > 0)
            || (cfg.grays[i].rollout.is_some() && effective_gray(cfg, s, i).0)
    })
}

/// [`decide`] under run-time overrides (SPEC §10).
pub fn decide_steered<'c, H: RequestHeaders, A: Allocator, S: Steering>(
    cfg: &'c GrayConfig,
    path: &[u8],
    h: &H,
    scratch: &mut Vec<u8, A>,
    steer: &S,
) -> Option<Decision<'c>> {
    decide_with(cfg, path, h, &Facts::default(), scratch, steer)
}

/// [`decide`], with the request's [`Facts`] (User-Agent class, JWT claims) kept by the caller
/// so that the global-config script reuses them, under the run-time overrides of SPEC §10:
/// a pin, and `enabled` / `weight` changing which deployment the rules or buckets pick.
///
/// Precedence (SPEC §8): entries — preview, pin, then §4; assets — preview, the sticky
/// cookie, pin, then §4.
pub fn decide_with<'c, H: RequestHeaders, A: Allocator, S: Steering>(
    cfg: &'c GrayConfig,
    path: &[u8],
    h: &H,
    facts: &Facts,
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
    let minted_uid = || client_uid().or_else(|| (cfg.uses_uid && sets_cookies).then(Uid::generate));

    let previewing = preview_allowed(cfg, h);
    let pinned = steer.pinned().and_then(|i| match i {
        0 => Some(&cfg.base),
        i => cfg.grays.get(i - 1),
    });
    let (deployment, uid, reason) = if let Some(d) = previewing.then(|| preview(cfg, h)).flatten() {
        (d, minted_uid(), Reason::Preview)
    } else if let Some(d) = sticky_deployment(cfg, kind, h, previewing) {
        (d, client_uid(), Reason::Sticky)
    } else if let Some(d) = pinned {
        (d, minted_uid(), Reason::Pin)
    } else if is_percentage(cfg, steer) {
        let uid = client_uid().unwrap_or_else(Uid::generate);
        let b = bucket(uid.as_bytes());
        let d = if steer.overridden() {
            let mut lo = 0u32;
            cfg.grays.iter().enumerate().find_map(|(i, d)| {
                let (w, back) = match steer.rolled_back(i) {
                    Some(w) => (w, true),
                    None => (effective_gray(cfg, steer, i).1, false),
                };
                let w = u32::from(w);
                let hit = lo <= u32::from(b) && u32::from(b) < lo + w;
                lo += w;
                hit.then_some((i, d, back))
            })
        } else {
            cfg.grays
                .iter()
                .enumerate()
                .find(|(_, d)| d.bucket.0 <= b && b < d.bucket.1)
                .map(|(i, d)| (i, d, false))
        };
        match d {
            Some((i, _, true)) => (&cfg.base, Some(uid), Reason::Rollback(i)),
            Some((_, d, false)) => (d, Some(uid), Reason::Weight),
            None => (&cfg.base, Some(uid), Reason::Weight),
        }
    } else {
        let hit = with_user_id(cfg, h, scratch, |user| {
            let env = Env {
                headers: h,
                user,
                facts,
                jwt: cfg.jwt.as_ref(),
            };
            let mut back = None;
            let hit = cfg.grays.iter().enumerate().find_map(|(i, d)| {
                let r = d.rule?;
                let on = !steer.overridden() || effective_gray(cfg, steer, i).0;
                if !on || !rule_holds(&cfg.rules[r], &env) {
                    return None;
                }
                if steer.overridden() && steer.rolled_back(i).is_some() {
                    back = back.or(Some(i));
                    return None;
                }
                Some((d, r))
            });
            (hit, back)
        });
        match hit {
            (Some((d, r)), _) => (d, minted_uid(), Reason::Rule(r)),
            (None, Some(i)) => (&cfg.base, minted_uid(), Reason::Rollback(i)),
            (None, None) => (&cfg.base, minted_uid(), Reason::Base),
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
        sticky: reason == Reason::Sticky,
        reason,
    })
}

/// `preview` is configured and this client may use it (`allow`, when given, holds its address).
fn preview_allowed<H: RequestHeaders>(cfg: &GrayConfig, h: &H) -> bool {
    let Some(p) = &cfg.preview else {
        return false;
    };
    p.allow.is_empty()
        || h.client_addr()
            .is_some_and(|ip| p.allow.iter().any(|n| n.contains(ip)))
}

/// SPEC §8 `preview`: the deployment of the configured version (base, or any gray deployment,
/// enabled or not) that the preview header, else the query argument, names.
fn preview<'c, H: RequestHeaders>(cfg: &'c GrayConfig, h: &H) -> Option<&'c Deployment> {
    let p = cfg.preview.as_ref()?;
    let v = match p.header.as_deref().and_then(|n| h.header(n)) {
        Some(v) => v,
        None => p.query.as_deref().and_then(|n| h.query_arg(n))?,
    };
    cfg.any_deployment_by_version(v)
}

/// SPEC §4.8: an asset whose `x-higress-tag` cookie names a configured deployment's version
/// (base or an enabled gray; also a disabled one for a client that may preview, whose entry
/// set that cookie).
fn sticky_deployment<'c, H: RequestHeaders>(
    cfg: &'c GrayConfig,
    kind: Kind,
    h: &H,
    previewing: bool,
) -> Option<&'c Deployment> {
    if kind != Kind::Asset {
        return None;
    }
    let v = h.cookie(VERSION_TAG)?;
    if previewing {
        cfg.any_deployment_by_version(v)
    } else {
        cfg.deployment_by_version(v)
    }
}

/// SPEC §4.9: the longest matching `versionPredicates` prefix picks the version. A prefix
/// without its slash does not match a path that goes on with a `..` segment (`/app1../x`
/// for `/app1`): that path is not below the prefix (SPEC §5).
fn predicated<'c>(d: &'c Deployment, path: &[u8]) -> &'c str {
    d.predicates
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix.as_bytes()) && !climbs(&path[prefix.len()..]))
        .map_or(d.version.as_str(), |(_, v)| v.as_str())
}

/// SPEC §4.6 and §8: the user id is in the allow-list, or the tag cookie has an allowed value,
/// or the rule's non-empty `match` list holds.
pub fn rule_matches<H: RequestHeaders>(rule: &Rule, user: Option<&[u8]>, h: &H) -> bool {
    let facts = Facts::default();
    rule_holds(
        rule,
        &Env {
            headers: h,
            user,
            facts: &facts,
            jwt: None,
        },
    )
}

/// [`rule_matches`] against a full [`Env`].
pub fn rule_holds<H: RequestHeaders>(rule: &Rule, env: &Env<'_, H>) -> bool {
    if let Some(u) = env.user {
        if rule.gray_key_values.contains(u) {
            return true;
        }
    }
    if let Some(k) = &rule.gray_tag_key {
        if env
            .headers
            .cookie(k)
            .is_some_and(|v| rule.gray_tag_values.contains(v))
        {
            return true;
        }
    }
    all_hold(&rule.conditions, env)
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
    global_config_script_with(cfg, version, h, &Facts::default(), scratch, out)
}

/// [`global_config_script`] with the request's [`Facts`].
pub fn global_config_script_with<H: RequestHeaders, A: Allocator, B: Allocator>(
    cfg: &GrayConfig,
    version: &str,
    h: &H,
    facts: &Facts,
    scratch: &mut Vec<u8, A>,
    out: &mut Vec<u8, B>,
) -> bool {
    let Some(gc) = cfg.injection.global_config.as_ref() else {
        return false;
    };
    crate::buf::put(out, gc.open.as_bytes());
    with_user_id(cfg, h, scratch, |user| {
        let env = Env {
            headers: h,
            user,
            facts,
            jwt: cfg.jwt.as_ref(),
        };
        for (rule, key) in cfg.rules.iter().zip(&gc.rule_keys) {
            crate::buf::put(out, key.as_bytes());
            let on = rule_holds(rule, &env);
            crate::buf::put(out, if on { b"true" } else { b"false" });
        }
    });
    gc.close.render_into(version, out);
    true
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_rollback;
