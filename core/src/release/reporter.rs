//! The JS error reporter of SPEC §11: the script an entry page gets first in `<head>`, and
//! the query of the reports it sends.
//!
//! The script reports uncaught errors and unhandled rejections, at most
//! [`MAX_REPORTS`] a page view, by
//! `navigator.sendBeacon(BEACON + "?t=" + TOKEN + "&n=" + SEQ, text)` (text: for an error
//! `message filename:line:col`, for a rejection the reason as a string; at most 1000
//! characters). It only adds two listeners on `window`, not capturing, and reports only
//! `ErrorEvent`s: failed resource loads (a plain `Event` on the element, which does not
//! bubble) are not reported, nginx counts asset 404s itself. It sets no global (all in one
//! function expression), replaces no handler (`window.onerror` of the page still runs) and
//! cancels nothing, so a page without errors sees no difference. Without
//! `navigator.sendBeacon` it does nothing.
//!
//! Size: [`SCRIPT_LEN`] = 350 bytes including `<script>` and `</script>`, plus the beacon
//! path and the token (43): 405 bytes for `/gray/beacon`.
//!
//! Open: a page with a `script-src` Content-Security-Policy without `'unsafe-inline'`
//! blocks the script (no `nonce` attribute is set, nor a hash published).
//!
//! The readable script (`U` is `BEACON?t=TOKEN&n=`):
//!
//! ```js
//! (function () {
//!   var n = 0, u = "U";
//!   function r(m) {
//!     if (n < 5 && navigator.sendBeacon)
//!       try { navigator.sendBeacon(u + (n + 1), String(m).slice(0, 1000)); n++ } catch (x) {}
//!   }
//!   addEventListener("error", function (e) {
//!     if (e instanceof ErrorEvent) r(e.message + " " + e.filename + ":" + e.lineno + ":" + e.colno)
//!   });
//!   addEventListener("unhandledrejection", function (e) { r(e.reason) })
//! })()
//! ```

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

use super::token::{MAX_REPORTS, TOKEN_LEN};

const HEAD: &str = "<script>(function(){var n=0,u=\"";
const MID: &str = "?t=";
const TAIL: &str = "&n=\";function r(m){if(n<5&&navigator.sendBeacon)try{navigator.sendBeacon(u+(n+1),String(m).slice(0,1000));n++}catch(x){}}\
addEventListener(\"error\",function(e){if(e instanceof ErrorEvent)r(e.message+\" \"+e.filename+\":\"+e.lineno+\":\"+e.colno)});\
addEventListener(\"unhandledrejection\",function(e){r(e.reason)})})()</script>";

/// The script's own bytes, tags included, without the beacon path and the token.
pub const SCRIPT_LEN: usize = HEAD.len() + MID.len() + TAIL.len();
const _: () = assert!(SCRIPT_LEN == 350);

fn path_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"/_.~-".contains(&b)
}

fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether `beacon` is a path of this server in the characters the configuration allows
/// (`/` first, not `//`, then `[A-Za-z0-9/_.~-]`) and `token` is [`TOKEN_LEN`] base64url
/// characters: nothing in them can leave the script's string literal.
fn safe(beacon: &str, token: &str) -> bool {
    beacon.starts_with('/')
        && !beacon.starts_with("//")
        && beacon.bytes().all(path_safe)
        && token.len() == TOKEN_LEN
        && token.bytes().all(token_char)
}

/// Appends the reporter `<script>` for `beacon` (a path) and `token` to `out`; nothing when
/// either holds a byte that does not belong there (so nothing can break out of the string).
/// The configuration and [`issue`](super::token::issue) never give such: a debug build
/// asserts it.
pub fn reporter_script<A: Allocator>(out: &mut Vec<u8, A>, beacon: &str, token: &str) {
    let ok = safe(beacon, token);
    debug_assert!(
        ok,
        "reporter_script: unsafe beacon {beacon:?} or token {token:?}"
    );
    if !ok {
        return;
    }
    out.reserve(SCRIPT_LEN + beacon.len() + token.len());
    for part in [HEAD, beacon, MID, token, TAIL] {
        crate::buf::put(out, part.as_bytes());
    }
}

