//! `jwt:` (SPEC §8): where the token is, the key(s) that verify it, and the verified claims that
//! `jwt: {claim, values}` conditions look at.
//!
//! # The crate
//! Signatures are checked by [`jsonwebtoken`] 12 with its `rust_crypto` backend (RustCrypto's
//! `rsa` 0.10, `p256` 0.14, `hmac` / `sha2`):
//! - `jsonwebtoken` is the most used JWT crate of the ecosystem, maintained since 2015 with
//!   regular releases; it refuses `alg: none` by construction (no such `Algorithm`) and checks
//!   that a key's family matches the header's `alg` (no RSA-public-key-as-HMAC-secret confusion).
//! - `rust_crypto` is pure Rust: no C compiler, assembler, cmake or bindgen step in the module's
//!   build (the other backend, `aws_lc_rs`, compiles AWS-LC's C sources). `rsa` 0.10 is the
//!   release that moved to constant-time `crypto-bigint` arithmetic, the fix for the Marvin
//!   timing attack (RUSTSEC-2023-0071) — which concerned private-key operations only; this
//!   module only ever verifies with public keys. `p256`/`ecdsa` had an NCC Group audit (2020).
//! - costs a `rust-version` of 1.88 (was 1.82).
//!
//! # Rules enforced here, beyond the crate's
//! - only `RS256`, `ES256` (P-256) and `HS256`; each configured key verifies exactly one of them;
//! - a token is at most [`MAX_TOKEN_LEN`] bytes (checked before anything else);
//! - one signature verification per token at most: the key is chosen by the header's `alg` and
//!   `kid` — with a `kid`, the key of that `kid` (or the one key of that algorithm if it has no
//!   `kid`, as a PEM file's key has none); without a `kid`, the one key of that algorithm, and
//!   no key at all (the token is refused) when a JWKS holds several;
//! - `exp` / `nbf` are checked against the caller's clock with [`LEEWAY`] seconds of leeway; a
//!   token without `exp` does not expire (the issuer decides); a non-numeric `exp` / `nbf` is
//!   refused; `aud` / `iss` are not checked (the claims are for routing, not for access).

use std::path::Path;

use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigError;

/// Tokens longer than this (after a `Bearer ` prefix) are refused unread.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Seconds of clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY: u64 = 60;
/// The algorithms a `jwt:` block can accept.
pub const SUPPORTED: [&str; 3] = ["RS256", "ES256", "HS256"];

/// The `jwt:` block as written in the YAML.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawJwt {
    pub header: Option<String>,
    pub cookie: Option<String>,
    pub keys: Option<String>,
    pub secret: Option<String>,
    pub algorithms: Option<Vec<String>>,
    pub verify: Option<bool>,
}

/// Where the token is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenLocation<'a> {
    /// A request header; the name in lower case.
    Header(&'a str),
    /// A cookie, by its exact name.
    Cookie(&'a str),
}

#[derive(Debug)]
enum Location {
    Header(String),
    Cookie(String),
}

struct Key {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// A compiled `jwt:` block: where the token is, the key(s), the accepted algorithms.
pub struct JwtSource {
    location: Location,
    /// Empty with `verify: false`.
    keys: Vec<Key>,
    /// One per accepted algorithm, each accepting only that algorithm.
    validations: Vec<(Algorithm, Validation)>,
    verify: bool,
}

impl std::fmt::Debug for JwtSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSource")
            .field("location", &self.location)
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|k| (&k.kid, k.alg))
                    .collect::<Vec<_>>(),
            )
            .field("algorithms", &self.algorithms())
            .field("verify", &self.verify)
            .finish()
    }
}

fn err(field: &str, sub: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        field: if sub.is_empty() {
            field.to_string()
        } else {
            format!("{field}.{sub}")
        },
        message: message.into(),
    }
}

/// RFC 7230 token characters (header and cookie names).
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn parse_alg(s: &str) -> Option<Algorithm> {
    match s {
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "HS256" => Some(Algorithm::HS256),
        _ => None,
    }
}

fn validation(alg: Algorithm) -> Validation {
    let mut v = Validation::new(alg);
    // exp / nbf are checked by `time_ok` against the caller's clock; aud / iss are not ours.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    v.leeway = 0;
    v
}

