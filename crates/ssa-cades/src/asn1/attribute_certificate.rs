//! RFC 5755 attribute certificates, as carried for electronic delegation
//! (電子委任状) in signer-attributes-v2. The module uses IMPLICIT TAGS.

use der::asn1::{BitString, GeneralizedTime};
use der::{Choice, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralNames;
use x509_cert::serial_number::SerialNumber;

/// RFC 5755 §4.1.
///
/// ```text
/// AttributeCertificate ::= SEQUENCE {
///     acinfo               AttributeCertificateInfo,
///     signatureAlgorithm   AlgorithmIdentifier,
///     signatureValue       BIT STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AttributeCertificate {
    /// What is certified.
    pub acinfo: AttributeCertificateInfo,
    /// The issuer's signature algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The issuer's signature over `acinfo`.
    pub signature_value: BitString,
}

/// RFC 5755 §4.1.
///
/// ```text
/// AttributeCertificateInfo ::= SEQUENCE {
///     version                 AttCertVersion, -- version is v2 (1)
///     holder                  Holder,
///     issuer                  AttCertIssuer,
///     signature               AlgorithmIdentifier,
///     serialNumber            CertificateSerialNumber,
///     attrCertValidityPeriod  AttCertValidityPeriod,
///     attributes              SEQUENCE OF Attribute,
///     issuerUniqueID          UniqueIdentifier OPTIONAL,
///     extensions              Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AttributeCertificateInfo {
    /// 1 (v2).
    pub version: u8,
    /// Whom the attributes are about.
    pub holder: Holder,
    /// Who certifies them.
    pub issuer: AttCertIssuer,
    /// The signature algorithm (as in the outer structure).
    pub signature: AlgorithmIdentifierOwned,
    /// The serial number.
    pub serial_number: SerialNumber,
    /// When the attributes hold.
    pub attr_cert_validity_period: AttCertValidityPeriod,
    /// The certified attributes (a role, an authority to act for a company…).
    pub attributes: Vec<Attribute>,
    /// Unused.
    #[asn1(optional = "true")]
    pub issuer_unique_id: Option<BitString>,
    /// Extensions.
    #[asn1(optional = "true")]
    pub extensions: Option<Extensions>,
}

/// RFC 5755 §4.2.2.
///
/// ```text
/// Holder ::= SEQUENCE {
///     baseCertificateID   [0] IssuerSerial OPTIONAL,
///     entityName          [1] GeneralNames OPTIONAL,
///     objectDigestInfo    [2] ObjectDigestInfo OPTIONAL }
/// ```
///
/// `objectDigestInfo` is not supported (refused when decoding).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Holder {
    /// The holder's public-key certificate, by issuer and serial.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub base_certificate_id: Option<AcIssuerSerial>,
    /// The holder's name.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub entity_name: Option<GeneralNames>,
}

/// RFC 5755 §4.2.2.
///
/// ```text
/// IssuerSerial ::= SEQUENCE {
///     issuer      GeneralNames,
///     serial      CertificateSerialNumber,
///     issuerUID   UniqueIdentifier OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AcIssuerSerial {
    /// The certificate's issuer.
    pub issuer: GeneralNames,
    /// Its serial number.
    pub serial: SerialNumber,
    /// Unused.
    #[asn1(optional = "true")]
    pub issuer_uid: Option<BitString>,
}

/// RFC 5755 §4.2.3.
///
/// ```text
/// AttCertIssuer ::= CHOICE {
///     v1Form   GeneralNames,  -- MUST NOT be used in this profile
///     v2Form   [0] V2Form }
/// V2Form ::= SEQUENCE {
///     issuerName          GeneralNames OPTIONAL,
///     baseCertificateID   [0] IssuerSerial OPTIONAL,
///     objectDigestInfo    [1] ObjectDigestInfo OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
#[allow(clippy::large_enum_variant)]
pub enum AttCertIssuer {
    /// Not allowed by RFC 5755; read to be refused with a clear reason.
    V1Form(GeneralNames),
    /// The issuer by name.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    V2Form(V2Form),
}

/// See [`AttCertIssuer`].
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct V2Form {
    /// The issuer's name.
    #[asn1(optional = "true")]
    pub issuer_name: Option<GeneralNames>,
    /// Not used in this profile.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub base_certificate_id: Option<AcIssuerSerial>,
}

/// RFC 5755 §4.2.6.
///
/// ```text
/// AttCertValidityPeriod ::= SEQUENCE {
///     notBeforeTime  GeneralizedTime,
///     notAfterTime   GeneralizedTime }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AttCertValidityPeriod {
    /// From.
    pub not_before_time: GeneralizedTime,
    /// Until.
    pub not_after_time: GeneralizedTime,
}
