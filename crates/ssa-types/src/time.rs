//! Time as a value: the library never reads the clock in its logic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch. Every check takes the time as a parameter,
/// so tests can sign "in 2030" and verify "in 2040".
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use ssa_types::UnixTime;
/// let t = UnixTime::from(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
/// assert_eq!(t, UnixTime(1_800_000_000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// The clock of this machine, for callers that want it.
    pub fn now() -> Self {
        Self::from(SystemTime::now())
    }

    /// This time as a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0)
    }
}

impl From<SystemTime> for UnixTime {
    /// Whole seconds; a time before 1970 counts as 0.
    fn from(time: SystemTime) -> Self {
        Self(
            time.duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        )
    }
}