impl JwtSource {
    /// Compiles a `jwt:` block. `base_dir` is where a relative `keys` path starts (the YAML
    /// file's directory); `field` is the block's path in the file (`jwt`), for error messages.
    pub fn compile(
        raw: &RawJwt,
        base_dir: &Path,
        field: &str,
    ) -> Result<(JwtSource, Vec<String>), ConfigError> {
        let mut warnings = Vec::new();
        let location = match (&raw.header, &raw.cookie) {
            (Some(_), Some(_)) => {
                return Err(err(field, "", "give either `header` or `cookie`, not both"))
            }
            (None, None) => {
                return Err(err(
                    field,
                    "",
                    "needs `header` (e.g. Authorization) or `cookie`: where the token is",
                ))
            }
            (Some(h), None) => {
                if !is_token(h) {
                    return Err(err(field, "header", format!("{h:?} is not a header name")));
                }
                Location::Header(h.to_ascii_lowercase())
            }
            (None, Some(c)) => {
                if !is_token(c) {
                    return Err(err(field, "cookie", format!("{c:?} is not a cookie name")));
                }
                Location::Cookie(c.clone())
            }
        };

        let mut algorithms = Vec::new();
        if let Some(list) = &raw.algorithms {
            if list.is_empty() {
                return Err(err(field, "algorithms", "must not be empty"));
            }
            for (i, a) in list.iter().enumerate() {
                let alg = parse_alg(a).ok_or_else(|| {
                    let sub = format!("algorithms[{i}]");
                    if a.eq_ignore_ascii_case("none") {
                        err(
                            field,
                            &sub,
                            "`none` is never accepted: tokens must be signed",
                        )
                    } else {
                        err(
                            field,
                            &sub,
                            format!("unknown algorithm {a:?} (supported: RS256, ES256, HS256)"),
                        )
                    }
                })?;
                if !algorithms.contains(&alg) {
                    algorithms.push(alg);
                }
            }
        }

        let verify = raw.verify.unwrap_or(true);
        if !verify {
            warnings.push(format!(
                "{field}.verify: false: tokens are not verified, any client can forge the \
                 claims that jwt conditions match"
            ));
            if raw.keys.is_some() || raw.secret.is_some() {
                warnings.push(format!(
                    "{field}: keys / secret are ignored with verify: false"
                ));
            }
            let source = JwtSource {
                location,
                keys: Vec::new(),
                validations: Vec::new(),
                verify,
            };
            return Ok((source, warnings));
        }

        let keys = match (&raw.keys, &raw.secret) {
            (Some(_), Some(_)) => {
                return Err(err(field, "", "give either `keys` or `secret`, not both"))
            }
            (None, None) => {
                return Err(err(
                    field,
                    "",
                    "needs `keys` (a PEM or JWKS file) or `secret` (HS256), or verify: false",
                ))
            }
            (None, Some(s)) => {
                if s.is_empty() {
                    return Err(err(field, "secret", "must not be empty"));
                }
                if s.len() < 32 {
                    warnings.push(format!(
                        "{field}.secret: shorter than 32 bytes, so easy to guess offline from \
                         any token it signed"
                    ));
                }
                let key = DecodingKey::from_secret(s.as_bytes())
                    .map_err(|e| err(field, "secret", e.to_string()))?;
                vec![Key {
                    kid: None,
                    alg: Algorithm::HS256,
                    key,
                }]
            }
            (Some(path), None) => {
                let sub = "keys";
                let full = base_dir.join(path);
                let text = std::fs::read(&full)
                    .map_err(|e| err(field, sub, format!("cannot read {}: {e}", full.display())))?;
                load_keys(
                    &text,
                    &format!("{field}.{sub}: {}", full.display()),
                    &mut warnings,
                )
                .map_err(|m| err(field, sub, format!("{}: {m}", full.display())))?
            }
        };

        if algorithms.is_empty() {
            for k in &keys {
                if !algorithms.contains(&k.alg) {
                    algorithms.push(k.alg);
                }
            }
        } else if let Some((i, a)) = algorithms
            .iter()
            .enumerate()
            .find(|(_, a)| !keys.iter().any(|k| k.alg == **a))
        {
            let have = if raw.secret.is_some() {
                "secret"
            } else {
                "keys"
            };
            return Err(err(
                field,
                &format!("algorithms[{i}]"),
                format!("{a:?}: no key in `{have}` verifies it"),
            ));
        }
        let keys: Vec<Key> = keys
            .into_iter()
            .filter(|k| algorithms.contains(&k.alg))
            .collect();
        let validations = algorithms.iter().map(|&a| (a, validation(a))).collect();
        Ok((
            JwtSource {
                location,
                keys,
                validations,
                verify,
            },
            warnings,
        ))
    }

    /// Where the caller finds the token.
    pub fn token_location(&self) -> TokenLocation<'_> {
        match &self.location {
            Location::Header(h) => TokenLocation::Header(h),
            Location::Cookie(c) => TokenLocation::Cookie(c),
        }
    }

    /// The algorithms accepted (empty with `verify: false`).
    pub fn algorithms(&self) -> Vec<&'static str> {
        self.validations
            .iter()
            .map(|(a, _)| match a {
                Algorithm::RS256 => "RS256",
                Algorithm::ES256 => "ES256",
                _ => "HS256",
            })
            .collect()
    }

    /// Verifies `token` (a leading "Bearer " stripped, case-insensitive) at time `now` (unix
    /// seconds): signature, `exp` / `nbf` with at most [`LEEWAY`] s leeway. None for a forged,
    /// expired, malformed or oversized (> 8 KB) token. Never more than one signature
    /// verification. With `verify: false`, any well-formed token (three base64url parts, a
    /// JSON-object header and payload), signed or not, within its `exp` / `nbf`.
    pub fn verify(&self, token: &[u8], now: u64) -> Option<Claims> {
        let token = strip_bearer(token);
        if token.len() > MAX_TOKEN_LEN || token.is_empty() {
            return None;
        }
        let claims = if self.verify {
            self.verified_claims(token)?
        } else {
            unverified_claims(token)?
        };
        (claims.is_object() && time_ok(&claims, now)).then_some(Claims(claims))
    }

    fn verified_claims(&self, token: &[u8]) -> Option<Value> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (_, validation) = self.validations.iter().find(|(a, _)| *a == header.alg)?;
        let mut candidates = self.keys.iter().filter(|k| k.alg == header.alg);
        let key = match &header.kid {
            Some(kid) => {
                let all: Vec<&Key> = candidates.collect();
                match all.iter().find(|k| k.kid.as_deref() == Some(kid.as_str())) {
                    Some(k) => *k,
                    None if all.len() == 1 && all[0].kid.is_none() => all[0],
                    None => return None,
                }
            }
            None => {
                let first = candidates.next()?;
                if candidates.next().is_some() {
                    return None; // several keys could be meant: no guessing, no trying each
                }
                first
            }
        };
        jsonwebtoken::decode::<Value>(token, &key.key, validation)
            .ok()
            .map(|d| d.claims)
    }
}

