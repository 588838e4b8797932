//! Configuration: the YAML (or JSON) file of the gateway plugin, read once when nginx reads its
//! configuration and compiled into an immutable [`GrayConfig`] that the request path only looks
//! things up in: globs in a set, routing tables sorted longest-prefix-first, rules indexed by
//! deployment, cookies pre-formatted.

mod raw;

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use crate::cookies::{self, CookieAttrs, UidCookie};
use crate::glob::PathMatcher;
use crate::template::Template;
use raw::{Predicates, RawConfig, RawDeployment, Text};

/// Default `Max-Age` of the cookies the module sets: one year.
pub const DEFAULT_STORE_MAX_AGE: i64 = 60 * 60 * 24 * 365;
pub const DEFAULT_BACKEND_GRAY_TAG: &str = "x-mse-tag";
pub const DEFAULT_UNIQUE_GRAY_TAG: &str = "x-higress-uid";
/// Name of the cookie (and request header) carrying the chosen frontend version.
pub const VERSION_TAG: &str = "x-higress-tag";
pub const DEFAULT_GLOBAL_CONFIG_KEY: &str = "HIGRESS_CONSOLE_CONFIG";
pub const DEFAULT_GLOBAL_FEATURE_KEY: &str = "FEATURE_STATUS";

/// A configuration error, as `nginx -t` should print it (the caller adds the file name).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The file is not valid YAML / does not fit the schema.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A field holds a value the module cannot use.
    #[error("{field}: {message}")]
    Value { field: String, message: String },
    /// The YAML has no location for the error.
    #[error("{0}")]
    Other(String),
}

fn value_err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        field: field.into(),
        message: message.into(),
    }
}

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
    pub index_paths: PathMatcher,
    pub skipped_paths: PathMatcher,
    /// (lower-case header name, value)
    pub skipped_by_headers: Vec<(String, Vec<u8>)>,
    pub rules: Vec<Rule>,
    pub base: Deployment,
    /// Enabled gray deployments, in file order (the order the decision tries them).
    pub grays: Vec<Deployment>,
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
}

/// A rule of `rules[]`, compiled.
#[derive(Debug, Default)]
pub struct Rule {
    pub name: String,
    pub gray_key_values: HashSet<Box<[u8]>>,
    pub gray_tag_key: Option<String>,
    pub gray_tag_values: HashSet<Box<[u8]>>,
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

#[derive(Debug, Default)]
pub struct Rewrite {
    pub host: Option<String>,
    /// (prefix, target), longest prefix first, then lexicographic.
    pub index_routing: Vec<(String, Template)>,
    pub file_routing: Vec<(String, Template)>,
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

impl GrayConfig {
    /// Parses and compiles a YAML (or JSON) document.
    pub fn from_yaml(text: &str) -> Result<GrayConfig, ConfigError> {
        let mut unknown = Vec::new();
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let raw: RawConfig = serde_ignored::deserialize(de, |path| unknown.push(path.to_string()))
            .map_err(yaml_error)?;
        let mut cfg = compile(raw)?;
        for u in unknown.iter().rev() {
            // serde_ignored writes `?` for the `Some` of an Option: not part of the field path
            let path: Vec<&str> = u.split('.').filter(|s| *s != "?").collect();
            cfg.warnings
                .insert(0, format!("unknown field \"{}\" ignored", path.join(".")));
        }
        Ok(cfg)
    }

