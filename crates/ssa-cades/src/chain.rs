//! Certificate paths: from a certificate to a trust anchor, valid at a
//! given time (RFC 5280 §6, the parts a signature verifier needs: names,
//! signatures, validity, basicConstraints, keyUsage, CRLs).

use std::time::SystemTime;

use der::Encode;
use ssa_types::PublicKey;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::algorithm::signature_from_id;

/// Why no acceptable path was found. The most specific reason met on the
/// way is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainFailure {
    /// No path ends at a trust anchor.
    NoPath,
    /// A certificate on the path is not valid yet at the validation time.
    NotYetValid {
        /// Its subject.
        subject: String,
    },
    /// A certificate on the path has expired at the validation time.
    Expired {
        /// Its subject.
        subject: String,
    },
    /// An issuing certificate is not a CA, or may not sign certificates.
    NotCa {
        /// Its subject.
        subject: String,
    },
    /// A certificate on the path is revoked at the validation time.
    Revoked {
        /// Its subject.
        subject: String,
    },
    /// A certificate's or CRL's signature does not verify or uses an unknown algorithm.
    BadSignature {
        /// The subject of the signed certificate.
        subject: String,
    },
}

impl ChainFailure {
    fn rank(&self) -> u8 {
        match self {
            Self::NoPath => 0,
            Self::BadSignature { .. } => 1,
            Self::NotCa { .. } => 2,
            Self::NotYetValid { .. } | Self::Expired { .. } => 3,
            Self::Revoked { .. } => 4,
        }
    }
}

/// What was found about revocation along the path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RevocationCoverage {
    /// Certificates on the path (anchor excluded) for which a valid CRL of
    /// their issuer was available.
    pub covered: usize,
    /// Certificates on the path (anchor excluded).
    pub total: usize,
}

/// Whether `cert`'s signature verifies under `issuer`'s key.
pub(crate) fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    verify_signature(
        issuer,
        cert.signature_algorithm(),
        &tbs,
        cert.signature().raw_bytes(),
    )
}

/// Whether `signature` over `data` verifies under `issuer`'s key with `algorithm`.
pub(crate) fn verify_signature(
    issuer: &Certificate,
    algorithm: &spki::AlgorithmIdentifierOwned,
    data: &[u8],
    signature: &[u8],
) -> bool {
    let Some(algorithm) = signature_from_id(algorithm, None) else {
        return false;
    };
    let Ok(spki) = issuer.tbs_certificate().subject_public_key_info().to_der() else {
        return false;
    };
    PublicKey::from_spki_der(&spki)
        .is_some_and(|key| key.verify(algorithm, data, signature).is_ok())
}

pub(crate) fn subject(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}

fn validity_failure(cert: &Certificate, at: SystemTime) -> Option<ChainFailure> {
    let validity = cert.tbs_certificate().validity();
    if at < SystemTime::from(&validity.not_before) {
        return Some(ChainFailure::NotYetValid {
            subject: subject(cert),
        });
    }
    if at > SystemTime::from(&validity.not_after) {
        return Some(ChainFailure::Expired {
            subject: subject(cert),
        });
    }
    None
}

fn may_issue(cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    let ca = matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    let key_usage_ok = match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) => ku.key_cert_sign(),
        Ok(None) => true,
        Err(_) => false,
    };
    ca && key_usage_ok
}

/// Revocation values a path is checked against.
#[derive(Clone, Copy, Debug, Default)]
pub struct RevocationValues<'a> {
    /// CRLs.
    pub crls: &'a [CertificateList],
    /// OCSP responses (DER `OCSPResponse`).
    pub ocsp: &'a [Vec<u8>],
}

/// (revoked at or before `at`, covered by some valid revocation data).
fn revoked(
    cert: &Certificate,
    issuer: &Certificate,
    values: RevocationValues<'_>,
    at: SystemTime,
) -> (bool, bool) {
    let mut covered = false;
    for crl in values.crls {
        if !crate::revocation::crl_signed_by(crl, issuer) {
            continue;
        }
        covered = true;
        let serial = cert.tbs_certificate().serial_number();
        let hit = crl
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .any(|entry| {
                entry.serial_number == *serial && SystemTime::from(&entry.revocation_date) <= at
            });
        if hit {
            return (true, true);
        }
    }
    for response in values.ocsp {
        match crate::revocation::ocsp_status(response, cert, issuer) {
            Some(crate::revocation::OcspStatus::Revoked(when)) if when <= at => {
                return (true, true);
            }
            Some(_) => covered = true,
            None => {}
        }
    }
    (false, covered)
}

/// Finds a path from `leaf` through `pool` to one of `anchors`, every
/// certificate valid at `at`, and checks revocation against `revocation`.
/// Returns the path (leaf first, anchor last) and the revocation coverage.
pub fn validate(
    leaf: &Certificate,
    pool: &[Certificate],
    anchors: &[Certificate],
    revocation: RevocationValues<'_>,
    at: SystemTime,
) -> Result<(Vec<Certificate>, RevocationCoverage), ChainFailure> {
    let mut worst = ChainFailure::NoPath;
    let note = |failure: ChainFailure, worst: &mut ChainFailure| {
        if failure.rank() > worst.rank() {
            *worst = failure;
        }
    };
    let mut path = vec![leaf.clone()];
    let mut coverage = RevocationCoverage::default();
    for _depth in 0..8 {
        let current = path.last().cloned().unwrap_or_else(|| leaf.clone());
        if let Some(failure) = validity_failure(&current, at) {
            note(failure, &mut worst);
            return Err(worst);
        }
        if anchors.iter().any(|a| a == &current) {
            return Ok((path, coverage));
        }
        let issuer_name = current.tbs_certificate().issuer();
        let candidates = anchors
            .iter()
            .chain(pool.iter())
            .filter(|c| c.tbs_certificate().subject() == issuer_name && *c != &current);
        let mut next = None;
        for candidate in candidates {
            if !signed_by(&current, candidate) {
                note(
                    ChainFailure::BadSignature {
                        subject: subject(&current),
                    },
                    &mut worst,
                );
                continue;
            }
            if !may_issue(candidate) {
                note(
                    ChainFailure::NotCa {
                        subject: subject(candidate),
                    },
                    &mut worst,
                );
                continue;
            }
            next = Some(candidate.clone());
            break;
        }
        let Some(issuer) = next else {
            return Err(worst);
        };
        coverage.total += 1;
        let (is_revoked, covered) = revoked(&current, &issuer, revocation, at);
        if is_revoked {
            return Err(ChainFailure::Revoked {
                subject: subject(&current),
            });
        }
        if covered {
            coverage.covered += 1;
        }
        path.push(issuer);
    }
    Err(worst)
}
