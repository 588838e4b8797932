//! Rule conditions (SPEC §8) on arbitrary request bytes: never panics, is deterministic, and
//! the reason names a rule whose deployment was chosen and whose tests hold.
#![no_main]
use std::net::{IpAddr, Ipv6Addr};
use std::sync::LazyLock;

use allocator_api2::vec::Vec;
use frontend_gray_core::conditions::find_query_arg;
use frontend_gray_core::cookies::find_cookie;
use frontend_gray_core::decide::{decide, rule_matches, Reason, RequestHeaders};
use frontend_gray_core::GrayConfig;
use libfuzzer_sys::fuzz_target;

static CFG: LazyLock<GrayConfig> = LazyLock::new(|| {
    GrayConfig::from_yaml(
        r#"
grayKey: userid
rules:
- name: h
  match:
  - header: {name: x-a, regex: '^(a|b)+c?$'}
  - query: {name: q, values: ['1', 'a b', "\u00e9"]}
- name: c
  match:
  - cookie: {name: plan, values: [pro]}
  - ip: ['10.0.0.0/8', '2001:db8::/32', '::ffff:192.0.2.0/120']
- name: u
  match:
  - os: [ios, android]
  - browser: [chrome, safari, wechat]
  - userId: ['00000002']
- name: v
  match:
  - variable: {name: geo, regex: '^1'}
baseDeployment: {version: base}
grayDeployments:
- {name: h, version: vh, enabled: true}
- {name: c, version: vc, enabled: true}
- {name: u, version: vu, enabled: true}
- {name: v, version: vv, enabled: true}
preview: {header: x-gray-version, query: gray_version, allow: ['10.0.0.0/8']}
"#,
    )
    .expect("fuzz configuration")
});

struct Req<'a> {
    x_a: &'a [u8],
    cookie: &'a [u8],
    args: &'a [u8],
    ua: &'a [u8],
    var: &'a [u8],
    ip: Option<IpAddr>,
}

impl RequestHeaders for Req<'_> {
    fn header(&self, name: &str) -> Option<&[u8]> {
        match name {
            "x-a" => Some(self.x_a),
            "user-agent" => Some(self.ua),
            "x-gray-version" => Some(self.var),
            _ => None,
        }
    }
    fn cookie(&self, name: &str) -> Option<&[u8]> {
        find_cookie(self.cookie, name.as_bytes())
    }
    fn query_arg(&self, name: &str) -> Option<&[u8]> {
        find_query_arg(self.args, name.as_bytes())
    }
    fn client_addr(&self) -> Option<IpAddr> {
        self.ip
    }
    fn variable(&self, slot: usize) -> Option<&[u8]> {
        (slot == 0).then_some(self.var)
    }
}

fuzz_target!(|data: &[u8]| {
    // x-a \0 cookie \0 args \0 user-agent \0 variable \0 16 address bytes
    let mut parts = data.split(|&b| b == 0);
    let mut next = || parts.next().unwrap_or_default();
    let (x_a, cookie, args, ua, var, ipb) = (next(), next(), next(), next(), next(), next());
    let ip = (ipb.len() >= 16).then(|| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&ipb[..16]);
        IpAddr::V6(Ipv6Addr::from(a)).to_canonical()
    });
    let req = Req { x_a, cookie, args, ua, var, ip };
    let cfg = &*CFG;
    for path in [&b"/"[..], b"/a.js"] {
        let mut s = Vec::new();
        let Some(d) = decide(cfg, path, &req, &mut s) else {
            continue;
        };
        let mut s2 = Vec::new();
        let again = decide(cfg, path, &req, &mut s2).unwrap();
        assert_eq!(d.version, again.version);
        assert_eq!(d.reason, again.reason);
        if let Reason::Rule(i) = d.reason {
            assert_eq!(d.deployment.rule, Some(i));
            // the rule that chose holds when checked on its own (rule u needs the user id)
            if cfg.rules[i].name != "u" {
                assert!(rule_matches(&cfg.rules[i], None, &req));
            }
        }
    }
});
