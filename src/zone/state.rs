//! The state file of `frontend_gray_state` (SPEC §10): read when a zone is created, written
//! by `control.rs` after every accepted write.

use frontend_gray_core::release::{RolloutState, STATE_WORDS};

use super::*;

/// Applies the state file to a fresh zone (at start, or after a resize). A missing file is a
/// first start; an unreadable or corrupt one is ignored with a warning.
pub(super) fn load_state(mcf: &MainConf, path: &str, log: *mut ngx_log_t) {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            ngx_log_error!(
                NGX_LOG_WARN,
                log,
                "frontend_gray_state file \"{}\": {}: ignored",
                path,
                e
            );
            return;
        }
    };
    let state = match StateFile::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            ngx_log_error!(
                NGX_LOG_WARN,
                log,
                "frontend_gray_state file \"{}\": {}: ignored",
                path,
                e
            );
            return;
        }
    };
    for (name, st) in &state.apps {
        let Some(app) = mcf.app_named(name.as_bytes()) else {
            ngx_log_error!(
                NGX_LOG_NOTICE,
                log,
                "frontend_gray_state file \"{}\": app \"{}\" is not configured: dropped",
                path,
                name
            );
            continue;
        };
        let Some(rec) = app.rec() else { continue };
        if let Some(v) = &st.pin {
            match (0..app.deps.len()).find(|&i| app.dep(i).is_some_and(|d| d.version() == v)) {
                Some(i) => rec.pin.store(app.deps[i], Ordering::Release),
                None => {
                    ngx_log_error!(
                        NGX_LOG_NOTICE,
                        log,
                        "frontend_gray_state file \"{}\": app \"{}\": pin to version \"{}\" dropped: the configuration no longer has that version",
                        path,
                        name,
                        v
                    );
                }
            }
        }
        for (dname, ds) in &st.deployments {
            let found = deployments(app.cfg())
                .enumerate()
                .skip(1)
                .find(|(_, d)| d.name == *dname && d.version == ds.version);
            match found.and_then(|(i, _)| Some((i, app.dep(i)?))) {
                Some((i, d)) => {
                    d.set_overrides(ds.weight, ds.enabled);
                    if let (Some(w), Some(rel)) = (&ds.release, app.rel(i)) {
                        if let Some(s) = <[u64; STATE_WORDS]>::try_from(w.as_slice())
                            .ok()
                            .and_then(|w| RolloutState::from_words(&w))
                        {
                            rel.state.store(&s.to_words());
                        }
                    }
                }
                None => {
                    ngx_log_error!(
                        NGX_LOG_NOTICE,
                        log,
                        "frontend_gray_state file \"{}\": app \"{}\": overrides of deployment \"{}\" version \"{}\" dropped: the configuration no longer has that version",
                        path,
                        name,
                        dname,
                        ds.version
                    );
                }
            }
        }
        update_steered(app);
    }
}

/// The state of every app of this configuration, for the state file.
pub fn state_of(mcf: &MainConf) -> StateFile {
    let mut s = StateFile::default();
    for app in &mcf.apps {
        let mut a = frontend_gray_core::status::AppState {
            pin: app
                .pinned()
                .and_then(|i| app.dep(i))
                .map(|d| d.version().to_string()),
            ..Default::default()
        };
        for (i, d) in deployments(app.cfg()).enumerate().skip(1) {
            if let Some(r) = app.dep(i) {
                let release = crate::release::state(app, i).map(|s| s.to_words().to_vec());
                if r.has_overrides() || release.is_some() {
                    a.deployments.insert(
                        d.name.clone(),
                        frontend_gray_core::status::DeploymentState {
                            version: d.version.clone(),
                            weight: r.weight_override(),
                            enabled: r.enabled_override(),
                            release,
                        },
                    );
                }
            }
        }
        if a.pin.is_some() || !a.deployments.is_empty() {
            s.apps.insert(app.name.clone(), a);
        }
    }
    s
}
