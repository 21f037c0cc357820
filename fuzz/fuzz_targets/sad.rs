//! The SAM's parsing of untrusted SADs: the compact JWS, its header and its
//! claims. Any input gives a typed refusal (or a verdict), never a panic.
//!
//! The first byte chooses how the rest is used:
//! - 0: as the whole token string;
//! - 1: as the claims JSON, signed by the trusted issuer's key, so the
//!   claims parser and every claim check are reached past the signature;
//! - 2: as the header JSON over valid claims, signed likewise.

#![no_main]

use std::sync::{Arc, OnceLock};

use base64ct::{Base64UrlUnpadded, Encoding};
use libfuzzer_sys::fuzz_target;
use ring::signature::Ed25519KeyPair;
use ssa_sad::*;

const NOW: UnixTime = UnixTime(1_800_000_000);

struct Target {
    signer: Ed25519KeyPair,
    kid: String,
    sam: SadVerifier,
    claims: String,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let (key, pkcs8) = SadSigningKey::generate(SadAlgorithm::EdDsa).expect("key");
        let kid = key.kid().to_owned();
        let sam = SadVerifier::new(SamConfig::new("sam"), Arc::new(MemoryLedger::new()))
            .trust("iss", key.verifying_key());
        let claims = serde_json::to_string(&SadClaims {
            iss: "iss".into(),
            aud: "sam".into(),
            sub: "signer".into(),
            cred: "cred".into(),
            mode: SigningMode::Document,
            hash_alg: HashAlgorithm::Sha256,
            hashes: vec![vec![7; 32]],
            num: 1,
            scal: Scal::Scal2,
            amr: vec![Amr::Pin, Amr::Otp],
            iat: NOW.0,
            exp: NOW.0 + 60,
            jti: "fuzz".into(),
        })
        .expect("claims");
        Target {
            signer: Ed25519KeyPair::from_pkcs8(&pkcs8).expect("pkcs8"),
            kid,
            sam,
            claims,
        }
    })
}

fn signed(t: &Target, header: &[u8], payload: &[u8]) -> Sad {
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header),
        Base64UrlUnpadded::encode_string(payload)
    );
    let signature = t.signer.sign(input.as_bytes());
    Sad::new(format!(
        "{input}.{}",
        Base64UrlUnpadded::encode_string(signature.as_ref())
    ))
}

fn judge(t: &Target, sad: &Sad) {
    if t.sam.verify_token(sad, NOW).is_err() {
        return;
    }
    let digests = [vec![7u8; 32]];
    let request = ActivationRequest {
        credential: "cred",
        signer: "signer",
        mode: SigningMode::Document,
        credential_scal: Scal::Scal2,
        hash_alg: HashAlgorithm::Sha256,
        digests: &digests,
    };
    // Released on drop: the ledger is left as it was.
    let _ = t.sam.activate(sad, &request, NOW);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let t = target();
    match selector % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                judge(t, &Sad::new(text));
            }
        }
        1 => {
            let header = format!(r#"{{"alg":"EdDSA","typ":"sad+jwt","kid":"{}"}}"#, t.kid);
            judge(t, &signed(t, header.as_bytes(), rest));
        }
        _ => judge(t, &signed(t, rest, t.claims.as_bytes())),
    }
});
