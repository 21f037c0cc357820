//! What a signing request may ask for.

use std::collections::HashMap;

use crate::PolicyError;

/// A CAdES level (ETSI EN 319 122-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// B-B.
    BB,
    /// B-T.
    BT,
    /// B-LT.
    BLt,
}

/// Levels, batch sizes and the SCAL each credential requires.
#[derive(Clone, Debug)]
pub struct RequestPolicy {
    /// Levels the service produces.
    pub allowed_levels: Vec<Level>,
    /// Most digests one SAD may authorize.
    pub max_digests_per_sad: usize,
    /// SCAL (1 or 2) required when a credential has no entry.
    pub default_scal: u8,
    /// SCAL required per credential.
    pub scal: HashMap<String, u8>,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        Self {
            allowed_levels: vec![Level::BB, Level::BT, Level::BLt],
            max_digests_per_sad: 100,
            default_scal: 2,
            scal: HashMap::new(),
        }
    }
}

impl RequestPolicy {
    /// The SCAL `credential` requires.
    pub fn scal_for(&self, credential: &str) -> u8 {
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
