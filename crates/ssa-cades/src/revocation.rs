//! Revocation data for long-term signatures (CAdES B-LT): where it comes
//! from (CRL distribution points, OCSP responders), and what it says.

use std::time::SystemTime;

use const_oid::db::rfc5280::ID_AD_OCSP;
use const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
use der::asn1::OctetString;
use der::{Decode, Encode};
use ssa_types::HashAlgorithm;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage};

use crate::CadesError;
use crate::algorithm::{digest_algorithm, hash_of};
use crate::asn1::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    TbsRequest,
};
use crate::chain::{signed_by, verify_signature};
use crate::http::{HttpSettings, fetch_by};

/// `id-kp-OCSPSigning` (RFC 6960 §4.2.2.2).
const ID_KP_OCSP_SIGNING: der::asn1::ObjectIdentifier = const_oid::db::rfc5280::ID_KP_OCSP_SIGNING;

/// Revocation data about one certificate.
#[derive(Clone, Debug, Default)]
pub struct RevocationData {
    /// CRLs of its issuer.
    pub crls: Vec<CertificateList>,
    /// OCSP responses (DER `OCSPResponse`) about it.
    pub ocsp_responses: Vec<Vec<u8>>,
}

/// Where revocation data comes from.
pub trait RevocationSource: Send + Sync {
    /// Revocation data about `certificate`, issued by `issuer`. Whatever is
    /// returned has been checked to be signed by the issuer (or its
    /// delegated OCSP responder) and to be about this certificate.
    fn revocation_data(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
    ) -> Result<RevocationData, CadesError>;
}

fn revocation_error(reason: impl Into<String>) -> CadesError {
    CadesError::Revocation {
        reason: reason.into(),
    }
}

/// Fetches CRLs from the certificate's CRL distribution points and OCSP
/// responses from its AIA OCSP responders, over plain HTTP.
#[derive(Clone, Debug)]
pub struct HttpRevocationSource {
    /// Timeouts, retries and size limit.
    pub settings: HttpSettings,
    /// Fetch CRLs.
    pub use_crl: bool,
    /// Ask OCSP responders.
    pub use_ocsp: bool,
}

impl Default for HttpRevocationSource {
    fn default() -> Self {
        Self {
            settings: HttpSettings::default(),
            use_crl: true,
            use_ocsp: true,
        }
    }
}

fn uris(names: &[GeneralName]) -> impl Iterator<Item = String> + '_ {
    names.iter().filter_map(|n| match n {
        GeneralName::UniformResourceIdentifier(uri) => Some(uri.as_str().to_owned()),
        _ => None,
    })
}

/// The OCSP CertID of `certificate` (SHA-256 hashes).
pub fn cert_id(certificate: &Certificate, issuer: &Certificate) -> Result<CertId, CadesError> {
    cert_id_with(HashAlgorithm::Sha256, certificate, issuer)
}

fn cert_id_with(
    hash: HashAlgorithm,
    certificate: &Certificate,
    issuer: &Certificate,
) -> Result<CertId, CadesError> {
    let issuer_tbs = issuer.tbs_certificate();
    Ok(CertId {
        hash_algorithm: digest_algorithm(hash),
        issuer_name_hash: OctetString::new(hash.digest(&issuer_tbs.subject().to_der()?))?,
        issuer_key_hash: OctetString::new(
            hash.digest(
                issuer_tbs
                    .subject_public_key_info()
                    .subject_public_key
                    .raw_bytes(),
            ),
        )?,
        serial_number: certificate.tbs_certificate().serial_number().clone(),
    })
}

/// `data` hashed with the CertID's hash: SHA-1 or one of [`HashAlgorithm`].
fn id_digest(algorithm: &spki::AlgorithmIdentifierOwned, data: &[u8]) -> Option<Vec<u8>> {
    if algorithm.oid == const_oid::db::rfc5912::ID_SHA_1 {
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
        return Some(digest.as_ref().to_vec());
    }
    hash_of(algorithm).map(|hash| hash.digest(data))
}

/// What an OCSP response says about a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    /// Not revoked.
    Good,
    /// Revoked at this time.
    Revoked(SystemTime),
}

