//! Issue 11, item 6, in a process of its own: re-initialising the module
//! pulls every session of the process away, so no other test may share it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ssa_scdev::pkcs11::{Pkcs11Scdev, context, find_slot};
use ssa_scdev::{
    HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, PublicKey, Scdev, SignInput, SignatureAlgorithm,
};

const ECDSA: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

fn sign_and_verify(scdev: &dyn Scdev, id: &KeyId, message: &[u8]) {
    let sig = scdev.sign(id, ECDSA, SignInput::Message(message)).unwrap();
    let key = PublicKey::from_spki_der(&scdev.public_key(id).unwrap()).unwrap();
    key.verify(ECDSA, message, &sig).unwrap();
}

/// Issue 11, item 6: the module re-initialised behind the backend's back
/// (SoftHSM2 then numbers the token's slot afresh): the backend finds the
/// token by its label again and signs, instead of answering
/// CKR_SLOT_ID_INVALID until the process restarts.
#[test]
fn softhsm_a_token_that_moved_to_another_slot_is_found_again() {
    let hsm = ssa_testkit::softhsm();
    let token = hsm.create_token("moved", false);
    let scdev = Pkcs11Scdev::open(&token.config()).unwrap();
    let id = KeyId::new(b"moved".to_vec()).unwrap();
    scdev
        .generate_key(&id, "moved", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    sign_and_verify(&scdev, &id, b"before");
    let pkcs11 = context(hsm.module()).unwrap();
    let before = find_slot(&pkcs11, &token.label).unwrap();

    ssa_testkit::reinitialize_module();
    let after = find_slot(&pkcs11, &token.label).unwrap();
    assert_ne!(before.id(), after.id(), "the token did not move: no test");

    sign_and_verify(&scdev, &id, b"after");
    let other = KeyId::new(b"moved-2".to_vec()).unwrap();
    scdev
        .generate_key(&other, "moved-2", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    sign_and_verify(&scdev, &other, b"a key made after the move");
}
