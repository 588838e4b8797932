//! Cookies: finding one in the request's `Cookie` headers (untrusted bytes, no allocation) and
//! the `Set-Cookie` values the module sends, pre-formatted at configuration time.

/// RFC 6265 cookie-octet: printable ASCII except space, `"`, `,`, `;` and `\`.
pub fn is_cookie_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// The value of the first cookie called `name` in one `Cookie` header value.
///
/// Pairs are split on `;`, surrounding blanks are trimmed and a value in double quotes is
/// unquoted. Malformed pairs (no `=`) are skipped. Any bytes are accepted; nothing is decoded.
pub fn find_cookie<'a>(header: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    // A pair is the name's when, trimmed, it begins with the name and then blanks and `=`
    // follow: each pair is found by `memchr` and only its first bytes are looked at, whatever
    // its length (a browser's `Cookie` can be kilobytes long). A pair's name is what precedes
    // its first `=`, trimmed, so a name with `=` or a blank at its end is none (one with `;`
    // or a blank at its start begins no trimmed pair).
    let mut rest = header;
    loop {
        let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
        let pair = trim(&rest[..end]);
        if let Some(after) = pair.strip_prefix(name) {
            if let Some(value) = trim_start(after).strip_prefix(b"=") {
                if name.contains(&b'=') || name.last().copied().is_some_and(blank) {
                    return None; // the name of no pair
                }
                return Some(match trim(value) {
                    [b'"', inner @ .., b'"'] => inner,
                    v => v,
                });
            }
        }
        rest = rest.get(end + 1..)?;
    }
}

fn blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t')
}

fn trim_start(s: &[u8]) -> &[u8] {
    &s[s.iter().position(|&b| !blank(b)).unwrap_or(s.len())..]
}

fn trim(s: &[u8]) -> &[u8] {
    let s = trim_start(s);
    &s[..s.iter().rposition(|&b| !blank(b)).map_or(0, |e| e + 1)]
}

/// The attributes every cookie of the module carries.
#[derive(Debug, Clone, Default)]
pub struct CookieAttrs {
    pub max_age: i64,
    pub domain: Option<String>,
    pub secure: bool,
    /// `cookiePath`; `/` when empty.
    pub path: String,
}

impl CookieAttrs {
    fn suffix(&self, max_age: i64) -> String {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        let mut s = format!("; Max-Age={max_age}; Path={path}; HttpOnly");
        if self.secure {
            s.push_str("; Secure");
        }
        if let Some(d) = &self.domain {
            s.push_str("; Domain=");
            s.push_str(d);
        }
        s
    }

    /// `name=value; Max-Age=N; Path=/; HttpOnly[; Secure][; Domain=D]`. The caller has
    /// checked that `name` is a token and `value` is made of cookie-octets.
    pub fn format(&self, name: &str, value: &str) -> String {
        format!("{name}={value}{}", self.suffix(self.max_age))
    }

    /// The same cookie, empty and expired: the browser drops it.
    pub fn format_clear(&self, name: &str) -> String {
        format!("{name}={}", self.suffix(0))
    }
}

/// The cookie scopes `a` and `b` (cookie paths) share requests: one path-matches the other
/// (RFC 6265 §5.1.4).
pub fn paths_overlap(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.starts_with(short)
        && (long.len() == short.len()
            || short.ends_with('/')
            || long.as_bytes()[short.len()] == b'/')
}

/// The uid cookie: the only cookie whose value is known per request only.
#[derive(Debug, Clone, Default)]
pub struct UidCookie {
    /// `x-higress-uid=`
    pub prefix: String,
    /// `; Max-Age=…; Path=/; HttpOnly…`
    pub suffix: String,
}

