//! The one error type of this crate.

use crate::{HashAlgorithm, KeyAlgorithm, KeyId, SignatureAlgorithm};

/// Why an SCDev operation was refused or failed.
///
/// Errors never carry secrets (PINs, key bytes); they name the key, the
/// algorithm or the check. A PKCS#11 failure keeps the module's own error as
/// its source, so the `CKR_*` code is never lost (see [`ScdevError::ckr`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScdevError {
    /// A key id is empty or longer than [`KeyId::MAX_LEN`].
    #[error("a key id must be 1 to {} bytes, got {len}", KeyId::MAX_LEN)]
    InvalidKeyId {
        /// The length that was given.
        len: usize,
    },
    /// A key label is empty, longer than 64 bytes or holds control characters.
    #[error("a key label must be 1 to 64 bytes of UTF-8 without control characters")]
    InvalidLabel,
    /// No key with this id exists in the SCDev.
    #[error("no key with id {key_id}")]
    UnknownKey {
        /// The id asked for.
        key_id: KeyId,
    },
    /// A key with this id exists already; nothing was changed.
    #[error("a key with id {key_id} exists already")]
    KeyExists {
        /// The id asked for.
        key_id: KeyId,
    },
    /// This backend cannot generate keys of this algorithm.
    #[error("the {backend} SCDev cannot generate {algorithm} keys")]
    GenerateUnsupported {
        /// Which backend.
        backend: &'static str,
        /// The algorithm asked for.
        algorithm: KeyAlgorithm,
    },
    /// The key cannot make this kind of signature (an RSA scheme on an EC key, say).
    #[error("key {key_id} is {key}: it cannot make {requested} signatures")]
    AlgorithmNotAllowed {
        /// The key.
        key_id: KeyId,
        /// What the key is.
        key: KeyAlgorithm,
        /// The signature algorithm asked for.
        requested: SignatureAlgorithm,
    },
    /// This backend cannot make this signature over a prehashed digest.
    #[error("the {backend} SCDev cannot sign a prehashed digest with {algorithm}")]
    DigestSigningUnsupported {
        /// Which backend.
        backend: &'static str,
        /// The signature algorithm asked for.
        algorithm: SignatureAlgorithm,
    },
    /// This backend cannot make this signature at all.
    #[error("the {backend} SCDev cannot make {algorithm} signatures")]
    SignatureUnsupported {
        /// Which backend.
        backend: &'static str,
        /// The signature algorithm asked for.
        algorithm: SignatureAlgorithm,
    },
    /// The digest was made with another hash than the signature algorithm's.
    #[error("{algorithm} signs a {expected:?} digest, but a {given} digest was given")]
    DigestAlgorithmMismatch {
        /// The signature algorithm asked for.
        algorithm: SignatureAlgorithm,
        /// The hash the algorithm uses (none for Ed25519).
        expected: Option<HashAlgorithm>,
        /// The hash the caller said made the digest.
        given: HashAlgorithm,
    },
    /// The digest's length does not fit its hash algorithm.
    #[error("a {hash} digest is {expected} bytes long, got {actual}")]
    DigestLength {
        /// The hash algorithm.
        hash: HashAlgorithm,
        /// Its digest length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A signature does not verify under the public key.
    #[error("the signature does not verify")]
    SignatureInvalid,
    /// The key was generated non-extractable: it can never be exported, even wrapped.
    #[error("key {key_id} was generated without backup and cannot be exported")]
    NotExtractable {
        /// The key.
        key_id: KeyId,
    },
    /// The token cannot wrap this kind of key (`CKR_KEY_NOT_WRAPPABLE`;
    /// SoftHSM2 2.6 cannot wrap Edwards-curve keys).
    #[error("the token cannot wrap key {key_id} for backup")]
    KeyNotWrappable {
        /// The key.
        key_id: KeyId,
        /// The module's error.
        #[source]
        source: cryptoki::error::Error,
    },
    /// Backup or restore was asked for, but no backup key is configured.
    #[error("no backup key is configured for this SCDev")]
    NoBackupKey,
    /// A backup names another key id than the one it is restored into.
    #[error("the backup holds key {found}, not {expected}")]
    BackupKeyIdMismatch {
        /// The id the caller restores into.
        expected: KeyId,
        /// The id the backup was made for.
        found: KeyId,
    },
    /// A backup blob is not well formed, or was made by another kind of SCDev.
    #[error("malformed key backup: {reason}")]
    MalformedBackup {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A backup was wrapped under another backup key.
    #[error("the backup was wrapped under another backup key")]
    WrongBackupKey,
    /// A backup failed authentication: it was altered.
    #[error("the key backup failed authentication: it was altered")]
    BackupIntegrity {
        /// The module's error, when a PKCS#11 token refused to unwrap it.
        #[source]
        source: Option<cryptoki::error::Error>,
    },
    /// The key inside a backup does not match the public key the backup names.
    #[error("the key inside the backup does not match its public key")]
    BackupPublicKeyMismatch,
    /// A stored soft key failed authentication: the record was altered or is corrupt.
    #[error("stored key {key_id} failed authentication: the record was altered or is corrupt")]
    StoredKeyCorrupt {
        /// The key.
        key_id: KeyId,
    },
    /// A stored soft key was sealed under another key-encryption key.
    #[error("stored key {key_id} was sealed under another key-encryption key")]
    WrongKeyEncryptionKey {
        /// The key.
        key_id: KeyId,
    },
    /// A key store could not read or write.
    #[error("key store {operation} failed")]
    Store {
        /// What the store was doing.
        operation: &'static str,
        /// The store's own error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No PKCS#11 token carries this label.
    #[error("no PKCS#11 token is labelled {label:?}")]
    TokenNotFound {
        /// The label asked for.
        label: String,
    },
    /// More than one PKCS#11 token carries this label.
    #[error("more than one PKCS#11 token is labelled {label:?}")]
    TokenAmbiguous {
        /// The label asked for.
        label: String,
    },
    /// The user PIN was refused by the token.
    #[error("the PIN for token {label:?} is incorrect")]
    PinIncorrect {
        /// The token label.
        label: String,
        /// The module's error (`CKR_PIN_INCORRECT`), when the token itself refused;
        /// `None` when this process is logged in already with another PIN.
        #[source]
        source: Option<cryptoki::error::Error>,
    },
    /// The token has locked the PIN.
    #[error("the PIN for token {label:?} is locked")]
    PinLocked {
        /// The token label.
        label: String,
        /// The module's error (`CKR_PIN_LOCKED`).
        #[source]
        source: cryptoki::error::Error,
    },
    /// A PKCS#11 call failed; the source carries the `CKR_*` code.
    #[error("PKCS#11 {operation} failed: {source}")]
    Pkcs11 {
        /// What this crate was doing.
        operation: &'static str,
        /// The module's error.
        #[source]
        source: cryptoki::error::Error,
    },
    /// The token returned a value this crate cannot use.
    #[error("the token returned an unusable {what}")]
    TokenData {
        /// Which value.
        what: &'static str,
    },
    /// A cryptographic primitive failed (random source, key parsing, sealing).
    #[error("cryptographic operation failed: {operation}")]
    Crypto {
        /// Which operation.
        operation: &'static str,
    },
}

impl ScdevError {
    /// The PKCS#11 return code behind this error, if a PKCS#11 call failed.
    pub fn ckr(&self) -> Option<cryptoki::error::RvError> {
        let source = match self {
            Self::Pkcs11 { source, .. }
            | Self::PinLocked { source, .. }
            | Self::KeyNotWrappable { source, .. } => source,
            Self::PinIncorrect {
                source: Some(source),
                ..
            }
            | Self::BackupIntegrity {
                source: Some(source),
            } => source,
            _ => return None,
        };
        match source {
            cryptoki::error::Error::Pkcs11(rv, _) => Some(*rv),
            _ => None,
        }
    }

    pub(crate) fn pkcs11(operation: &'static str) -> impl FnOnce(cryptoki::error::Error) -> Self {
        move |source| Self::Pkcs11 { operation, source }
    }
}
