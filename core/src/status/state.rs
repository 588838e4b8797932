//! The state file of `frontend_gray_state PATH;` (SPEC §10): the run-time overrides of every
//! app, as JSON, so that they survive a restart.
//!
//! `{"apps": {"APP": {"pin": "v2", "deployments": {"beta": {"version": "v2", "weight": 25,
//! "enabled": false}}}}}` — a deployment's overrides hold only for the version written beside
//! them. A deployment with a rollout or a guard also has `"release": [words…]`, its state
//! as the zone holds it (opaque; checked like the zone's own words when read back).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    pub apps: BTreeMap<String, AppState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppState {
    #[serde(default)]
    pub pin: Option<String>,
    #[serde(default)]
    pub deployments: BTreeMap<String, DeploymentState>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentState {
    pub version: String,
    #[serde(default)]
    pub weight: Option<u8>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The rollout / guard state (SPEC §11), as the words the zone holds: opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Vec<u64>>,
}

impl StateFile {
    /// Parses a state file; the error says why it cannot be used.
    pub fn parse(text: &[u8]) -> Result<StateFile, String> {
        let s: StateFile = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        for (app, a) in &s.apps {
            for (name, d) in &a.deployments {
                if d.weight.is_some_and(|w| w > 100) {
                    return Err(format!("apps.{app}.deployments.{name}.weight: over 100"));
                }
            }
        }
        Ok(s)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{\"apps\":{}}".into());
        s.push('\n');
        s
    }
}
