//! Verifying CAdES signatures, with a report named as in ETSI EN 319 102-1.

use std::io::Read;
use std::time::SystemTime;

use crate::asn1::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use ssa_types::{HashAlgorithm, Level, PublicKey, SignatureAlgorithm};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier};
use x509_cert::time::Time;

use crate::algorithm::{hash_of, signature_from_id};
use crate::asn1::{
    CmsAlgorithmProtection, CommitmentTypeIndication, RevocationInfoChoice,
    SignaturePolicyIdentifier, SignedData, SignerAttributesV2, SigningCertificateV2, TstInfo,
};
use crate::chain::{self, ChainFailure, RevocationCoverage};
use crate::{oid, raw};

/// The overall result (EN 319 102-1 §5.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Indication {
    /// Every check passed.
    TotalPassed,
    /// The signature is proven invalid.
    TotalFailed(SubIndication),
    /// Neither proven valid nor invalid with what was given.
    Indeterminate(SubIndication),
}

/// Sub-indications (EN 319 102-1 Table 5), those this verifier reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubIndication {
    /// Not conformant to CMS/CAdES.
    FormatFailure,
    /// The message digest does not match the document.
    HashFailure,
    /// The signature value does not verify.
    SigCryptoFailure,
    /// The signing certificate is revoked and no proof of existence (a
    /// signature time-stamp) shows the signature was made before that.
    RevokedNoPoe,
    /// A CA certificate of the signer's path is revoked, and no proof of
    /// existence shows the signature was made before that.
    RevokedCaNoPoe,
    /// The signing certificate is not valid yet at the validation time.
    NotYetValid,
    /// The signing certificate could not be identified or its ESS binding fails.
    NoSigningCertificateFound,
    /// No path to a trust anchor.
    NoCertificateChainFound,
    /// The path fails a constraint (basicConstraints, keyUsage).
    ChainConstraintsFailure,
    /// The signing certificate expired before the validation time and no
    /// proof of existence (time-stamp) shows the signature was made earlier.
    OutOfBoundsNoPoe,
    /// The algorithms are not supported or inconsistent.
    CryptoConstraintsFailure,
    /// The signature policy given for the signature's policy identifier
    /// does not have the hash the signature names.
    PolicyProcessingError,
}

/// One check and how it went.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The structure is broken.
    Format(&'static str),
    /// message-digest differs from the document's digest.
    MessageDigestMismatch,
    /// content-type attribute differs from the encapsulated content type.
    ContentTypeMismatch,
    /// The signature value does not verify over the signed attributes.
    SignatureInvalid,
    /// The algorithms are unknown, or the CMS algorithm protection attribute disagrees.
    UnsupportedAlgorithm,
    /// No certificate in the signature (or given) matches the signer identifier.
    SignerCertificateNotFound,
    /// No signing-certificate-v2 attribute.
    SigningCertificateMissing,
    /// signing-certificate-v2 does not reference the signer's certificate.
    SigningCertificateMismatch,
    /// The signer's certificate does not allow signing (keyUsage).
    KeyUsage,
    /// The certificate path.
    Chain(ChainFailure),
    /// A signature time-stamp's imprint is not the hash of the signature value.
    TimeStampImprintMismatch,
    /// The signature policy document given for the signature's policy
    /// identifier does not hash to the signature's sigPolicyHash.
    PolicyHashMismatch,
    /// A signature time-stamp's TSA certificate lacks the critical timeStamping EKU.
    TsaKeyPurpose,
    /// A signature time-stamp is not a well-formed token (what is wrong).
    TimeStampInvalid(&'static str),
    /// A signature time-stamp token's own signer fails this check (its
    /// signature, its ESS binding, the TSA's path at genTime).
    TimeStamp(Box<Failure>),
    /// An archive time-stamp's ats-hash-index-v3 is missing or names
    /// something the signature no longer holds (what).
    ArchiveHashIndex(&'static str),
    /// An archive time-stamp fails (its imprint, hash index, signature or
    /// TSA path): what it protects was changed, or it is not this
    /// signature's. Unlike a signature time-stamp it is not set aside.
    ArchiveTimeStamp(Box<Failure>),
}

/// What the verifier found about one SignerInfo.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SignerReport {
    /// The overall indication for this signature.
    pub indication: Indication,
    /// The most specific failure, if any.
    pub failure: Option<Failure>,
    /// Every check passed (in order).
    pub passed: Vec<&'static str>,
    /// The signer's certificate, if found.
    pub certificate: Option<Certificate>,
    /// The signer's subject, if found.
    pub signer: Option<String>,
    /// The claimed signing time (signing-time attribute).
    pub claimed_signing_time: Option<SystemTime>,
    /// The earliest valid signature time-stamp's genTime.
    pub time_stamped_at: Option<SystemTime>,
    /// The latest archive time-stamp's genTime (B-LTA), every archive
    /// time-stamp having held.
    pub archived_at: Option<SystemTime>,
    /// Signature time-stamps that could not be used, each with why; they
    /// were set aside (the signature is judged on the others).
    pub unusable_time_stamps: Vec<Failure>,
    /// The level reached (EN 319 122-1 §4); `None` when not even B-B.
    pub level: Option<Level>,
    /// The signature policy, if any.
    pub policy: Option<SignaturePolicyIdentifier>,
    /// Whether the policy document given (`VerifyOptions::policies`) has
    /// the signature's sigPolicyHash: `None` when the signature names no
    /// explicit policy or the verifier was given none for its identifier.
    pub policy_hash_matches: Option<bool>,
    /// The commitment type, if any.
    pub commitment: Option<CommitmentTypeIndication>,
    /// Signer attributes (roles, delegation attribute certificates), if any.
    pub signer_attributes: Option<SignerAttributesV2>,
    /// The roles the signer claims (signer-attributes-v2 `id-at-role`
    /// claimed attributes), each its role name's URI.
    pub claimed_roles: Vec<String>,
    /// Revocation data found for the path.
    pub revocation: RevocationCoverage,
    /// Each delegation attribute certificate carried, checked against the
    /// signer's certificate at the claimed signing time.
    pub delegations: Vec<Result<crate::delegation::Delegation, crate::delegation::DelegationError>>,
}

/// The result of verifying a CMS signature.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerificationReport {
    /// Set when the input is not a SignedData at all.
    pub format_error: Option<&'static str>,
    /// One report per SignerInfo.
    pub signers: Vec<SignerReport>,
}

