//! `frontend-gray check` on the fields of SPEC §11: no unknown-field warning, errors at the
//! field path.

use std::path::PathBuf;
use std::process::Command;

fn check(name: &str, yaml: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("fg-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file: PathBuf = dir.join(name);
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_frontend-gray"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn release_fields_are_known() {
    let (ok, err) = check(
        "full.yaml",
        "monitor: {beacon: /gray/beacon}\nbaseDeployment: {version: v1}\ngrayDeployments:\n\
         - name: beta-user\n  version: v2\n  enabled: true\n\
         \x20 rollout: {steps: [1, 5, 25, 50, 100], interval: 10m}\n\
         \x20 guard: {window: 60s, minEntries: 100, maxErrorRate: 0.05, maxErrorRateOverBase: 0.02, errors: [5xx, asset404, jsError]}\n",
    );
    assert!(ok, "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn release_errors_name_the_field() {
    let (ok, err) = check(
        "bad.yaml",
        "baseDeployment: {version: v1}\ngrayDeployments:\n\
         - {name: b, version: v2, enabled: true, guard: {window: 5}}\n",
    );
    assert!(!ok);
    assert!(
        err.contains(
            "bad.yaml: grayDeployments[0].guard: give maxErrorRate or maxErrorRateOverBase"
        ),
        "{err}"
    );
    let (ok, err) = check(
        "beacon.yaml",
        "monitor: {beacon: gray}\nbaseDeployment: {version: v1}\n",
    );
    assert!(!ok);
    assert!(
        err.contains("beacon.yaml: monitor.beacon: \"gray\" must be an absolute path"),
        "{err}"
    );
}
