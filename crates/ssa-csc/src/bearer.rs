//! Bearer tokens (CSC `auth/login` → `access_token`): 256 random bits,
//! base64url, given to the client once; the server keeps only their
//! SHA-256, with the signer and the expiry, in a
//! [`BearerTokenStore`]. Revoking removes the record, on every node that
//! shares the store.

use std::sync::Arc;

use base64ct::{Base64UrlUnpadded, Encoding};
use ring::rand::SecureRandom;
use ssa::HashAlgorithm;
use ssa::store::{BearerSession, BearerTokenStore, StoreError};
use zeroize::Zeroizing;

use crate::error::CscError;

/// A bearer token as the client holds it. `Debug` never shows it.
pub struct BearerToken(Zeroizing<String>);

impl core::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BearerToken([redacted])")
    }
}

impl BearerToken {
    /// The token text, for the `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key the store keeps the token's session under.
    fn key(token: &str) -> String {
        ssa::store::durable::hex(&HashAlgorithm::Sha256.digest(token.as_bytes()))
    }
}

/// Issues, checks and revokes bearer tokens.
#[derive(Debug, Clone)]
pub struct BearerTokens {
    store: Arc<dyn BearerTokenStore>,
    lifetime: u64,
}

/// Longest token text accepted from a client (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 256;

impl BearerTokens {
    /// Tokens kept in `store`, valid for `lifetime` seconds.
    pub fn new(store: Arc<dyn BearerTokenStore>, lifetime: u64) -> Self {
        Self {
            store,
            lifetime: lifetime.max(1),
        }
    }

    /// Seconds a new token is valid.
    pub fn lifetime(&self) -> u64 {
        self.lifetime
    }

    /// A new token for `signer`, valid from `now` for the lifetime.
    pub fn issue(&self, signer: &str, now: u64) -> Result<BearerToken, StoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        ring::rand::SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| StoreError::Corrupt {
                what: "random bytes for a bearer token",
            })?;
        let token = Zeroizing::new(Base64UrlUnpadded::encode_string(bytes.as_ref()));
        self.store.put(
            &BearerToken::key(&token),
            &BearerSession {
                signer: signer.to_owned(),
                issued: now,
                expires: now.saturating_add(self.lifetime),
            },
            now,
        )?;
        Ok(BearerToken(token))
    }

    /// The signer a token stands for at `now`; unknown, expired or revoked
    /// tokens are `invalid_token`.
    pub fn signer(&self, token: &str, now: u64) -> Result<String, CscError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(CscError::invalid_token("the access token is not valid"));
        }
        match self.store.get(&BearerToken::key(token)) {
            Ok(Some(session)) if session.expires > now => Ok(session.signer),
            Ok(Some(_)) => Err(CscError::invalid_token("the access token has expired")),
            Ok(None) => Err(CscError::invalid_token("the access token is not valid")),
            Err(e) => Err(CscError::unavailable(format!("bearer token store: {e}"))),
        }
    }

    /// Revokes a token; `false` if it was not known.
    pub fn revoke(&self, token: &str) -> Result<bool, StoreError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(false);
        }
        self.store.revoke(&BearerToken::key(token))
    }
}

/// The token of an `Authorization: Bearer …` header value, if it is one.
pub fn from_header(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_token_prints_as_redacted_and_is_256_random_bits() {
        let tokens = BearerTokens::new(Arc::new(ssa::store::MemoryBearerTokenStore::new()), 60);
        let a = tokens.issue("alice", 1_000).unwrap();
        let b = tokens.issue("alice", 1_000).unwrap();
        assert_eq!(format!("{a:?}"), "BearerToken([redacted])");
        assert_eq!(a.expose().len(), 43, "32 bytes, base64url without padding");
        assert_ne!(a.expose(), b.expose());
        assert_eq!(tokens.signer(a.expose(), 1_059).unwrap(), "alice");
        assert_eq!(
            tokens.signer(a.expose(), 1_060).unwrap_err().code,
            "invalid_token"
        );
    }

    #[test]
    fn only_bearer_headers_give_a_token() {
        assert_eq!(from_header("Bearer abc"), Some("abc"));
        assert_eq!(from_header("bearer  abc "), Some("abc"));
        assert_eq!(from_header("Basic abc"), None);
        assert_eq!(from_header("Bearer "), None);
        assert_eq!(from_header("Bearer"), None);
    }
}
