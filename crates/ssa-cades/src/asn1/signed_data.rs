//! `SignedData` with certificate and revocation choices as RFC 5652 defines
//! them.
//!
//! The `cms` 0.3.0-rc.0 crate models `OtherRevocationInfoFormat.otherRevInfoFormat`
//! as an AlgorithmIdentifier where RFC 5652 has an OBJECT IDENTIFIER, so an
//! OCSP response in `crls` (RFC 5940, needed by CAdES B-LT) can be neither
//! written nor read with it; its certificate choices lack the attribute
//! certificates qualified TSAs put in every token; and `x509-cert` reads
//! only v2 CRLs. This mirror of `SignedData` reuses every other `cms` type
//! and has its own certificate and revocation choices.

use core::cmp::Ordering;

use cms::cert::OtherCertificateFormat;
use cms::content_info::CmsVersion;
use cms::signed_data::{DigestAlgorithmIdentifiers, EncapsulatedContentInfo, SignerInfos};
use der::asn1::{Any, BitString, ObjectIdentifier, SetOfVec};
use der::{Choice, DerOrd, Encode, Sequence, ValueOrd};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extensions;
use x509_cert::name::Name;
use x509_cert::time::Time;

use super::OpaqueSequence;

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
    pub certificates: Option<SetOfVec<CertificateChoices>>,
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
    /// A CRL (v1 or v2).
    Crl(Crl),
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

/// RFC 5652 §10.2.2 (IMPLICIT TAGS module).
///
/// ```text
/// CertificateChoices ::= CHOICE {
///     certificate CertificateSerialNumber,
///     extendedCertificate [0] IMPLICIT ExtendedCertificate,  -- Obsolete
///     v1AttrCert [1] IMPLICIT AttributeCertificateV1,        -- Obsolete
///     v2AttrCert [2] IMPLICIT AttributeCertificateV2,
///     other [3] IMPLICIT OtherCertificateFormat }
/// ```
///
/// Attribute certificates are carried as they are, not interpreted.
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum CertificateChoices {
    /// An X.509 certificate.
    Certificate(Certificate),
    /// Obsolete (PKCS #6).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    ExtendedCertificate(OpaqueSequence),
    /// Obsolete (X.509 v1 attribute certificate).
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    V1AttrCert(OpaqueSequence),
    /// An RFC 5755 attribute certificate.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", constructed = "true")]
    V2AttrCert(OpaqueSequence),
    /// Another format.
    #[asn1(context_specific = "3", tag_mode = "IMPLICIT", constructed = "true")]
    Other(OtherCertificateFormat),
}

// DER orders a SET OF by the encodings of its elements.
impl ValueOrd for CertificateChoices {
    fn value_cmp(&self, other: &Self) -> der::Result<Ordering> {
        self.to_der()?.der_cmp(&other.to_der()?)
    }
}

/// A CRL, v1 or v2 (RFC 5280 §5.1: `version` is absent in a v1 CRL, which
/// `x509-cert`'s `TbsCertList` cannot read). Encodes as it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crl(pub CertificateList);

impl Crl {
    /// The DER of the `TBSCertList`, as signed (no version in a v1 CRL).
    pub fn tbs_der(list: &CertificateList) -> der::Result<Vec<u8>> {
        AnyVersionTbs::from(&list.tbs_cert_list).to_der()
    }
}

/// RFC 5280 §5.1, with `version` optional as the ASN.1 says.
///
/// ```text
/// CertificateList ::= SEQUENCE {
///     tbsCertList          TBSCertList,
///     signatureAlgorithm   AlgorithmIdentifier,
///     signatureValue       BIT STRING }
/// TBSCertList ::= SEQUENCE {
///     version                 Version OPTIONAL, -- if present, MUST be v2
///     signature               AlgorithmIdentifier,
///     issuer                  Name,
///     thisUpdate              Time,
///     nextUpdate              Time OPTIONAL,
///     revokedCertificates     SEQUENCE OF SEQUENCE { ... } OPTIONAL,
///     crlExtensions           [0] Extensions OPTIONAL } -- EXPLICIT
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct AnyVersionList {
    tbs_cert_list: AnyVersionTbs,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// See [`AnyVersionList`].
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct AnyVersionTbs {
    #[asn1(optional = "true")]
    version: Option<x509_cert::Version>,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    this_update: Time,
    #[asn1(optional = "true")]
    next_update: Option<Time>,
    #[asn1(optional = "true")]
    revoked_certificates: Option<Vec<RevokedCert>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    crl_extensions: Option<Extensions>,
}

impl From<&TbsCertList> for AnyVersionTbs {
    fn from(tbs: &TbsCertList) -> Self {
        Self {
            version: (tbs.version != x509_cert::Version::V1).then_some(tbs.version),
            signature: tbs.signature.clone(),
            issuer: tbs.issuer.clone(),
            this_update: tbs.this_update,
            next_update: tbs.next_update,
            revoked_certificates: tbs.revoked_certificates.clone(),
            crl_extensions: tbs.crl_extensions.clone(),
        }
    }
}

impl der::FixedTag for Crl {
    const TAG: der::Tag = der::Tag::Sequence;
}

impl<'a> der::DecodeValue<'a> for Crl {
    type Error = der::Error;
    fn decode_value<R: der::Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        let any = AnyVersionList::decode_value(reader, header)?;
        let tbs = any.tbs_cert_list;
        Ok(Self(CertificateList {
            tbs_cert_list: TbsCertList {
                version: tbs.version.unwrap_or(x509_cert::Version::V1),
                signature: tbs.signature,
                issuer: tbs.issuer,
                this_update: tbs.this_update,
                next_update: tbs.next_update,
                revoked_certificates: tbs.revoked_certificates,
                crl_extensions: tbs.crl_extensions,
            },
            signature_algorithm: any.signature_algorithm,
            signature: any.signature,
        }))
    }
}

impl der::EncodeValue for Crl {
    fn value_len(&self) -> der::Result<der::Length> {
        self.any_version().value_len()
    }
    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        self.any_version().encode_value(writer)
    }
}

impl Crl {
    fn any_version(&self) -> AnyVersionList {
        AnyVersionList {
            tbs_cert_list: AnyVersionTbs::from(&self.0.tbs_cert_list),
            signature_algorithm: self.0.signature_algorithm.clone(),
            signature: self.0.signature.clone(),
        }
    }
}
