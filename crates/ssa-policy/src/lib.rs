#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod certificate;
pub mod request;

pub use algorithm::{AlgorithmPolicy, Suite};
pub use certificate::{CertificateReport, check_signing_certificate};
pub use request::RequestPolicy;
/// The vocabulary this crate speaks, re-exported.
pub use ssa_types::{HashAlgorithm, KeyAlgorithm, Level, Scal};

/// Why a policy refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The algorithm suite is not allowed at that time.
    #[error("{suite:?} not allowed: {reason}")]
    Algorithm {
        /// The suite.
        suite: Suite,
        /// Why.
        reason: &'static str,
    },
    /// The certificate's public key is not the credential's key.
    #[error("the certificate is for another key than the credential's")]
    KeyMismatch,
    /// The certificate is a CA certificate.
    #[error("a CA certificate cannot be a signing certificate")]
    CaCertificate,
    /// keyUsage does not allow signing.
    #[error("keyUsage does not allow signing: {reason}")]
    KeyUsage {
        /// Why.
        reason: &'static str,
    },
    /// The certificate is not valid yet.
    #[error("the certificate is not valid yet")]
    NotYetValid,
    /// The certificate has expired.
    #[error("the certificate has expired")]
    Expired,
    /// Something could not be parsed.
    #[error("malformed {what}")]
    Malformed {
        /// What.
        what: &'static str,
    },
    /// The level is not offered.
    #[error("level {level:?} is not allowed")]
    LevelNotAllowed {
        /// The level.
        level: Level,
    },
    /// The credential's SCAL is below what the policy requires for it.
    #[error("the policy requires {required}, the credential is {credential}")]
    ScalBelowPolicy {
        /// The SCAL the policy requires.
        required: Scal,
        /// The credential's SCAL.
        credential: Scal,
    },
    /// No digest, or more than one SAD may authorize.
    #[error("{requested} digests requested, 1 to {limit} allowed")]
    TooManyDigests {
        /// Asked.
        requested: usize,
        /// Limit.
        limit: usize,
    },
}
