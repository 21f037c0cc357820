//! Building CAdES baseline signatures (ETSI EN 319 122-1 §5, B-B level).
//!
//! Signed attributes: content-type, message-digest, signing-time,
//! signing-certificate-v2 (never v1), CMS algorithm protection, and the
//! optional policy, commitment type, signer-attributes-v2, content hints
//! and mime type. They are DER-sorted once, and the signature is computed
//! over exactly the bytes stored in the SignerInfo.

use std::time::SystemTime;

use cms::cert::IssuerAndSerialNumber;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier, SignerInfo, SignerInfos};

use crate::asn1::{CertificateChoices, SignedData};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use ssa_types::{HashAlgorithm, SignatureAlgorithm};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::time::Time;

use crate::CadesError;
use crate::algorithm::{digest_algorithm, signature_algorithm, signer_digest};
use crate::asn1::{
    CmsAlgorithmProtection, CommitmentTypeIndication, ContentHints, EssCertIdV2, IssuerSerial,
    SignaturePolicyIdentifier, SignerAttributesV2, SigningCertificateV2,
};
use crate::oid;
use crate::signer::DtbsSigner;

/// Optional signed attributes.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SignedAttributeOptions {
    /// signature-policy-identifier.
    pub policy: Option<SignaturePolicyIdentifier>,
    /// commitment-type-indication.
    pub commitment: Option<CommitmentTypeIndication>,
    /// signer-attributes-v2 (claimed roles, attribute certificates).
    pub signer_attributes: Option<SignerAttributesV2>,
    /// content-hints.
    pub content_hints: Option<ContentHints>,
    /// mime-type of the document.
    pub mime_type: Option<String>,
}

impl SignedAttributeOptions {
    /// Whether no optional attribute is set: a signature carries only the
    /// mandatory signed attributes.
    pub fn is_empty(&self) -> bool {
        let Self {
            policy,
            commitment,
            signer_attributes,
            content_hints,
            mime_type,
        } = self;
        policy.is_none()
            && commitment.is_none()
            && signer_attributes.is_none()
            && content_hints.is_none()
            && mime_type.is_none()
    }
}

/// What to sign and as whom.
#[derive(Clone, Debug)]
pub struct SignatureParameters<'a> {
    /// The signer's certificate.
    pub certificate: &'a Certificate,
    /// The rest of the chain (intermediates; the anchor may be left out).
    pub chain: &'a [Certificate],
    /// The signature algorithm the signer will use.
    pub algorithm: SignatureAlgorithm,
    /// The hash of `digest`: the signature algorithm's (SHA-512 for Ed25519).
    pub hash: HashAlgorithm,
    /// The document digest (the message-digest attribute).
    pub digest: &'a [u8],
    /// The signing time, a parameter (the claimed time of signing).
    pub signing_time: SystemTime,
    /// The document itself, to embed (enveloping); `None` for detached.
    pub content: Option<&'a [u8]>,
    /// Optional signed attributes.
    pub options: SignedAttributeOptions,
}

/// A signature whose signed attributes are fixed and whose signature value
/// is still to come (raw-hash mode: the DTBS goes to the signer, the
/// signature value comes back).
#[derive(Clone, Debug)]
pub struct PreparedSignature {
    algorithm: SignatureAlgorithm,
    signed_attrs: SetOfVec<Attribute>,
    dtbs: Vec<u8>,
    signed_data: SignedData,
    sid: SignerIdentifier,
    digest_alg: AlgorithmIdentifierOwned,
    signature_alg: AlgorithmIdentifierOwned,
}

fn attribute(
    oid: der::asn1::ObjectIdentifier,
    value: &impl Encode,
) -> Result<Attribute, CadesError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![Any::from_der(&value.to_der()?)?])?,
    })
}

/// The digest of a document read as a stream (64 KiB at a time), for
/// [`SignatureParameters::digest`]: a large document need not be in memory.
pub fn digest_reader(
    hash: HashAlgorithm,
    reader: &mut dyn std::io::Read,
) -> std::io::Result<Vec<u8>> {
    let mut context = ring::digest::Context::new(hash.ring_algorithm());
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            return Ok(context.finish().as_ref().to_vec());
        }
        context.update(&buffer[..n]);
    }
}

/// The ESS reference to `certificate`: SHA-256 of its DER, issuer and serial.
pub fn ess_cert_id(certificate: &Certificate) -> Result<EssCertIdV2, CadesError> {
    let der = certificate.to_der()?;
    Ok(EssCertIdV2 {
        hash_algorithm: None,
        cert_hash: OctetString::new(HashAlgorithm::Sha256.digest(&der))?,
        issuer_serial: Some(IssuerSerial {
            issuer: vec![GeneralName::DirectoryName(
                certificate.tbs_certificate().issuer().clone(),
            )],
            serial_number: certificate.tbs_certificate().serial_number().clone(),
        }),
    })
}

pub(crate) fn certificate_set(
    certificates: impl IntoIterator<Item = Certificate>,
) -> Result<SetOfVec<CertificateChoices>, CadesError> {
    with_certificates(None, certificates)
}

