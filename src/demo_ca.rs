//! A throw-away certification authority for demonstrations and tests (the
//! quickstart, the CSC server's `--demo`): its key lives in an SCDev, and
//! it issues X.509 v3 signing certificates (RFC 5280) from PKCS#10
//! requests after checking their signatures. Not a CA to trust with
//! anything real: no revocation, no policy, no records.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use der::asn1::{BitString, OctetString};
use der::{Decode, Encode, Sequence};
use ssa_scdev::{HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, Scdev, SignInput};
use ssa_types::{PublicKey, SignatureAlgorithm};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::request::CertReq;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

const ALGORITHM: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

/// Why the demonstration CA could not issue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoCaError {
    /// The SCDev holding the CA key failed.
    #[error("SCDev: {0}")]
    Scdev(#[from] ssa_scdev::ScdevError),
    /// Encoding or decoding a certificate or request failed.
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    /// The request was refused.
    #[error("certification request refused: {reason}")]
    Request {
        /// Why.
        reason: &'static str,
    },
}

/// `TBSCertificate` (RFC 5280 §4.1), built here because x509-cert keeps its
/// fields private without its `builder` feature.
#[derive(Sequence)]
struct TbsCertificate {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// `Certificate` (RFC 5280 §4.1).
#[derive(Sequence)]
struct RawCertificate {
    tbs_certificate: TbsCertificate,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// A throw-away CA. See the [module documentation](self).
pub struct DemoCa {
    scdev: Arc<dyn Scdev>,
    key: KeyId,
    key_identifier: OctetString,
    certificate: Certificate,
}

impl core::fmt::Debug for DemoCa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DemoCa")
            .field("key", &self.key)
            .field("subject", &self.certificate.tbs_certificate().subject())
            .finish_non_exhaustive()
    }
}

fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Result<OctetString, DemoCaError> {
    let bits = spki.subject_public_key.raw_bytes();
    Ok(OctetString::new(&HashAlgorithm::Sha256.digest(bits)[..20])?)
}

fn validity(now: SystemTime, days: u64) -> Result<Validity, DemoCaError> {
    let start = now - Duration::from_secs(300);
    let end = now + Duration::from_secs(days * 86_400);
    Ok(Validity::new(
        Time::from(der::DateTime::from_system_time(start)?),
        Time::from(der::DateTime::from_system_time(end)?),
    ))
}

/// A positive 16-byte serial, unique per subject key and time.
fn serial(spki: &SubjectPublicKeyInfoOwned, now: SystemTime) -> Result<SerialNumber, DemoCaError> {
    let mut input = spki.to_der()?;
    let nanos = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    input.extend_from_slice(&nanos.to_be_bytes());
    let mut bytes = HashAlgorithm::Sha256.digest(&input);
    bytes.truncate(16);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::new(&bytes)?)
}

impl DemoCa {
    /// A new CA named `name` (e.g. `"CN=demo CA,O=throw-away"`), valid for
    /// ten years from `now`, its P-256 key generated in `scdev` as `key`.
    pub fn create(
        scdev: Arc<dyn Scdev>,
        key: KeyId,
        name: &str,
        now: SystemTime,
    ) -> Result<Self, DemoCaError> {
        let info = scdev.generate_key(&key, "demo CA", KeySpec::new(KeyAlgorithm::EcP256))?;
        let spki = SubjectPublicKeyInfoOwned::from_der(&info.public_key)?;
        let name: Name = name.parse()?;
        let key_identifier = key_identifier(&spki)?;
        let extensions = vec![
            (&BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            })
                .to_extension(&name, &[])?,
            (&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)).to_extension(&name, &[])?,
            SubjectKeyIdentifier(key_identifier.clone()).to_extension(&name, &[])?,
        ];
        let serial = serial(&spki, now)?;
        let tbs = TbsCertificate {
            version: 2,
            serial_number: serial,
            signature: ssa_cades::algorithm::signature_algorithm(ALGORITHM)?,
            issuer: name.clone(),
            validity: validity(now, 3650)?,
            subject: name,
            subject_public_key_info: spki,
            extensions: Some(extensions),
        };
        let certificate = sign(scdev.as_ref(), &key, tbs)?;
        Ok(Self {
            scdev,
            key,
            key_identifier,
            certificate,
        })
    }

    /// The CA made earlier by [`DemoCa::create`]: its key `key` in `scdev`
    /// and its certificate.
    pub fn open(
        scdev: Arc<dyn Scdev>,
        key: KeyId,
        certificate: Certificate,
    ) -> Result<Self, DemoCaError> {
        let key_identifier = key_identifier(
            &certificate
                .tbs_certificate()
                .subject_public_key_info()
                .clone(),
        )?;
        Ok(Self {
            scdev,
            key,
            key_identifier,
            certificate,
        })
    }

    /// The CA's own certificate (the trust anchor of what it issues).
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Issues a signing certificate (nonRepudiation + digitalSignature),
    /// valid for a year from `now`, for a PKCS#10 request, after checking
    /// the request's signature (proof of possession).
    pub fn issue(&self, csr_der: &[u8], now: SystemTime) -> Result<Certificate, DemoCaError> {
        let csr = CertReq::from_der(csr_der)?;
        let key = PublicKey::from_spki_der(&csr.info.public_key.to_der()?).ok_or(
            DemoCaError::Request {
                reason: "unsupported key",
            },
        )?;
        let algorithm = ssa_cades::algorithm::signature_from_id(&csr.algorithm, None).ok_or(
            DemoCaError::Request {
                reason: "unsupported signature algorithm",
            },
        )?;
        key.verify(algorithm, &csr.info.to_der()?, csr.signature.raw_bytes())
            .map_err(|_| DemoCaError::Request {
                reason: "its signature does not verify: no proof of possession",
            })?;
        let subject = csr.info.subject.clone();
        let extensions = vec![
            (&BasicConstraints {
                ca: false,
                path_len_constraint: None,
            })
                .to_extension(&subject, &[])?,
            (&KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation))
                .to_extension(&subject, &[])?,
            SubjectKeyIdentifier(key_identifier(&csr.info.public_key)?)
                .to_extension(&subject, &[])?,
            (&AuthorityKeyIdentifier {
                key_identifier: Some(self.key_identifier.clone()),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            })
                .to_extension(&subject, &[])?,
        ];
        let tbs = TbsCertificate {
            version: 2,
            serial_number: serial(&csr.info.public_key, now)?,
            signature: ssa_cades::algorithm::signature_algorithm(ALGORITHM)?,
            issuer: self.certificate.tbs_certificate().subject().clone(),
            validity: validity(now, 365)?,
            subject,
            subject_public_key_info: csr.info.public_key,
            extensions: Some(extensions),
        };
        sign(self.scdev.as_ref(), &self.key, tbs)
    }
}

/// Signs `tbs` with the CA key: the certificate, DER-decoded.
fn sign(scdev: &dyn Scdev, key: &KeyId, tbs: TbsCertificate) -> Result<Certificate, DemoCaError> {
    let signature = scdev.sign(key, ALGORITHM, SignInput::Message(&tbs.to_der()?))?;
    let algorithm = tbs.signature.clone();
    let der = RawCertificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature)?,
    }
    .to_der()?;
    Ok(Certificate::from_der(&der)?)
}

/// PEM of a DER certificate (RFC 7468).
pub fn certificate_pem(der: &[u8]) -> String {
    let body = <base64ct::Base64 as base64ct::Encoding>::encode_string(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
