//! Object identifiers of CMS, CAdES and RFC 3161 that this crate uses.
//! Where `const-oid` names them, those names are used; the rest are here.

pub use const_oid::ObjectIdentifier;
use const_oid::db::{rfc3161, rfc5911, rfc5912, rfc6211};

/// `id-data` (RFC 5652 §4).
pub const ID_DATA: ObjectIdentifier = rfc5911::ID_DATA;
/// `id-signedData` (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = rfc5911::ID_SIGNED_DATA;
/// `id-ct-TSTInfo` (RFC 3161 §2.4.2).
pub const ID_CT_TST_INFO: ObjectIdentifier = rfc3161::ID_CT_TST_INFO;
/// `id-contentType` (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = rfc5911::ID_CONTENT_TYPE;
/// `id-messageDigest` (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier = rfc5911::ID_MESSAGE_DIGEST;
/// `id-signingTime` (RFC 5652 §11.3).
pub const ID_SIGNING_TIME: ObjectIdentifier = rfc5911::ID_SIGNING_TIME;
/// `id-aa-signingCertificateV2` (RFC 5035 §3).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier = rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2;
/// `id-aa-signingCertificate` (RFC 2634 §5.4), v1: never produced, refused as the only binding.
pub const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier = rfc5911::ID_AA_SIGNING_CERTIFICATE;
/// `id-aa-timeStampToken` (RFC 3161 Appendix A), the signature time-stamp.
pub const ID_AA_TIME_STAMP_TOKEN: ObjectIdentifier = rfc3161::ID_AA_TIME_STAMP_TOKEN;
/// `id-aa-contentHint` (RFC 2634 §2.9).
pub const ID_AA_CONTENT_HINT: ObjectIdentifier = rfc5911::ID_AA_CONTENT_HINT;
/// `id-aa-CMSAlgorithmProtection` (RFC 6211 §2).
pub const ID_AA_CMS_ALGORITHM_PROTECTION: ObjectIdentifier =
    rfc6211::ID_AA_CMS_ALGORITHM_PROTECTION;
/// `id-aa-ets-sigPolicyId` (RFC 5126 §5.8.1, EN 319 122-1 §5.2.9.1).
pub const ID_AA_ETS_SIG_POLICY_ID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.15");
/// `id-aa-ets-commitmentType` (RFC 5126 §5.11.1, EN 319 122-1 §5.2.3).
pub const ID_AA_ETS_COMMITMENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.16");
/// `id-aa-ets-signerAttrV2` (EN 319 122-1 §5.2.6.1).
pub const ID_AA_ETS_SIGNER_ATTR_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.19122.1.1");
/// `id-aa-ets-mimeType` (EN 319 122-1 §5.2.5).
pub const ID_AA_ETS_MIME_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1733.2.1");
/// `id-kp-timeStamping` (RFC 5280 §4.2.1.12).
pub const ID_KP_TIME_STAMPING: ObjectIdentifier = rfc5912::ID_KP_TIME_STAMPING;
/// `id-ri-ocsp-response` (RFC 5940 §4): OCSP responses in `crls`.
pub const ID_RI_OCSP_RESPONSE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");
/// `id-pkix-ocsp-basic` (RFC 6960): a BasicOCSPResponse.
pub const ID_PKIX_OCSP_BASIC: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
/// `id-aa-ets-archiveTimestampV3` (EN 319 122-1 §5.5.3).
pub const ID_AA_ETS_ARCHIVE_TIMESTAMP_V3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.1733.2.4");
/// `id-aa-ATSHashIndex-v3` (EN 319 122-1 §5.5.2).
pub const ID_AA_ATS_HASH_INDEX_V3: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.19122.1.5");
