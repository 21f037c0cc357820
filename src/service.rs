//! The signing service: what it is built from, and what every flow shares.
//! The flows live beside this file, one each: enrolment, authorization,
//! signing, administration, and what a server reads about credentials.
//! No path reaches the SCDev's signing key without an `Activation` from
//! the SAM (the CSR at enrolment is the one signature made without, over
//! the request itself).

use core::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ssa_audit::{AuditLog, Entry, Outcome};
use ssa_cades::{RevocationSource, TimeStampAuthority};
use ssa_policy::{AlgorithmPolicy, RequestPolicy};
use ssa_sad::{SadIssuer, SadVerifier};
use ssa_scdev::{HashAlgorithm, KeyAlgorithm, KeyId, Scdev, SignatureAlgorithm};
use x509_cert::Certificate;

use crate::ServiceError;
use ssa_store::CredentialStore;

use crate::registry::{CredentialRecord, CredentialRegistry, RegistryEnrolments};

/// The signature algorithm the service uses for a key by default; `None`
/// for a key kind it has no default for (one added to the vocabulary
/// later), which is then refused rather than guessed.
pub fn signature_algorithm_for(key: KeyAlgorithm) -> Option<SignatureAlgorithm> {
    match key {
        KeyAlgorithm::EcP256 => Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256)),
        KeyAlgorithm::EcP384 => Some(SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384)),
        KeyAlgorithm::Ed25519 => Some(SignatureAlgorithm::Ed25519),
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            Some(SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256))
        }
        _ => None,
    }
}

pub(crate) fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    ssa_store::durable::hex(bytes)
}

pub(crate) fn key_id_of(record: &CredentialRecord) -> Result<KeyId, ServiceError> {
    let bytes = ssa_store::durable::unhex(&record.key_id);
    KeyId::new(bytes.ok_or(ServiceError::Corrupt { what: "key id" })?).map_err(ServiceError::from)
}

/// Where a provider keeps delegations in its own database (electronic
/// delegation, type d): attribute certificates (DER) for a credential.
pub trait DelegationSource: Send + Sync {
    /// The attribute certificates that currently apply to `credential`.
    fn delegations(&self, credential: &str) -> Result<Vec<Vec<u8>>, ServiceError>;
}

/// The pieces a [`SigningService`] is built from.
pub struct SigningServiceBuilder {
    pub(crate) scdev: Arc<dyn Scdev>,
    pub(crate) sam: SadVerifier,
    pub(crate) registry: CredentialRegistry,
    pub(crate) audit: Arc<AuditLog>,
    pub(crate) issuer: Option<SadIssuer>,
    pub(crate) anchors: Vec<Certificate>,
    pub(crate) tsa_anchors: Option<Vec<Certificate>>,
    pub(crate) algorithms: AlgorithmPolicy,
    pub(crate) requests: RequestPolicy,
    pub(crate) tsa: Option<Box<dyn TimeStampAuthority>>,
    pub(crate) revocation: Option<Box<dyn RevocationSource>>,
    pub(crate) attribute_authorities: Vec<Certificate>,
    pub(crate) delegation_source: Option<Box<dyn DelegationSource>>,
    pub(crate) augment_concurrency: usize,
}

/// Time-stamps (and revocation data) of one batch fetched at once, by
/// default: a batch against a slow TSA costs about one request.
pub const DEFAULT_AUGMENT_CONCURRENCY: usize = 8;

