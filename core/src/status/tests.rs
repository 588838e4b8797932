use std::collections::HashMap;

use allocator_api2::vec::Vec as AVec;

use super::patch::Steered;
use super::*;
use crate::decide::{decide_steered, RequestHeaders, Steering};
use crate::GrayConfig;

fn counts(pairs: &[(usize, u64)]) -> [u64; N_COUNTERS] {
    let mut c = [0; N_COUNTERS];
    for &(i, n) in pairs {
        c[i] = n;
    }
    c
}

fn dep<'a>(name: &'a str, version: &'a str, weight: u8) -> DeploymentSnapshot<'a> {
    DeploymentSnapshot {
        name,
        version,
        enabled: true,
        weight,
        state: DeploymentStateName::Active,
        counts: [0; N_COUNTERS],
        release: None,
    }
}

#[test]
fn counter_layout_is_dense_and_distinct() {
    let mut seen = std::collections::HashSet::new();
    for k in CountKind::ALL {
        assert!(seen.insert(total_slot(k)));
        for c in 0..4 {
            assert!(seen.insert(status_slot(k, c)));
        }
    }
    for i in [ASSET_404, JS_ERRORS, NEW_USERS, BYTES] {
        assert!(seen.insert(i));
    }
    assert_eq!(seen.len(), N_COUNTERS);
    assert!(seen.iter().all(|&i| i < N_COUNTERS));
}

#[test]
fn record_counts_kind_class_404_bytes_and_new_users() {
    let c = Counters::default();
    let f = |kind, status, bytes, new_user| Finished {
        kind,
        status,
        bytes,
        new_user,
    };
    c.record(&f(CountKind::Entry, 200, 100, true));
    c.record(&f(CountKind::Entry, 502, 10, false));
    c.record(&f(CountKind::Asset, 404, 5, false));
    c.record(&f(CountKind::Asset, 304, 0, false));
    c.record(&f(CountKind::Manifest, 0, 0, false)); // no status: the total only
    c.record(&f(CountKind::Manifest, 101, 0, false));
    c.record(&f(CountKind::Entry, 404, 0, false)); // a 404 entry is no asset404
    let s = c.snapshot();
    assert_eq!(s[total_slot(CountKind::Entry)], 3);
    assert_eq!(s[total_slot(CountKind::Asset)], 2);
    assert_eq!(s[total_slot(CountKind::Manifest)], 2);
    assert_eq!(s[status_slot(CountKind::Entry, 0)], 1);
    assert_eq!(s[status_slot(CountKind::Entry, 2)], 1);
    assert_eq!(s[status_slot(CountKind::Entry, 3)], 1);
    assert_eq!(s[status_slot(CountKind::Asset, 1)], 1);
    assert_eq!(s[status_slot(CountKind::Asset, 2)], 1);
    assert_eq!(s[ASSET_404], 1);
    assert_eq!(s[NEW_USERS], 1);
    assert_eq!(s[BYTES], 115);
    let classes: u64 = CountKind::ALL
        .iter()
        .flat_map(|&k| (0..4).map(move |c| status_slot(k, c)))
        .map(|i| s[i])
        .sum();
    assert_eq!(classes, 5);
    c.clear();
    assert_eq!(c.snapshot(), [0; N_COUNTERS]);
}

#[test]
fn status_classes() {
    assert_eq!(class_of(199), None);
    assert_eq!(class_of(200), Some(0));
    assert_eq!(class_of(399), Some(1));
    assert_eq!(class_of(499), Some(2));
    assert_eq!(class_of(599), Some(3));
    assert_eq!(class_of(600), None);
    assert_eq!(class_of(0), None);
}

#[test]
fn app_names() {
    assert_eq!(app_name(Some("shop"), "/etc/gray/app1.yaml"), "shop");
    assert_eq!(app_name(None, "/etc/gray/app1.yaml"), "app1");
    assert_eq!(app_name(None, "/etc/gray/app.v2.yml"), "app.v2");
    assert_eq!(app_name(None, "noext"), "noext");
    assert_eq!(app_name(None, "/x/.hidden"), ".hidden");
}

fn sample_apps<'a>(deps: &'a [DeploymentSnapshot<'a>]) -> [AppSnapshot<'a>; 1] {
    [AppSnapshot {
        name: "app1",
        config: "/etc/gray/app1.yaml",
        mode: Mode::Percentage,
        pinned: Some("v2"),
        deployments: deps,
    }]
}

