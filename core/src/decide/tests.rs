use std::collections::HashMap;

use super::*;
use crate::config::GrayConfig;

#[derive(Default)]
struct Req {
    headers: HashMap<String, std::vec::Vec<u8>>,
    cookies: String,
}

impl Req {
    fn cookie(c: &str) -> Req {
        Req {
            cookies: c.into(),
            ..Default::default()
        }
    }
    fn header(mut self, k: &str, v: &str) -> Req {
        self.headers
            .insert(k.to_ascii_lowercase(), v.as_bytes().to_vec());
        self
    }
}

impl RequestHeaders for Req {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(|v| v.as_slice())
    }
    fn cookie(&self, name: &str) -> Option<&[u8]> {
        crate::cookies::find_cookie(self.cookies.as_bytes(), name.as_bytes())
    }
}

fn run<'c>(c: &'c GrayConfig, path: &str, r: &Req) -> Option<Decision<'c>> {
    let mut scratch = Vec::new();
    decide(c, path.as_bytes(), r, &mut scratch)
}

fn version(c: &GrayConfig, path: &str, r: &Req) -> Option<String> {
    run(c, path, r).map(|d| d.version.to_string())
}

const RULES: &str = r#"
grayKey: userid
rules:
- name: inner-user
  grayKeyValue: ['00000001', '00000005']
- name: beta-user
  grayKeyValue: ['00000002', '00000003']
  grayTagKey: level
  grayTagValue: [level3, level5]
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
"#;

#[test]
fn html_detection() {
    for p in [
        "/", "/app1", "/app1/", "/a.html", "/a.HTM", "/x.php", "/x.jsp", "/x.aspx", "/x.erb",
        "/x.ejs", "/x.twig", "/x.asp",
    ] {
        assert!(is_html_path(p.as_bytes()), "{p}");
    }
    for p in ["/a.js", "/a.css", "/m.json", "/x.png", "/a.html.map"] {
        assert!(!is_html_path(p.as_bytes()), "{p}");
    }
}

#[test]
fn rule_mode_user_id_and_tags() {
    let c = GrayConfig::from_yaml(RULES).unwrap();
    assert_eq!(
        version(&c, "/", &Req::cookie("userid=00000002")).as_deref(),
        Some("gray")
    );
    assert_eq!(
        version(&c, "/", &Req::cookie("userid=00000003")).as_deref(),
        Some("gray")
    );
    // inner-user has no enabled deployment
    assert_eq!(
        version(&c, "/", &Req::cookie("userid=00000001")).as_deref(),
        Some("base")
    );
    assert_eq!(
        version(&c, "/", &Req::cookie("level=level5")).as_deref(),
        Some("gray")
    );
    assert_eq!(
        version(&c, "/", &Req::cookie("level=level4")).as_deref(),
        Some("base")
    );
    assert_eq!(version(&c, "/", &Req::default()).as_deref(), Some("base"));
    // header when no cookie; cookie wins over header
    assert_eq!(
        version(&c, "/", &Req::default().header("userid", "00000002")).as_deref(),
        Some("gray")
    );
    assert_eq!(
        version(
            &c,
            "/",
            &Req::cookie("userid=x").header("userid", "00000002")
        )
        .as_deref(),
        Some("base")
    );
    let d = run(&c, "/", &Req::default()).unwrap();
    assert_eq!(d.kind, Kind::Html);
    assert!(d.uid.is_none());
    assert!(d.deployment.is_base());
}

