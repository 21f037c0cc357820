//! Public keys as DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7).
//!
//! ```text
//! SubjectPublicKeyInfo  ::=  SEQUENCE  {
//!      algorithm            AlgorithmIdentifier,
//!      subjectPublicKey     BIT STRING  }
//! ```
//!
//! EC keys use `id-ecPublicKey` with a named curve (RFC 5480 §2), Ed25519
//! `id-Ed25519` without parameters (RFC 8410 §4), RSA `rsaEncryption` with
//! NULL parameters and an `RSAPublicKey` (RFC 8017 §A.1.1).

use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5912, rfc8410};
use der::asn1::{BitString, UintRef};
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::{HashAlgorithm, KeyAlgorithm, PssSalt, SignatureAlgorithm};

/// A signature did not verify (or does not fit the key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the signature does not verify")]
pub struct InvalidSignature;

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 §A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// A public key taken apart: what it is and its raw key bytes
/// (EC: the uncompressed point; Ed25519: 32 bytes; RSA: the `RSAPublicKey` DER).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// The key algorithm.
    pub algorithm: KeyAlgorithm,
    /// The raw key bytes, as in the `subjectPublicKey` BIT STRING.
    pub key: Vec<u8>,
}

impl PublicKey {
    /// Parses a DER `SubjectPublicKeyInfo` of a key kind this crate supports.
    ///
    /// Returns `None` for anything else: malformed DER, another algorithm,
    /// another curve, an RSA modulus size outside 2048/3072/4096.
    pub fn from_spki_der(spki: &[u8]) -> Option<Self> {
        let info = SubjectPublicKeyInfoOwned::from_der(spki).ok()?;
        let key = info.subject_public_key.as_bytes()?.to_vec();
        let params = info.algorithm.parameters.as_ref();
        let algorithm = match info.algorithm.oid {
            rfc5912::ID_EC_PUBLIC_KEY => {
                let curve: ObjectIdentifier = params?.decode_as().ok()?;
                let (algorithm, point_len) = match curve {
                    rfc5912::SECP_256_R_1 => (KeyAlgorithm::EcP256, 65),
                    rfc5912::SECP_384_R_1 => (KeyAlgorithm::EcP384, 97),
                    _ => return None,
                };
                if key.len() != point_len || key[0] != 4 {
                    return None;
                }
                algorithm
            }
            rfc8410::ID_ED_25519 => {
                if params.is_some() || key.len() != 32 {
                    return None;
                }
                KeyAlgorithm::Ed25519
            }
            rfc5912::RSA_ENCRYPTION => {
                let rsa = RsaPublicKey::from_der(&key).ok()?;
                let modulus = rsa.modulus.as_bytes();
                let bits = modulus.len() * 8 - modulus.first()?.leading_zeros() as usize;
                KeyAlgorithm::rsa_from_bits(bits)?
            }
            _ => return None,
        };
        Some(Self { algorithm, key })
    }

