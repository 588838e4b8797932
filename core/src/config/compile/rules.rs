//! `rules[]`: the user-id allow-list, the tag cookie and the `match` conditions of each rule.

use super::{text, value_err};
use crate::conditions::{self, CompileCtx};
use crate::config::raw::{RawConfig, Text};
use crate::config::{ConfigError, Rule};

pub(super) fn compile(raw: &RawConfig, cx: &mut CompileCtx) -> Result<Vec<Rule>, ConfigError> {
    let mut rules = Vec::new();
    for (i, r) in raw.rules.iter().flatten().enumerate() {
        let name =
            text(&r.name).ok_or_else(|| value_err(format!("rules[{i}].name"), "is required"))?;
        let set =
            |v: &Option<Vec<Text>>| v.iter().flatten().map(|t| t.0.as_bytes().into()).collect();
        let conds = match &r.conditions {
            Some(c) => conditions::compile(&format!("rules[{i}].match"), c, cx)?,
            None => Vec::new(),
        };
        rules.push(Rule {
            reason: format!("rule:{name}"),
            name,
            conditions: conds,
            gray_key_values: set(&r.gray_key_value),
            gray_tag_key: text(&r.gray_tag_key),
            gray_tag_values: set(&r.gray_tag_value),
        });
    }
    Ok(rules)
}