impl UidCookie {
    pub fn new(name: &str, attrs: &CookieAttrs) -> Self {
        UidCookie {
            prefix: format!("{name}="),
            suffix: attrs.suffix(attrs.max_age),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookies() {
        let h = b"a=1; userid=00000002 ;  level=\"level3\"; bad; =x; userid=other";
        assert_eq!(find_cookie(h, b"userid"), Some(&b"00000002"[..]));
        assert_eq!(find_cookie(h, b"level"), Some(&b"level3"[..]));
        assert_eq!(find_cookie(h, b"a"), Some(&b"1"[..]));
        assert_eq!(find_cookie(h, b"bad"), None);
        assert_eq!(find_cookie(h, b"user"), None);
        assert_eq!(find_cookie(b"", b"a"), None);
        assert_eq!(find_cookie(b";;;==;", b""), Some(&b"="[..]));
        assert_eq!(find_cookie(b"x=\xff\xfe", b"x"), Some(&b"\xff\xfe"[..]));
        assert_eq!(find_cookie(b"x=\"", b"x"), Some(&b"\""[..]));
    }

    /// The pairs as the one pass finds them are those of splitting on `;` and trimming.
    #[test]
    fn one_pass_is_split_and_trim() {
        fn reference<'a>(header: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
            for pair in header.split(|&b| b == b';') {
                let pair = trim(pair);
                let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                    continue;
                };
                if trim(&pair[..eq]) != name {
                    continue;
                }
                return Some(match trim(&pair[eq + 1..]) {
                    [b'"', inner @ .., b'"'] => inner,
                    v => v,
                });
            }
            None
        }
        let bytes = b"ab=; \t\"";
        let mut r = crate::test_rng::Rng(0x1234_5678_9abc_def1);
        for _ in 0..200_000 {
            let h: std::vec::Vec<u8> = (0..r.below(14))
                .map(|_| bytes[r.below(bytes.len())])
                .collect();
            for name in [
                &b"a"[..],
                b"ab",
                b"",
                b"b a",
                b" a",
                b"a ",
                b"a=",
                b"=",
                b";a",
                b"\t",
            ] {
                assert_eq!(
                    find_cookie(&h, name),
                    reference(&h, name),
                    "{:?}",
                    String::from_utf8_lossy(&h)
                );
            }
        }
    }

    #[test]
    fn formats() {
        let a = CookieAttrs {
            max_age: 100,
            domain: None,
            secure: true,
            path: String::new(),
        };
        assert_eq!(
            a.format("x-higress-tag", "gray"),
            "x-higress-tag=gray; Max-Age=100; Path=/; HttpOnly; Secure"
        );
        let b = CookieAttrs {
            max_age: 5,
            domain: Some(".example.com".into()),
            secure: false,
            path: "/app1/".into(),
        };
        assert_eq!(
            b.format("t", "v"),
            "t=v; Max-Age=5; Path=/app1/; HttpOnly; Domain=.example.com"
        );
        assert_eq!(
            b.format_clear("x-mse-tag"),
            "x-mse-tag=; Max-Age=0; Path=/app1/; HttpOnly; Domain=.example.com"
        );
        let u = UidCookie::new("x-higress-uid", &a);
        assert_eq!(u.prefix, "x-higress-uid=");
        assert_eq!(u.suffix, "; Max-Age=100; Path=/; HttpOnly; Secure");
    }

    /// Two cookie scopes overlap when one path is a path-prefix of the other (RFC 6265
    /// path-match): `/` and `/a1/`, `/a1` and `/a1/x`; not `/a1/` and `/a2/`, nor `/a1` and `/a10`.
    #[test]
    fn path_overlap() {
        for (a, b) in [
            ("/", "/a1/"),
            ("/a1/", "/a1/"),
            ("/a1", "/a1/x"),
            ("/a1/", "/a1/x/"),
        ] {
            assert!(paths_overlap(a, b) && paths_overlap(b, a), "{a} {b}");
        }
        for (a, b) in [("/a1/", "/a2/"), ("/a1", "/a10"), ("/a1/x", "/a1/y")] {
            assert!(!paths_overlap(a, b) && !paths_overlap(b, a), "{a} {b}");
        }
    }
}
