//! Where credentials live: the signer, the SCDev key, the certificate
//! chain, the SCAL and the enrolled factors (sealed PIN verifiers and seeds only).

use core::fmt;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use ssa_sad::EnrolledFactors;

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

/// Storage of credentials. `update` must be atomic per credential, also
/// across processes for a shared store.
pub trait CredentialRegistry: Send + Sync + fmt::Debug {
    /// The credential `id`.
    fn get(&self, id: &str) -> Result<Option<CredentialRecord>, ServiceError>;
    /// Stores a new credential; refuses an existing id.
    fn create(&self, record: &CredentialRecord) -> Result<(), ServiceError>;
    /// Applies `change` to the credential `id` and stores it.
    fn update(
        &self,
        id: &str,
        change: &mut dyn FnMut(&mut CredentialRecord),
    ) -> Result<CredentialRecord, ServiceError>;
    /// Every credential.
    fn list(&self) -> Result<Vec<CredentialRecord>, ServiceError>;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Credentials in memory.
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    records: Mutex<BTreeMap<String, CredentialRecord>>,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CredentialRegistry for MemoryRegistry {
    fn get(&self, id: &str) -> Result<Option<CredentialRecord>, ServiceError> {
        Ok(lock(&self.records).get(id).cloned())
    }

    fn create(&self, record: &CredentialRecord) -> Result<(), ServiceError> {
        let mut records = lock(&self.records);
        if records.contains_key(&record.id) {
            return Err(ServiceError::CredentialExists {
                credential: record.id.clone(),
            });
        }
        records.insert(record.id.clone(), record.clone());
        Ok(())
    }

    fn update(
        &self,
        id: &str,
        change: &mut dyn FnMut(&mut CredentialRecord),
    ) -> Result<CredentialRecord, ServiceError> {
        let mut records = lock(&self.records);
        let record = records
            .get_mut(id)
            .ok_or_else(|| ServiceError::UnknownCredential {
                credential: id.to_owned(),
            })?;
        change(record);
        Ok(record.clone())
    }

    fn list(&self) -> Result<Vec<CredentialRecord>, ServiceError> {
        Ok(lock(&self.records).values().cloned().collect())
    }
}

/// Credentials in one directory, one JSON file each, replaced atomically
/// (temporary file, fsync, rename, fsync directory). Every change holds an
/// exclusive lock on `registry.lock`, so several processes can share it.
///
/// A file is named by the credential id in hex, so an id must be 1 to
/// [`FileRegistry::MAX_ID_LEN`] bytes: an empty id would be stored as
/// `.json`, which `list` never returns, and a longer one would overflow a
/// file name. Such ids are refused ([`ServiceError::InvalidCredentialId`]).
#[derive(Debug)]
pub struct FileRegistry {
    dir: PathBuf,
    lock_file: File,
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ServiceError {
    let path = path.to_path_buf();
    move |source| ServiceError::Io { what, path, source }
}

impl FileRegistry {
    /// The longest credential id stored: its hex name plus `.json.tmp`
    /// stays within the usual 255-byte file-name limit.
    pub const MAX_ID_LEN: usize = 120;

    fn check_id(id: &str) -> Result<(), ServiceError> {
        let reason = if id.is_empty() {
            "empty"
        } else if id.len() > Self::MAX_ID_LEN {
            "longer than the file registry stores"
        } else {
            return Ok(());
        };
        Err(ServiceError::InvalidCredentialId { reason })
    }

    /// Opens (creating it if needed) the registry in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, ServiceError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io("create registry", &dir))?;
        let lock_path = dir.join("registry.lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("open registry lock", &lock_path))?;
        Ok(Self { dir, lock_file })
    }

    fn path(&self, id: &str) -> PathBuf {
        let name: String = id.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    fn read(&self, path: &Path) -> Result<Option<CredentialRecord>, ServiceError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|_| ServiceError::Corrupt {
                        what: "credential record",
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read credential", path)(e)),
        }
    }

