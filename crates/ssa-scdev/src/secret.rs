//! Secrets handed to an SCDev: symmetric keys (PINs are [`ssa_types::Pin`]). They zeroize on drop
//! and print as `[redacted]`.

use core::fmt;

use zeroize::Zeroizing;

use crate::ScdevError;

/// An AES-256 key with a short public fingerprint, shared by the
/// key-encryption key and the backup key.
#[derive(Clone)]
pub(crate) struct AesKey {
    bytes: Zeroizing<[u8; 32]>,
}

impl AesKey {
    fn new(bytes: [u8; 32]) -> Self {
        Self {
            bytes: Zeroizing::new(bytes),
        }
    }

    fn generate() -> Result<Self, ScdevError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes.as_mut()).map_err(
            |_| ScdevError::Crypto {
                operation: "random key generation",
            },
        )?;
        Ok(Self { bytes })
    }

    /// A public 8-byte name of the key: the start of HMAC-SHA-256(key, purpose).
    /// It tells "another key" apart from "altered data" and reveals nothing
    /// useful about the key.
    pub(crate) fn fingerprint(&self, purpose: &[u8]) -> [u8; 8] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.bytes.as_ref());
        let tag = ring::hmac::sign(&key, purpose);
        let mut out = [0u8; 8];
        out.copy_from_slice(&tag.as_ref()[..8]);
        out
    }

    pub(crate) fn aead(&self) -> Result<ring::aead::LessSafeKey, ScdevError> {
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, self.bytes.as_ref())
            .map(ring::aead::LessSafeKey::new)
            .map_err(|_| ScdevError::Crypto {
                operation: "AES-256-GCM key setup",
            })
    }
}

/// The key-encryption key under which a soft SCDev seals every private key
/// (AES-256-GCM). The embedder supplies it (from a KMS, an HSM, a sealed
/// file) and keeps it apart from the key store. Zeroized on drop; never printed.
///
/// ```
/// use ssa_scdev::KeyEncryptionKey;
/// let kek = KeyEncryptionKey::from_bytes([7; 32]);
/// assert_eq!(format!("{kek:?}"), "KeyEncryptionKey([redacted])");
/// ```
#[derive(Clone)]
pub struct KeyEncryptionKey(pub(crate) AesKey);

impl KeyEncryptionKey {
    /// A key-encryption key from 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(AesKey::new(bytes))
    }

    /// A fresh random key-encryption key (for tests and throw-away stores:
    /// keys sealed under it are lost with it).
    pub fn generate() -> Result<Self, ScdevError> {
        AesKey::generate().map(Self)
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey([redacted])")
    }
}

/// The AES-256 key under which a soft SCDev wraps key backups. Keep it apart
/// from the key-encryption key: a backup must not be readable by whoever
/// holds the live store. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct BackupKey(pub(crate) AesKey);

impl BackupKey {
    /// A backup key from 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(AesKey::new(bytes))
    }

    /// A fresh random backup key.
    pub fn generate() -> Result<Self, ScdevError> {
        AesKey::generate().map(Self)
    }
}

impl fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BackupKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_differ_by_key_and_purpose() {
        let a = AesKey::new([1; 32]);
        let b = AesKey::new([2; 32]);
        assert_ne!(a.fingerprint(b"x"), b.fingerprint(b"x"));
        assert_ne!(a.fingerprint(b"x"), a.fingerprint(b"y"));
        assert_eq!(a.fingerprint(b"x"), AesKey::new([1; 32]).fingerprint(b"x"));
    }
}
