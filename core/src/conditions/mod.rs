//! Rule conditions (SPEC §8): a rule's `match:` list, every condition of which must hold.
//!
//! Compiled once at configuration time — header names lower-cased, regexes built, CIDR lists
//! parsed, OS / browser names turned into bit sets, variables given a slot that the nginx glue
//! resolves to a variable index — and evaluated per request against [`RequestHeaders`] without
//! allocating (a JWT's claims, verified at most once per request, excepted). The User-Agent is
//! classified at most once per request, by a token table ([`ua`]), never by a regex.
//!
//! | condition  | holds when                                                          |
//! |------------|---------------------------------------------------------------------|
//! | `header`   | the first request header of that name (case-insensitive) has one of `values`, or matches `regex` |
//! | `query`    | the first query argument of that name, URL-decoded, likewise        |
//! | `cookie`   | the first cookie of that name likewise                              |
//! | `ip`       | the client address (after nginx's realip) is in one of the CIDRs    |
//! | `os`       | the User-Agent's OS is one of the names                             |
//! | `browser`  | the User-Agent's browser is one of the names                        |
//! | `userId`   | the user id of SPEC §4.4 is one of the values                       |
//! | `jwt`      | the verified token's claim (dotted path; any element of an array) is one of `values` |
//! | `variable` | the nginx variable's value is one of `values`, or matches `regex`; not found or empty matches no value |

pub mod jwt;
pub mod ua;

use crate::byteset::ByteSet;
use std::cell::{Cell, OnceCell};
use std::net::IpAddr;

use serde::Deserialize;

use crate::config::raw::Text;
use crate::config::{value_err, ConfigError};
use crate::decide::RequestHeaders;
use ua::{Browser, Os};

/// One condition as written: a map with one key.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum RawCondition {
    Header(RawValueTest),
    Query(RawValueTest),
    Cookie(RawValueTest),
    Ip(Vec<Text>),
    Os(Vec<Text>),
    Browser(Vec<Text>),
    UserId(Vec<Text>),
    Jwt(RawClaimTest),
    Variable(RawValueTest),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValueTest {
    pub name: Text,
    pub values: Option<Vec<Text>>,
    pub regex: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClaimTest {
    pub claim: Text,
    pub values: Vec<Text>,
}

/// A value test: exact values, or a regex (unanchored, as nginx's `~`).
#[derive(Debug)]
pub enum Test {
    Values(ByteSet),
    Regex(regex::bytes::Regex),
}

impl Test {
    pub fn holds(&self, v: &[u8]) -> bool {
        match self {
            Test::Values(set) => set.contains(v),
            Test::Regex(re) => re.is_match(v),
        }
    }
}

/// A compiled condition.
#[derive(Debug)]
pub enum Condition {
    /// Lower-case name.
    Header(String, Test),
    Query(String, Test),
    Cookie(String, Test),
    Ip(Vec<Cidr>),
    /// Bit `1 << os as u8` for each OS named.
    Os(u8),
    Browser(u8),
    UserId(ByteSet),
    Jwt {
        claim: String,
        values: Vec<String>,
    },
    /// Slot into [`crate::GrayConfig::variables`].
    Variable(usize, Test),
}

/// An IPv4 or IPv6 network; IPv4 addresses are held as IPv4-mapped IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: u128,
    mask: u128,
}

impl Cidr {
    /// `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`, `::1`.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let ip: IpAddr = addr.trim().parse().ok()?;
        let (bits, len) = match ip {
            IpAddr::V4(_) => {
                let l = len.unwrap_or(32);
                if l > 32 {
                    return None;
                }
                (to_u128(ip), 96 + u32::from(l))
            }
            IpAddr::V6(_) => {
                let l = len.unwrap_or(128);
                if l > 128 {
                    return None;
                }
                (to_u128(ip), u32::from(l))
            }
        };
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        Some(Cidr {
            net: bits & mask,
            mask,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        to_u128(ip) & self.mask == self.net
    }
}

/// IPv4 as IPv4-mapped IPv6, so that `::ffff:10.1.2.3` and `10.1.2.3` are the same address.
fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

pub fn cidrs(field: &str, list: &[Text]) -> Result<Vec<Cidr>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            Cidr::parse(&t.0).ok_or_else(|| {
                value_err(
                    format!("{field}[{i}]"),
                    format!("\"{}\" is not an IP address or CIDR network", t.0),
                )
            })
        })
        .collect()
}

