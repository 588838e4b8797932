//! Compiling the configuration as written ([`super::raw`]) into a [`GrayConfig`], one file a
//! section: `rules.rs`, `deployments.rs`, `rewrite.rs`, `injection.rs`; the top-level keys
//! (cookies, user id, paths) here.

mod deployments;
mod injection;
mod release;
mod rewrite;
mod rules;

pub use injection::local_storage_script;

use std::path::Path;

use super::raw::{RawConfig, RawPreview, Text};
use super::Preview;
use super::{
    value_err, ConfigError, GrayConfig, DEFAULT_BACKEND_GRAY_TAG, DEFAULT_STORE_MAX_AGE,
    DEFAULT_UNIQUE_GRAY_TAG,
};
use crate::conditions::jwt::JwtSource;
use crate::conditions::{cidrs, CompileCtx};
use crate::cookies::{CookieAttrs, UidCookie};
use crate::glob::PathMatcher;

pub(super) fn compile(raw: RawConfig, dir: &Path) -> Result<GrayConfig, ConfigError> {
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
    let cookie_path = text(&raw.cookie_path).unwrap_or_else(|| "/".into());
    if !cookie_path.starts_with('/')
        || !cookie_path
            .bytes()
            .all(|b| crate::cookies::is_cookie_octet(b) && b != b',')
    {
        return Err(value_err(
            "cookiePath",
            format!("\"{cookie_path}\" is not a cookie path (it starts with \"/\", with no blanks, \";\" or \",\")"),
        ));
    }
    let attrs = CookieAttrs {
        max_age: store_max_age,
        domain: cookie_domain.clone(),
        secure: raw.cookie_secure.unwrap_or(true),
        path: cookie_path.clone(),
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

    let (jwt, jwt_warnings) = match &raw.jwt {
        Some(j) => {
            let (src, w) = JwtSource::compile(j, dir, "jwt")?;
            (Some(src), w)
        }
        None => (None, Vec::new()),
    };
    warnings.extend(jwt_warnings);
    let preview = raw.preview.as_ref().map(preview).transpose()?;
    let mut variables = Vec::new();
    let mut variable_fields = Vec::new();
    let rules = rules::compile(
        &raw,
        &mut CompileCtx {
            variables: &mut variables,
            variable_fields: &mut variable_fields,
            has_jwt: jwt.is_some(),
        },
    )?;
    let deployments::Deployments {
        base,
        mut grays,
        disabled,
        any_backend,
        any_rollout,
    } = deployments::compile(&raw, &rules, &attrs, &backend_gray_tag, &mut warnings)?;
    let percentage = any_rollout || grays.iter().any(|d| d.bucket.1 > d.bucket.0);
    let released = grays
        .iter()
        .any(|d| d.rollout.is_some() || d.guard.is_some());
    let monitor = release::monitor(&raw.monitor)?;
    if monitor.is_none() {
        for (i, d) in raw.gray_deployments.iter().flatten().enumerate() {
            let names = d.guard.as_ref().and_then(|g| g.errors.as_ref());
            if names.is_some_and(|n| n.iter().any(|t| t.0 == "jsError")) {
                warnings.push(format!(
                    "grayDeployments[{i}].guard.errors: jsError needs a top-level \
monitor: {{beacon: PATH}}: without it no page reports JS errors"
                ));
            }
        }
    }
    let mut rewrite = rewrite::compile(raw.rewrite.unwrap_or_default())?;
    rewrite.file_dirs = rewrite::file_dirs(
        &rewrite.file_routing,
        std::iter::once(&base).chain(&grays).chain(&disabled),
    );
    let injection = injection::compile(raw.injection.unwrap_or_default(), &rules)?;
    let mut base = base;
    for d in std::iter::once(&mut base).chain(grays.iter_mut()) {
        d.inject =
            injection::render_injection(&injection, local_storage_gray_key.as_deref(), &d.version);
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
        cookie_path,
        index_paths,
        skipped_paths,
        skipped_by_headers,
        rules,
        base,
        grays,
        disabled,
        variables,
        variable_fields,
        variable_indices: Vec::new(),
        jwt,
        preview,
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
        monitor,
        released,
    })
}

pub(super) fn text(t: &Option<Text>) -> Option<String> {
    t.as_ref()
        .map(|t| t.0.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub(super) fn texts(t: &Option<Vec<Text>>) -> Vec<String> {
    t.iter().flatten().map(|t| t.0.clone()).collect()
}

/// Letters, digits and `!#$%&'*+-.^_`|~`: an HTTP token, usable as cookie and header name.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

pub(super) fn check_name(field: &str, v: &str) -> Result<(), ConfigError> {
    if is_token(v) {
        Ok(())
    } else {
        Err(value_err(
            field,
            format!("\"{v}\" is not a valid cookie/header name"),
        ))
    }
}

/// `preview` (SPEC §8): a header and / or a query argument, and the networks allowed to use it.
fn preview(p: &RawPreview) -> Result<Preview, ConfigError> {
    let header = text(&p.header).map(|h| h.to_ascii_lowercase());
    if let Some(h) = &header {
        check_name("preview.header", h)?;
    }
    let query = text(&p.query);
    if header.is_none() && query.is_none() {
        return Err(value_err("preview", "needs a header or a query argument"));
    }
    Ok(Preview {
        header,
        query,
        allow: cidrs("preview.allow", p.allow.as_deref().unwrap_or_default())?,
    })
}
