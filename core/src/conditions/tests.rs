use std::collections::HashMap;
use std::net::IpAddr;

use allocator_api2::vec::Vec;

use super::*;
use crate::config::GrayConfig;
use crate::decide::{decide, global_config_script, Reason};

#[derive(Default)]
struct Req {
    headers: HashMap<String, std::vec::Vec<u8>>,
    cookies: String,
    args: String,
    ip: Option<IpAddr>,
    vars: std::vec::Vec<Option<std::vec::Vec<u8>>>,
}

impl Req {
    fn h(mut self, k: &str, v: &str) -> Req {
        self.headers.insert(k.to_ascii_lowercase(), v.into());
        self
    }
    fn c(mut self, c: &str) -> Req {
        self.cookies = c.into();
        self
    }
    fn q(mut self, a: &str) -> Req {
        self.args = a.into();
        self
    }
    fn ip(mut self, ip: &str) -> Req {
        self.ip = Some(ip.parse().unwrap());
        self
    }
    fn var(mut self, v: Option<&str>) -> Req {
        self.vars.push(v.map(|s| s.as_bytes().to_vec()));
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
    fn query_arg(&self, name: &str) -> Option<&[u8]> {
        find_query_arg(self.args.as_bytes(), name.as_bytes())
    }
    fn client_addr(&self) -> Option<IpAddr> {
        self.ip
    }
    fn variable(&self, slot: usize) -> Option<&[u8]> {
        self.vars.get(slot)?.as_deref()
    }
}

fn cfg(rule_match: &str) -> GrayConfig {
    GrayConfig::from_yaml(&format!(
        "grayKey: uid\nrules:\n- name: beta\n  grayKeyValue: [listed]\n  match:\n{rule_match}\nbaseDeployment: {{version: base}}\ngrayDeployments:\n- {{name: beta, version: gray, enabled: true}}\n"
    ))
    .unwrap()
}

fn chosen(c: &GrayConfig, r: &Req) -> (String, String) {
    let mut s = Vec::new();
    let d = decide(c, b"/", r, &mut s).unwrap();
    (d.version.to_owned(), d.reason.as_str(c).to_owned())
}

fn gray(c: &GrayConfig, r: &Req) -> bool {
    chosen(c, r).0 == "gray"
}

#[test]
fn header_values_and_regex() {
    let c = cfg("  - header: {name: X-Canary, values: ['true']}");
    assert!(gray(&c, &Req::default().h("x-canary", "true")));
    assert!(!gray(&c, &Req::default().h("x-canary", "TRUE")));
    assert!(!gray(&c, &Req::default()));
    let c = cfg("  - header: {name: x-plan, regex: '^(pro|team)$'}");
    assert!(gray(&c, &Req::default().h("X-Plan", "team")));
    assert!(!gray(&c, &Req::default().h("X-Plan", "teams")));
}

#[test]
fn query_is_url_decoded() {
    let c = cfg("  - query: {name: canary, values: ['1', 'a b', 'x/y']}");
    for q in [
        "canary=1",
        "x=2&canary=1",
        "canary=a+b",
        "canary=a%20b",
        "canary=x%2Fy",
    ] {
        assert!(gray(&c, &Req::default().q(q)), "{q}");
    }
    for q in [
        "canary=2",
        "canary",
        "xcanary=1",
        "canary=%",
        "canary=%zz1",
        "",
    ] {
        assert!(!gray(&c, &Req::default().q(q)), "{q}");
    }
    // the first argument of that name decides
    assert!(!gray(&c, &Req::default().q("canary=0&canary=1")));
    // an over-long escaped value matches nothing, and does not crash
    let long = format!("canary={}", "%41".repeat(5000));
    assert!(!gray(&c, &Req::default().q(&long)));
}

#[test]
fn cookie_condition() {
    let c = cfg("  - cookie: {name: plan, regex: '^(pro|team)$'}");
    assert!(gray(&c, &Req::default().c("a=b; plan=pro")));
    assert!(!gray(&c, &Req::default().c("plan=free")));
}

#[test]
fn ip_v4_v6_and_mapped() {
    let c = cfg("  - ip: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']");
    for ip in ["10.1.2.3", "192.0.2.7", "2001:db8::1", "::ffff:10.9.9.9"] {
        assert!(gray(&c, &Req::default().ip(ip)), "{ip}");
    }
    for ip in ["11.0.0.1", "192.0.2.8", "2001:db9::1", "::1"] {
        assert!(!gray(&c, &Req::default().ip(ip)), "{ip}");
    }
    assert!(!gray(&c, &Req::default()), "no address: no match");
    let c = cfg("  - ip: ['0.0.0.0/0']");
    assert!(gray(&c, &Req::default().ip("8.8.8.8")));
    assert!(!gray(&c, &Req::default().ip("2001:db8::1")));
}

#[test]
fn user_id_condition() {
    let c = cfg("  - userId: ['00000002']");
    assert!(gray(&c, &Req::default().c("uid=00000002")));
    assert!(!gray(&c, &Req::default().c("uid=00000003")));
}

#[test]
fn variables_get_slots() {
    let c = cfg("  - variable: {name: geo_office, values: ['1']}\n  - variable: {name: $plan_tier, regex: '^gold'}");
    assert_eq!(c.variables, ["geo_office", "plan_tier"]);
    let r = |a, b| Req::default().var(a).var(b);
    assert!(gray(&c, &r(Some("1"), Some("golden"))));
    assert!(!gray(&c, &r(Some("1"), Some("silver"))));
    assert!(!gray(&c, &r(Some("0"), Some("gold"))));
    assert!(
        !gray(&c, &r(None, Some("gold"))),
        "not found matches nothing"
    );
    let c = cfg("  - variable: {name: v, regex: '.*'}");
    assert!(
        !gray(&c, &Req::default().var(Some(""))),
        "empty matches nothing"
    );
}

#[test]
fn all_must_hold_and_or_with_the_lists() {
    let c = cfg("  - header: {name: x-a, values: ['1']}\n  - cookie: {name: b, values: ['2']}");
    assert!(gray(&c, &Req::default().h("x-a", "1").c("b=2")));
    assert!(!gray(&c, &Req::default().h("x-a", "1")));
    assert!(!gray(&c, &Req::default().c("b=2")));
    // the allow-list alone still matches
    assert_eq!(
        chosen(&c, &Req::default().c("uid=listed")),
        ("gray".into(), "rule:beta".into())
    );
    assert_eq!(chosen(&c, &Req::default()), ("base".into(), "base".into()));
}

#[test]
fn global_config_flags_use_match() {
    let c = GrayConfig::from_yaml(
        "rules:\n- name: qa\n  match:\n  - header: {name: x-qa, values: ['1']}\nbaseDeployment: {version: base}\ninjection:\n  globalConfig: {enabled: true}\n",
    )
    .unwrap();
    let script = |r: &Req| {
        let (mut s, mut o) = (Vec::new(), Vec::new());
        global_config_script(&c, "base", r, &mut s, &mut o);
        String::from_utf8(o.to_vec()).unwrap()
    };
    assert!(script(&Req::default().h("x-qa", "1")).contains("\"qa\": true"));
    assert!(script(&Req::default()).contains("\"qa\": false"));
}

#[test]
fn percentage_mode_overrides_match_rules() {
    let c = GrayConfig::from_yaml(
        "rules:\n- name: beta\n  match:\n  - header: {name: x-a, values: ['1']}\nbaseDeployment: {version: base}\ngrayDeployments:\n- {name: beta, version: gray, enabled: true, weight: 0}\n- {name: w, version: w, enabled: true, weight: 100}\n",
    )
    .unwrap();
    assert_eq!(
        chosen(&c, &Req::default().h("x-a", "1")),
        ("w".into(), "weight".into())
    );
}

fn preview_cfg(allow: &str) -> GrayConfig {
    GrayConfig::from_yaml(&format!(
        "baseDeployment: {{version: base}}\ngrayDeployments:\n- {{name: a, version: v-a, enabled: true}}\n- {{name: off, version: v-off, enabled: false}}\npreview: {{header: X-Gray-Version, query: gray_version{allow}}}\nrewrite:\n  fileRouting: {{/: '/m/{{version}}'}}\n"
    ))
    .unwrap()
}

#[test]
fn preview_names_any_configured_version() {
    let c = preview_cfg("");
    let v = |r: &Req, p: &str| {
        let mut s = Vec::new();
        let d = decide(&c, p.as_bytes(), r, &mut s).unwrap();
        (d.version.to_owned(), d.reason)
    };
    assert_eq!(
        v(&Req::default().h("x-gray-version", "v-off"), "/"),
        ("v-off".into(), Reason::Preview)
    );
    assert_eq!(
        v(&Req::default().q("gray_version=v-a"), "/a.js"),
        ("v-a".into(), Reason::Preview)
    );
    // the header wins over the query argument; an unknown version is ignored
    assert_eq!(
        v(
            &Req::default()
                .h("x-gray-version", "v-a")
                .q("gray_version=base"),
            "/"
        )
        .0,
        "v-a"
    );
    assert_eq!(
        v(&Req::default().h("x-gray-version", "nope"), "/"),
        ("base".into(), Reason::Base)
    );
    // preview beats the sticky cookie; a disabled version's cookie is sticky for previewers
    assert_eq!(
        v(
            &Req::default().c("x-higress-tag=v-a").q("gray_version=base"),
            "/a.js"
        )
        .0,
        "base"
    );
    assert_eq!(
        v(&Req::default().c("x-higress-tag=v-off"), "/a.js"),
        ("v-off".into(), Reason::Sticky)
    );
}

#[test]
fn preview_allow_limits_who() {
    let c = preview_cfg(", allow: ['10.0.0.0/8']");
    let v = |r: &Req, p: &str| {
        let mut s = Vec::new();
        decide(&c, p.as_bytes(), r, &mut s)
            .unwrap()
            .version
            .to_owned()
    };
    let r = Req::default().h("x-gray-version", "v-off");
    assert_eq!(v(&r, "/"), "base");
    assert_eq!(
        v(
            &Req::default().h("x-gray-version", "v-off").ip("10.2.3.4"),
            "/"
        ),
        "v-off"
    );
    // without preview rights a disabled version's cookie is not sticky
    assert_eq!(
        v(
            &Req::default().c("x-higress-tag=v-off").ip("11.0.0.1"),
            "/a.js"
        ),
        "base"
    );
    assert_eq!(
        v(
            &Req::default().c("x-higress-tag=v-off").ip("10.0.0.1"),
            "/a.js"
        ),
        "v-off"
    );
}

#[test]
fn config_errors_name_the_field() {
    let err = |m: &str| {
        GrayConfig::from_yaml(&format!(
            "rules:\n- name: beta\n  match:\n{m}\nbaseDeployment: {{version: base}}\n"
        ))
        .unwrap_err()
        .to_string()
    };
    assert!(err("  - ip: ['10.0.0.0/33']")
        .starts_with("rules[0].match[0].ip[0]: \"10.0.0.0/33\" is not"));
    assert!(err("  - ip: ['10.0.0.x']").contains("rules[0].match[0].ip[0]"));
    assert!(err("  - header: {name: a, regex: '('}")
        .starts_with("rules[0].match[0].header.regex: invalid regex"));
    assert!(err("  - os: [ios, symbian]")
        .starts_with("rules[0].match[0].os[1]: unknown name \"symbian\""));
    assert!(
        err("  - browser: [netscape]").starts_with("rules[0].match[0].browser[0]: unknown name")
    );
    assert!(err("  - header: {name: a}").contains("needs exactly one of \"values\" and \"regex\""));
    assert!(err("  - header: {name: a, values: [x], regex: x}").contains("exactly one"));
    assert!(err("  - jwt: {claim: role, values: [x]}").contains("needs the top-level \"jwt\""));
    assert!(err("  - variable: {name: 'a-b', values: [x]}")
        .starts_with("rules[0].match[0].variable.name"));
    let e = err("  - colour: [red]");
    assert!(e.contains("unknown variant `colour`"), "{e}");
    assert!(e.starts_with("line "), "{e}");
    let e = GrayConfig::from_yaml("baseDeployment: {version: b}\npreview: {allow: ['1.2.3.4']}\n")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "preview: needs a header or a query argument");
    let e = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\npreview: {header: x, allow: ['1.2.3.4/40']}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("preview.allow[0]"), "{e}");
}

