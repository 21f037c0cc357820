//! Algorithms: hash functions, key kinds and signature schemes.

use core::fmt;

/// A hash function of the SHA-2 family, as used in signatures and digests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4), 32-byte digest.
    Sha256,
    /// SHA-384 (FIPS 180-4), 48-byte digest.
    Sha384,
    /// SHA-512 (FIPS 180-4), 64-byte digest.
    Sha512,
}

impl HashAlgorithm {
    /// Every hash algorithm ssa knows.
    pub const ALL: [HashAlgorithm; 3] = [Self::Sha256, Self::Sha384, Self::Sha512];

    /// Length of the digest in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Hashes `data` with this algorithm.
    ///
    /// ```
    /// use ssa_types::HashAlgorithm;
    /// assert_eq!(HashAlgorithm::Sha384.digest(b"abc").len(), 48);
    /// ```
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        ring::digest::digest(self.ring_algorithm(), data)
            .as_ref()
            .to_vec()
    }

    /// The dotted OID (NIST, RFC 5754), as the CSC API and SAD claims name it.
    ///
    /// ```
    /// use ssa_types::HashAlgorithm;
    /// assert_eq!(HashAlgorithm::Sha256.oid(), "2.16.840.1.101.3.4.2.1");
    /// assert_eq!(HashAlgorithm::from_oid("2.16.840.1.101.3.4.2.3"), Some(HashAlgorithm::Sha512));
    /// assert_eq!(HashAlgorithm::from_oid("1.3.14.3.2.26"), None); // SHA-1: not offered
    /// ```
    pub const fn oid(self) -> &'static str {
        match self {
            Self::Sha256 => "2.16.840.1.101.3.4.2.1",
            Self::Sha384 => "2.16.840.1.101.3.4.2.2",
            Self::Sha512 => "2.16.840.1.101.3.4.2.3",
        }
    }

    /// The hash algorithm a dotted OID names, if ssa offers it.
    pub fn from_oid(oid: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.oid() == oid)
    }

    /// ring's implementation of this hash.
    pub fn ring_algorithm(self) -> &'static ring::digest::Algorithm {
        match self {
            Self::Sha256 => &ring::digest::SHA256,
            Self::Sha384 => &ring::digest::SHA384,
            Self::Sha512 => &ring::digest::SHA512,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        })
    }
}

/// The kind of a key pair held in an SCDev.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA over NIST P-256 (secp256r1).
    EcP256,
    /// ECDSA over NIST P-384 (secp384r1).
    EcP384,
    /// EdDSA over edwards25519 (RFC 8032 Ed25519).
    Ed25519,
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
}

impl KeyAlgorithm {
    /// Every key algorithm ssa knows.
    pub const ALL: [KeyAlgorithm; 6] = [
        Self::EcP256,
        Self::EcP384,
        Self::Ed25519,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
    ];

    /// The RSA modulus size in bits, for RSA keys.
    pub const fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// The RSA key algorithm of a modulus of `bits` bits, if it is one this crate supports.
    pub const fn rsa_from_bits(bits: usize) -> Option<Self> {
        match bits {
            2048 => Some(Self::Rsa2048),
            3072 => Some(Self::Rsa3072),
            4096 => Some(Self::Rsa4096),
            _ => None,
        }
    }

    /// Whether this is an RSA key.
    pub const fn is_rsa(self) -> bool {
        self.rsa_bits().is_some()
    }

    /// The signature algorithms that this kind of key can make.
    pub fn signature_algorithms(self) -> Vec<SignatureAlgorithm> {
        SignatureAlgorithm::ALL
            .into_iter()
            .filter(|alg| alg.fits(self))
            .collect()
    }

    /// A stable one-byte code, as stored in key headers. Never reused.
    pub const fn code(self) -> u8 {
        match self {
            Self::EcP256 => 1,
            Self::EcP384 => 2,
            Self::Ed25519 => 3,
            Self::Rsa2048 => 4,
            Self::Rsa3072 => 5,
            Self::Rsa4096 => 6,
        }
    }