impl VerificationReport {
    /// TOTAL-PASSED only if there is at least one signer and all passed.
    pub fn indication(&self) -> Indication {
        if self.format_error.is_some() || self.signers.is_empty() {
            return Indication::TotalFailed(SubIndication::FormatFailure);
        }
        self.signers
            .iter()
            .map(|s| s.indication.clone())
            .find(|i| *i != Indication::TotalPassed)
            .unwrap_or(Indication::TotalPassed)
    }

    fn broken(reason: &'static str) -> Self {
        Self {
            format_error: Some(reason),
            signers: Vec::new(),
        }
    }
}

/// What the signature is over.
pub enum Document<'a> {
    /// The document bytes.
    Bytes(&'a [u8]),
    /// The document as a stream, hashed as it is read.
    Reader(&'a mut dyn Read),
    /// The document's digest, computed by the caller.
    Digest {
        /// Its hash.
        hash: HashAlgorithm,
        /// The digest.
        value: &'a [u8],
    },
    /// The document is inside the signature (enveloping).
    Enveloped,
}

/// What the verifier trusts and when it judges.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifyOptions<'a> {
    /// Trust anchors for signers, passed in (never global).
    pub anchors: &'a [Certificate],
    /// Trust anchors for TSAs, apart from the signers': `None` trusts the
    /// signer anchors for time-stamps too.
    pub tsa_anchors: Option<&'a [Certificate]>,
    /// Certificates to use beyond those in the signature.
    pub extra_certificates: &'a [Certificate],
    /// CRLs to use beyond those in the signature.
    pub crls: &'a [CertificateList],
    /// OCSP responses (DER `OCSPResponse`) to use beyond those in the signature.
    pub ocsp: &'a [Vec<u8>],
    /// When to validate if no time-stamp proves an earlier time.
    pub validation_time: SystemTime,
    /// Attribute authorities trusted for delegation attribute certificates.
    pub attribute_authorities: &'a [Certificate],
    /// Signature policies known to the verifier, to check an EPES
    /// signature's sigPolicyHash against.
    pub policies: &'a [KnownPolicy<'a>],
}

/// A signature policy the verifier has, by identifier: the document, or
/// its digest.
#[derive(Clone, Copy, Debug)]
pub struct KnownPolicy<'a> {
    /// The policy's identifier (sigPolicyId).
    pub id: ObjectIdentifier,
    /// The policy.
    pub document: PolicyDocument<'a>,
}

/// A signature policy document, or its digest (EN 319 122-1 §5.2.9:
/// sigPolicyHash is the hash of the document as it is distributed; for
/// an ASN.1 policy, TR 102 272 hashes its `signPolicyInfo`, so pass that
/// digest).
#[derive(Clone, Copy, Debug)]
pub enum PolicyDocument<'a> {
    /// The document's bytes, hashed with the signature's hash algorithm.
    Bytes(&'a [u8]),
    /// The document's digest.
    Digest {
        /// Its hash.
        hash: HashAlgorithm,
        /// The digest.
        value: &'a [u8],
    },
}

impl<'a> VerifyOptions<'a> {
    /// Trust `anchors`, judge at `validation_time`, nothing else given.
    pub fn new(anchors: &'a [Certificate], validation_time: SystemTime) -> Self {
        Self {
            anchors,
            tsa_anchors: None,
            extra_certificates: &[],
            crls: &[],
            ocsp: &[],
            validation_time,
            attribute_authorities: &[],
            policies: &[],
        }
    }

    /// The same options, trusting `anchors` (only) for time-stamps.
    pub fn with_tsa_anchors(mut self, anchors: &'a [Certificate]) -> Self {
        self.tsa_anchors = Some(anchors);
        self
    }

    /// The same options, checking the policy hash of signatures under one
    /// of `policies`.
    pub fn with_policies(mut self, policies: &'a [KnownPolicy<'a>]) -> Self {
        self.policies = policies;
        self
    }

    /// The same options, trusting `authorities` for delegations.
    pub fn with_attribute_authorities(mut self, authorities: &'a [Certificate]) -> Self {
        self.attribute_authorities = authorities;
        self
    }
}

fn attribute(attrs: &[Attribute], oid: ObjectIdentifier) -> Result<Option<&Attribute>, Failure> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let first = found.next();
    if found.next().is_some() || first.is_some_and(|a| a.values.len() != 1) {
        return Err(Failure::Format(
            "an attribute appears twice or with several values",
        ));
    }
    Ok(first)
}

fn single<T: for<'a> Decode<'a>>(
    attrs: &[Attribute],
    oid: ObjectIdentifier,
) -> Result<Option<T>, Failure> {
    match attribute(attrs, oid)? {
        None => Ok(None),
        Some(a) => {
            let value = a
                .values
                .iter()
                .next()
                .ok_or(Failure::Format("empty attribute"))?;
            value
                .to_der()
                .ok()
                .and_then(|der| T::from_der(&der).ok())
                .map(Some)
                .ok_or(Failure::Format("malformed attribute value"))
        }
    }
}

fn certificates(signed: &SignedData, extra: &[Certificate]) -> Vec<Certificate> {
    let mut out: Vec<Certificate> = extra.to_vec();
    for choice in signed.certificates.iter().flat_map(|set| set.iter()) {
        if let CertificateChoices::Certificate(c) = choice {
            out.push(c.clone());
        }
    }
    out
}

