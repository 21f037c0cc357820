//! The SCDev conformance suite: written once, run against every backend.
//! Each test exists once per backend: the soft SCDev, with and without its
//! key cache, SoftHSM2 over PKCS#11, and the soft SCDev behind a wrapper
//! that implements only the trait's required methods (so the default
//! `sign_many` and `public_key` are tested as a new backend gets them).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::sync::{Arc, OnceLock};

use ssa_scdev::pkcs11::Pkcs11Scdev;
use ssa_scdev::soft::{DirectoryKeyStore, SoftScdev};
use ssa_scdev::{
    BackupKey, HashAlgorithm, KeyAlgorithm, KeyEncryptionKey, KeyId, KeyInfo, KeySpec, PublicKey,
    Scdev, ScdevError, SignInput, SignatureAlgorithm,
};
use ssa_testkit::openssl;

/// One backend under test.
struct Backend {
    name: &'static str,
    scdev: Arc<dyn Scdev>,
    /// Soft only: the backup key, to seal keys ring cannot generate (RSA).
    import_key: Option<BackupKey>,
    /// Text forms of this backend's secrets that no `Debug` output may show.
    secrets: Vec<String>,
    /// Values built from the secrets (configurations) to print as well.
    config_debug: String,
    _dir: Option<tempfile::TempDir>,
}

/// A backend that implements only what the trait requires, so the trait's
/// default methods (`public_key`, `sign_many`) are the ones under test: what
/// a third backend (a cloud KMS, a network HSM) gets if it adds nothing.
#[derive(Debug)]
struct RequiredOnly(SoftScdev);

impl Scdev for RequiredOnly {
    fn capabilities(&self) -> ssa_scdev::Capabilities {
        self.0.capabilities()
    }
    fn generate_key(&self, id: &KeyId, label: &str, spec: KeySpec) -> Result<KeyInfo, ScdevError> {
        self.0.generate_key(id, label, spec)
    }
    fn find_key(&self, id: &KeyId) -> Result<Option<KeyInfo>, ScdevError> {
        self.0.find_key(id)
    }
    fn list_keys(&self) -> Result<Vec<KeyInfo>, ScdevError> {
        self.0.list_keys()
    }
    fn sign(
        &self,
        id: &KeyId,
        algorithm: SignatureAlgorithm,
        input: SignInput<'_>,
    ) -> Result<Vec<u8>, ScdevError> {
        self.0.sign(id, algorithm, input)
    }
    fn destroy_key(&self, id: &KeyId) -> Result<(), ScdevError> {
        self.0.destroy_key(id)
    }
    fn export_wrapped(&self, id: &KeyId) -> Result<ssa_scdev::WrappedKey, ScdevError> {
        self.0.export_wrapped(id)
    }
    fn import_wrapped(
        &self,
        id: &KeyId,
        backup: &ssa_scdev::WrappedKey,
    ) -> Result<KeyInfo, ScdevError> {
        self.0.import_wrapped(id, backup)
    }
}

/// The soft backend behind [`RequiredOnly`].
fn required_only() -> Backend {
    soft_wrapped("required-only", false, |soft| Arc::new(RequiredOnly(soft)))
}

/// The soft backend keeping opened keys (`with_key_cache`).
fn soft_cached() -> Backend {
    let mut backend = soft_with(true);
    backend.name = "soft-cached";
    backend
}

fn soft() -> Backend {
    soft_with(false)
}

fn soft_with(cache: bool) -> Backend {
    soft_wrapped("soft", cache, |soft| Arc::new(soft))
}

