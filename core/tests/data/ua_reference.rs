//! A slow, naive reference implementation of the token table of docs/user-agents.md, written
//! independently of `conditions::ua` (byte-window substring search, the table as data), for
//! the corpus test and the `ua` fuzz target to cross-check the real classifier against.
use frontend_gray_core::conditions::ua::{Browser, Os};

fn has(ua: &[u8], token: &str) -> bool {
    let t = token.as_bytes();
    ua.len() >= t.len() && ua.windows(t.len()).any(|w| w == t)
}

const BOTS: &[&str] = &[
    "+http",
    "bot/",
    "Bot/",
    "spider",
    "Spider",
    "crawler",
    "Crawler",
    "facebookexternalhit",
    "Slurp",
];

const OS_ROWS: &[(&[&str], Os)] = &[
    (&["iPhone", "iPad", "iPod"], Os::Ios),
    (&["Android"], Os::Android),
    (&["CrOS"], Os::Chromeos),
    (&["Windows"], Os::Windows),
    (&["Macintosh", "Mac OS X"], Os::Macos),
    (&["Linux"], Os::Linux),
];

/// Browser rows in precedence order; `None` rows stop the search with no browser.
const BROWSER_ROWS: &[(&[&str], Option<Browser>)] = &[
    (&["MicroMessenger"], Some(Browser::Wechat)),
    (&["Edg/", "Edge/", "EdgA/", "EdgiOS/"], Some(Browser::Edge)),
    (&["OPR/", "OPiOS/", "OPT/", "Opera"], Some(Browser::Opera)),
    (&["SamsungBrowser/"], Some(Browser::Samsung)),
    (
        &[
            "Vivaldi/",
            "YaBrowser/",
            "UCBrowser/",
            "QQBrowser/",
            "HuaweiBrowser/",
            "MiuiBrowser/",
            "Whale/",
            "Electron/",
        ],
        None,
    ),
    (&["; wv)"], None),
];

pub fn reference_classify(ua: &[u8]) -> (Option<Os>, Option<Browser>) {
    if BOTS.iter().any(|t| has(ua, t)) {
        return (None, None);
    }
    let os = OS_ROWS
        .iter()
        .find(|(tokens, _)| tokens.iter().any(|t| has(ua, t)))
        .map(|&(_, os)| os);
    for (tokens, result) in BROWSER_ROWS {
        if tokens.iter().any(|t| has(ua, t)) {
            return (os, *result);
        }
    }
    if os == Some(Os::Android) && has(ua, "Version/") && has(ua, "Chrome/") {
        return (os, None); // old Android WebView
    }
    let browser = if has(ua, "FxiOS/") || has(ua, "Firefox/") {
        Some(Browser::Firefox)
    } else if has(ua, "CriOS/") || has(ua, "Chrome/") {
        Some(Browser::Chrome)
    } else if (os == Some(Os::Ios) || os == Some(Os::Macos))
        && has(ua, "Safari/")
        && has(ua, "Version/")
    {
        Some(Browser::Safari)
    } else {
        None
    };
    (os, browser)
}