/// CRLs and OCSP responses: given, and embedded in the signature.
fn revocation_values(
    signed: &SignedData,
    options: &VerifyOptions<'_>,
) -> (Vec<CertificateList>, Vec<Vec<u8>>) {
    let mut crls = options.crls.to_vec();
    let mut ocsp = options.ocsp.to_vec();
    for choice in signed.crls.iter().flat_map(|set| set.iter()) {
        match choice {
            RevocationInfoChoice::Crl(crl) => crls.push(crl.0.clone()),
            RevocationInfoChoice::Other(other)
                if other.other_rev_info_format == oid::ID_RI_OCSP_RESPONSE =>
            {
                if let Ok(der) = other.other_rev_info.to_der() {
                    ocsp.push(der);
                }
            }
            // A BasicOCSPResponse on its own (as some products store it):
            // wrapped as the successful OCSPResponse it came in.
            RevocationInfoChoice::Other(other)
                if other.other_rev_info_format == oid::ID_PKIX_OCSP_BASIC =>
            {
                if let Some(der) = wrap_basic_response(&other.other_rev_info) {
                    ocsp.push(der);
                }
            }
            RevocationInfoChoice::Other(_) => {}
        }
    }
    (crls, ocsp)
}

fn wrap_basic_response(basic: &der::asn1::Any) -> Option<Vec<u8>> {
    crate::asn1::OcspResponse {
        response_status: crate::asn1::OcspResponseStatus::Successful,
        response_bytes: Some(crate::asn1::ResponseBytes {
            response_type: oid::ID_PKIX_OCSP_BASIC,
            response: OctetString::new(basic.to_der().ok()?).ok()?,
        }),
    }
    .to_der()
    .ok()
}