    /// The key algorithm of a [`KeyAlgorithm::code`].
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::EcP256),
            2 => Some(Self::EcP384),
            3 => Some(Self::Ed25519),
            4 => Some(Self::Rsa2048),
            5 => Some(Self::Rsa3072),
            6 => Some(Self::Rsa4096),
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EcP256 => "EC P-256",
            Self::EcP384 => "EC P-384",
            Self::Ed25519 => "Ed25519",
            Self::Rsa2048 => "RSA-2048",
            Self::Rsa3072 => "RSA-3072",
            Self::Rsa4096 => "RSA-4096",
        })
    }
}

/// A signature scheme together with its hash function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// ECDSA (FIPS 186-5) with the given hash; output is DER `Ecdsa-Sig-Value`.
    Ecdsa(HashAlgorithm),
    /// Pure Ed25519 (RFC 8032); signs the whole message, never a digest.
    Ed25519,
    /// RSASSA-PKCS1-v1_5 (RFC 8017) with the given hash.
    RsaPkcs1(HashAlgorithm),
    /// RSASSA-PSS (RFC 8017) with the given hash, MGF1 with the same hash,
    /// and the salt length given.
    RsaPss(HashAlgorithm, PssSalt),
}

/// The salt length of an RSASSA-PSS signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PssSalt {
    /// As long as the digest: the parameters RFC 4056 uses in CMS, and the
    /// only ones ring makes and verifies.
    Digest,
    /// The longest the key allows, modulus bytes − digest length − 2
    /// (OpenSSL's default, and what pyHanko asks a CSC service for: 222
    /// bytes for RSA-2048 with SHA-256).
    Maximum,
}

impl PssSalt {
    /// The salt length in bytes for a `modulus_bytes` key and `hash`
    /// (`None` if the key is too small for the hash).
    pub const fn len(self, modulus_bytes: usize, hash: HashAlgorithm) -> Option<usize> {
        match self {
            Self::Digest => Some(hash.digest_len()),
            Self::Maximum => modulus_bytes.checked_sub(hash.digest_len() + 2),
        }
    }
}

impl SignatureAlgorithm {
    /// Every signature algorithm ssa knows.
    pub const ALL: [SignatureAlgorithm; 13] = [
        Self::Ecdsa(HashAlgorithm::Sha256),
        Self::Ecdsa(HashAlgorithm::Sha384),
        Self::Ecdsa(HashAlgorithm::Sha512),
        Self::Ed25519,
        Self::RsaPkcs1(HashAlgorithm::Sha256),
        Self::RsaPkcs1(HashAlgorithm::Sha384),
        Self::RsaPkcs1(HashAlgorithm::Sha512),
        Self::RsaPss(HashAlgorithm::Sha256, PssSalt::Digest),
        Self::RsaPss(HashAlgorithm::Sha384, PssSalt::Digest),
        Self::RsaPss(HashAlgorithm::Sha512, PssSalt::Digest),
        Self::RsaPss(HashAlgorithm::Sha256, PssSalt::Maximum),
        Self::RsaPss(HashAlgorithm::Sha384, PssSalt::Maximum),
        Self::RsaPss(HashAlgorithm::Sha512, PssSalt::Maximum),
    ];

    /// The hash function that this algorithm signs a digest of, if any
    /// (Ed25519 has none: it signs the whole message).
    pub const fn hash(self) -> Option<HashAlgorithm> {
        match self {
            Self::Ecdsa(h) | Self::RsaPkcs1(h) | Self::RsaPss(h, _) => Some(h),
            Self::Ed25519 => None,
        }
    }

    /// Whether a key of `key` can make this kind of signature.
    pub const fn fits(self, key: KeyAlgorithm) -> bool {
        match self {
            Self::Ecdsa(_) => matches!(key, KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384),
            Self::Ed25519 => matches!(key, KeyAlgorithm::Ed25519),
            Self::RsaPkcs1(_) | Self::RsaPss(..) => key.is_rsa(),
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ecdsa(h) => write!(f, "ECDSA with {h}"),
            Self::Ed25519 => f.write_str("Ed25519"),
            Self::RsaPkcs1(h) => write!(f, "RSASSA-PKCS1-v1_5 with {h}"),
            Self::RsaPss(h, PssSalt::Digest) => write!(f, "RSASSA-PSS with {h}"),
            Self::RsaPss(h, PssSalt::Maximum) => {
                write!(f, "RSASSA-PSS with {h} and the longest salt")
            }
        }
    }
}
