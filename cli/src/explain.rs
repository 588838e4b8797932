//! `frontend-gray explain`: what the module does with one request, and why — computed by the
//! same core the module runs (decision, rewrite, cookies), on a request described by flags.

use std::net::IpAddr;

use allocator_api2::vec::Vec as AVec;
use frontend_gray_core::conditions::{find_query_arg, Condition, Env, Facts};
use frontend_gray_core::cookies::find_cookie;
use frontend_gray_core::decide::{rule_holds, with_user_id, Reason};
use frontend_gray_core::path::clean_into;
use frontend_gray_core::rewrite::{rewrite_into, Rewrite};
use frontend_gray_core::{decide_with, uid, GrayConfig, Kind, RequestHeaders};
use serde_json::{json, Value};

/// A request described on the command line.
#[derive(Default)]
pub struct SimRequest {
    pub path: String,
    pub query: String,
    /// (lower-case name, value), in order.
    pub headers: Vec<(String, Vec<u8>)>,
    pub cookie: String,
    pub ip: Option<IpAddr>,
    /// Values by variable slot of the configuration.
    pub vars: Vec<Option<Vec<u8>>>,
    pub now: u64,
}

impl RequestHeaders for SimRequest {
    fn header(&self, name: &str) -> Option<&[u8]> {
        if name.eq_ignore_ascii_case("cookie") && !self.cookie.is_empty() {
            return Some(self.cookie.as_bytes());
        }
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
    fn cookie(&self, name: &str) -> Option<&[u8]> {
        find_cookie(self.cookie.as_bytes(), name.as_bytes())
    }
    fn query_arg(&self, name: &str) -> Option<&[u8]> {
        find_query_arg(self.query.as_bytes(), name.as_bytes())
    }
    fn client_addr(&self) -> Option<IpAddr> {
        self.ip
    }
    fn variable(&self, slot: usize) -> Option<&[u8]> {
        self.vars.get(slot)?.as_deref()
    }
    fn now(&self) -> u64 {
        self.now
    }
}

/// The explanation, as JSON (`--json`) and as the source of the text form.
pub fn explain(cfg: &GrayConfig, req: &SimRequest) -> Value {
    let mut path = AVec::new();
    clean_into(req.path.as_bytes(), &mut path);
    let path_s = String::from_utf8_lossy(&path).into_owned();
    let facts = Facts::default();
    let mut scratch = AVec::new();
    let Some(d) = decide_with(cfg, &path, req, &facts, &mut scratch) else {
        return json!({
            "path": path_s,
            "acted": false,
            "why": ["the module leaves this path alone (skippedPaths, skippedByHeaders, or nothing to route)"],
        });
    };
    let (mut tmp, mut out) = (AVec::new(), AVec::new());
    let (uri, status) = match rewrite_into(cfg, d.kind, &path, d.version, &mut tmp, &mut out) {
        Rewrite::Rewritten => (String::from_utf8_lossy(&out).into_owned(), None),
        Rewrite::Kept => (path_s.clone(), None),
        Rewrite::Escapes => (path_s.clone(), Some(404)),
    };
    let cookies: Vec<String> = d
        .set_cookies(cfg)
        .map(|c| String::from_utf8_lossy(&c.to_vec()).into_owned())
        .collect();
    let kind = match d.kind {
        Kind::Html => "entry",
        Kind::Index => "manifest",
        Kind::Asset => "asset",
    };
    let mut why = Vec::new();
    match d.reason {
        Reason::Preview => {
            why.push("the preview header or query argument names this version".into())
        }
        Reason::Sticky => {
            why.push("an asset: its x-higress-tag cookie names this deployment's version".into())
        }
        Reason::Weight => {
            if let Some(u) = &d.uid {
                let b = uid::bucket(u.as_bytes());
                why.push(format!(
                    "percentage mode: uid {} is in bucket {b}",
                    String::from_utf8_lossy(u.as_bytes())
                ));
            }
            for g in &cfg.grays {
                if g.bucket.1 > g.bucket.0 {
                    why.push(format!(
                        "{} takes buckets {}..{}",
                        g.name,
                        g.bucket.0,
                        g.bucket.1 - 1
                    ));
                }
            }
        }
        Reason::Rule(_) | Reason::Base | Reason::Pin | Reason::Rollback(_) => {
            why.extend(rule_notes(cfg, req, &facts));
        }
    }
    if d.kind != Kind::Html && d.version != d.deployment.version {
        why.push(format!("versionPredicates: {} for this path", d.version));
    }
    if status == Some(404) {
        why.push("the rewritten path would leave the route's versioned directory: 404".into());
    }
    json!({
        "path": path_s,
        "acted": true,
        "kind": kind,
        "deployment": d.deployment.name,
        "version": d.version,
        "reason": d.reason.as_str(cfg),
        "uri": uri,
        "status": status,
        "uid": d.uid.as_ref().map(|u| String::from_utf8_lossy(u.as_bytes()).into_owned()),
        "setCookie": cookies,
        "why": why,
    })
}

/// Rule mode: each enabled gray deployment's rule, and which of its tests held.
fn rule_notes(cfg: &GrayConfig, req: &SimRequest, facts: &Facts) -> Vec<String> {
    let mut notes = Vec::new();
    let mut scratch = AVec::new();
    with_user_id(cfg, req, &mut scratch, |user| {
        let env = Env {
            headers: req,
            user,
            facts,
            jwt: cfg.jwt.as_ref(),
        };
        match user {
            Some(u) => notes.push(format!("user id: {}", String::from_utf8_lossy(u))),
            None => notes.push("no user id".into()),
        }
        for d in &cfg.grays {
            let Some(ri) = d.rule else {
                notes.push(format!("{}: no rule of that name", d.name));
                continue;
            };
            let r = &cfg.rules[ri];
            let mut parts = Vec::new();
            if user.is_some_and(|u| r.gray_key_values.contains(u)) {
                parts.push("user id in grayKeyValue".to_owned());
            }
            if let Some(k) = &r.gray_tag_key {
                if req.cookie(k).is_some_and(|v| r.gray_tag_values.contains(v)) {
                    parts.push(format!("cookie {k} in grayTagValue"));
                }
            }
            for (i, c) in r.conditions.iter().enumerate() {
                let held = c.holds(&env);
                parts.push(format!(
                    "match[{i}] {} {}",
                    describe(cfg, c),
                    if held { "holds" } else { "does not hold" }
                ));
            }
            let m = rule_holds(r, &env);
            notes.push(format!(
                "rule {}: {}{}",
                r.name,
                if m { "matches" } else { "does not match" },
                if parts.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", parts.join("; "))
                }
            ));
            if m {
                break;
            }
        }
    });
    notes
}

