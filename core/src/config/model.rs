//! The compiled configuration: what the request path looks things up in. Built once by
//! [`super::compile`], immutable after.

use crate::byteset::ByteSet;

use crate::conditions::jwt::JwtSource;
use crate::conditions::{Cidr, Condition};
use crate::cookies::UidCookie;
use crate::glob::PathMatcher;
use crate::template::Template;

/// A compiled configuration. Immutable once built; shared by every location that uses it.
#[derive(Debug, Default)]
pub struct GrayConfig {
    /// The app's name on the status page (SPEC §9); the module falls back to the file name.
    pub name: Option<String>,
    /// Cookie / header holding the user id (`localStorageGrayKey` when that is set).
    pub gray_key: Option<String>,
    pub gray_sub_key: Option<String>,
    pub local_storage_gray_key: Option<String>,
    pub store_max_age: i64,
    pub cookie_domain: Option<String>,
    pub cookie_secure: bool,
    /// `cookiePath`: the `Path` of every cookie the module sets (`/` by default).
    pub cookie_path: String,
    pub index_paths: PathMatcher,
    pub skipped_paths: PathMatcher,
    /// (lower-case header name, value)
    pub skipped_by_headers: Vec<(String, Vec<u8>)>,
    pub rules: Vec<Rule>,
    pub base: Deployment,
    /// Enabled gray deployments, in file order (the order the decision tries them).
    pub grays: Vec<Deployment>,
    /// Disabled gray deployments: only `preview` reaches them.
    pub disabled: Vec<Deployment>,
    /// Names of the nginx variables `variable` conditions read, by slot (SPEC §8).
    pub variables: Vec<String>,
    /// Where each of `variables` is named first (for the host's "unknown variable" error).
    pub variable_fields: Vec<String>,
    /// The host's (nginx's) index of each of `variables`, set by the host after compiling.
    pub variable_indices: Vec<usize>,
    /// The top-level `jwt`: where the token is and how it is verified.
    pub jwt: Option<JwtSource>,
    pub preview: Option<Preview>,
    /// Some enabled gray deployment has `weight > 0`: the uid bucket decides (SPEC §4.5).
    pub percentage: bool,
    pub backend_gray_tag: String,
    pub unique_gray_tag: String,
    /// The uid cookie is set on entries (percentage mode, or `uniqueGrayTag` configured).
    pub uses_uid: bool,
    /// Some deployment has a `backendVersion`: entries carry the backend cookie.
    pub uses_backend_cookie: bool,
    pub rewrite: Rewrite,
    /// Inline entry HTML served (200) when the versioned entry is not found; raw, its
    /// `{version}` is replaced as the page streams through the rewriter.
    pub html: Option<String>,
    pub use_manifest_as_entry: bool,
    pub injection: Injection,
    pub uid_cookie: UidCookie,
    /// Clears the backend cookie (for deployments without a `backendVersion`).
    pub backend_cookie_clear: String,
    /// Warnings for the operator (unknown fields, deployments without rule …).
    pub warnings: Vec<String>,
    /// Top-level `monitor:` (SPEC §11): where entry pages report JS errors.
    pub monitor: Option<Monitor>,
    /// Some gray deployment has a `rollout` or a `guard` (its state lives in the zone).
    pub released: bool,
}

/// Top-level `monitor:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Monitor {
    /// `beacon`: the URL path the reporter script posts to (`/gray/beacon`).
    pub beacon: String,
}

/// A rule of `rules[]`, compiled.
#[derive(Debug, Default)]
pub struct Rule {
    pub name: String,
    /// `$gray_reason` when this rule chose: `rule:<name>`.
    pub reason: String,
    /// `match`: every condition must hold (SPEC §8); empty: no such test.
    pub conditions: Vec<Condition>,
    pub gray_key_values: ByteSet,
    pub gray_tag_key: Option<String>,
    pub gray_tag_values: ByteSet,
}

/// `baseDeployment` or an enabled entry of `grayDeployments`.
#[derive(Debug, Default)]
pub struct Deployment {
    /// `base` for the base deployment.
    pub name: String,
    pub version: String,
    pub backend_version: Option<String>,
    /// Bucket range `[lo, hi)` of `xxh3(uid) % 100` in percentage mode (empty when weight 0).
    pub bucket: (u8, u8),
    /// Index into [`GrayConfig::rules`] of the rule of the same name.
    pub rule: Option<usize>,
    /// `versionPredicates`: (path prefix, version), longest prefix first.
    pub predicates: Vec<(String, String)>,
    /// `x-higress-tag=<version>; Max-Age=…; Path=/; HttpOnly; Secure…`
    pub version_cookie: String,
    /// `<backendGrayTag>=<backendVersion>; …` when this deployment has a backend version.
    pub backend_cookie: Option<String>,
    /// The entry-page snippets with this deployment's version filled in (SPEC §6).
    pub inject: RenderedInjection,
    /// `$gray_reason` when this deployment was chosen but is rolled back: `rollback:<name>`.
    pub rollback_reason: String,
    /// `rollout:` (SPEC §11): its weight climbs these steps (gray deployments only).
    pub rollout: Option<crate::release::RolloutPlan>,
    /// `guard:` (SPEC §11): rolled back when its error rate trips (gray deployments only).
    pub guard: Option<crate::release::GuardPlan>,
}

/// Injection snippets of one deployment, rendered at configuration time.
#[derive(Debug, Default)]
pub struct RenderedInjection {
    /// `injection.head`, before `</head>`.
    pub head: String,
    /// The localStorage script, then `injection.body.first`, right after `<body …>`.
    pub body_first: String,
    /// `injection.body.last`, before `</body>`.
    pub body_last: String,
}

impl Deployment {
    pub fn is_base(&self) -> bool {
        self.name == "base"
    }
}

/// `preview`: QA opens any configured version by a header or a query argument (SPEC §8).
#[derive(Debug, Default)]
pub struct Preview {
    /// Lower-case header name.
    pub header: Option<String>,
    pub query: Option<String>,
    /// Client networks that may preview; empty: everyone.
    pub allow: Vec<Cidr>,
}

#[derive(Debug, Default)]
pub struct Rewrite {
    pub host: Option<String>,
    /// (prefix, target), longest prefix first, then lexicographic.
    pub index_routing: Vec<(String, Template)>,
    pub file_routing: Vec<(String, Template)>,
    /// For each `file_routing` target, its directory for each version of the configuration
    /// (of its deployments, disabled ones included, and their `versionPredicates`): the target
    /// rendered, cleaned, without a trailing slash ([`crate::rewrite::target_dir`]), made once
    /// here rather than for every asset.
    pub file_dirs: Vec<Vec<(String, Vec<u8>)>>,
    pub not_found_uri: Option<Template>,
}

#[derive(Debug, Default)]
pub struct Injection {
    pub head: Vec<String>,
    pub body_first: Vec<String>,
    pub body_last: Vec<String>,
    pub global_config: Option<GlobalConfig>,
}

#[derive(Debug, Default)]
pub struct GlobalConfig {
    pub key: String,
    pub feature_key: String,
    /// `value` without its outer braces (may be empty).
    pub value_inner: String,
    /// The script, cut at configuration time around what varies per request:
    /// `<script>var KEY = {FEATURE_KEY: {` …
    pub open: String,
    /// … per rule, in the order of `rules`, `"name": ` (after `, ` but the first) and the
    /// rule's match, `true` or `false` …
    pub rule_keys: Vec<String>,
    /// … and `}, VALUE};</script>`, with `{version}` slots.
    pub close: Template,
}
