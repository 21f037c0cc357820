//! Secrets of the OAuth2 flow and what they stand for. A secret (a page
//! session, a code, a token) is 256 random bits, base64url, given to the
//! browser or client once. The [`GrantStore`] keeps its grant under the
//! secret's SHA-256, the content sealed (ChaCha20-Poly1305) under a key
//! derived from the secret with HKDF-SHA-256: a store that leaks yields
//! neither a usable secret nor the SADs behind them.

use base64ct::{Base64UrlUnpadded, Encoding};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::SecureRandom;
use serde::Serialize;
use serde::de::DeserializeOwned;
use ssa::HashAlgorithm;
use ssa::store::{Grant, GrantStore, StoreError};
use zeroize::Zeroizing;

/// Longest secret text taken from a client (ours are 43 characters).
const MAX_SECRET_LEN: usize = 256;

/// A secret as its holder sees it. `Debug` never shows it.
pub(crate) struct Secret(Zeroizing<String>);

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Secret {
    /// A new secret.
    pub(crate) fn new() -> Result<Self, StoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        ring::rand::SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| StoreError::Corrupt {
                what: "random bytes for a secret",
            })?;
        Ok(Self(Zeroizing::new(Base64UrlUnpadded::encode_string(
            bytes.as_ref(),
        ))))
    }

    /// The text.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// The store key of a secret's grant.
fn key(secret: &str) -> String {
    ssa::store::durable::hex(&HashAlgorithm::Sha256.digest(secret.as_bytes()))
}

/// The AEAD key a secret gives for grants of `kind`.
fn sealing_key(secret: &str, kind: &str) -> Option<LessSafeKey> {
    let salt = Salt::new(HKDF_SHA256, b"ssa-csc oauth2 grant");
    let info = [kind.as_bytes()];
    let prk = salt.extract(secret.as_bytes());
    let okm = prk.expand(&info, &CHACHA20_POLY1305).ok()?;
    Some(LessSafeKey::new(UnboundKey::from(okm)))
}

/// Grants sealed under their secrets, in a [`GrantStore`].
#[derive(Debug, Clone)]
pub(crate) struct Grants {
    store: std::sync::Arc<dyn GrantStore>,
}

impl Grants {
    pub(crate) fn new(store: std::sync::Arc<dyn GrantStore>) -> Self {
        Self { store }
    }

    /// Stores `content` as a grant of `kind` until `expires`, under a new
    /// secret, and returns the secret.
    pub(crate) fn put<T: Serialize>(
        &self,
        kind: &str,
        content: &T,
        expires: u64,
        now: u64,
    ) -> Result<Secret, StoreError> {
        let secret = Secret::new()?;
        let mut sealed = Zeroizing::new(
            serde_json::to_vec(content).map_err(|_| StoreError::Corrupt { what: "grant" })?,
        );
        let key = sealing_key(secret.expose(), kind).ok_or(StoreError::Corrupt {
            what: "grant sealing key",
        })?;
        // Each key seals once (it comes from a fresh secret): a fixed
        // nonce is safe.
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::from(kind.as_bytes()),
            &mut *sealed,
        )
        .map_err(|_| StoreError::Corrupt { what: "grant" })?;
        self.store.put(
            &key_of(&secret),
            &Grant {
                kind: kind.to_owned(),
                expires,
                sealed: sealed.to_vec(),
            },
            now,
        )?;
        Ok(secret)
    }

    /// What the grant of `kind` under `secret` stands for, if it exists,
    /// is of that kind and has not expired by `now`; left in place.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        secret: &str,
        now: u64,
    ) -> Result<Option<T>, StoreError> {
        if !holdable(secret) {
            return Ok(None);
        }
        let grant = self.store.get(&key(secret))?;
        Ok(grant.and_then(|g| open(kind, secret, g, now)))
    }

    /// [`Grants::get`], taking the grant: of every caller on every node,
    /// one gets it. A grant of another kind is taken too (a secret is used
    /// for one thing only) and answers `None`.
    pub(crate) fn take<T: DeserializeOwned>(
        &self,
        kind: &str,
        secret: &str,
        now: u64,
    ) -> Result<Option<T>, StoreError> {
        if !holdable(secret) {
            return Ok(None);
        }
        let grant = self.store.take(&key(secret))?;
        Ok(grant.and_then(|g| open(kind, secret, g, now)))
    }
}

fn key_of(secret: &Secret) -> String {
    key(secret.expose())
}

fn holdable(secret: &str) -> bool {
    !secret.is_empty() && secret.len() <= MAX_SECRET_LEN
}

fn open<T: DeserializeOwned>(kind: &str, secret: &str, grant: Grant, now: u64) -> Option<T> {
    if grant.kind != kind || grant.expires <= now {
        return None;
    }
    let key = sealing_key(secret, kind)?;
    let mut sealed = Zeroizing::new(grant.sealed);
    let plain = key
        .open_in_place(
            Nonce::assume_unique_for_key([0; 12]),
            Aad::from(kind.as_bytes()),
            &mut sealed,
        )
        .ok()?;
    serde_json::from_slice(plain).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use ssa::store::MemoryGrantStore;

    use super::*;

    #[test]
    fn a_grant_opens_with_its_secret_and_kind_only() {
        let store = Arc::new(MemoryGrantStore::new());
        let grants = Grants::new(store.clone());
        let secret = grants.put("code", &"the SAD", 100, 10).unwrap();
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(secret.expose().len(), 43);
        // The store holds neither the secret nor the content.
        let stored = store.get(&key(secret.expose())).unwrap().unwrap();
        assert!(!stored.sealed.windows(7).any(|w| w == b"the SAD"));
        assert_eq!(
            grants.get::<String>("code", secret.expose(), 99).unwrap(),
            Some("the SAD".into())
        );
        assert_eq!(
            grants.get::<String>("code", secret.expose(), 100).unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            grants.get::<String>("token", secret.expose(), 10).unwrap(),
            None,
            "another kind"
        );
        let mut other = secret.expose().to_owned();
        other.replace_range(0..1, if other.starts_with('A') { "B" } else { "A" });
        assert_eq!(grants.get::<String>("code", &other, 10).unwrap(), None);
        // A grant whose sealed bytes were changed opens to nothing.
        let mut tampered = stored.clone();
        tampered.sealed[0] ^= 1;
        store.put(&key(secret.expose()), &tampered, 10).unwrap();
        assert_eq!(
            grants.get::<String>("code", secret.expose(), 10).unwrap(),
            None
        );
        store.put(&key(secret.expose()), &stored, 10).unwrap();
        assert_eq!(
            grants.take::<String>("code", secret.expose(), 10).unwrap(),
            Some("the SAD".into())
        );
        assert_eq!(
            grants.take::<String>("code", secret.expose(), 10).unwrap(),
            None,
            "taken once"
        );
        assert_eq!(
            grants.get::<String>("code", &"x".repeat(300), 10).unwrap(),
            None
        );
    }
}