#[test]
fn cidr_parsing() {
    for bad in [
        "",
        "/8",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "::/129",
        "1.2.3",
        "1.2.3.4.5",
    ] {
        assert!(Cidr::parse(bad).is_none(), "{bad}");
    }
    let n = Cidr::parse("10.1.2.3/8").unwrap();
    assert_eq!(n, Cidr::parse("10.0.0.0/8").unwrap(), "host bits cleared");
    assert!(n.contains("10.255.0.1".parse().unwrap()));
    assert!(Cidr::parse("::/0")
        .unwrap()
        .contains("1.2.3.4".parse().unwrap()));
}

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91";

#[test]
fn os_and_browser_from_the_user_agent() {
    let c = cfg("  - os: [ios, android]\n  - browser: [safari, chrome]");
    assert!(gray(&c, &Req::default().h("user-agent", IPHONE)));
    assert!(
        !gray(&c, &Req::default().h("user-agent", EDGE)),
        "windows + edge"
    );
    assert!(!gray(&c, &Req::default()), "no User-Agent");
    let c = cfg("  - browser: [edge]");
    assert!(gray(&c, &Req::default().h("user-agent", EDGE)));
    let c = cfg("  - browser: [chrome]");
    assert!(
        !gray(&c, &Req::default().h("user-agent", EDGE)),
        "Edge is not chrome"
    );
}