#[test]
fn gray_sub_key() {
    let c = GrayConfig::from_yaml(
        &RULES.replace("grayKey: userid", "grayKey: appInfo\ngraySubKey: userId"),
    )
    .unwrap();
    let enc = "%7B%22userId%22%3A%2200000002%22%7D";
    assert_eq!(
        version(&c, "/", &Req::cookie(&format!("appInfo={enc}"))).as_deref(),
        Some("gray")
    );
    assert_eq!(
        version(&c, "/", &Req::cookie("appInfo={\"userId\":\"00000003\"}")).as_deref(),
        Some("gray")
    );
    assert_eq!(
        version(&c, "/", &Req::cookie("appInfo={\"userId\":3}")).as_deref(),
        Some("base")
    );
    // raw fallback: not JSON, value itself is the id
    assert_eq!(
        version(&c, "/", &Req::cookie("appInfo=00000002")).as_deref(),
        Some("gray")
    );
    // junk never panics
    for junk in [
        "appInfo=%",
        "appInfo=%7B",
        "appInfo={\"userId\":",
        "appInfo=\u{7f}\u{1}",
        "appInfo={\"userId\":[1,2]}",
    ] {
        assert_eq!(
            version(&c, "/", &Req::cookie(junk)).as_deref(),
            Some("base"),
            "{junk}"
        );
    }
}

const PCT: &str = r#"
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: v-a, enabled: true, weight: 20}
- {name: off, version: v-off, enabled: false, weight: 50}
- {name: b, version: v-b, enabled: true, weight: 30}
"#;

fn expected_pct(uid: &str) -> &'static str {
    match crate::uid::bucket(uid.as_bytes()) {
        0..=19 => "v-a",
        20..=49 => "v-b",
        _ => "base",
    }
}

