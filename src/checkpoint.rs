//! Audit checkpoints signed by a key held in an SCDev.

use core::fmt;
use std::sync::Arc;

use ssa_audit::{AuditError, CheckpointSigner};
use ssa_scdev::{KeyId, Scdev, SignInput, SignatureAlgorithm};

/// Signs audit checkpoints with the SCDev key `key`.
pub struct ScdevCheckpointSigner {
    scdev: Arc<dyn Scdev>,
    key: KeyId,
    algorithm: SignatureAlgorithm,
}

impl ScdevCheckpointSigner {
    /// Signs with `key` in `scdev` using `algorithm`.
    pub fn new(scdev: Arc<dyn Scdev>, key: KeyId, algorithm: SignatureAlgorithm) -> Self {
        Self {
            scdev,
            key,
            algorithm,
        }
    }
}

impl fmt::Debug for ScdevCheckpointSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScdevCheckpointSigner")
            .field("key", &self.key)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl CheckpointSigner for ScdevCheckpointSigner {
    fn key_id(&self) -> String {
        self.key.to_hex()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuditError> {
        self.scdev
            .sign(&self.key, self.algorithm, SignInput::Message(message))
            .map_err(|e| AuditError::Checkpoint {
                reason: e.to_string(),
            })
    }
}
