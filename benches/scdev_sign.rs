//! Raw SCDev signing, per backend: what one `Scdev::sign` costs before any
//! SAD check or CAdES assembly is added on top.
//!
//! `cargo bench --bench scdev_sign`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::pkcs11::Pkcs11Scdev;
use ssa::scdev::soft::SoftScdev;
use ssa::{HashAlgorithm, KeyAlgorithm, KeyId, KeySpec, Scdev, SignInput, SignatureAlgorithm};

fn bench_backend(c: &mut Criterion, name: &str, scdev: &dyn Scdev) {
    let cases = [
        (
            KeyAlgorithm::EcP256,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
        ),
        (KeyAlgorithm::Ed25519, SignatureAlgorithm::Ed25519),
    ];
    let digest = HashAlgorithm::Sha256.digest(b"signed attributes");
    for (key, algorithm) in cases {
        let id = KeyId::new(format!("bench-{key:?}").into_bytes()).unwrap();
        scdev.generate_key(&id, "bench", KeySpec::new(key)).unwrap();
        c.bench_function(&format!("{name}/{key}/message"), |b| {
            b.iter(|| {
                scdev
                    .sign(&id, algorithm, SignInput::Message(&digest))
                    .unwrap()
            })
        });
        if scdev.capabilities().can_sign_digest(algorithm) {
            let input = SignInput::Digest {
                hash: HashAlgorithm::Sha256,
                value: &digest,
            };
            c.bench_function(&format!("{name}/{key}/digest"), |b| {
                b.iter(|| scdev.sign(&id, algorithm, input).unwrap())
            });
        }
    }
}

fn scdev_sign(c: &mut Criterion) {
    let soft = SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap());
    bench_backend(c, "soft", &soft);
    let token = ssa_testkit::softhsm().create_token("bench", false);
    let pkcs11 = Pkcs11Scdev::open(&token.config()).unwrap();
    bench_backend(c, "softhsm", &pkcs11);
}

criterion_group!(benches, scdev_sign);
criterion_main!(benches);