fn describe(cfg: &GrayConfig, c: &Condition) -> String {
    match c {
        Condition::Header(n, _) => format!("header {n}"),
        Condition::Query(n, _) => format!("query {n}"),
        Condition::Cookie(n, _) => format!("cookie {n}"),
        Condition::Ip(_) => "ip".into(),
        Condition::Os(_) => "os".into(),
        Condition::Browser(_) => "browser".into(),
        Condition::UserId(_) => "userId".into(),
        Condition::Jwt { claim, .. } => format!("jwt claim {claim}"),
        Condition::Variable(slot, _) => format!(
            "variable ${}",
            cfg.variables.get(*slot).map_or("?", |s| s.as_str())
        ),
    }
}

/// The text form of an explanation.
pub fn to_text(v: &Value) -> String {
    let mut s = String::new();
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
    s.push_str(&format!("path:       {}\n", get("path")));
    if v.get("acted") != Some(&Value::Bool(true)) {
        s.push_str("acted:      no\n");
    } else {
        for k in ["kind", "deployment", "version", "reason", "uri"] {
            s.push_str(&format!("{:<11} {}\n", format!("{k}:"), get(k)));
        }
        if let Some(st) = v.get("status").and_then(Value::as_u64) {
            s.push_str(&format!("status:     {st}\n"));
        }
        for c in v
            .get("setCookie")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            s.push_str(&format!("Set-Cookie: {}\n", c.as_str().unwrap_or("")));
        }
    }
    for w in v.get("why").and_then(Value::as_array).into_iter().flatten() {
        s.push_str(&format!("why:        {}\n", w.as_str().unwrap_or("")));
    }
    s
}
