//! The allocation-free `graySubKey` field finder against serde_json, the first implementation:
//! the same string and boolean values, and the same documents accepted — except numbers (ours
//! returns them as written, also when serde_json finds them out of range) and nesting deeper
//! than json_field::MAX_DEPTH (refused by ours, skipped by serde_json).
#![no_main]
use frontend_gray_core::json_field;
use libfuzzer_sys::fuzz_target;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

struct Seed;
impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Option<serde_json::Value>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}
impl<'de> Visitor<'de> for Seed {
    type Value = Option<serde_json::Value>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
        let mut found = None;
        while let Some(k) = m.next_key::<String>()? {
            if found.is_none() && k == "userId" {
                found = match m.next_value::<serde_json::Value>()? {
                    serde_json::Value::Null
                    | serde_json::Value::Array(_)
                    | serde_json::Value::Object(_) => None,
                    v => Some(v),
                };
            } else {
                m.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

fn oracle(json: &[u8]) -> Option<serde_json::Value> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let v = Seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    v
}

fuzz_target!(|data: &[u8]| {
    let mut buf = data.to_vec();
    let ours = json_field::field(&mut buf, "userId");
    let deep =
        data.iter().filter(|&&b| b == b'[' || b == b'{').count() >= json_field::MAX_DEPTH as usize;
    let number = |v: &[u8]| !v.is_empty() && v.iter().all(|b| b"-+.eE0123456789".contains(b));
    match (ours, oracle(data)) {
        (Some(v), Some(serde_json::Value::String(s))) => assert_eq!(v, s.as_bytes()),
        (Some(v), Some(serde_json::Value::Bool(b))) => assert_eq!(v, b.to_string().as_bytes()),
        (Some(v), Some(serde_json::Value::Number(_))) => assert!(number(v)),
        (Some(v), None) => assert!(number(v), "accepted what serde_json refuses: {v:?}"),
        (None, Some(_)) => assert!(deep, "refused what serde_json accepts"),
        (Some(_), Some(_)) => unreachable!("oracle gives scalars only"),
        (None, None) => {}
    }
});
