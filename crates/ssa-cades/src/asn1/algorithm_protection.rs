//! The CMS algorithm protection attribute (RFC 6211).

use der::Sequence;
use spki::AlgorithmIdentifierOwned;

/// RFC 6211 §2 (module with IMPLICIT TAGS).
///
/// ```text
/// CMSAlgorithmProtection ::= SEQUENCE {
///     digestAlgorithm         DigestAlgorithmIdentifier,
///     signatureAlgorithm  [1] SignatureAlgorithmIdentifier OPTIONAL,
///     macAlgorithm        [2] MessageAuthenticationCodeAlgorithm OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CmsAlgorithmProtection {
    /// The digest algorithm of the SignerInfo.
    pub digest_algorithm: AlgorithmIdentifierOwned,
    /// The signature algorithm of the SignerInfo.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub signature_algorithm: Option<AlgorithmIdentifierOwned>,
    /// Never present in a signature.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    pub mac_algorithm: Option<AlgorithmIdentifierOwned>,
}