pub(crate) fn find_signer<'a>(
    sid: &SignerIdentifier,
    pool: &'a [Certificate],
) -> Option<&'a Certificate> {
    pool.iter().find(|c| match sid {
        SignerIdentifier::IssuerAndSerialNumber(is) => {
            c.tbs_certificate().issuer() == &is.issuer && c.tbs_certificate().serial_number() == &is.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(c.tbs_certificate().get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    })
}

/// The ESS v1 binding (RFC 2634 §5.4, SHA-1), accepted for TSAs only.
fn ess_v1_binding(attrs: &[Attribute], cert: &Certificate) -> Result<(), Failure> {
    let signing_certificate: crate::asn1::SigningCertificate =
        single(attrs, oid::ID_AA_SIGNING_CERTIFICATE)?.ok_or(Failure::SigningCertificateMissing)?;
    let id = signing_certificate
        .certs
        .first()
        .ok_or(Failure::SigningCertificateMismatch)?;
    let der = cert.to_der().map_err(|_| Failure::Format("certificate"))?;
    let hash = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
    if hash.as_ref() != id.cert_hash.as_bytes() {
        return Err(Failure::SigningCertificateMismatch);
    }
    if let Some(issuer_serial) = &id.issuer_serial {
        issuer_serial_matches(issuer_serial, cert)?;
    }
    Ok(())
}

fn issuer_serial_matches(
    issuer_serial: &crate::asn1::IssuerSerial,
    cert: &Certificate,
) -> Result<(), Failure> {
    let issuer_matches = issuer_serial.issuer.iter().any(|n| {
        matches!(n, GeneralName::DirectoryName(name)
            if crate::name::same_name(name, cert.tbs_certificate().issuer()))
    });
    if !issuer_matches || issuer_serial.serial_number != *cert.tbs_certificate().serial_number() {
        return Err(Failure::SigningCertificateMismatch);
    }
    Ok(())
}

/// The ESS binding: the first ESSCertIDv2 must reference `cert`.
fn ess_binding(
    signing_certificate: &SigningCertificateV2,
    cert: &Certificate,
) -> Result<(), Failure> {
    let id = signing_certificate
        .certs
        .first()
        .ok_or(Failure::SigningCertificateMismatch)?;
    let hash = match &id.hash_algorithm {
        None => HashAlgorithm::Sha256,
        Some(alg) => hash_of(alg).ok_or(Failure::UnsupportedAlgorithm)?,
    };
    let der = cert.to_der().map_err(|_| Failure::Format("certificate"))?;
    if hash.digest(&der) != id.cert_hash.as_bytes() {
        return Err(Failure::SigningCertificateMismatch);
    }
    if let Some(issuer_serial) = &id.issuer_serial {
        issuer_serial_matches(issuer_serial, cert)?;
    }
    Ok(())
}

/// The parts of a SignerInfo check shared by signatures and time-stamp tokens.
struct Basic {
    certificate: Certificate,
    signature_value: Vec<u8>,
    attrs: Vec<Attribute>,
}

/// Checks one SignerInfo's structure, signing certificate, ESS binding,
/// message digest (against `content_digest`) and signature value.
fn check_signer_info(
    info: &SignerInfo,
    raw_info: &[u8],
    content_type: ObjectIdentifier,
    pool: &[Certificate],
    content_digest: &dyn Fn(HashAlgorithm) -> Option<Vec<u8>>,
    ess_v1_allowed: bool,
    passed: &mut Vec<&'static str>,
) -> Result<Basic, (Failure, Option<Box<Certificate>>)> {
    let no_cert = |f| (f, None);
    let attrs: Vec<Attribute> = info
        .signed_attrs
        .as_ref()
        .ok_or(no_cert(Failure::Format("no signed attributes")))?
        .iter()
        .cloned()
        .collect();
    let hash = hash_of(&info.digest_alg).ok_or(no_cert(Failure::UnsupportedAlgorithm))?;
    // RSASSA-PSS is verified with whatever salt its parameters state; the
    // algorithm below only names its family and hash.
    let pss = (info.signature_algorithm.oid == const_oid::db::rfc5912::ID_RSASSA_PSS)
        .then(|| crate::algorithm::pss_parameters(&info.signature_algorithm))
        .map(|parameters| parameters.ok_or(no_cert(Failure::UnsupportedAlgorithm)))
        .transpose()?;
    let algorithm = match pss {
        Some((pss_hash, _)) => SignatureAlgorithm::RsaPss(pss_hash, ssa_types::PssSalt::Digest),
        None => signature_from_id(&info.signature_algorithm, Some(hash))
            .ok_or(no_cert(Failure::UnsupportedAlgorithm))?,
    };
    let consistent = match algorithm {
        SignatureAlgorithm::Ed25519 => hash == HashAlgorithm::Sha512,
        other => other.hash() == Some(hash),
    };
    if !consistent {
        return Err(no_cert(Failure::UnsupportedAlgorithm));
    }
    let declared_type: ObjectIdentifier = single(&attrs, oid::ID_CONTENT_TYPE)
        .map_err(no_cert)?
        .ok_or(no_cert(Failure::Format("no content-type attribute")))?;
    if declared_type != content_type {
        return Err(no_cert(Failure::ContentTypeMismatch));
    }
    passed.push("content-type");
    let message_digest: OctetString = single(&attrs, oid::ID_MESSAGE_DIGEST)
        .map_err(no_cert)?
        .ok_or(no_cert(Failure::Format("no message-digest attribute")))?;
    if let Some(protection) =
        single::<CmsAlgorithmProtection>(&attrs, oid::ID_AA_CMS_ALGORITHM_PROTECTION)
            .map_err(no_cert)?
    {
        let signature_matches = protection.signature_algorithm.as_ref().is_none_or(|s| {
            if s.oid == const_oid::db::rfc5912::ID_RSASSA_PSS {
                pss.is_some() && crate::algorithm::pss_parameters(s) == pss
            } else {
                signature_from_id(s, Some(hash)) == Some(algorithm)
            }
        });
        if hash_of(&protection.digest_algorithm) != Some(hash)
            || !signature_matches
            || protection.mac_algorithm.is_some()
        {
            return Err(no_cert(Failure::UnsupportedAlgorithm));
        }
        passed.push("cms-algorithm-protection");
    }
    let certificate = find_signer(&info.sid, pool)
        .cloned()
        .ok_or(no_cert(Failure::SignerCertificateNotFound))?;
    let with_cert = |f| (f, Some(Box::new(certificate.clone())));
    match single::<SigningCertificateV2>(&attrs, oid::ID_AA_SIGNING_CERTIFICATE_V2)
        .map_err(with_cert)?
    {
        Some(signing_certificate) => {
            ess_binding(&signing_certificate, &certificate).map_err(with_cert)?;
            passed.push("signing-certificate-v2");
        }
        None if ess_v1_allowed => {
            ess_v1_binding(&attrs, &certificate).map_err(with_cert)?;
            passed.push("signing-certificate");
        }
        None => return Err(with_cert(Failure::SigningCertificateMissing)),
    }
    let expected = content_digest(hash)
        .ok_or_else(|| with_cert(Failure::Format("the document digest is of another hash")))?;
    if message_digest.as_bytes() != expected.as_slice() {
        return Err(with_cert(Failure::MessageDigestMismatch));
    }
    passed.push("message-digest");
    let received = raw::signed_attrs_dtbs(raw_info)
        .ok()
        .flatten()
        .ok_or_else(|| with_cert(Failure::Format("signed attributes")))?;
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|_| with_cert(Failure::Format("public key")))?;
    let key =
        PublicKey::from_spki_der(&spki).ok_or_else(|| with_cert(Failure::UnsupportedAlgorithm))?;
    if !algorithm.fits(key.algorithm) {
        return Err(with_cert(Failure::UnsupportedAlgorithm));
    }
    // Signed as received; failing that, signed over the DER-sorted set
    // (some signers sort when signing and send another order).
    let verify = |dtbs: &[u8]| match pss {
        Some((pss_hash, salt)) => key
            .verify_pss(pss_hash, salt, dtbs, info.signature.as_bytes())
            .is_ok(),
        None => key
            .verify(algorithm, dtbs, info.signature.as_bytes())
            .is_ok(),
    };
    let verified = verify(&received)
        || raw::sorted_set(&received).is_some_and(|sorted| sorted != received && verify(&sorted));
    if !verified {
        return Err(with_cert(Failure::SignatureInvalid));
    }
    passed.push("signature-value");
    Ok(Basic {
        certificate,
        signature_value: info.signature.as_bytes().to_vec(),
        attrs,
    })
}

fn parse_signed_data(bytes: &[u8]) -> Result<SignedData, &'static str> {
    let info = ContentInfo::from_der(bytes).map_err(|_| "not a DER ContentInfo")?;
    if info.content_type != oid::ID_SIGNED_DATA {
        return Err("not a SignedData");
    }
    info.content.decode_as().map_err(|_| "malformed SignedData")
}

