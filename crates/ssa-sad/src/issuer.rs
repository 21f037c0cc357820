//! The built-in SAD issuer: the authenticator that checks a signer's
//! factors, counts failures, locks, and mints SADs.

use core::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::claims::{Amr, SadClaims, has_two_classes};
use crate::encoding::b64_encode;
use crate::error::SadError;
use crate::factor::device::{DeviceChallenge, DeviceKey, DeviceResponse, challenge_message};
use crate::factor::pin::{self, PinPolicy};
use crate::factor::totp::{self, Otp, TotpConfig, TotpSeed};
use crate::jws::Sad;
use crate::keys::SadSigningKey;
use crate::seal::{SeedKey, random};
use ssa_store::{
    AuthState, ChallengeStore, EnrolmentStore, Inserted, LockoutStore, MemoryChallengeStore,
    MemoryEnrolmentStore, PendingChallenge,
};
use ssa_types::Pin;
use ssa_types::UnixTime;
use ssa_types::{HashAlgorithm, Scal, SigningMode};

/// How the issuer behaves.
#[derive(Clone, Debug)]
pub struct IssuerConfig {
    /// `iss` of the SADs it mints.
    pub issuer: String,
    /// `aud` of the SADs it mints: the SAM's id.
    pub audience: String,
    /// Longest SAD lifetime, in seconds (default 300).
    pub max_lifetime: u64,
    /// Consecutive failures that lock a credential (default 5).
    pub max_failures: u32,
    /// Most signatures one SAD may allow (default 1000).
    pub max_count: u32,
    /// How long a device challenge may be answered, in seconds (default 120).
    pub challenge_lifetime: u64,
    /// Argon2id cost of new PIN hashes (default: OWASP's minimum).
    pub pin_policy: PinPolicy,
}

impl IssuerConfig {
    /// Defaults for an issuer `issuer` minting for the SAM `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            max_lifetime: 300,
            max_failures: 5,
            max_count: 1000,
            challenge_lifetime: 120,
            pin_policy: PinPolicy::default(),
        }
    }
}

/// A sealed TOTP enrolment: the seed only ever stored encrypted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedTotp {
    /// The authenticator's parameters.
    pub config: TotpConfig,
    /// The seed, sealed with AES-256-GCM under the issuer's [`SeedKey`],
    /// the credential id as associated data.
    pub sealed_seed: Vec<u8>,
}

/// A sealed PIN verifier: the Argon2id PHC string of the PIN, sealed with
/// AES-256-GCM under the issuer's [`SeedKey`], the credential id as
/// associated data. A copy of the store alone gives no offline search over
/// a short PIN; `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedPin {
    /// `nonce || ciphertext || tag`.
    pub sealed_verifier: Vec<u8>,
}

impl fmt::Debug for SealedPin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealedPin([redacted])")
    }
}

/// What a credential has enrolled: nothing secret in the clear (a sealed
/// PIN verifier, a sealed seed, a public key). The embedder may persist it
/// as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolledFactors {
    /// The signer who owns the credential (`sub`).
    pub signer: String,
    /// The SCAL the credential requires.
    pub scal: Scal,
    /// The PIN verifier, sealed.
    pub pin: Option<SealedPin>,
    /// The TOTP authenticator.
    pub totp: Option<SealedTotp>,
    /// The signer's device key.
    pub device_key: Option<DeviceKey>,
}

/// What to enrol for a new credential.
#[derive(Debug)]
pub struct Enrolment {
    /// The credential id.
    pub credential: String,
    /// The signer.
    pub signer: String,
    /// The SCAL the credential requires.
    pub scal: Scal,
    /// A PIN (knowledge).
    pub pin: Option<Pin>,
    /// A TOTP authenticator (possession).
    pub totp: Option<(TotpSeed, TotpConfig)>,
    /// A device key (possession).
    pub device_key: Option<DeviceKey>,
}

/// The factors a signer presents with one authorization.
#[derive(Debug, Default)]
pub struct PresentedFactors {
    /// The PIN.
    pub pin: Option<Pin>,
    /// A TOTP code.
    pub otp: Option<Otp>,
    /// A device-key response.
    pub device: Option<DeviceResponse>,
}