/// A soft SCDev, as `wrap` presents it.
fn soft_wrapped(
    name: &'static str,
    cache: bool,
    wrap: impl FnOnce(SoftScdev) -> Arc<dyn Scdev>,
) -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let store = DirectoryKeyStore::open(dir.path().join("keys")).unwrap();
    let mut kek = [0u8; 32];
    let mut backup_bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut kek).unwrap();
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut backup_bytes).unwrap();
    let (kek_value, backup) = (
        KeyEncryptionKey::from_bytes(kek),
        BackupKey::from_bytes(backup_bytes),
    );
    let config_debug = format!("{kek_value:?} {backup:?}");
    let scdev = SoftScdev::new(store, kek_value).with_backup_key(backup.clone());
    let scdev = if cache { scdev.with_key_cache() } else { scdev };
    let mut secrets = Vec::new();
    for bytes in [kek, backup_bytes] {
        secrets.push(bytes.iter().map(|b| format!("{b:02x}")).collect());
        secrets.push(
            format!("{:?}", &bytes[..6])
                .trim_end_matches(']')
                .to_owned(),
        );
    }
    Backend {
        name,
        scdev: wrap(scdev),
        import_key: Some(backup),
        secrets,
        config_debug,
        _dir: Some(dir),
    }
}

/// One token with a backup key, shared by the SoftHSM2 tests of this process.
fn softhsm() -> Backend {
    static TOKEN: OnceLock<ssa_testkit::TestToken> = OnceLock::new();
    let token = TOKEN.get_or_init(|| ssa_testkit::softhsm().create_token("conformance", true));
    Backend {
        name: "softhsm",
        scdev: Arc::new(Pkcs11Scdev::open(&token.config()).unwrap()),
        import_key: None,
        secrets: vec![
            token.user_pin_text(),
            format!("so-{}", token.user_pin_text()),
        ],
        config_debug: format!("{:?} {token:?}", token.config()),
        _dir: None,
    }
}

fn key_id(test: &str, algorithm: KeyAlgorithm) -> KeyId {
    KeyId::new(format!("{test}/{algorithm:?}").into_bytes()).unwrap()
}

impl Backend {
    /// A key of `algorithm`: generated where the backend can, else imported.
    fn key(&self, test: &str, spec: KeySpec) -> KeyInfo {
        let id = key_id(test, spec.algorithm);
        let caps = self.scdev.capabilities();
        if caps.generate.contains(&spec.algorithm) {
            return self.scdev.generate_key(&id, test, spec).unwrap();
        }
        let bits = spec.algorithm.rsa_bits().expect("only RSA is imported");
        let backup_key = self.import_key.as_ref().expect("an importing backend");
        let pkcs8 = zeroize::Zeroizing::new(openssl::rsa_pkcs8(bits));
        let wrapped = SoftScdev::seal_for_import(backup_key, &id, test, spec, pkcs8).unwrap();
        self.scdev.import_wrapped(&id, &wrapped).unwrap()
    }
}

fn public(info: &KeyInfo) -> PublicKey {
    PublicKey::from_spki_der(&info.public_key).unwrap()
}

/// Checks with ring (through `PublicKey::verify`, which uses ring for every
/// algorithm ring has) and, for ECDSA with SHA-512 that ring lacks, OpenSSL.
fn assert_verifies(
    info: &KeyInfo,
    algorithm: SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) {
    let key = public(info);
    if let SignatureAlgorithm::RsaPss(_, ssa_scdev::PssSalt::Maximum) = algorithm {
        // ring verifies PSS only with a digest-long salt: OpenSSL checks this one.
        assert!(openssl::verify_message(
            &info.public_key,
            algorithm,
            message,
            signature
        ));
        let mut tampered = message.to_vec();
        tampered.push(0);
        assert!(!openssl::verify_message(
            &info.public_key,
            algorithm,
            &tampered,
            signature
        ));
        return;
    }
    if algorithm == SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512) {
        assert!(openssl::verify_message(
            &info.public_key,
            algorithm,
            message,
            signature
        ));
    }
    key.verify(algorithm, message, signature)
        .unwrap_or_else(|e| panic!("{algorithm} on {}: {e}", info.algorithm));
    let mut tampered = message.to_vec();
    tampered.push(0);
    assert!(
        key.verify(algorithm, &tampered, signature).is_err(),
        "{algorithm}: tampered message verified"
    );
}

