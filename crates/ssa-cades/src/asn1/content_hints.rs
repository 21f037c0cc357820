//! The content-hints attribute (RFC 2634 §2.9).

use der::Sequence;
use der::asn1::ObjectIdentifier;

/// RFC 2634 §2.9.
///
/// ```text
/// ContentHints ::= SEQUENCE {
///     contentDescription UTF8String (SIZE (1..MAX)) OPTIONAL,
///     contentType ContentType }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ContentHints {
    /// A human-readable description of the content.
    #[asn1(optional = "true")]
    pub content_description: Option<String>,
    /// The type of the signed content.
    pub content_type: ObjectIdentifier,
}
