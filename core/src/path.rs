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
/// Eight bytes at a time, for the case of nearly every request: no `/` followed by `/` or `.`
/// at all; where there is one, byte by byte.
pub fn is_clean(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') {
        return false;
    }
    // the bytes equal to `c` of a word, exactly (their top bits), with no carry between them
    const LOW7: u64 = u64::from_ne_bytes([0x7f; 8]);
    let eq = |w: u64, c: u8| {
        let t = w ^ u64::from_ne_bytes([c; 8]);
        !(((t & LOW7).wrapping_add(LOW7)) | t) & !LOW7
    };
    let mut k = 0;
    // each word, and the word one byte on: the byte after each of its bytes
    while let Some(b) = path.get(k..k + 9) {
        let (Some(w), Some(next)) = (b.first_chunk::<8>(), b[1..].first_chunk::<8>()) else {
            break;
        };
        let (w, next) = (u64::from_ne_bytes(*w), u64::from_ne_bytes(*next));
        if eq(w, b'/') & (eq(next, b'/') | eq(next, b'.')) != 0 {
            return clean_from(path, 0);
        }
        k += 8;
    }
    clean_from(path, k)
}

/// No `/` at offset `from` or after it is followed by `/`, `.` or `..` and then `/` or the end.
fn clean_from(path: &[u8], from: usize) -> bool {
    let mut rest = &path[from..];
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
    // from the end, byte by byte: a last segment is short
    let dot = path.iter().rposition(|&b| b == b'.' || b == b'/')?;
    (path[dot] == b'.').then(|| &path[dot + 1..])
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

    /// Every path of up to 12 bytes of `/`, `.` and `a` (words and what is left after them),
    /// and longer random ones: clean exactly when cleaning keeps it, as the definition by
    /// substrings says.
    #[test]
    fn clean_is_what_cleaning_keeps() {
        let mut r = crate::test_rng::Rng(0x5851_f42d_4c95_7f2d);
        for _ in 0..100_000 {
            let p: String = (0..r.below(40))
                .map(|_| ['/', '.', 'a', 'b'][r.below(4)])
                .collect();
            check(&format!("/{p}"));
        }
        for len in 0..=12u32 {
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
        assert_eq!(extension(b"/a/b."), Some(&b""[..]));
        assert_eq!(extension(b"a.b"), Some(&b"b"[..]));
        assert_eq!(extension(b"ab"), None);
        assert_eq!(extension(b"/.a/"), None);
        assert_eq!(extension(b""), None);
    }
}
