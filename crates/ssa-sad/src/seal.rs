//! AES-256-GCM sealing of stored secrets (TOTP seeds, PIN verifiers): `nonce || ciphertext || tag`.

use core::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::SadError;

/// The key under which the authenticator seals TOTP seeds and PIN verifiers. The embedder
/// supplies it and keeps it apart from where enrolments are stored.
/// Zeroized on drop; never printed.
#[derive(Clone)]
pub struct SeedKey(Zeroizing<[u8; 32]>);

impl SeedKey {
    /// A seed key from 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random seed key.
    pub fn generate() -> Result<Self, SadError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random(bytes.as_mut())?;
        Ok(Self(bytes))
    }

    fn aead(&self) -> Result<LessSafeKey, SadError> {
        UnboundKey::new(&AES_256_GCM, self.0.as_ref())
            .map(LessSafeKey::new)
            .map_err(|_| SadError::Crypto {
                operation: "AES-256-GCM key",
            })
    }

    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SadError> {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let mut sealed = nonce.to_vec();
        sealed.extend(plaintext);
        let tag = self
            .aead()?
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut sealed[NONCE_LEN..],
            )
            .map_err(|_| SadError::Crypto { operation: "seal" })?;
        sealed.extend(tag.as_ref());
        Ok(sealed)
    }

    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SadError> {
        let corrupt = SadError::CorruptStore {
            what: "sealed seed",
        };
        if sealed.len() < NONCE_LEN + 16 {
            return Err(corrupt);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| SadError::CorruptStore { what: "nonce" })?;
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let len = self
            .aead()?
            .open_in_place(nonce, Aad::from(aad), buffer.as_mut_slice())
            .map_err(|_| corrupt)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }
}

impl fmt::Debug for SeedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeedKey([redacted])")
    }
}

pub(crate) fn random(out: &mut [u8]) -> Result<(), SadError> {
    SystemRandom::new().fill(out).map_err(|_| SadError::Crypto {
        operation: "random",
    })
}
