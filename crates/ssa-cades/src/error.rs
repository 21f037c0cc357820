//! Errors of building signatures and talking to a TSA.

use ssa_types::{HashAlgorithm, SignatureAlgorithm};

/// Why a signature could not be built or extended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CadesError {
    /// The signer (an SCDev, a remote signer) refused or failed; its own
    /// error rides along as the source.
    #[error("the signer failed")]
    Signer(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The level cannot be made here: something it needs is not configured.
    #[error("{level} needs {missing}")]
    LevelUnavailable {
        /// The level asked for.
        level: ssa_types::Level,
        /// What is missing.
        missing: &'static str,
    },
    /// A value could not be DER-encoded or decoded.
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    /// The document digest is of another hash than the signature uses.
    #[error("{signature} needs a {expected} document digest, not {given}")]
    DigestAlgorithm {
        /// The signature algorithm.
        signature: SignatureAlgorithm,
        /// The hash it needs.
        expected: HashAlgorithm,
        /// The hash given.
        given: HashAlgorithm,
    },
    /// The digest's length does not fit its hash.
    #[error("a {hash} digest is {expected} bytes, got {actual}")]
    DigestLength {
        /// The hash.
        hash: HashAlgorithm,
        /// Its length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// Enveloped content does not hash to the digest given.
    #[error("the enveloped content does not match the document digest")]
    ContentMismatch,
    /// The signature to extend is not a CMS SignedData this crate can extend.
    #[error("cannot extend this signature: {reason}")]
    NotExtendable {
        /// Why.
        reason: &'static str,
    },
    /// The time-stamp authority failed, refused, or answered wrongly.
    #[error("time-stamp authority: {reason}")]
    Tsa {
        /// What went wrong.
        reason: String,
    },
    /// Revocation data could not be had.
    #[error("revocation data: {reason}")]
    Revocation {
        /// What went wrong.
        reason: String,
    },
    /// The signing time cannot be encoded.
    #[error("signing time out of range")]
    SigningTime,
}