/// `existing` (every choice kept, attribute certificates included) with
/// `certificates` added, each once.
pub(crate) fn with_certificates(
    existing: Option<&SetOfVec<CertificateChoices>>,
    certificates: impl IntoIterator<Item = Certificate>,
) -> Result<SetOfVec<CertificateChoices>, CadesError> {
    let mut set = existing.cloned().unwrap_or_default();
    for certificate in certificates {
        let choice = CertificateChoices::Certificate(certificate);
        if !set.iter().any(|c| *c == choice) {
            set.insert(choice)?;
        }
    }
    Ok(set)
}

/// The signed attributes a CAdES B-B signature carries for `params`, in
/// no particular order (they are DER-sorted when prepared).
pub fn signed_attributes(params: &SignatureParameters<'_>) -> Result<Vec<Attribute>, CadesError> {
    let expected = signer_digest(params.algorithm);
    if params.hash != expected {
        return Err(CadesError::DigestAlgorithm {
            signature: params.algorithm,
            expected,
            given: params.hash,
        });
    }
    if params.digest.len() != params.hash.digest_len() {
        return Err(CadesError::DigestLength {
            hash: params.hash,
            expected: params.hash.digest_len(),
            actual: params.digest.len(),
        });
    }
    if let Some(content) = params.content
        && params.hash.digest(content) != params.digest
    {
        return Err(CadesError::ContentMismatch);
    }
    let digest_alg = digest_algorithm(params.hash);
    let signature_alg = signature_algorithm(params.algorithm)?;
    let signing_time = Time::from(
        der::DateTime::from_system_time(params.signing_time)
            .map_err(|_| CadesError::SigningTime)?,
    );
    let mut attrs = vec![
        attribute(oid::ID_CONTENT_TYPE, &oid::ID_DATA)?,
        attribute(oid::ID_MESSAGE_DIGEST, &OctetString::new(params.digest)?)?,
        attribute(oid::ID_SIGNING_TIME, &signing_time)?,
        attribute(
            oid::ID_AA_SIGNING_CERTIFICATE_V2,
            &SigningCertificateV2 {
                certs: vec![ess_cert_id(params.certificate)?],
                policies: None,
            },
        )?,
        attribute(
            oid::ID_AA_CMS_ALGORITHM_PROTECTION,
            &CmsAlgorithmProtection {
                digest_algorithm: digest_alg,
                signature_algorithm: Some(signature_alg),
                mac_algorithm: None,
            },
        )?,
    ];
    let options = &params.options;
    if let Some(policy) = &options.policy {
        attrs.push(attribute(oid::ID_AA_ETS_SIG_POLICY_ID, policy)?);
    }
    if let Some(commitment) = &options.commitment {
        attrs.push(attribute(oid::ID_AA_ETS_COMMITMENT_TYPE, commitment)?);
    }
    if let Some(signer_attributes) = &options.signer_attributes {
        attrs.push(attribute(oid::ID_AA_ETS_SIGNER_ATTR_V2, signer_attributes)?);
    }
    if let Some(hints) = &options.content_hints {
        attrs.push(attribute(oid::ID_AA_CONTENT_HINT, hints)?);
    }
    if let Some(mime) = &options.mime_type {
        attrs.push(attribute(
            oid::ID_AA_ETS_MIME_TYPE,
            &der::asn1::Utf8StringRef::new(mime)?,
        )?);
    }
    Ok(attrs)
}

/// Fixes the signed attributes of a new signature.
pub fn prepare(params: &SignatureParameters<'_>) -> Result<PreparedSignature, CadesError> {
    let attributes = signed_attributes(params)?;
    prepare_with_attributes(
        params.certificate,
        params.chain,
        params.algorithm,
        params.content,
        attributes,
    )
}

/// Fixes signed attributes that the caller built (raw-hash mode, where the
/// client assembles them). They are DER-sorted here; nothing is checked:
/// a verifier will refuse what is missing or wrong.
pub fn prepare_with_attributes(
    certificate: &Certificate,
    chain: &[Certificate],
    algorithm: SignatureAlgorithm,
    content: Option<&[u8]>,
    attributes: Vec<Attribute>,
) -> Result<PreparedSignature, CadesError> {
    let digest_alg = digest_algorithm(signer_digest(algorithm));
    let signature_alg = signature_algorithm(algorithm)?;
    // DER-sorted once, here; these exact bytes are signed and stored.
    let signed_attrs = SetOfVec::try_from(attributes)?;
    let dtbs = signed_attrs.to_der()?;
    let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
        issuer: certificate.tbs_certificate().issuer().clone(),
        serial_number: certificate.tbs_certificate().serial_number().clone(),
    });
    let econtent = content
        .map(|c| Any::encode_from(&OctetString::new(c)?))
        .transpose()?;
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg.clone()])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oid::ID_DATA,
            econtent,
        },
        certificates: Some(certificate_set(
            std::iter::once(certificate.clone()).chain(chain.iter().cloned()),
        )?),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::new()),
    };
    Ok(PreparedSignature {
        algorithm,
        signed_attrs,
        dtbs,
        signed_data,
        sid,
        digest_alg,
        signature_alg,
    })
}

