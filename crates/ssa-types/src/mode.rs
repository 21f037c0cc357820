//! What a signer approves digests for.

use serde::{Deserialize, Serialize};

/// What the signer approved the digests for. A SAD is good for one mode
/// only, so a SAD approved for a CAdES document signature cannot be
/// redeemed for a bare signature over the same digest, nor the reverse.
///
/// ```
/// use ssa_types::SigningMode;
/// assert_eq!(serde_json::to_string(&SigningMode::Dtbsr)?, r#""dtbsr""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningMode {
    /// Document digests: the SSA builds CAdES signed attributes around each
    /// digest (message-digest = the digest) and the key signs those.
    #[serde(rename = "document")]
    Document,
    /// DTBS/R: the key signs each digest as it is (CSC `signHash`); the
    /// client built whatever the digest stands for.
    #[serde(rename = "dtbsr")]
    Dtbsr,
}

impl SigningMode {
    /// The claim value (`document` or `dtbsr`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Dtbsr => "dtbsr",
        }
    }
}
