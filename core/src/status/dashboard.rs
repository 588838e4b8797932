//! The status dashboard (SPEC §9): one self-contained page (no external assets) that polls
//! the JSON of its own URL and, when writes are on, offers the one-click switch of SPEC §10.

/// The page; `data-write` on `<body>` is filled in by [`dashboard_html`].
pub const DASHBOARD_HTML: &str = include_str!("dashboard.html");

/// The dashboard page, with or without the write buttons.
pub fn dashboard_html(write: bool) -> (&'static str, &'static str, &'static str) {
    let (head, tail) = DASHBOARD_HTML
        .split_once("{write}")
        .unwrap_or((DASHBOARD_HTML, ""));
    (head, if write { "on" } else { "off" }, tail)
}
