//! PINs, hashed with Argon2id (RFC 9106) into PHC strings.

use argon2::{Algorithm, Argon2, Params, Version};
use base64ct::{Base64Unpadded, Encoding};
use zeroize::Zeroizing;

use crate::encoding::constant_time_eq;
use ssa_types::Pin;

use crate::error::SadError;
use crate::seal::random;

/// Argon2id cost parameters for PIN hashes.
///
/// The default is OWASP's current minimum for Argon2id (Password Storage
/// Cheat Sheet): 19 MiB of memory, 2 iterations, 1 lane. Raise it where the
/// hardware allows; a lower setting is for tests only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinPolicy {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
    /// Shortest PIN accepted at enrolment.
    pub min_len: usize,
}

impl Default for PinPolicy {
    fn default() -> Self {
        Self {
            m_cost: 19 * 1024,
            t_cost: 2,
            p_cost: 1,
            min_len: 4,
        }
    }
}

const HASH_LEN: usize = 32;
const SALT_LEN: usize = 16;

fn argon2(m: u32, t: u32, p: u32) -> Result<Argon2<'static>, SadError> {
    let params = Params::new(m, t, p, Some(HASH_LEN)).map_err(|_| SadError::InvalidEnrolment {
        reason: "Argon2 parameters out of range",
    })?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `pin` into a PHC string `$argon2id$v=19$m=..,t=..,p=..$salt$hash`.
/// Any secret a signer knows (a PIN, an account password) is hashed so.
pub fn hash(pin: &Pin, policy: &PinPolicy) -> Result<String, SadError> {
    if pin.expose().chars().count() < policy.min_len {
        return Err(SadError::InvalidEnrolment {
            reason: "PIN too short",
        });
    }
    let mut salt = [0u8; SALT_LEN];
    random(&mut salt)?;
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    argon2(policy.m_cost, policy.t_cost, policy.p_cost)?
        .hash_password_into(pin.expose().as_bytes(), &salt, out.as_mut())
        .map_err(|_| SadError::Crypto {
            operation: "Argon2id",
        })?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        policy.m_cost,
        policy.t_cost,
        policy.p_cost,
        Base64Unpadded::encode_string(&salt),
        Base64Unpadded::encode_string(out.as_ref())
    ))
}

/// Whether `pin` matches the PHC string `phc` (compared in constant time).
pub fn verify(pin: &Pin, phc: &str) -> Result<bool, SadError> {
    let corrupt = || SadError::CorruptStore { what: "PIN hash" };
    let fields: Vec<&str> = phc.split('$').collect();
    let ["", "argon2id", "v=19", params, salt, expected] = fields.as_slice() else {
        return Err(corrupt());
    };
    let mut costs = [0u32; 3];
    for (slot, (field, name)) in costs
        .iter_mut()
        .zip(params.split(',').zip(["m=", "t=", "p="]))
    {
        *slot = field
            .strip_prefix(name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(corrupt)?;
    }
    if params.split(',').count() != 3 {
        return Err(corrupt());
    }
    let salt = Base64Unpadded::decode_vec(salt).map_err(|_| corrupt())?;
    let expected = Base64Unpadded::decode_vec(expected).map_err(|_| corrupt())?;
    if expected.len() != HASH_LEN || salt.len() < 8 {
        return Err(corrupt());
    }
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    argon2(costs[0], costs[1], costs[2])
        .map_err(|_| corrupt())?
        .hash_password_into(pin.expose().as_bytes(), &salt, out.as_mut())
        .map_err(|_| corrupt())?;
    Ok(constant_time_eq(out.as_ref(), &expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIGHT: PinPolicy = PinPolicy {
        m_cost: 64,
        t_cost: 1,
        p_cost: 1,
        min_len: 4,
    };

    #[test]
    fn right_pin_verifies_wrong_pin_does_not() {
        let phc = hash(&Pin::new("2468"), &LIGHT).unwrap_or_default();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert!(matches!(verify(&Pin::new("2468"), &phc), Ok(true)));
        assert!(matches!(verify(&Pin::new("2469"), &phc), Ok(false)));
    }

    #[test]
    fn default_is_owasp_minimum() {
        let p = PinPolicy::default();
        assert_eq!((p.m_cost, p.t_cost, p.p_cost), (19456, 2, 1));
    }

    #[test]
    fn corrupt_hashes_are_typed_errors() {
        for bad in [
            "",
            "$argon2i$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAA",
            "$argon2id$v=19$m=64,t=1$AAAAAAAAAAA$AAAA",
            "garbage",
        ] {
            assert!(
                matches!(
                    verify(&Pin::new("1234"), bad),
                    Err(SadError::CorruptStore { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            hash(&Pin::new("12"), &LIGHT),
            Err(SadError::InvalidEnrolment { .. })
        ));
    }
}
