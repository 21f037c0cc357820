//! The negative corpus: one named test per attack or mistake, each refused
//! with its own typed error, each leaving nothing changed but (for the
//! authenticator) the failure counter.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use ssa_sad::*;

/// A valid SAD over two digests, and the request that goes with it.
fn valid(world: &World) -> (Sad, Vec<Vec<u8>>) {
    let digests = digests(2);
    (world.authorize("cred-2", &digests, 2).unwrap(), digests)
}

fn refuse(world: &World, sad: &Sad, digests: &[Vec<u8>]) -> SadError {
    world
        .sam
        .activate(sad, &world.request("cred-2", Scal::Scal2, digests), NOW)
        .unwrap_err()
}

// ----- the token -----

#[test]
fn forged_signature() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (h, p, s) = split(&sad);
    let mut signature = unb64(&s);
    signature[10] ^= 0x01;
    let forged = Sad::new(format!("{h}.{p}.{}", b64(&signature)));
    assert!(matches!(
        refuse(&w, &forged, &digests),
        SadError::BadSignature
    ));
    // Claims altered under the original signature: also refused.
    let mut claims: serde_json::Value = serde_json::from_slice(&unb64(&p)).unwrap();
    claims["num"] = 99.into();
    let altered = Sad::new(format!("{h}.{}.{s}", b64(claims.to_string().as_bytes())));
    assert!(matches!(
        refuse(&w, &altered, &digests),
        SadError::BadSignature
    ));
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn unknown_kid() {
    let w = world();
    let (stranger, _) = SadSigningKey::generate(SadAlgorithm::Es256).unwrap();
    let digests = digests(1);
    let sad = stranger.mint(&w.claims(&digests)).unwrap();
    assert!(
        matches!(refuse(&w, &sad, &digests), SadError::UnknownKeyId { kid } if kid == stranger.kid())
    );
}

fn header(alg: &str, kid: &str) -> String {
    b64(format!(r#"{{"alg":"{alg}","typ":"sad+jwt","kid":"{kid}"}}"#).as_bytes())
}

#[test]
fn alg_none() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (_, p, _) = split(&sad);
    let unsigned = Sad::new(format!("{}.{p}.", header("none", w.minter.kid())));
    assert!(matches!(
        refuse(&w, &unsigned, &digests),
        SadError::AlgorithmNone
    ));
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn hs256_signed_with_the_issuers_public_key_bytes() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (_, p, _) = split(&sad);
    let h = header("HS256", w.minter.kid());
    let public = w.issuer.verifying_key().public_key;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public);
    let mac = ring::hmac::sign(&key, format!("{h}.{p}").as_bytes());
    let confused = Sad::new(format!("{h}.{p}.{}", b64(mac.as_ref())));
    assert!(
        matches!(refuse(&w, &confused, &digests), SadError::SymmetricAlgorithm { alg } if alg == "HS256")
    );
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn alg_the_issuer_key_does_not_have() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (_, p, s) = split(&sad);
    let confused = Sad::new(format!("{}.{p}.{s}", header("EdDSA", w.minter.kid())));
    assert!(matches!(
        refuse(&w, &confused, &digests),
        SadError::AlgorithmMismatch { .. }
    ));
    let unknown = Sad::new(format!("{}.{p}.{s}", header("RS256", w.minter.kid())));
    assert!(matches!(
        refuse(&w, &unknown, &digests),
        SadError::UnsupportedAlgorithm { .. }
    ));
}

#[test]
fn wrong_typ_and_unknown_crit() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (_, p, s) = split(&sad);
    let kid = w.minter.kid();
    let jwt = b64(format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{kid}"}}"#).as_bytes());
    assert!(matches!(
        refuse(&w, &Sad::new(format!("{jwt}.{p}.{s}")), &digests),
        SadError::WrongType { .. }
    ));
    let crit = b64(format!(
        r#"{{"alg":"ES256","typ":"sad+jwt","kid":"{kid}","crit":["exp2"],"exp2":1}}"#
    )
    .as_bytes());
    assert!(matches!(
        refuse(&w, &Sad::new(format!("{crit}.{p}.{s}")), &digests),
        SadError::UnknownCritical
    ));
}

