//! Minting and verifying SADs, ES256 and EdDSA.
//!
//! `cargo bench -p ssa-sad --bench sad`

#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use ssa_sad::*;

fn claims(digest_count: usize, jti: String) -> SadClaims {
    SadClaims {
        iss: "https://idp.bench".into(),
        aud: "sam".into(),
        sub: "signer".into(),
        cred: "cred".into(),
        mode: SigningMode::Document,
        hash_alg: HashAlgorithm::Sha256,
        hashes: (0..digest_count).map(|i| vec![i as u8; 32]).collect(),
        num: digest_count as u32,
        scal: Scal::Scal2,
        amr: vec![Amr::Pin, Amr::Otp],
        iat: 1_800_000_000,
        exp: 1_800_000_300,
        jti,
    }
}

fn sad(c: &mut Criterion) {
    let now = UnixTime(1_800_000_000);
    for alg in [SadAlgorithm::Es256, SadAlgorithm::EdDsa] {
        let (key, _) = SadSigningKey::generate(alg).unwrap();
        let name = alg.name();
        let one = claims(1, "bench".into());
        c.bench_function(&format!("{name}/mint"), |b| {
            b.iter(|| key.mint(&one).unwrap())
        });

        let sam = SadVerifier::new(SamConfig::new("sam"), Arc::new(MemoryLedger::new()))
            .trust("https://idp.bench", key.verifying_key());
        let token = key.mint(&one).unwrap();
        c.bench_function(&format!("{name}/verify"), |b| {
            b.iter(|| sam.verify_token(&token, now).unwrap())
        });

        // Verify + reserve + commit, a fresh SAD each time (as in signing).
        let mut n = 0u64;
        let digests = vec![vec![0u8; 32]];
        c.bench_function(&format!("{name}/activate-commit"), |b| {
            b.iter_batched(
                || {
                    n += 1;
                    key.mint(&claims(1, format!("bench-{n}"))).unwrap()
                },
                |token| {
                    let request = ActivationRequest {
                        credential: "cred",
                        signer: "signer",
                        mode: SigningMode::Document,
                        credential_scal: Scal::Scal2,
                        hash_alg: HashAlgorithm::Sha256,
                        digests: &digests,
                    };
                    sam.activate(&token, &request, now)
                        .unwrap()
                        .commit()
                        .unwrap()
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
}

criterion_group!(benches, sad);
criterion_main!(benches);
