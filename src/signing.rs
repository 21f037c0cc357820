//! Signing: one pre-check for every mode, then the SAM, then the SCDev
//! through CAdES, then the audit records, then the ledger
//! (`SigningService::deliver`).
//!
//! Every path to the key starts at [`SigningService::precheck`] and passes
//! the SAM ([`SigningService::activate`]): the document mode
//! ([`SigningService::sign_documents`]) and the raw DTBS/R mode
//! ([`SigningService::sign_hashes`]) check the same things in the same
//! order, before the SAD is looked at.

use crate::request_scope::Caller;
use std::time::SystemTime;

use ssa_audit::{Entry, Event, Outcome};
use ssa_cades::{
    Augmentation, Document, SignedAttributeOptions, VerificationReport, VerifyOptions,
};
use ssa_sad::{ActivationRequest, Sad, SigningMode};
use ssa_scdev::{HashAlgorithm, KeyAlgorithm, KeyId, SignInput, SignatureAlgorithm};
use ssa_types::{Level, Scal, UnixTime};
use x509_cert::Certificate;

use crate::registry::CredentialRecord;
use crate::service::{key_id_of, secs, signature_algorithm_for};
use crate::{ServiceError, SigningService};

/// Options of one signing request.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// The level to produce.
    pub level: Level,
    /// Optional signed attributes.
    pub attributes: SignedAttributeOptions,
    /// The signature algorithm, if not the key's default
    /// ([`signature_algorithm_for`](crate::service::signature_algorithm_for)):
    /// e.g. RSASSA-PSS for an RSA key. It must fit the key, be made by the
    /// SCDev and be allowed by the algorithm policy.
    pub algorithm: Option<SignatureAlgorithm>,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            level: Level::BB,
            attributes: SignedAttributeOptions::default(),
            algorithm: None,
        }
    }
}

/// What one signing request may use once [`SigningService::precheck`]
/// passed: nothing here has touched the SAD or the key yet.
struct SigningContext {
    /// The credential's record, parsed (its certificate and chain, its key).
    prepared: std::sync::Arc<crate::prepared::Prepared>,
    algorithm: SignatureAlgorithm,
    /// The hash of the digests the SAD must bind.
    hash: HashAlgorithm,
    /// The SCAL the SAD must meet: the credential's or the policy's, the higher.
    scal: Scal,
}

impl SigningContext {
    /// The credential's certificate (the pre-check found one).
    fn certificate(&self) -> Result<&Certificate, ServiceError> {
        self.prepared
            .certificate
            .as_ref()
            .ok_or(ServiceError::Corrupt {
                what: "certificate",
            })
    }
}

/// What a credential signs with: its key in the SCDev and the key's algorithm.
pub(crate) fn signing_key(
    record: &CredentialRecord,
) -> Result<(KeyId, KeyAlgorithm), ServiceError> {
    let key = key_id_of(record)?;
    let key_algorithm = ssa_scdev::PublicKey::from_spki_der(&record.public_key)
        .ok_or(ServiceError::Corrupt { what: "public key" })?
        .algorithm;
    Ok((key, key_algorithm))
}

/// The hash the SAD binds for `algorithm` in `mode`: for documents, the
/// CMS digest algorithm of the signer; for DTBS/R, the algorithm's own
/// hash (`None`: it signs whole messages only, as Ed25519).
pub(crate) fn bound_hash(
    algorithm: SignatureAlgorithm,
    mode: SigningMode,
) -> Option<HashAlgorithm> {
    match mode {
        SigningMode::Document => Some(ssa_cades::algorithm::signer_digest(algorithm)),
        SigningMode::Dtbsr => algorithm.hash(),
    }
}

impl SigningService {
    /// Whether a `key` key signs with `algorithm` in `mode` at `now`: the
    /// algorithm fits the key, the SCDev makes it in that mode, and the
    /// algorithm policy allows it. Returns the hash the SAD must bind. The
    /// one test behind both a request's algorithm and what
    /// [`SigningService::credential_info`] offers.
    pub(crate) fn offers(
        &self,
        key: KeyAlgorithm,
        algorithm: SignatureAlgorithm,
        mode: SigningMode,
        now: SystemTime,
    ) -> Result<HashAlgorithm, ServiceError> {
        let not_offered = ServiceError::AlgorithmNotOffered { algorithm, key };
        let capabilities = self.inner.scdev.capabilities();
        let made = match mode {
            // A CAdES signature names its algorithm in its SignerInfo.
            SigningMode::Document => {
                capabilities.can_sign_message(algorithm)
                    && ssa_cades::algorithm::signature_algorithm(algorithm).is_ok()
            }
            SigningMode::Dtbsr => capabilities.can_sign_digest(algorithm),
        };
        if !algorithm.fits(key) || !made {
            return Err(not_offered);
        }
        let hash = bound_hash(algorithm, mode).ok_or(not_offered)?;
        self.inner
            .algorithms
            .check(ssa_policy::Suite { key, hash }, now)?;
        Ok(hash)
    }

