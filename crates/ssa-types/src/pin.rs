//! PINs: a signer's, or a PKCS#11 token user's.

use core::fmt;

use zeroize::Zeroizing;

/// A PIN. Zeroized on drop; never printed.
///
/// ```
/// use ssa_types::Pin;
/// let pin = Pin::new("123456");
/// assert_eq!(format!("{pin:?}"), "Pin([redacted])");
/// assert!(pin.matches(&Pin::new("123456")));
/// assert!(!pin.matches(&Pin::new("123457")));
/// ```
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Wraps a PIN.
    pub fn new(pin: impl Into<String>) -> Self {
        Self(Zeroizing::new(pin.into()))
    }

    /// The PIN itself, for the component that checks or presents it (the
    /// authenticator, a PKCS#11 login). Do not log or keep it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares two PINs in time that depends only on their lengths.
    pub fn matches(&self, other: &Pin) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early exit.
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"1234", b"1234"));
        assert!(!constant_time_eq(b"1234", b"1235"));
        assert!(!constant_time_eq(b"1234", b"12345"));
    }
}