/// One authorization: what the signer approves, and the proof.
#[derive(Debug)]
pub struct AuthorizationRequest<'a> {
    /// The credential to activate.
    pub credential: &'a str,
    /// What the digests are approved for.
    pub mode: SigningMode,
    /// The hash of `digests`.
    pub hash_alg: HashAlgorithm,
    /// The digests (DTBS/R) approved; may be empty only for a SCAL1 credential.
    pub digests: &'a [Vec<u8>],
    /// Signatures allowed.
    pub num: u32,
    /// Requested lifetime in seconds (capped by the configured maximum).
    pub lifetime: u64,
    /// The factors.
    pub factors: PresentedFactors,
}

/// The built-in SAD issuer.
///
/// Factors are checked first; then, in one atomic update of the lockout
/// store, the attempt is counted: a failure increments the count (and locks
/// at the limit), a success resets it and spends the TOTP step. A locked
/// credential refuses every attempt, right factors included, until
/// [`SadIssuer::unlock`].
pub struct SadIssuer {
    config: IssuerConfig,
    key: SadSigningKey,
    seed_key: SeedKey,
    lockout: Arc<dyn LockoutStore>,
    enrolled: Arc<dyn EnrolmentStore>,
    challenges: Arc<dyn ChallengeStore>,
}

impl fmt::Debug for SadIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SadIssuer")
            .field("config", &self.config)
            .field("key", &self.key)
            .field("seed_key", &self.seed_key)
            .field("lockout", &self.lockout)
            .field("enrolled", &self.enrolled)
            .field("challenges", &self.challenges)
            .finish_non_exhaustive()
    }
}

/// How the presented factors fared, before the attempt is counted. Every
/// presented factor is checked, whichever fails first, and a failure does
/// not say which.
struct Checked {
    amr: Vec<Amr>,
    failed: bool,
    otp_step: Option<u64>,
}

impl SadIssuer {
    /// An issuer minting with `key`, sealing TOTP seeds under `seed_key`,
    /// counting failures in `lockout`.
    pub fn new(
        config: IssuerConfig,
        key: SadSigningKey,
        seed_key: SeedKey,
        lockout: Arc<dyn LockoutStore>,
    ) -> Self {
        Self {
            config,
            key,
            seed_key,
            lockout,
            enrolled: Arc::new(MemoryEnrolmentStore::new()),
            challenges: Arc::new(MemoryChallengeStore::new()),
        }
    }

    /// Keeps pending device challenges in `store` (default: in this
    /// process's memory). Give processes or nodes that share the lockout
    /// store a shared challenge store too, so a challenge issued by one can
    /// be answered at another, once.
    pub fn with_challenge_store(mut self, store: Arc<dyn ChallengeStore>) -> Self {
        self.challenges = store;
        self
    }

    /// Keeps enrolments in `store` (default: in this process's memory).
    /// The issuer reads a credential's enrolment from the store at every
    /// authorization, so processes or nodes sharing the store see each
    /// other's enrolments as soon as they are made.
    pub fn with_enrolment_store(mut self, store: Arc<dyn EnrolmentStore>) -> Self {
        self.enrolled = store;
        self
    }

    /// The issuer's configuration.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    /// The public key the SAM must trust for this issuer's SADs.
    pub fn verifying_key(&self) -> crate::keys::SadVerifyingKey {
        self.key.verifying_key()
    }

    /// Enrols a credential's factors in the enrolment store; returns what
    /// was stored.
    pub fn enroll(&self, enrolment: Enrolment) -> Result<EnrolledFactors, SadError> {
        let credential = enrolment.credential.clone();
        let factors = self.seal(enrolment)?;
        self.restore(&credential, factors.clone())?;
        Ok(factors)
    }