impl SigningServiceBuilder {
    /// The mandatory pieces: the SCDev, the SAM, the store the credential
    /// registry keeps its records in, and the audit log (over a file,
    /// memory, or another crate's `AuditSink`).
    pub fn new(
        scdev: Arc<dyn Scdev>,
        sam: SadVerifier,
        credentials: Arc<dyn CredentialStore>,
        audit: Arc<AuditLog>,
    ) -> Self {
        Self {
            scdev,
            sam,
            registry: CredentialRegistry::new(credentials),
            audit,
            issuer: None,
            anchors: Vec::new(),
            tsa_anchors: None,
            algorithms: AlgorithmPolicy::default(),
            requests: RequestPolicy::default(),
            tsa: None,
            revocation: None,
            attribute_authorities: Vec::new(),
            delegation_source: None,
            augment_concurrency: DEFAULT_AUGMENT_CONCURRENCY,
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

    /// Trust anchors for TSAs, apart from the signers' (by default a
    /// time-stamp must chain to [`Self::anchors`]): a TSA from another
    /// PKI is trusted for time-stamps only.
    pub fn tsa_anchors(mut self, anchors: Vec<Certificate>) -> Self {
        self.tsa_anchors = Some(anchors);
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

    /// How many signatures of one batch are time-stamped (and given their
    /// revocation data) at once (default [`DEFAULT_AUGMENT_CONCURRENCY`];
    /// 1: one after another). Each request has its own deadline
    /// (`HttpSettings::deadline` of the TSA and the revocation source).
    pub fn augment_concurrency(mut self, concurrency: usize) -> Self {
        self.augment_concurrency = concurrency.max(1);
        self
    }

    /// A revocation source, for B-LT.
    pub fn revocation(mut self, source: Box<dyn RevocationSource>) -> Self {
        self.revocation = Some(source);
        self
    }

    /// The service. The issuer reads enrolments from the credential
    /// registry (each record carries its sealed factors) whatever enrolment
    /// store it was built with, so every process or node sharing the
    /// registry authorizes every credential enrolled in it, at once.
    pub fn build(mut self) -> Result<SigningService, ServiceError> {
        let registry = self.registry.clone();
        self.issuer = self
            .issuer
            .map(|issuer| issuer.with_enrolment_store(Arc::new(RegistryEnrolments(registry))));
        Ok(SigningService {
            inner: self,
            owed: std::sync::Mutex::new(Vec::new()),
            prepared: crate::prepared::PreparedCache::default(),
        })
    }
}

/// The remote signing service. See the [module documentation](self).
pub struct SigningService {
    pub(crate) inner: SigningServiceBuilder,
    /// Records the audit log could not take when they were due (a
    /// `Withheld` record after a failed ledger commit, on a log that then
    /// stopped): written first by [`SigningService::recover_audit`].
    pub(crate) owed: std::sync::Mutex<Vec<Entry>>,
    /// Credential records parsed once per version (`prepared.rs`).
    pub(crate) prepared: crate::prepared::PreparedCache,
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

    /// After the audit log stopped on a failure (a full disk, a failed
    /// fsync: [`ssa_audit::AuditError::Stopped`]) and the cause is
    /// fixed: cuts what was never confirmed, records the cut, then writes
    /// the records owed from the failure (a signature withheld), all at
    /// `now`. The service signs again afterwards. Does nothing on a log
    /// that is running with nothing owed. See docs/operations.md.
    pub fn recover_audit(&self, now: SystemTime) -> Result<(), ServiceError> {
        self.inner.audit.recover(secs(now))?;
        self.settle_owed(now)
    }

    /// Whether the service can sign now: the audit log runs (it has not
    /// stopped on a failure), the SCDev answers a key look-up, the
    /// credential registry answers a read. For a server's readiness probe;
    /// it changes nothing.
    pub fn readiness(&self) -> Result<(), ServiceError> {
        if let Some(reason) = self.inner.audit.stopped() {
            return Err(ServiceError::Audit(ssa_audit::AuditError::Stopped {
                reason,
            }));
        }
        let probe = KeyId::new(b"ssa readiness probe".to_vec())?;
        self.inner.scdev.find_key(&probe)?;
        self.inner.registry.get("ssa readiness probe")?;
        Ok(())
    }

    /// Writes the records owed to the audit log, if any.
    pub(crate) fn settle_owed(&self, now: SystemTime) -> Result<(), ServiceError> {
        let mut owed = self
            .owed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !owed.is_empty() {
            self.inner.audit.append_all(owed.clone(), secs(now))?;
            owed.clear();
        }
        Ok(())
    }

    /// Appends `entry` with the outcome of `result` (the error's message on
    /// failure: typed errors carry no secrets), then returns `result`.
    pub(crate) fn audited<T>(
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

    pub(crate) fn credential(&self, id: &str) -> Result<CredentialRecord, ServiceError> {
        self.credential_for(id, None)
    }

    /// [`SigningService::credential`], of `signer` if named: another
    /// signer's credential is refused as one that does not exist, before
    /// anything else about it (disabled or not) is told.
    pub(crate) fn credential_for(
        &self,
        id: &str,
        signer: Option<&str>,
    ) -> Result<CredentialRecord, ServiceError> {
        self.prepared_for(id, signer)
            .map(|prepared| prepared.record.clone())
    }

    /// [`SigningService::credential_for`], parsed for signing: the record
    /// is read from its store every time and parsed once per version.
    pub(crate) fn prepared_for(
        &self,
        id: &str,
        signer: Option<&str>,
    ) -> Result<std::sync::Arc<crate::prepared::Prepared>, ServiceError> {
        let unknown = || ServiceError::UnknownCredential {
            credential: id.to_owned(),
        };
        let stored = self.inner.registry.get_stored(id)?.ok_or_else(unknown)?;
        let prepared = self.prepared.prepare(&stored)?;
        let record = &prepared.record;
        if signer.is_some_and(|signer| signer != record.signer) {
            return Err(unknown());
        }
        if record.disabled {
            return Err(ServiceError::CredentialDisabled {
                credential: id.to_owned(),
            });
        }
        Ok(prepared)
    }
}
