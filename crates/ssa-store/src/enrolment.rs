//! Credentials' enrolled factors, as the authenticator sealed them. The
//! store keeps opaque bytes: nothing in them is secret in the clear (PIN
//! verifiers and TOTP seeds are sealed before they get here), and what
//! they mean is the authenticator's business.

use core::fmt;
use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::durable::{file_name, sync_dir, unique_suffix};
use crate::error::{StoreError, io};
use crate::lock;

/// Whether an insert-once store (enrolments, credentials) stored the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Inserted {
    /// Stored: the key was free.
    Stored,
    /// Nothing changed: the key holds a value already.
    Exists,
}

/// Where enrolments live. Every handle on a store sees every enrolment as
/// soon as `insert` returns (a second process enrolled nothing it cannot
/// see), and of racing inserts for one credential exactly one stores.
pub trait EnrolmentStore: Send + Sync + fmt::Debug {
    /// Stores `credential`'s enrolment, unless it is enrolled already.
    fn insert(&self, credential: &str, enrolment: &[u8]) -> Result<Inserted, StoreError>;
    /// `credential`'s enrolment, or `None`.
    fn get(&self, credential: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes `credential`'s enrolment; `false` if there was none.
    fn remove(&self, credential: &str) -> Result<bool, StoreError>;
}

/// Enrolments in memory: lost when the process ends; one process only.
/// `Debug` says how many, never what (sealed PIN verifiers and seeds stay
/// out of logs even sealed).
#[derive(Default)]
pub struct MemoryEnrolmentStore {
    enrolled: Mutex<HashMap<String, Vec<u8>>>,
}

impl fmt::Debug for MemoryEnrolmentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryEnrolmentStore")
            .field("enrolments", &lock(&self.enrolled).len())
            .finish()
    }
}

impl MemoryEnrolmentStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl EnrolmentStore for MemoryEnrolmentStore {
    fn insert(&self, credential: &str, enrolment: &[u8]) -> Result<Inserted, StoreError> {
        // The same keys as the file store, so a backend swap changes nothing.
        file_name(credential, "enrolment")?;
        let mut enrolled = lock(&self.enrolled);
        if enrolled.contains_key(credential) {
            return Ok(Inserted::Exists);
        }
        enrolled.insert(credential.to_owned(), enrolment.to_vec());
        Ok(Inserted::Stored)
    }

    fn get(&self, credential: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.enrolled).get(credential).cloned())
    }

    fn remove(&self, credential: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.enrolled).remove(credential).is_some())
    }
}

/// Enrolments in one directory, a file each, for processes sharing it. An
/// enrolment is written whole to a temporary file, fsynced, then linked to
/// its name: a link fails if the name exists, so of racing inserts one
/// stores, and no reader ever sees half an enrolment.
#[derive(Debug)]
pub struct FileEnrolmentStore {
    dir: PathBuf,
}

impl FileEnrolmentStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io("create enrolment directory", &dir))?;
        Ok(Self { dir })
    }

    fn path(&self, credential: &str) -> Result<PathBuf, StoreError> {
        Ok(self.dir.join(file_name(credential, "enrolment")?))
    }
}

impl EnrolmentStore for FileEnrolmentStore {
    fn insert(&self, credential: &str, enrolment: &[u8]) -> Result<Inserted, StoreError> {
        let path = self.path(credential)?;
        let temp = self.dir.join(format!(".{}.tmp", unique_suffix()?));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(enrolment)?;
                file.sync_all()
            });
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(io("write enrolment", &temp)(e));
        }
        let linked = fs::hard_link(&temp, &path);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(Inserted::Stored)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Inserted::Exists),
            Err(e) => Err(io("link enrolment", &path)(e)),
        }
    }

    fn get(&self, credential: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Ok(path) = self.path(credential) else {
            // No enrolment could have been stored under this id.
            return Ok(None);
        };
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read enrolment", &path)(e)),
        }
    }

    fn remove(&self, credential: &str) -> Result<bool, StoreError> {
        let Ok(path) = self.path(credential) else {
            return Ok(false);
        };
        match fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io("remove enrolment", &path)(e)),
        }
    }
}