/// The token and the report number of a report's query (`t=TOKEN&n=SEQ`, in any order,
/// other arguments ignored, the first of each taken); `None` unless the token is
/// [`TOKEN_LEN`] base64url characters and the number one digit from 1 to 5.
pub fn parse_report(args: &[u8]) -> Option<(&[u8], u32)> {
    let (mut t, mut n) = (None, None);
    for pair in args.split(|&b| b == b'&') {
        if let Some(v) = pair.strip_prefix(b"t=") {
            t = t.or(Some(v));
        } else if let Some(v) = pair.strip_prefix(b"n=") {
            n = n.or(Some(v));
        }
    }
    let t = t.filter(|t| t.len() == TOKEN_LEN && t.iter().all(|&b| token_char(b)))?;
    let n = match n? {
        [d @ b'1'..=b'9'] => u32::from(d - b'0'),
        _ => return None,
    };
    (n <= MAX_REPORTS).then_some((t, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOK: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";

    fn script(beacon: &str, token: &str) -> String {
        let mut out = Vec::new();
        reporter_script(&mut out, beacon, token);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn the_script_is_small_and_carries_url_and_token() {
        assert_eq!(TOK.len(), TOKEN_LEN);
        let s = script("/gray/beacon", TOK);
        assert!(s.starts_with("<script>") && s.ends_with("</script>"), "{s}");
        assert!(s.contains(&format!("u=\"/gray/beacon?t={TOK}&n=\"")), "{s}");
        assert_eq!(s.len(), SCRIPT_LEN + "/gray/beacon".len() + TOKEN_LEN);
        assert_eq!(s.len(), 405);
        const { assert!(SCRIPT_LEN < 500) };
        assert!(s.contains("n<5") && MAX_REPORTS == 5);
        // no global, no handler replaced, nothing cancelled
        for bad in [
            "onerror",
            "preventDefault",
            "window.",
            "stopPropagation",
            ",true)",
        ] {
            assert!(!s.contains(bad), "{bad} in {s}");
        }
        assert_eq!(s.matches("</script>").count(), 1);
    }

    const UNSAFE: [(&str, &str); 10] = [
        ("/b\"+alert(1)+\"", TOK),
        ("gray", TOK),
        ("", TOK),
        ("//evil.example/b", TOK),
        ("/b</script>", TOK),
        ("/b\\", TOK),
        ("/b\u{e9}", TOK),
        ("/b", "short"),
        ("/b", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789\"_AbCdE"),
        ("/b", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789=_AbCdE"),
    ];

    #[test]
    fn unsafe_inputs_are_refused() {
        assert!(safe("/gray/beacon", TOK) && safe("/a.b~c-d_e/", TOK));
        for (b, t) in UNSAFE {
            assert!(!safe(b, t), "{b} {t}");
        }
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn unsafe_inputs_write_nothing() {
        for (b, t) in UNSAFE {
            let mut out = Vec::new();
            reporter_script(&mut out, b, t);
            assert!(out.is_empty(), "{b} {t}");
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "unsafe beacon")]
    fn unsafe_inputs_are_a_bug() {
        reporter_script(&mut Vec::new(), "/b\"", TOK);
    }

    /// Writes the script for `/gray/beacon` and [`TOK`] to `$FG_REPORTER_OUT`, when set:
    /// tests/browser/reporter.mjs loads it in Chromium.
    #[test]
    fn dump() {
        if let Some(path) = std::env::var_os("FG_REPORTER_OUT") {
            std::fs::write(path, script("/gray/beacon", TOK)).unwrap();
        }
    }

    #[test]
    fn reports_parse_strictly() {
        let q = |s: &str| {
            parse_report(s.as_bytes()).map(|(t, n)| (String::from_utf8(t.to_vec()).unwrap(), n))
        };
        assert_eq!(q(&format!("t={TOK}&n=1")), Some((TOK.into(), 1)));
        assert_eq!(q(&format!("n=5&x=1&t={TOK}")), Some((TOK.into(), 5)));
        assert_eq!(q(&format!("t={TOK}&n=2&n=9&t=x")), Some((TOK.into(), 2)));
        for bad in [
            String::new(),
            format!("t={TOK}"),
            "n=1".to_string(),
            format!("t={TOK}&n=0"),
            format!("t={TOK}&n=6"),
            format!("t={TOK}&n=12"),
            format!("t={TOK}&n=1x"),
            format!("t={TOK}&n=-1"),
            format!("t={TOK}&n="),
            format!("t={}&n=1", &TOK[1..]),
            format!("t={TOK}A&n=1"),
            format!("t={}%41&n=1", &TOK[..41]),
            format!("t={}+&n=1", &TOK[..42]),
            "t=&n=1".to_string(),
            "&&&=&t&n".into(),
        ] {
            assert_eq!(q(&bad), None, "{bad}");
        }
    }

    #[test]
    fn any_bytes_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..2000 {
            let v: std::vec::Vec<u8> = (0..len % 97)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"t=n&1234567AZaz_-%\xff"[(x % 19) as usize]
                })
                .collect();
            if let Some((t, n)) = parse_report(&v) {
                assert!(t.len() == TOKEN_LEN && (1..=5).contains(&n));
            }
        }
    }
}
