//! Path globs of `indexPaths` / `skippedPaths` (SPEC §4.7), compiled once into a [`GlobSet`].
//!
//! `*` and `?` stay inside one segment, `**` spans any number of segments including none, and
//! `/api/**` also matches `/api` itself. Legacy `*PathPrefixes` are plain byte prefixes.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

#[derive(Debug, Default)]
pub struct PathMatcher {
    globs: Option<GlobSet>,
    prefixes: Vec<Box<[u8]>>,
}

impl PathMatcher {
    /// Compiles `globs` (errors name the offending pattern) and `prefixes`.
    pub fn new(globs: &[String], prefixes: &[String]) -> Result<Self, (usize, String)> {
        let set = if globs.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for (i, g) in globs.iter().enumerate() {
                let mut add = |pat: &str| -> Result<(), (usize, String)> {
                    let glob = GlobBuilder::new(pat)
                        .literal_separator(true)
                        .backslash_escape(true)
                        .build()
                        .map_err(|e| (i, e.kind().to_string()))?;
                    b.add(glob);
                    Ok(())
                };
                add(g)?;
                if let Some(dir) = g.strip_suffix("/**") {
                    // `/api/**` matches `/api` too; `/**` matches `/`.
                    add(if dir.is_empty() { "/" } else { dir })?;
                }
            }
            Some(b.build().map_err(|e| (0, e.to_string()))?)
        };
        Ok(Self {
            globs: set,
            prefixes: prefixes.iter().map(|p| p.as_bytes().into()).collect(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.globs.is_none() && self.prefixes.is_empty()
    }

    /// Does the (cleaned) request path match?
    pub fn matches(&self, path: &[u8]) -> bool {
        if self.prefixes.iter().any(|p| path.starts_with(p)) {
            return true;
        }
        match &self.globs {
            Some(set) => set.is_match(OsStr::from_bytes(path)),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(globs: &[&str]) -> PathMatcher {
        let g: Vec<String> = globs.iter().map(|s| s.to_string()).collect();
        PathMatcher::new(&g, &[]).unwrap()
    }

    #[test]
    fn star_stays_in_segment() {
        let p = m(&["/app1/*.json"]);
        assert!(p.matches(b"/app1/manifest.json"));
        assert!(!p.matches(b"/app1/x/manifest.json"));
        let q = m(&["/a/?.js"]);
        assert!(q.matches(b"/a/b.js"));
        assert!(!q.matches(b"/a//.js"));
        assert!(!q.matches(b"/a/bc.js"));
    }

    #[test]
    fn double_star_spans_segments_including_none() {
        let p = m(&["/app1/**/manifest.json"]);
        assert!(p.matches(b"/app1/manifest.json"));
        assert!(p.matches(b"/app1/a/manifest.json"));
        assert!(p.matches(b"/app1/a/b/c/manifest.json"));
        assert!(!p.matches(b"/app2/manifest.json"));
        let r = m(&["/resource/**/manifest-main.json"]);
        assert!(r.matches(b"/resource/v1/manifest-main.json"));
    }

    #[test]
    fn trailing_double_star_matches_dir_itself() {
        let p = m(&["/api/**"]);
        assert!(p.matches(b"/api"));
        assert!(p.matches(b"/api/"));
        assert!(p.matches(b"/api/v1/users"));
        assert!(!p.matches(b"/apix"));
        assert!(!p.matches(b"/"));
        assert!(m(&["/**"]).matches(b"/"));
    }

    #[test]
    fn prefixes_and_errors() {
        let p = PathMatcher::new(&[], &["/api".to_string()]).unwrap();
        assert!(p.matches(b"/api/x"));
        assert!(p.matches(b"/apix"));
        assert!(!p.matches(b"/ap"));
        let err = PathMatcher::new(&["/ok".into(), "/a/[".into()], &[]).unwrap_err();
        assert_eq!(err.0, 1);
        assert!(PathMatcher::default().is_empty());
        assert!(!PathMatcher::default().matches(b"/"));
    }
}
