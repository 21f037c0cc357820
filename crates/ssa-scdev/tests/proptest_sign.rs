//! Arbitrary messages and digests sign and verify, on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::OnceLock;

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use proptest::prelude::*;
use ssa_scdev::pkcs11::Pkcs11Scdev;
use ssa_scdev::soft::SoftScdev;
use ssa_scdev::{
    HashAlgorithm, KeyAlgorithm, KeyEncryptionKey, KeyId, KeyInfo, KeySpec, PublicKey, Scdev,
    SignInput, SignatureAlgorithm,
};

struct Keys {
    scdev: Box<dyn Scdev>,
    ec: KeyInfo,
    ed: KeyInfo,
}

fn keys(scdev: Box<dyn Scdev>) -> Keys {
    let ec = scdev
        .generate_key(
            &KeyId::new(b"prop-ec".to_vec()).unwrap(),
            "ec",
            KeySpec::new(KeyAlgorithm::EcP256),
        )
        .unwrap();
    let ed = scdev
        .generate_key(
            &KeyId::new(b"prop-ed".to_vec()).unwrap(),
            "ed",
            KeySpec::new(KeyAlgorithm::Ed25519),
        )
        .unwrap();
    Keys { scdev, ec, ed }
}

fn soft() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        keys(Box::new(SoftScdev::in_memory(
            KeyEncryptionKey::generate().unwrap(),
        )))
    })
}

fn softhsm() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let token = ssa_testkit::softhsm().create_token("proptest", false);
        keys(Box::new(Pkcs11Scdev::open(&token.config()).unwrap()))
    })
}

const ECDSA: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

fn check_message(keys: &Keys, message: &[u8]) -> Result<(), TestCaseError> {
    for (info, alg) in [(&keys.ec, ECDSA), (&keys.ed, SignatureAlgorithm::Ed25519)] {
        let sig = keys
            .scdev
            .sign(&info.id, alg, SignInput::Message(message))
            .unwrap();
        let key = PublicKey::from_spki_der(&info.public_key).unwrap();
        prop_assert!(key.verify(alg, message, &sig).is_ok(), "{alg}");
    }
    Ok(())
}

/// Any 32 bytes are a digest to sign; checked with RustCrypto's prehash verifier.
fn check_digest(keys: &Keys, digest: &[u8; 32]) -> Result<(), TestCaseError> {
    let sig = keys
        .scdev
        .sign(
            &keys.ec.id,
            ECDSA,
            SignInput::Digest {
                hash: HashAlgorithm::Sha256,
                value: digest,
            },
        )
        .unwrap();
    let point = PublicKey::from_spki_der(&keys.ec.public_key).unwrap().key;
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let der = p256::ecdsa::DerSignature::from_bytes(&sig).unwrap();
    prop_assert!(verifying.verify_prehash(digest, &der).is_ok());
    let mut other = *digest;
    other[0] ^= 1;
    prop_assert!(verifying.verify_prehash(&other, &der).is_err());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn soft_arbitrary_messages_sign_and_verify(message in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_message(soft(), &message)?;
    }

    #[test]
    fn soft_arbitrary_digests_sign_and_verify(digest in any::<[u8; 32]>()) {
        check_digest(soft(), &digest)?;
    }

    #[test]
    fn softhsm_arbitrary_messages_sign_and_verify(message in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check_message(softhsm(), &message)?;
    }

    #[test]
    fn softhsm_arbitrary_digests_sign_and_verify(digest in any::<[u8; 32]>()) {
        check_digest(softhsm(), &digest)?;
    }
}