mod suite {
    use super::*;

    pub fn every_algorithm(b: &Backend, algorithm: KeyAlgorithm) {
        let caps = b.scdev.capabilities();
        let info = b.key("every-algorithm", KeySpec::new(algorithm));
        assert_eq!(info.algorithm, algorithm);
        assert_eq!(b.scdev.public_key(&info.id).unwrap(), info.public_key);
        let message = b"the signed attributes of a CAdES signature";
        let mut made = 0;
        for sig_alg in algorithm.signature_algorithms() {
            if !caps.can_sign_message(sig_alg) {
                continue;
            }
            let signature = b
                .scdev
                .sign(&info.id, sig_alg, SignInput::Message(message))
                .unwrap();
            assert_verifies(&info, sig_alg, message, &signature);
            made += 1;
            if let Some(hash) = sig_alg.hash().filter(|_| caps.can_sign_digest(sig_alg)) {
                let digest = hash.digest(message);
                let signature = b
                    .scdev
                    .sign(
                        &info.id,
                        sig_alg,
                        SignInput::Digest {
                            hash,
                            value: &digest,
                        },
                    )
                    .unwrap();
                assert_verifies(&info, sig_alg, message, &signature);
            }
        }
        assert!(made > 0, "no signature algorithm was tried for {algorithm}");
    }

    pub fn openssl_accepts(b: &Backend, algorithm: KeyAlgorithm) {
        let caps = b.scdev.capabilities();
        let info = b.key("openssl", KeySpec::new(algorithm));
        let message = b"checked by a verifier nobody here wrote";
        let mut made = 0;
        for sig_alg in algorithm.signature_algorithms() {
            if !caps.can_sign_message(sig_alg) {
                continue;
            }
            made += 1;
            let hash = sig_alg.hash().unwrap();
            let signature = b
                .scdev
                .sign(&info.id, sig_alg, SignInput::Message(message))
                .unwrap();
            assert!(
                openssl::verify_message(&info.public_key, sig_alg, message, &signature),
                "{sig_alg} message"
            );
            let mut forged = signature.clone();
            let last = forged.len() - 2;
            forged[last] ^= 1;
            assert!(
                !openssl::verify_message(&info.public_key, sig_alg, message, &forged),
                "{sig_alg} forged"
            );
            if caps.can_sign_digest(sig_alg) {
                let digest = hash.digest(message);
                let signature = b
                    .scdev
                    .sign(
                        &info.id,
                        sig_alg,
                        SignInput::Digest {
                            hash,
                            value: &digest,
                        },
                    )
                    .unwrap();
                assert!(
                    openssl::verify_digest(&info.public_key, sig_alg, &digest, &signature),
                    "{sig_alg} digest"
                );
                assert!(!openssl::verify_digest(
                    &info.public_key,
                    sig_alg,
                    &hash.digest(b"other"),
                    &signature
                ));
            }
        }
        assert!(made > 0, "no signature algorithm was tried for {algorithm}");
    }

