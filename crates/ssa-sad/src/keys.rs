//! The keys that sign and verify SADs: ES256 (P-256) or EdDSA (Ed25519).

use core::fmt;

use ring::rand::SystemRandom;
use ring::signature::{self as rs, KeyPair};
use zeroize::Zeroizing;

use crate::encoding::b64_encode;
use crate::error::SadError;

/// A JWS algorithm a SAD may be signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SadAlgorithm {
    /// ECDSA P-256 with SHA-256, signature `r || s` (RFC 7518 §3.4).
    Es256,
    /// Ed25519 (RFC 8037).
    EdDsa,
}

impl SadAlgorithm {
    /// The JWS `alg` value.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub(crate) fn from_name(name: &str) -> Result<Self, SadError> {
        match name {
            "ES256" => Ok(Self::Es256),
            "EdDSA" => Ok(Self::EdDsa),
            n if n.eq_ignore_ascii_case("none") => Err(SadError::AlgorithmNone),
            n if n.starts_with("HS") => Err(SadError::SymmetricAlgorithm { alg: n.to_owned() }),
            n => Err(SadError::UnsupportedAlgorithm { alg: n.to_owned() }),
        }
    }
}

enum Pair {
    Es256(rs::EcdsaKeyPair),
    EdDsa(rs::Ed25519KeyPair),
}

/// The private key of a SAD issuer. Prints no key material.
pub struct SadSigningKey {
    pair: Pair,
    kid: String,
    rng: SystemRandom,
}

impl fmt::Debug for SadSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SadSigningKey")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn crypto(operation: &'static str) -> impl FnOnce(ring::error::Unspecified) -> SadError {
    move |_| SadError::Crypto { operation }
}

impl SadSigningKey {
    /// A fresh key. Returns it with its PKCS#8 (in a zeroizing buffer) for the
    /// embedder to store sealed; its `kid` is derived from the public key.
    pub fn generate(algorithm: SadAlgorithm) -> Result<(Self, Zeroizing<Vec<u8>>), SadError> {
        let rng = SystemRandom::new();
        let document = match algorithm {
            SadAlgorithm::Es256 => {
                rs::EcdsaKeyPair::generate_pkcs8(&rs::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            SadAlgorithm::EdDsa => rs::Ed25519KeyPair::generate_pkcs8(&rng),
        }
        .map_err(crypto("generate SAD issuer key"))?;
        let pkcs8 = Zeroizing::new(document.as_ref().to_vec());
        Ok((Self::from_pkcs8(algorithm, &pkcs8)?, pkcs8))
    }

    /// Loads a key from PKCS#8.
    pub fn from_pkcs8(algorithm: SadAlgorithm, pkcs8: &[u8]) -> Result<Self, SadError> {
        let rng = SystemRandom::new();
        let rejected = |_| SadError::Crypto {
            operation: "load SAD issuer key",
        };
        let pair = match algorithm {
            SadAlgorithm::Es256 => Pair::Es256(
                rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
                    .map_err(rejected)?,
            ),
            SadAlgorithm::EdDsa => Pair::EdDsa(
                rs::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(rejected)?,
            ),
        };
        let mut key = Self {
            pair,
            kid: String::new(),
            rng,
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, key.public_key_bytes());
        key.kid = b64_encode(&digest.as_ref()[..12]);
        Ok(key)
    }

    /// The same key under another `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// The key id, as put in the JWS header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    pub fn algorithm(&self) -> SadAlgorithm {
        match self.pair {
            Pair::Es256(_) => SadAlgorithm::Es256,
            Pair::EdDsa(_) => SadAlgorithm::EdDsa,
        }
    }

    fn public_key_bytes(&self) -> &[u8] {
        match &self.pair {
            Pair::Es256(p) => p.public_key().as_ref(),
            Pair::EdDsa(p) => p.public_key().as_ref(),
        }
    }

    /// The public half, for the SAM's trust list.
    pub fn verifying_key(&self) -> SadVerifyingKey {
        SadVerifyingKey {
            algorithm: self.algorithm(),
            kid: self.kid.clone(),
            public_key: self.public_key_bytes().to_vec(),
        }
    }

    pub(crate) fn sign(&self, data: &[u8]) -> Result<Vec<u8>, SadError> {
        Ok(match &self.pair {
            Pair::Es256(p) => p
                .sign(&self.rng, data)
                .map_err(crypto("ES256 sign"))?
                .as_ref()
                .to_vec(),
            Pair::EdDsa(p) => p.sign(data).as_ref().to_vec(),
        })
    }
}

/// A SAD issuer's public key as the SAM trusts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SadVerifyingKey {
    /// The only algorithm this key verifies.
    pub algorithm: SadAlgorithm,
    /// Its key id.
    pub kid: String,
    /// The public key: uncompressed P-256 point, or 32 Ed25519 bytes.
    pub public_key: Vec<u8>,
}

impl SadVerifyingKey {
    pub(crate) fn verify(&self, data: &[u8], signature: &[u8]) -> Result<(), SadError> {
        let algorithm: &dyn rs::VerificationAlgorithm = match self.algorithm {
            SadAlgorithm::Es256 => &rs::ECDSA_P256_SHA256_FIXED,
            SadAlgorithm::EdDsa => &rs::ED25519,
        };
        rs::UnparsedPublicKey::new(algorithm, &self.public_key)
            .verify(data, signature)
            .map_err(|_| SadError::BadSignature)
    }
}