    /// Checks and seals a credential's factors (PIN verifier and TOTP seed
    /// under the seed key, the credential id as associated data) without
    /// storing them: for an embedder whose enrolment store is written with
    /// its own records (see [`SadIssuer::with_enrolment_store`]).
    pub fn seal(&self, enrolment: Enrolment) -> Result<EnrolledFactors, SadError> {
        let mut factors = EnrolledFactors {
            signer: enrolment.signer,
            scal: enrolment.scal,
            pin: None,
            totp: None,
            device_key: None,
        };
        if let Some(pin) = &enrolment.pin {
            let verifier = zeroize::Zeroizing::new(pin::hash(pin, &self.config.pin_policy)?);
            factors.pin = Some(SealedPin {
                sealed_verifier: self
                    .seed_key
                    .seal(&pin_aad(&enrolment.credential), verifier.as_bytes())?,
            });
        }
        if let Some((seed, config)) = &enrolment.totp {
            config.check()?;
            factors.totp = Some(SealedTotp {
                config: *config,
                sealed_seed: self
                    .seed_key
                    .seal(&seed_aad(&enrolment.credential), seed.bytes())?,
            });
        }
        if let Some(key) = enrolment.device_key {
            if !key.well_formed() {
                return Err(SadError::InvalidEnrolment {
                    reason: "malformed device key",
                });
            }
            factors.device_key = Some(key);
        }
        let classes = [
            factors.pin.as_ref().map(|_| Amr::Pin),
            factors.totp.as_ref().map(|_| Amr::Otp),
            factors.device_key.as_ref().map(|_| Amr::DeviceKey),
        ];
        let amr: Vec<Amr> = classes.into_iter().flatten().collect();
        if amr.is_empty() {
            return Err(SadError::InvalidEnrolment {
                reason: "no factor",
            });
        }
        if enrolment.scal == Scal::Scal2 && !has_two_classes(&amr) {
            return Err(SadError::InvalidEnrolment {
                reason: "SCAL2 needs a knowledge and a possession factor",
            });
        }
        Ok(factors)
    }

    /// Stores an enrolment made earlier ([`SadIssuer::enroll`]'s or
    /// [`SadIssuer::seal`]'s result); refuses a credential enrolled already.
    pub fn restore(&self, credential: &str, factors: EnrolledFactors) -> Result<(), SadError> {
        let bytes = serde_json::to_vec(&factors)
            .map_err(|_| SadError::CorruptStore { what: "enrolment" })?;
        match self.enrolled.insert(credential, &bytes)? {
            Inserted::Stored => Ok(()),
            Inserted::Exists => Err(SadError::AlreadyEnrolled {
                credential: credential.to_owned(),
            }),
        }
    }

    /// Removes a credential's enrolment: it can no longer authorize.
    /// `false` if it was not enrolled.
    pub fn forget(&self, credential: &str) -> Result<bool, SadError> {
        Ok(self.enrolled.remove(credential)?)
    }

    fn factors(&self, credential: &str) -> Result<EnrolledFactors, SadError> {
        let bytes = self
            .enrolled
            .get(credential)?
            .ok_or_else(|| SadError::UnknownCredential {
                credential: credential.to_owned(),
            })?;
        serde_json::from_slice(&bytes).map_err(|_| SadError::CorruptStore { what: "enrolment" })
    }

    /// The lockout state of a credential.
    pub fn state(&self, credential: &str) -> Result<AuthState, SadError> {
        Ok(self.lockout.load(credential)?)
    }

    /// Unlocks a credential and clears its failure count (an admin action).
    pub fn unlock(&self, credential: &str) -> Result<(), SadError> {
        self.factors(credential)?;
        self.lockout
            .update(credential, &|state| AuthState {
                locked: false,
                failures: 0,
                ..state.clone()
            })
            .map(|_| ())
            .map_err(SadError::from)
    }

    /// A challenge for the signer's device, naming this credential, the
    /// signing mode and exactly these digests. It can be answered once,
    /// within the configured lifetime.
    pub fn device_challenge(
        &self,
        credential: &str,
        mode: SigningMode,
        hash_alg: HashAlgorithm,
        digests: &[Vec<u8>],
        now: UnixTime,
    ) -> Result<DeviceChallenge, SadError> {
        let factors = self.factors(credential)?;
        if factors.device_key.is_none() {
            return Err(SadError::FactorNotEnrolled {
                credential: credential.to_owned(),
                factor: "device key",
            });
        }
        let mut nonce = vec![0u8; 16];
        random(&mut nonce)?;
        let id = b64_encode(&nonce);
        let message = challenge_message(
            &nonce,
            &self.config.issuer,
            credential,
            mode,
            hash_alg,
            digests,
        );
        self.challenges.put(
            &id,
            &PendingChallenge {
                credential: credential.to_owned(),
                nonce,
                expires: now.0.saturating_add(self.config.challenge_lifetime),
            },
            now.0,
        )?;
        Ok(DeviceChallenge { id, message })
    }