/// Verifies a time-stamp token over `signature_value` (for an archive
/// time-stamp, its imprint input); returns its genTime.
fn check_time_stamp(
    token: &[u8],
    signature_value: &[u8],
    outer_pool: &[Certificate],
    outer_values: chain::RevocationValues<'_>,
    options: &VerifyOptions<'_>,
) -> Result<SystemTime, Failure> {
    let signed =
        parse_signed_data(token).map_err(|_| Failure::TimeStampInvalid("not a SignedData"))?;
    if signed.encap_content_info.econtent_type != oid::ID_CT_TST_INFO {
        return Err(Failure::TimeStampInvalid("not a TSTInfo"));
    }
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or(Failure::TimeStampInvalid("no TSTInfo"))?;
    let tst_der = econtent
        .decode_as::<OctetString>()
        .map_err(|_| Failure::TimeStampInvalid("TSTInfo"))?
        .into_bytes();
    let tst = TstInfo::from_der(&tst_der).map_err(|_| Failure::TimeStampInvalid("TSTInfo"))?;
    let imprint_hash = hash_of(&tst.message_imprint.hash_algorithm)
        .ok_or(Failure::TimeStampInvalid("imprint hash"))?;
    if imprint_hash.digest(signature_value) != tst.message_imprint.hashed_message.as_bytes() {
        return Err(Failure::TimeStampImprintMismatch);
    }
    // The TSA's path: the token's certificates, then the signature's
    // (B-LT signatures keep the TSA chain there) and those given.
    let mut pool = certificates(&signed, &[]);
    pool.extend(outer_pool.iter().cloned());
    let raw_infos =
        raw::signer_infos(token).map_err(|_| Failure::TimeStampInvalid("SignerInfos"))?;
    let (info, raw_info) = signed
        .signer_infos
        .0
        .iter()
        .zip(raw_infos.iter())
        .next()
        .ok_or(Failure::TimeStampInvalid("no SignerInfo"))?;
    let digest = |hash: HashAlgorithm| Some(hash.digest(&tst_der));
    let mut passed = Vec::new();
    // A TSA may bind its certificate with ESS v1 (RFC 2634) or v2: accept
    // either here, checking whichever is present.
    let basic = match check_signer_info(
        info,
        raw_info,
        oid::ID_CT_TST_INFO,
        &pool,
        &digest,
        true,
        &mut passed,
    ) {
        Ok(basic) => basic,
        Err((failure, _)) => return Err(Failure::TimeStamp(Box::new(failure))),
    };
    let _ = basic.attrs;
    let eku = basic
        .certificate
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>();
    match eku {
        Ok(Some((true, eku))) if eku.0.len() == 1 && eku.0[0] == oid::ID_KP_TIME_STAMPING => {}
        _ => return Err(Failure::TsaKeyPurpose),
    }
    let gen_time = tst.gen_time.to_system_time();
    // Revocation data from the token, and from the signature (B-LT keeps
    // the TSA's there too).
    let (mut crls, mut ocsp) = revocation_values(&signed, options);
    crls.extend(outer_values.crls.iter().cloned());
    ocsp.extend(outer_values.ocsp.iter().cloned());
    let values = chain::RevocationValues {
        crls: &crls,
        ocsp: &ocsp,
    };
    let anchors = options.tsa_anchors.unwrap_or(options.anchors);
    chain::validate(&basic.certificate, &pool, anchors, values, gen_time)
        .map_err(|failure| Failure::TimeStamp(Box::new(Failure::Chain(failure))))?;
    Ok(gen_time)
}

impl Failure {
    /// The EN 319 102-1 indication this failure gives (for a signature
    /// time-stamp, the indication of the time-stamp itself).
    pub fn indication(&self) -> Indication {
        indication_of(self, None)
    }
}

/// The indication of `failure`; `signer` (the signer's subject) tells a
/// revoked signing certificate from a revoked CA.
fn indication_of(failure: &Failure, signer: Option<&str>) -> Indication {
    use SubIndication as S;
    match failure {
        Failure::Format(_) | Failure::ContentTypeMismatch => {
            Indication::TotalFailed(S::FormatFailure)
        }
        Failure::MessageDigestMismatch => Indication::TotalFailed(S::HashFailure),
        Failure::SignatureInvalid => Indication::TotalFailed(S::SigCryptoFailure),
        Failure::UnsupportedAlgorithm => Indication::Indeterminate(S::CryptoConstraintsFailure),
        Failure::SignerCertificateNotFound
        | Failure::SigningCertificateMissing
        | Failure::SigningCertificateMismatch => {
            Indication::Indeterminate(S::NoSigningCertificateFound)
        }
        Failure::KeyUsage => Indication::Indeterminate(S::ChainConstraintsFailure),
        // The path is judged at the earliest proof of existence: revoked
        // there means no proof that the signature came before.
        Failure::Chain(ChainFailure::Revoked { subject }) => {
            if signer.is_none_or(|signer| signer == subject) {
                Indication::Indeterminate(S::RevokedNoPoe)
            } else {
                Indication::Indeterminate(S::RevokedCaNoPoe)
            }
        }
        Failure::Chain(ChainFailure::NotYetValid { .. }) => Indication::TotalFailed(S::NotYetValid),
        Failure::Chain(ChainFailure::Expired { .. }) => {
            Indication::Indeterminate(S::OutOfBoundsNoPoe)
        }
        Failure::Chain(ChainFailure::NotCa { .. }) => {
            Indication::Indeterminate(S::ChainConstraintsFailure)
        }
        Failure::Chain(_) => Indication::Indeterminate(S::NoCertificateChainFound),
        Failure::TimeStampImprintMismatch => Indication::TotalFailed(S::HashFailure),
        Failure::PolicyHashMismatch => Indication::Indeterminate(S::PolicyProcessingError),
        Failure::TsaKeyPurpose => Indication::Indeterminate(S::ChainConstraintsFailure),
        Failure::TimeStampInvalid(_) => Indication::TotalFailed(S::FormatFailure),
        Failure::TimeStamp(inner) => indication_of(inner, None),
        Failure::ArchiveHashIndex(_) => Indication::TotalFailed(S::HashFailure),
        Failure::ArchiveTimeStamp(inner) => indication_of(inner, None),
    }
}

