//! Request-path normalisation (SPEC §4.1): `.`, `..` and `//` resolved, trailing slash kept.

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

/// Appends the cleaned form of `path` to `out` (which should be empty).
///
/// The result always starts with `/`. `..` never climbs above the root, so a cleaned path
/// cannot escape the directory it is later joined to. A trailing `/` (or a trailing `/.` /
/// `/..`, which name a directory) is kept.
pub fn clean_into<A: Allocator>(path: &[u8], out: &mut Vec<u8, A>) {
    out.clear();
    out.push(b'/');
    let mut dir_end = false;
    for seg in path.split(|&b| b == b'/') {
        match seg {
            b"" => {
                dir_end = true;
                continue;
            }
            b"." => dir_end = true,
            b".." => {
                // drop the last segment (out is "/" or "/a/b/")
                if out.len() > 1 {
                    out.pop(); // trailing '/'
                    while let Some(&c) = out.last() {
                        if c == b'/' {
                            break;
                        }
                        out.pop();
                    }
                }
                dir_end = true;
            }
            s => {
                crate::buf::put(out, s);
                out.push(b'/');
                dir_end = false;
            }
        }
    }
    if !dir_end && out.len() > 1 {
        out.pop();
    }
}

/// `true` when `path` is already in cleaned form, so cleaning can be skipped.
/// In one pass (a request's path is short): after each `/` no `/`, and no `.` or `..` segment.
pub fn is_clean(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') {
        return false;
    }
    // byte by byte: `memchr` costs more than it saves on a few dozen bytes
    let mut rest = path;
    while let Some(k) = rest.iter().position(|&b| b == b'/') {
        rest = &rest[k + 1..];
        if matches!(
            rest,
            [b'/', ..] | [b'.'] | [b'.', b'/', ..] | [b'.', b'.'] | [b'.', b'.', b'/', ..]
        ) {
            return false;
        }
    }
    true
}

/// The extension of the last path segment, without the dot (`None` when there is none).
pub fn extension(path: &[u8]) -> Option<&[u8]> {
    let last = match memchr::memrchr(b'/', path) {
        Some(i) => &path[i + 1..],
        None => path,
    };
    let dot = memchr::memrchr(b'.', last)?;
    Some(&last[dot + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(p: &str) -> String {
        let mut v = Vec::new();
        clean_into(p.as_bytes(), &mut v);
        String::from_utf8(v.to_vec()).unwrap()
    }

    #[test]
    fn cleans() {
        for (i, o) in [
            ("/", "/"),
            ("", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("//a//b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/app1/", "/app1/"),
            ("/mfe/app1/v1//js/a.js", "/mfe/app1/v1/js/a.js"),
            ("a/b", "/a/b"),
        ] {
            assert_eq!(clean(i), o, "input {i}");
        }
    }

    #[test]
    fn clean_check() {
        for p in ["/", "/a", "/a/b/", "/a.b/c"] {
            assert!(is_clean(p.as_bytes()), "{p}");
        }
        for p in ["", "a", "//a", "/a//b", "/a/./b", "/a/..", "/./"] {
            assert!(!is_clean(p.as_bytes()), "{p}");
        }
    }

    /// Every path of up to 9 bytes of `/`, `.` and `a`: clean exactly when cleaning keeps it,
    /// as the definition by substrings says.
    #[test]
    fn clean_is_what_cleaning_keeps() {
        for len in 0..=9u32 {
            for mut n in 0..3usize.pow(len) {
                let mut p = String::new();
                for _ in 0..len {
                    p.push(['/', '.', 'a'][n % 3]);
                    n /= 3;
                }
                check(&p);
            }
        }
        fn check(p: &str) {
            let by_substrings = p.starts_with('/')
                && !p.contains("//")
                && !p.contains("/./")
                && !p.contains("/../")
                && !p.ends_with("/.")
                && !p.ends_with("/..");
            assert_eq!(is_clean(p.as_bytes()), by_substrings, "{p}");
            assert_eq!(is_clean(p.as_bytes()), clean(p) == p, "{p}");
        }
    }

    #[test]
    fn extensions() {
        assert_eq!(extension(b"/a/b.js"), Some(&b"js"[..]));
        assert_eq!(extension(b"/a.d/b"), None);
        assert_eq!(extension(b"/"), None);
        assert_eq!(extension(b"/x.tar.gz"), Some(&b"gz"[..]));
    }
}
