//! What a server's OAuth2 flow hands out and takes back: a consent page's
//! session, an authorization code, a credential-scoped access token, a
//! refresh token. Each is kept under the hash of its secret (the caller's
//! choice of hash, as printable text of at most
//! [`MAX_KEY_LEN`](crate::durable::MAX_KEY_LEN) bytes), its content sealed
//! by the caller under a key only the secret gives: the store sees a kind,
//! an expiry and opaque bytes. A grant taken is gone for every handle, in
//! every process or node that shares the store: a code is exchanged once.

use core::fmt;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::durable::{file_name, sync_dir, unique_suffix, write_atomic};
use crate::error::{StoreError, io};
use crate::lock;

/// One grant, until it expires or is taken.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// What it is (`"page"`, `"code"`, `"token"`, `"refresh"`: the
    /// caller's names); a grant of one kind is never read as another.
    pub kind: String,
    /// It is refused from this time on (seconds since the Unix epoch).
    pub expires: u64,
    /// Its content, sealed by the caller.
    pub sealed: Vec<u8>,
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("kind", &self.kind)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// Where grants live.
pub trait GrantStore: Send + Sync + fmt::Debug {
    /// Stores `grant` under `key` (a fresh key: the hash of a new secret),
    /// and forgets the grants that expired by `now`.
    fn put(&self, key: &str, grant: &Grant, now: u64) -> Result<(), StoreError>;

    /// The grant under `key`, left in place (expiry is the caller's to
    /// judge), or `None` (also for a key no store could hold).
    fn get(&self, key: &str) -> Result<Option<Grant>, StoreError>;

    /// Removes the grant under `key` and returns it. Of every caller that
    /// asks for the same key, through any handle in any process sharing
    /// the store, at most one gets it.
    fn take(&self, key: &str) -> Result<Option<Grant>, StoreError>;
}

/// Grants in memory: lost when the process ends; one process only.
#[derive(Debug, Default)]
pub struct MemoryGrantStore {
    grants: Mutex<HashMap<String, Grant>>,
}

impl MemoryGrantStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl GrantStore for MemoryGrantStore {
    fn put(&self, key: &str, grant: &Grant, now: u64) -> Result<(), StoreError> {
        file_name(key, "grant")?;
        let mut grants = lock(&self.grants);
        grants.retain(|_, g| g.expires > now);
        grants.insert(key.to_owned(), grant.clone());
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        Ok(lock(&self.grants).get(key).cloned())
    }

    fn take(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        Ok(lock(&self.grants).remove(key))
    }
}

/// Grants in one directory, a file each, for processes sharing it. A grant
/// is written whole (a temporary file renamed into place); `take` renames
/// it to a name only that call knows before reading it, so one caller
/// gets it however many processes race.
#[derive(Debug)]
pub struct FileGrantStore {
    dir: PathBuf,
}

impl FileGrantStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io("create grant directory", &dir))?;
        Ok(Self { dir })
    }

    fn read(path: &Path) -> Result<Option<Grant>, StoreError> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| StoreError::Corrupt { what: "grant" }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read grant", path)(e)),
        }
    }

    /// Removes expired grants (best effort: another process may be
    /// sweeping too).
    fn sweep(&self, now: u64) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "grant")
                && Self::read(&path).is_ok_and(|g| g.is_some_and(|g| g.expires <= now))
            {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

impl GrantStore for FileGrantStore {
    fn put(&self, key: &str, grant: &Grant, now: u64) -> Result<(), StoreError> {
        let path = self.dir.join(file_name(key, "grant")?);
        self.sweep(now);
        let bytes = serde_json::to_vec(grant).map_err(|_| StoreError::Corrupt { what: "grant" })?;
        write_atomic(&path, &bytes)
    }

    fn get(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        // The key comes from a client's secret: one no store could hold
        // was never issued.
        let Ok(name) = file_name(key, "grant") else {
            return Ok(None);
        };
        Self::read(&self.dir.join(name))
    }

    fn take(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        let Ok(name) = file_name(key, "grant") else {
            return Ok(None);
        };
        let path = self.dir.join(&name);
        let claimed = self.dir.join(format!(".{name}.taken-{}", unique_suffix()?));
        match fs::rename(&path, &claimed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("take grant", &path)(e)),
        }
        let grant = Self::read(&claimed);
        fs::remove_file(&claimed).map_err(io("remove taken grant", &claimed))?;
        sync_dir(&self.dir)?;
        grant
    }
}