/// Verifies every SignerInfo of `signature` over `document`.
pub fn verify(
    signature: &[u8],
    document: Document<'_>,
    options: &VerifyOptions<'_>,
) -> VerificationReport {
    // Real signers emit BER (indefinite lengths); read it as DER. Signed
    // attributes, DER by CMS's rule, keep their bytes through this.
    let normalized;
    let signature = without_trailing_zeros(signature);
    let signature = if ContentInfo::from_der(signature).is_ok() {
        signature
    } else {
        match crate::ber::to_der(signature) {
            Ok(der) => {
                normalized = der;
                &normalized
            }
            Err(crate::ber::BerError::TooDeep { .. }) => {
                return VerificationReport::broken("BER nesting deeper than the limit");
            }
            Err(_) => return VerificationReport::broken("not a BER or DER ContentInfo"),
        }
    };
    let signed = match parse_signed_data(signature) {
        Ok(signed) => signed,
        Err(reason) => return VerificationReport::broken(reason),
    };
    let Ok(raw_infos) = raw::signer_infos(signature) else {
        return VerificationReport::broken("malformed SignerInfos");
    };
    if raw_infos.len() != signed.signer_infos.0.len() {
        return VerificationReport::broken("malformed SignerInfos");
    }
    // Hash the document once per digest algorithm used; an archive
    // time-stamp's imprint may use another, so with one present, under
    // every hash this crate knows.
    let archived = signed
        .signer_infos
        .0
        .iter()
        .any(|info| crate::extend::has_unsigned(info, oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3));
    let mut hashes: Vec<HashAlgorithm> = if archived {
        HashAlgorithm::ALL.to_vec()
    } else {
        signed
            .signer_infos
            .0
            .iter()
            .filter_map(|i| hash_of(&i.digest_alg))
            .collect()
    };
    hashes.sort();
    hashes.dedup();
    let content_digests: Vec<(HashAlgorithm, Vec<u8>)> = match document {
        Document::Bytes(bytes) => hashes.iter().map(|h| (*h, h.digest(bytes))).collect(),
        Document::Reader(reader) => match stream_digests(reader, &hashes) {
            Ok(d) => d,
            Err(_) => return VerificationReport::broken("the document could not be read"),
        },
        Document::Digest { hash, value } => vec![(hash, value.to_vec())],
        Document::Enveloped => {
            let Some(content) = signed
                .encap_content_info
                .econtent
                .as_ref()
                .and_then(|c| c.decode_as::<OctetString>().ok())
            else {
                return VerificationReport::broken("no enveloped content");
            };
            hashes
                .iter()
                .map(|h| (*h, h.digest(content.as_bytes())))
                .collect()
        }
    };
    let content_digest = |hash: HashAlgorithm| {
        content_digests
            .iter()
            .find(|(h, _)| *h == hash)
            .map(|(_, d)| d.clone())
    };
    let pool = certificates(&signed, options.extra_certificates);
    let (crls, ocsp) = revocation_values(&signed, options);
    let values = chain::RevocationValues {
        crls: &crls,
        ocsp: &ocsp,
    };

    let archive_parts = raw::archive_parts(signature).ok();
    let shared = Shared {
        signed: &signed,
        pool: &pool,
        values,
        content_digest: &content_digest,
        archive_parts: archive_parts.as_ref(),
        options,
    };
    // SET OF SignerInfo decodes sorted; pair each decoded one with its raw
    // bytes by re-encoding the decoded value's identity.
    let signers = signed
        .signer_infos
        .0
        .iter()
        .map(|info| {
            let raw_info = info
                .to_der()
                .ok()
                .and_then(|der| {
                    raw_infos
                        .iter()
                        .find(|r| **r == der)
                        .or_else(|| raw_for(info, &raw_infos))
                        .cloned()
                })
                .unwrap_or_default();
            verify_signer(info, &raw_info, &shared)
        })
        .collect();
    VerificationReport {
        format_error: None,
        signers,
    }
}

/// `bytes` without zero bytes that follow its first DER value (some
/// products pad a signature to a fixed size; other verifiers accept it).
/// Anything else after the value is left for the parser to refuse.
fn without_trailing_zeros(bytes: &[u8]) -> &[u8] {
    let Ok(mut reader) = der::SliceReader::new(bytes) else {
        return bytes;
    };
    let Ok(value) = der::asn1::AnyRef::decode(&mut reader) else {
        return bytes;
    };
    let used = value
        .encoded_len()
        .ok()
        .and_then(|len| usize::try_from(len).ok())
        .unwrap_or(bytes.len());
    match bytes.split_at_checked(used) {
        Some((value, rest)) if !rest.is_empty() && rest.iter().all(|b| *b == 0) => value,
        _ => bytes,
    }
}

/// The raw SignerInfo whose signature value equals `info`'s (when the
/// received bytes were not DER-sorted and re-encoding differs).
fn raw_for<'a>(info: &SignerInfo, raw_infos: &'a [Vec<u8>]) -> Option<&'a Vec<u8>> {
    raw_infos
        .iter()
        .find(|r| SignerInfo::from_der(r).is_ok_and(|decoded| decoded.signature == info.signature))
}

fn stream_digests(
    reader: &mut dyn Read,
    hashes: &[HashAlgorithm],
) -> std::io::Result<Vec<(HashAlgorithm, Vec<u8>)>> {
    let mut contexts: Vec<ring::digest::Context> = hashes
        .iter()
        .map(|h| ring::digest::Context::new(h.ring_algorithm()))
        .collect();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        for context in &mut contexts {
            context.update(&buffer[..n]);
        }
    }
    Ok(hashes
        .iter()
        .zip(contexts)
        .map(|(h, c)| (*h, c.finish().as_ref().to_vec()))
        .collect())
}

/// What every SignerInfo of one signature is verified with.
struct Shared<'a> {
    signed: &'a SignedData,
    pool: &'a [Certificate],
    values: chain::RevocationValues<'a>,
    content_digest: &'a dyn Fn(HashAlgorithm) -> Option<Vec<u8>>,
    archive_parts: Option<&'a raw::ArchiveParts>,
    options: &'a VerifyOptions<'a>,
}

