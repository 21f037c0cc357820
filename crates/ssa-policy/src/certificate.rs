//! Is this certificate fit to sign with, for this key, at this time?

use std::time::SystemTime;

use const_oid::db::{rfc5912, rfc8410};
use der::asn1::{Any, ObjectIdentifier, UintRef};
use der::{Decode, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use crate::PolicyError;
use crate::algorithm::Key;

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

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// What the checks found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateReport {
    /// The key type.
    pub key: Key,
    /// keyUsage has nonRepudiation (contentCommitment).
    pub non_repudiation: bool,
    /// The QC statements present (their ids), if any.
    pub qc_statements: Vec<ObjectIdentifier>,
}

/// The key type of a DER SubjectPublicKeyInfo.
pub fn key_of(spki: &spki::SubjectPublicKeyInfoOwned) -> Key {
    match spki.algorithm.oid {
        rfc5912::ID_EC_PUBLIC_KEY => match spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        {
            Some(rfc5912::SECP_256_R_1) => Key::EcP256,
            Some(rfc5912::SECP_384_R_1) => Key::EcP384,
            _ => Key::Other,
        },
        rfc8410::ID_ED_25519 => Key::Ed25519,
        rfc5912::RSA_ENCRYPTION => spki
            .subject_public_key
            .as_bytes()
            .and_then(|bytes| RsaPublicKey::from_der(bytes).ok())
            .map(|rsa| {
                let modulus = rsa.modulus.as_bytes();
                let bits =
                    modulus.len() * 8 - modulus.first().map_or(8, |b| b.leading_zeros() as usize);
                Key::Rsa(u32::try_from(bits).unwrap_or(0))
            })
            .unwrap_or(Key::Other),
        _ => Key::Other,
    }
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
        key: key_of(spki),
        non_repudiation: key_usage.non_repudiation(),
        qc_statements,
    })
}
