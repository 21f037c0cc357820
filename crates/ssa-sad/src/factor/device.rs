//! The device-key factor: the signer's own P-256 or Ed25519 key, on their
//! phone or token. The authenticator issues a challenge that names the
//! credential and the exact digests; the device signs it. Possession is
//! proven without any shared secret, and the signature is good for those
//! digests only.

use serde::{Deserialize, Serialize};

use ssa_types::{HashAlgorithm, SigningMode};

/// The public key of a signer's device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceKey {
    /// An uncompressed P-256 point (65 bytes); signatures are ECDSA with
    /// SHA-256 as `r || s` (64 bytes), as WebAuthn-less devices and JWS use.
    P256(Vec<u8>),
    /// An Ed25519 public key (32 bytes).
    Ed25519(Vec<u8>),
}

impl DeviceKey {
    pub(crate) fn well_formed(&self) -> bool {
        match self {
            Self::P256(point) => point.len() == 65 && point[0] == 4,
            Self::Ed25519(key) => key.len() == 32,
        }
    }

    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use ring::signature as rs;
        let (algorithm, key): (&dyn rs::VerificationAlgorithm, &[u8]) = match self {
            Self::P256(point) => (&rs::ECDSA_P256_SHA256_FIXED, point),
            Self::Ed25519(key) => (&rs::ED25519, key),
        };
        rs::UnparsedPublicKey::new(algorithm, key)
            .verify(message, signature)
            .is_ok()
    }
}

/// A challenge for the signer's device to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceChallenge {
    /// Names the challenge when the response comes back.
    pub id: String,
    /// The exact bytes the device signs.
    pub message: Vec<u8>,
}

/// What the device sends back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceResponse {
    /// The challenge id.
    pub challenge_id: String,
    /// The device's signature over the challenge message.
    pub signature: Vec<u8>,
}

/// The challenge message: a fixed label, then each field length-prefixed,
/// so no two different requests share a message.
pub(crate) fn challenge_message(
    nonce: &[u8],
    issuer: &str,
    credential: &str,
    mode: SigningMode,
    hash_alg: HashAlgorithm,
    digests: &[Vec<u8>],
) -> Vec<u8> {
    let mut message = b"ssa-sad device challenge v2\0".to_vec();
    let mut field = |bytes: &[u8]| {
        message.extend((bytes.len() as u32).to_be_bytes());
        message.extend(bytes);
    };
    field(nonce);
    field(issuer.as_bytes());
    field(credential.as_bytes());
    field(mode.as_str().as_bytes());
    field(hash_alg.oid().as_bytes());
    field(&(digests.len() as u32).to_be_bytes());
    for digest in digests {
        field(digest);
    }
    message
}
