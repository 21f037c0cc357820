//! The facade's error: which layer refused, with that layer's typed error.

use std::path::PathBuf;

/// Why the signing service refused or failed. Never carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The SCDev refused or failed.
    #[error("SCDev: {0}")]
    Scdev(#[from] ssa_scdev::ScdevError),
    /// Authentication or activation was refused.
    #[error("SAD: {0}")]
    Sad(#[from] ssa_sad::SadError),
    /// The CAdES layer failed.
    #[error("CAdES: {0}")]
    Cades(#[from] ssa_cades::CadesError),
    /// A policy refused.
    #[error("policy: {0}")]
    Policy(#[from] ssa_policy::PolicyError),
    /// The audit log failed: nothing is returned that is not recorded.
    #[error("audit: {0}")]
    Audit(#[from] ssa_audit::AuditError),
    /// A delegation attribute certificate was refused.
    #[error("delegation: {0}")]
    Delegation(#[from] ssa_cades::delegation::DelegationError),
    /// No such credential.
    #[error("no credential {credential:?}")]
    UnknownCredential {
        /// The id.
        credential: String,
    },
    /// The credential id cannot be stored (empty, or too long for the store).
    #[error("credential id refused: {reason}")]
    InvalidCredentialId {
        /// Why.
        reason: &'static str,
    },
    /// The credential exists already.
    #[error("credential {credential:?} exists already")]
    CredentialExists {
        /// The id.
        credential: String,
    },
    /// The credential is disabled.
    #[error("credential {credential:?} is disabled")]
    CredentialDisabled {
        /// The id.
        credential: String,
    },
    /// No certificate is installed yet.
    #[error("credential {credential:?} has no certificate")]
    NoCertificate {
        /// The id.
        credential: String,
    },
    /// The certificate chain does not reach a trust anchor (the most
    /// specific failure found).
    #[error("the certificate chain is not valid: {0:?}")]
    Chain(ssa_cades::chain::ChainFailure),
    /// The credential's key is of a kind the service has no signature
    /// algorithm for.
    #[error("no signature algorithm for a {key} key")]
    UnsupportedKey {
        /// The key's algorithm.
        key: ssa_types::KeyAlgorithm,
    },
    /// No built-in SAD issuer is configured.
    #[error("this service has no built-in SAD issuer")]
    NoIssuer,
    /// The certificate chain to install is empty.
    #[error("the certificate chain is empty")]
    EmptyChain,
    /// A backup to restore holds another key than the credential's.
    #[error("the backup holds another key than credential {credential:?}'s")]
    BackupForAnotherKey {
        /// The credential.
        credential: String,
    },
    /// The signature algorithm asked for does not fit the key, is not made
    /// by the SCDev in this mode, or is not allowed by the algorithm policy.
    #[error("{algorithm} is not offered for a {key} key")]
    AlgorithmNotOffered {
        /// The algorithm asked for.
        algorithm: ssa_types::SignatureAlgorithm,
        /// The credential's key.
        key: ssa_types::KeyAlgorithm,
    },
    /// The signatures were made and recorded, but spending their SAD in the
    /// ledger failed: they were thrown away, the audit log says so (a
    /// `Withheld` record after the `Signature` record), and the SAD was
    /// given back, so the same request may be tried again.
    #[error("signature withheld: spending its SAD failed ({source})")]
    Withheld {
        /// Why spending the SAD failed.
        source: Box<ServiceError>,
    },
    /// A store (the credential registry's) could not do its job.
    #[error("store: {0}")]
    Store(ssa_store::StoreError),
    /// Stored data is corrupt.
    #[error("corrupt {what}")]
    Corrupt {
        /// What.
        what: &'static str,
    },
    /// A file operation failed.
    #[error("{what} failed on {path}")]
    Io {
        /// What.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}