#[test]
fn percentage_mode_buckets_consecutively() {
    let c = GrayConfig::from_yaml(PCT).unwrap();
    let mut seen = std::collections::HashSet::new();
    for i in 0..300 {
        let uid = format!("user-{i}");
        let d = run(&c, "/", &Req::cookie(&format!("x-higress-uid={uid}"))).unwrap();
        assert_eq!(d.version, expected_pct(&uid), "{uid}");
        assert_eq!(d.uid.unwrap().as_str(), uid);
        assert!(!d.uid.unwrap().fresh);
        seen.insert(d.version);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn percentage_uid_header_then_cookie_then_new() {
    let c = GrayConfig::from_yaml(PCT).unwrap();
    let d = run(
        &c,
        "/",
        &Req::cookie("x-higress-uid=fromcookie").header("x-higress-uid", "fromheader"),
    )
    .unwrap();
    assert_eq!(d.uid.unwrap().as_str(), "fromheader");
    assert_eq!(d.version, expected_pct("fromheader"));
    // invalid header falls back to a good cookie
    let d = run(
        &c,
        "/",
        &Req::cookie("x-higress-uid=fromcookie").header("x-higress-uid", "bad value;"),
    )
    .unwrap();
    assert_eq!(d.uid.unwrap().as_str(), "fromcookie");
    // invalid everywhere, or absent: a fresh one, and the bucket uses that same one. One
    // random uid would catch a bucket drawn from another id only ~62 % of the time (two random
    // buckets land on the same version with odds .2² + .3² + .5²); 64 of them miss it with
    // odds below 1e-26
    let long = "a".repeat(65);
    for i in 0..64 {
        let r = if i % 2 == 0 {
            Req::cookie(&format!("x-higress-uid={long}"))
        } else {
            Req::default()
        };
        let d = run(&c, "/", &r).unwrap();
        let u = d.uid.unwrap();
        assert!(u.fresh);
        assert_eq!(u.as_bytes().len(), 32);
        assert_eq!(d.version, expected_pct(u.as_str()), "{u:?}");
    }
}

#[test]
fn percentage_overrides_rules() {
    let c = GrayConfig::from_yaml(
        "grayKey: userid\nrules: [{name: a, grayKeyValue: [u1]}]\nbaseDeployment: {version: base}\ngrayDeployments: [{name: a, version: g, enabled: true, weight: 0}, {name: w, version: w, enabled: true, weight: 100}]\n",
    )
    .unwrap();
    assert_eq!(
        version(&c, "/", &Req::cookie("userid=u1")).as_deref(),
        Some("w")
    );
}

#[test]
fn uid_in_rule_mode_only_with_unique_gray_tag() {
    let c = GrayConfig::from_yaml(&format!("{RULES}uniqueGrayTag: my-uid\n")).unwrap();
    let d = run(&c, "/", &Req::default()).unwrap();
    assert!(d.uid.unwrap().fresh);
    let d = run(&c, "/", &Req::cookie("my-uid=abc")).unwrap();
    assert_eq!(d.uid.unwrap().as_str(), "abc");
    // assets do not mint one
    let c2 = GrayConfig::from_yaml(&format!("{RULES}uniqueGrayTag: my-uid\n")).unwrap();
    assert!(run(&c2, "/a.js", &Req::default()).unwrap().uid.is_none());
}

#[test]
fn assets_are_sticky_entries_are_not() {
    let c = GrayConfig::from_yaml(RULES).unwrap();
    let gray_cookie = Req::cookie("x-higress-tag=gray");
    assert_eq!(
        version(&c, "/js/a.js", &gray_cookie).as_deref(),
        Some("gray")
    );
    assert!(run(&c, "/js/a.js", &gray_cookie).unwrap().sticky);
    // entry decides afresh
    assert_eq!(version(&c, "/", &gray_cookie).as_deref(), Some("base"));
    // base tag keeps a gray user on base for assets
    assert_eq!(
        version(
            &c,
            "/a.js",
            &Req::cookie("x-higress-tag=base; userid=00000002")
        )
        .as_deref(),
        Some("base")
    );
    // unknown version ignored
    assert_eq!(
        version(
            &c,
            "/a.js",
            &Req::cookie("x-higress-tag=v9; userid=00000002")
        )
        .as_deref(),
        Some("gray")
    );
    // disabled deployment's version is unknown
    let c2 = GrayConfig::from_yaml(&RULES.replace("enabled: true", "enabled: false")).unwrap();
    assert_eq!(
        version(&c2, "/a.js", &Req::cookie("x-higress-tag=gray")),
        None,
        "nothing to do for assets"
    );
    assert_eq!(
        version(
            &c2,
            "/",
            &Req::cookie("x-higress-tag=gray; userid=00000002")
        )
        .as_deref(),
        Some("base")
    );
    let c3 = GrayConfig::from_yaml(&format!(
        "{}rewrite:\n  fileRouting:\n    /: /s/{{version}}\n",
        RULES.replace("enabled: true", "enabled: false")
    ))
    .unwrap();
    assert_eq!(
        version(&c3, "/a.js", &Req::cookie("x-higress-tag=gray")).as_deref(),
        Some("base")
    );
}

#[test]
fn act_rules() {
    let base = "baseDeployment: {version: b}\n";
    // nothing to do for assets: no routing, no gray deployment
    let c = GrayConfig::from_yaml(base).unwrap();
    assert!(run(&c, "/a.js", &Req::default()).is_none());
    assert_eq!(run(&c, "/", &Req::default()).unwrap().kind, Kind::Html);
    // rollback (all gray disabled) keeps rewriting with routing configured
    let c = GrayConfig::from_yaml(&format!("{base}grayDeployments: [{{name: g, version: g, enabled: false}}]\nrewrite:\n  fileRouting:\n    /: /x/{{version}}\n")).unwrap();
    assert_eq!(run(&c, "/a.js", &Req::default()).unwrap().version, "b");

    let c = GrayConfig::from_yaml(&format!(
        "{base}grayDeployments: [{{name: g, version: g, enabled: true, weight: 50}}]\nindexPaths: ['/app1/**/manifest.json']\nskippedPaths: ['/api/**', '/app1/**']\nskippedByHeaders: {{X-Requested-With: XMLHttpRequest}}\n"
    ))
    .unwrap();
    assert_eq!(
        run(&c, "/app1/manifest.json", &Req::default())
            .unwrap()
            .kind,
        Kind::Index
    );
    assert_eq!(
        run(&c, "/app1/a/manifest.json", &Req::default())
            .unwrap()
            .kind,
        Kind::Index
    );
    assert!(run(&c, "/api", &Req::default()).is_none());
    assert!(run(&c, "/api/users", &Req::default()).is_none());
    assert!(run(&c, "/app1/a.js", &Req::default()).is_none());
    let xhr = Req::default().header("x-requested-with", "XMLHttpRequest");
    assert!(run(&c, "/a.js", &xhr).is_none());
    assert_eq!(
        run(&c, "/page", &xhr).unwrap().kind,
        Kind::Html,
        "HTML never skipped by headers"
    );
    assert_eq!(
        run(
            &c,
            "/a.js",
            &Req::default().header("x-requested-with", "other")
        )
        .unwrap()
        .kind,
        Kind::Asset
    );
    // rewrite.host: acted before skippedByHeaders
    let c = GrayConfig::from_yaml(&format!(
        "{base}rewrite: {{host: cdn}}\nskippedByHeaders: {{x-a: b}}\n"
    ))
    .unwrap();
    assert_eq!(
        run(&c, "/a.js", &Req::default().header("x-a", "b"))
            .unwrap()
            .kind,
        Kind::Asset
    );
    // indexPaths + HTML is an HTML entry
    let c = GrayConfig::from_yaml(&format!("{base}indexPaths: ['/app/**']\n")).unwrap();
    assert_eq!(
        run(&c, "/app/page", &Req::default()).unwrap().kind,
        Kind::Html
    );
}

#[test]
fn version_predicates_on_non_html() {
    let c = GrayConfig::from_yaml(
        "baseDeployment:\n  version: b\n  versionPredicates: {/app1/: a1, /app1/sub/: s1}\nindexPaths: ['/**/manifest.json']\nrewrite:\n  fileRouting:\n    /app1/: /mfe/app1/{version}\n",
    )
    .unwrap();
    assert_eq!(
        version(&c, "/app1/x.js", &Req::default()).as_deref(),
        Some("a1")
    );
    assert_eq!(
        version(&c, "/app1/sub/x.js", &Req::default()).as_deref(),
        Some("s1")
    );
    assert_eq!(
        version(&c, "/app1/manifest.json", &Req::default()).as_deref(),
        Some("a1")
    );
    assert_eq!(
        version(&c, "/app2/x.js", &Req::default()).as_deref(),
        Some("b")
    );
    assert_eq!(
        version(&c, "/app1/", &Req::default()).as_deref(),
        Some("b"),
        "HTML keeps the deployment version"
    );
    assert_eq!(
        version(&c, "/app2/manifest.json", &Req::default()).as_deref(),
        Some("b")
    );
}

#[test]
fn entry_cookie_flags() {
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\nindexPaths: ['/m.json']\nuseManifestAsEntry: true\n",
    )
    .unwrap();
    assert!(run(&c, "/m.json", &Req::default())
        .unwrap()
        .sets_cookies(&c));
    assert!(run(&c, "/", &Req::default()).unwrap().sets_cookies(&c));
    let c =
        GrayConfig::from_yaml("baseDeployment: {version: b}\nindexPaths: ['/m.json']\n").unwrap();
    assert!(!run(&c, "/m.json", &Req::default())
        .unwrap()
        .sets_cookies(&c));
}

#[test]
fn hostile_headers_never_panic() {
    let c = GrayConfig::from_yaml(&format!("{RULES}graySubKey: id\nuniqueGrayTag: u\n")).unwrap();
    let big = "x".repeat(16 * 1024);
    let many: String = (0..5000).map(|i| format!("k{i}=v{i}; ")).collect();
    let gray_after = |junk: &str| format!("{junk}; userid=00000002");
    // (cookie header, the version both an asset and the entry get, the uid cookie is kept)
    let cases: std::vec::Vec<(String, &str, bool)> = std::vec![
        (big.clone(), "base", false),
        (many.clone(), "base", false),
        ("\u{0};;;==".into(), "base", false),
        ("userid=%ff%fe".into(), "base", false),
        ("u=\r\nSet-Cookie: a=b".into(), "base", false),
        ("x-higress-tag=../../etc".into(), "base", false),
        ("u=a.b; userid=00000001".into(), "base", false),
        (gray_after(&big), "gray", false),
        (gray_after(&many), "gray", false),
        (gray_after("\u{0};;;=="), "gray", false),
        (
            gray_after("x-higress-tag=../../etc; u=ok_uid-1"),
            "gray",
            true
        ),
    ];
    for (cookie, want, kept) in &cases {
        let what = &cookie[..cookie.len().min(40)];
        let d = run(&c, "/a.js", &Req::cookie(cookie)).expect("assets are acted on");
        assert_eq!(d.version, *want, "asset, cookie {what:?}");
        assert!(!d.sticky, "asset, cookie {what:?}");
        assert!(
            d.uid.is_none_or(|u| !u.fresh),
            "assets mint no uid: {what:?}"
        );
        let d = run(&c, "/", &Req::cookie(cookie)).unwrap();
        assert_eq!(d.version, *want, "entry, cookie {what:?}");
        let u = d.uid.unwrap();
        assert!(crate::uid::is_valid(u.as_bytes()));
        assert_eq!(!u.fresh, *kept, "entry uid {u:?}, cookie {what:?}");
        if *kept {
            assert_eq!(u.as_str(), "ok_uid-1");
        }
    }
}

#[test]
fn global_config_feature_map() {
    let c = GrayConfig::from_yaml(&format!(
        "{RULES}injection:\n  globalConfig: {{enabled: true, key: CFG, featureKey: FEAT, value: '{{\"release\": \"{{version}}\", \"n\": 1}}'}}\n"
    ))
    .unwrap();
    let mut scratch = Vec::new();
    let script = |version, req: &Req| {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        global_config_script(&c, version, req, &mut scratch, &mut out)
            .then(|| String::from_utf8(out.to_vec()).unwrap())
    };
    assert_eq!(
        script("gray", &Req::cookie("userid=00000002")).unwrap(),
        r#"<script>var CFG = {FEAT: {"inner-user": false, "beta-user": true}, "release": "gray", "n": 1};</script>"#
    );
    assert_eq!(
        script("base", &Req::cookie("userid=00000001")).unwrap(),
        r#"<script>var CFG = {FEAT: {"inner-user": true, "beta-user": false}, "release": "base", "n": 1};</script>"#
    );
    let plain = GrayConfig::from_yaml(RULES).unwrap();
    let mut out = Vec::new();
    assert!(!global_config_script(
        &plain,
        "v",
        &Req::default(),
        &mut scratch,
        &mut out
    ));
    assert!(out.is_empty());
    // no value: the feature map alone
    let c = GrayConfig::from_yaml(&format!(
        "{RULES}injection:\n  globalConfig: {{enabled: true}}\n"
    ))
    .unwrap();
    global_config_script(&c, "v", &Req::default(), &mut scratch, &mut out);
    assert_eq!(
        String::from_utf8(out.to_vec()).unwrap(),
        r#"<script>var HIGRESS_CONSOLE_CONFIG = {FEATURE_STATUS: {"inner-user": false, "beta-user": false}};</script>"#
    );
}

#[test]
fn rendered_injections_per_deployment() {
    let c = GrayConfig::from_yaml(&format!(
        "{RULES}localStorageGrayKey: token\ninjection:\n  head: ['<meta v={{version}}>']\n  body:\n    first: ['<b>{{version}}</b>']\n    last: ['<i>1</i>', '<i>2</i>']\n"
    ))
    .unwrap();
    assert_eq!(c.base.inject.head, "<meta v=base>");
    assert_eq!(c.grays[0].inject.head, "<meta v=gray>");
    assert!(c.grays[0]
        .inject
        .body_first
        .starts_with("<script>(function(){var grayKey='token';"));
    assert!(c.grays[0]
        .inject
        .body_first
        .ends_with("</script><b>gray</b>"));
    assert_eq!(c.base.inject.body_last, "<i>1</i><i>2</i>");
    assert_eq!(c.gray_key.as_deref(), Some("token"));
}
