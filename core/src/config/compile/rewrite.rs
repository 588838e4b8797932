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
        file_dirs: Vec::new(), // once the versions are known: `file_dirs`
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

/// [`Rewrite::file_dirs`] for the deployments `all`.
pub(super) fn file_dirs<'a>(
    routes: &[(String, Template)],
    all: impl Iterator<Item = &'a crate::config::Deployment> + Clone,
) -> Vec<Vec<(String, Vec<u8>)>> {
    let versions = || {
        all.clone().flat_map(|d| {
            std::iter::once(d.version.as_str()).chain(d.predicates.iter().map(|(_, v)| v.as_str()))
        })
    };
    routes
        .iter()
        .map(|(_, target)| {
            let mut dirs: Vec<(String, Vec<u8>)> = Vec::new();
            for v in versions() {
                if !dirs.iter().any(|(w, _)| w == v) {
                    let (mut tmp, mut dir) = Default::default();
                    crate::rewrite::target_dir(target, v, &mut tmp, &mut dir);
                    dirs.push((v.to_owned(), dir.to_vec()));
                }
            }
            dirs
        })
        .collect()
}
