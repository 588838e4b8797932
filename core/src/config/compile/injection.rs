//! `injection` and `localStorageGrayKey`: the snippets, the global-config script cut around
//! what varies per request, and each deployment's rendered snippets.

use super::{text, texts, value_err};
use crate::config::raw::RawInjection;
use crate::config::{
    ConfigError, GlobalConfig, Injection, RenderedInjection, Rule, DEFAULT_GLOBAL_CONFIG_KEY,
    DEFAULT_GLOBAL_FEATURE_KEY,
};
use crate::template::Template;

pub(super) fn compile(inj: RawInjection, rules: &[Rule]) -> Result<Injection, ConfigError> {
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
    Ok(injection)
}

fn is_js_identifier(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'$')
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

pub(super) fn render_injection(
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
