//! The signer-attributes-v2 attribute (ETSI EN 319 122-1 §5.2.6.1): claimed
//! roles, certified attributes (RFC 5755 attribute certificates, as used for
//! electronic delegation, 電子委任状) and signed assertions.

use der::asn1::{Any, ObjectIdentifier};
use der::{Choice, Sequence};
use x509_cert::attr::Attribute;

use super::OpaqueSequence;

/// EN 319 122-1 §5.2.6.1 (module with IMPLICIT TAGS).
///
/// ```text
/// SignerAttributesV2 ::= SEQUENCE OF CHOICE {
///     claimedAttributes      [0] ClaimedAttributes,
///     certifiedAttributesV2  [1] CertifiedAttributesV2,
///     signedAssertions       [2] SignedAssertions }
/// ```
pub type SignerAttributesV2 = Vec<SignerAttributeChoice>;

/// One element of [`SignerAttributesV2`].
///
/// ```text
/// ClaimedAttributes ::= SEQUENCE OF Attribute
/// CertifiedAttributesV2 ::= SEQUENCE OF CHOICE {
///     attributeCertificate       [0] AttributeCertificate,
///     otherAttributeCertificate  [1] OtherAttributeCertificate }
/// SignedAssertions ::= SEQUENCE OF SignedAssertion
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum SignerAttributeChoice {
    /// Attributes the signer claims (e.g. a role), unchecked by any authority.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    ClaimedAttributes(Vec<Attribute>),
    /// Attributes certified by an attribute authority.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    CertifiedAttributesV2(Vec<CertifiedAttributeChoice>),
    /// Assertions signed by a third party.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", constructed = "true")]
    SignedAssertions(Vec<SignedAssertion>),
}

/// One certified attribute (EN 319 122-1 §5.2.6.1).
///
/// ```text
/// CHOICE {
///     attributeCertificate       [0] AttributeCertificate,     -- RFC 5755
///     otherAttributeCertificate  [1] OtherAttributeCertificate }
/// OtherAttributeCertificate ::= SEQUENCE {
///     otherAttributeCertID    OBJECT IDENTIFIER,
///     otherAttributeCert      ANY DEFINED BY otherAttributeCertID }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum CertifiedAttributeChoice {
    /// An RFC 5755 attribute certificate, carried as its DER contents.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    AttributeCertificate(OpaqueSequence),
    /// Another kind of attribute certificate, carried as its DER contents.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    OtherAttributeCertificate(OpaqueSequence),
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
