//! What a signing request may ask for.

use std::collections::HashMap;

use ssa_types::{Level, Scal};

use crate::PolicyError;

/// Levels, batch sizes and the SCAL each credential requires.
#[derive(Clone, Debug)]
pub struct RequestPolicy {
    /// Levels the service produces.
    pub allowed_levels: Vec<Level>,
    /// Most digests one SAD may authorize.
    pub max_digests_per_sad: usize,
    /// SCAL required when a credential has no entry.
    pub default_scal: Scal,
    /// SCAL required per credential.
    pub scal: HashMap<String, Scal>,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        Self {
            allowed_levels: vec![Level::BB, Level::BT, Level::BLt, Level::BLta],
            max_digests_per_sad: 100,
            default_scal: Scal::Scal2,
            scal: HashMap::new(),
        }
    }
}

impl RequestPolicy {
    /// The SCAL `credential` requires.
    pub fn scal_for(&self, credential: &str) -> Scal {
        self.scal
            .get(credential)
            .copied()
            .unwrap_or(self.default_scal)
    }

    /// Checks a request for `digests` digests at `level`.
    pub fn check(&self, level: Level, digests: usize) -> Result<(), PolicyError> {
        if !self.allowed_levels.contains(&level) {
            return Err(PolicyError::LevelNotAllowed { level });
        }
        self.check_digests(digests)
    }

    /// Checks the number of digests of one request (any mode).
    pub fn check_digests(&self, digests: usize) -> Result<(), PolicyError> {
        if digests == 0 || digests > self.max_digests_per_sad {
            return Err(PolicyError::TooManyDigests {
                requested: digests,
                limit: self.max_digests_per_sad,
            });
        }
        Ok(())
    }
}
