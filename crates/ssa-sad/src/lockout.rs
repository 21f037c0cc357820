//! Failure counting and lockout, per credential, behind a store trait.

use core::fmt;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::durable::{io, write_atomic};
use crate::error::SadError;

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

/// Where authentication states live. `update` must be atomic per
/// credential and durable before it returns (for a durable store), so a
/// restart never forgets a failure, a lock or a spent TOTP step.
pub trait LockoutStore: Send + Sync + fmt::Debug {
    /// The state of `credential` (the default state if none is stored).
    fn load(&self, credential: &str) -> Result<AuthState, SadError>;

    /// Applies `change` to the state of `credential` with no other update in
    /// between, stores the result, and returns it.
    fn update(
        &self,
        credential: &str,
        change: &mut dyn FnMut(&mut AuthState),
    ) -> Result<AuthState, SadError>;
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    fn load(&self, credential: &str) -> Result<AuthState, SadError> {
        Ok(lock(&self.states)
            .get(credential)
            .cloned()
            .unwrap_or_default())
    }

    fn update(
        &self,
        credential: &str,
        change: &mut dyn FnMut(&mut AuthState),
    ) -> Result<AuthState, SadError> {
        let mut states = lock(&self.states);
        let state = states.entry(credential.to_owned()).or_default();
        change(state);
        Ok(state.clone())
    }
}

/// Lockout state in one directory, one small JSON file per credential,
/// each replaced atomically and fsynced on every change.
#[derive(Debug)]
pub struct FileLockoutStore {
    dir: PathBuf,
    writer: Mutex<()>,
}

impl FileLockoutStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, SadError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io("create lockout directory", &dir))?;
        Ok(Self {
            dir,
            writer: Mutex::new(()),
        })
    }

    fn path(&self, credential: &str) -> PathBuf {
        let name: String = credential.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.state"))
    }

    fn read(&self, path: &Path) -> Result<AuthState, SadError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|_| SadError::CorruptStore {
                what: "lockout state",
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AuthState::default()),
            Err(e) => Err(io("read lockout state", path)(e)),
        }
    }
}

impl LockoutStore for FileLockoutStore {
    fn load(&self, credential: &str) -> Result<AuthState, SadError> {
        let _guard = lock(&self.writer);
        self.read(&self.path(credential))
    }

    fn update(
        &self,
        credential: &str,
        change: &mut dyn FnMut(&mut AuthState),
    ) -> Result<AuthState, SadError> {
        let _guard = lock(&self.writer);
        let path = self.path(credential);
        let before = self.read(&path)?;
        let mut after = before.clone();
        change(&mut after);
        if after != before {
            let bytes = serde_json::to_vec(&after).map_err(|_| SadError::CorruptStore {
                what: "lockout state",
            })?;
            write_atomic(&path, &bytes)?;
        }
        Ok(after)
    }
}
