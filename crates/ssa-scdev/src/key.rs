//! Key identity: the caller-chosen id and label, and what an SCDev reports about a key.

use core::fmt;

use crate::{KeyAlgorithm, ScdevError};

/// The caller-chosen identifier of a key: `CKA_ID` on a PKCS#11 token, the
/// record name in a soft store. Between 1 and [`KeyId::MAX_LEN`] bytes.
///
/// ```
/// use ssa_scdev::KeyId;
/// let id = KeyId::new(b"alice-2026".to_vec())?;
/// assert_eq!(id.as_bytes(), b"alice-2026");
/// assert_eq!(id.to_string(), "616c6963652d32303236");
/// assert_eq!(format!("{id:?}"), "KeyId(616c6963652d32303236)");
/// assert!(KeyId::new(Vec::new()).is_err());
/// # Ok::<(), ssa_scdev::ScdevError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Vec<u8>);

impl KeyId {
    /// The longest key id accepted, in bytes.
    pub const MAX_LEN: usize = 64;

    /// A key id from raw bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, ScdevError> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(ScdevError::InvalidKeyId { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex, as used in file names and messages.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

/// Checks a key label: 1 to 64 bytes of UTF-8 with no control characters.
pub(crate) fn check_label(label: &str) -> Result<(), ScdevError> {
    if label.is_empty() || label.len() > 64 || label.chars().any(char::is_control) {
        return Err(ScdevError::InvalidLabel);
    }
    Ok(())
}

/// What an SCDev knows about one of its keys. Holds no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key id.
    pub id: KeyId,
    /// The human-readable label given at generation.
    pub label: String,
    /// The key algorithm.
    pub algorithm: KeyAlgorithm,
    /// Whether the key may be exported wrapped under a backup key.
    pub backup_allowed: bool,
    /// The public key as DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7).
    pub public_key: Vec<u8>,
}
