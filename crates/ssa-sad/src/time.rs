//! Time as a value: the library never reads the clock.

/// Seconds since the Unix epoch. Every check takes the time as a parameter,
/// so tests can sign "in 2030" and verify "in 2040".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// The clock of this machine, for callers that want it.
    pub fn now() -> Self {
        Self(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        )
    }
}