/// What a condition list needs from the rest of the configuration while it is compiled.
pub struct CompileCtx<'a> {
    /// Names of the nginx variables used so far; a `variable` condition gets its slot here.
    pub variables: &'a mut Vec<String>,
    /// The field path of the first condition that named each variable.
    pub variable_fields: &'a mut Vec<String>,
    /// A top-level `jwt` is configured.
    pub has_jwt: bool,
}

pub fn compile(
    field: &str,
    raw: &[RawCondition],
    cx: &mut CompileCtx,
) -> Result<Vec<Condition>, ConfigError> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, c) in raw.iter().enumerate() {
        let f = format!("{field}[{i}]");
        out.push(match c {
            RawCondition::Header(t) => Condition::Header(
                name(&format!("{f}.header"), t)?.to_ascii_lowercase(),
                test(&format!("{f}.header"), t)?,
            ),
            RawCondition::Query(t) => Condition::Query(
                name(&format!("{f}.query"), t)?,
                test(&format!("{f}.query"), t)?,
            ),
            RawCondition::Cookie(t) => Condition::Cookie(
                name(&format!("{f}.cookie"), t)?,
                test(&format!("{f}.cookie"), t)?,
            ),
            RawCondition::Variable(t) => {
                let n = name(&format!("{f}.variable"), t)?;
                let n = n.strip_prefix('$').unwrap_or(&n).to_owned();
                if !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    return Err(value_err(
                        format!("{f}.variable.name"),
                        format!("\"{n}\" is not an nginx variable name"),
                    ));
                }
                let slot = match cx.variables.iter().position(|v| *v == n) {
                    Some(s) => s,
                    None => {
                        cx.variables.push(n);
                        cx.variable_fields.push(format!("{f}.variable.name"));
                        cx.variables.len() - 1
                    }
                };
                Condition::Variable(slot, test(&format!("{f}.variable"), t)?)
            }
            RawCondition::Ip(list) => {
                if list.is_empty() {
                    return Err(value_err(format!("{f}.ip"), "must not be empty"));
                }
                Condition::Ip(cidrs(&format!("{f}.ip"), list)?)
            }
            RawCondition::Os(list) => Condition::Os(bits(
                &format!("{f}.os"),
                list,
                |s| Os::from_name(s).map(|o| o as u8),
                "android ios windows macos linux chromeos",
            )?),
            RawCondition::Browser(list) => Condition::Browser(bits(
                &format!("{f}.browser"),
                list,
                |s| Browser::from_name(s).map(|b| b as u8),
                "chrome edge firefox safari opera samsung wechat",
            )?),
            RawCondition::UserId(list) => {
                Condition::UserId(list.iter().map(|t| t.0.as_bytes().into()).collect())
            }
            RawCondition::Jwt(c) => {
                if !cx.has_jwt {
                    return Err(value_err(
                        format!("{f}.jwt"),
                        "needs the top-level \"jwt\" section (where the token is, and its key)",
                    ));
                }
                let claim = c.claim.0.trim().to_owned();
                if claim.is_empty() || claim.split('.').any(str::is_empty) {
                    return Err(value_err(
                        format!("{f}.jwt.claim"),
                        format!("\"{claim}\" is not a dotted claim path"),
                    ));
                }
                Condition::Jwt {
                    claim,
                    values: c.values.iter().map(|t| t.0.clone()).collect(),
                }
            }
        });
    }
    Ok(out)
}

fn name(field: &str, t: &RawValueTest) -> Result<String, ConfigError> {
    let n = t.name.0.trim();
    if n.is_empty() {
        return Err(value_err(format!("{field}.name"), "must not be empty"));
    }
    Ok(n.to_owned())
}

