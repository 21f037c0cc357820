//! Which hash functions and signature keys may be used, and until when.
//!
//! The default table ([`AlgorithmPolicy::default`]) is this crate's
//! conservative reading of ETSI TS 119 312 (which builds on the SOG-IS
//! agreed mechanisms): SHA-2 hashes; ECDSA on P-256 and P-384; Ed25519; RSA
//! of at least 3072 bits, and RSA-2048 until the end of 2030 (the 112-bit
//! security horizon of NIST SP 800-57). SHA-1 and RSA below 2048 bits are
//! never allowed, whatever the embedder sets. Check the table against the
//! edition of TS 119 312 in force for your scheme, and tighten it with
//! [`AlgorithmPolicy::forbid_hash`], [`AlgorithmPolicy::min_rsa_bits`] and
//! [`AlgorithmPolicy::until`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::PolicyError;

/// A hash function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Hash {
    /// SHA-1: never allowed for signatures.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// A signature key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
    /// Ed25519.
    Ed25519,
    /// RSA with a modulus of this many bits.
    Rsa(u32),
    /// Anything else (another curve, DSA, …): never allowed.
    Other,
}

/// One signature: its key and the hash it signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// The key.
    pub key: Key,
    /// The hash (for Ed25519, the hash of the CMS digest algorithm).
    pub hash: Hash,
}

/// What may be used, and until when. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct AlgorithmPolicy {
    forbidden_hashes: Vec<Hash>,
    min_rsa_bits: u32,
    rsa_2048_until: SystemTime,
    allow_ed25519: bool,
    not_after: Option<SystemTime>,
}

/// 2031-01-01T00:00:00Z.
const END_OF_2030: u64 = 1_924_992_000;

impl Default for AlgorithmPolicy {
    fn default() -> Self {
        Self {
            forbidden_hashes: vec![Hash::Sha1, Hash::Sha224],
            min_rsa_bits: 2048,
            rsa_2048_until: UNIX_EPOCH + Duration::from_secs(END_OF_2030),
            allow_ed25519: true,
            not_after: None,
        }
    }
}

impl AlgorithmPolicy {
    /// Forbids `hash` too.
    pub fn forbid_hash(mut self, hash: Hash) -> Self {
        if !self.forbidden_hashes.contains(&hash) {
            self.forbidden_hashes.push(hash);
        }
        self
    }

    /// Raises the smallest RSA modulus allowed (it never goes below 2048).
    pub fn min_rsa_bits(mut self, bits: u32) -> Self {
        self.min_rsa_bits = bits.max(2048);
        self
    }

    /// Forbids Ed25519 (for schemes that require NIST curves or RSA).
    pub fn forbid_ed25519(mut self) -> Self {
        self.allow_ed25519 = false;
        self
    }

    /// Nothing is allowed after `time` (e.g. the policy's own review date).
    pub fn until(mut self, time: SystemTime) -> Self {
        self.not_after = Some(time);
        self
    }

    /// Whether `suite` may be used at `at`.
    pub fn check(&self, suite: Suite, at: SystemTime) -> Result<(), PolicyError> {
        let refused = |reason: &'static str| Err(PolicyError::Algorithm { suite, reason });
        if self.not_after.is_some_and(|t| at > t) {
            return refused("the algorithm policy has expired");
        }
        if matches!(suite.hash, Hash::Sha1) || self.forbidden_hashes.contains(&suite.hash) {
            return refused("hash function not allowed");
        }
        match suite.key {
            Key::EcP256 | Key::EcP384 => Ok(()),
            Key::Ed25519 if self.allow_ed25519 => Ok(()),
            Key::Ed25519 => refused("Ed25519 not allowed"),
            Key::Rsa(bits) if bits < 2048 || bits < self.min_rsa_bits => {
                refused("RSA modulus too short")
            }
            Key::Rsa(bits) if bits < 3072 && at >= self.rsa_2048_until => {
                refused("RSA-2048 no longer allowed")
            }
            Key::Rsa(_) => Ok(()),
            Key::Other => refused("key type not allowed"),
        }
    }
}
