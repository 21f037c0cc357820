//! Strict base64url and strict JSON for untrusted tokens.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{SadError, TokenPart};

/// base64url without padding (RFC 7515 §2).
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes canonical base64url without padding; anything else is refused
/// (padding, other alphabets, non-zero trailing bits).
pub(crate) fn b64_decode(text: &str, part: TokenPart) -> Result<Vec<u8>, SadError> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| SadError::Base64 { part })
}

/// A JSON value that refuses any object naming a member twice, at any depth.
struct NoDuplicates;

impl<'de> de::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = std::collections::BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

const DUPLICATE: &str = "ssa-sad: duplicate member";

/// Parses untrusted JSON into `T`: any duplicate member name is refused
/// first (serde would keep the last one silently), then `T`'s own rules apply.
pub(crate) fn json_strict<T: DeserializeOwned>(
    bytes: &[u8],
    part: TokenPart,
) -> Result<T, SadError> {
    if let Err(e) = serde_json::from_slice::<NoDuplicates>(bytes) {
        return Err(if e.to_string().starts_with(DUPLICATE) {
            SadError::DuplicateKey { part }
        } else {
            SadError::Json {
                part,
                reason: e.to_string(),
            }
        });
    }
    serde_json::from_slice(bytes).map_err(|e| SadError::Json {
        part,
        reason: e.to_string(),
    })
}

/// Constant-time equality of two byte strings (time depends on lengths only).
pub(crate) use ssa_types::constant_time_eq;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_at_any_depth() {
        let r: Result<serde_json::Value, _> = json_strict(br#"{"a":1,"a":2}"#, TokenPart::Payload);
        assert!(matches!(r, Err(SadError::DuplicateKey { .. })));
        let r: Result<serde_json::Value, _> =
            json_strict(br#"{"a":[{"b":1,"b":1}]}"#, TokenPart::Payload);
        assert!(matches!(r, Err(SadError::DuplicateKey { .. })));
        let r: Result<serde_json::Value, _> =
            json_strict(br#"{"a":[{"b":1},{"b":1}]}"#, TokenPart::Payload);
        assert!(r.is_ok());
    }

    #[test]
    fn base64url_is_strict() {
        assert!(b64_decode("YQ", TokenPart::Header).is_ok());
        assert!(b64_decode("YQ==", TokenPart::Header).is_err());
        assert!(
            b64_decode("YR", TokenPart::Header).is_err(),
            "non-zero trailing bits"
        );
        assert!(
            b64_decode("+/", TokenPart::Header).is_err(),
            "standard alphabet"
        );
    }
}
