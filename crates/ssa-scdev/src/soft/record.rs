//! A stored soft key: public header, sealed PKCS#8.
//!
//! ```text
//! "SSA-KEY1" | KEK fingerprint (8) | key header | nonce (12) | AES-256-GCM(PKCS#8) | tag (16)
//! ```
//!
//! Everything before the nonce is the associated data, so the key id, the
//! algorithm, the label, the backup flag and the public key are all bound
//! to the sealed private key.

use zeroize::Zeroizing;

use crate::key_header::{self, Reader};
use crate::secret::AesKey;
use crate::{KeyId, KeyInfo, ScdevError};

use super::seal;

const MAGIC: &[u8; 8] = b"SSA-KEY1";
pub(super) const KEK_PURPOSE: &[u8] = b"ssa-scdev key-encryption key";

/// Seals `pkcs8` under the key-encryption key, bound to `info`.
pub(super) fn seal(kek: &AesKey, info: &KeyInfo, pkcs8: &[u8]) -> Result<Vec<u8>, ScdevError> {
    let mut record = Vec::with_capacity(256 + pkcs8.len());
    record.extend(MAGIC);
    record.extend(kek.fingerprint(KEK_PURPOSE));
    key_header::encode(info, &mut record).ok_or(ScdevError::InvalidLabel)?;
    let sealed = seal::seal(kek, &record, pkcs8)?;
    record.extend(sealed);
    Ok(record)
}

/// Opens a record read from the store under `id`: the description and the
/// plaintext PKCS#8. Any change to any byte is refused.
pub(super) fn open(
    kek: &AesKey,
    id: &KeyId,
    record: &[u8],
) -> Result<(KeyInfo, Zeroizing<Vec<u8>>), ScdevError> {
    let corrupt = || ScdevError::StoredKeyCorrupt { key_id: id.clone() };
    let mut reader = Reader::new(record);
    if reader.take(MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(corrupt());
    }
    let fingerprint = reader.take(8).ok_or_else(corrupt)?;
    let info = reader.key_info().ok_or_else(corrupt)?;
    let sealed = reader.rest();
    let aad = &record[..record.len() - sealed.len()];
    let pkcs8 = seal::open(kek, aad, sealed);
    match pkcs8 {
        // A record filed under another id is a record moved by someone: refuse it.
        Some(pkcs8) if info.id == *id => Ok((info, pkcs8)),
        Some(_) => Err(corrupt()),
        None if fingerprint != kek.fingerprint(KEK_PURPOSE) => {
            Err(ScdevError::WrongKeyEncryptionKey { key_id: id.clone() })
        }
        None => Err(corrupt()),
    }
}