    fn check_factors(
        &self,
        request: &AuthorizationRequest<'_>,
        factors: &EnrolledFactors,
        now: UnixTime,
    ) -> Result<Checked, SadError> {
        let credential = request.credential;
        let not_enrolled = |factor| SadError::FactorNotEnrolled {
            credential: credential.to_owned(),
            factor,
        };
        let presented = &request.factors;
        if presented.pin.is_none() && presented.otp.is_none() && presented.device.is_none() {
            return Err(SadError::NoFactor);
        }
        let mut checked = Checked {
            amr: Vec::new(),
            failed: false,
            otp_step: None,
        };
        if let Some(pin) = &presented.pin {
            let sealed = factors.pin.as_ref().ok_or_else(|| not_enrolled("PIN"))?;
            let verifier = self
                .seed_key
                .open(&pin_aad(credential), &sealed.sealed_verifier)?;
            let verifier = core::str::from_utf8(&verifier).map_err(|_| SadError::CorruptStore {
                what: "PIN verifier",
            })?;
            if pin::verify(pin, verifier)? {
                checked.amr.push(Amr::Pin);
            } else {
                checked.failed = true;
            }
        }
        if let Some(otp) = &presented.otp {
            let sealed = factors.totp.as_ref().ok_or_else(|| not_enrolled("TOTP"))?;
            let seed = TotpSeed::new(
                self.seed_key
                    .open(&seed_aad(credential), &sealed.sealed_seed)?
                    .to_vec(),
            )?;
            match totp::matching_step(&seed, &sealed.config, otp, now, 1) {
                Some(step) => {
                    checked.amr.push(Amr::Otp);
                    checked.otp_step = Some(step);
                }
                None => checked.failed = true,
            }
        }
        if let Some(response) = &presented.device {
            let key = factors
                .device_key
                .as_ref()
                .ok_or_else(|| not_enrolled("device key"))?;
            // A challenge is spent by any answer, right or wrong.
            // The store gives a challenge to one caller only, also across
            // processes sharing it.
            let pending = self
                .challenges
                .take(&response.challenge_id)?
                .filter(|c| c.credential == credential && c.expires > now.0)
                .ok_or(SadError::UnknownChallenge)?;
            let message = challenge_message(
                &pending.nonce,
                &self.config.issuer,
                credential,
                request.mode,
                request.hash_alg,
                request.digests,
            );
            if key.verify(&message, &response.signature) {
                checked.amr.push(Amr::DeviceKey);
            } else {
                checked.failed = true;
            }
        }
        Ok(checked)
    }

    /// Authenticates the signer and, if every presented factor is right and
    /// the credential's SCAL is met, mints a SAD for exactly this request.
    pub fn authorize(
        &self,
        request: &AuthorizationRequest<'_>,
        now: UnixTime,
    ) -> Result<Authorized, SadError> {
        let credential = request.credential;
        let factors = self.factors(credential)?;
        check_request(request, &factors, &self.config)?;
        if self.lockout.load(credential)?.locked {
            return Err(SadError::Locked {
                credential: credential.to_owned(),
            });
        }
        let checked = self.check_factors(request, &factors, now)?;

        // Count the attempt: one atomic, durable update. The closure is
        // pure (it may run more than once): it only reads `state` and the
        // checks made above, and returns its verdict through `state`.
        let max_failures = self.config.max_failures;
        let change = self.lockout.update(credential, &|state| {
            count_attempt(state, &checked, max_failures)
        })?;
        if change.before.locked {
            return Err(SadError::Locked {
                credential: credential.to_owned(),
            });
        }
        if attempt_failed(&change.before, &checked) {
            return Err(SadError::AuthenticationFailed {
                credential: credential.to_owned(),
                failures: change.after.failures,
                locked: change.after.locked,
            });
        }

        let mut jti = [0u8; 16];
        random(&mut jti)?;
        let mut amr = checked.amr;
        amr.sort();
        let claims = SadClaims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub: factors.signer,
            cred: credential.to_owned(),
            mode: request.mode,
            hash_alg: request.hash_alg,
            hashes: request.digests.to_vec(),
            num: request.num,
            scal: factors.scal,
            amr,
            iat: now.0,
            exp: now
                .0
                .saturating_add(request.lifetime.min(self.config.max_lifetime)),
            jti: b64_encode(&jti),
        };
        Ok(Authorized {
            sad: self.key.mint(&claims)?,
            sad_id: claims.jti,
            expires_at: UnixTime(claims.exp),
        })
    }
}

