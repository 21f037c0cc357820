//! Through the facade: any `dyn Scdev` signs, and OpenSSL, which nobody
//! here wrote, accepts the result.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::pkcs11::Pkcs11Scdev;
use ssa::scdev::soft::SoftScdev;
use ssa::{HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, Scdev, SignInput, SignatureAlgorithm};
use ssa_testkit::openssl;

fn sign_and_check(scdev: &dyn Scdev) {
    let id = KeyId::new(b"facade".to_vec()).unwrap();
    let info = scdev
        .generate_key(&id, "facade", KeySpec::new(KeyAlgorithm::EcP384))
        .unwrap();
    let algorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384);
    let message = b"through the facade";
    let signature = scdev
        .sign(&id, algorithm, SignInput::Message(message))
        .unwrap();
    assert!(openssl::verify_message(
        &info.public_key,
        algorithm,
        message,
        &signature
    ));
    assert!(!openssl::verify_message(
        &info.public_key,
        algorithm,
        b"something else",
        &signature
    ));
}

#[test]
fn soft_scdev_through_the_facade() {
    sign_and_check(&SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap()));
}

#[test]
fn softhsm_scdev_through_the_facade() {
    let token = ssa_testkit::softhsm().create_token("facade", false);
    sign_and_check(&Pkcs11Scdev::open(&token.config()).unwrap());
}
