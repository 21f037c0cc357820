//! PKCS#11-only behaviour, on private SoftHSM2 tokens: login, PIN errors,
//! and recovery when sessions vanish behind the pool's back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cryptoki::error::RvError;
use cryptoki::session::SessionState;
use ssa_scdev::pkcs11::{Pkcs11Config, Pkcs11Scdev, context, find_slot};
use ssa_scdev::{
    HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, Pin, PublicKey, Scdev, ScdevError, SignInput,
    SignatureAlgorithm,
};

const ECDSA: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

fn sign_and_verify(scdev: &dyn Scdev, id: &KeyId, message: &[u8]) {
    let sig = scdev.sign(id, ECDSA, SignInput::Message(message)).unwrap();
    let key = PublicKey::from_spki_der(&scdev.public_key(id).unwrap()).unwrap();
    key.verify(ECDSA, message, &sig).unwrap();
}

#[test]
fn softhsm_sessions_closed_behind_the_pools_back() {
    let hsm = ssa_testkit::softhsm();
    let token = hsm.create_token("closed", false);
    let scdev = Pkcs11Scdev::open(&token.config()).unwrap();
    let id = KeyId::new(b"survivor".to_vec()).unwrap();
    scdev
        .generate_key(&id, "survivor", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    // Fill the pool with several sessions.
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let (scdev, id) = (&scdev, &id);
            s.spawn(move || sign_and_verify(scdev, id, &[t]));
        }
    });

    ssa_testkit::close_all_sessions(&token.label);

    // The token really is logged out now: a fresh session is public only.
    let pkcs11 = context(hsm.module()).unwrap();
    let slot = find_slot(&pkcs11, &token.label).unwrap();
    let probe = pkcs11.open_ro_session(slot).unwrap();
    assert_eq!(
        probe.get_session_info().unwrap().session_state(),
        SessionState::RoPublic
    );
    drop(probe);

    // Every pooled session is dead, yet signing works, once and from many threads.
    sign_and_verify(&scdev, &id, b"after close");
    std::thread::scope(|s| {
        for t in 0..8u8 {
            let (scdev, id) = (&scdev, &id);
            s.spawn(move || {
                for i in 0..10u8 {
                    sign_and_verify(scdev, id, &[t, i]);
                }
            });
        }
    });
}

