//! The built-in authenticator beyond the negative corpus: Ed25519 device
//! keys, SCAL1 with one factor, enrolment checks, SAD lifetime cap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use ring::signature::KeyPair;
use ssa_sad::*;

#[test]
fn ed25519_device_key_with_pin_gives_scal2() {
    let w = world();
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let device = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    w.issuer
        .enroll(Enrolment {
            credential: "cred-ed".into(),
            signer: "signer-ed".into(),
            scal: Scal::Scal2,
            pin: Some(Pin::new(PIN)),
            totp: None,
            device_key: Some(DeviceKey::Ed25519(device.public_key().as_ref().to_vec())),
        })
        .unwrap();
    let digests = digests(2);
    let challenge = w
        .issuer
        .device_challenge(
            "cred-ed",
            SigningMode::Document,
            HashAlgorithm::Sha256,
            &digests,
            NOW,
        )
        .unwrap();
    let sad = w
        .issuer
        .authorize(
            &AuthorizationRequest {
                credential: "cred-ed",
                mode: SigningMode::Document,
                hash_alg: HashAlgorithm::Sha256,
                digests: &digests,
                num: 2,
                lifetime: 3600,
                factors: PresentedFactors {
                    pin: Some(Pin::new(PIN)),
                    otp: None,
                    device: Some(DeviceResponse {
                        challenge_id: challenge.id,
                        signature: device.sign(&challenge.message).as_ref().to_vec(),
                    }),
                },
            },
            NOW,
        )
        .unwrap()
        .sad;
    let claims = w.sam.verify_token(&sad, NOW).unwrap();
    assert_eq!(
        (claims.scal, claims.sub.as_str(), claims.num),
        (Scal::Scal2, "signer-ed", 2)
    );
    // Asked for an hour, capped at the issuer's maximum.
    assert_eq!(claims.exp - claims.iat, 300);
}

#[test]
fn challenge_for_another_credential_is_unknown() {
    let w = world();
    w.enroll("cred-b", "signer-b", Scal::Scal2);
    let digests = digests(1);
    let rng = ring::rand::SystemRandom::new();
    let challenge = w
        .issuer
        .device_challenge(
            "cred-b",
            SigningMode::Document,
            HashAlgorithm::Sha256,
            &digests,
            NOW,
        )
        .unwrap();
    let signature = w
        .device
        .sign(&rng, &challenge.message)
        .unwrap()
        .as_ref()
        .to_vec();
    let error = w
        .issuer
        .authorize(
            &AuthorizationRequest {
                credential: "cred-2",
                mode: SigningMode::Document,
                hash_alg: HashAlgorithm::Sha256,
                digests: &digests,
                num: 1,
                lifetime: 60,
                factors: PresentedFactors {
                    pin: Some(Pin::new(PIN)),
                    otp: None,
                    device: Some(DeviceResponse {
                        challenge_id: challenge.id,
                        signature,
                    }),
                },
            },
            NOW,
        )
        .unwrap_err();
    assert!(matches!(error, SadError::UnknownChallenge));
}

#[test]
fn scal1_with_one_factor_and_unbound_digests() {
    let w = world();
    let sad = w
        .authorize_with("cred-1", &[], 3, Some(Pin::new(PIN)), None, NOW)
        .unwrap();
    let claims = w.sam.verify_token(&sad, NOW).unwrap();
    assert_eq!(
        (claims.scal, claims.hashes.len(), claims.amr.as_slice()),
        (Scal::Scal1, 0, &[Amr::Pin][..])
    );
    let any = vec![vec![0x42; 32]];
    w.sam
        .activate(&sad, &w.request("cred-1", Scal::Scal1, &any), NOW)
        .unwrap()
        .commit()
        .unwrap();
}

#[test]
fn enrolment_is_checked() {
    let w = world();
    let cases = [
        Enrolment {
            credential: "x1".into(),
            signer: "s".into(),
            scal: Scal::Scal2,
            pin: Some(Pin::new(PIN)),
            totp: None,
            device_key: None,
        },
        Enrolment {
            credential: "x2".into(),
            signer: "s".into(),
            scal: Scal::Scal1,
            pin: None,
            totp: None,
            device_key: None,
        },
        Enrolment {
            credential: "x3".into(),
            signer: "s".into(),
            scal: Scal::Scal1,
            pin: Some(Pin::new("12")),
            totp: None,
            device_key: None,
        },
        Enrolment {
            credential: "x4".into(),
            signer: "s".into(),
            scal: Scal::Scal1,
            pin: None,
            totp: None,
            device_key: Some(DeviceKey::P256(vec![4; 10])),
        },
    ];
    for enrolment in cases {
        let credential = enrolment.credential.clone();
        let error = w.issuer.enroll(enrolment).unwrap_err();
        assert!(
            matches!(error, SadError::InvalidEnrolment { .. }),
            "{credential}: {error:?}"
        );
    }
    assert!(TotpSeed::new(vec![1; 15]).is_err());
    let twice = w.issuer.enroll(Enrolment {
        credential: "cred-2".into(),
        signer: "s".into(),
        scal: Scal::Scal1,
        pin: Some(Pin::new(PIN)),
        totp: None,
        device_key: None,
    });
    assert!(matches!(twice, Err(SadError::AlreadyEnrolled { .. })));
}

#[test]
fn enrolment_holds_no_secret_in_the_clear() {
    let w = world();
    let seed = TotpSeed::new(b"visible-seed-bytes-123".to_vec()).unwrap();
    let enrolled = w
        .issuer
        .enroll(Enrolment {
            credential: "cred-s".into(),
            signer: "s".into(),
            scal: Scal::Scal2,
            pin: Some(Pin::new("775533")),
            totp: Some((seed, TotpConfig::default())),
            device_key: None,
        })
        .unwrap();
    let stored = serde_json::to_string(&enrolled).unwrap();
    assert!(!stored.contains("775533"));
    let sealed = &enrolled.totp.as_ref().unwrap().sealed_seed;
    assert!(!sealed.windows(8).any(|w| w == b"visible-"));
    assert!(!format!("{enrolled:?}").contains("visible-seed"));
}
