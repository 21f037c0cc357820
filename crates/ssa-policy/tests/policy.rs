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
    assert_eq!(report.key, Some(KeyAlgorithm::EcP256));
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
    // SHA-1, SHA-224, RSA below 2048 and unknown key kinds are not in the
    // vocabulary: no request can name them, so there is no row for them.
    let cases = [
        (KeyAlgorithm::EcP256, HashAlgorithm::Sha256, in_2031, true),
        (KeyAlgorithm::EcP384, HashAlgorithm::Sha384, in_2031, true),
        (KeyAlgorithm::Ed25519, HashAlgorithm::Sha512, in_2031, true),
        (KeyAlgorithm::Rsa3072, HashAlgorithm::Sha256, in_2031, true),
        (KeyAlgorithm::Rsa4096, HashAlgorithm::Sha512, in_2031, true),
        (KeyAlgorithm::Rsa2048, HashAlgorithm::Sha256, in_2026, true),
        (KeyAlgorithm::Rsa2048, HashAlgorithm::Sha256, in_2031, false),
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
        .forbid_hash(HashAlgorithm::Sha256)
        .forbid_ed25519();
    assert!(
        strict
            .check(
                Suite {
                    key: KeyAlgorithm::Rsa3072,
                    hash: HashAlgorithm::Sha384
                },
                in_2026
            )
            .is_err()
    );
    assert!(
        strict
            .check(
                Suite {
                    key: KeyAlgorithm::Rsa4096,
                    hash: HashAlgorithm::Sha384
                },
                in_2026
            )
            .is_ok()
    );
    assert!(
        strict
            .check(
                Suite {
                    key: KeyAlgorithm::EcP256,
                    hash: HashAlgorithm::Sha256
                },
                in_2026
            )
            .is_err()
    );
    assert!(
        strict
            .check(
                Suite {
                    key: KeyAlgorithm::Ed25519,
                    hash: HashAlgorithm::Sha512
                },
                in_2026
            )
            .is_err()
    );
    // Loosening is not possible: a lower minimum stays 2048, and RSA-2048
    // still ends with 2030.
    let loose = AlgorithmPolicy::default().min_rsa_bits(1024);
    assert!(
        loose
            .check(
                Suite {
                    key: KeyAlgorithm::Rsa2048,
                    hash: HashAlgorithm::Sha256
                },
                at(1_930_000_000)
            )
            .is_err(),
        "RSA-2048 after 2030"
    );
    let dated = AlgorithmPolicy::default().until(at(1_800_000_000));
    assert!(
        dated
            .check(
                Suite {
                    key: KeyAlgorithm::EcP256,
                    hash: HashAlgorithm::Sha256
                },
                at(1_800_000_001)
            )
            .is_err()
    );
}

#[test]
fn request_policy() {
    let mut policy = RequestPolicy::default();
    policy.scal.insert("light".into(), Scal::Scal1);
    assert_eq!(policy.scal_for("light"), Scal::Scal1);
    assert_eq!(policy.scal_for("anyone"), Scal::Scal2);
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