/// Reads a PEM public key (RSA or EC P-256) or a JWKS document.
/// `at` prefixes the warnings (`jwt.keys: /etc/nginx/jwks.json`).
fn load_keys(text: &[u8], at: &str, warnings: &mut Vec<String>) -> Result<Vec<Key>, String> {
    let trimmed = text.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        let set: JwkSet =
            serde_json::from_slice(trimmed).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut keys = Vec::new();
        for (i, jwk) in set.keys.iter().enumerate() {
            match jwk_key(jwk) {
                Ok(k) => keys.push(k),
                Err(why) => warnings.push(format!("{at}: JWKS key {i} skipped: {why}")),
            }
        }
        if keys.is_empty() {
            return Err("the JWKS has no RS256 or ES256 (P-256) signing key".into());
        }
        return Ok(keys);
    }
    let pem = std::str::from_utf8(text).map_err(|_| "neither a PEM file nor a JWKS document")?;
    if pem.contains("PRIVATE KEY") {
        return Err("holds a private key: give the public key (openssl pkey -pubout)".into());
    }
    if !pem.contains("-----BEGIN") {
        return Err("neither a PEM file nor a JWKS document".into());
    }
    // Through a JWK, so the key is parsed (and refused if broken) now rather than per request.
    let decoded = DecodingKey::from_rsa_pem(text)
        .map(|k| (k, Algorithm::RS256))
        .or_else(|_| DecodingKey::from_ec_pem(text).map(|k| (k, Algorithm::ES256)))
        .map_err(|_| "not a PEM RSA or EC public key")?;
    let jwk = Jwk::from_decoding_key(&decoded.0, Some(decoded.1))
        .map_err(|e| format!("unusable public key: {e}"))?;
    let mut key = jwk_key(&jwk)?;
    key.kid = None;
    Ok(vec![key])
}

