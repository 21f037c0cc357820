//! The SAD claims: who may sign, with which credential, over what, how often.

use serde::{Deserialize, Serialize};
use ssa_types::{HashAlgorithm, Scal, SigningMode};

/// The class of an authentication factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FactorClass {
    /// Something the signer knows.
    Knowledge,
    /// Something the signer has.
    Possession,
}

/// An authentication method reference (RFC 8176 values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Amr {
    /// A PIN (knowledge).
    #[serde(rename = "pin")]
    Pin,
    /// A one-time password from an authenticator (possession).
    #[serde(rename = "otp")]
    Otp,
    /// Proof of possession of a key on the signer's device (possession).
    #[serde(rename = "pop")]
    DeviceKey,
}

impl Amr {
    /// The factor class of this method.
    pub const fn class(self) -> FactorClass {
        match self {
            Self::Pin => FactorClass::Knowledge,
            Self::Otp | Self::DeviceKey => FactorClass::Possession,
        }
    }
}

/// Whether `amr` holds both a knowledge and a possession factor.
pub fn has_two_classes(amr: &[Amr]) -> bool {
    amr.iter().any(|a| a.class() == FactorClass::Knowledge)
        && amr.iter().any(|a| a.class() == FactorClass::Possession)
}

/// The claims of a SAD.
///
/// ```
/// use ssa_sad::{Amr, HashAlgorithm, SadClaims, Scal, SigningMode};
/// let claims = SadClaims {
///     iss: "https://idp.example".into(), aud: "sam-1".into(), sub: "signer-7".into(),
///     cred: "cred-7".into(), mode: SigningMode::Document,
///     hash_alg: HashAlgorithm::Sha256, hashes: vec![vec![0xab; 32]],
///     num: 1, scal: Scal::Scal2, amr: vec![Amr::Pin, Amr::Otp],
///     iat: 1_800_000_000, exp: 1_800_000_300, jti: "q1w2e3".into(),
/// };
/// let json = serde_json::to_string(&claims)?;
/// assert!(json.contains(r#""hashAlg":"2.16.840.1.101.3.4.2.1""#));
/// assert!(json.contains(r#""mode":"document""#));
/// assert!(json.contains(r#""hashes":["q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s"]"#));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SadClaims {
    /// The issuer (the SAD issuer that authenticated the signer).
    pub iss: String,
    /// The audience: the SAM that may accept this SAD.
    pub aud: String,
    /// The signer.
    pub sub: String,
    /// The credential whose key may sign.
    pub cred: String,
    /// What the digests were approved for; required, so a token from an
    /// issuer that does not say is refused.
    pub mode: SigningMode,
    /// The hash function of `hashes`, named by its OID as the CSC API does.
    #[serde(rename = "hashAlg", with = "hash_oid")]
    pub hash_alg: HashAlgorithm,
    /// The digests (DTBS/R) the signer approved; empty only under SCAL1.
    #[serde(with = "digest_list")]
    pub hashes: Vec<Vec<u8>>,
    /// How many signatures the SAD allows.
    pub num: u32,
    /// The sole control assurance level.
    pub scal: Scal,
    /// The factor methods used.
    pub amr: Vec<Amr>,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: u64,
    /// Unique id of this SAD: the ledger's key.
    pub jti: String,
}

mod hash_oid {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};
    use ssa_types::HashAlgorithm;

    pub(super) fn serialize<S: Serializer>(hash: &HashAlgorithm, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(hash.oid())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HashAlgorithm, D::Error> {
        let oid = String::deserialize(d)?;
        HashAlgorithm::from_oid(&oid).ok_or_else(|| D::Error::custom("hashAlg is not a SHA-2 OID"))
    }
}

mod digest_list {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::encoding::{b64_decode, b64_encode};
    use crate::error::TokenPart;

    pub(super) fn serialize<S: Serializer>(hashes: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(|h| b64_encode(h)))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|h| {
                b64_decode(h, TokenPart::Payload)
                    .map_err(|_| D::Error::custom("hash is not base64url"))
            })
            .collect()
    }
}
