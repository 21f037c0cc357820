//! What an SCDev is asked for: which key to generate, what to sign, and
//! what it can do. The algorithms themselves are the shared vocabulary
//! ([`ssa_types`]).

use crate::{HashAlgorithm, KeyAlgorithm, SignatureAlgorithm};

/// What key to generate: its algorithm, and whether it may ever be exported
/// wrapped under a backup key.
///
/// ```
/// use ssa_scdev::{KeyAlgorithm, KeySpec};
/// let spec = KeySpec::new(KeyAlgorithm::EcP256);
/// assert!(!spec.backup_allowed);
/// let spec = spec.with_backup();
/// assert!(spec.backup_allowed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySpec {
    /// The key algorithm.
    pub algorithm: KeyAlgorithm,
    /// Whether the key may be exported wrapped under a backup key. Decided at
    /// generation and never changed afterwards; `false` by default.
    pub backup_allowed: bool,
}

impl KeySpec {
    /// A key of `algorithm` that can never leave the SCDev.
    pub const fn new(algorithm: KeyAlgorithm) -> Self {
        Self {
            algorithm,
            backup_allowed: false,
        }
    }

    /// The same spec, but the key may be exported wrapped under a backup key.
    pub const fn with_backup(mut self) -> Self {
        self.backup_allowed = true;
        self
    }
}

/// What the SCDev is asked to sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInput<'a> {
    /// The whole message; the SCDev hashes it (or, for Ed25519, signs it as is).
    Message(&'a [u8]),
    /// A digest computed by the caller (DTBS/R), with the hash that made it.
    /// Its hash must be the signature algorithm's, and its length must fit.
    Digest {
        /// The hash function that produced `value`.
        hash: HashAlgorithm,
        /// The digest bytes.
        value: &'a [u8],
    },
}

/// Which key algorithms an SCDev can generate, which signatures it makes, and
/// which of them it can make over a prehashed digest.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Key algorithms that `generate_key` accepts.
    pub generate: Vec<KeyAlgorithm>,
    /// Key algorithms that `import_wrapped` accepts.
    pub import: Vec<KeyAlgorithm>,
    /// Signature algorithms over a whole message.
    pub sign_message: Vec<SignatureAlgorithm>,
    /// Signature algorithms over a prehashed digest ([`SignInput::Digest`]).
    pub sign_digest: Vec<SignatureAlgorithm>,
    /// Whether keys generated backup-able can be exported wrapped and imported back.
    pub backup: bool,
}

impl Capabilities {
    /// Whether `algorithm` can be made over a prehashed digest.
    pub fn can_sign_digest(&self, algorithm: SignatureAlgorithm) -> bool {
        self.sign_digest.contains(&algorithm)
    }

    /// Whether `algorithm` can be made over a whole message.
    pub fn can_sign_message(&self, algorithm: SignatureAlgorithm) -> bool {
        self.sign_message.contains(&algorithm)
    }
}
