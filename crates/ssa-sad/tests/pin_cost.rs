//! The default PIN hash cost, exercised once end to end.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use ssa_sad::*;

#[test]
fn default_policy_hashes_with_owasp_minimum_and_verifies() {
    let (key, _) = SadSigningKey::generate(SadAlgorithm::EdDsa).unwrap();
    let config = IssuerConfig::new("iss", "aud");
    assert_eq!(config.pin_policy, PinPolicy::default());
    let issuer = SadIssuer::new(
        config,
        key,
        SeedKey::generate().unwrap(),
        Arc::new(MemoryLockoutStore::new()),
    );
    let enrolled = issuer
        .enroll(Enrolment {
            credential: "c".into(),
            signer: "s".into(),
            scal: Scal::Scal1,
            pin: Some(Pin::new("135790")),
            totp: None,
            device_key: None,
        })
        .unwrap();
    let hash = enrolled.pin_hash.unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains("135790"));
    let request = |pin: &str| AuthorizationRequest {
        mode: SigningMode::Document,
        credential: "c",
        hash_alg: HashAlg::Sha256,
        digests: &[],
        num: 1,
        lifetime: 60,
        factors: PresentedFactors {
            pin: Some(Pin::new(pin)),
            ..PresentedFactors::default()
        },
    };
    issuer
        .authorize(&request("135790"), UnixTime(1_800_000_000))
        .unwrap();
    assert!(matches!(
        issuer.authorize(&request("135791"), UnixTime(1_800_000_000)),
        Err(SadError::AuthenticationFailed { failures: 1, .. })
    ));
}