/// The key of one JWK, with the one algorithm it verifies.
fn jwk_key(jwk: &Jwk) -> Result<Key, String> {
    if matches!(jwk.common.public_key_use, Some(ref u) if *u != PublicKeyUse::Signature) {
        return Err("not a signature key (use)".into());
    }
    let alg = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::EllipticCurve(_) => return Err("EC keys must be on P-256".into()),
        _ => return Err("only RSA and EC keys".into()),
    };
    let want = match alg {
        Algorithm::RS256 => KeyAlgorithm::RS256,
        _ => KeyAlgorithm::ES256,
    };
    if matches!(jwk.common.key_algorithm, Some(a) if a != want) {
        return Err(format!(
            "alg {:?} is not supported",
            jwk.common.key_algorithm
        ));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("bad key: {e}"))?;
    check_key(&key, alg)?;
    Ok(Key {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

/// Refuses, at configuration time, a key the verifier cannot use (a point off the curve, an
/// RSA modulus out of range): one dummy verification must fail as "bad signature", not "bad key".
fn check_key(key: &DecodingKey, alg: Algorithm) -> Result<(), String> {
    if let jsonwebtoken::DecodingKeyKind::RsaModulusExponent { n, .. } = key.kind() {
        let bits = n.iter().skip_while(|&&b| b == 0).count() * 8;
        if !(2048..=8192).contains(&bits) {
            return Err(format!(
                "RSA keys must have 2048 to 8192 bits, not about {bits}"
            ));
        }
    }
    jsonwebtoken::crypto::verify("AAAA", b"x.y", key, alg)
        .map(|_| ())
        .map_err(|e| format!("unusable key: {e}"))
}

fn strip_bearer(token: &[u8]) -> &[u8] {
    let t = token.trim_ascii();
    match t.get(..7) {
        Some(p) if p.eq_ignore_ascii_case(b"bearer ") => t[7..].trim_ascii_start(),
        _ => t,
    }
}

fn b64_json(part: &[u8]) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.is_object().then_some(v)
}

/// `verify: false`: header and payload must parse; the signature is not looked at.
fn unverified_claims(token: &[u8]) -> Option<Value> {
    let mut parts = token.split(|&b| b == b'.');
    let (header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    b64_json(header)?;
    b64_json(payload)
}

fn time_ok(claims: &Value, now: u64) -> bool {
    let (now, leeway) = (now as f64, LEEWAY as f64);
    let ok = |name: &str, good: &dyn Fn(f64) -> bool| match claims.get(name) {
        None => true,
        Some(v) => v.as_f64().is_some_and(good),
    };
    ok("exp", &|exp| now <= exp + leeway) && ok("nbf", &|nbf| nbf <= now + leeway)
}

/// The claims of a verified (or, with `verify: false`, well-formed) token: a JSON object.
#[derive(Clone, Debug, PartialEq)]
pub struct Claims(Value);

impl Claims {
    /// The claims as JSON (always an object).
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// `claim` is a dotted path (`realm.roles`); a string, number or bool claim matches when its
    /// text is in `values`; an array claim matches if any element does. At each level a key
    /// that contains dots itself (`https://example.com/roles`) is tried whole first.
    pub fn matches(&self, claim: &str, values: &[String]) -> bool {
        match lookup(&self.0, claim) {
            Some(Value::Array(items)) => items.iter().any(|v| scalar_in(v, values)),
            Some(v) => scalar_in(v, values),
            None => false,
        }
    }
}

fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    if let Some(x) = obj.get(path) {
        return Some(x);
    }
    path.match_indices('.').find_map(|(i, _)| {
        let child = obj.get(&path[..i])?;
        lookup(child, &path[i + 1..])
    })
}

fn scalar_in(v: &Value, values: &[String]) -> bool {
    match v {
        Value::String(s) => values.iter().any(|x| x == s),
        Value::Bool(b) => {
            let t = if *b { "true" } else { "false" };
            values.iter().any(|x| x == t)
        }
        Value::Number(n) => {
            let t = n.to_string();
            values.contains(&t)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;
    use std::path::PathBuf;

    const NOW: u64 = 1_700_000_000;

    fn dir() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jwt"))
    }
    fn read(name: &str) -> Vec<u8> {
        std::fs::read(dir().join(name)).unwrap()
    }
    fn secret() -> String {
        String::from_utf8(read("hs256.secret")).unwrap()
    }

    fn raw_keys(keys: &str) -> RawJwt {
        RawJwt {
            header: Some("Authorization".into()),
            keys: Some(keys.into()),
            ..RawJwt::default()
        }
    }
    fn raw_secret() -> RawJwt {
        RawJwt {
            cookie: Some("token".into()),
            secret: Some(secret()),
            ..RawJwt::default()
        }
    }
    fn compile(raw: &RawJwt) -> JwtSource {
        JwtSource::compile(raw, &dir(), "jwt").unwrap().0
    }
    fn compile_err(raw: &RawJwt) -> (String, String) {
        match JwtSource::compile(raw, &dir(), "jwt") {
            Err(ConfigError::Value { field, message }) => (field, message),
            Err(e) => panic!("unexpected error kind {e:?}"),
            Ok(s) => panic!("compiled: {s:?}"),
        }
    }

    fn encoding_key(alg: Algorithm, private: &str) -> EncodingKey {
        match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&read(private)).unwrap(),
            Algorithm::ES256 => EncodingKey::from_ec_pem(&read(private)).unwrap(),
            _ => EncodingKey::from_secret(private.as_bytes()).unwrap(),
        }
    }
    fn sign(alg: Algorithm, private: &str, kid: Option<&str>, claims: &Value) -> String {
        let mut h = Header::new(alg);
        h.kid = kid.map(str::to_string);
        encode(&h, claims, &encoding_key(alg, private)).unwrap()
    }
    fn b64(s: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }
    fn claims() -> Value {
        json!({"sub": "u1", "role": "beta-tester", "exp": NOW + 3600})
    }

    #[test]
    fn valid_tokens_of_each_algorithm_are_accepted() {
        let rsa = compile(&raw_keys("rsa-public.pem"));
        let t = sign(Algorithm::RS256, "rsa-private.pem", None, &claims());
        let c = rsa.verify(t.as_bytes(), NOW).expect("RS256");
        assert_eq!(c.value()["sub"], "u1");
        assert_eq!(rsa.algorithms(), ["RS256"]);

        let ec = compile(&raw_keys("ec-public.pem"));
        let t = sign(Algorithm::ES256, "ec-private.pem", None, &claims());
        assert!(ec.verify(t.as_bytes(), NOW).is_some(), "ES256");
        assert_eq!(ec.algorithms(), ["ES256"]);

        let hs = compile(&raw_secret());
        let t = sign(Algorithm::HS256, &secret(), None, &claims());
        assert!(hs.verify(t.as_bytes(), NOW).is_some(), "HS256");
        assert_eq!(hs.token_location(), TokenLocation::Cookie("token"));
        assert_eq!(rsa.token_location(), TokenLocation::Header("authorization"));
    }

    #[test]
    fn wrong_key_and_tampering_are_refused() {
        let rsa = compile(&raw_keys("rsa-public.pem"));
        let other = sign(Algorithm::RS256, "rsa2-private.pem", None, &claims());
        assert!(
            rsa.verify(other.as_bytes(), NOW).is_none(),
            "signed by another key"
        );

        let t = sign(Algorithm::RS256, "rsa-private.pem", None, &claims());
        let parts: Vec<&str> = t.split('.').collect();
        let forged = b64(br#"{"sub":"u1","role":"admin","exp":1800000000}"#);
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert!(
            rsa.verify(tampered.as_bytes(), NOW).is_none(),
            "tampered payload"
        );
        let mut sig = parts[2].as_bytes().to_vec();
        sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
        let bad_sig = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            String::from_utf8(sig).unwrap()
        );
        assert!(
            rsa.verify(bad_sig.as_bytes(), NOW).is_none(),
            "tampered signature"
        );
        assert!(rsa.verify(t.as_bytes(), NOW).is_some());

        let hs = compile(&raw_secret());
        let t = sign(Algorithm::HS256, "not-the-secret", None, &claims());
        assert!(
            hs.verify(t.as_bytes(), NOW).is_none(),
            "HS256 with another secret"
        );
    }

    /// RS256 → HS256 with the RSA public key file as the HMAC secret.
    #[test]
    fn algorithm_confusion_is_refused() {
        let public = String::from_utf8(read("rsa-public.pem")).unwrap();
        let forged = sign(Algorithm::HS256, &public, None, &claims());
        let rsa = compile(&raw_keys("rsa-public.pem"));
        assert!(rsa.verify(forged.as_bytes(), NOW).is_none());
        // and HS256 cannot be switched on for a public key
        let mut raw = raw_keys("rsa-public.pem");
        raw.algorithms = Some(vec!["RS256".into(), "HS256".into()]);
        let (field, msg) = compile_err(&raw);
        assert_eq!(field, "jwt.algorithms[1]");
        assert!(msg.contains("no key"), "{msg}");
        // an EC token for an RSA-only source
        let es = sign(Algorithm::ES256, "ec-private.pem", None, &claims());
        assert!(rsa.verify(es.as_bytes(), NOW).is_none());
    }

    #[test]
    fn alg_none_is_refused() {
        let rsa = compile(&raw_keys("rsa-public.pem"));
        let hs = compile(&raw_secret());
        let payload = b64(claims().to_string().as_bytes());
        for alg in ["none", "None", "NONE", ""] {
            let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
            for sig in ["", "AAAA"] {
                let t = format!("{header}.{payload}.{sig}");
                assert!(rsa.verify(t.as_bytes(), NOW).is_none(), "{alg} {sig}");
                assert!(hs.verify(t.as_bytes(), NOW).is_none(), "{alg} {sig}");
            }
        }
    }

    #[test]
    fn exp_and_nbf_with_sixty_seconds_of_leeway() {
        let hs = compile(&raw_secret());
        let at = |c: Value| hs.verify(sign(Algorithm::HS256, &secret(), None, &c).as_bytes(), NOW);
        assert!(
            at(json!({"exp": NOW - 61})).is_none(),
            "expired beyond leeway"
        );
        assert!(
            at(json!({"exp": NOW - 60})).is_some(),
            "expired within leeway"
        );
        assert!(at(json!({"exp": NOW})).is_some());
        assert!(at(json!({"nbf": NOW + 61})).is_none(), "not yet valid");
        assert!(at(json!({"nbf": NOW + 60})).is_some(), "nbf within leeway");
        assert!(at(json!({"nbf": NOW - 10, "exp": NOW + 10})).is_some());
        assert!(at(json!({"exp": "tomorrow"})).is_none(), "non-numeric exp");
        assert!(at(json!({"nbf": null})).is_none(), "non-numeric nbf");
        assert!(
            at(json!({"exp": (NOW + 10) as f64 + 0.5})).is_some(),
            "fractional exp"
        );
        assert!(
            at(json!({"sub": "no exp"})).is_some(),
            "no exp: does not expire"
        );
        assert!(
            at(json!({"aud": "someone-else", "exp": NOW + 5})).is_some(),
            "aud not checked"
        );
        // the caller's clock, not the system's
        let t = sign(Algorithm::HS256, &secret(), None, &json!({"exp": 1000}));
        assert!(hs.verify(t.as_bytes(), 1000 + 60).is_some());
        assert!(hs.verify(t.as_bytes(), 1000 + 61).is_none());
    }

    #[test]
    fn bearer_prefix_and_size_limit() {
        let hs = compile(&raw_secret());
        let t = sign(Algorithm::HS256, &secret(), None, &claims());
        for form in [
            format!("Bearer {t}"),
            format!("bearer {t}"),
            format!("BEARER   {t} "),
            format!(" {t}"),
        ] {
            assert!(hs.verify(form.as_bytes(), NOW).is_some(), "{form:.12}");
        }
        assert!(hs.verify(format!("Basic {t}").as_bytes(), NOW).is_none());
        assert!(hs.verify(format!("Bearer{t}").as_bytes(), NOW).is_none());
        assert!(hs.verify(b"", NOW).is_none());
        assert!(hs.verify(b"Bearer ", NOW).is_none());

        let padding = "x".repeat(MAX_TOKEN_LEN);
        let big = sign(Algorithm::HS256, &secret(), None, &json!({"p": padding}));
        assert!(big.len() > MAX_TOKEN_LEN);
        assert!(hs.verify(big.as_bytes(), NOW).is_none(), "oversized");
        // just under the limit is fine
        let fits = (0..MAX_TOKEN_LEN)
            .rev()
            .map(|n| {
                sign(
                    Algorithm::HS256,
                    &secret(),
                    None,
                    &json!({"p": "x".repeat(n)}),
                )
            })
            .find(|t| t.len() <= MAX_TOKEN_LEN)
            .unwrap();
        assert!(fits.len() > MAX_TOKEN_LEN - 4);
        assert!(hs.verify(fits.as_bytes(), NOW).is_some());
    }

    #[test]
    fn claims_match_by_dotted_path_arrays_numbers_bools() {
        let hs = compile(&raw_secret());
        let c = json!({
            "role": "beta-tester",
            "realm": {"roles": ["user", "qa"], "level": 3, "deep": {"on": true}},
            "tenant": 42,
            "score": 1.5,
            "https://example.com/groups": ["g1"],
            "a.b": "literal",
            "a": {"b": "nested"},
            "nothing": null,
            "obj": {"x": 1},
            "matrix": [["qa"]],
        });
        let claims = hs
            .verify(sign(Algorithm::HS256, &secret(), None, &c).as_bytes(), NOW)
            .unwrap();
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(claims.matches("role", &v(&["x", "beta-tester"])));
        assert!(!claims.matches("role", &v(&["Beta-Tester"])), "exact");
        assert!(claims.matches("realm.roles", &v(&["qa"])));
        assert!(!claims.matches("realm.roles", &v(&["admin"])));
        assert!(claims.matches("realm.level", &v(&["3"])));
        assert!(claims.matches("realm.deep.on", &v(&["true"])));
        assert!(!claims.matches("realm.deep.on", &v(&["false"])));
        assert!(claims.matches("tenant", &v(&["42"])));
        assert!(claims.matches("score", &v(&["1.5"])));
        assert!(claims.matches("https://example.com/groups", &v(&["g1"])));
        assert!(claims.matches("a.b", &v(&["literal"])), "whole key first");
        assert!(!claims.matches("nothing", &v(&["null", ""])));
        assert!(!claims.matches("obj", &v(&["{\"x\":1}"])));
        assert!(
            !claims.matches("matrix", &v(&["qa"])),
            "nested arrays are not flattened"
        );
        assert!(!claims.matches("realm.missing", &v(&["qa"])));
        assert!(!claims.matches("role.sub", &v(&["beta-tester"])));
        assert!(!claims.matches("", &v(&[""])));
    }

    #[test]
    fn verify_false_takes_well_formed_tokens_as_they_are() {
        let raw = RawJwt {
            header: Some("X-Token".into()),
            verify: Some(false),
            ..RawJwt::default()
        };
        let (src, warnings) = JwtSource::compile(&raw, &dir(), "jwt").unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("jwt.verify: false"), "{warnings:?}");
        assert!(warnings[0].contains("forge"));
        let header = b64(br#"{"alg":"none"}"#);
        let payload = b64(br#"{"role":"qa","exp":1700000100}"#);
        for sig in ["", "garbage-signature"] {
            let t = format!("{header}.{payload}.{sig}");
            let c = src.verify(t.as_bytes(), NOW).expect("well-formed");
            assert!(c.matches("role", &["qa".to_string()]));
        }
        let signed = sign(Algorithm::HS256, "whatever", None, &claims());
        assert!(src.verify(signed.as_bytes(), NOW).is_some());
        // still refused: expired, malformed
        let t = format!("{header}.{payload}.");
        assert!(src.verify(t.as_bytes(), NOW + 161).is_none(), "expired");
        for bad in [
            format!("{header}.{payload}"),
            format!("{header}.{payload}.x.y"),
            format!("{header}.bm90IGpzb24.x"),
            format!("{header}.{}.x", b64(b"[1,2]")),
            format!("{}.{payload}.x", b64(b"not json")),
            format!("{header}.{payload}!.x"),
        ] {
            assert!(src.verify(bad.as_bytes(), NOW).is_none(), "{bad}");
        }
        // keys given with verify: false are ignored, with a second warning
        let mut raw = raw_keys("does-not-exist.pem");
        raw.verify = Some(false);
        let (_, warnings) = JwtSource::compile(&raw, &dir(), "jwt").unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn jwks_keys_are_chosen_by_kid() {
        let (src, warnings) = JwtSource::compile(&raw_keys("jwks.json"), &dir(), "jwt").unwrap();
        assert_eq!(
            warnings.len(),
            1,
            "the encryption key is skipped: {warnings:?}"
        );
        assert!(warnings[0].starts_with("jwt.keys: /"), "{warnings:?}");
        assert!(
            warnings[0].contains("jwks.json: JWKS key 2 skipped"),
            "{warnings:?}"
        );
        assert_eq!(src.algorithms(), ["RS256", "ES256"]);
        let ok = |t: String| src.verify(t.as_bytes(), NOW).is_some();
        assert!(ok(sign(
            Algorithm::RS256,
            "rsa2-private.pem",
            Some("rsa-2"),
            &claims()
        )));
        assert!(ok(sign(
            Algorithm::ES256,
            "ec-private.pem",
            Some("ec-1"),
            &claims()
        )));
        // no kid: the one key of that algorithm
        assert!(ok(sign(
            Algorithm::RS256,
            "rsa2-private.pem",
            None,
            &claims()
        )));
        assert!(ok(sign(
            Algorithm::ES256,
            "ec-private.pem",
            None,
            &claims()
        )));
        // unknown kid, a kid of another algorithm, a key not in the set
        assert!(!ok(sign(
            Algorithm::RS256,
            "rsa2-private.pem",
            Some("nope"),
            &claims()
        )));
        assert!(!ok(sign(
            Algorithm::RS256,
            "rsa2-private.pem",
            Some("ec-1"),
            &claims()
        )));
        assert!(!ok(sign(
            Algorithm::RS256,
            "rsa-private.pem",
            Some("rsa-2"),
            &claims()
        )));
        // a PEM key has no kid: any kid names it
        let pem = compile(&raw_keys("rsa-public.pem"));
        let t = sign(Algorithm::RS256, "rsa-private.pem", Some("k1"), &claims());
        assert!(pem.verify(t.as_bytes(), NOW).is_some());
        // algorithms narrows a JWKS
        let mut raw = raw_keys("jwks.json");
        raw.algorithms = Some(vec!["ES256".into()]);
        let es_only = compile(&raw);
        let t = sign(
            Algorithm::RS256,
            "rsa2-private.pem",
            Some("rsa-2"),
            &claims(),
        );
        assert!(es_only.verify(t.as_bytes(), NOW).is_none());
    }

    /// Two keys of one algorithm and a token without kid: refused, not tried against each.
    #[test]
    fn ambiguous_key_without_kid_is_refused() {
        let tmp = std::env::temp_dir().join(format!("fg-jwks-{}.json", std::process::id()));
        let mut set: Value = serde_json::from_slice(&read("jwks.json")).unwrap();
        let rsa = Jwk::from_decoding_key(
            &DecodingKey::from_rsa_pem(&read("rsa-public.pem")).unwrap(),
            Some(Algorithm::RS256),
        )
        .unwrap();
        let mut rsa = serde_json::to_value(rsa).unwrap();
        rsa["kid"] = json!("rsa-1");
        set["keys"].as_array_mut().unwrap().push(rsa);
        std::fs::write(&tmp, set.to_string()).unwrap();
        let src = compile(&raw_keys(tmp.to_str().unwrap()));
        let _ = std::fs::remove_file(&tmp);
        let ok = |t: String| src.verify(t.as_bytes(), NOW).is_some();
        assert!(ok(sign(
            Algorithm::RS256,
            "rsa-private.pem",
            Some("rsa-1"),
            &claims()
        )));
        assert!(ok(sign(
            Algorithm::RS256,
            "rsa2-private.pem",
            Some("rsa-2"),
            &claims()
        )));
        assert!(!ok(sign(
            Algorithm::RS256,
            "rsa-private.pem",
            None,
            &claims()
        )));
        assert!(!ok(sign(
            Algorithm::RS256,
            "rsa2-private.pem",
            None,
            &claims()
        )));
    }

    #[test]
    fn config_errors_name_their_field() {
        let cases: Vec<(RawJwt, &str, &str)> = vec![
            (
                RawJwt {
                    header: Some("Authorization".into()),
                    cookie: Some("t".into()),
                    secret: Some(secret()),
                    ..RawJwt::default()
                },
                "jwt",
                "not both",
            ),
            (
                RawJwt {
                    secret: Some(secret()),
                    ..RawJwt::default()
                },
                "jwt",
                "needs `header`",
            ),
            (
                RawJwt {
                    header: Some("Bad Header".into()),
                    secret: Some(secret()),
                    ..RawJwt::default()
                },
                "jwt.header",
                "not a header name",
            ),
            (
                RawJwt {
                    cookie: Some("a;b".into()),
                    secret: Some(secret()),
                    ..RawJwt::default()
                },
                "jwt.cookie",
                "not a cookie name",
            ),
            (raw_keys("missing.pem"), "jwt.keys", "cannot read"),
            (raw_keys("README.md"), "jwt.keys", "neither a PEM"),
            (raw_keys("rsa-private.pem"), "jwt.keys", "private key"),
            (raw_keys("p384-public.pem"), "jwt.keys", "P-256"),
            (raw_keys("hs256.secret"), "jwt.keys", "neither a PEM"),
            (
                {
                    let mut r = raw_keys("rsa-public.pem");
                    r.secret = Some(secret());
                    r
                },
                "jwt",
                "not both",
            ),
            (
                RawJwt {
                    header: Some("Authorization".into()),
                    ..RawJwt::default()
                },
                "jwt",
                "needs `keys`",
            ),
            (
                RawJwt {
                    secret: Some(String::new()),
                    ..raw_secret()
                },
                "jwt.secret",
                "empty",
            ),
            (
                RawJwt {
                    algorithms: Some(vec!["HS256".into(), "RS512".into()]),
                    ..raw_secret()
                },
                "jwt.algorithms[1]",
                "unknown algorithm",
            ),
            (
                RawJwt {
                    algorithms: Some(vec!["none".into()]),
                    ..raw_secret()
                },
                "jwt.algorithms[0]",
                "never accepted",
            ),
            (
                RawJwt {
                    algorithms: Some(vec![]),
                    ..raw_secret()
                },
                "jwt.algorithms",
                "empty",
            ),
            (
                RawJwt {
                    algorithms: Some(vec!["RS256".into()]),
                    ..raw_secret()
                },
                "jwt.algorithms[0]",
                "no key",
            ),
        ];
        for (raw, field, words) in cases {
            let (f, m) = compile_err(&raw);
            assert_eq!(f, field, "{m}");
            assert!(m.contains(words), "{field}: {m:?} lacks {words:?}");
        }
    }

    #[test]
    fn bad_pem_body_and_bad_jwks_are_config_errors() {
        let tmp = std::env::temp_dir().join(format!("fg-badkeys-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let pem = String::from_utf8(read("rsa-public.pem")).unwrap();
        let broken = pem.replacen("MII", "MIX", 1);
        std::fs::write(tmp.join("broken.pem"), broken).unwrap();
        std::fs::write(tmp.join("empty.json"), r#"{"keys":[]}"#).unwrap();
        std::fs::write(tmp.join("bad.json"), r#"{"keys":[{"kty":"RSA"}]}"#).unwrap();
        let mut off_curve: Value = serde_json::from_slice(&read("jwks.json")).unwrap();
        off_curve["keys"][1]["y"] = json!(b64(&[7u8; 32]));
        std::fs::write(tmp.join("off.json"), off_curve.to_string()).unwrap();
        for f in ["broken.pem", "empty.json", "bad.json"] {
            let raw = raw_keys(f);
            let e = JwtSource::compile(&raw, &tmp, "jwt").expect_err(f);
            assert!(matches!(e, ConfigError::Value { ref field, .. } if field == "jwt.keys"));
        }
        // an off-curve EC key is skipped with a warning; the RSA key of the set remains
        let (src, w) = JwtSource::compile(&raw_keys("off.json"), &tmp, "jwt").unwrap();
        assert_eq!(src.algorithms(), ["RS256"]);
        assert!(w.iter().any(|w| w.contains("key 1")), "{w:?}");
        let _ = std::fs::remove_dir_all(&tmp);
    }

    #[test]
    fn short_secret_is_warned_about() {
        let raw = RawJwt {
            secret: Some("short".into()),
            ..raw_secret()
        };
        let (_, w) = JwtSource::compile(&raw, &dir(), "jwt").unwrap();
        assert!(w.len() == 1 && w[0].starts_with("jwt.secret"), "{w:?}");
        let (_, w) = JwtSource::compile(&raw_secret(), &dir(), "jwt").unwrap();
        assert!(w.is_empty());
    }

    #[test]
    fn relative_key_paths_start_at_base_dir() {
        let raw = raw_keys("jwt/rsa-public.pem");
        let base = dir().parent().unwrap().to_path_buf();
        assert!(JwtSource::compile(&raw, &base, "jwt").is_ok());
        let abs = raw_keys(dir().join("rsa-public.pem").to_str().unwrap());
        assert!(JwtSource::compile(&abs, Path::new("/nonexistent"), "jwt").is_ok());
    }

    #[test]
    fn raw_jwt_deserializes_strictly() {
        let r: RawJwt = serde_json::from_str(
            r#"{"header":"Authorization","keys":"k.pem","algorithms":["RS256"],"verify":true}"#,
        )
        .unwrap();
        assert_eq!(r.header.as_deref(), Some("Authorization"));
        assert!(serde_json::from_str::<RawJwt>(r#"{"header":"a","key":"x"}"#).is_err());
    }

    /// This thread's time on a CPU (Linux schedstat), so a loaded machine does not inflate it.
    fn cpu_ns() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// `cargo test --release -p frontend-gray-core conditions::jwt::tests::speed -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn speed() {
        let big = json!({"sub": "u1", "realm": {"roles": ["a", "b", "qa"]}, "exp": NOW + 3600});
        for (name, src, token) in [
            (
                "RS256",
                compile(&raw_keys("rsa-public.pem")),
                sign(Algorithm::RS256, "rsa-private.pem", None, &big),
            ),
            (
                "ES256",
                compile(&raw_keys("ec-public.pem")),
                sign(Algorithm::ES256, "ec-private.pem", None, &big),
            ),
            (
                "HS256",
                compile(&raw_secret()),
                sign(Algorithm::HS256, &secret(), None, &big),
            ),
        ] {
            let n = 2000;
            let (t, cpu) = (std::time::Instant::now(), cpu_ns());
            for _ in 0..n {
                assert!(src
                    .verify(std::hint::black_box(token.as_bytes()), NOW)
                    .is_some());
            }
            let per = t.elapsed().as_secs_f64() * 1e6 / n as f64;
            let per_cpu = (cpu_ns() - cpu) as f64 / 1e3 / n as f64;
            println!(
                "{name}: {per_cpu:.1} µs of CPU per verification ({per:.1} µs wall, {} byte token)",
                token.len()
            );
        }
        let hs = compile(&raw_secret());
        let big = "x".repeat(100_000);
        let t = std::time::Instant::now();
        for _ in 0..100_000 {
            assert!(hs
                .verify(std::hint::black_box(big.as_bytes()), NOW)
                .is_none());
        }
        println!(
            "oversized refusal: {:.0} ns",
            t.elapsed().as_nanos() as f64 / 100_000.0
        );
    }
}
