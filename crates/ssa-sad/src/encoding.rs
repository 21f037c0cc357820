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
        // Names borrowed from the input where they have no escapes; sorted
        // once at the end (a token's size bounds how many there are).
        let mut names = Vec::new();
        while let Some(name) = map.next_key::<Name<'de>>()? {
            names.push(name);
            map.next_value::<NoDuplicates>()?;
        }
        names.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        if names.windows(2).any(|w| w[0].as_str() == w[1].as_str()) {
            return Err(de::Error::custom(DUPLICATE));
        }
        Ok(NoDuplicates)
    }
}

/// A member name as the parser gives it: borrowed from the input, or
/// unescaped into a string of its own.
enum Name<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Name<'_> {
    fn as_str(&self) -> &str {
        match self {
            Name::Borrowed(name) => name,
            Name::Owned(name) => name,
        }
    }
}

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Name<'de>, E> {
                Ok(Name::Borrowed(name))
            }
            fn visit_str<E>(self, name: &str) -> Result<Name<'de>, E> {
                Ok(Name::Owned(name.to_owned()))
            }
        }
        deserializer.deserialize_str(NameVisitor)
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
        // The same name written with an escape is the same name.
        let r: Result<serde_json::Value, _> =
            json_strict(br#"{"num":1,"n\u0075m":2}"#, TokenPart::Payload);
        assert!(matches!(r, Err(SadError::DuplicateKey { .. })));
        let r: Result<serde_json::Value, _> =
            json_strict(br#"{"c":1,"b":2,"a":3,"d":{"a":1}}"#, TokenPart::Payload);
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