#[test]
fn softhsm_wrong_pin() {
    let hsm = ssa_testkit::softhsm();
    let token = hsm.create_token("wrong-pin", false);
    let wrong = Pkcs11Config::new(hsm.module(), &token.label, Pin::new("not-the-pin"));
    let error = Pkcs11Scdev::open(&wrong).unwrap_err();
    assert!(
        matches!(
            error,
            ScdevError::PinIncorrect {
                source: Some(_),
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.ckr(), Some(RvError::PinIncorrect));
    assert!(!format!("{error:?} {error}").contains("not-the-pin"));

    // The right PIN still works (the failure changed nothing but the token's counter).
    let scdev = Pkcs11Scdev::open(&token.config()).unwrap();
    // While this process is logged in, the token would answer "already logged
    // in" to any PIN: the wrong one is refused before it gets there.
    let error = Pkcs11Scdev::open(&wrong).unwrap_err();
    assert!(
        matches!(error, ScdevError::PinIncorrect { source: None, .. }),
        "{error:?}"
    );
    // And a second open with the right PIN shares the login.
    let again = Pkcs11Scdev::open(&token.config()).unwrap();
    let id = KeyId::new(b"shared".to_vec()).unwrap();
    scdev
        .generate_key(&id, "shared", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    sign_and_verify(&again, &id, b"either handle signs");
}

#[test]
fn softhsm_missing_token_is_a_typed_error() {
    let hsm = ssa_testkit::softhsm();
    let config = Pkcs11Config::new(hsm.module(), "no-such-token", Pin::new("1234"));
    let error = Pkcs11Scdev::open(&config).unwrap_err();
    assert!(
        matches!(error, ScdevError::TokenNotFound { ref label } if label == "no-such-token"),
        "{error:?}"
    );
}

#[test]
fn softhsm_keys_are_generated_sensitive_and_unextractable() {
    use cryptoki::object::{Attribute, AttributeType, ObjectClass};
    let hsm = ssa_testkit::softhsm();
    let token = hsm.create_token("attributes", true);
    let scdev = Pkcs11Scdev::open(&token.config()).unwrap();
    let plain = KeyId::new(b"plain".to_vec()).unwrap();
    let backup = KeyId::new(b"backup".to_vec()).unwrap();
    scdev
        .generate_key(&plain, "plain", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    scdev
        .generate_key(
            &backup,
            "backup",
            KeySpec::new(KeyAlgorithm::EcP256).with_backup(),
        )
        .unwrap();
    let pkcs11 = context(hsm.module()).unwrap();
    let session = pkcs11
        .open_ro_session(find_slot(&pkcs11, &token.label).unwrap())
        .unwrap();
    for (id, extractable) in [(&plain, false), (&backup, true)] {
        let handle = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Id(id.as_bytes().to_vec()),
            ])
            .unwrap()[0];
        let attributes = session
            .get_attributes(
                handle,
                &[
                    AttributeType::Token,
                    AttributeType::Private,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Sign,
                    AttributeType::WrapWithTrusted,
                ],
            )
            .unwrap();
        for attribute in attributes {
            match attribute {
                Attribute::Token(v)
                | Attribute::Private(v)
                | Attribute::Sensitive(v)
                | Attribute::Sign(v) => {
                    assert!(v, "{id}: {attribute:?}")
                }
                Attribute::Extractable(v) => assert_eq!(v, extractable, "{id}"),
                Attribute::WrapWithTrusted(v) => assert_eq!(v, extractable, "{id}"),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn softhsm_tampered_backups_are_refused_and_leave_nothing_behind() {
    use ssa_scdev::WrappedKey;
    let hsm = ssa_testkit::softhsm();
    let token = hsm.create_token("tamper", true);
    let scdev = Pkcs11Scdev::open(&token.config()).unwrap();
    let id = KeyId::new(b"victim".to_vec()).unwrap();
    let other = KeyId::new(b"other".to_vec()).unwrap();
    let info = scdev
        .generate_key(
            &id,
            "victim",
            KeySpec::new(KeyAlgorithm::EcP256).with_backup(),
        )
        .unwrap();
    let other_info = scdev
        .generate_key(&other, "other", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    let bytes = scdev.export_wrapped(&id).unwrap().to_bytes();
    scdev.destroy_key(&id).unwrap();

    // The wrapped key itself altered: the token's key wrap refuses it.
    let mut payload = bytes.clone();
    let last = payload.len() - 3;
    payload[last] ^= 0x01;
    let result = scdev.import_wrapped(&id, &WrappedKey::from_bytes(&payload).unwrap());
    assert!(result.is_err(), "an altered wrapped key was restored");
    assert!(scdev.find_key(&id).unwrap().is_none());
    assert!(scdev.list_keys().unwrap().iter().all(|k| k.id != id));

    // The header made to name another public key: the restored key is
    // checked against it and thrown away.
    let at = bytes
        .windows(info.public_key.len())
        .position(|w| w == info.public_key.as_slice())
        .unwrap();
    let mut swapped = bytes.clone();
    swapped[at..at + info.public_key.len()].copy_from_slice(&other_info.public_key);
    let result = scdev.import_wrapped(&id, &WrappedKey::from_bytes(&swapped).unwrap());
    assert!(
        matches!(result, Err(ScdevError::BackupPublicKeyMismatch)),
        "{result:?}"
    );
    assert!(
        scdev.find_key(&id).unwrap().is_none(),
        "a refused restore left a key"
    );

    // A token without the backup key configured refuses before unwrapping.
    let no_backup = Pkcs11Config::new(hsm.module(), &token.label, token.user_pin.clone());
    let plain = Pkcs11Scdev::open(&no_backup).unwrap();
    let result = plain.import_wrapped(&id, &WrappedKey::from_bytes(&bytes).unwrap());
    assert!(matches!(result, Err(ScdevError::NoBackupKey)), "{result:?}");

    // The untouched backup still restores.
    let restored = scdev
        .import_wrapped(&id, &WrappedKey::from_bytes(&bytes).unwrap())
        .unwrap();
    assert_eq!(restored, info);
    sign_and_verify(&scdev, &id, b"restored");
}

#[test]
fn softhsm_a_key_destroyed_behind_the_cache_never_signs() {
    use cryptoki::object::{Attribute, ObjectClass};
    use cryptoki::session::UserType;
    let hsm = ssa_testkit::softhsm();
    let token = hsm.create_token("stale-handle", false);
    let scdev = Pkcs11Scdev::open(&token.config()).unwrap();
    let id = KeyId::new(b"cached".to_vec()).unwrap();
    scdev
        .generate_key(&id, "cached", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    sign_and_verify(&scdev, &id, b"fills the handle cache");
    // Destroy the private key through another session, so the SCDev's
    // handle cache is not told.
    let pkcs11 = context(hsm.module()).unwrap();
    let session = pkcs11
        .open_rw_session(find_slot(&pkcs11, &token.label).unwrap())
        .unwrap();
    let _ = session.login(
        UserType::User,
        Some(&cryptoki::types::AuthPin::from(
            token.user_pin_text().as_str(),
        )),
    );
    let handle = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(id.as_bytes().to_vec()),
        ])
        .unwrap()[0];
    session.destroy_object(handle).unwrap();
    let result = scdev.sign(&id, ECDSA, SignInput::Message(b"after"));
    assert!(
        matches!(result, Err(ScdevError::UnknownKey { .. })),
        "{result:?}"
    );
}
