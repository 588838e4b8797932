//! Live status of every version (SPEC §9) and run-time steering (SPEC §10), as pure code:
//! the counter layout the shared zone holds per (app, deployment), the snapshot the status
//! page is rendered from (JSON, Prometheus text, HTML dashboard), the merge-patch parser and
//! validator of `PATCH …/apps/APP`, and the state file. Nothing here knows nginx: the module
//! places [`Counters`] in shared memory and fills [`AppSnapshot`]s from it.

mod dashboard;
mod patch;
mod release;
mod render;
mod state;

use std::sync::atomic::{AtomicU64, Ordering};

pub use dashboard::{dashboard_html, DASHBOARD_HTML};
pub use patch::{
    parse_patch, DeploymentPatch, Patch, PatchError, PinPatch, Rollout, Setting, Steered,
    MAX_PATCH_BODY,
};
pub use release::ReleaseSnapshot;
pub use render::{
    render_app_json, render_error, render_json, render_prometheus, PROMETHEUS_CONTENT_TYPE,
};
pub use state::{AppState, DeploymentState, StateFile};

/// What a finished request is counted as (SPEC §9's `kind` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountKind {
    Entry = 0,
    Asset = 1,
    Manifest = 2,
}

impl CountKind {
    pub const ALL: [CountKind; 3] = [CountKind::Entry, CountKind::Asset, CountKind::Manifest];

    pub fn name(self) -> &'static str {
        match self {
            CountKind::Entry => "entry",
            CountKind::Asset => "asset",
            CountKind::Manifest => "manifest",
        }
    }

    /// The JSON key of the per-kind total (`entries`, `assets`, `manifests`).
    pub fn total_key(self) -> &'static str {
        match self {
            CountKind::Entry => "entries",
            CountKind::Asset => "assets",
            CountKind::Manifest => "manifests",
        }
    }

    /// HTML entries are `entry`, `indexPaths` requests that are not HTML are `manifest`.
    pub fn of(kind: crate::Kind) -> CountKind {
        match kind {
            crate::Kind::Html => CountKind::Entry,
            crate::Kind::Index => CountKind::Manifest,
            crate::Kind::Asset => CountKind::Asset,
        }
    }
}

/// The status classes counted: `2xx` … `5xx` (1xx and status 0 count in the kind's total only).
pub const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

/// Index of the request total of a kind.
pub const fn total_slot(k: CountKind) -> usize {
    k as usize
}
/// Index of the responses of kind `k` in status class `c` (0 = 2xx … 3 = 5xx).
pub const fn status_slot(k: CountKind, c: usize) -> usize {
    3 + k as usize * 4 + c
}
pub const ASSET_404: usize = 15;
pub const JS_ERRORS: usize = 16;
pub const NEW_USERS: usize = 17;
pub const BYTES: usize = 18;
/// Number of counters per (app, deployment).
pub const N_COUNTERS: usize = 19;

/// The status class index of an HTTP status (`None` outside 200–599).
pub fn class_of(status: u64) -> Option<usize> {
    match status {
        200..=599 => Some((status / 100 - 2) as usize),
        _ => None,
    }
}

/// The counters of one (app, deployment), as they sit in shared memory: plain atomics at
/// fixed offsets, updated with relaxed adds (no lock, no allocation).
#[repr(C)]
#[derive(Debug, Default)]
pub struct Counters(pub [AtomicU64; N_COUNTERS]);

/// What the module knows of a finished request, to count it.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    pub kind: CountKind,
    /// The final status (`$status`), 0 when there was none.
    pub status: u64,
    /// Bytes sent to the client (`$bytes_sent`).
    pub bytes: u64,
    /// The request minted a uid that its response handed out in a cookie.
    pub new_user: bool,
}

impl Counters {
    pub fn record(&self, f: &Finished) {
        let add = |i: usize, n: u64| {
            self.0[i].fetch_add(n, Ordering::Relaxed);
        };
        add(total_slot(f.kind), 1);
        if let Some(c) = class_of(f.status) {
            add(status_slot(f.kind, c), 1);
        }
        if f.kind == CountKind::Asset && f.status == 404 {
            add(ASSET_404, 1);
        }
        if f.new_user {
            add(NEW_USERS, 1);
        }
        if f.bytes > 0 {
            add(BYTES, f.bytes);
        }
    }

    pub fn snapshot(&self) -> [u64; N_COUNTERS] {
        let mut out = [0; N_COUNTERS];
        for (o, c) in out.iter_mut().zip(&self.0) {
            *o = c.load(Ordering::Relaxed);
        }
        out
    }

    pub fn clear(&self) {
        for c in &self.0 {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// How an app chooses users right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Rules,
    Percentage,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Rules => "rules",
            Mode::Percentage => "percentage",
        }
    }
}

/// The `state` of a deployment (SPEC §9). §11 adds the rollout states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentStateName {
    Active,
    Disabled,
    Rollout,
    Promoted,
    RolledBack,
    Paused,
}

impl DeploymentStateName {
    pub const ALL: [DeploymentStateName; 6] = [
        DeploymentStateName::Active,
        DeploymentStateName::Disabled,
        DeploymentStateName::Rollout,
        DeploymentStateName::Promoted,
        DeploymentStateName::RolledBack,
        DeploymentStateName::Paused,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DeploymentStateName::Active => "active",
            DeploymentStateName::Disabled => "disabled",
            DeploymentStateName::Rollout => "rollout",
            DeploymentStateName::Promoted => "promoted",
            DeploymentStateName::RolledBack => "rolledBack",
            DeploymentStateName::Paused => "paused",
        }
    }
}

/// One deployment of an app, as the status page shows it.
#[derive(Debug, Clone)]
pub struct DeploymentSnapshot<'a> {
    /// `base` or the gray deployment's name.
    pub name: &'a str,
    pub version: &'a str,
    pub enabled: bool,
    /// The effective weight in percent: a gray's bucket share, base's the rest.
    pub weight: u8,
    pub state: DeploymentStateName,
    pub counts: [u64; N_COUNTERS],
    /// The rollout and guard (SPEC §11), for a deployment that has one.
    pub release: Option<ReleaseSnapshot<'a>>,
}

/// One app (one YAML file), as the status page shows it.
#[derive(Debug, Clone)]
pub struct AppSnapshot<'a> {
    pub name: &'a str,
    /// The YAML file's path.
    pub config: &'a str,
    pub mode: Mode,
    /// The pinned version (SPEC §10), if any.
    pub pinned: Option<&'a str>,
    pub deployments: &'a [DeploymentSnapshot<'a>],
}

/// The app name of SPEC §9: the YAML's `name:`, else the file name without its extension.
pub fn app_name<'a>(configured: Option<&'a str>, path: &'a str) -> &'a str {
    if let Some(n) = configured {
        return n;
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    match file.rfind('.') {
        Some(i) if i > 0 => &file[..i],
        _ => file,
    }
}

#[cfg(test)]
mod tests;
