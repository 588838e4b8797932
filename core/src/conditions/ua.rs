//! `os` / `browser` conditions (SPEC §8): one OS and one browser per `User-Agent`, by the token
//! table of `docs/user-agents.md`.
//!
//! The classifier is a fixed sequence of exact, case-sensitive substring searches
//! (`memchr::memmem`, each needle prepared once per process) ordered by precedence — the first
//! row of the table that holds wins. No regex, no heap allocation, no panic on any input: the
//! User-Agent is attacker-controlled and looked at on every request that has an `os` or
//! `browser` condition. Tokens are matched as browsers really write them (`CriOS`, `EdgiOS`,
//! `SamsungBrowser/`), so a different letter case is a different (unknown) token.
//!
//! Precedence, in short (the document has the full table and the reasons):
//! 1. a crawler token (`+http`, `bot/`, `spider` …) → no OS and no browser: a bot's platform
//!    and browser words are imitation, and must never make it count as the browser it copies;
//! 2. OS: `iPhone`/`iPad`/`iPod` → ios (before the `like Mac OS X` they all carry), `Android`
//!    (before `Linux`), `CrOS` (before `Linux`), `Windows`, `Macintosh`/`Mac OS X`, `Linux`;
//! 3. browser: `MicroMessenger` → wechat, Edge's tokens, Opera's, `SamsungBrowser/`, then
//!    other self-naming browsers and Android WebViews → none, `FxiOS`/`Firefox/` → firefox,
//!    `CriOS`/`Chrome/` → chrome, and `Safari/` + `Version/` on ios or macos → safari.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// An operating system an `os` condition can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Os {
    Android,
    Ios,
    Windows,
    Macos,
    Linux,
    Chromeos,
}

/// A browser a `browser` condition can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Browser {
    Chrome,
    Edge,
    Firefox,
    Safari,
    Opera,
    Samsung,
    Wechat,
}

impl Os {
    pub const ALL: [Os; 6] = [
        Os::Android,
        Os::Ios,
        Os::Windows,
        Os::Macos,
        Os::Linux,
        Os::Chromeos,
    ];

    /// The word a configuration uses for this OS (lower case).
    pub fn name(self) -> &'static str {
        match self {
            Os::Android => "android",
            Os::Ios => "ios",
            Os::Windows => "windows",
            Os::Macos => "macos",
            Os::Linux => "linux",
            Os::Chromeos => "chromeos",
        }
    }

    /// The OS a configuration word names; exact, lower case.
    pub fn from_name(s: &str) -> Option<Os> {
        Os::ALL.into_iter().find(|o| o.name() == s)
    }
}

impl Browser {
    pub const ALL: [Browser; 7] = [
        Browser::Chrome,
        Browser::Edge,
        Browser::Firefox,
        Browser::Safari,
        Browser::Opera,
        Browser::Samsung,
        Browser::Wechat,
    ];

    /// The word a configuration uses for this browser (lower case).
    pub fn name(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Edge => "edge",
            Browser::Firefox => "firefox",
            Browser::Safari => "safari",
            Browser::Opera => "opera",
            Browser::Samsung => "samsung",
            Browser::Wechat => "wechat",
        }
    }

    /// The browser a configuration word names; exact, lower case.
    pub fn from_name(s: &str) -> Option<Browser> {
        Browser::ALL.into_iter().find(|b| b.name() == s)
    }
}

macro_rules! tokens {
    ($($tok:ident = $text:literal,)*) => {
        #[derive(Clone, Copy)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        enum Tok { $($tok,)* }
        /// Every byte string the classifier looks for, in the order of the token enum. A byte
        /// that occurs in none of them cannot change a classification.
        pub const TOKENS: &[&str] = &[$($text,)*];
    };
}

tokens! {
    // crawlers
    PLUS_HTTP = "+http",
    BOT_SLASH = "bot/",
    BOT_SLASH_UC = "Bot/",
    SPIDER = "spider",
    SPIDER_UC = "Spider",
    CRAWLER = "crawler",
    CRAWLER_UC = "Crawler",
    FB_EXTERNAL = "facebookexternalhit",
    SLURP = "Slurp",
    // operating systems
    IPHONE = "iPhone",
    IPAD = "iPad",
    IPOD = "iPod",
    ANDROID = "Android",
    CROS = "CrOS",
    WINDOWS = "Windows",
    MACINTOSH = "Macintosh",
    MAC_OS_X = "Mac OS X",
    LINUX = "Linux",
    // browsers
    MICROMESSENGER = "MicroMessenger",
    EDG = "Edg/",
    EDGE = "Edge/",
    EDGA = "EdgA/",
    EDGIOS = "EdgiOS/",
    OPR = "OPR/",
    OPIOS = "OPiOS/",
    OPT = "OPT/",
    OPERA = "Opera",
    SAMSUNG = "SamsungBrowser/",
    VIVALDI = "Vivaldi/",
    YABROWSER = "YaBrowser/",
    UCBROWSER = "UCBrowser/",
    QQBROWSER = "QQBrowser/",
    HUAWEI = "HuaweiBrowser/",
    MIUI = "MiuiBrowser/",
    WHALE = "Whale/",
    ELECTRON = "Electron/",
    WV = "; wv)",
    FXIOS = "FxiOS/",
    FIREFOX = "Firefox/",
    CRIOS = "CriOS/",
    CHROME = "Chrome/",
    SAFARI = "Safari/",
    VERSION = "Version/",
}

