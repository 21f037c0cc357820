//! Which hash functions and signature keys may be used, and until when.
//!
//! The default table ([`AlgorithmPolicy::default`]) is this crate's
//! conservative reading of ETSI TS 119 312 (which builds on the SOG-IS
//! agreed mechanisms): SHA-2 hashes; ECDSA on P-256 and P-384; Ed25519; RSA
//! of at least 3072 bits, and RSA-2048 until the end of 2030 (the 112-bit
//! security horizon of NIST SP 800-57). SHA-1, SHA-224 and RSA below 2048
//! bits are not even in the vocabulary ([`ssa_types`]), so no embedder
//! setting and no request can name them. Check the table against the
//! edition of TS 119 312 in force for your scheme, and tighten it with
//! [`AlgorithmPolicy::forbid_hash`], [`AlgorithmPolicy::min_rsa_bits`] and
//! [`AlgorithmPolicy::until`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ssa_types::{HashAlgorithm, KeyAlgorithm};

use crate::PolicyError;

/// One signature: its key and the hash it signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    /// The key.
    pub key: KeyAlgorithm,
    /// The hash (for Ed25519, the hash of the CMS digest algorithm).
    pub hash: HashAlgorithm,
}

/// What may be used, and until when. See the [module documentation](self).
#[derive(Clone, Debug)]
pub struct AlgorithmPolicy {
    forbidden_hashes: Vec<HashAlgorithm>,
    min_rsa_bits: usize,
    rsa_2048_until: SystemTime,
    allow_ed25519: bool,
    not_after: Option<SystemTime>,
}

/// 2031-01-01T00:00:00Z.
const END_OF_2030: u64 = 1_924_992_000;

impl Default for AlgorithmPolicy {
    fn default() -> Self {
        Self {
            forbidden_hashes: Vec::new(),
            min_rsa_bits: 2048,
            rsa_2048_until: UNIX_EPOCH + Duration::from_secs(END_OF_2030),
            allow_ed25519: true,
            not_after: None,
        }
    }
}

impl AlgorithmPolicy {
    /// Forbids `hash` too.
    pub fn forbid_hash(mut self, hash: HashAlgorithm) -> Self {
        if !self.forbidden_hashes.contains(&hash) {
            self.forbidden_hashes.push(hash);
        }
        self
    }

    /// Raises the smallest RSA modulus allowed (it never goes below 2048).
    pub fn min_rsa_bits(mut self, bits: usize) -> Self {
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
        if self.forbidden_hashes.contains(&suite.hash) {
            return refused("hash function not allowed");
        }
        if let Some(bits) = suite.key.rsa_bits() {
            if bits < 2048 || bits < self.min_rsa_bits {
                return refused("RSA modulus too short");
            }
            if bits < 3072 && at >= self.rsa_2048_until {
                return refused("RSA-2048 no longer allowed");
            }
            return Ok(());
        }
        match suite.key {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => Ok(()),
            KeyAlgorithm::Ed25519 if self.allow_ed25519 => Ok(()),
            KeyAlgorithm::Ed25519 => refused("Ed25519 not allowed"),
            // A key kind added to the vocabulary later is refused until
            // this table says otherwise.
            _ => refused("key type not allowed"),
        }
    }
}
