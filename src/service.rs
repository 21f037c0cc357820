//! The signing service: enrolment, certificates, authorization, activation
//! and signing, every step audited. No path reaches the SCDev's signing
//! key without an `Activation` from the SAM (the CSR at enrolment is the
//! one signature made without, over the request itself).

use core::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use ssa_audit::{AuditLog, Entry, Event, Outcome};
use ssa_cades::{
    Document, RevocationSource, SignatureTemplate, SignedAttributeOptions, TimeStampAuthority,
    TsaFailure, VerificationReport, VerifyOptions,
};
use ssa_policy::{AlgorithmPolicy, Level, RequestPolicy};
use ssa_sad::{
    ActivationRequest, AuthorizationRequest, Authorized, DeviceKey, HashAlg, Pin, Sad, SadError,
    SadIssuer, SadVerifier, Scal, SigningMode, TotpConfig, TotpSeed,
};
use ssa_scdev::{
    HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, Scdev, SignInput, SignatureAlgorithm,
};
use x509_cert::Certificate;
use x509_cert::name::Name;

use crate::ServiceError;
use crate::registry::{CredentialRecord, CredentialRegistry};

/// The signature algorithm the service uses for a key.
pub fn signature_algorithm_for(key: KeyAlgorithm) -> SignatureAlgorithm {
    match key {
        KeyAlgorithm::EcP384 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        KeyAlgorithm::Ed25519 => SignatureAlgorithm::Ed25519,
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256)
        }
        _ => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
    }
}

fn sad_hash(hash: HashAlgorithm) -> HashAlg {
    match hash {
        HashAlgorithm::Sha384 => HashAlg::Sha384,
        HashAlgorithm::Sha512 => HashAlg::Sha512,
        _ => HashAlg::Sha256,
    }
}

fn policy_key(key: KeyAlgorithm) -> ssa_policy::Key {
    match key {
        KeyAlgorithm::EcP256 => ssa_policy::Key::EcP256,
        KeyAlgorithm::EcP384 => ssa_policy::Key::EcP384,
        KeyAlgorithm::Ed25519 => ssa_policy::Key::Ed25519,
        other => other
            .rsa_bits()
            .map_or(ssa_policy::Key::Other, |b| ssa_policy::Key::Rsa(b as u32)),
    }
}

fn policy_hash(hash: HashAlgorithm) -> ssa_policy::Hash {
    match hash {
        HashAlgorithm::Sha384 => ssa_policy::Hash::Sha384,
        HashAlgorithm::Sha512 => ssa_policy::Hash::Sha512,
        _ => ssa_policy::Hash::Sha256,
    }
}

fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `what` if the request `needs` it: refused when it is not configured.
fn needed<'a, T: ?Sized>(
    needs: bool,
    what: Option<&'a T>,
    reason: &'static str,
) -> Result<Option<&'a T>, ServiceError> {
    match (needs, what) {
        (false, _) => Ok(None),
        (true, Some(what)) => Ok(Some(what)),
        (true, None) => Err(ServiceError::BadRequest { reason }),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a credential signs with: its key in the SCDev, the key's
/// algorithm and the signature algorithm for it.
fn signing_key(
    record: &CredentialRecord,
) -> Result<(KeyId, KeyAlgorithm, SignatureAlgorithm), ServiceError> {
    let key = key_id_of(record)?;
    let key_algorithm = ssa_scdev::PublicKey::from_spki_der(&record.public_key)
        .ok_or(ServiceError::Corrupt { what: "public key" })?
        .algorithm;
    Ok((key, key_algorithm, signature_algorithm_for(key_algorithm)))
}

fn scal_of(level: u8) -> Scal {
    if level >= 2 { Scal::Scal2 } else { Scal::Scal1 }
}

/// What one signing request may use once [`SigningService::precheck`]
/// passed: nothing here has touched the SAD or the key yet.
struct SigningContext {
    record: CredentialRecord,
    certificate: Certificate,
    chain: Vec<Certificate>,
    key: KeyId,
    algorithm: SignatureAlgorithm,
    /// The hash of the digests the SAD must bind.
    hash: HashAlgorithm,
    /// The SCAL the SAD must meet: the credential's or the policy's, the higher.
    scal: Scal,
}

fn key_id_of(record: &CredentialRecord) -> Result<KeyId, ServiceError> {
    let bytes: Option<Vec<u8>> = (0..record.key_id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(record.key_id.get(i..i + 2)?, 16).ok())
        .collect();
    KeyId::new(bytes.ok_or(ServiceError::Corrupt { what: "key id" })?).map_err(ServiceError::from)
}

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
    /// The SCAL the credential requires.
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

/// Options of one signing request.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// The level to produce.
    pub level: Level,
    /// Optional signed attributes.
    pub attributes: SignedAttributeOptions,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            level: Level::BB,
            attributes: SignedAttributeOptions::default(),
        }
    }
}

