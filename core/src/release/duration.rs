//! Durations of the release settings (`interval: 10m`, `window: 60s`): a whole number of
//! seconds, minutes or hours (`90s`, `10m`, `1h`), or plain seconds (`600`, or a YAML
//! integer). Nothing finer than a second and no mixed units (`1h30m`): `90m` says it.

use serde_yaml_ng::Value;

/// Why a duration was refused; the message names the value and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);

const HINT: &str = "a whole number of seconds, or a number with s, m or h (90s, 10m, 1h)";

/// Parses `90s`, `10m`, `1h` or `600` (seconds) into seconds.
pub fn parse_duration(s: &str) -> Result<u64, DurationError> {
    let t = s.trim();
    let bad = || DurationError(format!("invalid duration {s:?}: expected {HINT}"));
    let (digits, unit) = match t.as_bytes().last() {
        Some(b's') => (&t[..t.len() - 1], 1),
        Some(b'm') => (&t[..t.len() - 1], 60),
        Some(b'h') => (&t[..t.len() - 1], 3600),
        Some(_) => (t, 1),
        None => return Err(bad()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| DurationError(format!("duration {s:?} is too large")))
}

/// A duration as YAML gives it: a string as [`parse_duration`] reads it, or a
/// non-negative integer of seconds.
pub fn duration_from_yaml(v: &Value) -> Result<u64, DurationError> {
    match v {
        Value::String(s) => parse_duration(s),
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| DurationError(format!("invalid duration {n}: expected {HINT}"))),
        _ => Err(DurationError(format!("invalid duration: expected {HINT}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("90s"), Ok(90));
        assert_eq!(parse_duration("10m"), Ok(600));
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("600"), Ok(600));
        assert_eq!(parse_duration(" 5m "), Ok(300));
        assert_eq!(parse_duration("0"), Ok(0));
    }

    #[test]
    fn refused() {
        for s in [
            "", "s", "m", "-5", "1.5m", "10 m", "1h30m", "10d", "ms", "+5", "５s",
        ] {
            let e = parse_duration(s).unwrap_err();
            assert!(e.0.contains("expected"), "{s}: {e}");
        }
        let e = parse_duration("99999999999999999999h").unwrap_err();
        assert!(e.0.contains("too large"), "{e}");
        assert!(parse_duration("9999999999999999999h")
            .unwrap_err()
            .0
            .contains("too large"));
    }

    #[test]
    fn yaml() {
        let y = |s: &str| duration_from_yaml(&serde_yaml_ng::from_str::<Value>(s).unwrap());
        assert_eq!(y("90"), Ok(90));
        assert_eq!(y("10m"), Ok(600));
        assert_eq!(y("\"1h\""), Ok(3600));
        assert!(y("-1").is_err());
        assert!(y("1.5").is_err());
        assert!(y("[1]").is_err());
        assert!(y("null").is_err());
    }
}