    /// `sign_many`: every signature in order and over its own input, all
    /// inputs checked before any is signed, the same refusals as `sign`.
    pub fn sign_many(b: &Backend, algorithm: KeyAlgorithm) {
        let caps = b.scdev.capabilities();
        let info = b.key("sign-many", KeySpec::new(algorithm));
        let sig_alg = algorithm.signature_algorithms()[0];
        let messages: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
        let inputs: Vec<SignInput<'_>> = messages.iter().map(|m| SignInput::Message(m)).collect();
        let signatures = b.scdev.sign_many(&info.id, sig_alg, &inputs).unwrap();
        assert_eq!(signatures.len(), messages.len());
        let key = public(&info);
        for (i, (message, signature)) in messages.iter().zip(&signatures).enumerate() {
            assert_verifies(&info, sig_alg, message, signature);
            let neighbour = &messages[(i + 1) % messages.len()];
            assert!(
                key.verify(sig_alg, neighbour, signature).is_err(),
                "signature {i} is over another input"
            );
        }
        assert!(
            b.scdev
                .sign_many(&info.id, sig_alg, &[])
                .unwrap()
                .is_empty()
        );

        if let Some(hash) = sig_alg.hash().filter(|_| caps.can_sign_digest(sig_alg)) {
            let digests: Vec<Vec<u8>> = messages.iter().map(|m| hash.digest(m)).collect();
            let inputs: Vec<SignInput<'_>> = digests
                .iter()
                .map(|d| SignInput::Digest { hash, value: d })
                .collect();
            let signatures = b.scdev.sign_many(&info.id, sig_alg, &inputs).unwrap();
            for (message, signature) in messages.iter().zip(&signatures) {
                assert_verifies(&info, sig_alg, message, signature);
            }
            // One short digest in the middle refuses the whole batch with
            // the error `sign` gives for it.
            let mut bad = inputs.clone();
            bad[2] = SignInput::Digest {
                hash,
                value: &digests[2][1..],
            };
            assert!(matches!(
                b.scdev.sign_many(&info.id, sig_alg, &bad),
                Err(ScdevError::DigestLength { .. })
            ));
        }
        let other = if algorithm == KeyAlgorithm::Ed25519 {
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256)
        } else {
            SignatureAlgorithm::Ed25519
        };
        assert!(matches!(
            b.scdev.sign_many(&info.id, other, &inputs),
            Err(ScdevError::AlgorithmNotAllowed { .. })
        ));
        let missing = KeyId::new(b"sign-many/none".to_vec()).unwrap();
        assert!(matches!(
            b.scdev.sign_many(&missing, sig_alg, &inputs),
            Err(ScdevError::UnknownKey { .. })
        ));
        b.scdev.destroy_key(&info.id).unwrap();
        assert!(matches!(
            b.scdev.sign_many(&info.id, sig_alg, &inputs),
            Err(ScdevError::UnknownKey { .. })
        ));
    }

    pub fn unknown_key_id(b: &Backend) {
        let id = KeyId::new(b"no such key".to_vec()).unwrap();
        let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        assert!(
            matches!(b.scdev.sign(&id, alg, SignInput::Message(b"x")), Err(ScdevError::UnknownKey { key_id }) if key_id == id)
        );
        assert!(matches!(
            b.scdev.public_key(&id),
            Err(ScdevError::UnknownKey { .. })
        ));
        assert!(matches!(
            b.scdev.destroy_key(&id),
            Err(ScdevError::UnknownKey { .. })
        ));
        assert!(matches!(
            b.scdev.export_wrapped(&id),
            Err(ScdevError::UnknownKey { .. })
        ));
        assert!(b.scdev.find_key(&id).unwrap().is_none());
    }

    pub fn algorithm_not_allowed(b: &Backend) {
        let ec = b.key("not-allowed", KeySpec::new(KeyAlgorithm::EcP256));
        let rsa = b.key("not-allowed", KeySpec::new(KeyAlgorithm::Rsa2048));
        let cases = [
            (&ec, SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256)),
            (
                &ec,
                SignatureAlgorithm::RsaPss(HashAlgorithm::Sha256, ssa_scdev::PssSalt::Digest),
            ),
            (&ec, SignatureAlgorithm::Ed25519),
            (&rsa, SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256)),
            (&rsa, SignatureAlgorithm::Ed25519),
        ];
        for (info, alg) in cases {
            let result = b.scdev.sign(&info.id, alg, SignInput::Message(b"x"));
            assert!(
                matches!(&result, Err(ScdevError::AlgorithmNotAllowed { key, requested, .. }) if *key == info.algorithm && *requested == alg),
                "{alg} on {}: {result:?}",
                info.algorithm
            );
        }
    }

    pub fn digest_checks(b: &Backend) {
        let ec = b.key("digest-checks", KeySpec::new(KeyAlgorithm::EcP256));
        let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        for len in [0, 20, 31, 33, 48, 64] {
            let digest = vec![7u8; len];
            let result = b.scdev.sign(
                &ec.id,
                alg,
                SignInput::Digest {
                    hash: HashAlgorithm::Sha256,
                    value: &digest,
                },
            );
            assert!(
                matches!(result, Err(ScdevError::DigestLength { expected: 32, actual, .. }) if actual == len),
                "length {len}"
            );
        }
        let digest = HashAlgorithm::Sha384.digest(b"x");
        let result = b.scdev.sign(
            &ec.id,
            alg,
            SignInput::Digest {
                hash: HashAlgorithm::Sha384,
                value: &digest,
            },
        );
        assert!(
            matches!(result, Err(ScdevError::DigestAlgorithmMismatch { .. })),
            "{result:?}"
        );
        let ed = b.key("digest-checks", KeySpec::new(KeyAlgorithm::Ed25519));
        let digest = HashAlgorithm::Sha256.digest(b"x");
        let result = b.scdev.sign(
            &ed.id,
            SignatureAlgorithm::Ed25519,
            SignInput::Digest {
                hash: HashAlgorithm::Sha256,
                value: &digest,
            },
        );
        assert!(
            matches!(result, Err(ScdevError::DigestSigningUnsupported { .. })),
            "{result:?}"
        );
    }

    pub fn eight_threads(b: &Backend) {
        let info = b.key("eight-threads", KeySpec::new(KeyAlgorithm::EcP256));
        let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        std::thread::scope(|scope| {
            for thread in 0..8u8 {
                let (scdev, info) = (&b.scdev, &info);
                scope.spawn(move || {
                    for i in 0..40u8 {
                        let message = [thread, i];
                        let sig = scdev
                            .sign(&info.id, alg, SignInput::Message(&message))
                            .unwrap();
                        public(info).verify(alg, &message, &sig).unwrap();
                    }
                });
            }
        });
    }

    pub fn backup_restore_sign(b: &Backend) {
        for algorithm in [
            KeyAlgorithm::EcP256,
            KeyAlgorithm::Ed25519,
            KeyAlgorithm::Rsa2048,
        ] {
            let original = b.key("backup", KeySpec::new(algorithm).with_backup());
            assert!(original.backup_allowed);
            let backup = match b.scdev.export_wrapped(&original.id) {
                Ok(backup) => backup,
                // SoftHSM2 2.6 cannot wrap Edwards keys (SoftHSMv2 issue #595):
                // a typed refusal, and the key stays as it was.
                Err(ScdevError::KeyNotWrappable { .. })
                    if b.name == "softhsm" && algorithm == KeyAlgorithm::Ed25519 =>
                {
                    let sig = b
                        .scdev
                        .sign(
                            &original.id,
                            SignatureAlgorithm::Ed25519,
                            SignInput::Message(b"x"),
                        )
                        .unwrap();
                    assert_verifies(&original, SignatureAlgorithm::Ed25519, b"x", &sig);
                    continue;
                }
                Err(e) => panic!("{algorithm}: {e:?}"),
            };
            let bytes = backup.to_bytes();
            let backup = ssa_scdev::WrappedKey::from_bytes(&bytes).unwrap();
            // Restoring over the live key is refused and changes nothing.
            assert!(matches!(
                b.scdev.import_wrapped(&original.id, &backup),
                Err(ScdevError::KeyExists { .. })
            ));
            let other = KeyId::new(b"someone else".to_vec()).unwrap();
            assert!(matches!(
                b.scdev.import_wrapped(&other, &backup),
                Err(ScdevError::BackupKeyIdMismatch { .. })
            ));
            assert!(b.scdev.find_key(&other).unwrap().is_none());
            b.scdev.destroy_key(&original.id).unwrap();
            assert!(b.scdev.find_key(&original.id).unwrap().is_none());
            let restored = b.scdev.import_wrapped(&original.id, &backup).unwrap();
            assert_eq!(restored, original);
            let alg = algorithm.signature_algorithms()[0];
            let sig = b
                .scdev
                .sign(&original.id, alg, SignInput::Message(b"after restore"))
                .unwrap();
            assert_verifies(&original, alg, b"after restore", &sig);
            b.scdev.destroy_key(&original.id).unwrap();
        }
    }

    pub fn non_extractable_refuses_export(b: &Backend) {
        let info = b.key("no-export", KeySpec::new(KeyAlgorithm::EcP256));
        assert!(!info.backup_allowed);
        let result = b.scdev.export_wrapped(&info.id);
        assert!(
            matches!(result, Err(ScdevError::NotExtractable { ref key_id }) if *key_id == info.id),
            "{result:?}"
        );
    }

    pub fn list_find_destroy(b: &Backend) {
        let a = b.key("list-a", KeySpec::new(KeyAlgorithm::EcP384));
        let c = b.key("list-c", KeySpec::new(KeyAlgorithm::Ed25519));
        let listed = b.scdev.list_keys().unwrap();
        assert!(listed.contains(&a) && listed.contains(&c));
        assert_eq!(b.scdev.find_key(&a.id).unwrap(), Some(a.clone()));
        // A second key under the same id is refused; the first is untouched.
        let again = b
            .scdev
            .generate_key(&a.id, "imposter", KeySpec::new(KeyAlgorithm::EcP384));
        assert!(
            matches!(again, Err(ScdevError::KeyExists { .. })),
            "{again:?}"
        );
        assert_eq!(b.scdev.find_key(&a.id).unwrap(), Some(a.clone()));
        b.scdev.destroy_key(&a.id).unwrap();
        assert!(b.scdev.find_key(&a.id).unwrap().is_none());
        assert!(!b.scdev.list_keys().unwrap().contains(&a));
        assert!(b.scdev.list_keys().unwrap().contains(&c));
    }

    /// A key that signed once (so a cache may hold it) and is then destroyed
    /// never signs again, and a new key under the same id signs as itself.
    pub fn destroyed_key_never_signs_again(b: &Backend) {
        let old = b.key("reused", KeySpec::new(KeyAlgorithm::EcP256));
        let alg = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
        let sig = b
            .scdev
            .sign(&old.id, alg, SignInput::Message(b"a"))
            .unwrap();
        assert_verifies(&old, alg, b"a", &sig);
        b.scdev.destroy_key(&old.id).unwrap();
        let gone = b.scdev.sign(&old.id, alg, SignInput::Message(b"b"));
        assert!(
            matches!(gone, Err(ScdevError::UnknownKey { ref key_id }) if *key_id == old.id),
            "{gone:?}"
        );
        let new = b
            .scdev
            .generate_key(&old.id, "reused", KeySpec::new(KeyAlgorithm::EcP256))
            .unwrap();
        assert_ne!(new.public_key, old.public_key);
        let sig = b
            .scdev
            .sign(&new.id, alg, SignInput::Message(b"c"))
            .unwrap();
        assert_verifies(&new, alg, b"c", &sig);
    }

    pub fn debug_holds_no_secret(b: &Backend) {
        let backup = b.key("debug", KeySpec::new(KeyAlgorithm::EcP256).with_backup());
        let plain = b.key("debug", KeySpec::new(KeyAlgorithm::EcP384));
        let wrapped = b.scdev.export_wrapped(&backup.id).unwrap();
        let errors = [
            b.scdev.export_wrapped(&plain.id).unwrap_err(),
            b.scdev
                .sign(
                    &plain.id,
                    SignatureAlgorithm::Ed25519,
                    SignInput::Message(b"x"),
                )
                .unwrap_err(),
            b.scdev.import_wrapped(&backup.id, &wrapped).unwrap_err(),
        ];
        let printed = format!(
            "{:?} {:?} {:?} {:?} {errors:?} {} {}",
            b.scdev,
            b.scdev.capabilities(),
            b.scdev.list_keys().unwrap(),
            wrapped,
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            b.config_debug,
        );
        assert!(
            printed.contains("redacted"),
            "the configuration was not printed: {printed}"
        );
        assert!(!b.secrets.is_empty());
        for secret in &b.secrets {
            assert!(
                !printed.contains(secret.as_str()),
                "Debug output shows a secret ({secret}): {printed}"
            );
        }
    }

    pub fn bad_ids_and_labels(b: &Backend) {
        assert!(matches!(
            KeyId::new(vec![1; 65]),
            Err(ScdevError::InvalidKeyId { len: 65 })
        ));
        let id = KeyId::new(b"bad-label".to_vec()).unwrap();
        for label in ["", "tab\there", &"x".repeat(65)] {
            let result = b
                .scdev
                .generate_key(&id, label, KeySpec::new(KeyAlgorithm::EcP256));
            assert!(matches!(result, Err(ScdevError::InvalidLabel)), "{label:?}");
        }
        assert!(b.scdev.find_key(&id).unwrap().is_none());
        // The longest id and label are accepted.
        let longest = KeyId::new(vec![b'i'; KeyId::MAX_LEN]).unwrap();
        b.scdev
            .generate_key(
                &longest,
                &"x".repeat(64),
                KeySpec::new(KeyAlgorithm::EcP256),
            )
            .unwrap();
        b.scdev.destroy_key(&longest).unwrap();
    }
}