/// Where a provider keeps delegations in its own database (electronic
/// delegation, type d): attribute certificates (DER) for a credential.
pub trait DelegationSource: Send + Sync {
    /// The attribute certificates that currently apply to `credential`.
    fn delegations(&self, credential: &str) -> Result<Vec<Vec<u8>>, ServiceError>;
}

/// The pieces a [`SigningService`] is built from.
pub struct SigningServiceBuilder {
    scdev: Arc<dyn Scdev>,
    sam: SadVerifier,
    registry: Arc<dyn CredentialRegistry>,
    audit: Arc<AuditLog>,
    issuer: Option<SadIssuer>,
    anchors: Vec<Certificate>,
    algorithms: AlgorithmPolicy,
    requests: RequestPolicy,
    tsa: Option<Box<dyn TimeStampAuthority>>,
    revocation: Option<Box<dyn RevocationSource>>,
    attribute_authorities: Vec<Certificate>,
    delegation_source: Option<Box<dyn DelegationSource>>,
}

impl SigningServiceBuilder {
    /// The mandatory pieces: the SCDev, the SAM, the credential registry and the audit log.
    pub fn new(
        scdev: Arc<dyn Scdev>,
        sam: SadVerifier,
        registry: Arc<dyn CredentialRegistry>,
        audit: Arc<AuditLog>,
    ) -> Self {
        Self {
            scdev,
            sam,
            registry,
            audit,
            issuer: None,
            anchors: Vec::new(),
            algorithms: AlgorithmPolicy::default(),
            requests: RequestPolicy::default(),
            tsa: None,
            revocation: None,
            attribute_authorities: Vec::new(),
            delegation_source: None,
        }
    }

    /// Attribute authorities trusted to issue delegation attribute
    /// certificates (a company's representative, a delegation provider).
    pub fn attribute_authorities(mut self, authorities: Vec<Certificate>) -> Self {
        self.attribute_authorities = authorities;
        self
    }

    /// A provider's database of delegations.
    pub fn delegation_source(mut self, source: Box<dyn DelegationSource>) -> Self {
        self.delegation_source = Some(source);
        self
    }

    /// The built-in SAD issuer (authenticator).
    pub fn issuer(mut self, issuer: SadIssuer) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// Trust anchors for certificate chains.
    pub fn anchors(mut self, anchors: Vec<Certificate>) -> Self {
        self.anchors = anchors;
        self
    }

    /// The algorithm policy.
    pub fn algorithms(mut self, policy: AlgorithmPolicy) -> Self {
        self.algorithms = policy;
        self
    }

    /// The request policy.
    pub fn requests(mut self, policy: RequestPolicy) -> Self {
        self.requests = policy;
        self
    }

    /// A TSA, for B-T and above.
    pub fn tsa(mut self, tsa: Box<dyn TimeStampAuthority>) -> Self {
        self.tsa = Some(tsa);
        self
    }

    /// A revocation source, for B-LT.
    pub fn revocation(mut self, source: Box<dyn RevocationSource>) -> Self {
        self.revocation = Some(source);
        self
    }

    /// The service. Enrolments already in the registry are loaded into the issuer.
    pub fn build(self) -> Result<SigningService, ServiceError> {
        if let Some(issuer) = &self.issuer {
            for record in self.registry.list()? {
                issuer.restore(&record.id, record.factors.clone())?;
            }
        }
        Ok(SigningService { inner: self })
    }
}

/// The remote signing service. See the [module documentation](self).
pub struct SigningService {
    inner: SigningServiceBuilder,
}

impl fmt::Debug for SigningService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningService")
            .field("scdev", &self.inner.scdev)
            .field("sam", &self.inner.sam)
            .field("registry", &self.inner.registry)
            .field("audit", &self.inner.audit)
            .finish_non_exhaustive()
    }
}

