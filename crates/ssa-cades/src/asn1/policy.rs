//! Signature policy and commitment type (RFC 5126, ETSI EN 319 122-1).

use der::asn1::{Any, Null, ObjectIdentifier, OctetString};
use der::{Choice, Sequence};
use spki::AlgorithmIdentifierOwned;

/// The signature-policy-identifier attribute (RFC 5126 §5.8.1; EN 319 122-1 §5.2.9.1).
///
/// ```text
/// SignaturePolicyIdentifier ::= CHOICE {
///     signaturePolicyId        SignaturePolicyId,
///     signaturePolicyImplied   SignaturePolicyImplied }
/// SignaturePolicyImplied ::= NULL
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Choice)]
pub enum SignaturePolicyIdentifier {
    /// An explicit policy.
    SignaturePolicyId(SignaturePolicyId),
    /// The policy is implied by the context.
    SignaturePolicyImplied(Null),
}

/// RFC 5126 §5.8.1.
///
/// ```text
/// SignaturePolicyId ::= SEQUENCE {
///     sigPolicyId           SigPolicyId,
///     sigPolicyHash         SigPolicyHash,
///     sigPolicyQualifiers   SEQUENCE SIZE (1..MAX) OF SigPolicyQualifierInfo OPTIONAL }
/// SigPolicyId ::= OBJECT IDENTIFIER
/// SigPolicyHash ::= OtherHashAlgAndValue
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SignaturePolicyId {
    /// The policy's OID.
    pub sig_policy_id: ObjectIdentifier,
    /// The hash of the policy document.
    pub sig_policy_hash: OtherHashAlgAndValue,
    /// Qualifiers (e.g. the policy's URI).
    #[asn1(optional = "true")]
    pub sig_policy_qualifiers: Option<Vec<SigPolicyQualifierInfo>>,
}

/// RFC 5126 §5.8.1 (from RFC 3126).
///
/// ```text
/// OtherHashAlgAndValue ::= SEQUENCE {
///     hashAlgorithm   AlgorithmIdentifier,
///     hashValue       OtherHashValue }
/// OtherHashValue ::= OCTET STRING
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct OtherHashAlgAndValue {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash value.
    pub hash_value: OctetString,
}

/// RFC 5126 §5.8.1.
///
/// ```text
/// SigPolicyQualifierInfo ::= SEQUENCE {
///     sigPolicyQualifierId  SigPolicyQualifierId,
///     sigQualifier          ANY DEFINED BY sigPolicyQualifierId }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct SigPolicyQualifierInfo {
    /// The qualifier's type (e.g. `id-spq-ets-uri`).
    pub sig_policy_qualifier_id: ObjectIdentifier,
    /// The qualifier.
    pub sig_qualifier: Any,
}

/// The commitment-type-indication attribute (RFC 5126 §5.11.1; EN 319 122-1 §5.2.3).
///
/// ```text
/// CommitmentTypeIndication ::= SEQUENCE {
///     commitmentTypeId         CommitmentTypeIdentifier,
///     commitmentTypeQualifier  SEQUENCE SIZE (1..MAX) OF CommitmentTypeQualifier OPTIONAL }
/// CommitmentTypeIdentifier ::= OBJECT IDENTIFIER
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CommitmentTypeIndication {
    /// The commitment, e.g. proof of approval (`1.2.840.113549.1.9.16.6.5`).
    pub commitment_type_id: ObjectIdentifier,
    /// Qualifiers.
    #[asn1(optional = "true")]
    pub commitment_type_qualifier: Option<Vec<CommitmentTypeQualifier>>,
}

/// RFC 5126 §5.11.1.
///
/// ```text
/// CommitmentTypeQualifier ::= SEQUENCE {
///     commitmentTypeIdentifier  CommitmentTypeIdentifier,
///     qualifier                 ANY DEFINED BY commitmentTypeIdentifier }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct CommitmentTypeQualifier {
    /// The qualifier's type.
    pub commitment_type_identifier: ObjectIdentifier,
    /// The qualifier.
    pub qualifier: Any,
}
