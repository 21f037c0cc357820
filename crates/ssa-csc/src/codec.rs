//! What the CSC JSON carries, to and from the vocabulary: base64 values,
//! algorithm OIDs, request bodies. A malformed value is `invalid_request`
//! naming the parameter, never an echo of the value (it may be a PIN).

use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
use der::Decode;
use der::asn1::{Any, ObjectIdentifier};
use serde::de::DeserializeOwned;
use ssa::cades::algorithm::{signature_algorithm, signature_for_key};
use ssa::{HashAlgorithm, KeyAlgorithm, Level, SignatureAlgorithm};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::error::CscError;

/// A request body as `T`. The error names where the JSON went wrong, not
/// what it said.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, CscError> {
    serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "a parameter is missing or of the wrong type",
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "the request body is not JSON"
            }
            serde_json::error::Category::Io => "the request body could not be read",
        };
        CscError::invalid_request(format!("{what} (line {}, column {})", e.line(), e.column()))
    })
}

/// Base64 as CSC clients send it (standard alphabet, padded or not; the
/// URL-safe alphabet is taken too).
pub fn base64(value: &str, parameter: &str) -> Result<Vec<u8>, CscError> {
    Base64::decode_vec(value)
        .or_else(|_| Base64Unpadded::decode_vec(value))
        .or_else(|_| Base64Url::decode_vec(value))
        .or_else(|_| Base64UrlUnpadded::decode_vec(value))
        .map_err(|_| CscError::invalid_request(format!("Invalid Base64 in parameter {parameter}")))
}

/// Standard base64, as the server answers.
pub fn to_base64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// The hash a `hashAlgo` / `hashAlgorithmOID` names.
pub fn hash_algorithm(oid: &str, parameter: &str) -> Result<HashAlgorithm, CscError> {
    HashAlgorithm::from_oid(oid)
        .ok_or_else(|| CscError::invalid_request(format!("Invalid parameter {parameter}")))
}

/// The signature algorithm a `signAlgo` (and `signAlgoParams`, base64 DER)
/// names for a `key` key, with `hash` the request's hash algorithm where
/// the OID leaves it open (`rsaEncryption`, `id-ecPublicKey`) or must agree
/// with it. RSASSA-PSS takes the salt length of its parameters: as long as
/// the digest, or the longest the key allows.
pub fn signature(
    sign_algo: &str,
    params: Option<&str>,
    hash: Option<HashAlgorithm>,
    key: KeyAlgorithm,
) -> Result<SignatureAlgorithm, CscError> {
    let refused = || CscError::invalid_request("Invalid parameter signAlgo");
    let oid = ObjectIdentifier::new(sign_algo).map_err(|_| refused())?;
    let parameters = match params {
        Some(text) => Some(
            Any::from_der(&base64(text, "signAlgoParams")?)
                .map_err(|_| CscError::invalid_request("Invalid parameter signAlgoParams"))?,
        ),
        None => None,
    };
    let algorithm = signature_for_key(&AlgorithmIdentifierOwned { oid, parameters }, hash, key)
        .ok_or_else(refused)?;
    match (algorithm.hash(), hash) {
        (Some(own), Some(asked)) if own != asked => Err(CscError::invalid_request(
            "the hash algorithm does not match signAlgo",
        )),
        _ => Ok(algorithm),
    }
}

/// The OID a client names `algorithm` by (a combined signature OID;
/// RSASSA-PSS has one OID whatever its parameters).
pub fn signature_oid(algorithm: SignatureAlgorithm) -> Option<String> {
    match algorithm {
        SignatureAlgorithm::RsaPss(..) => Some("1.2.840.113549.1.1.10".to_owned()),
        other => signature_algorithm(other).ok().map(|id| id.oid.to_string()),
    }
}

/// The distinct OIDs of `algorithms`, in order.
pub fn signature_oids<'a>(
    algorithms: impl IntoIterator<Item = &'a SignatureAlgorithm>,
) -> Vec<String> {
    let mut oids: Vec<String> = Vec::new();
    for algorithm in algorithms {
        if let Some(oid) = signature_oid(*algorithm).filter(|oid| !oids.contains(oid)) {
            oids.push(oid);
        }
    }
    oids
}

/// A key's length in bits (CSC `key/len`).
pub fn key_bits(key: KeyAlgorithm) -> usize {
    match key {
        KeyAlgorithm::EcP384 => 384,
        KeyAlgorithm::EcP256 | KeyAlgorithm::Ed25519 => 256,
        other => other.rsa_bits().unwrap_or(0),
    }
}

/// The curve OID of an EC key (CSC `key/curve`).
pub fn key_curve(key: KeyAlgorithm) -> Option<&'static str> {
    match key {
        KeyAlgorithm::EcP256 => Some("1.2.840.10045.3.1.7"),
        KeyAlgorithm::EcP384 => Some("1.3.132.0.34"),
        KeyAlgorithm::Ed25519 => Some("1.3.101.112"),
        _ => None,
    }
}

/// The conformance levels `signatures/signDoc` takes (CSC spells them
/// `Ades-B-B` in its table and `AdES-B-B` in its samples: both are taken).
pub const CONFORMANCE_LEVELS: [(&str, Level); 4] = [
    ("Ades-B-B", Level::BB),
    ("Ades-B-T", Level::BT),
    ("Ades-B-LT", Level::BLt),
    ("Ades-B-LTA", Level::BLta),
];

/// The level a `conformance_level` names.
pub fn level(name: &str) -> Result<Level, CscError> {
    CONFORMANCE_LEVELS
        .iter()
        .find(|(spelled, _)| spelled.eq_ignore_ascii_case(name))
        .map(|(_, level)| *level)
        .ok_or_else(|| CscError::invalid_request("Invalid parameter conformance_level"))
}

/// A secret a request carries (PIN, OTP, SAD): zeroized when dropped,
/// `[redacted]` in `Debug`.
#[derive(serde::Deserialize)]
#[serde(transparent)]
pub struct SecretText(zeroize::Zeroizing<String>);

impl SecretText {
    /// The text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[redacted]")
    }
}
