//! `rollout:`, `guard:` and `monitor:` (SPEC §11) in the YAML.

use super::*;
use crate::release::{ErrorKinds, GuardPlan, RolloutPlan};

const FULL: &str = r#"
monitor: {beacon: /gray/beacon}
baseDeployment: {version: v1}
grayDeployments:
  - name: beta-user
    version: v2
    enabled: true
    rollout: {steps: [1, 5, 25, 50, 100], interval: 10m}
    guard:
      window: 60s
      minEntries: 100
      maxErrorRate: 0.05
      maxErrorRateOverBase: 0.02
      errors: [5xx, asset404, jsError]
"#;

#[test]
fn the_spec_example_parses() {
    let c = GrayConfig::from_yaml(FULL).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let d = &c.grays[0];
    assert_eq!(
        d.rollout,
        Some(RolloutPlan {
            steps: vec![1, 5, 25, 50, 100],
            interval: 600
        })
    );
    assert_eq!(
        d.guard,
        Some(GuardPlan {
            window: 60,
            min_entries: 100,
            max_rate: Some(0.05),
            max_over_base: Some(0.02),
            errors: ErrorKinds::ALL,
        })
    );
    assert_eq!(c.monitor.as_ref().unwrap().beacon, "/gray/beacon");
    assert!(c.released && c.percentage && c.uses_uid);
    // the first step is the bucket width
    assert_eq!(d.bucket, (0, 1));
}

fn yaml(dep: &str) -> String {
    format!("baseDeployment: {{version: v1}}\ngrayDeployments:\n- {{name: b, version: v2, enabled: true, {dep}}}\n")
}

#[test]
fn defaults_and_percentage_mode() {
    let c = GrayConfig::from_yaml(&yaml("guard: {window: 30, maxErrorRate: 0.1}")).unwrap();
    let g = c.grays[0].guard.as_ref().unwrap();
    assert_eq!(
        (g.window, g.min_entries, g.errors),
        (30, 10, ErrorKinds::ALL)
    );
    assert!(
        c.released && !c.percentage,
        "a guard alone keeps rules mode"
    );
    // a rollout whose first step is 0 is still percentage mode
    let c = GrayConfig::from_yaml(&yaml("rollout: {steps: [0, 10], interval: 90s}")).unwrap();
    assert!(c.percentage && c.uses_uid && c.released);
    assert_eq!(c.grays[0].bucket, (0, 0));
    assert_eq!(c.grays[0].rollout.as_ref().unwrap().interval, 90);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // `weight` beside a rollout is ignored, with a warning
    let c =
        GrayConfig::from_yaml(&yaml("weight: 30, rollout: {steps: [5], interval: 1h}")).unwrap();
    assert_eq!(c.grays[0].bucket, (0, 5));
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("grayDeployments[0].weight: ignored")),
        "{:?}",
        c.warnings
    );
    // the first step as the weight (the SPEC's example): no warning
    let c =
        GrayConfig::from_yaml(&yaml("weight: 5, rollout: {steps: [5, 50], interval: 1h}")).unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    // jsError without monitor: a warning; with it, none
    let c = GrayConfig::from_yaml(&yaml(
        "guard: {window: 5, maxErrorRate: 0.1, errors: [jsError]}",
    ))
    .unwrap();
    assert!(
        c.warnings
            .iter()
            .any(|w| w
                .contains("grayDeployments[0].guard.errors: jsError needs a top-level monitor")),
        "{:?}",
        c.warnings
    );
    let with = format!(
        "monitor: {{beacon: /b}}\n{}",
        yaml("guard: {window: 5, maxErrorRate: 0.1, errors: [jsError]}")
    );
    let w = GrayConfig::from_yaml(&with).unwrap().warnings;
    assert!(w.iter().all(|w| !w.contains("jsError")), "{w:?}");
    // nothing of it: not released
    let c = GrayConfig::from_yaml(&yaml("weight: 30")).unwrap();
    assert!(!c.released && c.monitor.is_none());
    // a disabled deployment keeps its plans, and the app is not released by it
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: v1}\ngrayDeployments:\n- {name: b, version: v2, rollout: {steps: [5], interval: 1}}\n",
    )
    .unwrap();
    assert!(!c.released && !c.percentage && c.disabled[0].rollout.is_some());
}

