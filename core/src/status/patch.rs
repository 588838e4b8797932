//! `PATCH <status>/apps/<APP>` (SPEC §10): the JSON merge-patch, parsed and checked against
//! the app before anything is applied. Every refusal is a 400 with the message of
//! [`PatchError`].

use serde_json::{Map, Value};

/// Largest PATCH body accepted.
pub const MAX_PATCH_BODY: usize = 16 * 1024;

/// A merge-patch member: absent (keep), `null` (back to the YAML's value), or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Setting<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

pub type PinPatch = Setting<String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    Pause,
    Resume,
}

/// `deployments.NAME` of a patch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentPatch {
    pub name: String,
    pub weight: Setting<u8>,
    pub enabled: Setting<bool>,
    pub rollout: Option<Rollout>,
    pub reset: bool,
}

/// A parsed (not yet checked) patch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Patch {
    pub pin: Setting<String>,
    pub deployments: Vec<DeploymentPatch>,
}

/// Why a patch is refused: the text of the `{"error": "…"}` answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, PatchError> {
    Err(PatchError(msg.into()))
}

/// Parses a PATCH body. Checks the shape and the ranges that need no app; [`Patch::apply`]
/// checks the rest.
pub fn parse_patch(body: &[u8]) -> Result<Patch, PatchError> {
    if body.len() > MAX_PATCH_BODY {
        return err(format!("body over {MAX_PATCH_BODY} bytes"));
    }
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return err(format!("body is not JSON: {e}")),
    };
    let Value::Object(top) = v else {
        return err("body must be a JSON object");
    };
    let mut patch = Patch::default();
    for (k, v) in &top {
        match k.as_str() {
            "pin" => {
                patch.pin = match v {
                    Value::Null => Setting::Clear,
                    Value::String(s) => Setting::Set(s.clone()),
                    _ => return err("\"pin\" must be a version (a string) or null"),
                }
            }
            "deployments" => {
                let Value::Object(m) = v else {
                    return err("\"deployments\" must be an object of deployment names");
                };
                for (name, d) in m {
                    patch.deployments.push(deployment(name, d)?);
                }
            }
            _ => return err(format!("unknown field \"{k}\"")),
        }
    }
    Ok(patch)
}

fn deployment(name: &str, v: &Value) -> Result<DeploymentPatch, PatchError> {
    let field = |f: &str| format!("deployments.{name}.{f}");
    let Value::Object(m) = v else {
        return err(format!("\"deployments.{name}\" must be an object"));
    };
    let m: &Map<String, Value> = m;
    let mut d = DeploymentPatch {
        name: name.to_string(),
        ..Default::default()
    };
    for (k, v) in m {
        match k.as_str() {
            "weight" => {
                d.weight = match v {
                    Value::Null => Setting::Clear,
                    Value::Number(n) => match n.as_u64() {
                        Some(w) if w <= 100 => Setting::Set(w as u8),
                        _ => return err(format!("{}: {n} is outside 0-100", field("weight"))),
                    },
                    _ => {
                        return err(format!(
                            "{}: must be a number 0-100 or null",
                            field("weight")
                        ))
                    }
                }
            }
            "enabled" => {
                d.enabled = match v {
                    Value::Null => Setting::Clear,
                    Value::Bool(b) => Setting::Set(*b),
                    _ => return err(format!("{}: must be true, false or null", field("enabled"))),
                }
            }
            "rollout" => {
                d.rollout = Some(match v.as_str() {
                    Some("pause") => Rollout::Pause,
                    Some("resume") => Rollout::Resume,
                    _ => {
                        return err(format!(
                            "{}: must be \"pause\" or \"resume\"",
                            field("rollout")
                        ))
                    }
                })
            }
            "reset" => match v {
                Value::Bool(true) => d.reset = true,
                _ => return err(format!("{}: must be true", field("reset"))),
            },
            _ => return err(format!("unknown field \"{}\"", field(k))),
        }
    }
    Ok(d)
}

/// A deployment of the app as a patch sees it: what the YAML says and the overrides in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steered<'a> {
    /// `base` for the base deployment (listed first).
    pub name: &'a str,
    pub version: &'a str,
    /// The YAML's weight (0 for base).
    pub weight: u8,
    /// Overrides in force; `apply` updates them.
    pub weight_override: Option<u8>,
    pub enabled_override: Option<bool>,
    /// The deployment has a rollout (SPEC §11).
    pub has_rollout: bool,
}

impl Steered<'_> {
    pub fn is_base(&self) -> bool {
        self.name == "base"
    }
    pub fn effective_enabled(&self) -> bool {
        self.is_base() || self.enabled_override.unwrap_or(true)
    }
    pub fn effective_weight(&self) -> u8 {
        if self.is_base() || !self.effective_enabled() {
            0
        } else {
            self.weight_override.unwrap_or(self.weight)
        }
    }
}

impl Patch {
    /// Checks the patch against the app's deployments (base first) and, when it is good,
    /// applies it to them and to `pin` (an index into `deps`). Nothing changes on an error.
    pub fn apply(&self, deps: &mut [Steered], pin: &mut Option<usize>) -> Result<(), PatchError> {
        let mut new: Vec<Steered> = deps.to_vec();
        let mut new_pin = *pin;
        match &self.pin {
            Setting::Keep => {}
            Setting::Clear => new_pin = None,
            Setting::Set(v) => match deps.iter().position(|d| d.version == v) {
                Some(i) => new_pin = Some(i),
                None => {
                    let known: Vec<&str> = deps.iter().map(|d| d.version).collect();
                    return err(format!(
                        "unknown version \"{v}\" (configured: {})",
                        known.join(", ")
                    ));
                }
            },
        }
        for p in &self.deployments {
            let Some(d) = new.iter_mut().find(|d| d.name == p.name) else {
                let known: Vec<&str> = deps.iter().map(|d| d.name).collect();
                return err(format!(
                    "unknown deployment \"{}\" (configured: {})",
                    p.name,
                    known.join(", ")
                ));
            };
            if d.is_base() && (p.weight != Setting::Keep || p.enabled != Setting::Keep) {
                return err(
                    "deployments.base: the base deployment takes whatever the gray ones leave: \
it has no weight or enabled to set",
                );
            }
            match p.weight {
                Setting::Keep => {}
                Setting::Clear => d.weight_override = None,
                Setting::Set(w) => d.weight_override = Some(w),
            }
            match p.enabled {
                Setting::Keep => {}
                Setting::Clear => d.enabled_override = None,
                Setting::Set(e) => d.enabled_override = Some(e),
            }
            if p.rollout.is_some() && !d.has_rollout {
                return err(format!(
                    "deployments.{}.rollout: the deployment has no rollout",
                    p.name
                ));
            }
        }
        let sum: u32 = new.iter().map(|d| u32::from(d.effective_weight())).sum();
        if sum > 100 {
            return err(format!(
                "weights of enabled gray deployments would sum to {sum}, over 100"
            ));
        }
        deps.clone_from_slice(&new);
        *pin = new_pin;
        Ok(())
    }
}
