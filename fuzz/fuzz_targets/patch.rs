//! The PATCH body parser and validator of SPEC §10 on any bytes: it never panics; it refuses
//! whatever serde_json refuses; an accepted patch leaves the weights of the enabled gray
//! deployments summing to at most 100 and the pin on a configured deployment; a refused one
//! changes nothing.
#![no_main]
use frontend_gray_core::status::{parse_patch, Steered};
use libfuzzer_sys::fuzz_target;

fn deployments() -> Vec<Steered<'static>> {
    let d = |name, version, weight, w: Option<u8>, e: Option<bool>| Steered {
        name,
        version,
        weight,
        weight_override: w,
        enabled_override: e,
        has_rollout: false,
    };
    vec![
        d("base", "v1", 0, None, None),
        d("beta", "v2", 30, Some(10), None),
        d("gamma", "v3", 20, None, Some(false)),
    ]
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse_patch(data);
    if serde_json::from_slice::<serde_json::Value>(data).is_err() {
        assert!(parsed.is_err(), "accepted what serde_json refuses");
    }
    let Ok(patch) = parsed else { return };
    let before = deployments();
    let mut deps = deployments();
    let mut pin = Some(2);
    match patch.apply(&mut deps, &mut pin) {
        Ok(()) => {
            let sum: u32 = deps.iter().map(|d| u32::from(d.effective_weight())).sum();
            assert!(sum <= 100, "weights sum to {sum}");
            assert!(pin.is_none_or(|i| i < deps.len()));
            assert!(deps.iter().all(|d| d.weight_override.is_none_or(|w| w <= 100)));
            assert!(deps[0].weight_override.is_none() && deps[0].enabled_override.is_none());
        }
        Err(e) => {
            assert!(!e.0.is_empty());
            assert_eq!(deps, before);
            assert_eq!(pin, Some(2));
        }
    }
});
