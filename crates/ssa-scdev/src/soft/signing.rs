//! Raw signatures from a plaintext PKCS#8 key that lives only as long as
//! one call.
//!
//! ring makes every signature it can: ECDSA P-256/SHA-256 and
//! P-384/SHA-384 over a message, Ed25519, and RSA PKCS#1 v1.5 and PSS over a
//! message. ring hashes inside every sign call and cannot sign a digest, so
//! ECDSA over a prehashed digest (and over the curve/hash pairs ring lacks)
//! goes to RustCrypto's `p256`/`p384` `PrehashSigner` over the same PKCS#8:
//! remote signing's raw-hash mode needs it, and those crates are constant
//! time and zeroize their scalars. RSA over a digest is refused: the only
//! pure-Rust RSA signer (`rsa`) carries RUSTSEC-2023-0071. Ed25519 over a
//! digest is refused by every backend: pure Ed25519 signs the message.

use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::pkcs8::DecodePrivateKey;
use ring::rand::SystemRandom;
use ring::signature::{self as rs, KeyPair};

use crate::{
    Checked, HashAlgorithm, KeyAlgorithm, KeyInfo, PssSalt, ScdevError, SignatureAlgorithm,
};

const BACKEND: &str = "soft";

fn rejected(operation: &'static str) -> impl FnOnce(ring::error::KeyRejected) -> ScdevError {
    move |_| ScdevError::Crypto { operation }
}

fn failed(operation: &'static str) -> impl FnOnce(ring::error::Unspecified) -> ScdevError {
    move |_| ScdevError::Crypto { operation }
}

/// Signs with the key `info` describes, whose PKCS#8 is `pkcs8`.
pub(super) fn sign(
    info: &KeyInfo,
    pkcs8: &[u8],
    algorithm: SignatureAlgorithm,
    input: Checked<'_>,
) -> Result<Vec<u8>, ScdevError> {
    let rng = SystemRandom::new();
    match (algorithm, info.algorithm, input) {
        (SignatureAlgorithm::Ecdsa(hash), curve, Checked::Message(message)) => {
            match ring_ecdsa(curve, hash) {
                Some(ring_alg) => {
                    let key = rs::EcdsaKeyPair::from_pkcs8(ring_alg, pkcs8, &rng)
                        .map_err(rejected("load EC key"))?;
                    key.sign(&rng, message)
                        .map(|s| s.as_ref().to_vec())
                        .map_err(failed("ECDSA sign"))
                }
                None => ecdsa_prehash(curve, pkcs8, &hash.digest(message)),
            }
        }
        (SignatureAlgorithm::Ecdsa(_), curve, Checked::Digest(digest)) => {
            ecdsa_prehash(curve, pkcs8, digest)
        }
        (SignatureAlgorithm::Ed25519, _, Checked::Message(message)) => {
            let key = rs::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
                .map_err(rejected("load Ed25519 key"))?;
            Ok(key.sign(message).as_ref().to_vec())
        }
        (
            SignatureAlgorithm::RsaPkcs1(hash) | SignatureAlgorithm::RsaPss(hash, PssSalt::Digest),
            _,
            Checked::Message(message),
        ) => {
            let key = rs::RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected("load RSA key"))?;
            let padding = ring_rsa(algorithm, hash).ok_or(ScdevError::SignatureUnsupported {
                backend: BACKEND,
                algorithm,
            })?;
            let mut signature = vec![0u8; key.public().modulus_len()];
            key.sign(padding, &rng, message, &mut signature)
                .map_err(failed("RSA sign"))?;
            Ok(signature)
        }
        (_, _, Checked::Digest(_)) => Err(ScdevError::DigestSigningUnsupported {
            backend: BACKEND,
            algorithm,
        }),
        // An algorithm added to the vocabulary later: not made here.
        (_, _, Checked::Message(_)) => Err(ScdevError::SignatureUnsupported {
            backend: BACKEND,
            algorithm,
        }),
    }
}

fn ring_ecdsa(
    curve: KeyAlgorithm,
    hash: HashAlgorithm,
) -> Option<&'static rs::EcdsaSigningAlgorithm> {
    match (curve, hash) {
        (KeyAlgorithm::EcP256, HashAlgorithm::Sha256) => Some(&rs::ECDSA_P256_SHA256_ASN1_SIGNING),
        (KeyAlgorithm::EcP384, HashAlgorithm::Sha384) => Some(&rs::ECDSA_P384_SHA384_ASN1_SIGNING),
        _ => None,
    }
}

