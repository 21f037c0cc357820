//! ASN.1 types that the `cms` and `x509-cert` crates lack, one to one with
//! their definitions. Each doc comment quotes the ASN.1 and names its source.

mod algorithm_protection;
mod archive;
mod attribute_certificate;
mod content_hints;
mod ess;
mod ocsp;
mod opaque;
mod policy;
mod signed_data;
mod signer_attributes;
mod tsp;

pub use algorithm_protection::CmsAlgorithmProtection;
pub use archive::AtsHashIndexV3;
pub use attribute_certificate::{
    AcIssuerSerial, AttCertIssuer, AttCertValidityPeriod, AttributeCertificate,
    AttributeCertificateInfo, Holder, V2Form,
};
pub use content_hints::ContentHints;
pub use ess::{EssCertId, EssCertIdV2, IssuerSerial, SigningCertificate, SigningCertificateV2};
pub use ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse, TbsRequest,
};
pub use opaque::OpaqueSequence;
pub use policy::{
    CommitmentTypeIndication, CommitmentTypeQualifier, OtherHashAlgAndValue,
    SigPolicyQualifierInfo, SignaturePolicyId, SignaturePolicyIdentifier,
};
pub use signed_data::{
    CertificateChoices, Crl, OtherRevocationInfoFormat, RevocationInfoChoice, SignedData,
};
pub use signer_attributes::{
    CertifiedAttributeChoice, OtherAttributeCertificate, RoleSyntax, SignedAssertion,
    SignerAttributesV2,
};
pub use tsp::{
    Accuracy, GenTime, MessageImprint, PkiStatusInfo, TimeStampReq, TimeStampResp, TstInfo,
};