    /// Encodes as DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Result<Vec<u8>, der::Error> {
        let (oid, parameters) = match self.algorithm {
            KeyAlgorithm::EcP256 => (
                rfc5912::ID_EC_PUBLIC_KEY,
                Some(der::Any::encode_from(&rfc5912::SECP_256_R_1)?),
            ),
            KeyAlgorithm::EcP384 => (
                rfc5912::ID_EC_PUBLIC_KEY,
                Some(der::Any::encode_from(&rfc5912::SECP_384_R_1)?),
            ),
            KeyAlgorithm::Ed25519 => (rfc8410::ID_ED_25519, None),
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
                (rfc5912::RSA_ENCRYPTION, Some(der::Any::null()))
            }
        };
        SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned { oid, parameters },
            subject_public_key: BitString::from_bytes(&self.key)?,
        }
        .to_der()
    }

    /// Verifies `signature` (in CMS encoding: ECDSA as DER, as an SCDev
    /// makes it) over `message`. ring checks every algorithm it has; ECDSA with a hash
    /// ring lacks for the curve (SHA-512) goes to RustCrypto `p256`/`p384`.
    ///
    /// ```
    /// use ring::signature::{Ed25519KeyPair, KeyPair};
    /// use ssa_types::{KeyAlgorithm, PublicKey, SignatureAlgorithm};
    /// let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
    ///     .map_err(|_| "rng")?;
    /// let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| "pkcs8")?;
    /// let key = PublicKey { algorithm: KeyAlgorithm::Ed25519, key: pair.public_key().as_ref().to_vec() };
    /// let sig = pair.sign(b"hello");
    /// key.verify(SignatureAlgorithm::Ed25519, b"hello", sig.as_ref())?;
    /// assert!(key.verify(SignatureAlgorithm::Ed25519, b"hellO", sig.as_ref()).is_err());
    /// // The key's SubjectPublicKeyInfo round-trips.
    /// assert_eq!(PublicKey::from_spki_der(&key.to_spki_der()?), Some(key));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use ring::signature as rs;
        if !algorithm.fits(self.algorithm) {
            return Err(InvalidSignature);
        }
        let ring_alg: &dyn rs::VerificationAlgorithm = match (algorithm, self.algorithm) {
            (SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512), curve) => {
                return verify_ecdsa_prehash(
                    curve,
                    &self.key,
                    &HashAlgorithm::Sha512.digest(message),
                    signature,
                );
            }
            (SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256), KeyAlgorithm::EcP256) => {
                &rs::ECDSA_P256_SHA256_ASN1
            }
            (SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384), KeyAlgorithm::EcP256) => {
                &rs::ECDSA_P256_SHA384_ASN1
            }
            (SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256), _) => &rs::ECDSA_P384_SHA256_ASN1,
            (SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384), _) => &rs::ECDSA_P384_SHA384_ASN1,
            (SignatureAlgorithm::Ed25519, _) => &rs::ED25519,
            (SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256), _) => {
                &rs::RSA_PKCS1_2048_8192_SHA256
            }
            (SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha384), _) => {
                &rs::RSA_PKCS1_2048_8192_SHA384
            }
            (SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha512), _) => {
                &rs::RSA_PKCS1_2048_8192_SHA512
            }
            (SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256, PssSalt::Digest), _) => {
                &rs::RSA_PSS_2048_8192_SHA256
            }
            (SignatureAlgorithm::RsaPss(HashAlgorithm::Sha384, PssSalt::Digest), _) => {
                &rs::RSA_PSS_2048_8192_SHA384
            }
            (SignatureAlgorithm::RsaPss(HashAlgorithm::Sha512, PssSalt::Digest), _) => {
                &rs::RSA_PSS_2048_8192_SHA512
            }
            // ring verifies PSS only with a salt as long as the digest.
            (SignatureAlgorithm::RsaPss(hash, PssSalt::Maximum), key) => {
                let modulus_bytes = key.rsa_bits().ok_or(InvalidSignature)? / 8;
                let salt = PssSalt::Maximum
                    .len(modulus_bytes, hash)
                    .ok_or(InvalidSignature)?;
                return self.verify_pss(hash, salt, message, signature);
            }
        };
        rs::UnparsedPublicKey::new(ring_alg, &self.key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    /// Verifies an RSASSA-PSS signature (RFC 8017 §8.1.2, MGF1 with the
    /// same hash) whose salt is `salt_len` bytes, whatever that length:
    /// OpenSSL and pyHanko sign with the longest salt the key allows, other
    /// products with 20 bytes or the hash's length. Only public values are
    /// computed with (RSAVP1 and EMSA-PSS-VERIFY, §5.2.2 and §9.1.2).
    pub fn verify_pss(
        &self,
        hash: HashAlgorithm,
        salt_len: usize,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
        use crypto_bigint::{BoxedUint, Odd};
        let (modulus, exponent) = self.rsa_components().ok_or(InvalidSignature)?;
        let k = modulus.len();
        if signature.len() != k || k == 0 {
            return Err(InvalidSignature);
        }
        let mod_bits = k * 8 - modulus[0].leading_zeros() as usize;
        if mod_bits < 2 * 8 {
            return Err(InvalidSignature);
        }
        // Precision in whole 64-bit limbs, enough for the modulus.
        let precision = u32::try_from(k.div_ceil(8) * 64).map_err(|_| InvalidSignature)?;
        let n = BoxedUint::from_be_slice(&modulus, precision).map_err(|_| InvalidSignature)?;
        let s = BoxedUint::from_be_slice(signature, precision).map_err(|_| InvalidSignature)?;
        if s >= n {
            return Err(InvalidSignature);
        }
        let e = BoxedUint::from_be_slice_vartime(&exponent);
        let n = Option::<Odd<BoxedUint>>::from(Odd::new(n)).ok_or(InvalidSignature)?;
        let params = BoxedMontyParams::new(n);
        let m = BoxedMontyForm::new(s, &params).pow(&e).retrieve();
        let m = m.to_be_bytes();
        // I2OSP(m, emLen), emBits = modBits - 1.
        let em_bits = mod_bits - 1;
        let em_len = em_bits.div_ceil(8);
        let (leading, em) = m.split_at(m.len() - em_len);
        if leading.iter().any(|b| *b != 0) {
            return Err(InvalidSignature);
        }
        emsa_pss_verify(hash, &hash.digest(message), em, em_bits, salt_len)
    }

    /// The modulus and public exponent of an RSA key (big-endian, no
    /// leading zeros), as PKCS#11 `CKA_MODULUS` / `CKA_PUBLIC_EXPONENT`
    /// want them; `None` for another kind of key.
    pub fn rsa_components(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        if !self.algorithm.is_rsa() {
            return None;
        }
        let rsa = RsaPublicKey::from_der(&self.key).ok()?;
        Some((
            rsa.modulus.as_bytes().to_vec(),
            rsa.public_exponent.as_bytes().to_vec(),
        ))
    }

    /// An RSA public key from its modulus and public exponent (big-endian
    /// unsigned integers), if the modulus is of a size ssa supports.
    pub fn rsa(modulus: &[u8], exponent: &[u8]) -> Option<Self> {
        let key = RsaPublicKey {
            modulus: UintRef::new(modulus).ok()?,
            public_exponent: UintRef::new(exponent).ok()?,
        }
        .to_der()
        .ok()?;
        let spki = Self {
            algorithm: KeyAlgorithm::Rsa2048,
            key,
        }
        .to_spki_der()
        .ok()?;
        // Re-parse to learn the real modulus size.
        Self::from_spki_der(&spki)
    }
}

