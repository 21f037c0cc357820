#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod administration;
mod authorization;
mod checkpoint;
mod credentials;
mod csr;
pub mod demo_ca;
mod enrolment;
mod error;
mod prepared;
pub mod registry;
mod request_scope;
mod scdev_signer;
pub mod service;
mod signing;

pub use checkpoint::ScdevCheckpointSigner;
pub use credentials::CredentialInfo;
pub use csr::certification_request;
pub use demo_ca::DemoCa;
pub use enrolment::EnrolmentRequest;
pub use error::ServiceError;
pub use registry::{CredentialRecord, CredentialRegistry};
pub use request_scope::RequestScope;
pub use scdev_signer::ScdevSigner;
pub use service::{
    DEFAULT_AUGMENT_CONCURRENCY, DelegationSource, SigningService, SigningServiceBuilder,
};
pub use signing::{PendingSignatures, SignOptions};
/// The credential stores the registry keeps its records in. See [`ssa_store`].
pub use ssa_store::{CredentialStore, FileCredentialStore, MemoryCredentialStore};

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

/// Store traits, their memory and file backends, and their conformance
/// suites (feature `conformance` of `ssa-store`). See [`ssa_store`].
pub use ssa_store as store;

/// The tamper-evident signing log. See [`ssa_audit`].
pub use ssa_audit as audit;

pub use ssa_scdev::{KeyId, KeyInfo, KeySpec, Scdev, ScdevError, SignInput};
/// The shared vocabulary. See [`ssa_types`].
pub use ssa_types as types;
pub use ssa_types::{
    HashAlgorithm, KeyAlgorithm, Level, Pin, PublicKey, Scal, SignatureAlgorithm, SigningMode,
    UnixTime,
};