fn verify_signer(info: &SignerInfo, raw_info: &[u8], shared: &Shared<'_>) -> SignerReport {
    let Shared {
        signed,
        pool,
        values,
        content_digest,
        archive_parts,
        options,
    } = *shared;
    let mut report = SignerReport {
        indication: Indication::TotalPassed,
        failure: None,
        passed: Vec::new(),
        certificate: None,
        signer: None,
        claimed_signing_time: None,
        time_stamped_at: None,
        archived_at: None,
        unusable_time_stamps: Vec::new(),
        level: None,
        policy: None,
        policy_hash_matches: None,
        commitment: None,
        signer_attributes: None,
        claimed_roles: Vec::new(),
        revocation: RevocationCoverage::default(),
        delegations: Vec::new(),
    };
    let fail = |mut report: SignerReport, failure: Failure| {
        report.indication = indication_of(&failure, report.signer.as_deref());
        report.failure = Some(failure);
        report
    };
    let basic = match check_signer_info(
        info,
        raw_info,
        signed.encap_content_info.econtent_type,
        pool,
        content_digest,
        false,
        &mut report.passed,
    ) {
        Ok(basic) => basic,
        Err((failure, certificate)) => {
            report.signer = certificate.as_deref().map(chain::subject);
            report.certificate = certificate.map(|c| *c);
            return fail(report, failure);
        }
    };
    report.signer = Some(chain::subject(&basic.certificate));
    report.certificate = Some(basic.certificate.clone());
    // The optional signed attributes read here must be well formed when
    // present: a malformed one is a format failure, not an absent one.
    let optional = (|| {
        let time = single::<Time>(&basic.attrs, oid::ID_SIGNING_TIME)?;
        let policy = single(&basic.attrs, oid::ID_AA_ETS_SIG_POLICY_ID)?;
        let commitment = single(&basic.attrs, oid::ID_AA_ETS_COMMITMENT_TYPE)?;
        let attributes = single::<SignerAttributesV2>(&basic.attrs, oid::ID_AA_ETS_SIGNER_ATTR_V2)?;
        let roles = attributes
            .as_ref()
            .map(crate::delegation::claimed_roles)
            .transpose()
            .map_err(|_| Failure::Format("a claimed role is not a RoleSyntax"))?
            .unwrap_or_default();
        Ok((time, policy, commitment, attributes, roles))
    })();
    let (time, policy, commitment, attributes, roles) = match optional {
        Ok(found) => found,
        Err(failure) => return fail(report, failure),
    };
    report.claimed_signing_time = time.map(|t| SystemTime::from(&t));
    report.policy = policy;
    report.commitment = commitment;
    report.signer_attributes = attributes;
    report.claimed_roles = roles;
    if let Some(SignaturePolicyIdentifier::SignaturePolicyId(id)) = &report.policy
        && let Some(known) = options.policies.iter().find(|k| k.id == id.sig_policy_id)
    {
        let stated = &id.sig_policy_hash;
        // A digest under another hash, or a hash this crate does not
        // know, cannot be compared: left unchecked (None), not failed.
        let matches = match (hash_of(&stated.hash_algorithm), known.document) {
            (Some(hash), PolicyDocument::Bytes(bytes)) => {
                Some(hash.digest(bytes) == stated.hash_value.as_bytes())
            }
            (Some(hash), PolicyDocument::Digest { hash: given, value }) if hash == given => {
                Some(value == stated.hash_value.as_bytes())
            }
            _ => None,
        };
        report.policy_hash_matches = matches;
        match matches {
            Some(false) => return fail(report, Failure::PolicyHashMismatch),
            Some(true) => report.passed.push("signature-policy-hash"),
            None => {}
        }
    }

    if let Some(attributes) = &report.signer_attributes {
        let at = report
            .claimed_signing_time
            .unwrap_or(options.validation_time);
        for item in attributes.certified_attributes_v2.iter().flatten() {
            if let crate::asn1::CertifiedAttributeChoice::AttributeCertificate(any) = item {
                let der = any.to_der().unwrap_or_default();
                report.delegations.push(crate::delegation::check_delegation(
                    &der,
                    &basic.certificate,
                    options.attribute_authorities,
                    at,
                ));
            }
        }
    }
    let key_usage = basic
        .certificate
        .tbs_certificate()
        .get_extension::<KeyUsage>();
    match key_usage {
        Ok(Some((_, ku))) if !(ku.digital_signature() || ku.non_repudiation()) => {
            return fail(report, Failure::KeyUsage);
        }
        Err(_) => return fail(report, Failure::Format("keyUsage")),
        _ => report.passed.push("key-usage"),
    }

    // Signature time-stamps: each must be valid; the earliest genTime is
    // the proof of existence at which the certificate is judged.
    let unsigned: Vec<Attribute> = info
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter().cloned())
        .collect();
    // A time-stamp that cannot be used is reported and set aside; the
    // others (and the signature itself) still count.
    let mut stamped: Option<SystemTime> = None;
    for attr in unsigned
        .iter()
        .filter(|a| a.oid == oid::ID_AA_TIME_STAMP_TOKEN)
    {
        for value in attr.values.iter() {
            let checked = value
                .to_der()
                .map_err(|_| Failure::TimeStampInvalid("token"))
                .and_then(|token| {
                    check_time_stamp(&token, &basic.signature_value, pool, values, options)
                });
            match checked {
                Ok(time) => stamped = Some(stamped.map_or(time, |t| t.min(time))),
                Err(failure) => report.unusable_time_stamps.push(failure),
            }
        }
    }
    if stamped.is_some() {
        report.passed.push("signature-time-stamp");
    }
    // Archive time-stamps (before the path, which they let be judged in
    // the past): each must hold, over the signature as it is now.
    let archives: Vec<&der::asn1::Any> = unsigned
        .iter()
        .filter(|a| a.oid == oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
        .flat_map(|a| a.values.iter())
        .collect();
    if !archives.is_empty() {
        let (Some(parts), Ok((signed_fields, unsigned_now))) =
            (archive_parts, raw::signer_parts(raw_info))
        else {
            return fail(report, Failure::Format("SignedData"));
        };
        let now = Archived {
            parts,
            signed_fields: &signed_fields,
            unsigned: &unsigned_now,
        };
        for token in archives {
            let checked = token
                .to_der()
                .map_err(|_| Failure::TimeStampInvalid("token"))
                .and_then(|token| {
                    check_archive_time_stamp(&token, &now, content_digest, pool, values, options)
                });
            match checked {
                Ok(time) => {
                    report.archived_at = Some(report.archived_at.map_or(time, |t| t.max(time)));
                }
                Err(failure) => return fail(report, Failure::ArchiveTimeStamp(Box::new(failure))),
            }
        }
        report.passed.push("archive-time-stamp");
    }
    report.time_stamped_at = stamped;
    let at = stamped.unwrap_or(options.validation_time);
    match chain::validate(&basic.certificate, pool, options.anchors, values, at) {
        Ok((_, coverage)) => {
            report.revocation = coverage;
            report.passed.push("certificate-path");
        }
        Err(failure) => return fail(report, Failure::Chain(failure)),
    }
    report.level = match (
        stamped.is_some(),
        report.revocation.total > 0 && report.revocation.covered == report.revocation.total,
    ) {
        (true, true) => Some(Level::BLt),
        (true, false) => Some(Level::BT),
        _ => Some(Level::BB),
    };

    if report.archived_at.is_some() && report.level == Some(Level::BLt) {
        report.level = Some(Level::BLta);
    }
    report
}

