//! Rewriting the request path to the versioned one (SPEC §5).

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

use crate::config::GrayConfig;
use crate::decide::Kind;
use crate::path::{clean_into, is_clean};
use crate::template::Template;

/// What [`rewrite_into`] did with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// No route matches: the path stays as it is.
    Kept,
    /// `out` holds the rewritten path.
    Rewritten,
    /// A route matches, but the joined path would leave the route's target directory
    /// (`/app1../x` under a key `/app1` without its slash): the request must not be served.
    Escapes,
}

/// Writes the rewritten path for `path` (cleaned) to `out`. `tmp` is scratch space.
///
/// HTML entries: the longest `indexRouting` prefix turns the whole path into its target.
/// Everything else: the longest `fileRouting` prefix is replaced by its target plus `/`, and
/// the result cleaned; a result outside the target directory (the target with `{version}`
/// filled in) is [`Rewrite::Escapes`], never a path.
pub fn rewrite_into<A: Allocator>(
    cfg: &GrayConfig,
    kind: Kind,
    path: &[u8],
    version: &str,
    tmp: &mut Vec<u8, A>,
    out: &mut Vec<u8, A>,
) -> Rewrite {
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
                Rewrite::Rewritten
            }
            None => Rewrite::Kept,
        };
    }
    let Some((route, (prefix, target))) = cfg
        .rewrite
        .file_routing
        .iter()
        .enumerate()
        .find(|(_, (k, _))| path.starts_with(k.as_bytes()))
    else {
        return Rewrite::Kept;
    };
    let rest = &path[prefix.len()..];
    // the target directory: `out[..dir]`, made at configuration time for its versions
    let known = cfg.rewrite.file_dirs.get(route).and_then(|dirs| {
        dirs.iter()
            .find(|(v, _)| v.as_str() == version)
            .map(|(_, dir)| dir.as_slice())
    });
    out.reserve(known.map_or_else(|| target.len(version), <[u8]>::len) + 1 + rest.len());
    match known {
        Some(dir) => crate::buf::put(out, dir),
        None => target_dir(target, version, tmp, out),
    }
    let dir = out.len();
    out.push(b'/');
    crate::buf::put(out, rest);
    // a clean directory, then `/` and `rest`: clean (and inside it) when `/` and `rest` are
    if dir > 1 && is_clean(&out[dir..]) {
        return Rewrite::Rewritten;
    }
    tmp.clear();
    crate::buf::put(tmp, out);
    clean_into(tmp, out);
    if inside(out, &tmp[..dir]) {
        Rewrite::Rewritten
    } else {
        out.clear();
        Rewrite::Escapes
    }
}

/// The directory `target` names for `version`, in `out`: the target rendered and cleaned,
/// without its trailing slash (`/` stays `/`). `tmp` is scratch space.
pub fn target_dir<A: Allocator>(
    target: &Template,
    version: &str,
    tmp: &mut Vec<u8, A>,
    out: &mut Vec<u8, A>,
) {
    out.clear();
    target.render_into(version, out);
    if !is_clean(out) {
        tmp.clear();
        crate::buf::put(tmp, out);
        clean_into(tmp, out);
    }
    if out.len() > 1 && out.ends_with(b"/") {
        out.pop();
    }
}

/// `path` is `dir` itself or lies below it (`dir` is cleaned, without a trailing slash).
pub fn inside(path: &[u8], dir: &[u8]) -> bool {
    dir == b"/" || (path.starts_with(dir) && (path.len() == dir.len() || path[dir.len()] == b'/'))
}

