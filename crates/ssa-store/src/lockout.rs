//! Failure counting and lockout, per credential: the state and its store.

use core::fmt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::durable::{file_name, write_atomic};
use crate::error::{StoreError, io};
use crate::lock;

/// The authentication state of one credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthState {
    /// Consecutive failed attempts.
    pub failures: u32,
    /// Locked: every attempt is refused until an admin unlocks.
    pub locked: bool,
    /// The last TOTP step accepted: it and every earlier step are spent.
    pub last_otp_step: Option<u64>,
}

/// One update of a credential's state: what it was and what it became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateChange {
    /// The state the update read.
    pub before: AuthState,
    /// The state it stored.
    pub after: AuthState,
}

/// Where authentication states live. `update` must be atomic per
/// credential — also across processes and nodes for a shared store — and
/// durable before it returns (for a durable store), so a restart never
/// forgets a failure, a lock or a spent TOTP step.
pub trait LockoutStore: Send + Sync + fmt::Debug {
    /// The state of `credential` (the default state if none is stored).
    fn load(&self, credential: &str) -> Result<AuthState, StoreError>;

    /// Computes the next state of `credential` from the current one with
    /// `change`, with no other update in between, stores it, and returns
    /// both. `change` must be pure: a store may call it more than once (a
    /// database retrying a serialization failure) and keep only the last
    /// result.
    fn update(
        &self,
        credential: &str,
        change: &dyn Fn(&AuthState) -> AuthState,
    ) -> Result<StateChange, StoreError>;
}

/// Lockout state in memory: lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryLockoutStore {
    states: Mutex<HashMap<String, AuthState>>,
}

impl MemoryLockoutStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl LockoutStore for MemoryLockoutStore {
    fn load(&self, credential: &str) -> Result<AuthState, StoreError> {
        Ok(lock(&self.states)
            .get(credential)
            .cloned()
            .unwrap_or_default())
    }

    fn update(
        &self,
        credential: &str,
        change: &dyn Fn(&AuthState) -> AuthState,
    ) -> Result<StateChange, StoreError> {
        let mut states = lock(&self.states);
        let state = states.entry(credential.to_owned()).or_default();
        let before = state.clone();
        *state = change(&before);
        Ok(StateChange {
            before,
            after: state.clone(),
        })
    }
}

/// Lockout state in one directory, one small JSON file per credential,
/// each replaced atomically and fsynced on every change.
///
/// Every update holds an exclusive file lock (`flock`) on the credential's
/// `.lock` file from the read to the durable write, so processes sharing
/// the directory never lose an update: N failures from any mix of
/// processes count N, and one TOTP step is accepted once.
#[derive(Debug)]
pub struct FileLockoutStore {
    dir: PathBuf,
}

impl FileLockoutStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io("create lockout directory", &dir))?;
        Ok(Self { dir })
    }

    fn path(&self, credential: &str, extension: &str) -> Result<PathBuf, StoreError> {
        Ok(self.dir.join(file_name(credential, extension)?))
    }

    fn read(&self, path: &Path) -> Result<AuthState, StoreError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt {
                what: "lockout state",
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AuthState::default()),
            Err(e) => Err(io("read lockout state", path)(e)),
        }
    }
}

impl LockoutStore for FileLockoutStore {
    fn load(&self, credential: &str) -> Result<AuthState, StoreError> {
        // The state file is only ever replaced whole: no lock needed to read.
        self.read(&self.path(credential, "state")?)
    }

    fn update(
        &self,
        credential: &str,
        change: &dyn Fn(&AuthState) -> AuthState,
    ) -> Result<StateChange, StoreError> {
        let lock_path = self.path(credential, "lock")?;
        let lock_file = crate::durable::lock_file(&lock_path)?;
        // Held until `lock_file` is dropped (closing it releases the lock).
        lock_file
            .lock()
            .map_err(io("lock lockout state", &lock_path))?;
        let path = self.path(credential, "state")?;
        let before = self.read(&path)?;
        let after = change(&before);
        if after != before {
            let bytes = serde_json::to_vec(&after).map_err(|_| StoreError::Corrupt {
                what: "lockout state",
            })?;
            write_atomic(&path, &bytes)?;
        }
        drop(lock_file);
        Ok(StateChange { before, after })
    }
}