/// The signature as an archive time-stamp sees it now.
struct Archived<'a> {
    parts: &'a raw::ArchiveParts,
    signed_fields: &'a [u8],
    unsigned: &'a raw::UnsignedParts,
}

/// Checks an archive-time-stamp-v3 token (EN 319 122-1 §5.5.3): its
/// ats-hash-index-v3 names only what the signature still holds, its
/// imprint is over the signature as the index describes it, and the token
/// verifies (TSA signature, TSA path at genTime). Returns its genTime.
fn check_archive_time_stamp(
    token: &[u8],
    now: &Archived<'_>,
    content_digest: &dyn Fn(HashAlgorithm) -> Option<Vec<u8>>,
    pool: &[Certificate],
    values: chain::RevocationValues<'_>,
    options: &VerifyOptions<'_>,
) -> Result<SystemTime, Failure> {
    let signed =
        parse_signed_data(token).map_err(|_| Failure::TimeStampInvalid("not a SignedData"))?;
    let tst = signed
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|c| c.decode_as::<OctetString>().ok())
        .and_then(|c| TstInfo::from_der(c.as_bytes()).ok())
        .ok_or(Failure::TimeStampInvalid("TSTInfo"))?;
    let hash = hash_of(&tst.message_imprint.hash_algorithm).ok_or(Failure::UnsupportedAlgorithm)?;
    let tsa_info = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or(Failure::TimeStampInvalid("no SignerInfo"))?;
    let mut indexes = tsa_info
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter())
        .filter(|a| a.oid == oid::ID_AA_ATS_HASH_INDEX_V3);
    let index_attribute = indexes.next().ok_or(Failure::ArchiveHashIndex(
        "the token has no ats-hash-index-v3",
    ))?;
    if indexes.next().is_some() || index_attribute.values.len() != 1 {
        return Err(Failure::ArchiveHashIndex(
            "the token has more than one ats-hash-index-v3",
        ));
    }
    let index_der = index_attribute
        .values
        .iter()
        .next()
        .and_then(|v| v.to_der().ok())
        .ok_or(Failure::ArchiveHashIndex("unreadable"))?;
    let index = crate::asn1::AtsHashIndexV3::from_der(&index_der)
        .map_err(|_| Failure::ArchiveHashIndex("not an ATSHashIndexV3"))?;
    if hash_of(&index.hash_ind_algorithm) != Some(hash) {
        return Err(Failure::ArchiveHashIndex(
            "its hash is not the time-stamp imprint's",
        ));
    }
    let present = crate::archive::hash_index(now.parts, now.unsigned, hash)
        .map_err(|_| Failure::Format("SignedData"))?;
    let all_found =
        |listed: &[OctetString], here: &[OctetString]| listed.iter().all(|h| here.contains(h));
    if !all_found(
        &index.certificates_hash_index,
        &present.certificates_hash_index,
    ) {
        return Err(Failure::ArchiveHashIndex(
            "a certificate it covers is not in the signature",
        ));
    }
    if !all_found(&index.crls_hash_index, &present.crls_hash_index) {
        return Err(Failure::ArchiveHashIndex(
            "a revocation value it covers is not in the signature",
        ));
    }
    if !all_found(
        &index.unsigned_attr_values_hash_index,
        &present.unsigned_attr_values_hash_index,
    ) {
        return Err(Failure::ArchiveHashIndex(
            "an unsigned attribute value it covers is not in the signature",
        ));
    }
    let content_hash = content_digest(hash).ok_or(Failure::Format(
        "the document's hash under the archive time-stamp's hash is not at hand",
    ))?;
    let input =
        crate::archive::imprint_input(now.parts, &content_hash, now.signed_fields, &index_der);
    check_time_stamp(token, &input, pool, values, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_ca_is_told_from_a_revoked_signer() {
        let revoked = |subject: &str| {
            Failure::Chain(ChainFailure::Revoked {
                subject: subject.to_owned(),
            })
        };
        assert_eq!(
            indication_of(&revoked("CN=signer"), Some("CN=signer")),
            Indication::Indeterminate(SubIndication::RevokedNoPoe)
        );
        assert_eq!(
            indication_of(&revoked("CN=CA"), Some("CN=signer")),
            Indication::Indeterminate(SubIndication::RevokedCaNoPoe)
        );
        let path = Failure::TimeStamp(Box::new(Failure::Chain(ChainFailure::NoPath)));
        assert_eq!(
            path.indication(),
            Indication::Indeterminate(SubIndication::NoCertificateChainFound)
        );
    }
}
