//! The ats-hash-index-v3 attribute of an archive time-stamp (CAdES B-LTA).

use der::Sequence;
use der::asn1::OctetString;
use spki::AlgorithmIdentifierOwned;

/// EN 319 122-1 §5.5.2 and Annex D (V1.3.1).
///
/// ```text
/// ATSHashIndexV3 ::= SEQUENCE {
///     hashIndAlgorithm              AlgorithmIdentifier,
///     certificatesHashIndex         SEQUENCE OF OCTET STRING,
///     crlsHashIndex                 SEQUENCE OF OCTET STRING,
///     unsignedAttrValuesHashIndex   SEQUENCE OF OCTET STRING }
/// ```
///
/// Each hash is over a whole encoded component, tag and length included:
/// one per `CertificateChoices` of `SignedData.certificates`, one per
/// `RevocationInfoChoice` of `SignedData.crls`, and one per value of each
/// unsigned attribute of the SignerInfo, over `attrType` followed by that
/// `AttributeValue`; all as present when the archive time-stamp was asked.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AtsHashIndexV3 {
    /// The hash of every entry (the archive time-stamp's imprint hash).
    pub hash_ind_algorithm: AlgorithmIdentifierOwned,
    /// The certificates' hashes.
    pub certificates_hash_index: Vec<OctetString>,
    /// The revocation values' hashes.
    pub crls_hash_index: Vec<OctetString>,
    /// The unsigned attribute values' hashes.
    pub unsigned_attr_values_hash_index: Vec<OctetString>,
}
