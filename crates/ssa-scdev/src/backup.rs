//! Key backups (署名鍵のバックアップ): a private key wrapped under a backup
//! key, with the public description of the key in front.
//!
//! ```text
//! "SSA-BAK1" | method (1) | backup-key fingerprint (8) | key header | payload len (4, BE) | payload
//! ```
//!
//! The soft SCDev seals the PKCS#8 key with AES-256-GCM under its
//! [`BackupKey`](crate::BackupKey), all bytes before the payload as
//! associated data. The PKCS#11 SCDev uses `C_WrapKey` with
//! `CKM_AES_KEY_WRAP_PAD` (RFC 5649) under a trusted wrapping key on the
//! token; there the header is checked on restore by signing with the
//! unwrapped key and verifying against the public key the header names.

use core::fmt;

use crate::key_header::{self, Reader};
use crate::{KeyAlgorithm, KeyId, KeyInfo, ScdevError};

const MAGIC: &[u8; 8] = b"SSA-BAK1";

/// How the private key inside a backup was wrapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WrapMethod {
    /// PKCS#8 sealed with AES-256-GCM by the soft SCDev.
    SoftAes256Gcm,
    /// `C_WrapKey` with `CKM_AES_KEY_WRAP_PAD` by a PKCS#11 token.
    Pkcs11AesKeyWrapPad,
}

impl WrapMethod {
    const fn code(self) -> u8 {
        match self {
            Self::SoftAes256Gcm => 1,
            Self::Pkcs11AesKeyWrapPad => 2,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::SoftAes256Gcm),
            2 => Some(Self::Pkcs11AesKeyWrapPad),
            _ => None,
        }
    }
}

/// A key exported wrapped under a backup key. Holds no plaintext secret: the
/// payload is ciphertext and the rest is public.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    method: WrapMethod,
    wrapping_key: [u8; 8],
    info: KeyInfo,
    header: Vec<u8>,
    payload: Vec<u8>,
}

impl WrappedKey {
    pub(crate) fn new(
        method: WrapMethod,
        wrapping_key: [u8; 8],
        info: KeyInfo,
    ) -> Result<Self, ScdevError> {
        let mut header = Vec::with_capacity(128 + info.public_key.len());
        header.extend(MAGIC);
        header.push(method.code());
        header.extend(wrapping_key);
        key_header::encode(&info, &mut header).ok_or(ScdevError::MalformedBackup {
            reason: "key description too long",
        })?;
        Ok(Self {
            method,
            wrapping_key,
            info,
            header,
            payload: Vec::new(),
        })
    }

    /// The bytes that a seal must authenticate: everything before the payload.
    pub(crate) fn header(&self) -> &[u8] {
        &self.header
    }

    pub(crate) fn with_payload(mut self, payload: Vec<u8>) -> Self {
        self.payload = payload;
        self
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.payload
    }

    pub(crate) fn wrapping_key(&self) -> [u8; 8] {
        self.wrapping_key
    }

    /// How the key was wrapped.
    pub fn method(&self) -> WrapMethod {
        self.method
    }

    /// The description of the wrapped key (id, label, algorithm, public key).
    /// Not authenticated until the backup is restored.
    pub fn key_info(&self) -> &KeyInfo {
        &self.info
    }

    /// The id of the wrapped key.
    pub fn key_id(&self) -> &KeyId {
        &self.info.id
    }

    /// The algorithm of the wrapped key.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.info.algorithm
    }

    /// Refuses a backup that another kind of SCDev made, or that was made
    /// for another key than `id`: a backup goes back only into its own key.
    pub(crate) fn check_destination(
        &self,
        method: WrapMethod,
        id: &KeyId,
    ) -> Result<(), ScdevError> {
        if self.method != method {
            return Err(ScdevError::MalformedBackup {
                reason: "made by another kind of SCDev",
            });
        }
        if self.info.id != *id {
            return Err(ScdevError::BackupKeyIdMismatch {
                expected: id.clone(),
                found: self.info.id.clone(),
            });
        }
        Ok(())
    }

    /// The backup as bytes, to store wherever backups go.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header.len() + 4 + self.payload.len());
        out.extend(&self.header);
        // The payload is at most a wrapped RSA-4096 key: it always fits.
        out.extend(
            u32::try_from(self.payload.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend(&self.payload);
        out
    }

    /// Parses a backup from untrusted bytes. Only its form is checked here;
    /// restoring it checks that it is authentic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ScdevError> {
        let malformed = |reason| ScdevError::MalformedBackup { reason };
        let mut reader = Reader::new(bytes);
        if reader.take(MAGIC.len()) != Some(MAGIC.as_slice()) {
            return Err(malformed("not an ssa key backup"));
        }
        let method = reader
            .byte()
            .and_then(WrapMethod::from_code)
            .ok_or(malformed("unknown wrap method"))?;
        let mut wrapping_key = [0u8; 8];
        wrapping_key.copy_from_slice(reader.take(8).ok_or(malformed("truncated"))?);
        let info = reader.key_info().ok_or(malformed("bad key description"))?;
        let len = reader.take(4).ok_or(malformed("truncated"))?;
        let len = usize::try_from(u32::from_be_bytes([len[0], len[1], len[2], len[3]]))
            .map_err(|_| malformed("payload too long"))?;
        let rest = reader.rest();
        if rest.len() != len {
            return Err(malformed("payload length does not match"));
        }
        let header_len = bytes.len() - 4 - len;
        Ok(Self {
            method,
            wrapping_key,
            info,
            header: bytes[..header_len].to_vec(),
            payload: rest.to_vec(),
        })
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("method", &self.method)
            .field("key_id", &self.info.id)
            .field("algorithm", &self.info.algorithm)
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> WrappedKey {
        let mut point = vec![4u8];
        point.extend([3u8; 64]);
        let public_key = crate::PublicKey {
            algorithm: KeyAlgorithm::EcP256,
            key: point,
        }
        .to_spki_der()
        .unwrap_or_default();
        let info = KeyInfo {
            id: KeyId::new(b"k1".to_vec()).unwrap_or_else(|_| unreachable!()),
            label: "label".into(),
            algorithm: KeyAlgorithm::EcP256,
            backup_allowed: true,
            public_key,
        };
        WrappedKey::new(WrapMethod::SoftAes256Gcm, [1; 8], info)
            .map(|w| w.with_payload(vec![9; 40]))
            .unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn round_trips() {
        let w = sample();
        assert_eq!(WrappedKey::from_bytes(&w.to_bytes()).ok(), Some(w));
    }

    proptest! {
        #[test]
        fn truncation_never_panics_and_never_parses(cut in 0usize..200) {
            let bytes = sample().to_bytes();
            let cut = cut.min(bytes.len() - 1);
            prop_assert!(WrappedKey::from_bytes(&bytes[..cut]).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = WrappedKey::from_bytes(&bytes);
        }
    }
}
