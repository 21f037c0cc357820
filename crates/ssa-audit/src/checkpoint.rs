//! Signed checkpoints: every N records or T seconds, the count and the hash
//! of the last record, signed by an audit key (held in an SCDev by the
//! facade). A checkpoint kept apart from the log proves what the log held.

use core::fmt;

use crate::AuditError;

/// Signs checkpoints. The facade implements it over an SCDev key.
pub trait CheckpointSigner: Send + Sync + fmt::Debug {
    /// Names the key in the checkpoint record.
    fn key_id(&self) -> String;
    /// Signs `message`.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuditError>;
}

/// Checks checkpoint signatures.
pub trait CheckpointVerifier: fmt::Debug {
    /// Whether `signature` over `message` is the key `key_id`'s.
    fn verify(&self, key_id: &str, message: &[u8], signature: &[u8]) -> bool;
}

/// The bytes a checkpoint signs.
pub fn checkpoint_message(count: u64, head: &str) -> Vec<u8> {
    let mut message = b"ssa-audit checkpoint v1\0".to_vec();
    message.extend(count.to_be_bytes());
    message.extend(head.as_bytes());
    message
}

/// A verifier for one ECDSA P-256 (DER signature) or Ed25519 public key,
/// given as raw bytes (uncompressed point, or 32 bytes).
#[derive(Clone, Debug)]
pub struct PublicKeyVerifier {
    /// The key id checkpoints must name.
    pub key_id: String,
    /// The raw public key.
    pub public_key: Vec<u8>,
}

impl CheckpointVerifier for PublicKeyVerifier {
    fn verify(&self, key_id: &str, message: &[u8], signature: &[u8]) -> bool {
        use ring::signature as rs;
        if key_id != self.key_id {
            return false;
        }
        let algorithm: &dyn rs::VerificationAlgorithm = if self.public_key.len() == 32 {
            &rs::ED25519
        } else {
            &rs::ECDSA_P256_SHA256_ASN1
        };
        rs::UnparsedPublicKey::new(algorithm, &self.public_key)
            .verify(message, signature)
            .is_ok()
    }
}