const N_TOKENS: usize = TOKENS.len();

/// The searchers, built once per process (a `Finder` over a `'static` needle owns no heap).
static FINDERS: LazyLock<[Finder<'static>; N_TOKENS]> =
    LazyLock::new(|| std::array::from_fn(|i| Finder::new(TOKENS[i].as_bytes())));

struct Ua<'a> {
    bytes: &'a [u8],
    finders: &'a [Finder<'static>; N_TOKENS],
}

impl Ua<'_> {
    fn has(&self, t: Tok) -> bool {
        self.finders[t as usize].find(self.bytes).is_some()
    }
    fn any(&self, ts: &[Tok]) -> bool {
        ts.iter().any(|&t| self.has(t))
    }
}

/// One OS and one browser per User-Agent (either may be None: bots, curl, unknown).
pub fn classify(ua: &[u8]) -> (Option<Os>, Option<Browser>) {
    use Tok::*;
    let ua = Ua {
        bytes: ua,
        finders: &FINDERS,
    };
    if ua.any(&[
        PLUS_HTTP,
        BOT_SLASH,
        BOT_SLASH_UC,
        SPIDER,
        SPIDER_UC,
        CRAWLER,
        CRAWLER_UC,
        FB_EXTERNAL,
        SLURP,
    ]) {
        return (None, None);
    }
    let os = os(&ua);
    (os, browser(&ua, os))
}

fn os(ua: &Ua) -> Option<Os> {
    use Tok::*;
    if ua.any(&[IPHONE, IPAD, IPOD]) {
        Some(Os::Ios)
    } else if ua.has(ANDROID) {
        Some(Os::Android)
    } else if ua.has(CROS) {
        Some(Os::Chromeos)
    } else if ua.has(WINDOWS) {
        Some(Os::Windows)
    } else if ua.any(&[MACINTOSH, MAC_OS_X]) {
        Some(Os::Macos)
    } else if ua.has(LINUX) {
        Some(Os::Linux)
    } else {
        None
    }
}

fn browser(ua: &Ua, os: Option<Os>) -> Option<Browser> {
    use Tok::*;
    if ua.has(MICROMESSENGER) {
        Some(Browser::Wechat)
    } else if ua.any(&[EDG, EDGE, EDGA, EDGIOS]) {
        Some(Browser::Edge)
    } else if ua.any(&[OPR, OPIOS, OPT, OPERA]) {
        Some(Browser::Opera)
    } else if ua.has(SAMSUNG) {
        Some(Browser::Samsung)
    } else if ua.any(&[
        VIVALDI, YABROWSER, UCBROWSER, QQBROWSER, HUAWEI, MIUI, WHALE, ELECTRON,
    ]) {
        // Chromium-based browsers and app shells that name themselves: not `chrome`, and not
        // one the configuration can name.
        None
    } else if ua.has(WV) || (os == Some(Os::Android) && ua.has(VERSION) && ua.has(CHROME)) {
        // Android WebView (`; wv)`, or the `Version/4.0 … Chrome/` form of older WebViews): an
        // app's embedded page, not the Chrome browser.
        None
    } else if ua.any(&[FXIOS, FIREFOX]) {
        Some(Browser::Firefox)
    } else if ua.any(&[CRIOS, CHROME]) {
        Some(Browser::Chrome)
    } else if matches!(os, Some(Os::Ios | Os::Macos)) && ua.has(SAFARI) && ua.has(VERSION) {
        // `Version/` is what Safari itself writes; iOS WebViews have no `Safari/`, and in-app
        // browsers such as the Google app (`GSA/`) have `Safari/` but no `Version/`.
        Some(Browser::Safari)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for o in Os::ALL {
            assert_eq!(Os::from_name(o.name()), Some(o));
        }
        for b in Browser::ALL {
            assert_eq!(Browser::from_name(b.name()), Some(b));
        }
        assert_eq!(Os::from_name("iOS"), None);
        assert_eq!(Os::from_name("mac"), None);
        assert_eq!(Browser::from_name("Chrome"), None);
        assert_eq!(Browser::from_name(""), None);
    }

    #[test]
    fn token_enum_and_text_agree() {
        assert_eq!(TOKENS[Tok::PLUS_HTTP as usize], "+http");
        assert_eq!(TOKENS[Tok::IPHONE as usize], "iPhone");
        assert_eq!(TOKENS[Tok::MICROMESSENGER as usize], "MicroMessenger");
        assert_eq!(TOKENS[Tok::VERSION as usize], "Version/");
        assert_eq!(N_TOKENS, Tok::VERSION as usize + 1);
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(classify(b""), (None, None));
        assert_eq!(classify(&[0xff; 300]), (None, None));
        assert_eq!(classify(b"curl/8.5.0"), (None, None));
    }

    #[test]
    fn ios_is_never_macos() {
        let ua = b"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
                   (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
        assert_eq!(classify(ua), (Some(Os::Ios), Some(Browser::Safari)));
    }
}
