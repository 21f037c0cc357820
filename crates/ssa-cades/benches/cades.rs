//! CAdES assembly alone (a null signer) and B-B with a soft P-256 key.
//!
//! `cargo bench -p ssa-cades --bench cades`

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::SystemTime;

use criterion::{Criterion, criterion_group, criterion_main};
use der::Decode;
use ssa_cades::{CadesError, FnSigner, SignatureParameters, SignedAttributeOptions};
use ssa_scdev::soft::SoftScdev;
use ssa_scdev::{
    BackupKey, HashAlgorithm, KeyAlgorithm, KeyEncryptionKey, KeyId, KeySpec, Scdev,
    SignatureAlgorithm,
};
use x509_cert::Certificate;

const ECDSA: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

fn cades(c: &mut Criterion) {
    let pki = ssa_testkit::pki::pki();
    let certificate = Certificate::from_der(&pki.signer.cert_der).unwrap();
    let digest = HashAlgorithm::Sha256.digest(b"a 1 KiB document, hashed by the client");
    let params = SignatureParameters {
        certificate: &certificate,
        chain: &[],
        algorithm: ECDSA,
        hash: HashAlgorithm::Sha256,
        digest: &digest,
        signing_time: SystemTime::now(),
        content: None,
        options: SignedAttributeOptions::default(),
    };

    // A null signer: what assembling the CMS costs without any signature.
    let null = FnSigner::new(ECDSA, |_dtbs: &[u8]| Ok(vec![0x30; 71]));
    c.bench_function("assembly/null-signer", |b| {
        b.iter(|| ssa_cades::sign(&params, &null).unwrap())
    });

    let backup = BackupKey::generate().unwrap();
    let scdev =
        SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap()).with_backup_key(backup.clone());
    let key = KeyId::new(b"bench".to_vec()).unwrap();
    let wrapped = SoftScdev::seal_for_import(
        &backup,
        &key,
        "bench",
        KeySpec::new(KeyAlgorithm::EcP256),
        zeroize::Zeroizing::new(pki.signer.key_pkcs8.clone()),
    )
    .unwrap();
    scdev.import_wrapped(&key, &wrapped).unwrap();
    let signer = FnSigner::new(ECDSA, |dtbs: &[u8]| {
        scdev
            .sign(&key, ECDSA, ssa_scdev::SignInput::Message(dtbs))
            .map_err(|e| CadesError::Signer(Box::new(e)))
    });
    c.bench_function("b-b/soft-p256", |b| {
        b.iter(|| ssa_cades::sign(&params, &signer).unwrap())
    });
}

criterion_group!(benches, cades);
criterion_main!(benches);
