//! The SAD as a compact JWS (RFC 7515 §7.1): `BASE64URL(header) "."
//! BASE64URL(claims) "." BASE64URL(signature)`, header `typ` = `sad+jwt`.

use core::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::SadClaims;
use crate::encoding::{b64_decode, b64_encode, json_strict};
use crate::error::{SadError, TokenPart};
use crate::keys::{SadAlgorithm, SadSigningKey};

/// The `typ` of every SAD.
pub const SAD_TYP: &str = "sad+jwt";

/// The default size limit of a SAD, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

#[derive(Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) crit: Option<serde_json::Value>,
}

/// A SAD token: a bearer secret while it lives. Zeroized on drop; never
/// printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Sad(Zeroizing<String>);

impl Sad {
    /// Wraps a token received from outside.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Zeroizing::new(token.into()))
    }

    /// The compact serialization, to send to the SAM.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sad([redacted])")
    }
}

impl SadSigningKey {
    /// Signs `claims` as a SAD. No check is made here: this is the minting
    /// primitive that the built-in issuer (and an external identity
    /// provider) uses after authenticating the signer.
    pub fn mint(&self, claims: &SadClaims) -> Result<Sad, SadError> {
        let header = Header {
            alg: self.algorithm().name().to_owned(),
            typ: Some(SAD_TYP.to_owned()),
            kid: Some(self.kid().to_owned()),
            crit: None,
        };
        let mut token = b64_encode(&to_json(&header)?);
        token.push('.');
        token.push_str(&b64_encode(&to_json(claims)?));
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64_encode(&signature));
        Ok(Sad::new(token))
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, SadError> {
    serde_json::to_vec(value).map_err(|e| SadError::Json {
        part: TokenPart::Payload,
        reason: e.to_string(),
    })
}

/// A SAD taken apart but not yet trusted.
pub(crate) struct Unverified<'a> {
    pub(crate) algorithm: SadAlgorithm,
    pub(crate) kid: String,
    /// `header.payload` exactly as received: what the signature covers.
    pub(crate) signing_input: &'a [u8],
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

/// Splits and checks the form of an untrusted token, up to (not including)
/// the signature check.
pub(crate) fn parse(token: &str, max_len: usize) -> Result<Unverified<'_>, SadError> {
    if token.len() > max_len {
        return Err(SadError::TokenTooLarge {
            len: token.len(),
            limit: max_len,
        });
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SadError::NotCompactJws);
    };
    let header_json = b64_decode(header, TokenPart::Header)?;
    let header_fields: Header = json_strict(&header_json, TokenPart::Header)?;
    let algorithm = SadAlgorithm::from_name(&header_fields.alg)?;
    if header_fields.typ.as_deref() != Some(SAD_TYP) {
        return Err(SadError::WrongType {
            typ: header_fields.typ,
        });
    }
    if header_fields.crit.is_some() {
        return Err(SadError::UnknownCritical);
    }
    let kid = header_fields
        .kid
        .ok_or(SadError::UnknownKeyId { kid: String::new() })?;
    let signing_input = &token.as_bytes()[..header.len() + 1 + payload.len()];
    let payload = b64_decode(payload, TokenPart::Payload)?;
    let signature = b64_decode(signature, TokenPart::Signature)?;
    Ok(Unverified {
        algorithm,
        kid,
        signing_input,
        payload,
        signature,
    })
}

impl Unverified<'_> {
    pub(crate) fn claims(&self) -> Result<SadClaims, SadError> {
        json_strict(&self.payload, TokenPart::Payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signs an arbitrary payload, as only a trusted issuer could.
    fn signed(key: &SadSigningKey, payload: &[u8]) -> String {
        let header = format!(r#"{{"alg":"ES256","typ":"sad+jwt","kid":"{}"}}"#, key.kid());
        let input = format!("{}.{}", b64_encode(header.as_bytes()), b64_encode(payload));
        let signature = key.sign(input.as_bytes()).unwrap_or_default();
        format!("{input}.{}", b64_encode(&signature))
    }

    fn claims_of(token: &str) -> Result<SadClaims, SadError> {
        parse(token, DEFAULT_MAX_TOKEN_LEN)?.claims()
    }

    #[test]
    fn signed_but_malformed_payloads_are_refused() {
        let Ok((key, _)) = SadSigningKey::generate(SadAlgorithm::Es256) else {
            unreachable!()
        };
        let valid = r#"{"iss":"i","aud":"a","sub":"s","cred":"c","mode":"document","hashAlg":"2.16.840.1.101.3.4.2.1","hashes":[],"num":1,"scal":1,"amr":["pin"],"iat":1,"exp":2,"jti":"j"}"#;
        assert!(claims_of(&signed(&key, valid.as_bytes())).is_ok());
        type Expect = fn(&SadError) -> bool;
        let cases: [(&str, Expect); 6] = [
            ("not json", |e| {
                matches!(
                    e,
                    SadError::Json {
                        part: TokenPart::Payload,
                        ..
                    }
                )
            }),
            (&valid.replace(r#""num":1"#, r#""num":1,"num":1000"#), |e| {
                matches!(
                    e,
                    SadError::DuplicateKey {
                        part: TokenPart::Payload
                    }
                )
            }),
            (
                &valid.replace(r#""jti":"j""#, r#""jti":"j","admin":true"#),
                |e| matches!(e, SadError::Json { .. }),
            ),
            (&valid.replace(r#""scal":1"#, r#""scal":3"#), |e| {
                matches!(e, SadError::Json { .. })
            }),
            (
                &valid.replace(r#""hashes":[]"#, r#""hashes":["a+b="]"#),
                |e| matches!(e, SadError::Json { .. }),
            ),
            (&valid.replace(r#","jti":"j""#, ""), |e| {
                matches!(e, SadError::Json { .. })
            }),
        ];
        for (payload, expected) in cases {
            let error = claims_of(&signed(&key, payload.as_bytes())).err();
            assert!(error.as_ref().is_some_and(expected), "{payload}: {error:?}");
        }
    }
}
