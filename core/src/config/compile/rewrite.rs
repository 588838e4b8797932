//! `rewrite`: host, `indexRouting` / `fileRouting` (longest prefix first), `notFoundUri`.

use std::collections::BTreeMap;

use super::{text, value_err};
use crate::config::raw::{RawRewrite, Text};
use crate::config::{ConfigError, Rewrite};
use crate::template::Template;

pub(super) fn compile(rw: RawRewrite) -> Result<Rewrite, ConfigError> {
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

    Ok(rewrite)
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
