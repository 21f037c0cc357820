//! Where a soft SCDev keeps its sealed key records.

use core::fmt;
use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::{KeyId, ScdevError};

/// Storage for sealed key records. A record is ciphertext plus a public,
/// authenticated header: a store never sees a plaintext key.
///
/// Records are immutable: `create` never replaces one, and a key changes
/// only by `remove` then `create`.
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// Stores `record` under `id`. Returns `Ok(false)`, changing nothing,
    /// if `id` exists already. The record is durable when this returns.
    fn create(&self, id: &KeyId, record: &[u8]) -> Result<bool, ScdevError>;

    /// The record under `id`, if any.
    fn load(&self, id: &KeyId) -> Result<Option<Vec<u8>>, ScdevError>;

    /// Every id in the store.
    fn ids(&self) -> Result<Vec<KeyId>, ScdevError>;

    /// Removes `id`; `Ok(false)` if there was none.
    fn remove(&self, id: &KeyId) -> Result<bool, ScdevError>;
}

/// A store in process memory, lost when the process ends. For tests and
/// short-lived keys.
#[derive(Default)]
pub struct MemoryKeyStore {
    records: RwLock<BTreeMap<KeyId, Vec<u8>>>,
}

impl fmt::Debug for MemoryKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.records.read().map(|r| r.len()).unwrap_or_default();
        f.debug_struct("MemoryKeyStore")
            .field("keys", &count)
            .finish()
    }
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> ScdevError {
    ScdevError::Store {
        operation: "lock",
        source: "memory key store lock poisoned".into(),
    }
}

impl KeyStore for MemoryKeyStore {
    fn create(&self, id: &KeyId, record: &[u8]) -> Result<bool, ScdevError> {
        let mut records = self.records.write().map_err(|_| poisoned())?;
        if records.contains_key(id) {
            return Ok(false);
        }
        records.insert(id.clone(), record.to_vec());
        Ok(true)
    }

    fn load(&self, id: &KeyId) -> Result<Option<Vec<u8>>, ScdevError> {
        Ok(self
            .records
            .read()
            .map_err(|_| poisoned())?
            .get(id)
            .cloned())
    }

    fn ids(&self) -> Result<Vec<KeyId>, ScdevError> {
        Ok(self
            .records
            .read()
            .map_err(|_| poisoned())?
            .keys()
            .cloned()
            .collect())
    }

    fn remove(&self, id: &KeyId) -> Result<bool, ScdevError> {
        Ok(self
            .records
            .write()
            .map_err(|_| poisoned())?
            .remove(id)
            .is_some())
    }
}
