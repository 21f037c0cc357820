//! Device-key challenges waiting for their answer. A challenge is answered
//! at most once, also when several processes or nodes share the store: the
//! one `take` that gets it spends it.

use core::fmt;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::durable::{file_name, sync_dir, unique_suffix, write_atomic};
use crate::error::{StoreError, io};
use crate::lock;

/// A challenge issued to a signer's device, until it is answered.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingChallenge {
    /// The credential it was issued for.
    pub credential: String,
    /// Its random nonce (part of the message the device signs).
    pub nonce: Vec<u8>,
    /// It may be answered before this time (seconds since the Unix epoch).
    pub expires: u64,
}

impl fmt::Debug for PendingChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingChallenge")
            .field("credential", &self.credential)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// Where pending challenges live.
pub trait ChallengeStore: Send + Sync + fmt::Debug {
    /// Stores `challenge` under `id` (a fresh random id), and forgets the
    /// challenges that expired before `now`.
    fn put(&self, id: &str, challenge: &PendingChallenge, now: u64) -> Result<(), StoreError>;

    /// Removes the challenge `id` and returns it. Of all the callers that
    /// ask for the same id, in any process sharing the store, at most one
    /// gets it; an unknown or already taken id is `None`. Expiry is the
    /// caller's to judge.
    fn take(&self, id: &str) -> Result<Option<PendingChallenge>, StoreError>;
}

/// Challenges in memory: lost when the process ends; one process only.
#[derive(Debug, Default)]
pub struct MemoryChallengeStore {
    pending: Mutex<HashMap<String, PendingChallenge>>,
}

impl MemoryChallengeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl ChallengeStore for MemoryChallengeStore {
    fn put(&self, id: &str, challenge: &PendingChallenge, now: u64) -> Result<(), StoreError> {
        let mut pending = lock(&self.pending);
        pending.retain(|_, c| c.expires > now);
        pending.insert(id.to_owned(), challenge.clone());
        Ok(())
    }

    fn take(&self, id: &str) -> Result<Option<PendingChallenge>, StoreError> {
        Ok(lock(&self.pending).remove(id))
    }
}

/// Challenges in one directory, a file each, for processes sharing it.
/// `take` renames the file to a name only this call knows before reading
/// it: a rename succeeds for one caller only, so a challenge is spent once
/// however many processes race for it.
#[derive(Debug)]
pub struct FileChallengeStore {
    dir: PathBuf,
}

impl FileChallengeStore {
    /// Opens (creating it if needed) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io("create challenge directory", &dir))?;
        Ok(Self { dir })
    }

    fn read(path: &Path) -> Result<PendingChallenge, StoreError> {
        let bytes = fs::read(path).map_err(io("read challenge", path))?;
        serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt {
            what: "pending challenge",
        })
    }

    /// Removes expired challenges (best effort: another process may be
    /// sweeping too).
    fn sweep(&self, now: u64) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "challenge")
                && Self::read(&path).is_ok_and(|c| c.expires <= now)
            {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

impl ChallengeStore for FileChallengeStore {
    fn put(&self, id: &str, challenge: &PendingChallenge, now: u64) -> Result<(), StoreError> {
        self.sweep(now);
        let path = self.dir.join(file_name(id, "challenge")?);
        let bytes = serde_json::to_vec(challenge).map_err(|_| StoreError::Corrupt {
            what: "pending challenge",
        })?;
        write_atomic(&path, &bytes)
    }

    fn take(&self, id: &str) -> Result<Option<PendingChallenge>, StoreError> {
        // The id comes from the client: one this store could not have
        // stored was never issued.
        let Ok(name) = file_name(id, "challenge") else {
            return Ok(None);
        };
        let path = self.dir.join(name);
        let claimed = self.dir.join(format!(
            ".{}.taken-{}",
            file_name(id, "challenge")?,
            unique_suffix()?
        ));
        match fs::rename(&path, &claimed) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("take challenge", &path)(e)),
        }
        let challenge = Self::read(&claimed);
        fs::remove_file(&claimed).map_err(io("remove taken challenge", &claimed))?;
        sync_dir(&self.dir)?;
        challenge.map(Some)
    }
}
