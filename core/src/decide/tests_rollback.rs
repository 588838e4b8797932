//! A rolled-back deployment (SPEC §11) under [`Steering::rolled_back`]: its rule does not
//! match, its bucket range goes to base with `rollback:<name>`, the others' ranges stay.

use std::collections::HashMap;

use super::*;
use crate::config::GrayConfig;

struct Req(String);

impl RequestHeaders for Req {
    fn header(&self, _: &str) -> Option<&[u8]> {
        None
    }
    fn cookie(&self, name: &str) -> Option<&[u8]> {
        crate::cookies::find_cookie(self.0.as_bytes(), name.as_bytes())
    }
}

/// Rolled-back grays with the width they held; the weight of the others as given.
#[derive(Default)]
struct Back {
    back: HashMap<usize, u8>,
    weights: HashMap<usize, u8>,
}

impl Steering for Back {
    fn pinned(&self) -> Option<usize> {
        None
    }
    fn overridden(&self) -> bool {
        true
    }
    fn gray(&self, i: usize) -> (Option<bool>, Option<u8>) {
        if self.back.contains_key(&i) {
            return (None, Some(0));
        }
        (None, self.weights.get(&i).copied())
    }
    fn rolled_back(&self, i: usize) -> Option<u8> {
        self.back.get(&i).copied()
    }
}

fn run(c: &GrayConfig, path: &str, cookies: &str, s: &Back) -> (String, String) {
    let mut scratch = Vec::new();
    let d = decide_steered(c, path.as_bytes(), &Req(cookies.into()), &mut scratch, s).unwrap();
    (d.version.to_string(), d.reason.as_str(c).to_string())
}

const RULES: &str = r#"
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1, u2]}
- {name: wide, grayKeyValue: [u2]}
baseDeployment: {version: v1}
grayDeployments:
- {name: beta, version: v2, enabled: true}
- {name: wide, version: v3, enabled: true}
"#;

#[test]
fn a_rolled_back_rule_does_not_match_the_next_rule_may() {
    let c = GrayConfig::from_yaml(RULES).unwrap();
    let s = Back {
        back: HashMap::from([(0, 0)]),
        ..Default::default()
    };
    assert_eq!(
        run(&c, "/", "userid=u1", &s),
        ("v1".into(), "rollback:beta".into())
    );
    assert_eq!(
        run(&c, "/", "userid=u2", &s),
        ("v3".into(), "rule:wide".into())
    );
    assert_eq!(run(&c, "/", "userid=u9", &s), ("v1".into(), "base".into()));
    // an open page keeps its assets: the sticky cookie still names the version
    assert_eq!(run(&c, "/a.js", "x-higress-tag=v2", &s).0, "v2");
    let none = Back::default();
    assert_eq!(
        run(&c, "/", "userid=u1", &none),
        ("v2".into(), "rule:beta".into())
    );
}

const PCT: &str = r#"
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: v-a, enabled: true, weight: 20}
- {name: b, version: v-b, enabled: true, weight: 30}
"#;

#[test]
fn a_rolled_back_range_goes_to_base_and_the_others_stay_put() {
    let c = GrayConfig::from_yaml(PCT).unwrap();
    let s = Back {
        back: HashMap::from([(0, 20)]),
        ..Default::default()
    };
    let (mut back, mut b, mut base) = (0, 0, 0);
    for i in 0..400 {
        let uid = format!("user-{i}");
        let got = run(&c, "/", &format!("x-higress-uid={uid}"), &s);
        let want = match crate::uid::bucket(uid.as_bytes()) {
            0..=19 => ("base", "rollback:a"),
            20..=49 => ("v-b", "weight"),
            _ => ("base", "weight"),
        };
        assert_eq!((got.0.as_str(), got.1.as_str()), want, "{uid}");
        match want.1 {
            "rollback:a" => back += 1,
            _ if want.0 == "v-b" => b += 1,
            _ => base += 1,
        }
    }
    assert!(back > 0 && b > 0 && base > 0);
}

#[test]
fn all_rolled_back_is_still_percentage_mode() {
    let c = GrayConfig::from_yaml(PCT).unwrap();
    let s = Back {
        back: HashMap::from([(0, 20), (1, 30)]),
        ..Default::default()
    };
    assert!(is_percentage(&c, &s));
    let got: std::collections::HashSet<String> = (0..200)
        .map(|i| run(&c, "/", &format!("x-higress-uid=user-{i}"), &s).1)
        .collect();
    assert!(got.contains("rollback:a") && got.contains("rollback:b") && got.contains("weight"));
    assert!(got.iter().all(|r| r != "rule:a"));
    // width 0 (rolled back at a 0 % step) and nothing else: rules mode, base
    let z = Back {
        back: HashMap::from([(0, 0), (1, 0)]),
        ..Default::default()
    };
    assert!(!is_percentage(&c, &z));
}
