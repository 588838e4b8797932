//! `rules[]`: the user-id allow-list and the tag cookie of each rule.

use super::{text, value_err};
use crate::config::raw::{RawConfig, Text};
use crate::config::{ConfigError, Rule};

pub(super) fn compile(raw: &RawConfig) -> Result<Vec<Rule>, ConfigError> {
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

    Ok(rules)
}
