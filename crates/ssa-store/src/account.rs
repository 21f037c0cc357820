//! Signers' accounts at a server: what the server checks a login against
//! (a password verifier, as its writer encoded it). Opaque bytes: nothing
//! in them is a secret in the clear.

use core::fmt;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::durable::{file_name, write_atomic};
use crate::error::{StoreError, io};
use crate::lock;

/// Where signers' accounts live. `put` replaces a record whole: every
/// handle sees the old record or the new one, never a mix.
pub trait AccountStore: Send + Sync + fmt::Debug {
    /// Stores `record` as `signer`'s account, replacing any earlier one.
    fn put(&self, signer: &str, record: &[u8]) -> Result<(), StoreError>;
    /// `signer`'s account record, or `None` (also for a name no store
    /// could hold).
    fn get(&self, signer: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Accounts in memory: lost when the process ends; one process only.
/// `Debug` says how many, never what.
#[derive(Default)]
pub struct MemoryAccountStore {
    accounts: Mutex<HashMap<String, Vec<u8>>>,
}

impl fmt::Debug for MemoryAccountStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryAccountStore")
            .field("accounts", &lock(&self.accounts).len())
            .finish()
    }
}

impl MemoryAccountStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl AccountStore for MemoryAccountStore {
    fn put(&self, signer: &str, record: &[u8]) -> Result<(), StoreError> {
        file_name(signer, "account")?;
        lock(&self.accounts).insert(signer.to_owned(), record.to_vec());
        Ok(())
    }

    fn get(&self, signer: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.accounts).get(signer).cloned())
    }
}

/// Accounts in one directory, a file each, written whole (a temporary
/// file renamed into place), for processes sharing it.
#[derive(Debug)]
pub struct FileAccountStore {
    dir: PathBuf,
}

impl FileAccountStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io("create account directory", &dir))?;
        Ok(Self { dir })
    }
}

impl AccountStore for FileAccountStore {
    fn put(&self, signer: &str, record: &[u8]) -> Result<(), StoreError> {
        write_atomic(&self.dir.join(file_name(signer, "account")?), record)
    }

    fn get(&self, signer: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Ok(name) = file_name(signer, "account") else {
            return Ok(None);
        };
        let path = self.dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read account", &path)(e)),
        }
    }
}