#[test]
fn json_has_every_key_of_the_spec() {
    let mut deps = vec![dep("base", "v1", 70), dep("beta", "v2", 30)];
    deps[1].counts = counts(&[
        (total_slot(CountKind::Entry), 7),
        (status_slot(CountKind::Asset, 2), 3),
        (ASSET_404, 3),
        (BYTES, 1234),
        (NEW_USERS, 2),
    ]);
    deps[1].state = DeploymentStateName::Disabled;
    deps[1].enabled = false;
    let apps = sample_apps(&deps);
    let mut out = AVec::new();
    render_json(&mut out, 42, &apps);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    assert_eq!(v["generation"], 42);
    let a = &v["apps"]["app1"];
    assert_eq!(a["config"], "/etc/gray/app1.yaml");
    assert_eq!(a["mode"], "percentage");
    assert_eq!(a["pinned"], "v2");
    let d = &a["deployments"]["beta"];
    assert_eq!(d["version"], "v2");
    assert_eq!(d["enabled"], false);
    assert_eq!(d["weight"], 30);
    assert_eq!(d["state"], "disabled");
    assert_eq!(d["entries"], 7);
    assert_eq!(d["assets"], 0);
    assert_eq!(d["manifests"], 0);
    assert_eq!(d["status"]["asset"]["4xx"], 3);
    for k in ["entry", "asset", "manifest"] {
        for c in CLASSES {
            assert!(d["status"][k][c].is_u64(), "{k} {c}");
        }
    }
    assert_eq!(d["asset404"], 3);
    assert_eq!(d["jsErrors"], 0);
    assert_eq!(d["newUsers"], 2);
    assert_eq!(d["bytes"], 1234);
    assert!(d["rollout"].is_null());
    assert!(d["guard"].is_null());
    assert_eq!(a["deployments"]["base"]["weight"], 70);
    // order: base first, as listed
    let text = String::from_utf8(out.to_vec()).unwrap();
    assert!(text.find("\"base\"").unwrap() < text.find("\"beta\"").unwrap());
}

#[test]
fn json_escapes_strings() {
    let deps = [dep("base", "v1", 100)];
    let apps = [AppSnapshot {
        name: "a\"b\\c</script>\n\u{1}",
        config: "/x/é.yaml",
        mode: Mode::Rules,
        pinned: None,
        deployments: &deps,
    }];
    let mut out = AVec::new();
    render_json(&mut out, 0, &apps);
    let text = std::str::from_utf8(&out).unwrap();
    assert!(!text.contains("</script>"));
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let (name, a) = v["apps"].as_object().unwrap().iter().next().unwrap();
    assert_eq!(name, "a\"b\\c</script>\n\u{1}");
    assert_eq!(a["config"], "/x/é.yaml");
    assert!(a["pinned"].is_null());
    assert_eq!(a["mode"], "rules");
}

/// Every line of the exposition is a comment or `name{labels} value`, and no series repeats.
fn check_exposition(text: &str) -> HashMap<String, String> {
    let mut series = HashMap::new();
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(typed.insert(name.to_string()), "TYPE twice: {name}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect(line);
        assert!(value.parse::<u64>().is_ok(), "{line}");
        let name = key.split('{').next().unwrap();
        assert!(typed.contains(name), "sample before its TYPE: {line}");
        assert!(key.ends_with('}'), "{line}");
        assert!(
            series.insert(key.to_string(), value.to_string()).is_none(),
            "duplicate series {key}"
        );
    }
    series
}

