#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod algorithm;
mod archive;
pub mod asn1;
mod augment;
pub mod ber;
mod builder;
pub mod chain;
pub mod delegation;
mod error;
mod extend;
mod http;
mod long_term;
mod name;
pub mod oid;
mod raw;
pub mod revocation;
mod signer;
mod template;
mod tsa;
mod verify;

pub use archive::{SignedContent, add_archive_time_stamp};
pub use augment::{Augmentation, augment, augment_all};
pub use builder::{
    PreparedSignature, SignatureParameters, SignedAttributeOptions, digest_reader, ess_cert_id,
    prepare, prepare_with_attributes, sign, signed_attributes,
};
pub use error::CadesError;
pub use http::HttpSettings;
pub use long_term::add_validation_data;
pub use revocation::{HttpRevocationSource, RevocationData, RevocationSource};
pub use signer::{DtbsSigner, FnSigner};
/// The vocabulary this crate speaks, re-exported.
pub use ssa_types::{HashAlgorithm, Level, PublicKey, SignatureAlgorithm};
pub use template::{SignatureTemplate, TemplateDtbs};
pub use tsa::{
    HttpTsa, Stamped, TimeStampAuthority, TsaFailure, add_signature_time_stamp, check_response,
    embed_signature_time_stamp, time_stamp_request,
};
pub use verify::{
    Document, Failure, Indication, KnownPolicy, PolicyDocument, SignerReport, SubIndication,
    VerificationReport, VerifyOptions, verify,
};
