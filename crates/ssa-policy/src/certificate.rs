//! Is this certificate fit to sign with, for this key, at this time?

use std::time::SystemTime;

use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Encode, Sequence};
use ssa_types::{KeyAlgorithm, PublicKey};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::PolicyError;

/// `id-pe-qcStatements` (RFC 3739 §3.2.6).
pub const ID_PE_QC_STATEMENTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.3");
/// `id-etsi-qcs-QcCompliance` (ETSI EN 319 412-5): a qualified certificate.
pub const ID_ETSI_QCS_QC_COMPLIANCE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.1862.1.1");
/// `id-etsi-qcs-QcSSCD` (ETSI EN 319 412-5): the key is in a QSCD.
pub const ID_ETSI_QCS_QC_SSCD: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.1862.1.4");

/// `QCStatement ::= SEQUENCE { statementId OBJECT IDENTIFIER, statementInfo ANY OPTIONAL }`
/// (RFC 3739 §3.2.6).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct QcStatement {
    /// What the statement says.
    pub statement_id: ObjectIdentifier,
    /// Its details.
    #[asn1(optional = "true")]
    pub statement_info: Option<Any>,
}

/// What the checks found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateReport {
    /// The key type, if it is one ssa knows (it always is for a
    /// certificate that passed: its key is the SCDev key's).
    pub key: Option<KeyAlgorithm>,
    /// keyUsage has nonRepudiation (contentCommitment).
    pub non_repudiation: bool,
    /// The QC statements present (their ids), if any.
    pub qc_statements: Vec<ObjectIdentifier>,
}

/// Checks that `certificate` may carry signatures made with the SCDev key
/// whose public key is `key_spki` (DER), at `at`: the keys are the same,
/// keyUsage is present and allows nonRepudiation or digitalSignature, it is
/// not a CA certificate, and it is valid at `at`. QC statements are
/// reported when present. The most specific failure is returned.
pub fn check_signing_certificate(
    certificate: &Certificate,
    key_spki: &[u8],
    at: SystemTime,
) -> Result<CertificateReport, PolicyError> {
    let tbs = certificate.tbs_certificate();
    let spki = tbs.subject_public_key_info();
    let der = spki
        .to_der()
        .map_err(|_| PolicyError::Malformed { what: "public key" })?;
    if der != key_spki {
        return Err(PolicyError::KeyMismatch);
    }
    if matches!(tbs.get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca) {
        return Err(PolicyError::CaCertificate);
    }
    let key_usage = match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, ku))) => ku,
        Ok(None) => {
            return Err(PolicyError::KeyUsage {
                reason: "no keyUsage extension",
            });
        }
        Err(_) => return Err(PolicyError::Malformed { what: "keyUsage" }),
    };
    if !(key_usage.non_repudiation() || key_usage.digital_signature()) {
        return Err(PolicyError::KeyUsage {
            reason: "neither nonRepudiation nor digitalSignature",
        });
    }
    let validity = tbs.validity();
    if at < SystemTime::from(&validity.not_before) {
        return Err(PolicyError::NotYetValid);
    }
    if at > SystemTime::from(&validity.not_after) {
        return Err(PolicyError::Expired);
    }
    let mut qc_statements = Vec::new();
    for extension in tbs.extensions().into_iter().flatten() {
        if extension.extn_id == ID_PE_QC_STATEMENTS {
            let statements = Vec::<QcStatement>::from_der(extension.extn_value.as_bytes())
                .map_err(|_| PolicyError::Malformed {
                    what: "qcStatements",
                })?;
            qc_statements.extend(statements.into_iter().map(|s| s.statement_id));
        }
    }
    Ok(CertificateReport {
        key: PublicKey::from_spki_der(&der).map(|k| k.algorithm),
        non_repudiation: key_usage.non_repudiation(),
        qc_statements,
    })
}