#[test]
fn prometheus_names_labels_and_values() {
    let mut deps = vec![dep("base", "v1", 70), dep("beta", "v2", 30)];
    deps[1].counts = counts(&[
        (status_slot(CountKind::Entry, 3), 5),
        (ASSET_404, 2),
        (BYTES, 99),
    ]);
    let apps = sample_apps(&deps);
    let mut out = AVec::new();
    render_prometheus(&mut out, &apps);
    let text = std::str::from_utf8(&out).unwrap();
    let s = check_exposition(text);
    let l = r#"app="app1",deployment="beta",version="v2""#;
    assert_eq!(
        s[&format!("frontend_gray_requests_total{{{l},kind=\"entry\",status=\"5xx\"}}")],
        "5"
    );
    assert_eq!(
        s[&format!("frontend_gray_requests_total{{{l},kind=\"manifest\",status=\"2xx\"}}")],
        "0"
    );
    assert_eq!(s[&format!("frontend_gray_asset_404_total{{{l}}}")], "2");
    assert_eq!(s[&format!("frontend_gray_sent_bytes_total{{{l}}}")], "99");
    assert_eq!(s[&format!("frontend_gray_js_errors_total{{{l}}}")], "0");
    assert_eq!(s[&format!("frontend_gray_new_users_total{{{l}}}")], "0");
    assert_eq!(s[&format!("frontend_gray_weight{{{l}}}")], "30");
    assert_eq!(s[r#"frontend_gray_pinned{app="app1",version="v2"}"#], "1");
    assert_eq!(s[r#"frontend_gray_pinned{app="app1",version="v1"}"#], "0");
    assert_eq!(
        s[&format!("frontend_gray_state{{{l},state=\"active\"}}")],
        "1"
    );
    assert_eq!(
        s[&format!("frontend_gray_state{{{l},state=\"rolledBack\"}}")],
        "0"
    );
    // 2 deployments × (12 requests + 4 counters + weight + 6 states) + 2 pinned
    assert_eq!(s.len(), 2 * (12 + 4 + 1 + 6) + 2);
}

#[test]
fn prometheus_one_pinned_sample_per_version_and_escaped_labels() {
    let deps = [dep("base", "v1", 100), dep("same", "v1", 0)];
    let apps = [AppSnapshot {
        name: "we\"ird\\\n",
        config: "x",
        mode: Mode::Rules,
        pinned: None,
        deployments: &deps,
    }];
    let mut out = AVec::new();
    render_prometheus(&mut out, &apps);
    let text = std::str::from_utf8(&out).unwrap();
    let s = check_exposition(text);
    assert!(s.contains_key(r#"frontend_gray_pinned{app="we\"ird\\\n",version="v1"}"#));
    assert_eq!(text.matches("frontend_gray_pinned{").count(), 1);
}

// ---- PATCH ----

fn steered() -> std::vec::Vec<Steered<'static>> {
    vec![
        Steered {
            name: "base",
            version: "v1",
            weight: 0,
            weight_override: None,
            enabled_override: None,
            has_rollout: false,
        },
        Steered {
            name: "beta",
            version: "v2",
            weight: 30,
            weight_override: None,
            enabled_override: None,
            has_rollout: false,
        },
        Steered {
            name: "gamma",
            version: "v3",
            weight: 10,
            weight_override: None,
            enabled_override: None,
            has_rollout: false,
        },
    ]
}

fn apply(body: &str) -> Result<(std::vec::Vec<Steered<'static>>, Option<usize>), String> {
    let mut d = steered();
    let mut pin = None;
    let p = parse_patch(body.as_bytes()).map_err(|e| e.0)?;
    p.apply(&mut d, &mut pin).map_err(|e| e.0)?;
    Ok((d, pin))
}

#[test]
fn patch_pin_and_unpin() {
    assert_eq!(apply(r#"{"pin": "v2"}"#).unwrap().1, Some(1));
    assert_eq!(apply(r#"{"pin": "v1"}"#).unwrap().1, Some(0));
    let mut d = steered();
    let mut pin = Some(2);
    parse_patch(br#"{"pin": null}"#)
        .unwrap()
        .apply(&mut d, &mut pin)
        .unwrap();
    assert_eq!(pin, None);
    // an empty patch keeps everything
    let mut pin = Some(2);
    parse_patch(b"{}").unwrap().apply(&mut d, &mut pin).unwrap();
    assert_eq!(pin, Some(2));
}

#[test]
fn patch_weights_enabled_and_clearing() {
    let (d, _) =
        apply(r#"{"deployments": {"beta": {"weight": 25}, "gamma": {"enabled": false}}}"#).unwrap();
    assert_eq!(d[1].weight_override, Some(25));
    assert_eq!(d[1].effective_weight(), 25);
    assert_eq!(d[2].enabled_override, Some(false));
    assert_eq!(d[2].effective_weight(), 0);
    // a disabled deployment's weight does not count in the sum
    apply(r#"{"deployments": {"beta": {"weight": 100}, "gamma": {"enabled": false}}}"#).unwrap();
    let mut d = steered();
    d[1].weight_override = Some(5);
    let mut pin = None;
    parse_patch(br#"{"deployments": {"beta": {"weight": null, "enabled": null}}}"#)
        .unwrap()
        .apply(&mut d, &mut pin)
        .unwrap();
    assert_eq!(d[1].weight_override, None);
    assert_eq!(d[1].enabled_override, None);
    assert!(apply(r#"{"deployments": {"beta": {"reset": true}}}"#).is_ok());
}

#[test]
fn patch_errors_say_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        ("{", "body is not JSON"),
        ("[1]", "body must be a JSON object"),
        (r#"{"pin": 3}"#, "\"pin\" must be a version"),
        (
            r#"{"pin": "v9"}"#,
            "unknown version \"v9\" (configured: v1, v2, v3)",
        ),
        (r#"{"pinned": "v1"}"#, "unknown field \"pinned\""),
        (
            r#"{"deployments": []}"#,
            "\"deployments\" must be an object",
        ),
        (
            r#"{"deployments": {"beta": 1}}"#,
            "\"deployments.beta\" must be an object",
        ),
        (
            r#"{"deployments": {"nope": {"weight": 1}}}"#,
            "unknown deployment \"nope\" (configured: base, beta, gamma)",
        ),
        (
            r#"{"deployments": {"beta": {"weight": 101}}}"#,
            "deployments.beta.weight: 101 is outside 0-100",
        ),
        (
            r#"{"deployments": {"beta": {"weight": -1}}}"#,
            "deployments.beta.weight: -1 is outside 0-100",
        ),
        (
            r#"{"deployments": {"beta": {"weight": 2.5}}}"#,
            "deployments.beta.weight: 2.5 is outside 0-100",
        ),
        (
            r#"{"deployments": {"beta": {"weight": "5"}}}"#,
            "must be a number 0-100 or null",
        ),
        (
            r#"{"deployments": {"beta": {"enabled": 1}}}"#,
            "deployments.beta.enabled: must be true, false or null",
        ),
        (
            r#"{"deployments": {"beta": {"rollout": "go"}}}"#,
            "must be \"pause\" or \"resume\"",
        ),
        (
            r#"{"deployments": {"beta": {"rollout": "pause"}}}"#,
            "deployments.beta.rollout: the deployment has no rollout",
        ),
        (
            r#"{"deployments": {"beta": {"reset": false}}}"#,
            "deployments.beta.reset: must be true",
        ),
        (
            r#"{"deployments": {"beta": {"color": 1}}}"#,
            "unknown field \"deployments.beta.color\"",
        ),
        (
            r#"{"deployments": {"base": {"weight": 1}}}"#,
            "deployments.base: the base deployment",
        ),
        (
            r#"{"deployments": {"beta": {"weight": 95}}}"#,
            "weights of enabled gray deployments would sum to 105, over 100",
        ),
        (
            r#"{"deployments": {"gamma": {"enabled": true, "weight": 71}}}"#,
            "would sum to 101",
        ),
    ];
    for (body, want) in cases {
        let got = apply(body).expect_err(body);
        assert!(got.contains(want), "{body}: {got:?} lacks {want:?}");
    }
    let big = format!("{{\"pin\": \"{}\"}}", "x".repeat(MAX_PATCH_BODY));
    assert!(apply(&big).unwrap_err().contains("body over"));
}

#[test]
fn a_refused_patch_changes_nothing() {
    let mut d = steered();
    let mut pin = Some(1);
    let p = parse_patch(br#"{"pin": "v3", "deployments": {"beta": {"weight": 99}}}"#).unwrap();
    assert!(p.apply(&mut d, &mut pin).is_err());
    assert_eq!(pin, Some(1));
    assert_eq!(d, steered());
}

#[test]
fn state_file_round_trip_and_refusals() {
    let mut s = StateFile::default();
    s.apps.insert(
        "app1".into(),
        AppState {
            pin: Some("v2".into()),
            deployments: [(
                "beta".into(),
                DeploymentState {
                    version: "v2".into(),
                    weight: Some(25),
                    enabled: None,
                    release: Some(vec![1, 2, 3]),
                },
            )]
            .into(),
        },
    );
    let text = s.to_json();
    assert_eq!(StateFile::parse(text.as_bytes()).unwrap(), s);
    assert!(StateFile::parse(&text.as_bytes()[..text.len() / 2]).is_err());
    assert!(StateFile::parse(b"").is_err());
    assert!(StateFile::parse(b"{\"apps\": {\"a\": {\"pin\": 1}}}").is_err());
    assert!(StateFile::parse(
        b"{\"apps\": {\"a\": {\"deployments\": {\"b\": {\"version\": \"v\", \"weight\": 101}}}}}"
    )
    .is_err());
}

#[test]
fn dashboard_is_self_contained() {
    let (head, w, tail) = dashboard_html(true);
    assert_eq!(w, "on");
    assert_eq!(dashboard_html(false).1, "off");
    let page = format!("{head}{w}{tail}");
    assert!(page.contains("data-write=\"on\""));
    for external in ["src=", "href=", "http://", "https://", "@import"] {
        assert!(!page.contains(external), "{external}");
    }
}

// ---- the decision under steering ----

#[derive(Default)]
struct Req {
    cookies: String,
}

impl RequestHeaders for Req {
    fn header(&self, _: &str) -> Option<&[u8]> {
        None
    }
    fn cookie(&self, name: &str) -> Option<&[u8]> {
        crate::cookies::find_cookie(self.cookies.as_bytes(), name.as_bytes())
    }
}

#[derive(Default)]
struct Steer {
    pin: Option<usize>,
    grays: std::vec::Vec<(Option<bool>, Option<u8>)>,
}

impl Steering for Steer {
    fn pinned(&self) -> Option<usize> {
        self.pin
    }
    fn overridden(&self) -> bool {
        !self.grays.is_empty()
    }
    fn gray(&self, i: usize) -> (Option<bool>, Option<u8>) {
        self.grays.get(i).copied().unwrap_or((None, None))
    }
}

fn version(c: &GrayConfig, path: &str, cookies: &str, s: &Steer) -> String {
    let mut scratch = AVec::new();
    let r = Req {
        cookies: cookies.into(),
    };
    decide_steered(c, path.as_bytes(), &r, &mut scratch, s)
        .unwrap()
        .version
        .to_string()
}

const RULES: &str = r#"
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
rewrite: {fileRouting: {"/": "/app/{version}"}}
"#;

#[test]
fn pin_beats_the_decision_for_entries_the_sticky_cookie_beats_pin_for_assets() {
    let c = GrayConfig::from_yaml(RULES).unwrap();
    let none = Steer::default();
    let pin_base = Steer {
        pin: Some(0),
        ..Default::default()
    };
    let pin_beta = Steer {
        pin: Some(1),
        ..Default::default()
    };
    assert_eq!(version(&c, "/", "userid=u1", &none), "v2");
    assert_eq!(version(&c, "/", "userid=u1", &pin_base), "v1");
    assert_eq!(version(&c, "/", "", &pin_beta), "v2");
    // assets: the sticky cookie first, then the pin
    assert_eq!(version(&c, "/a.js", "x-higress-tag=v2", &pin_base), "v2");
    assert_eq!(version(&c, "/a.js", "", &pin_beta), "v2");
    assert_eq!(version(&c, "/a.js", "userid=u1", &pin_base), "v1");
    // a pin index past the deployments is ignored
    let bad = Steer {
        pin: Some(9),
        ..Default::default()
    };
    assert_eq!(version(&c, "/", "userid=u1", &bad), "v2");
}

#[test]
fn disabled_override_stops_the_rule_but_not_the_sticky_cookie() {
    let c = GrayConfig::from_yaml(RULES).unwrap();
    let off = Steer {
        grays: vec![(Some(false), None)],
        ..Default::default()
    };
    assert_eq!(version(&c, "/", "userid=u1", &off), "v1");
    assert_eq!(version(&c, "/a.js", "x-higress-tag=v2", &off), "v2");
}

const WEIGHTS: &str = r#"
baseDeployment: {version: v1}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 10}
- {name: b, version: vb, enabled: true, weight: 20}
"#;

fn shares(c: &GrayConfig, s: &Steer) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for b in 0..2000 {
        let v = version(c, "/", &format!("x-higress-uid=user{b}"), s);
        *out.entry(v).or_insert(0) += 1;
    }
    out
}

#[test]
fn weight_overrides_move_the_buckets() {
    let c = GrayConfig::from_yaml(WEIGHTS).unwrap();
    let same = shares(&c, &Steer::default());
    // an override that restates the configuration changes nothing
    let restated = Steer {
        grays: vec![(None, Some(10)), (Some(true), None)],
        ..Default::default()
    };
    assert_eq!(shares(&c, &restated), same);
    let s = shares(
        &c,
        &Steer {
            grays: vec![(Some(false), None), (None, Some(50))],
            ..Default::default()
        },
    );
    assert!(!s.contains_key("va"));
    let vb = s["vb"] as f64 / 2000.0;
    assert!((0.45..0.55).contains(&vb), "{vb}");
    // every weight 0: rule mode, and with no rules everyone is on base
    let zero = Steer {
        grays: vec![(None, Some(0)), (None, Some(0))],
        ..Default::default()
    };
    assert!(!crate::decide::is_percentage(&c, &zero));
    assert_eq!(
        shares(&c, &zero).keys().collect::<std::vec::Vec<_>>(),
        ["v1"]
    );
}

#[test]
fn app_name_field_is_checked() {
    let c = GrayConfig::from_yaml("name: shop-1\nbaseDeployment: {version: v1}").unwrap();
    assert_eq!(c.name.as_deref(), Some("shop-1"));
    let e = GrayConfig::from_yaml("name: a/b\nbaseDeployment: {version: v1}").unwrap_err();
    assert!(e.to_string().starts_with("name: "), "{e}");
}
