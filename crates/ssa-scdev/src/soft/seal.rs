//! AES-256-GCM sealing of private keys: `nonce (12) || ciphertext || tag (16)`.

use ring::aead::{Aad, NONCE_LEN, Nonce};
use ring::rand::SecureRandom;
use zeroize::Zeroizing;

use crate::ScdevError;
use crate::secret::AesKey;

/// Seals `plaintext` under `key` with `aad` authenticated alongside.
pub(crate) fn seal(key: &AesKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, ScdevError> {
    let mut nonce = [0u8; NONCE_LEN];
    ring::rand::SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| ScdevError::Crypto {
            operation: "random nonce",
        })?;
    let mut sealed = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
    sealed.extend(nonce);
    sealed.extend(plaintext);
    let tag = key
        .aead()?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut sealed[NONCE_LEN..],
        )
        .map_err(|_| ScdevError::Crypto {
            operation: "AES-256-GCM seal",
        })?;
    sealed.extend(tag.as_ref());
    Ok(sealed)
}

/// Opens what [`seal`] made; `None` if anything (key, aad, bytes) differs.
pub(crate) fn open(key: &AesKey, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + 16 {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = key
        .aead()
        .ok()?
        .open_in_place(nonce, Aad::from(aad), buffer.as_mut_slice())
        .ok()?
        .len();
    buffer.truncate(len);
    Some(buffer)
}