macro_rules! conformance {
    ($($name:ident => $body:expr),* $(,)?) => {
        mod soft_backend {
            use super::*;
            $( #[test] fn $name() { let b = soft(); ($body)(&b); } )*
        }
        mod softhsm_backend {
            use super::*;
            $( #[test] fn $name() { let b = softhsm(); ($body)(&b); } )*
        }
        mod soft_cached_backend {
            use super::*;
            $( #[test] fn $name() { let b = soft_cached(); ($body)(&b); } )*
        }
        mod required_only_backend {
            use super::*;
            $( #[test] fn $name() { let b = required_only(); ($body)(&b); } )*
        }
    };
}

conformance! {
    every_algorithm_ec_p256 => |b| suite::every_algorithm(b, KeyAlgorithm::EcP256),
    every_algorithm_ec_p384 => |b| suite::every_algorithm(b, KeyAlgorithm::EcP384),
    every_algorithm_ed25519 => |b| suite::every_algorithm(b, KeyAlgorithm::Ed25519),
    every_algorithm_rsa2048 => |b| suite::every_algorithm(b, KeyAlgorithm::Rsa2048),
    every_algorithm_rsa3072 => |b| suite::every_algorithm(b, KeyAlgorithm::Rsa3072),
    every_algorithm_rsa4096 => |b| suite::every_algorithm(b, KeyAlgorithm::Rsa4096),
    openssl_accepts_ec_p256 => |b| suite::openssl_accepts(b, KeyAlgorithm::EcP256),
    openssl_accepts_rsa2048 => |b| suite::openssl_accepts(b, KeyAlgorithm::Rsa2048),
    sign_many_ec_p256 => |b| suite::sign_many(b, KeyAlgorithm::EcP256),
    sign_many_ed25519 => |b| suite::sign_many(b, KeyAlgorithm::Ed25519),
    sign_many_rsa2048 => |b| suite::sign_many(b, KeyAlgorithm::Rsa2048),
    unknown_key_id => suite::unknown_key_id,
    algorithm_not_allowed_for_the_key => suite::algorithm_not_allowed,
    digest_length_and_hash_checked => suite::digest_checks,
    eight_threads_sign_at_once => suite::eight_threads,
    backup_then_restore_then_sign => suite::backup_restore_sign,
    non_extractable_key_refuses_export => suite::non_extractable_refuses_export,
    list_find_destroy => suite::list_find_destroy,
    destroyed_key_never_signs_again => suite::destroyed_key_never_signs_again,
    bad_key_ids_and_labels_refused => suite::bad_ids_and_labels,
    debug_output_holds_no_secret => suite::debug_holds_no_secret,
}
