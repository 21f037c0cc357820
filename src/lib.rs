#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod checkpoint;
mod csr;
mod error;
pub mod registry;
pub mod service;

pub use checkpoint::ScdevCheckpointSigner;
pub use csr::certification_request;
pub use error::ServiceError;
pub use registry::{CredentialRecord, CredentialRegistry, FileRegistry, MemoryRegistry};
pub use service::{
    DelegationSource, EnrolmentRequest, SignOptions, SigningService, SigningServiceBuilder,
};

/// Signature creation devices: the [`Scdev`] trait, the soft
/// key store and the PKCS#11 backend. See [`ssa_scdev`].
pub use ssa_scdev as scdev;

/// Signature activation data: SAD tokens, the built-in authenticator, the
/// consumption ledger and the SAM. See [`ssa_sad`].
pub use ssa_sad as sad;

/// CAdES signatures: builder, time-stamps, long-term data, verifier. See
/// [`ssa_cades`].
pub use ssa_cades as cades;

/// Algorithm, certificate and request policy. See [`ssa_policy`].
pub use ssa_policy as policy;

/// The tamper-evident signing log. See [`ssa_audit`].
pub use ssa_audit as audit;

pub use ssa_scdev::{
    HashAlgorithm, KeyAlgorithm, KeyId, KeyInfo, KeySpec, PublicKey, Scdev, ScdevError, SignInput,
    SignatureAlgorithm,
};