    /// The activation and the signature record of a signing that
    /// succeeded, one unit of the audit log; each lists every digest
    /// signed. Written and made durable by [`PendingSignatures::wait`].
    fn signature_records(
        credential: &str,
        record: &CredentialRecord,
        activation: &ssa_sad::Activation,
        level: &str,
        id: Option<&str>,
    ) -> Vec<Entry> {
        let digests = || activation.digests().iter().map(Vec::as_slice);
        vec![
            Entry::new(
                Event::Activation {
                    sad_id: Some(activation.sad_id().to_owned()),
                },
                record.signer.clone(),
                Outcome::Success,
            )
            .credential(credential)
            .digests(digests())
            .request(id),
            Entry::new(
                Event::Signature {
                    sad_id: activation.sad_id().to_owned(),
                    level: level.to_owned(),
                },
                record.signer.clone(),
                Outcome::Success,
            )
            .credential(credential)
            .digests(digests())
            .request(id),
        ]
    }

    /// Holds the signatures of a signing that succeeded until they may be
    /// delivered ([`PendingSignatures::wait`]), in the one order that makes
    /// it all or nothing (docs/operations.md):
    ///
    /// 1. the activation and the signature records, one unit of the audit
    ///    log, written and made durable by `wait` (the units of the
    ///    requests waited for together are written with one append, and
    ///    many requests' units share one fsync); if that fails the log
    ///    stops, nothing is returned, and the activation, dropped, gives
    ///    the SAD back;
    /// 2. the SAD spent in the ledger, durably; if that fails a `Withheld`
    ///    record follows the signature record, the SAD is given back, and
    ///    nothing is returned ([`ServiceError::Withheld`]);
    /// 3. only then does `wait` return the signatures.
    ///
    /// A log that has stopped refuses here, before anything is held. A
    /// crash before 1 leaves no record and no signature delivered; one
    /// between 1 and 2 leaves a signature record, no signature delivered;
    /// either way the SAD stays reserved until an administrator releases
    /// it ([`SigningService::release_stale_reservations`]).
    #[allow(clippy::too_many_arguments)] // what the records say, and the signatures
    fn pend<'s>(
        &'s self,
        credential: &str,
        record: &CredentialRecord,
        activation: ssa_sad::Activation,
        level: &str,
        id: Option<&str>,
        now: SystemTime,
        signatures: Vec<Vec<u8>>,
    ) -> Result<PendingSignatures<'s>, ServiceError> {
        // Records owed from an earlier failure go first.
        self.settle_owed(now)?;
        if let Some(reason) = self.inner.audit.stopped() {
            return Err(ssa_audit::AuditError::Stopped { reason }.into());
        }
        let unit = Self::signature_records(credential, record, &activation, level, id);
        Ok(PendingSignatures {
            service: self,
            credential: credential.to_owned(),
            signer: record.signer.clone(),
            request: id.map(str::to_owned),
            now,
            activation: Some(activation),
            unit,
            signatures,
        })
    }

    /// Records that the signatures of `activation` were not delivered
    /// (`reason`), after their signature record (`unwritten`: the unit
    /// that holds it, if it is not in the log yet): in the log now, or
    /// owed to it (written first when the log is recovered,
    /// `recover_audit`).
    fn withhold(
        &self,
        pending: &PendingSignatures<'_>,
        unwritten: Option<&[Entry]>,
        sad_id: String,
        digests: &[Vec<u8>],
        reason: String,
    ) {
        let withheld = Entry::new(
            Event::Withheld { sad_id },
            pending.signer.clone(),
            Outcome::Failure(reason),
        )
        .credential(&pending.credential)
        .digests(digests.iter().map(Vec::as_slice))
        .request(pending.request.as_deref());
        let time = secs(pending.now);
        let unit = unwritten.unwrap_or_default();
        let audit = &self.inner.audit;
        let written = audit
            .append_units_unsynced(&[(unit, time), (std::slice::from_ref(&withheld), time)])
            .and_then(|unsynced| audit.sync_unit(&unsynced));
        if written.is_err() {
            let mut owed = self
                .owed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            owed.extend(unit.iter().cloned());
            owed.push(withheld);
        }
    }

    /// Records a refused signing request and returns its error. An error
    /// already in the log (a withheld signature) or one of the log itself
    /// is returned as it is. The SAD's id
    /// is read (its signature checked) only here, off the signing path, and
    /// only from a SAD a trusted issuer signed.
    fn record_refusal<T>(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        id: Option<&str>,
        now: SystemTime,
        error: ServiceError,
    ) -> Result<T, ServiceError> {
        if matches!(
            error,
            ServiceError::Withheld { .. } | ServiceError::Audit(_)
        ) {
            return Err(error);
        }
        let sad_id = self
            .inner
            .sam
            .verify_token(sad, UnixTime::from(now))
            .map(|claims| claims.jti)
            .ok();
        let entry = Entry::new(Event::Activation { sad_id }, credential, Outcome::Success)
            .credential(credential)
            .digests(digests.iter().map(Vec::as_slice))
            .request(id);
        self.audited(entry, now, Err(error))
    }

    /// The one check every signing request passes before its SAD is looked
    /// at, whatever the mode: the credential exists, is the signer's (if a
    /// signer is named) and is enabled; the
    /// request policy (digest count; the level, for documents); a
    /// certificate is installed, parses, is valid at `now`, is for the
    /// credential's key and allows signing; the algorithm policy; the SCAL
    /// the policy requires. Each mode's signing path starts here, so no
    /// path to the key can skip a check.
    #[allow(clippy::too_many_arguments)] // one per thing it checks
    fn precheck(
        &self,
        credential: &str,
        signer: Option<&str>,
        mode: SigningMode,
        digests: usize,
        level: Option<Level>,
        requested: Option<SignatureAlgorithm>,
        now: SystemTime,
    ) -> Result<SigningContext, ServiceError> {
        let prepared = self.prepared_for(credential, signer)?;
        let record = &prepared.record;
        match level {
            Some(level) => self.inner.requests.check(level, digests)?,
            None => self.inner.requests.check_digests(digests)?,
        }
        let certificate =
            prepared
                .certificate
                .as_ref()
                .ok_or_else(|| ServiceError::NoCertificate {
                    credential: credential.to_owned(),
                })?;
        let key_algorithm = prepared.key_algorithm;
        let algorithm = match requested {
            Some(algorithm) => algorithm,
            None => signature_algorithm_for(key_algorithm)
                .ok_or(ServiceError::UnsupportedKey { key: key_algorithm })?,
        };
        let hash = self.offers(key_algorithm, algorithm, mode, now)?;
        ssa_policy::check_signing_certificate(certificate, &record.public_key, now)?;
        let required = self.inner.requests.scal_for(credential);
        if record.scal < required {
            return Err(ssa_policy::PolicyError::ScalBelowPolicy {
                required,
                credential: record.scal,
            }
            .into());
        }
        let scal = record.scal.max(required);
        Ok(SigningContext {
            prepared,
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
                credential: &context.prepared.record.id,
                signer: &context.prepared.record.signer,
                mode,
                credential_scal: context.scal,
                hash_alg: context.hash,
                digests,
            },
            UnixTime::from(now),
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
        self.sign_documents_in(credential, sad, digests, options, Caller::default(), now)
    }

    /// [`SigningService::sign_documents`] up to the disk: every check and
    /// the signatures are made, and the answer holds them with their audit
    /// records until [`PendingSignatures::wait`] has written the records,
    /// made them durable and spent the SAD. A thread can start its next
    /// requests before it waits and deliver them together
    /// ([`PendingSignatures::wait_all`]: one append of their records, one
    /// fsync, one commit of the spends), so requests in flight share the
    /// disk (a server with many signers in flight on few threads). Waits on
    /// several threads at once share fsyncs too (one fsync covers every
    /// record written before it began); one thread waiting for its requests
    /// one after the other writes and syncs each in turn.
    ///
    /// ```
    /// # fn run(service: &ssa::SigningService, requests: &[(String, ssa::sad::Sad, Vec<Vec<u8>>)])
    /// # -> Result<(), ssa::ServiceError> {
    /// let now = std::time::SystemTime::now();
    /// let options = ssa::SignOptions::default();
    /// let mut pending = Vec::new();
    /// for (credential, sad, digests) in requests {
    ///     pending.push(service.sign_documents_pending(credential, sad, digests, &options, now)?);
    /// }
    /// // One append and one fsync for the records of every request above.
    /// for answer in ssa::PendingSignatures::wait_all(pending) {
    ///     let signatures = answer?;
    /// #   let _ = signatures;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sign_documents_pending(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        now: SystemTime,
    ) -> Result<PendingSignatures<'_>, ServiceError> {
        self.sign_documents_pending_in(credential, sad, digests, options, Caller::default(), now)
    }

    /// [`SigningService::sign_documents_pending`] for `caller`: a refusal is
    /// recorded here, for both the pending and the at-once path.
    fn sign_documents_pending_in(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        caller: Caller<'_>,
        now: SystemTime,
    ) -> Result<PendingSignatures<'_>, ServiceError> {
        self.sign_documents_inner(credential, sad, digests, options, caller, now)
            .or_else(|error| {
                self.record_refusal(credential, sad, digests, caller.request, now, error)
            })
    }

    /// [`SigningService::sign_documents`] for `caller`.
    pub(crate) fn sign_documents_in(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        caller: Caller<'_>,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.sign_documents_pending_in(credential, sad, digests, options, caller, now)?
            .wait()
    }

    fn sign_documents_inner(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        caller: Caller<'_>,
        now: SystemTime,
    ) -> Result<PendingSignatures<'_>, ServiceError> {
        let context = self.precheck(
            credential,
            caller.signer,
            SigningMode::Document,
            digests.len(),
            Some(options.level),
            options.algorithm,
            now,
        )?;
        let mut attributes = options.attributes.clone();
        if attributes.signer_attributes.is_none() {
            attributes.signer_attributes = self.signer_attributes(&context, now)?;
        }
        // What the level needs is checked before the key is activated.
        let augmentation = Augmentation {
            tsa: self.inner.tsa.as_deref(),
            revocation: self.inner.revocation.as_deref(),
            anchors: &self.inner.anchors,
            at: now,
        };
        augmentation.can_make(options.level)?;
        let activation = self.activate(&context, SigningMode::Document, sad, digests, now)?;
        // From here the activation is held: dropping it on error releases the digests.
        // What the signatures share is encoded once; the SCDev opens the key
        // once for all the digests the SAD authorized.
        let template = context
            .prepared
            .template(context.algorithm, now, attributes)?;
        let batch = template.sign_all(
            activation.digests(),
            |dtbs| -> Result<Vec<Vec<u8>>, ServiceError> {
                let inputs: Vec<SignInput<'_>> = dtbs
                    .iter()
                    .map(|d| SignInput::Message(d.as_ref()))
                    .collect();
                Ok(self
                    .inner
                    .scdev
                    .sign_many(&context.prepared.key, context.algorithm, &inputs)?)
            },
        )?;
        let signatures = ssa_cades::augment_all(
            batch,
            options.level,
            &augmentation,
            self.inner.augment_concurrency,
        )?;
        let level = format!("{:?}", options.level);
        self.pend(
            credential,
            &context.prepared.record,
            activation,
            &level,
            caller.request,
            now,
            signatures,
        )
    }

    /// Signs DTBS/R digests the client computed (raw-hash mode, CSC
    /// signHash): the SAD binds them in [`SigningMode::Dtbsr`]; the SCDev
    /// signs each digest. The same pre-check as for documents runs first.
    /// Each signature is recorded in the audit log (level `raw`) before the
    /// values are returned.
    ///
    /// `algorithm` is the signature algorithm the client asks for (CSC
    /// `signAlgo`), or `None` for the key's default; it is checked like
    /// [`SignOptions::algorithm`].
    pub fn sign_hashes(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        algorithm: Option<SignatureAlgorithm>,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.sign_hashes_in(credential, sad, hashes, algorithm, Caller::default(), now)
    }

    /// [`SigningService::sign_hashes`] for `caller`.
    pub(crate) fn sign_hashes_in(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        algorithm: Option<SignatureAlgorithm>,
        caller: Caller<'_>,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.sign_hashes_pending_in(credential, sad, hashes, algorithm, caller, now)?
            .wait()
    }

    /// [`SigningService::sign_hashes`] up to the disk, as
    /// [`SigningService::sign_documents_pending`] is for documents.
    pub fn sign_hashes_pending(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        algorithm: Option<SignatureAlgorithm>,
        now: SystemTime,
    ) -> Result<PendingSignatures<'_>, ServiceError> {
        self.sign_hashes_pending_in(credential, sad, hashes, algorithm, Caller::default(), now)
    }

    /// [`SigningService::sign_hashes_pending`] for `caller`: a refusal is
    /// recorded here, for both the pending and the at-once path.
    fn sign_hashes_pending_in(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        algorithm: Option<SignatureAlgorithm>,
        caller: Caller<'_>,
        now: SystemTime,
    ) -> Result<PendingSignatures<'_>, ServiceError> {
        self.sign_hashes_inner(credential, sad, hashes, algorithm, caller, now)
            .or_else(|error| {
                self.record_refusal(credential, sad, hashes, caller.request, now, error)
            })
    }

    fn sign_hashes_inner(
        &self,
        credential: &str,
        sad: &Sad,
        hashes: &[Vec<u8>],
        algorithm: Option<SignatureAlgorithm>,
        caller: Caller<'_>,
        now: SystemTime,
    ) -> Result<PendingSignatures<'_>, ServiceError> {
        let context = self.precheck(
            credential,
            caller.signer,
            SigningMode::Dtbsr,
            hashes.len(),
            None,
            algorithm,
            now,
        )?;
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
            .sign_many(&context.prepared.key, context.algorithm, &inputs)?;
        self.pend(
            credential,
            &context.prepared.record,
            activation,
            "raw",
            caller.request,
            now,
            out,
        )
    }

    /// The signer-attributes-v2 value for a signature by the context's
    /// credential at `now`: its claimed role and every delegation (its own
    /// and the provider's database's), each checked again at the signing
    /// time. `None` if there is nothing to carry.
    fn signer_attributes(
        &self,
        context: &SigningContext,
        now: SystemTime,
    ) -> Result<Option<ssa_cades::asn1::SignerAttributesV2>, ServiceError> {
        let mut delegations = context.prepared.record.delegations.clone();
        if let Some(source) = &self.inner.delegation_source {
            delegations.extend(source.delegations(&context.prepared.record.id)?);
        }
        Ok(ssa_cades::delegation::signer_attributes(
            context.prepared.record.claimed_role.as_deref(),
            &delegations,
            context.certificate()?,
            &self.inner.attribute_authorities,
            now,
        )?)
    }

    /// Verifies a signature against the service's trust anchors (its TSA
    /// anchors for time-stamps, when it has them).
    pub fn verify(
        &self,
        signature: &[u8],
        document: Document<'_>,
        now: SystemTime,
    ) -> VerificationReport {
        let mut options = VerifyOptions::new(&self.inner.anchors, now)
            .with_attribute_authorities(&self.inner.attribute_authorities);
        if let Some(tsa_anchors) = &self.inner.tsa_anchors {
            options = options.with_tsa_anchors(tsa_anchors);
        }
        ssa_cades::verify(signature, document, &options)
    }
}

