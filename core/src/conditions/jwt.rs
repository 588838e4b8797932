//! PLACEHOLDER, replaced by the JWT verifier.

use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawJwt {
    pub header: Option<String>,
    pub cookie: Option<String>,
    pub keys: Option<String>,
    pub secret: Option<String>,
    pub algorithms: Option<Vec<String>>,
    pub verify: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    Header(String),
    Cookie(String),
}

#[derive(Debug)]
pub struct JwtSource {
    loc: TokenLocation,
}

pub struct Claims(serde_json::Value);

impl JwtSource {
    pub fn compile(
        raw: &RawJwt,
        _base_dir: &std::path::Path,
        field: &str,
    ) -> Result<(JwtSource, Vec<String>), ConfigError> {
        let loc = match (&raw.header, &raw.cookie) {
            (Some(h), None) => TokenLocation::Header(h.to_ascii_lowercase()),
            (None, Some(c)) => TokenLocation::Cookie(c.clone()),
            _ => {
                return Err(crate::config::value_err(
                    field,
                    "needs exactly one of header and cookie",
                ))
            }
        };
        Ok((JwtSource { loc }, Vec::new()))
    }
    pub fn token_location(&self) -> TokenLocation {
        self.loc.clone()
    }
    pub fn verify(&self, _token: &[u8], _now: u64) -> Option<Claims> {
        None
    }
}

impl Claims {
    pub fn matches(&self, _claim: &str, _values: &[String]) -> bool {
        let _ = &self.0;
        false
    }
}
