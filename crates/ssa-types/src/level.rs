//! CAdES baseline levels.

use core::fmt;

/// A CAdES baseline level (ETSI EN 319 122-1 §4): what a signature carries
/// for whoever validates it. Ordered: a higher level contains the lower.
/// Match with a wildcard arm: more may come.
///
/// ```
/// use ssa_types::Level;
/// assert!(Level::BT > Level::BB);
/// assert_eq!(Level::BLt.to_string(), "B-LT");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Level {
    /// B-B: the basic signature.
    BB,
    /// B-T: with a signature time-stamp.
    BT,
    /// B-LT: with the certificates and revocation data to validate later.
    BLt,
    /// B-LTA: B-LT with archive time-stamps (archive-time-stamp-v3) that
    /// keep it verifiable after its algorithms or certificates age.
    BLta,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BB => "B-B",
            Self::BT => "B-T",
            Self::BLt => "B-LT",
            Self::BLta => "B-LTA",
        })
    }
}
