#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod asn1;
mod builder;
mod error;
pub mod oid;
mod raw;
mod signer;

pub use builder::{
    PreparedSignature, SignatureParameters, SignedAttributeOptions, ess_cert_id, prepare, sign,
};
pub use error::CadesError;
pub use signer::{DtbsSigner, FnSigner, ScdevSigner};