fn hs256(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

struct Timed(Req, u64);

impl RequestHeaders for Timed {
    fn header(&self, n: &str) -> Option<&[u8]> {
        self.0.header(n)
    }
    fn cookie(&self, n: &str) -> Option<&[u8]> {
        self.0.cookie(n)
    }
    fn now(&self) -> u64 {
        self.1
    }
}

#[test]
fn jwt_claims_through_the_rule() {
    let c = GrayConfig::from_yaml(
        "jwt: {header: Authorization, secret: s3cret}\nrules:\n- name: beta\n  match:\n  - jwt: {claim: realm.roles, values: [beta-tester]}\nbaseDeployment: {version: base}\ngrayDeployments:\n- {name: beta, version: gray, enabled: true}\n",
    )
    .unwrap();
    let now = 1_900_000_000;
    let run = |token: &str| {
        let r = Timed(
            Req::default().h("authorization", &format!("Bearer {token}")),
            now,
        );
        let mut s = Vec::new();
        decide(&c, b"/", &r, &mut s).unwrap().version.to_owned()
    };
    let good = serde_json::json!({"realm": {"roles": ["x", "beta-tester"]}, "exp": now + 600});
    assert_eq!(run(&hs256(good.clone(), "s3cret")), "gray");
    assert_eq!(run(&hs256(good, "other")), "base", "forged");
    let expired = serde_json::json!({"realm": {"roles": ["beta-tester"]}, "exp": now - 3600});
    assert_eq!(run(&hs256(expired, "s3cret")), "base", "expired");
    let other = serde_json::json!({"realm": {"roles": ["user"]}, "exp": now + 600});
    assert_eq!(run(&hs256(other, "s3cret")), "base");
    assert_eq!(run("not.a.token"), "base");
    // alg: none, unsigned
    let none = "eyJhbGciOiJub25lIn0.eyJyZWFsbSI6eyJyb2xlcyI6WyJiZXRhLXRlc3RlciJdfX0.";
    assert_eq!(run(none), "base");
}