/// Signatures made and recorded, not yet delivered: see
/// [`SigningService::sign_documents_pending`]. [`PendingSignatures::wait`]
/// makes their audit records durable, spends the SAD, and only then
/// returns them. Dropped without waiting, they are withheld: a `Withheld`
/// record follows their signature record and the SAD is given back.
#[must_use = "the signatures are delivered by `wait`; dropped, they are withheld"]
pub struct PendingSignatures<'s> {
    service: &'s SigningService,
    credential: String,
    signer: String,
    request: Option<String>,
    now: SystemTime,
    /// `None` once `wait` took it.
    activation: Option<ssa_sad::Activation>,
    /// The activation and signature records, written by `wait`.
    unit: Vec<Entry>,
    signatures: Vec<Vec<u8>>,
}

impl std::fmt::Debug for PendingSignatures<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignatures")
            .field("credential", &self.credential)
            .field("signatures", &self.signatures.len())
            .finish_non_exhaustive()
    }
}

impl PendingSignatures<'_> {
    /// Waits until the signatures' audit records are durable (one fsync
    /// covers every request written before it began), spends the SAD in
    /// the ledger, and returns the signatures. Fails, returning nothing,
    /// as [`SigningService::sign_documents`] fails after signing: a log
    /// that stopped ([`ServiceError::Audit`]; the SAD is given back) or a
    /// ledger that did not take the spend ([`ServiceError::Withheld`]).
    pub fn wait(self) -> Result<Vec<Vec<u8>>, ServiceError> {
        Self::wait_all(vec![self])
            .pop()
            .unwrap_or(Err(ServiceError::Corrupt {
                what: "pending signatures",
            }))
    }

    /// [`PendingSignatures::wait`] for several requests at once, answering
    /// for each in order: their audit units are written with one append
    /// to each service's log and made durable (the first fsync covers
    /// every unit written before it), then their SADs are spent together
    /// (a file ledger writes the spends under one lock and fsyncs once for
    /// all). A request whose unit or spend fails gets the error `wait`
    /// would give; the others are delivered.
    pub fn wait_all(pending: Vec<Self>) -> Vec<Result<Vec<Vec<u8>>, ServiceError>> {
        let mut answers: Vec<Option<Result<Vec<Vec<u8>>, ServiceError>>> =
            (0..pending.len()).map(|_| None).collect();
        let mut waiting: Vec<(usize, Self, ssa_sad::Activation)> = Vec::new();
        for (i, mut request) in pending.into_iter().enumerate() {
            if let Some(activation) = request.activation.take() {
                waiting.push((i, request, activation));
            }
        }
        let mut durable = Vec::with_capacity(waiting.len());
        let mut activations = Vec::with_capacity(waiting.len());
        // The requests of one service's log at a time (requests of several
        // services may be waited for together).
        while let Some((_, first, _)) = waiting.first() {
            let service = first.service;
            let (group, rest): (Vec<_>, Vec<_>) = waiting
                .into_iter()
                .partition(|(_, request, _)| std::ptr::eq(request.service, service));
            waiting = rest;
            let audit = &service.inner.audit;
            let units: Vec<(&[Entry], u64)> = group
                .iter()
                .map(|(_, request, _)| (request.unit.as_slice(), secs(request.now)))
                .collect();
            // One append for the group. If it fails nothing of it was
            // written: the first request gets its error, and each other
            // unit is tried alone, so each request gets its own answer.
            let (together, mut failed) = match audit.append_units_unsynced(&units) {
                Ok(unsynced) => (Some(unsynced), None),
                Err(error) => (None, Some(error)),
            };
            for (i, request, activation) in group {
                let synced = match (&together, failed.take()) {
                    (Some(unsynced), _) => audit.sync_unit(unsynced),
                    (None, Some(error)) => Err(error),
                    (None, None) => audit
                        .append_units_unsynced(&[(&request.unit, secs(request.now))])
                        .and_then(|unsynced| audit.sync_unit(&unsynced)),
                };
                // On failure the activation, dropped, gives the SAD back.
                match synced {
                    Ok(()) => {
                        let spent = (
                            activation.sad_id().to_owned(),
                            activation.digests().to_vec(),
                        );
                        durable.push((i, request, spent));
                        activations.push(activation);
                    }
                    Err(error) => answers[i] = Some(Err(error.into())),
                }
            }
        }
        let spends = ssa_sad::Activation::commit_all(activations);
        for ((i, mut request, (sad_id, digests)), spend) in durable.into_iter().zip(spends) {
            answers[i] = Some(match spend {
                Ok(()) => Ok(std::mem::take(&mut request.signatures)),
                Err(error) => {
                    // The spend failed and gave the digests back; the record
                    // says why nothing was delivered.
                    let error = ServiceError::from(error);
                    request
                        .service
                        .withhold(&request, None, sad_id, &digests, error.to_string());
                    Err(ServiceError::Withheld {
                        source: Box::new(error),
                    })
                }
            });
        }
        answers
            .into_iter()
            .map(|answer| {
                answer.unwrap_or(Err(ServiceError::Corrupt {
                    what: "pending signatures",
                }))
            })
            .collect()
    }
}

impl Drop for PendingSignatures<'_> {
    fn drop(&mut self) {
        if let Some(activation) = self.activation.take() {
            self.service.withhold(
                self,
                Some(&self.unit),
                activation.sad_id().to_owned(),
                activation.digests(),
                "dropped before it was delivered".to_owned(),
            );
            // Dropping the activation gives the SAD back.
            drop(activation);
        }
    }
}
