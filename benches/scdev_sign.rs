//! Raw SCDev signing, per algorithm and backend: what one `Scdev::sign`
//! costs before any SAD check or CAdES assembly is added on top, and what
//! `sign_many` saves per signature when one activation covers 100 digests.
//!
//! `cargo bench --bench scdev_sign -- --warm-up-time 1 --measurement-time 2`
//!
//! Backends: `soft` (keys sealed at rest, unsealed per call), `soft+cache`
//! (`SoftScdev::with_key_cache`), `softhsm` (SoftHSM2 through PKCS#11). The
//! soft backend cannot generate RSA keys; it signs with an imported one.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ssa::scdev::pkcs11::Pkcs11Scdev;
use ssa::scdev::soft::SoftScdev;
use ssa::scdev::{BackupKey, KeyEncryptionKey};
use ssa::{HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, Scdev, SignInput, SignatureAlgorithm};

const CASES: [(KeyAlgorithm, SignatureAlgorithm); 4] = [
    (
        KeyAlgorithm::EcP256,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
    ),
    (
        KeyAlgorithm::EcP384,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
    ),
    (KeyAlgorithm::Ed25519, SignatureAlgorithm::Ed25519),
    (
        KeyAlgorithm::Rsa2048,
        SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256),
    ),
];

/// A key of `algorithm` in `scdev`: generated, or (RSA on the soft backend)
/// imported through `import` (the soft backend's backup key).
fn key(scdev: &dyn Scdev, import: Option<&BackupKey>, algorithm: KeyAlgorithm) -> KeyId {
    let id = KeyId::new(format!("bench-{algorithm:?}").into_bytes()).unwrap();
    let spec = KeySpec::new(algorithm);
    if scdev.capabilities().generate.contains(&algorithm) {
        scdev.generate_key(&id, "bench", spec).unwrap();
    } else {
        let bits = algorithm.rsa_bits().expect("only RSA is imported");
        let pkcs8 = zeroize::Zeroizing::new(ssa_testkit::openssl::rsa_pkcs8(bits));
        let wrapped =
            SoftScdev::seal_for_import(import.expect("a backup key"), &id, "bench", spec, pkcs8)
                .unwrap();
        scdev.import_wrapped(&id, &wrapped).unwrap();
    }
    id
}

fn bench_backend(c: &mut Criterion, name: &str, scdev: &dyn Scdev, import: Option<&BackupKey>) {
    let message = b"the DER of the signed attributes";
    for (algorithm, signature) in CASES {
        let id = key(scdev, import, algorithm);
        c.bench_function(&format!("{name}/{algorithm}/message"), |b| {
            b.iter(|| {
                scdev
                    .sign(&id, signature, SignInput::Message(message))
                    .unwrap()
            })
        });
        if let Some(hash) = signature
            .hash()
            .filter(|_| scdev.capabilities().can_sign_digest(signature))
        {
            let digest = hash.digest(message);
            let input = SignInput::Digest {
                hash,
                value: &digest,
            };
            c.bench_function(&format!("{name}/{algorithm}/digest"), |b| {
                b.iter(|| scdev.sign(&id, signature, input).unwrap())
            });
        }
        if algorithm == KeyAlgorithm::EcP256 {
            let inputs = [SignInput::Message(message); 100];
            c.bench_function(&format!("{name}/{algorithm}/sign_many 100"), |b| {
                b.iter(|| scdev.sign_many(&id, signature, &inputs).unwrap())
            });
        }
    }
}

fn soft(cache: bool) -> (SoftScdev, BackupKey) {
    let backup = BackupKey::generate().unwrap();
    let soft =
        SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap()).with_backup_key(backup.clone());
    (if cache { soft.with_key_cache() } else { soft }, backup)
}

fn scdev_sign(c: &mut Criterion) {
    let (plain, backup) = soft(false);
    bench_backend(c, "soft", &plain, Some(&backup));
    let (cached, backup) = soft(true);
    bench_backend(c, "soft+cache", &cached, Some(&backup));
    let token = ssa_testkit::softhsm().create_token("bench", false);
    let pkcs11 = Pkcs11Scdev::open(&token.config()).unwrap();
    bench_backend(c, "softhsm", &pkcs11, None);
}

criterion_group!(benches, scdev_sign);
criterion_main!(benches);