fn test(field: &str, t: &RawValueTest) -> Result<Test, ConfigError> {
    match (&t.values, &t.regex) {
        (Some(v), None) => Ok(Test::Values(
            v.iter().map(|t| t.0.as_bytes().into()).collect(),
        )),
        (None, Some(r)) => regex::bytes::RegexBuilder::new(&r.0)
            .size_limit(1 << 20)
            .build()
            .map(Test::Regex)
            .map_err(|e| {
                value_err(
                    format!("{field}.regex"),
                    format!("invalid regex \"{}\": {}", r.0, first_line(&e.to_string())),
                )
            }),
        _ => Err(value_err(
            field,
            "needs exactly one of \"values\" and \"regex\"",
        )),
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or(s)
        .to_owned()
}

fn bits(
    field: &str,
    list: &[Text],
    f: impl Fn(&str) -> Option<u8>,
    known: &str,
) -> Result<u8, ConfigError> {
    let mut m = 0u8;
    for (i, t) in list.iter().enumerate() {
        let n = t.0.trim().to_ascii_lowercase();
        match f(&n) {
            Some(b) => m |= 1 << b,
            None => {
                return Err(value_err(
                    format!("{field}[{i}]"),
                    format!("unknown name \"{}\" (known: {known})", t.0),
                ))
            }
        }
    }
    if m == 0 {
        return Err(value_err(field, "must not be empty"));
    }
    Ok(m)
}

/// What conditions learn about a request at most once: the User-Agent's OS and browser, the
/// JWT's claims.
#[derive(Default)]
pub struct Facts {
    ua: Cell<Option<(Option<Os>, Option<Browser>)>>,
    claims: OnceCell<Option<jwt::Claims>>,
}

impl Facts {
    fn ua<H: RequestHeaders>(&self, h: &H) -> (Option<Os>, Option<Browser>) {
        if let Some(v) = self.ua.get() {
            return v;
        }
        let v = ua::classify(h.header("user-agent").unwrap_or_default());
        self.ua.set(Some(v));
        v
    }

    fn claims<H: RequestHeaders>(
        &self,
        h: &H,
        src: Option<&jwt::JwtSource>,
    ) -> Option<&jwt::Claims> {
        self.claims
            .get_or_init(|| {
                let src = src?;
                let token = match src.token_location() {
                    jwt::TokenLocation::Header(n) => h.header(n),
                    jwt::TokenLocation::Cookie(n) => h.cookie(n),
                }?;
                src.verify(token, h.now())
            })
            .as_ref()
    }
}

/// Everything a condition is evaluated against.
pub struct Env<'r, H: RequestHeaders> {
    pub headers: &'r H,
    /// The user id of SPEC §4.4.
    pub user: Option<&'r [u8]>,
    pub facts: &'r Facts,
    pub jwt: Option<&'r jwt::JwtSource>,
}

impl Condition {
    pub fn holds<H: RequestHeaders>(&self, env: &Env<'_, H>) -> bool {
        let h = env.headers;
        match self {
            Condition::Header(n, t) => h.header(n).is_some_and(|v| t.holds(v)),
            Condition::Cookie(n, t) => h.cookie(n).is_some_and(|v| t.holds(v)),
            Condition::Query(n, t) => h
                .query_arg(n)
                .is_some_and(|raw| with_decoded(raw, |v| t.holds(v))),
            Condition::Variable(slot, t) => h
                .variable(*slot)
                .is_some_and(|v| !v.is_empty() && t.holds(v)),
            Condition::Ip(nets) => h
                .client_addr()
                .is_some_and(|ip| nets.iter().any(|n| n.contains(ip))),
            Condition::Os(mask) => env
                .facts
                .ua(h)
                .0
                .is_some_and(|o| mask & (1 << o as u8) != 0),
            Condition::Browser(mask) => env
                .facts
                .ua(h)
                .1
                .is_some_and(|b| mask & (1 << b as u8) != 0),
            Condition::UserId(set) => env.user.is_some_and(|u| set.contains(u)),
            Condition::Jwt { claim, values } => env
                .facts
                .claims(h, env.jwt)
                .is_some_and(|c| c.matches(claim, values)),
        }
    }
}

/// All conditions hold (and there is at least one).
pub fn all_hold<H: RequestHeaders>(conds: &[Condition], env: &Env<'_, H>) -> bool {
    !conds.is_empty() && conds.iter().all(|c| c.holds(env))
}

/// Longest URL-decoded query value compared; a longer one matches nothing.
const MAX_DECODED: usize = 1024;

/// Calls `f` with the URL-decoded (`%XX`, `+` as space) form of a raw query value, decoded
/// into a stack buffer (values without escapes are passed as they are).
fn with_decoded(raw: &[u8], f: impl FnOnce(&[u8]) -> bool) -> bool {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return f(raw);
    }
    let mut buf = [0u8; MAX_DECODED];
    let mut n = 0;
    let mut i = 0;
    while i < raw.len() {
        if n == buf.len() {
            return false;
        }
        let b = raw[i];
        buf[n] = match b {
            b'+' => b' ',
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    i += 2;
                    h << 4 | l
                }
                _ => b'%',
            },
            _ => b,
        };
        n += 1;
        i += 1;
    }
    f(&buf[..n])
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The raw value of the first query argument called `name` in `args` (`a=1&b=2`).
pub fn find_query_arg<'a>(args: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    args.split(|&b| b == b'&').find_map(|pair| {
        let (k, v) = match memchr::memchr(b'=', pair) {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &pair[pair.len()..]),
        };
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests;
