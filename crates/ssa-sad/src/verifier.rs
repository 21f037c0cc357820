//! The SAM: verifies a SAD and, only then, yields an [`Activation`].

use core::fmt;
use std::collections::HashMap;
use std::sync::Arc;

use crate::claims::{SadClaims, has_two_classes};
use crate::error::SadError;
use crate::jws::{self, DEFAULT_MAX_TOKEN_LEN, Sad};
use crate::keys::SadVerifyingKey;
use ssa_store::{ConsumptionLedger, Reservation, UseRequest};
use ssa_types::UnixTime;
use ssa_types::{HashAlgorithm, Scal, SigningMode};

/// How the SAM judges SADs.
#[derive(Clone, Debug)]
pub struct SamConfig {
    /// This SAM's id: the `aud` every SAD must carry.
    pub audience: String,
    /// Clock skew tolerated each way, in seconds (default 60).
    pub max_skew: u64,
    /// Longest `exp - iat` accepted, in seconds (default 3600).
    pub max_lifetime: u64,
    /// Longest token accepted, in bytes.
    pub max_token_len: usize,
    /// Most signatures one SAD may allow (`num`), whoever issued it
    /// (default 1000).
    pub max_count: u32,
}

impl SamConfig {
    /// Defaults for the SAM `audience`.
    pub fn new(audience: impl Into<String>) -> Self {
        Self {
            audience: audience.into(),
            max_skew: 60,
            max_lifetime: 3600,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            max_count: 1000,
        }
    }
}

/// One signing request, as the facade sees it.
#[derive(Clone, Copy, Debug)]
pub struct ActivationRequest<'a> {
    /// The credential whose key is to sign.
    pub credential: &'a str,
    /// The signer who owns that credential: the SAD's `sub` must name them.
    pub signer: &'a str,
    /// How the digests are to be signed: the SAD's `mode` must be this.
    pub mode: SigningMode,
    /// The SCAL that credential requires.
    pub credential_scal: Scal,
    /// The hash of `digests`.
    pub hash_alg: HashAlgorithm,
    /// The digests (DTBS/R) to sign now, each once.
    pub digests: &'a [Vec<u8>],
}

/// A trusted SAD issuer: its `iss` and its keys.
#[derive(Clone, Debug)]
struct Trusted {
    iss: String,
    key: SadVerifyingKey,
}

/// The signature activation module.
pub struct SadVerifier {
    config: SamConfig,
    issuers: HashMap<String, Trusted>,
    ledger: Arc<dyn ConsumptionLedger>,
}

impl fmt::Debug for SadVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SadVerifier")
            .field("config", &self.config)
            .field("issuers", &self.issuers.len())
            .field("ledger", &self.ledger)
            .finish()
    }
}

impl SadVerifier {
    /// A SAM with no trusted issuer yet.
    pub fn new(config: SamConfig, ledger: Arc<dyn ConsumptionLedger>) -> Self {
        Self {
            config,
            issuers: HashMap::new(),
            ledger,
        }
    }

    /// Trusts SADs from `iss` signed by `key` (found by its `kid`).
    pub fn trust(mut self, iss: impl Into<String>, key: SadVerifyingKey) -> Self {
        self.issuers.insert(
            key.kid.clone(),
            Trusted {
                iss: iss.into(),
                key,
            },
        );
        self
    }

    /// For an administrator after a crash: gives back the ledger's
    /// reservations made before `reserved_before` (a signing still running
    /// under one finds its commit refused, so it delivers nothing).
    pub fn release_stale(&self, reserved_before: UnixTime) -> Result<Vec<Reservation>, SadError> {
        Ok(self.ledger.release_stale(reserved_before.0)?)
    }

