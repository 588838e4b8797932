//! Configuration: the YAML (or JSON) file of the gateway plugin, read once when nginx reads its
//! configuration and compiled into an immutable [`GrayConfig`] that the request path only looks
//! things up in: globs in a set, routing tables sorted longest-prefix-first, rules indexed by
//! deployment, cookies pre-formatted.

mod compile;
mod model;
pub(crate) mod raw;

use std::fmt;

pub use compile::local_storage_script;
pub use model::*;
use raw::RawConfig;

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

pub(crate) fn value_err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        field: field.into(),
        message: message.into(),
    }
}

impl GrayConfig {
    /// Parses and compiles a YAML (or JSON) document; relative paths in it (a JWT key file)
    /// are relative to the current directory.
    pub fn from_yaml(text: &str) -> Result<GrayConfig, ConfigError> {
        Self::from_yaml_in(text, std::path::Path::new("."))
    }

    /// Parses and compiles a YAML (or JSON) document whose relative paths are relative to
    /// `dir` (the YAML file's directory).
    pub fn from_yaml_in(text: &str, dir: &std::path::Path) -> Result<GrayConfig, ConfigError> {
        let mut unknown = Vec::new();
        let de = serde_yaml_ng::Deserializer::from_str(text);
        let raw: RawConfig = serde_ignored::deserialize(de, |path| unknown.push(path.to_string()))
            .map_err(yaml_error)?;
        let mut cfg = compile::compile(raw, dir)?;
        for u in unknown.iter().rev() {
            // serde_ignored writes `?` for the `Some` of an Option: not part of the field path
            let path: Vec<&str> = u.split('.').filter(|s| *s != "?").collect();
            cfg.warnings
                .insert(0, format!("unknown field \"{}\" ignored", path.join(".")));
        }
        Ok(cfg)
    }

    /// The names of the cookies this configuration sets on entries: the version cookie, the
    /// uid cookie where uids are used, the backend cookie where a deployment has a backend
    /// version.
    pub fn cookie_names(&self) -> Vec<&str> {
        let mut v = vec![VERSION_TAG];
        if self.uses_uid {
            v.push(&self.unique_gray_tag);
        }
        if self.uses_backend_cookie {
            v.push(&self.backend_gray_tag);
        }
        v
    }

    /// The deployment of version `v` among all configured ones, disabled grays included
    /// (`preview`).
    pub fn any_deployment_by_version(&self, v: &[u8]) -> Option<&Deployment> {
        self.deployment_by_version(v)
            .or_else(|| self.disabled.iter().find(|d| d.version.as_bytes() == v))
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
#[cfg(test)]
mod tests_release;
