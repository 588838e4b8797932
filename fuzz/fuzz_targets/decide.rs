//! The decision and the rewrite on arbitrary path / cookie / header bytes against a fixed
//! configuration: never panics, chooses a configured version, the uid is valid, and the
//! rewritten path is clean and inside its route's versioned directory — also for routing and
//! `versionPredicates` keys without their trailing slash (`/app2`, `/app3`), where
//! `/app2../x` must not climb out (SPEC §5).
#![no_main]
use std::sync::LazyLock;

use allocator_api2::vec::Vec;
use frontend_gray_core::cookies::find_cookie;
use frontend_gray_core::decide::{decide, Kind, RequestHeaders};
use frontend_gray_core::path::{clean_into, is_clean};
use frontend_gray_core::rewrite::{inside, rewrite_into, Rewrite};
use frontend_gray_core::{uid, GrayConfig};
use libfuzzer_sys::fuzz_target;

static CFG: LazyLock<GrayConfig> = LazyLock::new(|| {
    GrayConfig::from_yaml(
        r#"
grayKey: appInfo
graySubKey: userId
uniqueGrayTag: x-uid
rules:
- {name: beta, grayKeyValue: [u1, '00000002'], grayTagKey: level, grayTagValue: [l3]}
- {name: other, grayKeyValue: [u2]}
baseDeployment: {version: base, versionPredicates: {/app1/: app1-base, /app3: app3-base}}
grayDeployments:
- {name: beta, version: gray, enabled: true}
- {name: other, version: other, enabled: true}
indexPaths: ['/**/manifest.json']
skippedPaths: ['/api/**']
skippedByHeaders: {x-skip: '1'}
rewrite:
  indexRouting: {/app1: '/mfe/app1/{version}/index.html', /: '/mfe/{version}/index.html'}
  fileRouting: {/app1/: '/mfe/app1/{version}', /app2: '/mfe/app2/{version}', /: '/mfe/{version}'}
"#,
    )
    .expect("fuzz configuration")
});

struct Req<'a> {
    cookie: &'a [u8],
    headers: [(&'static str, &'a [u8]); 3],
}

impl RequestHeaders for Req<'_> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
    fn cookie(&self, name: &str) -> Option<&[u8]> {
        find_cookie(self.cookie, name.as_bytes())
    }
}

fuzz_target!(|data: &[u8]| {
    // path \0 cookie \0 appInfo header \0 x-uid header \0 x-skip header
    let mut parts = data.split(|&b| b == 0);
    let raw_path = parts.next().unwrap_or_default();
    let req = Req {
        cookie: parts.next().unwrap_or_default(),
        headers: [
            ("appinfo", parts.next().unwrap_or_default()),
            ("x-uid", parts.next().unwrap_or_default()),
            ("x-skip", parts.next().unwrap_or_default()),
        ],
    };
    let mut path = Vec::new();
    clean_into(raw_path, &mut path);
    assert!(is_clean(&path));
    let cfg = &*CFG;
    let mut scratch = Vec::new();
    let Some(d) = decide(cfg, &path, &req, &mut scratch) else {
        return;
    };
    assert!(
        ["base", "gray", "other", "app1-base", "app3-base"].contains(&d.version),
        "{}",
        d.version
    );
    if d.version == "app3-base" {
        // the predicate matched: the path is /app3 itself or goes on without a `..` segment
        let rest = &path[5..];
        assert!(!(rest.starts_with(b"..") && (rest.len() == 2 || rest[2] == b'/')));
    }
    if let Some(u) = d.uid {
        assert!(uid::is_valid(u.as_bytes()));
    }
    let (mut tmp, mut out) = (Vec::new(), Vec::new());
    let show = |o: &[u8]| String::from_utf8_lossy(o).into_owned();
    match rewrite_into(cfg, d.kind, &path, d.version, &mut tmp, &mut out) {
        Rewrite::Rewritten if d.kind == Kind::Html => {
            let v = d.version;
            assert!(
                out == format!("/mfe/app1/{v}/index.html").as_bytes()
                    || out == format!("/mfe/{v}/index.html").as_bytes(),
                "{}",
                show(&out)
            );
        }
        Rewrite::Rewritten => {
            assert!(is_clean(&out), "{}", show(&out));
            let dir = if path.starts_with(b"/app1/") {
                format!("/mfe/app1/{}", d.version)
            } else if path.starts_with(b"/app2") {
                format!("/mfe/app2/{}", d.version)
            } else {
                format!("/mfe/{}", d.version)
            };
            assert!(
                inside(&out, dir.as_bytes()),
                "{} -> {} not inside {dir}",
                show(&path),
                show(&out)
            );
        }
        Rewrite::Escapes => {
            assert!(d.kind != Kind::Html);
            assert!(path.starts_with(b"/app2..") , "{}", show(&path));
        }
        Rewrite::Kept => assert!(out.is_empty()),
    }
});
