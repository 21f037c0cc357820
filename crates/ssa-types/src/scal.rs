//! Sole control assurance levels.

use core::fmt;

use serde::{Deserialize, Serialize};

/// Sole control assurance level (CEN EN 419 241-1). Stored and sent as the
/// number 1 or 2.
///
/// ```
/// use ssa_types::Scal;
/// assert!(Scal::Scal2 > Scal::Scal1);
/// assert_eq!(Scal::try_from(2), Ok(Scal::Scal2));
/// assert!(Scal::try_from(3).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Scal {
    /// SCAL1: one factor; the SAD may leave the digests unbound.
    Scal1,
    /// SCAL2: a knowledge and a possession factor; the SAD binds the digests.
    Scal2,
}

impl Scal {
    /// 1 or 2.
    pub const fn level(self) -> u8 {
        match self {
            Self::Scal1 => 1,
            Self::Scal2 => 2,
        }
    }
}

/// A SCAL number other than 1 or 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("SCAL must be 1 or 2, not {0}")]
pub struct UnknownScal(pub u8);

impl TryFrom<u8> for Scal {
    type Error = UnknownScal;
    fn try_from(value: u8) -> Result<Self, UnknownScal> {
        match value {
            1 => Ok(Self::Scal1),
            2 => Ok(Self::Scal2),
            other => Err(UnknownScal(other)),
        }
    }
}

impl From<Scal> for u8 {
    fn from(scal: Scal) -> u8 {
        scal.level()
    }
}

impl fmt::Display for Scal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SCAL{}", self.level())
    }
}