    /// Verifies a SAD's signature and claims without touching the ledger.
    pub fn verify_token(&self, sad: &Sad, now: UnixTime) -> Result<SadClaims, SadError> {
        let token = jws::parse(sad.as_str(), self.config.max_token_len)?;
        let trusted = self
            .issuers
            .get(&token.kid)
            .ok_or_else(|| SadError::UnknownKeyId {
                kid: token.kid.clone(),
            })?;
        if trusted.key.algorithm != token.algorithm {
            return Err(SadError::AlgorithmMismatch {
                alg: token.algorithm.name().to_owned(),
                kid: token.kid.clone(),
            });
        }
        trusted.key.verify(token.signing_input, &token.signature)?;
        let claims = token.claims()?;
        if claims.iss != trusted.iss {
            return Err(SadError::WrongIssuer {
                iss: claims.iss,
                kid: token.kid.clone(),
            });
        }
        if claims.aud != self.config.audience {
            return Err(SadError::WrongAudience { aud: claims.aud });
        }
        if claims.exp < claims.iat || claims.exp - claims.iat > self.config.max_lifetime {
            return Err(SadError::LifetimeTooLong {
                lifetime: claims.exp.saturating_sub(claims.iat),
                limit: self.config.max_lifetime,
            });
        }
        if now.0.saturating_add(self.config.max_skew) < claims.iat {
            return Err(SadError::NotYetValid { iat: claims.iat });
        }
        if now.0 >= claims.exp.saturating_add(self.config.max_skew) {
            return Err(SadError::Expired { exp: claims.exp });
        }
        if claims.num == 0
            || claims.num > self.config.max_count
            || (!claims.hashes.is_empty() && claims.num as usize > claims.hashes.len())
        {
            return Err(SadError::BadCount { num: claims.num });
        }
        if claims.scal == Scal::Scal2 {
            if !has_two_classes(&claims.amr) {
                return Err(SadError::InsufficientFactors);
            }
            if claims.hashes.is_empty() {
                return Err(SadError::HashesNotBound);
            }
        }
        Ok(claims)
    }

    /// Verifies `sad` for `request` and reserves the request's digests in
    /// the ledger. Only the returned [`Activation`] lets the key sign. A
    /// refusal reserves nothing.
    pub fn activate(
        &self,
        sad: &Sad,
        request: &ActivationRequest<'_>,
        now: UnixTime,
    ) -> Result<Activation, SadError> {
        let claims = self.verify_token(sad, now)?;
        if claims.cred != request.credential {
            return Err(SadError::WrongCredential {
                sad: claims.cred,
                requested: request.credential.to_owned(),
            });
        }
        if claims.sub != request.signer {
            return Err(SadError::WrongSigner {
                sad: claims.sub,
                owner: request.signer.to_owned(),
            });
        }
        if claims.mode != request.mode {
            return Err(SadError::WrongMode {
                sad: claims.mode,
                requested: request.mode,
            });
        }
        if claims.scal < request.credential_scal {
            return Err(SadError::ScalTooLow {
                required: request.credential_scal,
                sad: claims.scal,
            });
        }
        if claims.hash_alg != request.hash_alg {
            return Err(SadError::HashAlgorithmMismatch);
        }
        let expected = request.hash_alg.digest_len();
        if let Some(bad) = request.digests.iter().find(|d| d.len() != expected) {
            return Err(SadError::DigestLength {
                expected,
                actual: bad.len(),
            });
        }
        let unique: std::collections::HashSet<&Vec<u8>> = request.digests.iter().collect();
        if request.digests.is_empty() || unique.len() != request.digests.len() {
            return Err(SadError::BadDigestList);
        }
        let bound = !claims.hashes.is_empty();
        let approved: std::collections::HashSet<&Vec<u8>> = claims.hashes.iter().collect();
        if bound && let Some(index) = request.digests.iter().position(|d| !approved.contains(d)) {
            return Err(SadError::DigestNotBound { index });
        }
        let reservation = self.ledger.reserve(&UseRequest {
            jti: &claims.jti,
            num: claims.num,
            iat: claims.iat,
            exp: claims.exp,
            now: now.0,
            forget_before: now.0.saturating_sub(self.config.max_skew),
            digests: request.digests,
            bound,
        })?;
        Ok(Activation {
            ledger: Arc::clone(&self.ledger),
            reservation: Some(reservation),
            signer: claims.sub,
            credential: claims.cred,
            scal: claims.scal,
            hash_alg: claims.hash_alg,
            digests: request.digests.to_vec(),
            jti: claims.jti,
        })
    }
}

