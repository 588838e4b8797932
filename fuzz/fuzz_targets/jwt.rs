//! `conditions::jwt::JwtSource::verify` on arbitrary token bytes: never panics, and never
//! verifies against the fixed test keys (an RSA PEM key, a JWKS of an RSA and an EC key, an
//! HS256 secret) — the fuzzer cannot sign. With `verify: false` any result is a JSON object.
//! Half the inputs are shaped as `b64(a).b64(b).b64(c)` (split at 0xff bytes) so the header
//! and payload parsers are reached.
#![no_main]
use std::path::Path;
use std::sync::LazyLock;

use base64::Engine as _;
use frontend_gray_core::conditions::jwt::{JwtSource, RawJwt};
use libfuzzer_sys::fuzz_target;

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/data/jwt");

fn source(raw: RawJwt) -> JwtSource {
    JwtSource::compile(&raw, Path::new(KEYS), "jwt").unwrap().0
}

static VERIFYING: LazyLock<Vec<JwtSource>> = LazyLock::new(|| {
    let keys = |k: &str| RawJwt {
        header: Some("Authorization".into()),
        keys: Some(k.into()),
        ..RawJwt::default()
    };
    let secret = std::fs::read_to_string(Path::new(KEYS).join("hs256.secret")).unwrap();
    vec![
        source(keys("rsa-public.pem")),
        source(keys("jwks.json")),
        source(RawJwt {
            cookie: Some("token".into()),
            secret: Some(secret),
            ..RawJwt::default()
        }),
    ]
});

static UNVERIFIED: LazyLock<JwtSource> = LazyLock::new(|| {
    source(RawJwt {
        header: Some("Authorization".into()),
        verify: Some(false),
        ..RawJwt::default()
    })
});

fuzz_target!(|data: &[u8]| {
    let shaped;
    let token = match data.split_first() {
        Some((&flag, rest)) if flag & 1 == 1 => {
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let parts: Vec<String> = rest.split(|&b| b == 0xff).map(|p| b64.encode(p)).collect();
            shaped = parts.join(".");
            shaped.as_bytes()
        }
        _ => data,
    };
    let now = 1_700_000_000;
    for src in VERIFYING.iter() {
        assert!(src.verify(token, now).is_none(), "a fuzzed token verified");
    }
    if let Some(c) = UNVERIFIED.verify(token, now) {
        assert!(c.value().is_object());
        let _ = c.matches("a.b", &["1".to_string()]);
    }
});
