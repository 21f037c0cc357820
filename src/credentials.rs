//! What a server reads about credentials: a signer's own list, and what
//! one credential offers (CSC `credentials/list` and `credentials/info`).
//! A signer never learns of another signer's credentials: asking for one
//! is answered as if it did not exist.

use std::time::SystemTime;

use ssa_sad::Amr;
use ssa_types::{KeyAlgorithm, Scal, SignatureAlgorithm, SigningMode};

use crate::registry::CredentialRecord;
use crate::signing::signing_key;
use crate::{ServiceError, SigningService};

/// What a signer may be told about one of their credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialInfo {
    /// The credential id.
    pub id: String,
    /// The signer who owns it.
    pub signer: String,
    /// The key's algorithm.
    pub key: KeyAlgorithm,
    /// Signature algorithms offered for documents (CAdES) now: they fit
    /// the key, the SCDev makes them, the algorithm policy allows them.
    pub document_algorithms: Vec<SignatureAlgorithm>,
    /// Signature algorithms offered over DTBS/R digests now.
    pub dtbsr_algorithms: Vec<SignatureAlgorithm>,
    /// The certificate chain, signer's first, DER (empty until installed).
    pub chain: Vec<Vec<u8>>,
    /// The SCAL a SAD for it must meet (the credential's or the policy's).
    pub scal: Scal,
    /// The factors the signer has enrolled.
    pub factors: Vec<Amr>,
    /// Most digests one SAD may authorize.
    pub max_digests_per_sad: usize,
    /// Disabled by an administrator: nothing signs.
    pub disabled: bool,
}

impl SigningService {
    /// The ids of `signer`'s credentials, and no one else's.
    pub fn credentials_of(&self, signer: &str) -> Result<Vec<String>, ServiceError> {
        let mut ids: Vec<String> = self
            .inner
            .registry
            .list(Some(signer))?
            .into_iter()
            .map(|record| record.id)
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The signer who owns `credential`, for a server that meets the
    /// signer through the credential (a consent page opened for it): an
    /// unknown credential is [`ServiceError::UnknownCredential`].
    pub fn owner_of(&self, credential: &str) -> Result<String, ServiceError> {
        self.inner
            .registry
            .get(credential)?
            .map(|record| record.signer)
            .ok_or_else(|| ServiceError::UnknownCredential {
                credential: credential.to_owned(),
            })
    }

    /// What `credential` offers, told to `signer`. Another signer's
    /// credential is [`ServiceError::UnknownCredential`], as one that does
    /// not exist. A disabled credential is still described (`disabled`).
    pub fn credential_info(
        &self,
        signer: &str,
        credential: &str,
        now: SystemTime,
    ) -> Result<CredentialInfo, ServiceError> {
        let unknown = || ServiceError::UnknownCredential {
            credential: credential.to_owned(),
        };
        let record = self.inner.registry.get(credential)?.ok_or_else(unknown)?;
        if record.signer != signer {
            return Err(unknown());
        }
        let (_, key) = signing_key(&record)?;
        let required = self.inner.requests.scal_for(credential);
        Ok(CredentialInfo {
            document_algorithms: self.offered(key, SigningMode::Document, now),
            dtbsr_algorithms: self.offered(key, SigningMode::Dtbsr, now),
            scal: record.scal.max(required),
            factors: factors_of(&record),
            max_digests_per_sad: self.inner.requests.max_digests_per_sad,
            id: record.id,
            signer: record.signer,
            key,
            chain: record.chain,
            disabled: record.disabled,
        })
    }

    /// The signature algorithms a `key` key signs with in `mode` at `now`:
    /// exactly those a request may name ([`SigningService::offers`]).
    fn offered(
        &self,
        key: KeyAlgorithm,
        mode: SigningMode,
        now: SystemTime,
    ) -> Vec<SignatureAlgorithm> {
        SignatureAlgorithm::ALL
            .into_iter()
            .filter(|algorithm| self.offers(key, *algorithm, mode, now).is_ok())
            .collect()
    }
}

fn factors_of(record: &CredentialRecord) -> Vec<Amr> {
    let factors = &record.factors;
    [
        factors.pin.as_ref().map(|_| Amr::Pin),
        factors.totp.as_ref().map(|_| Amr::Otp),
        factors.device_key.as_ref().map(|_| Amr::DeviceKey),
    ]
    .into_iter()
    .flatten()
    .collect()
}