/// Permission for one credential's key to sign these digests, now. Not
/// `Clone`, not serializable: it exists only between a verified SAD and the
/// signatures it allows.
///
/// After signing, [`Activation::commit`] spends the digests for good; if
/// signing failed, [`Activation::release`] (or dropping it) gives them back.
pub struct Activation {
    ledger: Arc<dyn ConsumptionLedger>,
    reservation: Option<Reservation>,
    signer: String,
    credential: String,
    scal: Scal,
    hash_alg: HashAlgorithm,
    digests: Vec<Vec<u8>>,
    jti: String,
}

impl fmt::Debug for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Activation")
            .field("signer", &self.signer)
            .field("credential", &self.credential)
            .field("scal", &self.scal)
            .field("digests", &self.digests.len())
            .field("pending", &self.reservation.is_some())
            .finish_non_exhaustive()
    }
}

impl Activation {
    /// The signer.
    pub fn signer(&self) -> &str {
        &self.signer
    }

    /// The credential whose key may sign.
    pub fn credential(&self) -> &str {
        &self.credential
    }

    /// The SCAL of the SAD.
    pub fn scal(&self) -> Scal {
        self.scal
    }

    /// The hash of the digests.
    pub fn hash_alg(&self) -> HashAlgorithm {
        self.hash_alg
    }

    /// The digests the key may sign, each once.
    pub fn digests(&self) -> &[Vec<u8>] {
        &self.digests
    }

    /// The SAD id, for the audit log.
    pub fn sad_id(&self) -> &str {
        &self.jti
    }

    /// The signatures are made: spend the digests for good. If the ledger
    /// cannot record it, the digests are given back (as when the
    /// activation is dropped) and the signatures must not be delivered.
    pub fn commit(mut self) -> Result<(), SadError> {
        let reservation = self
            .reservation
            .take()
            .ok_or(SadError::UnknownReservation)?;
        match self.ledger.commit(&reservation) {
            Ok(()) => Ok(()),
            Err(error) => {
                // Dropping `self` now releases it.
                self.reservation = Some(reservation);
                Err(error.into())
            }
        }
    }

    /// [`Activation::commit`] for several activations at once: activations
    /// of one ledger spend together ([`ConsumptionLedger::commit_all`]:
    /// one fsync for all, for a durable ledger). Answers for each, in
    /// order; one that fails is given back, as by `commit`.
    pub fn commit_all(activations: Vec<Activation>) -> Vec<Result<(), SadError>> {
        let Some(ledger) = activations.first().map(|a| Arc::clone(&a.ledger)) else {
            return Vec::new();
        };
        if !activations.iter().all(|a| Arc::ptr_eq(&a.ledger, &ledger)) {
            return activations.into_iter().map(Activation::commit).collect();
        }
        let mut activations = activations;
        let held: Vec<Option<Reservation>> = activations
            .iter_mut()
            .map(|a| a.reservation.take())
            .collect();
        let present: Vec<&Reservation> = held.iter().flatten().collect();
        let mut answers = ledger.commit_all(&present).into_iter();
        activations
            .into_iter()
            .zip(held)
            .map(|(mut activation, reservation)| match reservation {
                None => Err(SadError::UnknownReservation),
                Some(reservation) => match answers.next() {
                    Some(Ok(())) => Ok(()),
                    Some(Err(error)) => {
                        // Dropping the activation now releases it.
                        activation.reservation = Some(reservation);
                        Err(error.into())
                    }
                    None => {
                        activation.reservation = Some(reservation);
                        Err(SadError::UnknownReservation)
                    }
                },
            })
            .collect()
    }

    /// Signing failed: give the digests back to the SAD.
    pub fn release(mut self) -> Result<(), SadError> {
        match self.reservation.take() {
            Some(reservation) => Ok(self.ledger.release(&reservation)?),
            None => Err(SadError::UnknownReservation),
        }
    }
}

impl Drop for Activation {
    fn drop(&mut self) {
        if let Some(reservation) = self.reservation.take() {
            let _ = self.ledger.release(&reservation);
        }
    }
}