/// A SAD just minted, with what the caller needs to know of it without
/// parsing it again.
#[derive(Debug)]
pub struct Authorized {
    /// The SAD.
    pub sad: Sad,
    /// Its `jti`: the ledger's key and the audit log's reference.
    pub sad_id: String,
    /// Its `exp`.
    pub expires_at: UnixTime,
}

/// Whether an attempt on a credential in state `state` fails: a wrong
/// factor, or a TOTP step at or before the last one accepted.
fn attempt_failed(state: &AuthState, checked: &Checked) -> bool {
    let reused = matches!(
        (checked.otp_step, state.last_otp_step),
        (Some(step), Some(last)) if step <= last
    );
    checked.failed || reused
}

/// The state after one attempt: pure, so a store may run it more than once.
/// A locked credential stays as it is; a failure counts once and locks at
/// `max_failures`; a success resets the count and spends the TOTP step.
fn count_attempt(state: &AuthState, checked: &Checked, max_failures: u32) -> AuthState {
    let mut next = state.clone();
    if state.locked {
        return next;
    }
    if attempt_failed(state, checked) {
        next.failures = state.failures.saturating_add(1);
        next.locked = next.failures >= max_failures;
    } else {
        next.failures = 0;
        if let Some(step) = checked.otp_step {
            next.last_otp_step = Some(step);
        }
    }
    next
}

/// What a request must be before any factor is looked at (no counter moves).
fn check_request(
    request: &AuthorizationRequest<'_>,
    factors: &EnrolledFactors,
    config: &IssuerConfig,
) -> Result<(), SadError> {
    if factors.scal == Scal::Scal2 && request.digests.is_empty() {
        return Err(SadError::HashesNotBound);
    }
    if request.num == 0
        || request.num > config.max_count
        || (!request.digests.is_empty() && request.num as usize > request.digests.len())
    {
        return Err(SadError::BadCount { num: request.num });
    }
    let expected = request.hash_alg.digest_len();
    if let Some(bad) = request.digests.iter().find(|d| d.len() != expected) {
        return Err(SadError::DigestLength {
            expected,
            actual: bad.len(),
        });
    }
    let presented = &request.factors;
    let presented_amr: Vec<Amr> = [
        presented.pin.as_ref().map(|_| Amr::Pin),
        presented.otp.as_ref().map(|_| Amr::Otp),
        presented.device.as_ref().map(|_| Amr::DeviceKey),
    ]
    .into_iter()
    .flatten()
    .collect();
    if factors.scal == Scal::Scal2 && !has_two_classes(&presented_amr) {
        return Err(SadError::InsufficientFactors);
    }
    let unique: std::collections::HashSet<&Vec<u8>> = request.digests.iter().collect();
    if unique.len() != request.digests.len() {
        return Err(SadError::BadDigestList);
    }
    Ok(())
}

fn pin_aad(credential: &str) -> Vec<u8> {
    let mut aad = b"ssa-sad pin verifier\0".to_vec();
    aad.extend(credential.as_bytes());
    aad
}