    /// The deployment whose *own* version is `v` (base or an enabled gray), for stickiness.
    pub fn deployment_by_version(&self, v: &[u8]) -> Option<&Deployment> {
        self.grays
            .iter()
            .find(|d| d.version.as_bytes() == v)
            .or_else(|| (self.base.version.as_bytes() == v).then_some(&self.base))
    }
}

fn yaml_error(e: serde_yaml_ng::Error) -> ConfigError {
    let msg = e.to_string();
    match e.location() {
        Some(loc) => {
            // serde_yaml appends " at line L column C"; we put the location first instead.
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let message = msg.strip_suffix(&suffix).unwrap_or(&msg).to_string();
            ConfigError::Syntax {
                line: loc.line(),
                column: loc.column(),
                message,
            }
        }
        None => ConfigError::Other(msg),
    }
}

fn text(t: &Option<Text>) -> Option<String> {
    t.as_ref()
        .map(|t| t.0.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn texts(t: &Option<Vec<Text>>) -> Vec<String> {
    t.iter().flatten().map(|t| t.0.clone()).collect()
}

/// Letters, digits and `!#$%&'*+-.^_`|~`: an HTTP token, usable as cookie and header name.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A version goes into a cookie value and into a filesystem path: cookie-octets only, no
/// path separators, and not `.` / `..`.
fn check_version(field: &str, v: &str) -> Result<(), ConfigError> {
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

fn check_name(field: &str, v: &str) -> Result<(), ConfigError> {
    if is_token(v) {
        Ok(())
    } else {
        Err(value_err(
            field,
            format!("\"{v}\" is not a valid cookie/header name"),
        ))
    }
}

fn routing(
    field: &str,
    map: &Option<BTreeMap<String, Text>>,
) -> Result<Vec<(String, Template)>, ConfigError> {
    let mut out = Vec::new();
    for (k, v) in map.iter().flatten() {
        if !k.starts_with('/') {
            return Err(value_err(
                format!("{field}.{k}"),
                "the path prefix must start with \"/\"",
            ));
        }
        if !v.0.starts_with('/') {
            return Err(value_err(
                format!("{field}.{k}"),
                "the target must start with \"/\"",
            ));
        }
        out.push((k.clone(), Template::new(&v.0)));
    }
    out.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
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

fn is_js_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
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
    Ok(Deployment {
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

/// The script of the plugin that copies the user id from localStorage into a cookie and
/// reloads once (the key is a checked token: safe inside the quotes).
pub fn local_storage_script(key: &str) -> String {
    format!(
        "<script>(function(){{var grayKey='{key}';\
var cookies=document.cookie.split('; ').filter(function(row){{return row.indexOf(grayKey+'=')===0;}});\
try{{if(typeof localStorage!=='undefined'&&localStorage!==null){{\
var storageValue=localStorage.getItem(grayKey);\
var cookieValue=cookies.length>0?decodeURIComponent(cookies[0].split('=')[1]):null;\
if(storageValue&&storageValue.indexOf('=')<0&&cookieValue!==storageValue){{\
document.cookie=grayKey+'='+encodeURIComponent(storageValue)+'; path=/;';window.location.reload();}}}}}}catch(error){{}}}})();</script>"
    )
}

fn render_injection(
    inj: &Injection,
    local_storage_key: Option<&str>,
    version: &str,
) -> RenderedInjection {
    let join =
        |v: &[String]| -> String { v.iter().map(|s| Template::new(s).render(version)).collect() };
    let mut body_first = local_storage_key
        .map(local_storage_script)
        .unwrap_or_default();
    body_first.push_str(&join(&inj.body_first));
    RenderedInjection {
        head: join(&inj.head),
        body_first,
        body_last: join(&inj.body_last),
    }
}

fn compile(raw: RawConfig) -> Result<GrayConfig, ConfigError> {
    let mut warnings = Vec::new();

    let name = text(&raw.name);
    if let Some(n) = &name {
        if n.len() > 64
            || !n
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(value_err(
                "name",
                format!("\"{n}\" must be 1-64 letters, digits, \".\", \"_\" or \"-\""),
            ));
        }
    }

    let store_max_age = raw.store_max_age.unwrap_or(DEFAULT_STORE_MAX_AGE);
    if store_max_age < 0 {
        return Err(value_err("storeMaxAge", "must not be negative"));
    }
    // Browsers cap Max-Age at 400 days anyway; keep absurd values from overflowing anything.
    let store_max_age = store_max_age.min(i64::from(i32::MAX));

    let cookie_domain = text(&raw.cookie_domain);
    if let Some(d) = &cookie_domain {
        if !d
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(value_err(
                "cookieDomain",
                format!("\"{d}\" is not a domain name"),
            ));
        }
    }
    let attrs = CookieAttrs {
        max_age: store_max_age,
        domain: cookie_domain.clone(),
        secure: raw.cookie_secure.unwrap_or(true),
    };

    let local_storage_gray_key = text(&raw.local_storage_gray_key);
    let gray_key = local_storage_gray_key
        .clone()
        .or_else(|| text(&raw.gray_key));
    for (f, v) in [
        ("grayKey", &gray_key),
        ("localStorageGrayKey", &local_storage_gray_key),
    ] {
        if let Some(v) = v {
            check_name(f, v)?;
        }
    }
    let backend_gray_tag =
        text(&raw.backend_gray_tag).unwrap_or_else(|| DEFAULT_BACKEND_GRAY_TAG.into());
    check_name("backendGrayTag", &backend_gray_tag)?;
    let unique_explicit = text(&raw.unique_gray_tag);
    let unique_gray_tag = unique_explicit
        .clone()
        .unwrap_or_else(|| DEFAULT_UNIQUE_GRAY_TAG.into());
    check_name("uniqueGrayTag", &unique_gray_tag)?;

    let path_matcher = |field: &str, globs: &Option<Vec<Text>>, pfx: &Option<Vec<Text>>| {
        let g = texts(globs);
        PathMatcher::new(&g, &texts(pfx)).map_err(|(i, e)| {
            value_err(
                format!("{field}[{i}]"),
                format!(
                    "invalid glob \"{}\": {e}",
                    g.get(i).map_or("", |s| s.as_str())
                ),
            )
        })
    };
    let index_paths = path_matcher("indexPaths", &raw.index_paths, &raw.include_path_prefixes)?;
    let skipped_paths = path_matcher(
        "skippedPaths",
        &raw.skipped_paths,
        &raw.skipped_path_prefixes,
    )?;

    let skipped_by_headers = raw
        .skipped_by_headers
        .iter()
        .flatten()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.0.clone().into_bytes()))
        .collect();

    // rules
    let mut rules = Vec::new();
    for (i, r) in raw.rules.iter().flatten().enumerate() {
        let name =
            text(&r.name).ok_or_else(|| value_err(format!("rules[{i}].name"), "is required"))?;
        let set =
            |v: &Option<Vec<Text>>| v.iter().flatten().map(|t| t.0.as_bytes().into()).collect();
        rules.push(Rule {
            name,
            gray_key_values: set(&r.gray_key_value),
            gray_tag_key: text(&r.gray_tag_key),
            gray_tag_values: set(&r.gray_tag_value),
        });
    }

    // deployments
    let base_raw = raw
        .base_deployment
        .as_ref()
        .ok_or_else(|| value_err("baseDeployment.version", "is required"))?;
    let base = deployment(
        "baseDeployment",
        base_raw,
        "base".into(),
        &attrs,
        &backend_gray_tag,
    )?;

    let mut grays = Vec::new();
    let mut weight_sum: i64 = 0;
    let mut any_backend = base.backend_version.is_some();
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
        let mut dep = deployment(&field, d, name, &attrs, &backend_gray_tag)?;
        any_backend |= dep.backend_version.is_some();
        if !d.enabled.unwrap_or(false) {
            continue;
        }
        dep.rule = rules.iter().position(|r| r.name == dep.name);
        if dep.rule.is_none() && weight == 0 {
            warnings.push(format!(
                "{field}: no rule named \"{}\": the deployment never matches in rule mode",
                dep.name
            ));
        }
        let lo = weight_sum;
        weight_sum += weight;
        if weight_sum > 100 {
            return Err(value_err(
                format!("{field}.weight"),
                format!("weights of enabled gray deployments sum to {weight_sum}, over 100"),
            ));
        }
        dep.bucket = (lo as u8, weight_sum as u8);
        grays.push(dep);
    }
    let percentage = grays.iter().any(|d| d.bucket.1 > d.bucket.0);

    // rewrite
    let rw = raw.rewrite.unwrap_or_default();
    let rewrite = Rewrite {
        host: text(&rw.host),
        index_routing: routing("rewrite.indexRouting", &rw.index_routing)?,
        file_routing: routing("rewrite.fileRouting", &rw.file_routing)?,
        not_found_uri: text(&rw.not_found_uri).map(|s| Template::new(&s)),
    };
    if let Some(h) = &rewrite.host {
        if h.bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'/')
        {
            return Err(value_err(
                "rewrite.host",
                format!("\"{h}\" is not a host name"),
            ));
        }
    }

    // injection
    let inj = raw.injection.unwrap_or_default();
    let body = inj.body.unwrap_or_default();
    let global_config = match inj.global_config {
        Some(g) if g.enabled.unwrap_or(false) => {
            let key = text(&g.key).unwrap_or_else(|| DEFAULT_GLOBAL_CONFIG_KEY.into());
            if !is_js_identifier(&key) {
                return Err(value_err(
                    "injection.globalConfig.key",
                    format!("\"{key}\" is not a JavaScript identifier"),
                ));
            }
            let feature_key =
                text(&g.feature_key).unwrap_or_else(|| DEFAULT_GLOBAL_FEATURE_KEY.into());
            if !is_js_identifier(&feature_key) {
                return Err(value_err(
                    "injection.globalConfig.featureKey",
                    format!("\"{feature_key}\" is not a JavaScript identifier"),
                ));
            }
            let value = text(&g.value).unwrap_or_default();
            let inner = value
                .strip_prefix('{')
                .and_then(|v| v.strip_suffix('}'))
                .unwrap_or(&value)
                .trim()
                .to_string();
            if inner.contains("</") {
                return Err(value_err(
                    "injection.globalConfig.value",
                    "must not contain \"</\"",
                ));
            }
            let rule_keys = rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let sep = if i > 0 { ", " } else { "" };
                    format!("{sep}{}: ", crate::html::js_string(&r.name))
                })
                .collect();
            let value = if inner.is_empty() {
                String::new()
            } else {
                format!(", {inner}")
            };
            Some(GlobalConfig {
                open: format!("<script>var {key} = {{{feature_key}: {{"),
                rule_keys,
                close: Template::new(&format!("}}{value}}};</script>")),
                key,
                feature_key,
                value_inner: inner,
            })
        }
        _ => None,
    };
    let injection = Injection {
        head: texts(&inj.head),
        body_first: texts(&body.first),
        body_last: texts(&body.last),
        global_config,
    };
    let mut base = base;
    for d in std::iter::once(&mut base).chain(grays.iter_mut()) {
        d.inject = render_injection(&injection, local_storage_gray_key.as_deref(), &d.version);
    }

    Ok(GrayConfig {
        name,
        uses_uid: percentage || unique_explicit.is_some(),
        uses_backend_cookie: any_backend,
        uid_cookie: UidCookie::new(&unique_gray_tag, &attrs),
        backend_cookie_clear: attrs.format_clear(&backend_gray_tag),
        gray_key,
        gray_sub_key: text(&raw.gray_sub_key),
        local_storage_gray_key,
        store_max_age,
        cookie_domain,
        cookie_secure: attrs.secure,
        index_paths,
        skipped_paths,
        skipped_by_headers,
        rules,
        base,
        grays,
        percentage,
        backend_gray_tag,
        unique_gray_tag,
        rewrite,
        html: raw
            .html
            .as_ref()
            .map(|h| h.0.clone())
            .filter(|h| !h.is_empty()),
        use_manifest_as_entry: raw.use_manifest_as_entry.unwrap_or(false),
        injection,
        warnings,
    })
}

impl fmt::Display for GrayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "base {}", self.base.version)?;
        for g in &self.grays {
            write!(f, ", {} {}", g.name, g.version)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