#[test]
fn expired() {
    let w = world();
    let (sad, digests) = valid(&w);
    let config = SamConfig::new(AUD);
    let late = UnixTime(NOW.0 + 300 + config.max_skew);
    let error = w
        .sam
        .activate(&sad, &w.request("cred-2", Scal::Scal2, &digests), late)
        .unwrap_err();
    assert!(matches!(error, SadError::Expired { exp } if exp == NOW.0 + 300));
    // One second earlier it is still inside the skew.
    let just = UnixTime(late.0 - 1);
    w.sam
        .activate(&sad, &w.request("cred-2", Scal::Scal2, &digests), just)
        .unwrap()
        .release()
        .unwrap();
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn a_sad_living_longer_than_the_sam_allows() {
    let w = world();
    let digests = digests(1);
    let limit = SamConfig::new(AUD).max_lifetime;
    let mut claims = w.claims(&digests);
    claims.exp = claims.iat + limit + 1;
    let sad = w.minter.mint(&claims).unwrap();
    assert!(
        matches!(refuse(&w, &sad, &digests), SadError::LifetimeTooLong { lifetime, limit: l } if lifetime == limit + 1 && l == limit)
    );
    // Times that run backwards are refused the same way.
    claims.exp = claims.iat - 1;
    claims.jti = "backwards".into();
    let sad = w.minter.mint(&claims).unwrap();
    assert!(matches!(
        refuse(&w, &sad, &digests),
        SadError::LifetimeTooLong { .. }
    ));
    // Exactly the limit is accepted.
    claims.exp = claims.iat + limit;
    claims.jti = "at-the-limit".into();
    let sad = w.minter.mint(&claims).unwrap();
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn num_zero_or_above_the_bound_digests_is_refused() {
    let w = world();
    let digests = digests(2);
    for (num, jti) in [(0u32, "zero"), (3, "three-over-two")] {
        let mut claims = w.claims(&digests);
        claims.num = num;
        claims.jti = jti.into();
        let sad = w.minter.mint(&claims).unwrap();
        assert!(
            matches!(refuse(&w, &sad, &digests), SadError::BadCount { num: n } if n == num),
            "num {num}"
        );
    }
    // num equal to the bound digests is the normal case.
    let sad = w.minter.mint(&w.claims(&digests)).unwrap();
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn not_yet_valid() {
    let w = world();
    let digests = digests(1);
    let mut claims = w.claims(&digests);
    claims.iat = NOW.0 + 61;
    claims.exp = claims.iat + 300;
    let sad = w.minter.mint(&claims).unwrap();
    assert!(
        matches!(refuse(&w, &sad, &digests), SadError::NotYetValid { iat } if iat == NOW.0 + 61)
    );
}

#[test]
fn wrong_aud() {
    let w = world();
    let digests = digests(1);
    let mut claims = w.claims(&digests);
    claims.aud = "sam-2".into();
    let sad = w.minter.mint(&claims).unwrap();
    assert!(
        matches!(refuse(&w, &sad, &digests), SadError::WrongAudience { aud } if aud == "sam-2")
    );
}

#[test]
fn wrong_issuer_for_the_key() {
    let w = world();
    let digests = digests(1);
    let mut claims = w.claims(&digests);
    claims.iss = "https://other-idp.test".into();
    let sad = w.minter.mint(&claims).unwrap();
    assert!(matches!(
        refuse(&w, &sad, &digests),
        SadError::WrongIssuer { .. }
    ));
}

#[test]
fn wrong_credential() {
    let w = world();
    let (sad, digests) = valid(&w);
    w.enroll("cred-3", "signer-2", Scal::Scal2);
    let error = w
        .sam
        .activate(&sad, &w.request("cred-3", Scal::Scal2, &digests), NOW)
        .unwrap_err();
    assert!(
        matches!(error, SadError::WrongCredential { ref sad, ref requested } if sad == "cred-2" && requested == "cred-3")
    );
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn another_signers_sad_for_this_credential() {
    // A trusted issuer's SAD naming the right credential but another
    // signer: the SAM ties `sub` to the credential's owner.
    let w = world();
    let digests = digests(1);
    let mut claims = w.claims(&digests);
    claims.sub = "signer-1".into();
    let sad = w.minter.mint(&claims).unwrap();
    let error = refuse(&w, &sad, &digests);
    assert!(
        matches!(error, SadError::WrongSigner { ref sad, ref owner } if sad == "signer-1" && owner == "signer-2"),
        "{error:?}"
    );
    // The owner's own SAD, same claims otherwise, signs.
    let sad = w.minter.mint(&w.claims(&digests)).unwrap();
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn a_document_sad_redeemed_for_a_raw_signature() {
    let w = world();
    let (sad, digests) = valid(&w);
    let mut raw = w.request("cred-2", Scal::Scal2, &digests);
    raw.mode = SigningMode::Dtbsr;
    let error = w.sam.activate(&sad, &raw, NOW).unwrap_err();
    assert!(
        matches!(
            error,
            SadError::WrongMode {
                sad: SigningMode::Document,
                requested: SigningMode::Dtbsr
            }
        ),
        "{error:?}"
    );
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn a_raw_sad_redeemed_for_a_document_signature() {
    let w = world();
    let digests = digests(1);
    let mut claims = w.claims(&digests);
    claims.mode = SigningMode::Dtbsr;
    let sad = w.minter.mint(&claims).unwrap();
    assert!(matches!(
        refuse(&w, &sad, &digests),
        SadError::WrongMode {
            sad: SigningMode::Dtbsr,
            requested: SigningMode::Document
        }
    ));
}

#[test]
fn a_sad_without_a_mode_is_refused() {
    let w = world();
    let digests = digests(1);
    let mut claims = serde_json::to_value(w.claims(&digests)).unwrap();
    claims.as_object_mut().unwrap().remove("mode");
    let sad = w.sign_payload(&serde_json::to_vec(&claims).unwrap());
    // The same route with the mode kept is accepted: only the mode is missing.
    let mut whole = serde_json::to_value(w.claims(&digests)).unwrap();
    whole["jti"] = "jti-whole".into();
    let good = w.sign_payload(&serde_json::to_vec(&whole).unwrap());
    w.assert_untouched(&good, "cred-2", Scal::Scal2, &digests);
    assert!(
        matches!(
            refuse(&w, &sad, &digests),
            SadError::Json {
                part: TokenPart::Payload,
                ..
            }
        ),
        "a SAD that does not say its mode was accepted"
    );
}

#[test]
fn the_sam_caps_num_for_every_issuer() {
    // An issuer that is trusted but careless: SCAL1, no bound digests,
    // num = u32::MAX. The built-in issuer caps num; the SAM must too.
    let w = world();
    let mut claims = w.claims(&[]);
    claims.cred = "cred-1".into();
    claims.sub = "signer-1".into();
    claims.scal = Scal::Scal1;
    claims.amr = vec![Amr::Pin];
    for num in [u32::MAX, 1001] {
        claims.num = num;
        claims.jti = format!("jti-num-{num}");
        let sad = w.minter.mint(&claims).unwrap();
        let error = w
            .sam
            .activate(&sad, &w.request("cred-1", Scal::Scal1, &digests(1)), NOW)
            .unwrap_err();
        assert!(
            matches!(error, SadError::BadCount { num: n } if n == num),
            "{error:?}"
        );
    }
    // At the cap (SamConfig::max_count, default 1000) it is accepted.
    claims.num = SamConfig::new(AUD).max_count;
    claims.jti = "jti-at-the-cap".into();
    let sad = w.minter.mint(&claims).unwrap();
    w.sam
        .activate(&sad, &w.request("cred-1", Scal::Scal1, &digests(1)), NOW)
        .unwrap()
        .commit()
        .unwrap();
}

// ----- the count and the digests -----

#[test]
fn replay_after_the_count_is_used() {
    let w = world();
    let digests = digests(1);
    let sad = w.authorize("cred-2", &digests, 1).unwrap();
    let request = w.request("cred-2", Scal::Scal2, &digests);
    w.sam
        .activate(&sad, &request, NOW)
        .unwrap()
        .commit()
        .unwrap();
    assert!(matches!(
        w.sam.activate(&sad, &request, NOW).unwrap_err(),
        SadError::SadExhausted { .. }
    ));
}

#[test]
fn count_exceeded_in_one_request() {
    let w = world();
    // SCAL1, unbound: num = 2, three digests asked at once.
    let sad = w
        .authorize_with("cred-1", &[], 2, Some(Pin::new(PIN)), None, NOW)
        .unwrap();
    let three = digests(3);
    let error = w
        .sam
        .activate(&sad, &w.request("cred-1", Scal::Scal1, &three), NOW)
        .unwrap_err();
    assert!(
        matches!(
            error,
            SadError::CountExceeded {
                left: 2,
                requested: 3,
                ..
            }
        ),
        "{error:?}"
    );
    // Nothing was spent: two signatures are still there.
    let two = digests(2);
    w.sam
        .activate(&sad, &w.request("cred-1", Scal::Scal1, &two), NOW)
        .unwrap()
        .commit()
        .unwrap();
}

#[test]
fn digest_not_bound() {
    let w = world();
    let (sad, digests) = valid(&w);
    let other = vec![vec![0xEE; 32]];
    assert!(matches!(
        refuse(&w, &sad, &other),
        SadError::DigestNotBound { index: 0 }
    ));
    let mixed = vec![digests[0].clone(), vec![0xEE; 32]];
    assert!(matches!(
        refuse(&w, &sad, &mixed),
        SadError::DigestNotBound { index: 1 }
    ));
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn same_digest_twice_under_one_sad() {
    let w = world();
    let (sad, digests) = valid(&w);
    let one = [digests[0].clone()];
    w.sam
        .activate(&sad, &w.request("cred-2", Scal::Scal2, &one), NOW)
        .unwrap()
        .commit()
        .unwrap();
    assert!(matches!(
        refuse(&w, &sad, &one),
        SadError::DigestAlreadyUsed { .. }
    ));
    let twice = vec![digests[1].clone(), digests[1].clone()];
    assert!(matches!(refuse(&w, &sad, &twice), SadError::BadDigestList));
}

#[test]
fn scal2_credential_with_a_scal1_sad() {
    let w = world();
    let digests = digests(1);
    let mut claims = w.claims(&digests);
    claims.scal = Scal::Scal1;
    claims.amr = vec![Amr::Pin];
    let sad = w.minter.mint(&claims).unwrap();
    assert!(matches!(
        refuse(&w, &sad, &digests),
        SadError::ScalTooLow {
            required: Scal::Scal2,
            sad: Scal::Scal1
        }
    ));
}

#[test]
fn scal2_sad_with_one_factor_class() {
    let w = world();
    let digests = digests(1);
    // A trusted issuer that misbehaves: SCAL2 claimed, two possession factors.
    let mut claims = w.claims(&digests);
    claims.amr = vec![Amr::Otp, Amr::DeviceKey];
    let sad = w.minter.mint(&claims).unwrap();
    assert!(matches!(
        refuse(&w, &sad, &digests),
        SadError::InsufficientFactors
    ));
    // The honest issuer refuses to mint one before any factor is counted.
    let before = w.issuer.state("cred-2").unwrap();
    let error = w
        .authorize_with("cred-2", &digests, 1, Some(Pin::new(PIN)), None, NOW)
        .unwrap_err();
    assert!(matches!(error, SadError::InsufficientFactors));
    assert_eq!(w.issuer.state("cred-2").unwrap(), before);
}

#[test]
fn scal2_sad_without_bound_hashes() {
    let w = world();
    let mut claims = w.claims(&[]);
    claims.num = 1;
    let sad = w.minter.mint(&claims).unwrap();
    assert!(matches!(
        refuse(&w, &sad, &digests(1)),
        SadError::HashesNotBound
    ));
}

// ----- malformed input -----

#[test]
fn malformed_base64() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (h, p, s) = split(&sad);
    for bad in [
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}.{s}*"),
        format!("{}.{p}.{s}", h.replace('e', "+")),
    ] {
        let error = refuse(&w, &Sad::new(bad), &digests);
        assert!(matches!(error, SadError::Base64 { .. }), "{error:?}");
    }
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

#[test]
fn malformed_json() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (_, p, s) = split(&sad);
    let not_json = b64(b"{\"alg\":");
    assert!(matches!(
        refuse(&w, &Sad::new(format!("{not_json}.{p}.{s}")), &digests),
        SadError::Json {
            part: TokenPart::Header,
            ..
        }
    ));
    let kid = w.minter.kid();
    let dup =
        b64(format!(r#"{{"alg":"ES256","alg":"none","typ":"sad+jwt","kid":"{kid}"}}"#).as_bytes());
    assert!(matches!(
        refuse(&w, &Sad::new(format!("{dup}.{p}.{s}")), &digests),
        SadError::DuplicateKey {
            part: TokenPart::Header
        }
    ));
}

#[test]
fn malformed_structure_and_oversized() {
    let w = world();
    let (sad, digests) = valid(&w);
    let (h, p, s) = split(&sad);
    for bad in [
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        String::new(),
        "...".into(),
    ] {
        let error = refuse(&w, &Sad::new(bad.clone()), &digests);
        assert!(
            matches!(
                error,
                SadError::NotCompactJws | SadError::Base64 { .. } | SadError::Json { .. }
            ),
            "{bad:?}: {error:?}"
        );
    }
    assert!(matches!(
        refuse(&w, &Sad::new(format!("{h}.{p}")), &digests),
        SadError::NotCompactJws
    ));
    let huge = Sad::new(format!("{h}.{}.{s}", "A".repeat(DEFAULT_MAX_TOKEN_LEN)));
    assert!(matches!(
        refuse(&w, &huge, &digests),
        SadError::TokenTooLarge { .. }
    ));
    w.assert_untouched(&sad, "cred-2", Scal::Scal2, &digests);
}

// ----- the authenticator -----

#[test]
fn wrong_pin_n_times_then_locked() {
    let w = world();
    let digests = digests(1);
    for attempt in 1..=5u32 {
        let error = w
            .authorize_with(
                "cred-2",
                &digests,
                1,
                Some(Pin::new("000000")),
                Some(w.otp(NOW)),
                NOW,
            )
            .unwrap_err();
        assert!(
            matches!(error, SadError::AuthenticationFailed { failures, locked, .. }
                if failures == attempt && locked == (attempt == 5)),
            "{error:?}"
        );
        assert_eq!(w.issuer.state("cred-2").unwrap().locked, attempt == 5);
    }
    assert!(matches!(
        w.authorize("cred-2", &digests, 1).unwrap_err(),
        SadError::Locked { .. }
    ));
    // Another credential is not affected.
    w.authorize_with("cred-1", &[], 1, Some(Pin::new(PIN)), None, NOW)
        .unwrap();
}

#[test]
fn locked_credential_refuses_the_correct_pin() {
    let w = world();
    let digests = digests(1);
    w.lockout
        .update("cred-2", &|s| AuthState {
            locked: true,
            failures: 5,
            ..s.clone()
        })
        .unwrap();
    let before = w.issuer.state("cred-2").unwrap();
    let error = w.authorize("cred-2", &digests, 1).unwrap_err();
    assert!(matches!(error, SadError::Locked { .. }));
    assert_eq!(
        w.issuer.state("cred-2").unwrap(),
        before,
        "a refused attempt on a locked credential changed state"
    );
    w.issuer.unlock("cred-2").unwrap();
    w.authorize("cred-2", &digests, 1).unwrap();
    assert_eq!(w.issuer.state("cred-2").unwrap().failures, 0);
}

#[test]
fn success_resets_the_failure_count() {
    let w = world();
    let digests = digests(1);
    for _ in 0..4 {
        w.authorize_with(
            "cred-2",
            &digests,
            1,
            Some(Pin::new("0000")),
            Some(w.otp(NOW)),
            NOW,
        )
        .unwrap_err();
    }
    assert_eq!(w.issuer.state("cred-2").unwrap().failures, 4);
    w.authorize("cred-2", &digests, 1).unwrap();
    assert_eq!(w.issuer.state("cred-2").unwrap().failures, 0);
}

#[test]
fn totp_step_reused() {
    let w = world();
    let digests = digests(1);
    w.authorize("cred-2", &digests, 1).unwrap();
    let error = w.authorize("cred-2", &digests, 1).unwrap_err();
    assert!(
        matches!(error, SadError::AuthenticationFailed { failures: 1, .. }),
        "{error:?}"
    );
    // An earlier step, still inside the window, is spent too.
    let earlier = w.otp(UnixTime(NOW.0 - 30));
    let error = w
        .authorize_with(
            "cred-2",
            &digests,
            1,
            Some(Pin::new(PIN)),
            Some(earlier),
            NOW,
        )
        .unwrap_err();
    assert!(
        matches!(error, SadError::AuthenticationFailed { failures: 2, .. }),
        "{error:?}"
    );
    // The next step is fine.
    let later = UnixTime(NOW.0 + 30);
    w.authorize_with(
        "cred-2",
        &digests,
        1,
        Some(Pin::new(PIN)),
        Some(w.otp(later)),
        later,
    )
    .unwrap();
}

#[test]
fn the_refusal_does_not_say_which_factor_failed() {
    // Every wrong combination, each in a fresh world (same count before),
    // gives the very same error: a caller without the authenticator
    // learns nothing about the PIN, and the log records nothing more.
    type Case = (&'static str, bool, fn(&World) -> (Option<Pin>, Option<Otp>));
    let cases: [Case; 4] = [
        ("wrong PIN, right OTP", false, |w| {
            (Some(Pin::new("000000")), Some(w.otp(NOW)))
        }),
        ("right PIN, wrong OTP", false, |w| {
            (Some(Pin::new(PIN)), Some(w.otp(UnixTime(NOW.0 - 300))))
        }),
        ("wrong PIN, wrong OTP", false, |w| {
            (Some(Pin::new("000000")), Some(w.otp(UnixTime(NOW.0 - 300))))
        }),
        ("right PIN, reused OTP", true, |w| {
            (Some(Pin::new(PIN)), Some(w.otp(NOW)))
        }),
    ];
    let digests = digests(1);
    let mut seen = Vec::new();
    for (name, spend_first, factors) in cases {
        let w = world();
        if spend_first {
            w.authorize("cred-2", &digests, 1).unwrap();
            // Start the reused case from the same count as the others.
            assert_eq!(w.issuer.state("cred-2").unwrap().failures, 0);
        }
        let (pin, otp) = factors(&w);
        let error = w
            .authorize_with("cred-2", &digests, 1, pin, otp, NOW)
            .unwrap_err();
        assert_eq!(
            w.issuer.state("cred-2").unwrap().failures,
            1,
            "{name}: the attempt must count exactly once"
        );
        seen.push((name, format!("{error:?}"), error.to_string()));
    }
    for (name, debug, display) in &seen[1..] {
        assert_eq!(
            (debug, display),
            (&seen[0].1, &seen[0].2),
            "{name} is told apart from {}",
            seen[0].0
        );
    }
}

#[test]
fn totp_outside_the_window() {
    let w = world();
    let digests = digests(1);
    let before = w.issuer.state("cred-2").unwrap();
    for offset in [-90i64, 90] {
        let stale = w.otp(UnixTime(NOW.0.checked_add_signed(offset).unwrap()));
        let error = w
            .authorize_with("cred-2", &digests, 1, Some(Pin::new(PIN)), Some(stale), NOW)
            .unwrap_err();
        assert!(
            matches!(error, SadError::AuthenticationFailed { .. }),
            "{error:?}"
        );
    }
    let after = w.issuer.state("cred-2").unwrap();
    assert_eq!(after.failures, before.failures + 2);
    assert_eq!(after.last_otp_step, before.last_otp_step);
}

#[test]
fn device_key_challenge_signed_for_other_digests() {
    let w = world();
    let approved = digests(1);
    let swapped = vec![vec![0x77; 32]];
    let rng = ring::rand::SystemRandom::new();
    let challenge = w
        .issuer
        .device_challenge(
            "cred-2",
            SigningMode::Document,
            HashAlgorithm::Sha256,
            &approved,
            NOW,
        )
        .unwrap();
    let signature = w
        .device
        .sign(&rng, &challenge.message)
        .unwrap()
        .as_ref()
        .to_vec();
    let request = |digests: &[Vec<u8>], challenge_id: String, signature: Vec<u8>| {
        w.issuer.authorize(
            &AuthorizationRequest {
                credential: "cred-2",
                mode: SigningMode::Document,
                hash_alg: HashAlgorithm::Sha256,
                digests,
                num: 1,
                lifetime: 300,
                factors: PresentedFactors {
                    pin: Some(Pin::new(PIN)),
                    otp: None,
                    device: Some(DeviceResponse {
                        challenge_id,
                        signature,
                    }),
                },
            },
            NOW,
        )
    };
    let error = request(&swapped, challenge.id.clone(), signature.clone()).unwrap_err();
    assert!(
        matches!(error, SadError::AuthenticationFailed { failures: 1, .. }),
        "{error:?}"
    );
    // The challenge is spent by that answer, even for the right digests.
    assert!(matches!(
        request(&approved, challenge.id, signature).unwrap_err(),
        SadError::UnknownChallenge
    ));
    // A fresh challenge for the approved digests works, and the SAD binds them.
    let challenge = w
        .issuer
        .device_challenge(
            "cred-2",
            SigningMode::Document,
            HashAlgorithm::Sha256,
            &approved,
            NOW,
        )
        .unwrap();
    let signature = w
        .device
        .sign(&rng, &challenge.message)
        .unwrap()
        .as_ref()
        .to_vec();
    let sad = request(&approved, challenge.id, signature).unwrap().sad;
    let claims = w.sam.verify_token(&sad, NOW).unwrap();
    assert_eq!(claims.hashes, approved);
    assert_eq!(claims.amr, vec![Amr::Pin, Amr::DeviceKey]);
}

#[test]
fn request_errors_move_no_counter() {
    let w = world();
    let before = w.issuer.state("cred-2").unwrap();
    let wrong_len = vec![vec![1u8; 20]];
    assert!(matches!(
        w.authorize("cred-2", &wrong_len, 1).unwrap_err(),
        SadError::DigestLength { .. }
    ));
    assert!(matches!(
        w.authorize("cred-2", &digests(1), 2).unwrap_err(),
        SadError::BadCount { num: 2 }
    ));
    assert!(matches!(
        w.authorize("cred-2", &[], 1).unwrap_err(),
        SadError::HashesNotBound
    ));
    assert!(matches!(
        w.authorize("nobody", &digests(1), 1).unwrap_err(),
        SadError::UnknownCredential { .. }
    ));
    assert_eq!(w.issuer.state("cred-2").unwrap(), before);
}

#[test]
fn errors_and_debug_hold_no_secret() {
    let w = world();
    let digests = digests(1);
    let otp = w.otp(NOW);
    let error = w
        .authorize_with(
            "cred-2",
            &digests,
            1,
            Some(Pin::new("991177")),
            Some(otp.clone()),
            NOW,
        )
        .unwrap_err();
    let sad = w.authorize("cred-2", &digests, 1).unwrap();
    let printed = format!(
        "{error} {error:?} {sad:?} {:?} {:?} {:?} {:?}",
        w.issuer,
        Pin::new(PIN),
        otp,
        w.seed
    );
    for secret in ["991177", PIN, otp.as_str(), sad.as_str()] {
        assert!(!printed.contains(secret), "{printed}");
    }
    assert_eq!(format!("{sad:?}"), "Sad([redacted])");
    // An activation names what it permits, never the digests themselves.
    let activation = w
        .sam
        .activate(&sad, &w.request("cred-2", Scal::Scal2, &digests), NOW)
        .unwrap();
    let shown = format!("{activation:?}");
    assert!(
        shown.starts_with("Activation {")
            && shown.contains("cred-2")
            && shown.contains("digests: 1"),
        "{shown}"
    );
    assert!(!shown.contains(&format!("{:?}", digests[0])), "{shown}");
}

#[test]
fn a_token_exactly_at_the_size_limit_is_read() {
    let w = world();
    let (sad, _) = valid(&w);
    let sam_with_limit = |limit: usize| {
        let mut config = SamConfig::new(AUD);
        config.max_token_len = limit;
        SadVerifier::new(config, std::sync::Arc::new(MemoryLedger::new()))
            .trust(ISS, w.issuer.verifying_key())
    };
    let len = sad.as_str().len();
    assert!(matches!(
        sam_with_limit(len - 1).verify_token(&sad, NOW),
        Err(SadError::TokenTooLarge { len: l, limit }) if l == len && limit == len - 1
    ));
    sam_with_limit(len).verify_token(&sad, NOW).unwrap();
}
