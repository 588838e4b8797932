//! PLACEHOLDER, replaced by the User-Agent classifier: OS and browser from a User-Agent.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Os {
    Android,
    Ios,
    Windows,
    Macos,
    Linux,
    Chromeos,
}

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
    pub fn from_name(s: &str) -> Option<Browser> {
        Browser::ALL.into_iter().find(|b| b.name() == s)
    }
}

pub fn classify(_ua: &[u8]) -> (Option<Os>, Option<Browser>) {
    (None, None)
}