    fn write(&self, path: &Path, record: &CredentialRecord) -> Result<(), ServiceError> {
        let bytes = serde_json::to_vec_pretty(record).map_err(|_| ServiceError::Corrupt {
            what: "credential record",
        })?;
        let temp = path.with_extension("json.tmp");
        let mut file = File::create(&temp).map_err(io("write credential", &temp))?;
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(io("write credential", &temp))?;
        std::fs::rename(&temp, path).map_err(io("rename credential", path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync registry", &self.dir))
    }

    fn locked<T>(&self, f: impl FnOnce() -> Result<T, ServiceError>) -> Result<T, ServiceError> {
        self.lock_file
            .lock()
            .map_err(io("lock registry", &self.dir))?;
        let result = f();
        let _ = self.lock_file.unlock();
        result
    }
}

impl CredentialRegistry for FileRegistry {
    fn get(&self, id: &str) -> Result<Option<CredentialRecord>, ServiceError> {
        Self::check_id(id)?;
        self.read(&self.path(id))
    }

    fn create(&self, record: &CredentialRecord) -> Result<(), ServiceError> {
        Self::check_id(&record.id)?;
        self.locked(|| {
            let path = self.path(&record.id);
            if self.read(&path)?.is_some() {
                return Err(ServiceError::CredentialExists {
                    credential: record.id.clone(),
                });
            }
            self.write(&path, record)
        })
    }

    fn update(
        &self,
        id: &str,
        change: &mut dyn FnMut(&mut CredentialRecord),
    ) -> Result<CredentialRecord, ServiceError> {
        Self::check_id(id)?;
        self.locked(|| {
            let path = self.path(id);
            let mut record = self
                .read(&path)?
                .ok_or_else(|| ServiceError::UnknownCredential {
                    credential: id.to_owned(),
                })?;
            change(&mut record);
            self.write(&path, &record)?;
            Ok(record)
        })
    }

    fn list(&self) -> Result<Vec<CredentialRecord>, ServiceError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io("list registry", &self.dir))? {
            let path = entry.map_err(io("list registry", &self.dir))?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Some(record) = self.read(&path)?
            {
                out.push(record);
            }
        }
        Ok(out)
    }
}

/// The registry as the issuer's enrolment store: a credential's enrolment
/// is its record's sealed factors, read at every authorization. Enrolments
/// are written with the record ([`CredentialRegistry::create`]), never
/// through this view.
#[derive(Debug)]
pub(crate) struct RegistryEnrolments(pub(crate) std::sync::Arc<dyn CredentialRegistry>);

fn backend(what: &'static str, error: ServiceError) -> ssa_sad::StoreError {
    ssa_sad::StoreError::Backend {
        what,
        source: Box::new(error),
    }
}

impl ssa_sad::EnrolmentStore for RegistryEnrolments {
    fn insert(
        &self,
        _credential: &str,
        _enrolment: &[u8],
    ) -> Result<ssa_sad::Inserted, ssa_sad::StoreError> {
        Err(ssa_sad::StoreError::Backend {
            what: "enrolment",
            source: "the service enrols with the credential record".into(),
        })
    }

    fn get(&self, credential: &str) -> Result<Option<Vec<u8>>, ssa_sad::StoreError> {
        let Some(record) = self
            .0
            .get(credential)
            .map_err(|e| backend("read enrolment", e))?
        else {
            return Ok(None);
        };
        serde_json::to_vec(&record.factors)
            .map(Some)
            .map_err(|_| ssa_sad::StoreError::Corrupt { what: "enrolment" })
    }

    fn remove(&self, _credential: &str) -> Result<bool, ssa_sad::StoreError> {
        Err(ssa_sad::StoreError::Backend {
            what: "enrolment",
            source: "the service removes enrolments with the credential record".into(),
        })
    }
}