/// A prepared signature taken apart for [`crate::SignatureTemplate`].
pub(crate) struct Parts {
    pub(crate) attributes: Vec<Attribute>,
    /// DER `SignedData` with an empty `signerInfos`.
    pub(crate) signed_data_without_signers: Vec<u8>,
    /// DER of `SignerInfo`'s version, sid and digest algorithm.
    pub(crate) signer_info_head: Vec<u8>,
    /// DER of `SignerInfo.signatureAlgorithm`.
    pub(crate) signature_algorithm: Vec<u8>,
}

impl PreparedSignature {
    pub(crate) fn parts(&self) -> Result<Parts, CadesError> {
        let mut signer_info_head = CmsVersion::V1.to_der()?;
        signer_info_head.extend(self.sid.to_der()?);
        signer_info_head.extend(self.digest_alg.to_der()?);
        Ok(Parts {
            attributes: self.signed_attrs.iter().cloned().collect(),
            signed_data_without_signers: self.signed_data.to_der()?,
            signer_info_head,
            signature_algorithm: self.signature_alg.to_der()?,
        })
    }

    /// The data to be signed: the DER `SET OF Attribute` of the signed attributes.
    pub fn dtbs(&self) -> &[u8] {
        &self.dtbs
    }

    /// The DTBS/R: the digest of the DTBS under the signature's hash, what a
    /// raw-hash signer (CSC signHash) signs. `None` for Ed25519, which signs
    /// the DTBS itself.
    pub fn dtbs_digest(&self) -> Option<Vec<u8>> {
        self.algorithm.hash().map(|hash| hash.digest(&self.dtbs))
    }

    /// The signature algorithm fixed in the signed attributes.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn signer_info(&self, signature: Vec<u8>) -> Result<SignerInfo, CadesError> {
        Ok(SignerInfo {
            version: CmsVersion::V1,
            sid: self.sid.clone(),
            digest_alg: self.digest_alg.clone(),
            signed_attrs: Some(self.signed_attrs.clone()),
            signature_algorithm: self.signature_alg.clone(),
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        })
    }

    /// Assembles the signature from the signature value over [`Self::dtbs`].
    /// The value is not checked here; [`crate::verify`] does that.
    pub fn complete(self, signature: Vec<u8>) -> Result<Vec<u8>, CadesError> {
        let signer_info = self.signer_info(signature)?;
        let mut signed_data = self.signed_data;
        signed_data.signer_infos.0.insert(signer_info)?;
        Ok(ContentInfo {
            content_type: oid::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        }
        .to_der()?)
    }

    /// Adds this signature as a parallel SignerInfo to an existing
    /// SignedData (co-signing, 連署). The existing signatures keep their
    /// exact bytes, or nothing is returned.
    pub fn complete_into(self, existing: &[u8], signature: Vec<u8>) -> Result<Vec<u8>, CadesError> {
        let not = |reason| CadesError::NotExtendable { reason };
        let mut signed_data = crate::extend::parse(existing)?;
        if signed_data.encap_content_info.econtent_type != oid::ID_DATA {
            return Err(not("the signed content is not id-data"));
        }
        let before =
            crate::raw::signer_infos(existing).map_err(|_| not("malformed SignerInfos"))?;
        signed_data
            .signer_infos
            .0
            .insert(self.signer_info(signature)?)?;
        if !signed_data
            .digest_algorithms
            .iter()
            .any(|a| *a == self.digest_alg)
        {
            signed_data
                .digest_algorithms
                .insert(self.digest_alg.clone())?;
        }
        let added = self
            .signed_data
            .certificates
            .iter()
            .flat_map(|set| set.iter())
            .filter_map(|choice| match choice {
                CertificateChoices::Certificate(c) => Some(c.clone()),
                _ => None,
            })
            .collect::<Vec<_>>();
        signed_data.certificates =
            Some(with_certificates(signed_data.certificates.as_ref(), added)?);
        let out = crate::extend::reencode(existing, &signed_data)?;
        // A co-signature must leave every existing SignerInfo whole, unsigned
        // attributes (time-stamps) included.
        let after = crate::raw::signer_infos(&out)?;
        if !before.iter().all(|b| after.contains(b)) {
            return Err(not("re-encoding would change an existing signature"));
        }
        Ok(out)
    }
}

/// Builds a B-B signature: [`prepare`], sign the DTBS, complete.
pub fn sign(
    params: &SignatureParameters<'_>,
    signer: &dyn DtbsSigner,
) -> Result<Vec<u8>, CadesError> {
    if signer.algorithm() != params.algorithm {
        return Err(CadesError::NotExtendable {
            reason: "the signer's algorithm is not the one in the parameters",
        });
    }
    let prepared = prepare(params)?;
    let signature = signer.sign_dtbs(prepared.dtbs())?;
    prepared.complete(signature)
}
