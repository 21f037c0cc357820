//! A throw-away certification authority for the quickstart: its key lives in
//! a soft SCDev, and it issues X.509 v3 certificates (RFC 5280) from
//! PKCS#10 requests after checking their signatures.

use std::time::{Duration, SystemTime};

use der::asn1::{BitString, OctetString};
use der::{Decode, Encode, Sequence};
use ssa::scdev::soft::SoftScdev;
use ssa::scdev::{KeyEncryptionKey, KeyId, KeySpec};
use ssa::{HashAlgorithm, KeyAlgorithm, PublicKey, Scdev, SignInput, SignatureAlgorithm};
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

pub(crate) struct Ca {
    scdev: SoftScdev,
    key: KeyId,
    name: Name,
    key_identifier: OctetString,
    pub(crate) certificate: Certificate,
    next_serial: std::cell::Cell<u8>,
}

fn key_identifier(
    spki: &SubjectPublicKeyInfoOwned,
) -> Result<OctetString, Box<dyn std::error::Error>> {
    let bits = spki.subject_public_key.raw_bytes();
    Ok(OctetString::new(&HashAlgorithm::Sha256.digest(bits)[..20])?)
}

fn validity(now: SystemTime, days: u64) -> Result<Validity, Box<dyn std::error::Error>> {
    let start = now - Duration::from_secs(300);
    let end = now + Duration::from_secs(days * 86_400);
    Ok(Validity::new(
        Time::from(der::DateTime::from_system_time(start)?),
        Time::from(der::DateTime::from_system_time(end)?),
    ))
}

/// Signs a TBSCertificate with the CA key: the certificate, DER-decoded.
/// The CA's key and name, which sign every certificate.
struct Issuer<'a> {
    scdev: &'a SoftScdev,
    key: &'a KeyId,
    name: &'a Name,
}

fn sign(
    issuer: Issuer<'_>,
    subject: Name,
    spki: SubjectPublicKeyInfoOwned,
    serial: u8,
    validity: Validity,
    extensions: Vec<Extension>,
) -> Result<Certificate, Box<dyn std::error::Error>> {
    let algorithm = ssa::cades::algorithm::signature_algorithm(ALGORITHM)?;
    let tbs = TbsCertificate {
        version: 2,
        serial_number: SerialNumber::new(&[serial])?,
        signature: algorithm.clone(),
        issuer: issuer.name.clone(),
        validity,
        subject,
        subject_public_key_info: spki,
        extensions: Some(extensions),
    };
    let signature = issuer
        .scdev
        .sign(issuer.key, ALGORITHM, SignInput::Message(&tbs.to_der()?))?;
    let der = RawCertificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature)?,
    }
    .to_der()?;
    Ok(Certificate::from_der(&der)?)
}

impl Ca {
    /// A new CA named `name`, valid for ten years from `now`.
    pub(crate) fn new(name: &str, now: SystemTime) -> Result<Self, Box<dyn std::error::Error>> {
        let scdev = SoftScdev::in_memory(KeyEncryptionKey::generate()?);
        let key = KeyId::new(b"quickstart-ca".to_vec())?;
        let info = scdev.generate_key(&key, "quickstart CA", KeySpec::new(KeyAlgorithm::EcP256))?;
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
        let certificate = sign(
            Issuer {
                scdev: &scdev,
                key: &key,
                name: &name,
            },
            name.clone(),
            spki,
            1,
            validity(now, 3650)?,
            extensions,
        )?;
        Ok(Self {
            scdev,
            key,
            name,
            key_identifier,
            certificate,
            next_serial: std::cell::Cell::new(2),
        })
    }

    /// Issues a signing certificate (nonRepudiation + digitalSignature) for a
    /// PKCS#10 request, after checking the request's signature.
    pub(crate) fn issue(
        &self,
        csr_der: &[u8],
        now: SystemTime,
    ) -> Result<Certificate, Box<dyn std::error::Error>> {
        let csr = CertReq::from_der(csr_der)?;
        let key = PublicKey::from_spki_der(&csr.info.public_key.to_der()?)
            .ok_or("unsupported key in the CSR")?;
        let algorithm = ssa::cades::algorithm::signature_from_id(&csr.algorithm, None)
            .ok_or("unsupported CSR algorithm")?;
        key.verify(algorithm, &csr.info.to_der()?, csr.signature.raw_bytes())
            .map_err(|_| "the CSR's signature does not verify: no proof of possession")?;
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
        let serial = self.next_serial.get();
        self.next_serial.set(serial.wrapping_add(1));
        sign(
            Issuer {
                scdev: &self.scdev,
                key: &self.key,
                name: &self.name,
            },
            subject,
            csr.info.public_key,
            serial,
            validity(now, 365)?,
            extensions,
        )
    }
}

/// PEM of a DER certificate (RFC 7468).
pub(crate) fn pem(der: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    let body = Base64::encode_string(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
