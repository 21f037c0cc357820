//! Property tests: claims survive a round trip; any change to a token's
//! bytes makes it fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use ssa_sad::*;

fn world_once() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(world)
}

fn arb_claims() -> impl Strategy<Value = SadClaims> {
    let hash_alg = prop_oneof![
        Just(HashAlgorithm::Sha256),
        Just(HashAlgorithm::Sha384),
        Just(HashAlgorithm::Sha512)
    ];
    (
        "[ -~]{1,40}",
        "\\PC{1,40}",
        hash_alg,
        1usize..6,
        proptest::sample::subsequence(vec![Amr::Pin, Amr::Otp, Amr::DeviceKey], 1..=3),
        0u64..200,
        "[A-Za-z0-9_-]{8,30}",
        any::<u8>(),
        proptest::sample::select(vec![SigningMode::Document, SigningMode::Dtbsr]),
    )
        .prop_map(|(sub, cred, hash_alg, n, amr, lifetime, jti, fill, mode)| {
            let hashes: Vec<Vec<u8>> = (0..n)
                .map(|i| vec![fill.wrapping_add(i as u8); hash_alg.digest_len()])
                .collect();
            let scal = if amr.contains(&Amr::Pin) && amr.len() > 1 {
                Scal::Scal2
            } else {
                Scal::Scal1
            };
            SadClaims {
                iss: ISS.into(),
                aud: AUD.into(),
                sub,
                cred,
                mode,
                hash_alg,
                num: n as u32,
                hashes,
                scal,
                amr,
                iat: NOW.0,
                exp: NOW.0 + lifetime,
                jti,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn claims_round_trip(claims in arb_claims()) {
        let w = world_once();
        let sad = w.minter.mint(&claims).unwrap();
        prop_assert_eq!(w.sam.verify_token(&sad, NOW).unwrap(), claims);
    }

    #[test]
    fn any_changed_byte_fails(claims in arb_claims(), position in any::<prop::sample::Index>(), replacement in 0x21u8..0x7f) {
        let w = world_once();
        let sad = w.minter.mint(&claims).unwrap();
        let mut bytes = sad.as_str().as_bytes().to_vec();
        let at = position.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let changed = Sad::new(String::from_utf8(bytes).unwrap());
        prop_assert!(w.sam.verify_token(&changed, NOW).is_err());
    }

    #[test]
    fn any_truncation_or_extension_fails(claims in arb_claims(), cut in any::<prop::sample::Index>(), extra in "[A-Za-z0-9_.-]{1,4}") {
        let w = world_once();
        let sad = w.minter.mint(&claims).unwrap();
        let text = sad.as_str();
        let cut = cut.index(text.len());
        prop_assert!(w.sam.verify_token(&Sad::new(&text[..cut]), NOW).is_err());
        let extended = format!("{text}{extra}");
        prop_assert!(w.sam.verify_token(&Sad::new(extended), NOW).is_err());
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,300}") {
        let w = world_once();
        prop_assert!(w.sam.verify_token(&Sad::new(text), NOW).is_err());
    }
}
