//! Enrolment (registration): a key generated inside the SCDev, the
//! signer's factors, a CSR signed by the new key; then the certificate,
//! checked before it is installed.

use std::time::SystemTime;

use der::Encode;
use ssa_audit::{Entry, Event, Outcome};
use ssa_sad::{DeviceKey, Pin, Scal, TotpConfig, TotpSeed};
use ssa_scdev::{HashAlgorithm, KeyId, KeySpec};
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::registry::{CredentialRecord, CredentialRegistry};
use crate::service::{hex, signature_algorithm_for};
use crate::{ServiceError, SigningService};

/// What to enrol.
#[derive(Debug)]
pub struct EnrolmentRequest {
    /// The credential id.
    pub credential: String,
    /// The signer.
    pub signer: String,
    /// Reference to the identity-proofing evidence (kept elsewhere).
    pub evidence: String,
    /// The key to generate in the SCDev.
    pub key: KeySpec,
    /// The SCAL the credential requires (at least what the request policy
    /// requires for it).
    pub scal: Scal,
    /// The subject for the certification request.
    pub subject: Name,
    /// A PIN.
    pub pin: Option<Pin>,
    /// A TOTP authenticator.
    pub totp: Option<(TotpSeed, TotpConfig)>,
    /// A device key.
    pub device_key: Option<DeviceKey>,
}

impl SigningService {
    /// Enrols a credential: generates its key inside the SCDev, enrols the
    /// factors, stores the credential, and returns the DER PKCS#10 request
    /// signed by the new key.
    pub fn enroll(
        &self,
        request: EnrolmentRequest,
        now: SystemTime,
    ) -> Result<Vec<u8>, ServiceError> {
        let entry = Entry::new(
            Event::Enrolment {
                evidence: request.evidence.clone(),
            },
            request.signer.clone(),
            Outcome::Success,
        )
        .credential(request.credential.clone());
        let result = self.enroll_inner(request);
        self.audited(entry, now, result)
    }

    fn enroll_inner(&self, request: EnrolmentRequest) -> Result<Vec<u8>, ServiceError> {
        self.inner.issuer.as_ref().ok_or(ServiceError::NoIssuer)?;
        // Before the key is made: an id no store holds creates nothing.
        CredentialRegistry::check_id(&request.credential)?;
        let required = self.inner.requests.scal_for(&request.credential);
        if request.scal < required {
            return Err(ssa_policy::PolicyError::ScalBelowPolicy {
                required,
                credential: request.scal,
            }
            .into());
        }
        if self.inner.registry.get(&request.credential)?.is_some() {
            return Err(ServiceError::CredentialExists {
                credential: request.credential,
            });
        }
        let algorithm =
            signature_algorithm_for(request.key.algorithm).ok_or(ServiceError::UnsupportedKey {
                key: request.key.algorithm,
            })?;
        let key = KeyId::new(request.credential.as_bytes().to_vec())?;
        let info = self
            .inner
            .scdev
            .generate_key(&key, &request.signer, request.key)?;
        // Nothing half-written: if a later step fails, the key goes too.
        let result = self.enroll_with_key(request, &key, info, algorithm);
        if result.is_err() {
            let _ = self.inner.scdev.destroy_key(&key);
        }
        result
    }

    fn enroll_with_key(
        &self,
        request: EnrolmentRequest,
        key: &KeyId,
        info: ssa_scdev::KeyInfo,
        algorithm: ssa_scdev::SignatureAlgorithm,
    ) -> Result<Vec<u8>, ServiceError> {
        let issuer = self.inner.issuer.as_ref().ok_or(ServiceError::NoIssuer)?;
        let csr = crate::csr::certification_request(
            &*self.inner.scdev,
            key,
            &info.public_key,
            algorithm,
            request.subject,
        )?;
        // Sealed, not stored: the registry record below is the enrolment.
        let factors = issuer.seal(ssa_sad::Enrolment {
            credential: request.credential.clone(),
            signer: request.signer.clone(),
            scal: request.scal,
            pin: request.pin,
            totp: request.totp,
            device_key: request.device_key,
        })?;
        self.inner.registry.create(&CredentialRecord {
            id: request.credential,
            signer: request.signer,
            key_id: hex(key.as_bytes()),
            public_key: info.public_key,
            chain: Vec::new(),
            scal: request.scal,
            disabled: false,
            factors,
            claimed_role: None,
            delegations: Vec::new(),
        })?;
        Ok(csr)
    }

    /// Installs the credential's certificate chain (signer's certificate
    /// first) after checking that its key is the credential's, that it may
    /// sign, and that it chains to a trust anchor.
    pub fn install_certificate(
        &self,
        credential: &str,
        chain: &[Certificate],
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let digest = chain
            .first()
            .and_then(|c| c.to_der().ok())
            .map(|d| HashAlgorithm::Sha256.digest(&d))
            .unwrap_or_default();
        let entry = Entry::new(
            Event::CertificateInstall {
                certificate_sha256: hex(&digest),
            },
            "registrar",
            Outcome::Success,
        )
        .credential(credential);
        let result = self.install_inner(credential, chain, now);
        self.audited(entry, now, result)
    }

    fn install_inner(
        &self,
        credential: &str,
        chain: &[Certificate],
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let record = self.credential(credential)?;
        let leaf = chain.first().ok_or(ServiceError::EmptyChain)?;
        ssa_policy::check_signing_certificate(leaf, &record.public_key, now)?;
        ssa_cades::chain::validate(
            leaf,
            &chain[1..],
            &self.inner.anchors,
            Default::default(),
            now,
        )
        .map_err(ServiceError::Chain)?;
        let ders = chain
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ServiceError::Corrupt {
                what: "certificate",
            })?;
        self.inner
            .registry
            .update(credential, &|r| r.chain = ders.clone())?;
        Ok(())
    }
}