fn ring_rsa(
    algorithm: SignatureAlgorithm,
    hash: HashAlgorithm,
) -> Option<&'static dyn rs::RsaEncoding> {
    let pss = matches!(algorithm, SignatureAlgorithm::RsaPss(_, PssSalt::Digest));
    Some(match (pss, hash) {
        (false, HashAlgorithm::Sha256) => &rs::RSA_PKCS1_SHA256,
        (false, HashAlgorithm::Sha384) => &rs::RSA_PKCS1_SHA384,
        (false, HashAlgorithm::Sha512) => &rs::RSA_PKCS1_SHA512,
        (true, HashAlgorithm::Sha256) => &rs::RSA_PSS_SHA256,
        (true, HashAlgorithm::Sha384) => &rs::RSA_PSS_SHA384,
        (true, HashAlgorithm::Sha512) => &rs::RSA_PSS_SHA512,
        _ => return None,
    })
}

fn ecdsa_prehash(curve: KeyAlgorithm, pkcs8: &[u8], digest: &[u8]) -> Result<Vec<u8>, ScdevError> {
    PrehashKey::open(curve, pkcs8)?.sign(digest)
}

/// Generates a key of `algorithm` inside this process: the PKCS#8 and the
/// public key bytes (uncompressed point, or Ed25519's 32 bytes).
pub(super) fn generate(
    algorithm: KeyAlgorithm,
) -> Result<(zeroize::Zeroizing<Vec<u8>>, Vec<u8>), ScdevError> {
    let rng = SystemRandom::new();
    let document = match algorithm {
        KeyAlgorithm::EcP256 => {
            rs::EcdsaKeyPair::generate_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        }
        KeyAlgorithm::EcP384 => {
            rs::EcdsaKeyPair::generate_pkcs8(&rs::ECDSA_P384_SHA384_ASN1_SIGNING, &rng)
        }
        KeyAlgorithm::Ed25519 => rs::Ed25519KeyPair::generate_pkcs8(&rng),
        _ => {
            return Err(ScdevError::GenerateUnsupported {
                backend: BACKEND,
                algorithm,
            });
        }
    }
    .map_err(failed("key generation"))?;
    // ring's `Document` does not zeroize; the copy we keep does.
    let pkcs8 = zeroize::Zeroizing::new(document.as_ref().to_vec());
    let public = public_key(algorithm, &pkcs8)?;
    Ok((pkcs8, public))
}

/// The raw public key of a PKCS#8 key of `algorithm`; fails if the PKCS#8
/// does not hold a valid key of that algorithm.
pub(super) fn public_key(algorithm: KeyAlgorithm, pkcs8: &[u8]) -> Result<Vec<u8>, ScdevError> {
    let rng = SystemRandom::new();
    let bad = rejected("parse PKCS#8 key");
    Ok(match algorithm {
        KeyAlgorithm::EcP256 => {
            rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
                .map_err(bad)?
                .public_key()
                .as_ref()
                .to_vec()
        }
        KeyAlgorithm::EcP384 => {
            rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P384_SHA384_ASN1_SIGNING, pkcs8, &rng)
                .map_err(bad)?
                .public_key()
                .as_ref()
                .to_vec()
        }
        KeyAlgorithm::Ed25519 => rs::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(bad)?
            .public_key()
            .as_ref()
            .to_vec(),
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            let key = rs::RsaKeyPair::from_pkcs8(pkcs8).map_err(bad)?;
            if KeyAlgorithm::rsa_from_bits(key.public().modulus_len() * 8) != Some(algorithm) {
                return Err(ScdevError::Crypto {
                    operation: "RSA modulus size differs from the key spec",
                });
            }
            key.public().as_ref().to_vec()
        }
        _ => {
            return Err(ScdevError::Crypto {
                operation: "a key algorithm the soft SCDev does not know",
            });
        }
    })
}

/// A key opened once and kept, for [`super::SoftScdev::with_key_cache`].
pub(super) struct OpenedKey {
    pub(super) info: KeyInfo,
    pub(super) pkcs8: zeroize::Zeroizing<Vec<u8>>,
    ring: RingKey,
    /// The RustCrypto key for ECDSA over a digest, parsed on first use:
    /// parsing (517 us for P-256, which re-derives the public key) costs
    /// twice the signature (264 us). Its scalar is zeroized on drop.
    prehash: std::sync::OnceLock<PrehashKey>,
}

