//! The configuration file as written: the plugin's field names (camelCase), lenient types.
//!
//! Nothing here is used per request; [`super::compile`] turns it into [`super::GrayConfig`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::conditions::jwt::RawJwt;
use crate::conditions::RawCondition;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawConfig {
    pub name: Option<Text>,
    pub gray_key: Option<Text>,
    pub gray_sub_key: Option<Text>,
    pub local_storage_gray_key: Option<Text>,
    pub store_max_age: Option<i64>,
    pub cookie_domain: Option<Text>,
    pub cookie_secure: Option<bool>,
    pub cookie_path: Option<Text>,
    pub index_paths: Option<Vec<Text>>,
    pub include_path_prefixes: Option<Vec<Text>>,
    pub skipped_paths: Option<Vec<Text>>,
    pub skipped_path_prefixes: Option<Vec<Text>>,
    pub skipped_by_headers: Option<BTreeMap<String, Text>>,
    pub rules: Option<Vec<RawRule>>,
    pub base_deployment: Option<RawDeployment>,
    pub gray_deployments: Option<Vec<RawDeployment>>,
    pub backend_gray_tag: Option<Text>,
    pub unique_gray_tag: Option<Text>,
    pub rewrite: Option<RawRewrite>,
    pub html: Option<Text>,
    pub use_manifest_as_entry: Option<bool>,
    pub injection: Option<RawInjection>,
    pub jwt: Option<RawJwt>,
    pub preview: Option<RawPreview>,
    pub monitor: Option<RawMonitor>,
}

/// Top-level `monitor:` (SPEC §11).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawMonitor {
    pub beacon: Option<Text>,
}

/// A gray deployment's `rollout:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRollout {
    pub steps: Option<Vec<i64>>,
    /// `90s`, `10m`, `1h` or seconds.
    pub interval: Option<serde_yaml_ng::Value>,
}

/// A gray deployment's `guard:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawGuard {
    pub window: Option<serde_yaml_ng::Value>,
    pub min_entries: Option<i64>,
    pub max_error_rate: Option<f64>,
    pub max_error_rate_over_base: Option<f64>,
    pub errors: Option<Vec<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawPreview {
    pub header: Option<Text>,
    pub query: Option<Text>,
    pub allow: Option<Vec<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRule {
    pub name: Option<Text>,
    pub gray_key_value: Option<Vec<Text>>,
    pub gray_tag_key: Option<Text>,
    pub gray_tag_value: Option<Vec<Text>>,
    #[serde(
        rename = "match",
        default,
        with = "serde_yaml_ng::with::singleton_map_recursive"
    )]
    pub conditions: Option<Vec<RawCondition>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawDeployment {
    pub name: Option<Text>,
    pub version: Option<Text>,
    pub enabled: Option<bool>,
    pub backend_version: Option<Text>,
    pub weight: Option<i64>,
    pub version_predicates: Option<Predicates>,
    pub rollout: Option<RawRollout>,
    pub guard: Option<RawGuard>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRewrite {
    pub host: Option<Text>,
    pub not_found_uri: Option<Text>,
    pub index_routing: Option<BTreeMap<String, Text>>,
    pub file_routing: Option<BTreeMap<String, Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawInjection {
    pub head: Option<Vec<Text>>,
    pub body: Option<RawInjectionBody>,
    pub global_config: Option<RawGlobalConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawInjectionBody {
    pub first: Option<Vec<Text>>,
    pub last: Option<Vec<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawGlobalConfig {
    pub key: Option<Text>,
    pub feature_key: Option<Text>,
    pub value: Option<Text>,
    pub enabled: Option<bool>,
}

/// `versionPredicates`: a map of path prefix → version, or that map as a JSON string.
#[derive(Debug)]
pub enum Predicates {
    Map(BTreeMap<String, Text>),
    Json(String),
}

impl<'de> Deserialize<'de> for Predicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Predicates;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of path prefix to version, or that map as a JSON string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Predicates, E> {
                Ok(Predicates::Json(v.to_owned()))
            }
            fn visit_map<M: de::MapAccess<'de>>(self, mut m: M) -> Result<Predicates, M::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = m.next_entry::<String, Text>()? {
                    out.insert(k, v);
                }
                Ok(Predicates::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string field that also accepts a YAML number or boolean (`- 00000001` unquoted, say), as
/// the plugin's loosely typed JSON reader does. Numbers keep the digits as written where the
/// YAML parser hands them over as integers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        // deserialize_str: YAML hands a plain scalar over as written (`00000001` keeps its zeros).
        d.deserialize_str(V)
    }
}
