//! The signer-attributes-v2 attribute (ETSI EN 319 122-1 §5.2.6.1): claimed
//! attributes (a role), certified attributes (RFC 5755 attribute
//! certificates, as used for electronic delegation, 電子委任状) and signed
//! assertions; and the role syntax a claimed role is written in.
//!
//! EN 319 122-1 Annex A defines these in `ETSI-CAdES-ExplicitModule`
//! (`DEFINITIONS EXPLICIT TAGS`): every context tag below wraps a whole
//! encoding of its type. RFC 5755's module (`RoleSyntax`) has IMPLICIT
//! TAGS, where a tag on a CHOICE (`GeneralName`) is explicit all the same.

use der::asn1::{Any, ObjectIdentifier};
use der::{Choice, Sequence};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::{GeneralName, GeneralNames};

/// EN 319 122-1 §5.2.6.1 and Annex A (explicit tags).
///
/// ```text
/// SignerAttributeV2 ::= SEQUENCE {
///     claimedAttributes      [0] ClaimedAttributes OPTIONAL,
///     certifiedAttributesV2  [1] CertifiedAttributesV2 OPTIONAL,
///     signedAssertions       [2] SignedAssertions OPTIONAL }
/// ClaimedAttributes ::= SEQUENCE OF Attribute
/// CertifiedAttributesV2 ::= SEQUENCE OF CHOICE {
///     attributeCertificate       [0] AttributeCertificate,
///     otherAttributeCertificate  [1] OtherAttributeCertificate }
/// SignedAssertions ::= SEQUENCE OF SignedAssertion
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Sequence)]
pub struct SignerAttributesV2 {
    /// Attributes the signer claims (e.g. `id-at-role` with [`RoleSyntax`]),
    /// unchecked by any authority.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub claimed_attributes: Option<Vec<Attribute>>,
    /// Attributes certified by an attribute authority.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub certified_attributes_v2: Option<Vec<CertifiedAttributeChoice>>,
    /// Assertions signed by a third party.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub signed_assertions: Option<Vec<SignedAssertion>>,
}

/// One certified attribute (EN 319 122-1 §5.2.6.1, explicit tags).
///
/// ```text
/// CHOICE {
///     attributeCertificate       [0] AttributeCertificate,     -- RFC 5755
///     otherAttributeCertificate  [1] OtherAttributeCertificate }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum CertifiedAttributeChoice {
    /// An RFC 5755 attribute certificate, kept as it was encoded (read with
    /// [`AttributeCertificate`](super::AttributeCertificate) where needed).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", constructed = "true")]
    AttributeCertificate(Any),
    /// Another kind of attribute certificate.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    OtherAttributeCertificate(OtherAttributeCertificate),
}

/// EN 319 122-1 §5.2.6.1.
///
/// ```text
/// OtherAttributeCertificate ::= SEQUENCE {
///     otherAttributeCertID    OtherAttributeCertID,
///     otherAttributeCert      ANY DEFINED BY otherAttributeCertID OPTIONAL }
/// OtherAttributeCertID ::= OBJECT IDENTIFIER
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct OtherAttributeCertificate {
    /// The certificate's type.
    pub other_attribute_cert_id: ObjectIdentifier,
    /// The certificate.
    #[asn1(optional = "true")]
    pub other_attribute_cert: Option<Any>,
}

/// EN 319 122-1 §5.2.6.1.
///
/// ```text
/// SignedAssertion ::= SEQUENCE {
///     signedAssertionID  SignedAssertionID,
///     signedAssertion    ANY DEFINED BY signedAssertionID }
/// SignedAssertionID ::= OBJECT IDENTIFIER
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SignedAssertion {
    /// The assertion's type.
    pub signed_assertion_id: ObjectIdentifier,
    /// The assertion.
    pub signed_assertion: Any,
}

/// The value of `id-at-role` (RFC 5755 §4.4.5, IMPLICIT TAGS module).
///
/// ```text
/// RoleSyntax ::= SEQUENCE {
///     roleAuthority  [0] GeneralNames OPTIONAL,
///     roleName       [1] GeneralName }
/// ```
///
/// RFC 5755 requires `roleName` to be a `uniformResourceIdentifier`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RoleSyntax {
    /// Who defines the role.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub role_authority: Option<GeneralNames>,
    /// The role (a CHOICE, hence explicitly tagged).
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    pub role_name: GeneralName,
}
