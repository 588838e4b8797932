//! `conditions::ua::classify` on arbitrary bytes: never panics, is deterministic, agrees with
//! the naive reference implementation of the same token table (core/tests/data/ua_reference.rs),
//! and ignores every byte that occurs in no token (they are all replaced by one such byte).
#![no_main]
use frontend_gray_core::conditions::ua::{classify, TOKENS};
use libfuzzer_sys::fuzz_target;

#[path = "../../core/tests/data/ua_reference.rs"]
mod reference;

fn in_a_token(b: u8) -> bool {
    TOKENS.iter().any(|t| t.as_bytes().contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let got = classify(data);
    assert_eq!(got, classify(data), "not deterministic");
    assert_eq!(got, reference::reference_classify(data), "differs from the reference");
    let filler = (0..=255u8).find(|&b| !in_a_token(b)).unwrap();
    let masked: Vec<u8> = data
        .iter()
        .map(|&b| if in_a_token(b) { b } else { filler })
        .collect();
    assert_eq!(classify(&masked), got, "a byte outside every token changed the result");
});