#[test]
fn buckets_use_first_steps() {
    // two rollouts and a plain weight: first steps 5 and 10, then 20; last steps 30 + 50 + 20
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: v1}\ngrayDeployments:\n\
         - {name: a, version: v2, enabled: true, rollout: {steps: [5, 30], interval: 1}}\n\
         - {name: b, version: v3, enabled: true, weight: 90, rollout: {steps: [10, 50], interval: 1}}\n\
         - {name: c, version: v4, enabled: true, weight: 20}\n\
         - {name: d, version: v5, weight: 100, rollout: {steps: [100], interval: 1}}\n",
    )
    .unwrap();
    let b: Vec<_> = c.grays.iter().map(|d| d.bucket).collect();
    assert_eq!(b, [(0, 5), (5, 15), (15, 35)]);
    // the disabled one counts in no sum
    assert_eq!(c.disabled[0].rollout.as_ref().unwrap().steps, [100]);
    // released (by a and b), in percentage mode
    assert!(c.released && c.percentage);
}

#[test]
fn unknown_sub_fields_warn() {
    let c = GrayConfig::from_yaml(&yaml(
        "rollout: {steps: [5], interval: 1, speed: 2}, guard: {window: 5, maxErrorRate: 0.1, colour: red}",
    ))
    .unwrap();
    let w = c.warnings.join("\n");
    assert!(
        w.contains("unknown field \"grayDeployments.0.rollout.speed\""),
        "{w}"
    );
    assert!(
        w.contains("unknown field \"grayDeployments.0.guard.colour\""),
        "{w}"
    );
    let c = GrayConfig::from_yaml(
        "monitor: {beacon: /b, when: always}\nbaseDeployment: {version: v1}\n",
    )
    .unwrap();
    assert!(
        c.warnings.iter().any(|w| w.contains("\"monitor.when\"")),
        "{:?}",
        c.warnings
    );
    // and the fields themselves are not unknown
    let c = GrayConfig::from_yaml(FULL).unwrap();
    assert!(!c.warnings.iter().any(|w| w.contains("unknown")));
}

