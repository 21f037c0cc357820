#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod claims;
mod encoding;
mod error;
pub mod factor;
mod issuer;
mod jws;
mod keys;
mod seal;
mod verifier;

pub use claims::{Amr, FactorClass, SadClaims, has_two_classes};
pub use error::{SadError, TokenPart};
pub use factor::device::{DeviceChallenge, DeviceKey, DeviceResponse};
pub use factor::pin::PinPolicy;
pub use factor::totp::{Otp, TotpAlgorithm, TotpConfig, TotpSeed};
pub use issuer::{
    AuthorizationRequest, Authorized, EnrolledFactors, Enrolment, IssuerConfig, PresentedFactors,
    SadIssuer, SealedTotp,
};
pub use jws::{DEFAULT_MAX_TOKEN_LEN, SAD_TYP, Sad};
pub use keys::{SadAlgorithm, SadSigningKey, SadVerifyingKey};
pub use seal::SeedKey;
/// The stores the SAM and the authenticator keep their state in, re-exported.
pub use ssa_store::{
    AuthState, ChallengeStore, ConsumptionLedger, EnrolmentStore, FileChallengeStore,
    FileEnrolmentStore, FileLedger, FileLockoutStore, Inserted, LedgerError, LockoutStore,
    MemoryChallengeStore, MemoryEnrolmentStore, MemoryLedger, MemoryLockoutStore, PendingChallenge,
    Reservation, StateChange, StoreError, UseRequest,
};
/// The vocabulary this crate speaks, re-exported.
pub use ssa_types::{HashAlgorithm, Pin, Scal, SigningMode, UnixTime};
pub use verifier::{Activation, ActivationRequest, SadVerifier, SamConfig};
