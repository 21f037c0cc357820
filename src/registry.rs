//! Where credentials live: the signer, the SCDev key, the certificate
//! chain, the SCAL and the enrolled factors (sealed PIN verifiers and seeds
//! only). The records are JSON in a [`CredentialStore`] (a trait of
//! `ssa-store`: in memory, a directory, or another crate's backend); the
//! [`CredentialRegistry`] reads and writes them typed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ssa_sad::EnrolledFactors;
use ssa_store::{CredentialStore, Inserted, StoreError, StoredCredential};

use crate::ServiceError;

/// One credential, as stored. Holds no secret in the clear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// The credential id.
    pub id: String,
    /// The signer.
    pub signer: String,
    /// The SCDev key id, hex.
    pub key_id: String,
    /// The SCDev key's SubjectPublicKeyInfo, DER.
    pub public_key: Vec<u8>,
    /// The certificate chain, signer's first, DER (empty until installed).
    pub chain: Vec<Vec<u8>>,
    /// SCAL the credential requires (stored as 1 or 2).
    pub scal: ssa_types::Scal,
    /// Disabled by an administrator: nothing signs.
    pub disabled: bool,
    /// The authenticator's enrolment.
    pub factors: EnrolledFactors,
    /// A role the signer claims (electronic delegation, type a).
    #[serde(default)]
    pub claimed_role: Option<String>,
    /// RFC 5755 attribute certificates (DER) for the signer (types b and c).
    #[serde(default)]
    pub delegations: Vec<Vec<u8>>,
}

/// The service's typed view of a [`CredentialStore`]: a record is stored
/// as JSON under its id and signer. A record whose id or signer is not the
/// one it is stored under is refused as corrupt (a file copied over
/// another credential's signs nothing).
#[derive(Clone, Debug)]
pub struct CredentialRegistry {
    store: Arc<dyn CredentialStore>,
}

fn store_error(error: StoreError) -> ServiceError {
    match error {
        StoreError::InvalidKey { reason } => ServiceError::InvalidCredentialId { reason },
        other => ServiceError::Store(other),
    }
}

const CORRUPT: ServiceError = ServiceError::Corrupt {
    what: "credential record",
};

pub(crate) fn decode(stored: &StoredCredential) -> Result<CredentialRecord, ServiceError> {
    let record: CredentialRecord = serde_json::from_slice(&stored.record).map_err(|_| CORRUPT)?;
    if record.id != stored.id || record.signer != stored.signer {
        return Err(CORRUPT);
    }
    Ok(record)
}

fn encode(record: &CredentialRecord) -> Result<Vec<u8>, ServiceError> {
    serde_json::to_vec_pretty(record).map_err(|_| CORRUPT)
}

impl CredentialRegistry {
    /// The registry over `store`.
    pub fn new(store: Arc<dyn CredentialStore>) -> Self {
        Self { store }
    }

    /// Refuses an id no credential store holds: empty, or longer than
    /// [`ssa_store::MAX_ID_LEN`] bytes ([`ServiceError::InvalidCredentialId`]).
    pub fn check_id(id: &str) -> Result<(), ServiceError> {
        ssa_store::durable::file_name(id, "credential")
            .map(|_| ())
            .map_err(store_error)
    }

    /// The credential `id`, or `None` (also for an id no store could hold).
    pub fn get(&self, id: &str) -> Result<Option<CredentialRecord>, ServiceError> {
        self.store
            .get(id)
            .map_err(store_error)?
            .map(|stored| decode(&stored))
            .transpose()
    }

    /// The record of `id` as its store holds it (bytes not yet decoded).
    pub(crate) fn get_stored(&self, id: &str) -> Result<Option<StoredCredential>, ServiceError> {
        self.store.get(id).map_err(store_error)
    }

    /// Stores a new credential; refuses an existing id
    /// ([`ServiceError::CredentialExists`]) and one the store cannot hold
    /// ([`ServiceError::InvalidCredentialId`]).
    pub fn create(&self, record: &CredentialRecord) -> Result<(), ServiceError> {
        let stored = StoredCredential {
            id: record.id.clone(),
            signer: record.signer.clone(),
            record: encode(record)?,
        };
        match self.store.create(&stored).map_err(store_error)? {
            Inserted::Stored => Ok(()),
            Inserted::Exists => Err(ServiceError::CredentialExists {
                credential: record.id.clone(),
            }),
        }
    }

    /// Applies `change` to the credential `id` and stores it; the store may
    /// run `change` more than once. The id and the signer cannot change.
    pub fn update(
        &self,
        id: &str,
        change: &dyn Fn(&mut CredentialRecord),
    ) -> Result<CredentialRecord, ServiceError> {
        let apply = |bytes: &[u8]| -> Result<Vec<u8>, StoreError> {
            let corrupt = StoreError::Corrupt {
                what: "credential record",
            };
            let mut record: CredentialRecord =
                serde_json::from_slice(bytes).map_err(|_| StoreError::Corrupt {
                    what: "credential record",
                })?;
            let (id_before, signer_before) = (record.id.clone(), record.signer.clone());
            change(&mut record);
            if record.id != id_before || record.signer != signer_before || record.id != id {
                return Err(corrupt);
            }
            serde_json::to_vec_pretty(&record).map_err(|_| corrupt)
        };
        let bytes = self
            .store
            .update(id, &apply)
            .map_err(store_error)?
            .ok_or_else(|| ServiceError::UnknownCredential {
                credential: id.to_owned(),
            })?;
        let record: CredentialRecord = serde_json::from_slice(&bytes).map_err(|_| CORRUPT)?;
        Ok(record)
    }

    /// Every credential, or `signer`'s only, in id order.
    pub fn list(&self, signer: Option<&str>) -> Result<Vec<CredentialRecord>, ServiceError> {
        self.store
            .list(signer)
            .map_err(store_error)?
            .iter()
            .map(decode)
            .collect()
    }
}

/// The registry as the issuer's enrolment store: a credential's enrolment
/// is its record's sealed factors, read at every authorization. Enrolments
/// are written with the record ([`CredentialRegistry::create`]), never
/// through this view.
#[derive(Debug)]
pub(crate) struct RegistryEnrolments(pub(crate) CredentialRegistry);

fn backend(what: &'static str, error: ServiceError) -> StoreError {
    StoreError::Backend {
        what,
        source: Box::new(error),
    }
}

impl ssa_store::EnrolmentStore for RegistryEnrolments {
    fn insert(&self, _credential: &str, _enrolment: &[u8]) -> Result<Inserted, StoreError> {
        Err(StoreError::Backend {
            what: "enrolment",
            source: "the service enrols with the credential record".into(),
        })
    }

    fn get(&self, credential: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(record) = self
            .0
            .get(credential)
            .map_err(|e| backend("read enrolment", e))?
        else {
            return Ok(None);
        };
        serde_json::to_vec(&record.factors)
            .map(Some)
            .map_err(|_| StoreError::Corrupt { what: "enrolment" })
    }

    fn remove(&self, _credential: &str) -> Result<bool, StoreError> {
        Err(StoreError::Backend {
            what: "enrolment",
            source: "the service removes enrolments with the credential record".into(),
        })
    }
}
