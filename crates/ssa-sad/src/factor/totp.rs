//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP).

use core::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::encoding::constant_time_eq;
use crate::error::SadError;
use ssa_types::UnixTime;

/// The HMAC of a TOTP authenticator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TotpAlgorithm {
    /// HMAC-SHA-1 (what most authenticator apps use).
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// The parameters of a TOTP authenticator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpConfig {
    /// The HMAC.
    pub algorithm: TotpAlgorithm,
    /// Digits of a code, 6 to 8.
    pub digits: u8,
    /// Seconds per step (RFC 6238's X), normally 30.
    pub step: u64,
}

impl Default for TotpConfig {
    fn default() -> Self {
        Self {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            step: 30,
        }
    }
}

impl TotpConfig {
    pub(crate) fn check(&self) -> Result<(), SadError> {
        if !(6..=8).contains(&self.digits) {
            return Err(SadError::InvalidEnrolment {
                reason: "TOTP codes have 6 to 8 digits",
            });
        }
        if self.step == 0 {
            return Err(SadError::InvalidEnrolment {
                reason: "TOTP step is zero",
            });
        }
        Ok(())
    }

    /// The step number at `time` (RFC 6238 §4.2, T0 = 0).
    pub fn step_at(&self, time: UnixTime) -> u64 {
        time.0 / self.step
    }
}

/// A TOTP seed (the shared secret of the authenticator). Zeroized on drop;
/// never printed; stored only sealed.
#[derive(Clone)]
pub struct TotpSeed(Zeroizing<Vec<u8>>);

impl TotpSeed {
    /// Wraps seed bytes (at least 16, as RFC 4226 §4 requires).
    pub fn new(bytes: Vec<u8>) -> Result<Self, SadError> {
        if bytes.len() < 16 {
            return Err(SadError::InvalidEnrolment {
                reason: "TOTP seed shorter than 128 bits",
            });
        }
        Ok(Self(Zeroizing::new(bytes)))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TotpSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSeed([redacted])")
    }
}

/// A one-time password as the signer typed it. Zeroized on drop; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Otp(Zeroizing<String>);

impl Otp {
    /// Wraps a code.
    pub fn new(code: impl Into<String>) -> Self {
        Self(Zeroizing::new(code.into()))
    }

    /// The code (what an authenticator shows).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Otp([redacted])")
    }
}

/// The code of `step` (RFC 4226 §5.3 dynamic truncation, over the step as an
/// 8-byte big-endian counter).
pub fn code_at_step(seed: &TotpSeed, config: &TotpConfig, step: u64) -> Otp {
    let algorithm = match config.algorithm {
        TotpAlgorithm::Sha1 => ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        TotpAlgorithm::Sha256 => ring::hmac::HMAC_SHA256,
        TotpAlgorithm::Sha512 => ring::hmac::HMAC_SHA512,
    };
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(algorithm, seed.bytes()),
        &step.to_be_bytes(),
    );
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    let modulus = 10u32.pow(u32::from(config.digits.clamp(6, 8)));
    Otp::new(format!(
        "{:0width$}",
        binary % modulus,
        width = usize::from(config.digits.clamp(6, 8))
    ))
}

/// The code an authenticator shows at `time`.
pub fn code_at(seed: &TotpSeed, config: &TotpConfig, time: UnixTime) -> Otp {
    code_at_step(seed, config, config.step_at(time))
}

/// The step within ±`window` steps of `time` whose code is `otp`, if any.
/// Every step of the window is computed and compared in constant time.
pub(crate) fn matching_step(
    seed: &TotpSeed,
    config: &TotpConfig,
    otp: &Otp,
    time: UnixTime,
    window: u64,
) -> Option<u64> {
    let now = config.step_at(time);
    let mut found = None;
    for step in now.saturating_sub(window)..=now.saturating_add(window) {
        let expected = code_at_step(seed, config, step);
        if constant_time_eq(expected.as_str().as_bytes(), otp.as_str().as_bytes())
            && found.is_none()
        {
            found = Some(step);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B test vectors (8 digits, 30 s steps).
    #[test]
    fn rfc6238_vectors() {
        let sha1 =
            TotpSeed::new(b"12345678901234567890".to_vec()).unwrap_or_else(|_| unreachable!());
        let sha256 = TotpSeed::new(b"12345678901234567890123456789012".to_vec())
            .unwrap_or_else(|_| unreachable!());
        let sha512 = TotpSeed::new(
            b"1234567890123456789012345678901234567890123456789012345678901234".to_vec(),
        )
        .unwrap_or_else(|_| unreachable!());
        let vectors = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, c1, c256, c512) in vectors {
            for (seed, algorithm, code) in [
                (&sha1, TotpAlgorithm::Sha1, c1),
                (&sha256, TotpAlgorithm::Sha256, c256),
                (&sha512, TotpAlgorithm::Sha512, c512),
            ] {
                let config = TotpConfig {
                    algorithm,
                    digits: 8,
                    step: 30,
                };
                assert_eq!(
                    code_at(seed, &config, UnixTime(time)).as_str(),
                    code,
                    "{algorithm:?} at {time}"
                );
            }
        }
    }

    #[test]
    fn window_is_one_step_each_way() {
        let seed = TotpSeed::new(vec![7; 20]).unwrap_or_else(|_| unreachable!());
        let config = TotpConfig::default();
        let now = UnixTime(1_800_000_015);
        let step = config.step_at(now);
        for (offset, accepted) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let s = step.checked_add_signed(offset).unwrap_or_default();
            let otp = code_at_step(&seed, &config, s);
            assert_eq!(
                matching_step(&seed, &config, &otp, now, 1).is_some(),
                accepted,
                "offset {offset}"
            );
        }
    }
}
