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

use der::Decode;
use ssa_audit::{Entry, Event, Outcome};
use ssa_cades::{
    Augmentation, Document, SignatureTemplate, SignedAttributeOptions, VerificationReport,
    VerifyOptions,
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

    /// Appends, in one durable write, the activation and the signature
    /// record of a signing that succeeded; each lists every digest signed.
    fn record_signatures(
        &self,
        credential: &str,
        record: &CredentialRecord,
        activation: &ssa_sad::Activation,
        level: &str,
        id: Option<&str>,
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
        ];
        self.inner.audit.append_all(entries, secs(now))?;
        Ok(())
    }

    /// Delivers a signing that succeeded, in the one order that makes it
    /// all or nothing (docs/operations.md):
    ///
    /// 1. the activation and the signature records, one durable unit of
    ///    the audit log; if that fails the log stops, nothing is returned,
    ///    and the activation, dropped, gives the SAD back;
    /// 2. the SAD spent in the ledger, durably; if that fails a `Withheld`
    ///    record follows the signature record, the SAD is given back, and
    ///    nothing is returned ([`ServiceError::Withheld`]);
    /// 3. only then may the caller return the signatures.
    ///
    /// A crash between 1 and 2 leaves a signature record, no signature
    /// delivered, and the SAD reserved until an administrator releases it
    /// ([`SigningService::release_stale_reservations`]).
    fn deliver(
        &self,
        credential: &str,
        record: &CredentialRecord,
        activation: ssa_sad::Activation,
        level: &str,
        id: Option<&str>,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        // Records owed from an earlier failure go first.
        self.settle_owed(now)?;
        self.record_signatures(credential, record, &activation, level, id, now)?;
        let sad_id = activation.sad_id().to_owned();
        let digests: Vec<Vec<u8>> = activation.digests().to_vec();
        if let Err(error) = activation.commit() {
            let error = ServiceError::from(error);
            let withheld = Entry::new(
                Event::Withheld { sad_id },
                record.signer.clone(),
                Outcome::Failure(error.to_string()),
            )
            .credential(credential)
            .digests(digests.iter().map(Vec::as_slice))
            .request(id);
            // If the log cannot take it now, it is owed: written first when
            // the log is recovered (`recover_audit`).
            if self
                .inner
                .audit
                .append(withheld.clone(), secs(now))
                .is_err()
            {
                self.owed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(withheld);
            }
            return Err(ServiceError::Withheld {
                source: Box::new(error),
            });
        }
        Ok(())
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
        let record = self.credential_for(credential, signer)?;
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
        let (key, key_algorithm) = signing_key(&record)?;
        let algorithm = match requested {
            Some(algorithm) => algorithm,
            None => signature_algorithm_for(key_algorithm)
                .ok_or(ServiceError::UnsupportedKey { key: key_algorithm })?,
        };
        let hash = self.offers(key_algorithm, algorithm, mode, now)?;
        ssa_policy::check_signing_certificate(&certificate, &record.public_key, now)?;
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
        self.sign_documents_inner(credential, sad, digests, options, caller, now)
            .or_else(|error| {
                self.record_refusal(credential, sad, digests, caller.request, now, error)
            })
    }

    fn sign_documents_inner(
        &self,
        credential: &str,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
        caller: Caller<'_>,
        now: SystemTime,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
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
        let template = SignatureTemplate::new(
            &context.certificate,
            &context.chain,
            context.algorithm,
            now,
            attributes,
        )?;
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
                    .sign_many(&context.key, context.algorithm, &inputs)?)
            },
        )?;
        let signatures = ssa_cades::augment_all(
            batch,
            options.level,
            &augmentation,
            self.inner.augment_concurrency,
        )?;
        let level = format!("{:?}", options.level);
        self.deliver(
            credential,
            &context.record,
            activation,
            &level,
            caller.request,
            now,
        )?;
        Ok(signatures)
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
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
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
            .sign_many(&context.key, context.algorithm, &inputs)?;
        self.deliver(
            credential,
            &context.record,
            activation,
            "raw",
            caller.request,
            now,
        )?;
        Ok(out)
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
        let mut delegations = context.record.delegations.clone();
        if let Some(source) = &self.inner.delegation_source {
            delegations.extend(source.delegations(&context.record.id)?);
        }
        Ok(ssa_cades::delegation::signer_attributes(
            context.record.claimed_role.as_deref(),
            &delegations,
            &context.certificate,
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