/// Checks an `OCSPResponse` about `certificate` (from `issuer`): successful,
/// basic, signed by the issuer or by a responder certificate the issuer
/// signed with the OCSPSigning EKU, and naming this certificate. `None` if
/// it is not usable.
pub fn ocsp_status(
    response: &[u8],
    certificate: &Certificate,
    issuer: &Certificate,
) -> Option<OcspStatus> {
    let response = OcspResponse::from_der(response).ok()?;
    if response.response_status != OcspResponseStatus::Successful {
        return None;
    }
    let bytes = response.response_bytes?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return None;
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).ok()?;
    let tbs = basic.tbs_response_data.to_der().ok()?;
    let signed_by_issuer = verify_signature(
        issuer,
        &basic.signature_algorithm,
        &tbs,
        basic.signature.raw_bytes(),
    );
    let signed_by_delegate = || {
        basic.certs.iter().flatten().any(|responder| {
            signed_by(responder, issuer)
                && matches!(responder.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
                    Ok(Some((_, eku))) if eku.0.contains(&ID_KP_OCSP_SIGNING))
                && verify_signature(
                    responder,
                    &basic.signature_algorithm,
                    &tbs,
                    basic.signature.raw_bytes(),
                )
        })
    };
    if !signed_by_issuer && !signed_by_delegate() {
        return None;
    }
    let issuer_tbs = issuer.tbs_certificate();
    let issuer_name = issuer_tbs.subject().to_der().ok()?;
    let issuer_key = issuer_tbs
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes();
    basic.tbs_response_data.responses.iter().find_map(|single| {
        // The CertID only names the certificate; SHA-1 (what OpenSSL and
        // many responders use) is as good as any hash for that.
        let id = &single.cert_id;
        let digest = |data: &[u8]| id_digest(&id.hash_algorithm, data);
        if id.issuer_name_hash.as_bytes() != digest(&issuer_name)?.as_slice()
            || id.issuer_key_hash.as_bytes() != digest(issuer_key)?.as_slice()
            || id.serial_number != *certificate.tbs_certificate().serial_number()
        {
            return None;
        }
        match &single.cert_status {
            CertStatus::Good(_) => Some(OcspStatus::Good),
            CertStatus::Revoked(info) => {
                Some(OcspStatus::Revoked(info.revocation_time.to_system_time()))
            }
            CertStatus::Unknown(_) => None,
        }
    })
}

/// Whether `crl` is signed by `issuer` and issued by its name.
pub fn crl_signed_by(crl: &CertificateList, issuer: &Certificate) -> bool {
    crl.tbs_cert_list.issuer == *issuer.tbs_certificate().subject()
        && crate::asn1::Crl::tbs_der(crl).is_ok_and(|tbs| {
            verify_signature(
                issuer,
                &crl.signature_algorithm,
                &tbs,
                crl.signature.raw_bytes(),
            )
        })
}

impl RevocationSource for HttpRevocationSource {
    fn revocation_data(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
    ) -> Result<RevocationData, CadesError> {
        // One deadline for every CRL and OCSP request of this certificate.
        let deadline = std::time::Instant::now() + self.settings.deadline;
        let tbs = certificate.tbs_certificate();
        let mut data = RevocationData::default();
        let mut problems = Vec::new();
        if self.use_crl
            && let Ok(Some((_, points))) = tbs.get_extension::<CrlDistributionPoints>()
        {
            for point in &points.0 {
                let Some(DistributionPointName::FullName(names)) = &point.distribution_point else {
                    continue;
                };
                for uri in uris(names) {
                    match fetch_by(&uri, None, &self.settings, deadline)
                        .map_err(|e| format!("{uri}: {e}"))
                        .and_then(|der| {
                            CertificateList::from_der(&der)
                                .map_err(|_| format!("{uri}: not a DER CRL"))
                        }) {
                        Ok(crl) if crl_signed_by(&crl, issuer) => data.crls.push(crl),
                        Ok(_) => problems.push(format!("{uri}: CRL not signed by the issuer")),
                        Err(e) => problems.push(e),
                    }
                }
            }
        }
        if self.use_ocsp
            && let Ok(Some((_, access))) = tbs.get_extension::<AuthorityInfoAccessSyntax>()
        {
            let request = OcspRequest {
                tbs_request: TbsRequest {
                    request_list: vec![Request {
                        req_cert: cert_id(certificate, issuer)?,
                    }],
                    request_extensions: None,
                },
            }
            .to_der()?;
            let locations: Vec<GeneralName> = access
                .0
                .iter()
                .filter(|d| d.access_method == ID_AD_OCSP)
                .map(|d| d.access_location.clone())
                .collect();
            for uri in uris(&locations) {
                match fetch_by(
                    &uri,
                    Some(("application/ocsp-request", &request)),
                    &self.settings,
                    deadline,
                ) {
                    Ok(response) if ocsp_status(&response, certificate, issuer).is_some() => {
                        data.ocsp_responses.push(response)
                    }
                    Ok(_) => problems.push(format!("{uri}: unusable OCSP response")),
                    Err(e) => problems.push(format!("{uri}: {e}")),
                }
            }
        }
        if data.crls.is_empty() && data.ocsp_responses.is_empty() {
            return Err(revocation_error(if problems.is_empty() {
                format!(
                    "{} names no CRL distribution point or OCSP responder",
                    tbs.subject()
                )
            } else {
                problems.join("; ")
            }));
        }
        Ok(data)
    }
}
