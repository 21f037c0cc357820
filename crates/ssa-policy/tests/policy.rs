//! Policy decisions, on the test PKI's certificates and on algorithm suites.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use ssa_policy::certificate::{ID_ETSI_QCS_QC_COMPLIANCE, ID_ETSI_QCS_QC_SSCD};
use ssa_policy::*;
use ssa_testkit::pki::{Identity, pki};
use x509_cert::Certificate;

fn cert(identity: &Identity) -> Certificate {
    Certificate::from_der(&identity.cert_der).unwrap()
}

fn spki(identity: &Identity) -> Vec<u8> {
    cert(identity)
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap()
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn signer_certificate_passes() {
    let signer = &pki().signer;
    let report =
        check_signing_certificate(&cert(signer), &spki(signer), SystemTime::now()).unwrap();
    assert_eq!(report.key, Key::EcP256);
    assert!(report.non_repudiation);
    assert!(report.qc_statements.is_empty());
}

#[test]
fn certificate_for_another_key_is_refused() {
    let error = check_signing_certificate(
        &cert(&pki().signer),
        &spki(&pki().cosigner),
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(matches!(error, PolicyError::KeyMismatch), "{error:?}");
}

#[test]
fn ca_certificate_is_refused() {
    let ca = &pki().ca;
    let error = check_signing_certificate(&cert(ca), &spki(ca), SystemTime::now()).unwrap_err();
    assert!(matches!(error, PolicyError::CaCertificate), "{error:?}");
}

#[test]
fn key_usage_without_signing_is_refused() {
    let identity = &pki().encipher_only;
    let error =
        check_signing_certificate(&cert(identity), &spki(identity), SystemTime::now()).unwrap_err();
    assert!(matches!(error, PolicyError::KeyUsage { .. }), "{error:?}");
}

#[test]
fn validity_at_the_signing_time() {
    let short = &pki().short_lived;
    check_signing_certificate(&cert(short), &spki(short), SystemTime::now()).unwrap();
    let later = SystemTime::now() + Duration::from_secs(3 * 86_400);
    assert!(matches!(
        check_signing_certificate(&cert(short), &spki(short), later),
        Err(PolicyError::Expired)
    ));
    let earlier = SystemTime::now() - Duration::from_secs(3 * 86_400);
    assert!(matches!(
        check_signing_certificate(&cert(short), &spki(short), earlier),
        Err(PolicyError::NotYetValid)
    ));
}

#[test]
fn qc_statements_are_reported() {
    let qualified = &pki().qualified;
    let report =
        check_signing_certificate(&cert(qualified), &spki(qualified), SystemTime::now()).unwrap();
    assert_eq!(
        report.qc_statements,
        vec![ID_ETSI_QCS_QC_COMPLIANCE, ID_ETSI_QCS_QC_SSCD]
    );
}

#[test]
fn algorithm_table() {
    let policy = AlgorithmPolicy::default();
    let in_2026 = at(1_790_000_000);
    let in_2031 = at(1_930_000_000);
    let cases = [
        (Key::EcP256, Hash::Sha256, in_2031, true),
        (Key::EcP384, Hash::Sha384, in_2031, true),
        (Key::Ed25519, Hash::Sha512, in_2031, true),
        (Key::Rsa(3072), Hash::Sha256, in_2031, true),
        (Key::Rsa(2048), Hash::Sha256, in_2026, true),
        (Key::Rsa(2048), Hash::Sha256, in_2031, false),
        (Key::Rsa(1024), Hash::Sha256, in_2026, false),
        (Key::EcP256, Hash::Sha1, in_2026, false),
        (Key::EcP256, Hash::Sha224, in_2026, false),
        (Key::Other, Hash::Sha256, in_2026, false),
    ];
    for (key, hash, time, allowed) in cases {
        assert_eq!(
            policy.check(Suite { key, hash }, time).is_ok(),
            allowed,
            "{key:?} {hash:?}"
        );
    }
}

#[test]
fn the_embedder_can_only_tighten() {
    let in_2026 = at(1_790_000_000);
    let strict = AlgorithmPolicy::default()
        .min_rsa_bits(4096)
        .forbid_hash(Hash::Sha256)
        .forbid_ed25519();
    assert!(
        strict
            .check(
                Suite {
                    key: Key::Rsa(3072),
                    hash: Hash::Sha384
                },
                in_2026
            )
            .is_err()
    );
    assert!(
        strict
            .check(
                Suite {
                    key: Key::Rsa(4096),
                    hash: Hash::Sha384
                },
                in_2026
            )
            .is_ok()
    );
    assert!(
        strict
            .check(
                Suite {
                    key: Key::EcP256,
                    hash: Hash::Sha256
                },
                in_2026
            )
            .is_err()
    );
    assert!(
        strict
            .check(
                Suite {
                    key: Key::Ed25519,
                    hash: Hash::Sha512
                },
                in_2026
            )
            .is_err()
    );
    let loose = AlgorithmPolicy::default().min_rsa_bits(1024);
    assert!(
        loose
            .check(
                Suite {
                    key: Key::Rsa(1024),
                    hash: Hash::Sha256
                },
                in_2026
            )
            .is_err(),
        "below 2048 never"
    );
    let dated = AlgorithmPolicy::default().until(at(1_800_000_000));
    assert!(
        dated
            .check(
                Suite {
                    key: Key::EcP256,
                    hash: Hash::Sha256
                },
                at(1_800_000_001)
            )
            .is_err()
    );
}

#[test]
fn request_policy() {
    let mut policy = RequestPolicy::default();
    policy.scal.insert("light".into(), 1);
    assert_eq!(policy.scal_for("light"), 1);
    assert_eq!(policy.scal_for("anyone"), 2);
    assert!(policy.check(Level::BB, 1).is_ok());
    assert!(matches!(
        policy.check(Level::BB, 0),
        Err(PolicyError::TooManyDigests { .. })
    ));
    assert!(matches!(
        policy.check(Level::BB, 101),
        Err(PolicyError::TooManyDigests { .. })
    ));
    policy.allowed_levels = vec![Level::BT];
    assert!(matches!(
        policy.check(Level::BB, 1),
        Err(PolicyError::LevelNotAllowed { .. })
    ));
}
