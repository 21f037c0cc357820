#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

/// Signature creation devices: the [`Scdev`] trait, the soft
/// key store and the PKCS#11 backend. See [`ssa_scdev`].
pub use ssa_scdev as scdev;

pub use ssa_scdev::{
    HashAlgorithm, KeyAlgorithm, KeyId, KeyInfo, KeySpec, PublicKey, Scdev, ScdevError, SignInput,
    SignatureAlgorithm,
};