/// The part of `path` after a matched routing `prefix` starts with a `..` segment once it is
/// joined to a target with `/` — the one way a cleaned path climbs out of its target.
pub fn climbs(rest: &[u8]) -> bool {
    rest.starts_with(b"..") && (rest.len() == 2 || rest[2] == b'/')
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
        (rewrite_into(c, kind, p.as_bytes(), "v1.0.0", &mut t, &mut o) == Rewrite::Rewritten)
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

    #[test]
    fn a_key_without_its_slash_never_leaves_the_target() {
        let c = GrayConfig::from_yaml(
            "baseDeployment: {version: b}\nrewrite:\n  fileRouting:\n    /app1: /mfe/app1/{version}\n    /s/: /static/{version}/\n",
        )
        .unwrap();
        let run = |p: &str| {
            let (mut t, mut o) = (Vec::new(), Vec::new());
            let r = rewrite_into(&c, Kind::Asset, p.as_bytes(), "v2", &mut t, &mut o);
            (r, String::from_utf8(o.to_vec()).unwrap())
        };
        for p in [
            "/app1../secret.js",
            "/app1../3.0.0/js/a.js",
            "/app1..",
            "/app1../",
        ] {
            assert_eq!(run(p), (Rewrite::Escapes, String::new()), "{p}");
        }
        for (p, o) in [
            ("/app1/js/a.js", "/mfe/app1/v2/js/a.js"),
            ("/app1", "/mfe/app1/v2/"),
            ("/app1/", "/mfe/app1/v2/"),
            ("/app123/x.js", "/mfe/app1/v2/23/x.js"),
            ("/app1.../x", "/mfe/app1/v2/.../x"),
            ("/app1./x", "/mfe/app1/v2/x"),
            ("/s/a.css", "/static/v2/a.css"),
            ("/s/", "/static/v2/"),
        ] {
            assert_eq!(run(p), (Rewrite::Rewritten, o.to_owned()), "{p}");
        }
    }

    /// The ways taken for clean targets and paths, and for the directories of the
    /// configuration's versions, give what rendering and cleaning every join would.
    #[test]
    fn clean_joins_are_not_cleaned_again() {
        fn reference(
            target: &str,
            prefix: &str,
            path: &[u8],
            version: &str,
        ) -> (Rewrite, std::vec::Vec<u8>) {
            let (mut tmp, mut out) = (Vec::new(), Vec::new());
            tmp.extend_from_slice(target.replace("{version}", version).as_bytes());
            clean_into(&tmp, &mut out);
            let dir = if out.len() > 1 && out.ends_with(b"/") {
                out.len() - 1
            } else {
                out.len()
            };
            tmp.clear();
            tmp.extend_from_slice(&out[..dir]);
            tmp.push(b'/');
            tmp.extend_from_slice(&path[prefix.len()..]);
            clean_into(&tmp, &mut out);
            if inside(&out, &tmp[..dir]) {
                (Rewrite::Rewritten, out.to_vec())
            } else {
                (Rewrite::Escapes, std::vec::Vec::new())
            }
        }
        let targets = [
            "/mfe/{version}",
            "/mfe/{version}/",
            "/",
            "/{version}",
            "//x/./{version}",
            "/a/../{version}/",
            "/mfe/{version}/static",
        ];
        let versions = ["v1", "2.0.0", "..", ".", "a/b", ""];
        let segments = ["app1", "app1..", "..", ".", "", "a.js", "s", "..."];
        let mut r = crate::test_rng::Rng(0x2545_f491_4f6c_dd1d);
        for target in targets {
            for prefix in ["/", "/app1", "/app1/", "/s"] {
                let yaml = format!(
                    "baseDeployment: {{version: v1, versionPredicates: {{/s/: '2.0.0'}}}}\n\
                     rewrite:\n  fileRouting:\n    '{prefix}': '{target}'\n"
                );
                let c = GrayConfig::from_yaml(&yaml).unwrap();
                // "v1" and "2.0.0" by the directories made with the configuration
                assert_eq!(c.rewrite.file_dirs[0].len(), 2);
                for version in versions {
                    for _ in 0..300 {
                        let mut raw = String::new();
                        for _ in 0..r.below(5) {
                            raw.push('/');
                            raw.push_str(segments[r.below(segments.len())]);
                        }
                        let mut path = Vec::new();
                        clean_into(raw.as_bytes(), &mut path);
                        if !path.starts_with(prefix.as_bytes()) {
                            continue;
                        }
                        let (mut t, mut o) = (Vec::new(), Vec::new());
                        let got = rewrite_into(&c, Kind::Asset, &path, version, &mut t, &mut o);
                        assert_eq!(
                            (got, o.to_vec()),
                            reference(target, prefix, &path, version),
                            "{target} {prefix} {version} {:?}",
                            String::from_utf8_lossy(&path)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn inside_and_climbs() {
        assert!(inside(b"/a/b", b"/a"));
        assert!(inside(b"/a", b"/a"));
        assert!(!inside(b"/ab", b"/a"));
        assert!(!inside(b"/", b"/a"));
        assert!(inside(b"/x", b"/"));
        assert!(climbs(b".."));
        assert!(climbs(b"../x"));
        assert!(!climbs(b"...x"));
        assert!(!climbs(b".x"));
        assert!(!climbs(b"x/.."));
    }

    /// SPEC §5: `versionPredicates` keys without their slash do not reach past `..` either.
    #[test]
    fn predicates_do_not_match_past_dot_dot() {
        struct NoHeaders;
        impl crate::decide::RequestHeaders for NoHeaders {
            fn header(&self, _: &str) -> Option<&[u8]> {
                None
            }
            fn cookie(&self, _: &str) -> Option<&[u8]> {
                None
            }
        }
        let c = GrayConfig::from_yaml(
            "baseDeployment:\n  version: b\n  versionPredicates: {/app1: a1}\nrewrite:\n  fileRouting:\n    /: /mfe/{version}\n",
        )
        .unwrap();
        let v = |p: &str| {
            let mut s = Vec::new();
            crate::decide::decide(&c, p.as_bytes(), &NoHeaders, &mut s)
                .unwrap()
                .version
                .to_owned()
        };
        assert_eq!(v("/app1/x.js"), "a1");
        assert_eq!(v("/app123.js"), "a1");
        assert_eq!(v("/app1../x.js"), "b");
        assert_eq!(v("/app1.."), "b");
        assert_eq!(v("/other.js"), "b");
    }
}
