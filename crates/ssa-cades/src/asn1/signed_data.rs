//! `SignedData` with revocation information as RFC 5652 defines it.
//!
//! The `cms` 0.3.0-rc.0 crate models `OtherRevocationInfoFormat.otherRevInfoFormat`
//! as an AlgorithmIdentifier where RFC 5652 has an OBJECT IDENTIFIER, so an
//! OCSP response in `crls` (RFC 5940, needed by CAdES B-LT) can be neither
//! written nor read with it. This mirror of `SignedData` reuses every other
//! `cms` type and has its own revocation choices.

use core::cmp::Ordering;

use cms::content_info::CmsVersion;
use cms::signed_data::{
    CertificateSet, DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignerInfos,
};
use der::asn1::{Any, ObjectIdentifier, SetOfVec};
use der::{Choice, DerOrd, Encode, Sequence, ValueOrd};
use x509_cert::crl::CertificateList;

/// RFC 5652 §5.1.
///
/// ```text
/// SignedData ::= SEQUENCE {
///     version CMSVersion,
///     digestAlgorithms DigestAlgorithmIdentifiers,
///     encapContentInfo EncapsulatedContentInfo,
///     certificates [0] IMPLICIT CertificateSet OPTIONAL,
///     crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
///     signerInfos SignerInfos }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SignedData {
    /// The syntax version.
    pub version: CmsVersion,
    /// Digest algorithms of the signers.
    pub digest_algorithms: DigestAlgorithmIdentifiers,
    /// The content (type, and the content itself when enveloping).
    pub encap_content_info: EncapsulatedContentInfo,
    /// Certificates.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub certificates: Option<CertificateSet>,
    /// CRLs and other revocation information.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub crls: Option<SetOfVec<RevocationInfoChoice>>,
    /// The signers.
    pub signer_infos: SignerInfos,
}

/// RFC 5652 §10.2.1.
///
/// ```text
/// RevocationInfoChoice ::= CHOICE {
///     crl CertificateList,
///     other [1] IMPLICIT OtherRevocationInfoFormat }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum RevocationInfoChoice {
    /// A CRL.
    Crl(CertificateList),
    /// Other revocation data, such as an OCSP response.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Other(OtherRevocationInfoFormat),
}

// DER orders a SET OF by the encodings of its elements.
impl ValueOrd for RevocationInfoChoice {
    fn value_cmp(&self, other: &Self) -> der::Result<Ordering> {
        self.to_der()?.der_cmp(&other.to_der()?)
    }
}

/// RFC 5652 §10.2.1.
///
/// ```text
/// OtherRevocationInfoFormat ::= SEQUENCE {
///     otherRevInfoFormat OBJECT IDENTIFIER,
///     otherRevInfo ANY DEFINED BY otherRevInfoFormat }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct OtherRevocationInfoFormat {
    /// The format, e.g. `id-ri-ocsp-response` (RFC 5940).
    pub other_rev_info_format: ObjectIdentifier,
    /// The data.
    pub other_rev_info: Any,
}
