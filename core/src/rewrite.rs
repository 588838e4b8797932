//! Rewriting the request path to the versioned one (SPEC §5).

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

use crate::config::GrayConfig;
use crate::decide::Kind;
use crate::path::clean_into;

/// Writes the rewritten path for `path` (cleaned) to `out`; `false` when no route matches and
/// the path stays as it is. `tmp` is scratch space.
///
/// HTML entries: the longest `indexRouting` prefix turns the whole path into its target.
/// Everything else: the longest `fileRouting` prefix is replaced by its target plus `/`, and
/// the result cleaned.
pub fn rewrite_into<A: Allocator>(
    cfg: &GrayConfig,
    kind: Kind,
    path: &[u8],
    version: &str,
    tmp: &mut Vec<u8, A>,
    out: &mut Vec<u8, A>,
) -> bool {
    out.clear();
    if kind == Kind::Html {
        return match cfg
            .rewrite
            .index_routing
            .iter()
            .find(|(k, _)| path.starts_with(k.as_bytes()))
        {
            Some((_, target)) => {
                target.render_into(version, out);
                true
            }
            None => false,
        };
    }
    match cfg
        .rewrite
        .file_routing
        .iter()
        .find(|(k, _)| path.starts_with(k.as_bytes()))
    {
        Some((prefix, target)) => {
            tmp.clear();
            target.render_into(version, tmp);
            tmp.push(b'/');
            tmp.extend_from_slice(&path[prefix.len()..]);
            clean_into(tmp, out);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> GrayConfig {
        GrayConfig::from_yaml(
            r#"
rewrite:
  indexRouting:
    /app1: '/mfe/app1/{version}/index.html'
    /: '/mfe/app1/{version}/index.html'
    /app1/sub: '/mfe/sub/{version}/index.html'
  fileRouting:
    /: '/mfe/app1/{version}'
    /app1/: '/mfe/app1/{version}'
baseDeployment:
  version: base
"#,
        )
        .unwrap()
    }

    fn rw(c: &GrayConfig, kind: Kind, p: &str) -> Option<String> {
        let (mut t, mut o) = (Vec::new(), Vec::new());
        rewrite_into(c, kind, p.as_bytes(), "v1.0.0", &mut t, &mut o)
            .then(|| String::from_utf8(o.to_vec()).unwrap())
    }

    #[test]
    fn index_routing() {
        let c = cfg();
        for p in [
            "/app1",
            "/app123",
            "/app1/index.html",
            "/app1/x/y",
            "/app1/",
        ] {
            assert_eq!(
                rw(&c, Kind::Html, p).as_deref(),
                Some("/mfe/app1/v1.0.0/index.html"),
                "{p}"
            );
        }
        assert_eq!(
            rw(&c, Kind::Html, "/").as_deref(),
            Some("/mfe/app1/v1.0.0/index.html")
        );
        assert_eq!(
            rw(&c, Kind::Html, "/app1/sub/x").as_deref(),
            Some("/mfe/sub/v1.0.0/index.html")
        );
    }

    #[test]
    fn file_routing() {
        let c = cfg();
        for (p, o) in [
            ("/js/a.js", "/mfe/app1/v1.0.0/js/a.js"),
            ("/js/template/a.js", "/mfe/app1/v1.0.0/js/template/a.js"),
            ("/app1/js/a.js", "/mfe/app1/v1.0.0/js/a.js"),
            (
                "/app1/js/template/a.js",
                "/mfe/app1/v1.0.0/js/template/a.js",
            ),
            ("/manifest.json", "/mfe/app1/v1.0.0/manifest.json"),
        ] {
            assert_eq!(rw(&c, Kind::Asset, p).as_deref(), Some(o), "{p}");
            assert_eq!(rw(&c, Kind::Index, p).as_deref(), Some(o), "{p}");
        }
    }

    #[test]
    fn no_route_no_rewrite() {
        let c = GrayConfig::from_yaml(
            "baseDeployment: {version: b}\nrewrite:\n  fileRouting:\n    /static/: /s/{version}\n",
        )
        .unwrap();
        assert_eq!(rw(&c, Kind::Asset, "/other/a.js"), None);
        assert_eq!(rw(&c, Kind::Html, "/"), None);
        assert_eq!(
            rw(&c, Kind::Asset, "/static/a.js").as_deref(),
            Some("/s/v1.0.0/a.js")
        );
    }
}
