//! Bearer tokens of a server's signers: what a token stands for, kept
//! under the token's hash only. The token itself (256 random bits) goes to
//! the client and nowhere else; a store that leaks gives no one a token.

use core::fmt;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::durable::{file_name, sync_dir, write_atomic};
use crate::error::{StoreError, io};
use crate::lock;

/// What a bearer token stands for, until it expires or is revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BearerSession {
    /// The signer it was issued to.
    pub signer: String,
    /// When it was issued (seconds since the Unix epoch).
    pub issued: u64,
    /// It is refused from this time on (seconds since the Unix epoch).
    pub expires: u64,
}

/// Where bearer sessions live, keyed by the hash of their token (the
/// caller's choice of hash, as printable text of at most
/// [`MAX_KEY_LEN`](crate::durable::MAX_KEY_LEN) bytes). Every handle sees a
/// session as soon as `put` returns, and none sees it after `revoke`
/// returned: a token revoked on one node is refused on every node.
pub trait BearerTokenStore: Send + Sync + fmt::Debug {
    /// Stores `session` under `key`, and forgets the sessions that expired
    /// by `now`.
    fn put(&self, key: &str, session: &BearerSession, now: u64) -> Result<(), StoreError>;
    /// The session under `key`, expired or not (expiry is the caller's to
    /// judge), or `None` (also for a key no store could hold).
    fn get(&self, key: &str) -> Result<Option<BearerSession>, StoreError>;
    /// Forgets the session under `key`; `false` if there was none.
    fn revoke(&self, key: &str) -> Result<bool, StoreError>;
}

/// Bearer sessions in memory: lost when the process ends; one process only.
#[derive(Debug, Default)]
pub struct MemoryBearerTokenStore {
    sessions: Mutex<HashMap<String, BearerSession>>,
}

impl MemoryBearerTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl BearerTokenStore for MemoryBearerTokenStore {
    fn put(&self, key: &str, session: &BearerSession, now: u64) -> Result<(), StoreError> {
        file_name(key, "bearer")?;
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(key.to_owned(), session.clone());
        Ok(())
    }

    fn get(&self, key: &str) -> Result<Option<BearerSession>, StoreError> {
        Ok(lock(&self.sessions).get(key).cloned())
    }

    fn revoke(&self, key: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.sessions).remove(key).is_some())
    }
}

/// Bearer sessions in one directory, a file each, for processes sharing
/// it. A session is written whole (a temporary file renamed into place)
/// and revoked by removing its file, so every process sees it at once.
#[derive(Debug)]
pub struct FileBearerTokenStore {
    dir: PathBuf,
}

impl FileBearerTokenStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io("create bearer token directory", &dir))?;
        Ok(Self { dir })
    }

    fn read(path: &Path) -> Result<Option<BearerSession>, StoreError> {
        match fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|_| StoreError::Corrupt {
                        what: "bearer session",
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read bearer session", path)(e)),
        }
    }

    /// Removes expired sessions (best effort: another process may be
    /// sweeping too).
    fn sweep(&self, now: u64) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "bearer")
                && Self::read(&path).is_ok_and(|s| s.is_some_and(|s| s.expires <= now))
            {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

impl BearerTokenStore for FileBearerTokenStore {
    fn put(&self, key: &str, session: &BearerSession, now: u64) -> Result<(), StoreError> {
        let path = self.dir.join(file_name(key, "bearer")?);
        self.sweep(now);
        let bytes = serde_json::to_vec(session).map_err(|_| StoreError::Corrupt {
            what: "bearer session",
        })?;
        write_atomic(&path, &bytes)
    }

    fn get(&self, key: &str) -> Result<Option<BearerSession>, StoreError> {
        // The key comes from a client's token: one no store could hold was
        // never issued.
        let Ok(name) = file_name(key, "bearer") else {
            return Ok(None);
        };
        Self::read(&self.dir.join(name))
    }

    fn revoke(&self, key: &str) -> Result<bool, StoreError> {
        let Ok(name) = file_name(key, "bearer") else {
            return Ok(false);
        };
        let path = self.dir.join(name);
        match fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io("revoke bearer session", &path)(e)),
        }
    }
}