enum PrehashKey {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl PrehashKey {
    fn open(curve: KeyAlgorithm, pkcs8: &[u8]) -> Result<Self, ScdevError> {
        let load = |_| ScdevError::Crypto {
            operation: "load EC key for prehash signing",
        };
        match curve {
            KeyAlgorithm::EcP256 => Ok(Self::P256(
                p256::ecdsa::SigningKey::from_pkcs8_der(pkcs8).map_err(load)?,
            )),
            KeyAlgorithm::EcP384 => Ok(Self::P384(
                p384::ecdsa::SigningKey::from_pkcs8_der(pkcs8).map_err(load)?,
            )),
            _ => Err(ScdevError::Crypto {
                operation: "ECDSA on a non-EC key",
            }),
        }
    }

    fn sign(&self, digest: &[u8]) -> Result<Vec<u8>, ScdevError> {
        let sign = |_| ScdevError::Crypto {
            operation: "ECDSA prehash sign",
        };
        match self {
            Self::P256(key) => {
                let sig: p256::ecdsa::DerSignature = key.sign_prehash(digest).map_err(sign)?;
                Ok(sig.as_bytes().to_vec())
            }
            Self::P384(key) => {
                let sig: p384::ecdsa::DerSignature = key.sign_prehash(digest).map_err(sign)?;
                Ok(sig.as_bytes().to_vec())
            }
        }
    }
}

enum RingKey {
    /// ECDSA with the curve's own hash (P-256/SHA-256, P-384/SHA-384).
    Ecdsa(rs::EcdsaKeyPair, HashAlgorithm),
    Ed25519(rs::Ed25519KeyPair),
    Rsa(rs::RsaKeyPair),
}

impl OpenedKey {
    pub(super) fn open(
        info: KeyInfo,
        pkcs8: zeroize::Zeroizing<Vec<u8>>,
    ) -> Result<Self, ScdevError> {
        let rng = SystemRandom::new();
        let ring = match info.algorithm {
            KeyAlgorithm::EcP256 => RingKey::Ecdsa(
                rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8, &rng)
                    .map_err(rejected("load EC key"))?,
                HashAlgorithm::Sha256,
            ),
            KeyAlgorithm::EcP384 => RingKey::Ecdsa(
                rs::EcdsaKeyPair::from_pkcs8(&rs::ECDSA_P384_SHA384_ASN1_SIGNING, &pkcs8, &rng)
                    .map_err(rejected("load EC key"))?,
                HashAlgorithm::Sha384,
            ),
            KeyAlgorithm::Ed25519 => RingKey::Ed25519(
                rs::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&pkcs8)
                    .map_err(rejected("load Ed25519 key"))?,
            ),
            _ => {
                RingKey::Rsa(rs::RsaKeyPair::from_pkcs8(&pkcs8).map_err(rejected("load RSA key"))?)
            }
        };
        Ok(Self {
            info,
            pkcs8,
            ring,
            prehash: std::sync::OnceLock::new(),
        })
    }

    /// Signs with the kept ring key where ring can, else as [`sign`] does.
    pub(super) fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        input: Checked<'_>,
    ) -> Result<Vec<u8>, ScdevError> {
        let rng = SystemRandom::new();
        match (&self.ring, algorithm, input) {
            (
                RingKey::Ecdsa(key, native),
                SignatureAlgorithm::Ecdsa(hash),
                Checked::Message(message),
            ) if *native == hash => key
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(failed("ECDSA sign")),
            (RingKey::Ed25519(key), SignatureAlgorithm::Ed25519, Checked::Message(message)) => {
                Ok(key.sign(message).as_ref().to_vec())
            }
            (
                RingKey::Rsa(key),
                SignatureAlgorithm::RsaPkcs1(hash)
                | SignatureAlgorithm::RsaPss(hash, PssSalt::Digest),
                Checked::Message(message),
            ) => {
                let padding =
                    ring_rsa(algorithm, hash).ok_or(ScdevError::SignatureUnsupported {
                        backend: BACKEND,
                        algorithm,
                    })?;
                let mut signature = vec![0u8; key.public().modulus_len()];
                key.sign(padding, &rng, message, &mut signature)
                    .map_err(failed("RSA sign"))?;
                Ok(signature)
            }
            (_, SignatureAlgorithm::Ecdsa(hash), input) => {
                let digest = match input {
                    Checked::Digest(digest) => std::borrow::Cow::Borrowed(digest),
                    Checked::Message(message) => std::borrow::Cow::Owned(hash.digest(message)),
                };
                let key = match self.prehash.get() {
                    Some(key) => key,
                    None => {
                        let key = PrehashKey::open(self.info.algorithm, &self.pkcs8)?;
                        self.prehash.get_or_init(|| key)
                    }
                };
                key.sign(&digest)
            }
            _ => sign(&self.info, &self.pkcs8, algorithm, input),
        }
    }
}
