//! Credentials: what a store indexes (the id, the signer) and the record
//! the service wrote, as opaque bytes. Nothing in a record is secret in the
//! clear (PIN verifiers and seeds are sealed before they get here).

use core::fmt;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::Inserted;
use crate::durable::{MAX_KEY_LEN, file_name, hex, lock_file, unhex, write_atomic};
use crate::error::{StoreError, io};
use crate::lock;

/// One credential as a store keeps it. `Debug` leaves the record out.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The credential id: 1 to [`MAX_KEY_LEN`] bytes.
    pub id: String,
    /// The signer who owns it (a store can list by it). Fixed at creation.
    pub signer: String,
    /// The record, as its writer encoded it.
    pub record: Vec<u8>,
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("signer", &self.signer)
            .field("record_len", &self.record.len())
            .finish()
    }
}

/// A change to a record: the new record from the stored one, or an error
/// that leaves the record as it is. A store may run it more than once (a
/// database retrying a transaction), so it must be a pure function.
pub type RecordChange<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, StoreError>;

/// Where credentials live. `update` is atomic per credential across every
/// handle on the store (threads, processes, nodes): no change is lost.
pub trait CredentialStore: Send + Sync + fmt::Debug {
    /// The credential `id`, or `None` (also for an id no store could hold).
    fn get(&self, id: &str) -> Result<Option<StoredCredential>, StoreError>;
    /// Stores a new credential, unless its id exists already. An id the
    /// store cannot hold is [`StoreError::InvalidKey`].
    fn create(&self, credential: &StoredCredential) -> Result<Inserted, StoreError>;
    /// Replaces the record of `id` with `change(record)`; the new record,
    /// or `None` if there is no such credential.
    fn update(&self, id: &str, change: RecordChange<'_>) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every credential, or the signer's only, in id order.
    fn list(&self, signer: Option<&str>) -> Result<Vec<StoredCredential>, StoreError>;
}

fn check_id(id: &str) -> Result<(), StoreError> {
    file_name(id, "credential").map(|_| ())
}

/// Credentials in memory: lost when the process ends; one process only.
/// `Debug` says how many, never what (records hold sealed factors).
#[derive(Default)]
pub struct MemoryCredentialStore {
    credentials: Mutex<BTreeMap<String, StoredCredential>>,
}

impl fmt::Debug for MemoryCredentialStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCredentialStore")
            .field("credentials", &lock(&self.credentials).len())
            .finish()
    }
}

impl MemoryCredentialStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CredentialStore for MemoryCredentialStore {
    fn get(&self, id: &str) -> Result<Option<StoredCredential>, StoreError> {
        Ok(lock(&self.credentials).get(id).cloned())
    }

    fn create(&self, credential: &StoredCredential) -> Result<Inserted, StoreError> {
        // The same ids as the file store, so a backend swap changes nothing.
        check_id(&credential.id)?;
        let mut credentials = lock(&self.credentials);
        if credentials.contains_key(&credential.id) {
            return Ok(Inserted::Exists);
        }
        credentials.insert(credential.id.clone(), credential.clone());
        Ok(Inserted::Stored)
    }

    fn update(&self, id: &str, change: RecordChange<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        let mut credentials = lock(&self.credentials);
        let Some(stored) = credentials.get_mut(id) else {
            return Ok(None);
        };
        stored.record = change(&stored.record)?;
        Ok(Some(stored.record.clone()))
    }

    fn list(&self, signer: Option<&str>) -> Result<Vec<StoredCredential>, StoreError> {
        Ok(lock(&self.credentials)
            .values()
            .filter(|c| signer.is_none_or(|s| c.signer == s))
            .cloned()
            .collect())
    }
}

/// Credentials in one directory, one file each (named by the id in hex),
/// replaced atomically (temporary file, fsync, rename, fsync of the
/// directory). Every create and update holds an exclusive lock on
/// `credentials.lock`, so several processes can share the directory.
///
/// A file is one header line, the id and the signer in hex, then the record
/// as it was given.
#[derive(Debug)]
pub struct FileCredentialStore {
    dir: PathBuf,
    /// The file lock excludes other open file descriptions (processes);
    /// this mutex excludes threads sharing this one.
    lock_file: Mutex<File>,
}

const EXTENSION: &str = "credential";

impl FileCredentialStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io("create credential directory", &dir))?;
        let lock_path = dir.join("credentials.lock");
        let lock_file = lock_file(&lock_path)?;
        Ok(Self {
            dir,
            lock_file: Mutex::new(lock_file),
        })
    }

    fn read(path: &Path) -> Result<Option<StoredCredential>, StoreError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read credential", path)(e)),
        };
        let corrupt = || StoreError::Corrupt { what: "credential" };
        let end = bytes.iter().position(|b| *b == b'\n').ok_or_else(corrupt)?;
        let header = core::str::from_utf8(&bytes[..end]).map_err(|_| corrupt())?;
        let (id, signer) = header.split_once(' ').ok_or_else(corrupt)?;
        let text = |h: &str| {
            unhex(h)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(corrupt)
        };
        Ok(Some(StoredCredential {
            id: text(id)?,
            signer: text(signer)?,
            record: bytes[end + 1..].to_vec(),
        }))
    }

    fn write(&self, credential: &StoredCredential) -> Result<(), StoreError> {
        let path = self.dir.join(file_name(&credential.id, EXTENSION)?);
        let mut bytes = format!(
            "{} {}\n",
            hex(credential.id.as_bytes()),
            hex(credential.signer.as_bytes())
        )
        .into_bytes();
        bytes.extend_from_slice(&credential.record);
        write_atomic(&path, &bytes)
    }

    fn locked<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let lock_file = lock(&self.lock_file);
        lock_file
            .lock()
            .map_err(io("lock credentials", &self.dir))?;
        let result = f();
        let _ = lock_file.unlock();
        result
    }
}

impl CredentialStore for FileCredentialStore {
    fn get(&self, id: &str) -> Result<Option<StoredCredential>, StoreError> {
        let Ok(name) = file_name(id, EXTENSION) else {
            return Ok(None);
        };
        Self::read(&self.dir.join(name))
    }

    fn create(&self, credential: &StoredCredential) -> Result<Inserted, StoreError> {
        let path = self.dir.join(file_name(&credential.id, EXTENSION)?);
        self.locked(|| {
            if Self::read(&path)?.is_some() {
                return Ok(Inserted::Exists);
            }
            self.write(credential)?;
            Ok(Inserted::Stored)
        })
    }

    fn update(&self, id: &str, change: RecordChange<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        let Ok(name) = file_name(id, EXTENSION) else {
            return Ok(None);
        };
        let path = self.dir.join(name);
        self.locked(|| {
            let Some(mut stored) = Self::read(&path)? else {
                return Ok(None);
            };
            stored.record = change(&stored.record)?;
            self.write(&stored)?;
            Ok(Some(stored.record))
        })
    }

    fn list(&self, signer: Option<&str>) -> Result<Vec<StoredCredential>, StoreError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io("list credentials", &self.dir))? {
            let path = entry.map_err(io("list credentials", &self.dir))?.path();
            if path.extension().is_some_and(|e| e == EXTENSION)
                && let Some(stored) = Self::read(&path)?
                && signer.is_none_or(|s| stored.signer == s)
            {
                out.push(stored);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

/// The longest id a [`CredentialStore`] of this crate holds.
pub const MAX_ID_LEN: usize = MAX_KEY_LEN;
