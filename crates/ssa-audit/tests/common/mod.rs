//! A checkpoint signer for the audit tests: a fresh Ed25519 key.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use std::sync::Arc;

use ssa_audit::{AuditError, CheckpointSigner};

#[derive(Debug)]
pub struct TestSigner(pub ring::signature::Ed25519KeyPair);

impl CheckpointSigner for TestSigner {
    fn key_id(&self) -> String {
        "audit-key-1".into()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, AuditError> {
        Ok(self.0.sign(message).as_ref().to_vec())
    }
}

pub fn signer() -> Arc<TestSigner> {
    let pkcs8 =
        ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    Arc::new(TestSigner(
        ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap(),
    ))
}