fn verify_ecdsa_prehash(
    curve: KeyAlgorithm,
    point: &[u8],
    digest: &[u8],
    signature: &[u8],
) -> Result<(), InvalidSignature> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let invalid = |_| InvalidSignature;
    match curve {
        KeyAlgorithm::EcP256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(invalid)?;
            let sig = p256::ecdsa::DerSignature::from_bytes(signature).map_err(invalid)?;
            key.verify_prehash(digest, &sig).map_err(invalid)
        }
        KeyAlgorithm::EcP384 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(invalid)?;
            let sig = p384::ecdsa::DerSignature::from_bytes(signature).map_err(invalid)?;
            key.verify_prehash(digest, &sig).map_err(invalid)
        }
        _ => Err(InvalidSignature),
    }
}

/// EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of `em` (emBits `em_bits`) for the
/// message hash `m_hash`, MGF1 over `hash`, a `salt_len`-byte salt.
fn emsa_pss_verify(
    hash: HashAlgorithm,
    m_hash: &[u8],
    em: &[u8],
    em_bits: usize,
    salt_len: usize,
) -> Result<(), InvalidSignature> {
    let h_len = hash.digest_len();
    let em_len = em.len();
    if em_len < h_len + salt_len + 2 || em.last() != Some(&0xbc) {
        return Err(InvalidSignature);
    }
    let (masked_db, rest) = em.split_at(em_len - h_len - 1);
    let h = &rest[..h_len];
    let unused_bits = 8 * em_len - em_bits;
    let top_mask = 0xffu8.checked_shr(unused_bits as u32).unwrap_or(0);
    if masked_db[0] & !top_mask != 0 {
        return Err(InvalidSignature);
    }
    let mut db: Vec<u8> = masked_db
        .iter()
        .zip(mgf1(hash, h, masked_db.len()))
        .map(|(a, b)| a ^ b)
        .collect();
    db[0] &= top_mask;
    let padding = em_len - h_len - salt_len - 2;
    if db[..padding].iter().any(|b| *b != 0) || db[padding] != 0x01 {
        return Err(InvalidSignature);
    }
    let salt = &db[db.len() - salt_len..];
    let mut m_prime = vec![0u8; 8];
    m_prime.extend_from_slice(m_hash);
    m_prime.extend_from_slice(salt);
    if hash.digest(&m_prime) == h {
        Ok(())
    } else {
        Err(InvalidSignature)
    }
}

/// MGF1 (RFC 8017 §B.2.1) over `hash`: `len` bytes from `seed`.
fn mgf1(hash: HashAlgorithm, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.digest_len());
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut block = seed.to_vec();
        block.extend_from_slice(&counter.to_be_bytes());
        out.extend(hash.digest(&block));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_spki_round_trips() {
        let mut point = vec![4u8];
        point.extend([9u8; 64]);
        let key = PublicKey {
            algorithm: KeyAlgorithm::EcP256,
            key: point,
        };
        let der = key.to_spki_der().unwrap_or_default();
        assert_eq!(PublicKey::from_spki_der(&der), Some(key));
    }

    #[test]
    fn refuses_garbage_and_wrong_point_length() {
        assert_eq!(PublicKey::from_spki_der(b"\x30\x03\x02\x01\x00"), None);
        let key = PublicKey {
            algorithm: KeyAlgorithm::EcP384,
            key: vec![4u8; 65],
        };
        let der = key.to_spki_der().unwrap_or_default();
        assert_eq!(PublicKey::from_spki_der(&der), None);
    }

    #[test]
    fn rsa_modulus_size_is_read_from_the_key() {
        let mut modulus = vec![0xC0u8];
        modulus.extend([0x11u8; 383]);
        let key = PublicKey::rsa(&modulus, &[1, 0, 1]);
        assert_eq!(key.map(|k| k.algorithm), Some(KeyAlgorithm::Rsa3072));
        assert_eq!(PublicKey::rsa(&[0x80; 100], &[3]), None);
    }
}