fn seed_aad(credential: &str) -> Vec<u8> {
    let mut aad = b"ssa-sad totp seed\0".to_vec();
    aad.extend(credential.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{SadAlgorithm, SeedKey};
    use ssa_store::MemoryLockoutStore;

    fn issuer(policy: PinPolicy) -> SadIssuer {
        let Ok((key, _)) = SadSigningKey::generate(SadAlgorithm::EdDsa) else {
            unreachable!("key generation")
        };
        let mut config = IssuerConfig::new("iss", "aud");
        config.pin_policy = policy;
        SadIssuer::new(
            config,
            key,
            SeedKey::from_bytes([9; 32]),
            Arc::new(MemoryLockoutStore::new()),
        )
    }

    fn enrol_pin(issuer: &SadIssuer, credential: &str, pin: &str) -> EnrolledFactors {
        let enrolled = issuer.enroll(Enrolment {
            credential: credential.into(),
            signer: "s".into(),
            scal: Scal::Scal1,
            pin: Some(Pin::new(pin)),
            totp: None,
            device_key: None,
        });
        let Ok(enrolled) = enrolled else {
            unreachable!("enrolment: {enrolled:?}")
        };
        enrolled
    }

    fn request<'a>(credential: &'a str, pin: &str) -> AuthorizationRequest<'a> {
        AuthorizationRequest {
            mode: SigningMode::Document,
            credential,
            hash_alg: HashAlgorithm::Sha256,
            digests: &[],
            num: 1,
            lifetime: 60,
            factors: PresentedFactors {
                pin: Some(Pin::new(pin)),
                ..PresentedFactors::default()
            },
        }
    }

    const NOW: UnixTime = UnixTime(1_800_000_000);

    /// The default cost, once end to end: the sealed verifier opens to an
    /// Argon2id PHC string with OWASP's minimum parameters.
    #[test]
    fn default_policy_hashes_with_owasp_minimum_and_verifies() {
        assert_eq!(IssuerConfig::new("i", "a").pin_policy, PinPolicy::default());
        let issuer = issuer(PinPolicy::default());
        let enrolled = enrol_pin(&issuer, "c", "135790");
        let sealed = enrolled.pin.as_ref().map(|p| p.sealed_verifier.clone());
        let opened = issuer
            .seed_key
            .open(&pin_aad("c"), &sealed.unwrap_or_default())
            .map(|v| String::from_utf8_lossy(&v).into_owned());
        let Ok(verifier) = opened else {
            unreachable!("{opened:?}")
        };
        assert!(
            verifier.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{verifier}"
        );
        assert!(!verifier.contains("135790"));
        assert!(issuer.authorize(&request("c", "135790"), NOW).is_ok());
        assert!(matches!(
            issuer.authorize(&request("c", "135791"), NOW),
            Err(SadError::AuthenticationFailed { failures: 1, .. })
        ));
    }

    /// At rest and in `Debug` the verifier is sealed: no PHC string, no
    /// Argon2 parameters, nothing an offline search could start from.
    #[test]
    fn the_pin_verifier_is_sealed_at_rest_and_in_debug() {
        let issuer = issuer(PinPolicy {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
            min_len: 4,
        });
        let enrolled = enrol_pin(&issuer, "c", "4826");
        let json = serde_json::to_string(&enrolled).unwrap_or_default();
        let debug = format!("{enrolled:?}");
        for shown in [&json, &debug] {
            assert!(!shown.contains("argon2"), "{shown}");
            assert!(!shown.contains("m=64"), "{shown}");
        }
        assert!(debug.contains("SealedPin([redacted])"), "{debug}");
    }

    /// The credential id is the associated data: a verifier copied onto
    /// another credential (whose PIN the attacker knows) does not open.
    #[test]
    fn a_verifier_moved_to_another_credential_does_not_open() {
        let issuer = issuer(PinPolicy {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
            min_len: 4,
        });
        let victim = enrol_pin(&issuer, "victim", "4826");
        let mut moved = enrol_pin(&issuer, "attacker", "1111");
        moved.pin = victim.pin.clone();
        assert!(issuer.restore("attacker-2", moved).is_ok());
        assert!(matches!(
            issuer.authorize(&request("attacker-2", "4826"), NOW),
            Err(SadError::CorruptStore { .. })
        ));
    }
}