impl SigningService {
    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.inner.audit
    }

    /// Appends `entry` with the outcome of `result` (the error's message on
    /// failure: typed errors carry no secrets), then returns `result`.
    fn audited<T>(
        &self,
        entry: Entry,
        now: SystemTime,
        result: Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut entry = entry;
        entry.outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Failure(e.to_string()),
        };
        self.inner.audit.append(entry, secs(now))?;
        result
    }

    fn credential(&self, id: &str) -> Result<CredentialRecord, ServiceError> {
        let record =
            self.inner
                .registry
                .get(id)?
                .ok_or_else(|| ServiceError::UnknownCredential {
                    credential: id.to_owned(),
                })?;
        if record.disabled {
            return Err(ServiceError::CredentialDisabled {
                credential: id.to_owned(),
            });
        }
        Ok(record)
    }

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
        let issuer = self.inner.issuer.as_ref().ok_or(ServiceError::NoIssuer)?;
        let required = self.inner.requests.scal_for(&request.credential);
        if request.scal.level() < required {
            return Err(ssa_policy::PolicyError::ScalBelowPolicy {
                required,
                credential: request.scal.level(),
            }
            .into());
        }
        if self.inner.registry.get(&request.credential)?.is_some() {
            return Err(ServiceError::CredentialExists {
                credential: request.credential,
            });
        }
        let key = KeyId::new(request.credential.as_bytes().to_vec())?;
        let info = self
            .inner
            .scdev
            .generate_key(&key, &request.signer, request.key)?;
        let algorithm = signature_algorithm_for(info.algorithm);
        let csr = crate::csr::certification_request(
            &*self.inner.scdev,
            &key,
            &info.public_key,
            algorithm,
            request.subject,
        )?;
        let factors = issuer.enroll(ssa_sad::Enrolment {
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
            scal: request.scal.level(),
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
        let leaf = chain.first().ok_or(ServiceError::BadRequest {
            reason: "empty chain",
        })?;
        ssa_policy::check_signing_certificate(leaf, &record.public_key, now)?;
        ssa_cades::chain::validate(
            leaf,
            &chain[1..],
            &self.inner.anchors,
            Default::default(),
            now,
        )
        .map_err(|e| ServiceError::Chain {
            reason: format!("{e:?}"),
        })?;
        let ders = chain
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ServiceError::Corrupt {
                what: "certificate",
            })?;
        self.inner
            .registry
            .update(credential, &mut |r| r.chain = ders.clone())?;
        Ok(())
    }

    /// Authenticates the signer with the built-in issuer and mints a SAD.
    /// A failure that locks the credential is followed by a lockout record.
    pub fn authorize(
        &self,
        request: &AuthorizationRequest<'_>,
        now: SystemTime,
    ) -> Result<Authorized, ServiceError> {
        let methods: Vec<String> = [
            request.factors.pin.as_ref().map(|_| "pin"),
            request.factors.otp.as_ref().map(|_| "otp"),
            request.factors.device.as_ref().map(|_| "pop"),
        ]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect();
        let result = self
            .inner
            .issuer
            .as_ref()
            .ok_or(ServiceError::NoIssuer)
            .and_then(|issuer| {
                issuer
                    .authorize(request, ssa_sad::UnixTime(secs(now)))
                    .map_err(ServiceError::from)
            });
        if let Err(ServiceError::Sad(SadError::AuthenticationFailed { locked: true, .. })) = &result
        {
            self.inner.audit.append(
                Entry::new(Event::Lockout, "authenticator", Outcome::Success)
                    .credential(request.credential),
                secs(now),
            )?;
        }
        let sad_id = result
            .as_ref()
            .map(|a| a.sad_id.clone())
            .unwrap_or_default();
        let entry = Entry::new(
            Event::Authorization { sad_id, methods },
            request.credential,
            Outcome::Success,
        )
        .credential(request.credential)
        .digests(request.digests.iter().map(Vec::as_slice));
        self.audited(entry, now, result)
    }

    /// Unlocks a locked credential (an administrator's act).
    pub fn unlock(
        &self,
        credential: &str,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let result = self
            .inner
            .issuer
            .as_ref()
            .ok_or(ServiceError::NoIssuer)
            .and_then(|i| i.unlock(credential).map_err(ServiceError::from));
        self.audited(
            Entry::new(Event::Unlock, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }

    /// Disables a credential for good (an administrator's act).
    pub fn disable(
        &self,
        credential: &str,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let result = self
            .inner
            .registry
            .update(credential, &mut |r| r.disabled = true)
            .map(|_| ());
        self.audited(
            Entry::new(Event::CredentialDisabled, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }

    /// Sets the credential's claimed role and delegation attribute
    /// certificates, after checking each: its holder is the credential's
    /// certificate, it is valid now, a trusted attribute authority signed it.
    pub fn set_delegation(
        &self,
        credential: &str,
        claimed_role: Option<String>,
        certificates: Vec<Vec<u8>>,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let entry = Entry::new(
            Event::Delegation {
                count: certificates.len() as u64,
                certificates_sha256: certificates
                    .iter()
                    .map(|c| hex(&HashAlgorithm::Sha256.digest(c)))
                    .collect(),
            },
            admin,
            Outcome::Success,
        )
        .credential(credential);
        let result = (|| {
            let record = self.credential(credential)?;
            let holder = record
                .chain
                .first()
                .ok_or_else(|| ServiceError::NoCertificate {
                    credential: credential.to_owned(),
                })
                .and_then(|der| {
                    Certificate::from_der(der).map_err(|_| ServiceError::Corrupt {
                        what: "certificate",
                    })
                })?;
            for der in &certificates {
                ssa_cades::delegation::check_delegation(
                    der,
                    &holder,
                    &self.inner.attribute_authorities,
                    now,
                )?;
            }
            self.inner.registry.update(credential, &mut |r| {
                r.claimed_role = claimed_role.clone();
                r.delegations = certificates.clone();
            })?;
            Ok(())
        })();
        self.audited(entry, now, result)
    }

    /// The signer-attributes-v2 value for a signature by `record` at `now`:
    /// the claimed role and every delegation, each checked again at the
    /// signing time. `None` if there is nothing to carry.
    fn signer_attributes(
        &self,
        record: &CredentialRecord,
        certificate: &Certificate,
        now: SystemTime,
    ) -> Result<Option<ssa_cades::asn1::SignerAttributesV2>, ServiceError> {
        use ssa_cades::asn1::{CertifiedAttributeChoice, OpaqueSequence, SignerAttributeChoice};
        let mut delegations = record.delegations.clone();
        if let Some(source) = &self.inner.delegation_source {
            delegations.extend(source.delegations(&record.id)?);
        }
        let mut value = Vec::new();
        if let Some(role) = &record.claimed_role {
            let text = der::asn1::Utf8StringRef::new(role)
                .map_err(|_| ServiceError::BadRequest { reason: "role" })?;
            let any = der::asn1::Any::from_der(
                &text
                    .to_der()
                    .map_err(|_| ServiceError::BadRequest { reason: "role" })?,
            )
            .map_err(|_| ServiceError::BadRequest { reason: "role" })?;
            value.push(SignerAttributeChoice::ClaimedAttributes(vec![
                x509_cert::attr::Attribute {
                    // id-at-role (X.520 / RFC 5755 §4.4.5).
                    oid: der::asn1::ObjectIdentifier::new_unwrap("2.5.4.72"),
                    values: der::asn1::SetOfVec::try_from(vec![any])
                        .map_err(|_| ServiceError::BadRequest { reason: "role" })?,
                },
            ]));
        }
        if !delegations.is_empty() {
            let mut certified = Vec::new();
            for der in &delegations {
                ssa_cades::delegation::check_delegation(
                    der,
                    certificate,
                    &self.inner.attribute_authorities,
                    now,
                )?;
                let sequence =
                    OpaqueSequence::from_der_sequence(der).map_err(|_| ServiceError::Corrupt {
                        what: "attribute certificate",
                    })?;
                certified.push(CertifiedAttributeChoice::AttributeCertificate(sequence));
            }
            value.push(SignerAttributeChoice::CertifiedAttributesV2(certified));
        }
        Ok((!value.is_empty()).then_some(value))
    }

    /// Exports the credential's key wrapped under the SCDev's backup key
    /// (only for keys generated backup-able; never in plaintext).
    pub fn backup_key(
        &self,
        credential: &str,
        admin: &str,
        now: SystemTime,
    ) -> Result<ssa_scdev::WrappedKey, ServiceError> {
        let result = self
            .credential(credential)
            .and_then(|record| key_id_of(&record))
            .and_then(|key| {
                self.inner
                    .scdev
                    .export_wrapped(&key)
                    .map_err(ServiceError::from)
            });
        self.audited(
            Entry::new(Event::KeyBackup, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }

    /// Restores the credential's key from a backup made for it; the
    /// restored key must be the credential's (same public key).
    pub fn restore_key(
        &self,
        credential: &str,
        backup: &ssa_scdev::WrappedKey,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let result = (|| {
            let record = self.credential(credential)?;
            if backup.key_info().public_key != record.public_key {
                return Err(ServiceError::BadRequest {
                    reason: "the backup holds another key than the credential's",
                });
            }
            let key = key_id_of(&record)?;
            self.inner.scdev.import_wrapped(&key, backup)?;
            Ok(())
        })();
        self.audited(
            Entry::new(Event::KeyRestore, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }

    /// Appends, in one durable write, the activation and the signature
    /// record of a signing that succeeded; each lists every digest signed.
    fn record_signatures(
        &self,
        credential: &str,
        record: &CredentialRecord,
        activation: &ssa_sad::Activation,
        level: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let digests = || activation.digests().iter().map(Vec::as_slice);
        let entries = vec![
            Entry::new(
                Event::Activation {
                    sad_id: Some(activation.sad_id().to_owned()),
                },
                record.signer.clone(),
                Outcome::Success,
            )
            .credential(credential)
            .digests(digests()),
            Entry::new(
                Event::Signature {
                    sad_id: activation.sad_id().to_owned(),
                    level: level.to_owned(),
                },
                record.signer.clone(),
                Outcome::Success,
            )
            .credential(credential)
            .digests(digests()),
        ];
        self.inner.audit.append_all(entries, secs(now))?;
        Ok(())
    }

    /// Records a refused signing request and returns its error. The SAD's id
    /// is read (its signature checked) only here, off the signing path, and
    /// only from a SAD a trusted issuer signed.
    fn record_refusal<T>(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        now: SystemTime,
        error: ServiceError,
    ) -> Result<T, ServiceError> {
        let sad_id = self
            .inner
            .sam
            .verify_token(sad, ssa_sad::UnixTime(secs(now)))
            .map(|claims| claims.jti)
            .ok();
        let entry = Entry::new(Event::Activation { sad_id }, credential, Outcome::Success)
            .credential(credential)
            .digests(digests.iter().map(Vec::as_slice));
        self.audited(entry, now, Err(error))
    }

    /// The one check every signing request passes before its SAD is looked
    /// at, whatever the mode: the credential exists and is enabled; the
    /// request policy (digest count; the level, for documents); a
    /// certificate is installed, parses, is valid at `now`, is for the
    /// credential's key and allows signing; the algorithm policy; the SCAL
    /// the policy requires. Each mode's signing path starts here, so no
    /// path to the key can skip a check.
    fn precheck(
        &self,
        credential: &str,
        mode: SigningMode,
        digests: usize,
        level: Option<Level>,
        now: SystemTime,
    ) -> Result<SigningContext, ServiceError> {
        let record = self.credential(credential)?;
        match level {
            Some(level) => self.inner.requests.check(level, digests)?,
            None => self.inner.requests.check_digests(digests)?,
        }
        let der = record
            .chain
            .first()
            .ok_or_else(|| ServiceError::NoCertificate {
                credential: credential.to_owned(),
            })?;
        let certificate = Certificate::from_der(der).map_err(|_| ServiceError::Corrupt {
            what: "certificate",
        })?;
        let chain: Vec<Certificate> = record.chain[1..]
            .iter()
            .map(|d| Certificate::from_der(d))
            .collect::<Result<_, _>>()
            .map_err(|_| ServiceError::Corrupt {
                what: "certificate",
            })?;
        let (key, key_algorithm, algorithm) = signing_key(&record)?;
        let hash = match mode {
            SigningMode::Document => ssa_cades::algorithm::signer_digest(algorithm),
            SigningMode::Dtbsr => algorithm.hash().ok_or(ServiceError::BadRequest {
                reason: "this key signs messages, not digests",
            })?,
        };
        self.inner.algorithms.check(
            ssa_policy::Suite {
                key: policy_key(key_algorithm),
                hash: policy_hash(hash),
            },
            now,
        )?;
        ssa_policy::check_signing_certificate(&certificate, &record.public_key, now)?;
        let required = self.inner.requests.scal_for(credential);
        if record.scal < required {
            return Err(ssa_policy::PolicyError::ScalBelowPolicy {
                required,
                credential: record.scal,
            }
            .into());
        }
        let scal = scal_of(record.scal.max(required));
        Ok(SigningContext {
            record,
            certificate,
            chain,
            key,
            algorithm,
            hash,
            scal,
        })
    }

    /// The SAM's verdict on `sad` for a request the pre-check passed.
    fn activate(
        &self,
        context: &SigningContext,
        mode: SigningMode,
        sad: &Sad,
        digests: &[Vec<u8>],
        now: SystemTime,
    ) -> Result<ssa_sad::Activation, ServiceError> {
        Ok(self.inner.sam.activate(
            sad,
            &ActivationRequest {
                credential: &context.record.id,
                signer: &context.record.signer,
                mode,
                credential_scal: context.scal,
                hash_alg: sad_hash(context.hash),
                digests,
            },
            ssa_sad::UnixTime(secs(now)),
        )?)
    }

    /// Signs documents, given their digests (document-digest mode): the SAD
    /// must authorize exactly these digests for this credential, in
    /// [`SigningMode::Document`]. Returns one CAdES signature per digest,
    /// all recorded in the audit log (one signature record listing every
    /// digest) before they are returned.
    pub fn sign_documents(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.sign_documents_inner(credential, sad, digests, options, now)
            .or_else(|error| self.record_refusal(credential, sad, digests, now, error))
    }

    fn sign_documents_inner(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        let context = self.precheck(
            credential,
            SigningMode::Document,
            digests.len(),
            Some(options.level),
            now,
        )?;
        let mut attributes = options.attributes.clone();
        if attributes.signer_attributes.is_none() {
            attributes.signer_attributes =
                self.signer_attributes(&context.record, &context.certificate, now)?;
        }
        // What the level needs is checked before the key is activated.
        let tsa = needed(
            options.level >= Level::BT,
            self.inner.tsa.as_deref(),
            "no TSA configured",
        )?;
        let revocation = needed(
            options.level >= Level::BLt,
            self.inner.revocation.as_deref(),
            "no revocation source configured",
        )?;
        let activation = self.activate(&context, SigningMode::Document, sad, digests, now)?;
        // From here the activation is held: dropping it on error releases the digests.
        // What the signatures share is encoded once; the SCDev opens the key
        // once for all the digests the SAD authorized.
        let template = SignatureTemplate::new(
            &context.certificate,
            &context.chain,
            context.algorithm,
            now,
            attributes,
        )?;
        let batch = template.sign_all(activation.digests(), |dtbs| {
            let inputs: Vec<SignInput<'_>> = dtbs
                .iter()
                .map(|d| SignInput::Message(d.as_ref()))
                .collect();
            Ok(self
                .inner
                .scdev
                .sign_many(&context.key, context.algorithm, &inputs)?)
        })?;
        let mut signatures = Vec::with_capacity(batch.len());
        for mut signature in batch {
            if let Some(tsa) = tsa {
                signature = ssa_cades::add_signature_time_stamp(
                    &signature,
                    tsa,
                    HashAlgorithm::Sha256,
                    TsaFailure::Fail,
                )?
                .signature;
            }
            if let Some(source) = revocation {
                signature =
                    ssa_cades::add_validation_data(&signature, &self.inner.anchors, source, now)?;
            }
            signatures.push(signature);
        }
        let level = format!("{:?}", options.level);
        self.record_signatures(credential, &context.record, &activation, &level, now)?;
        activation.commit()?;
        Ok(signatures)
    }

    /// Signs DTBS/R digests the client computed (raw-hash mode, CSC
    /// signHash): the SAD binds them in [`SigningMode::Dtbsr`]; the SCDev
    /// signs each digest. The same pre-check as for documents runs first.
    /// Each signature is recorded in the audit log (level `raw`) before the
    /// values are returned.
    pub fn sign_hashes(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.sign_hashes_inner(credential, sad, hashes, now)
            .or_else(|error| self.record_refusal(credential, sad, hashes, now, error))
    }

    fn sign_hashes_inner(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        let context = self.precheck(credential, SigningMode::Dtbsr, hashes.len(), None, now)?;
        let activation = self.activate(&context, SigningMode::Dtbsr, sad, hashes, now)?;
        let inputs: Vec<SignInput<'_>> = activation
            .digests()
            .iter()
            .map(|value| SignInput::Digest {
                hash: context.hash,
                value,
            })
            .collect();
        let out = self
            .inner
            .scdev
            .sign_many(&context.key, context.algorithm, &inputs)?;
        // On disk before the values are returned; the SAD is spent after.
        self.record_signatures(credential, &context.record, &activation, "raw", now)?;
        activation.commit()?;
        Ok(out)
    }

    /// Verifies a signature against the service's trust anchors.
    pub fn verify(
        &self,
        signature: &[u8],
        document: Document<'_>,
        now: SystemTime,
    ) -> VerificationReport {
        let options = VerifyOptions::new(&self.inner.anchors, now)
            .with_attribute_authorities(&self.inner.attribute_authorities);
        ssa_cades::verify(signature, document, &options)
    }
}