#[test]
fn errors_name_the_field() {
    let base = "baseDeployment: {version: v1, rollout: {steps: [5], interval: 1}}\n";
    let cases: Vec<(String, &str)> = vec![
        (base.into(), "baseDeployment.rollout: the base deployment cannot have a rollout"),
        (
            "baseDeployment: {version: v1, guard: {window: 5, maxErrorRate: 1}}\n".into(),
            "baseDeployment.guard: the base deployment cannot have a guard",
        ),
        (yaml("rollout: {interval: 1}"), "grayDeployments[0].rollout.steps: is required"),
        (yaml("rollout: {steps: [5]}"), "grayDeployments[0].rollout.interval: is required"),
        (yaml("rollout: {steps: [], interval: 1}"), "grayDeployments[0].rollout.steps: steps must list 1 to 100 weights"),
        (yaml("rollout: {steps: [5, 101], interval: 1}"), "grayDeployments[0].rollout.steps[1]: 101 is outside 0-100"),
        (yaml("rollout: {steps: [50, 5], interval: 1}"), "grayDeployments[0].rollout.steps: steps must not decrease (50 then 5)"),
        (yaml("rollout: {steps: [5], interval: 0}"), "grayDeployments[0].rollout.interval: interval must be at least 1s"),
        (yaml("rollout: {steps: [5], interval: 10 minutes}"), "grayDeployments[0].rollout.interval: invalid duration"),
        (yaml("guard: {maxErrorRate: 0.1}"), "grayDeployments[0].guard.window: is required"),
        (yaml("guard: {window: 5}"), "grayDeployments[0].guard: give maxErrorRate or maxErrorRateOverBase"),
        (yaml("guard: {window: 5, maxErrorRate: -1}"), "grayDeployments[0].guard.maxErrorRate: maxErrorRate must be a number >= 0"),
        (yaml("guard: {window: 5, maxErrorRateOverBase: -1}"), "grayDeployments[0].guard.maxErrorRateOverBase: maxErrorRateOverBase must"),
        (yaml("guard: {window: 2d, maxErrorRate: 1}"), "grayDeployments[0].guard.window: invalid duration"),
        (yaml("guard: {window: 25h, maxErrorRate: 1}"), "grayDeployments[0].guard.window: window must be between 1s and 24h"),
        (yaml("guard: {window: 5, maxErrorRate: 1, minEntries: -3}"), "grayDeployments[0].guard.minEntries: -3 is below 0"),
        (yaml("guard: {window: 5, maxErrorRate: 1, errors: [5xx, 404]}"), "grayDeployments[0].guard.errors: unknown error kind \"404\": 5xx, asset404 or jsError"),
        (yaml("guard: {window: 5, maxErrorRate: 1, errors: []}"), "grayDeployments[0].guard.errors: name at least one of 5xx, asset404, jsError"),
        (
            "baseDeployment: {version: v1}\ngrayDeployments:\n- {name: a, version: v2, enabled: true, weight: 40}\n- {name: b, version: v3, enabled: true, rollout: {steps: [10, 70], interval: 1}}\n".into(),
            "grayDeployments[1].rollout.steps: the last steps and weights of enabled gray deployments sum to 110, over 100",
        ),
        // a plain weight after the rollout: the rollout is named
        (
            "baseDeployment: {version: v1}\ngrayDeployments:\n- {name: a, version: v2, enabled: true, rollout: {steps: [10, 70], interval: 1}}\n- {name: b, version: v3, enabled: true, weight: 40}\n".into(),
            "grayDeployments[0].rollout.steps: the last steps and weights of enabled gray deployments sum to 110, over 100",
        ),
        // first steps over 100 (so the last ones too)
        (
            "baseDeployment: {version: v1}\ngrayDeployments:\n- {name: a, version: v2, enabled: true, weight: 50}\n- {name: b, version: v3, enabled: true, weight: 5, rollout: {steps: [60], interval: 1}}\n".into(),
            "grayDeployments[1].rollout.steps: the last steps and weights of enabled gray deployments sum to 110, over 100",
        ),
        // without a rollout, the plain weight check as before
        (
            "baseDeployment: {version: v1}\ngrayDeployments:\n- {name: a, version: v2, enabled: true, weight: 60}\n- {name: b, version: v3, enabled: true, weight: 50}\n".into(),
            "grayDeployments[1].weight: weights of enabled gray deployments sum to 110, over 100",
        ),
        ("monitor: {}\nbaseDeployment: {version: v1}\n".into(), "monitor.beacon: is required"),
        ("monitor: {beacon: gray/beacon}\nbaseDeployment: {version: v1}\n".into(), "monitor.beacon: \"gray/beacon\" must be an absolute path"),
        ("monitor: {beacon: //evil.example/b}\nbaseDeployment: {version: v1}\n".into(), "monitor.beacon: \"//evil.example/b\" must be an absolute path"),
        ("monitor: {beacon: '/b\";alert(1)//'}\nbaseDeployment: {version: v1}\n".into(), "monitor.beacon: \"/b\";alert(1)//\" contains '\"'"),
        (format!("monitor: {{beacon: /{}}}\nbaseDeployment: {{version: v1}}\n", "a".repeat(200)), "monitor.beacon: is longer than 200 bytes"),
    ];
    for (y, want) in cases {
        let e = GrayConfig::from_yaml(&y).unwrap_err();
        assert!(matches!(e, ConfigError::Value { .. }), "{y}: {e:?}");
        assert!(
            e.to_string().starts_with(want),
            "{y}\n got: {e}\nwant: {want}"
        );
    }
}
