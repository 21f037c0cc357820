//! The soft key store on disk: integrity, no plaintext at rest, the wrong
//! key-encryption key, and backup tampering.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};

use p256::pkcs8::DecodePrivateKey;
use ssa_scdev::soft::{DirectoryKeyStore, SoftScdev};
use ssa_scdev::{
    BackupKey, HashAlgorithm, KeyAlgorithm, KeyEncryptionKey, KeyId, KeySpec, Scdev, ScdevError,
    SignInput, SignatureAlgorithm, WrappedKey,
};
use ssa_testkit::openssl;
use zeroize::Zeroizing;

const ECDSA: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

struct Fixture {
    dir: tempfile::TempDir,
    kek: [u8; 32],
    backup: BackupKey,
}

impl Fixture {
    fn new() -> Self {
        let mut kek = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut kek).unwrap();
        Self {
            dir: tempfile::tempdir().unwrap(),
            kek,
            backup: BackupKey::generate().unwrap(),
        }
    }

    fn keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    fn scdev(&self) -> SoftScdev {
        self.scdev_with(KeyEncryptionKey::from_bytes(self.kek))
    }

    fn scdev_with(&self, kek: KeyEncryptionKey) -> SoftScdev {
        SoftScdev::new(DirectoryKeyStore::open(self.keys()).unwrap(), kek)
            .with_backup_key(self.backup.clone())
    }

    fn record(&self, id: &KeyId) -> PathBuf {
        self.keys().join(format!("{}.key", id.to_hex()))
    }

    fn import(&self, scdev: &SoftScdev, id: &KeyId, algorithm: KeyAlgorithm, pkcs8: &[u8]) {
        let wrapped = SoftScdev::seal_for_import(
            &self.backup,
            id,
            "imported",
            KeySpec::new(algorithm).with_backup(),
            Zeroizing::new(pkcs8.to_vec()),
        )
        .unwrap();
        scdev.import_wrapped(id, &wrapped).unwrap();
    }
}

/// Every file below `dir`, with its contents.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out.sort();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn soft_flipped_byte_in_a_stored_key_is_an_integrity_error() {
    let f = Fixture::new();
    let scdev = f.scdev();
    let id = KeyId::new(b"flip".to_vec()).unwrap();
    scdev
        .generate_key(&id, "flip", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    let path = f.record(&id);
    let original = std::fs::read(&path).unwrap();
    // The last byte is in the GCM tag, the one before it in the ciphertext.
    for position in [original.len() - 1, original.len() - 20] {
        let mut bytes = original.clone();
        bytes[position] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let result = scdev.sign(&id, ECDSA, SignInput::Message(b"x"));
        assert!(
            matches!(result, Err(ScdevError::StoredKeyCorrupt { ref key_id }) if *key_id == id),
            "{result:?}"
        );
    }
    // Every single-bit change anywhere is refused with an integrity error.
    for position in 0..original.len() {
        let mut bytes = original.clone();
        bytes[position] ^= 0x80;
        std::fs::write(&path, &bytes).unwrap();
        match scdev.sign(&id, ECDSA, SignInput::Message(b"x")) {
            Err(ScdevError::StoredKeyCorrupt { .. } | ScdevError::WrongKeyEncryptionKey { .. }) => {
            }
            other => panic!("byte {position}: {other:?}"),
        }
    }
    std::fs::write(&path, &original).unwrap();
    scdev.sign(&id, ECDSA, SignInput::Message(b"x")).unwrap();
}

#[test]
fn soft_record_moved_to_another_id_is_refused() {
    let f = Fixture::new();
    let scdev = f.scdev();
    let alice = KeyId::new(b"alice".to_vec()).unwrap();
    let mallory = KeyId::new(b"mallory".to_vec()).unwrap();
    scdev
        .generate_key(&alice, "alice", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    std::fs::copy(f.record(&alice), f.record(&mallory)).unwrap();
    let result = scdev.sign(&mallory, ECDSA, SignInput::Message(b"x"));
    assert!(
        matches!(result, Err(ScdevError::StoredKeyCorrupt { .. })),
        "{result:?}"
    );
}

#[test]
fn soft_no_file_on_disk_holds_plaintext_key_material() {
    let f = Fixture::new();
    let scdev = f.scdev();
    let ec_pkcs8 =
        openssl::genpkey_pkcs8(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    let scalar = p256::SecretKey::from_pkcs8_der(&ec_pkcs8)
        .unwrap()
        .to_bytes();
    let rsa_pkcs8 = openssl::rsa_pkcs8(2048);
    let ec = KeyId::new(b"ec".to_vec()).unwrap();
    let rsa = KeyId::new(b"rsa".to_vec()).unwrap();
    f.import(&scdev, &ec, KeyAlgorithm::EcP256, &ec_pkcs8);
    f.import(&scdev, &rsa, KeyAlgorithm::Rsa2048, &rsa_pkcs8);
    // A backup on disk too.
    let backup = scdev.export_wrapped(&ec).unwrap().to_bytes();
    std::fs::write(f.dir.path().join("ec.backup"), &backup).unwrap();
    // The keys work, so the material is in the store...
    scdev.sign(&ec, ECDSA, SignInput::Message(b"x")).unwrap();
    // ...but no file holds it in the clear: not the PKCS#8, not the EC
    // scalar, not the tail of the RSA key (CRT coefficient: secret).
    let secrets: [&[u8]; 4] = [
        &ec_pkcs8,
        scalar.as_slice(),
        &rsa_pkcs8,
        &rsa_pkcs8[rsa_pkcs8.len() - 64..],
    ];
    let all = files(f.dir.path());
    assert_eq!(all.len(), 3, "two records and one backup");
    for (path, bytes) in all {
        for secret in secrets {
            assert!(
                !contains(&bytes, secret),
                "{} holds plaintext key material",
                path.display()
            );
        }
    }
}

#[test]
fn soft_wrong_key_encryption_key_fails_cleanly() {
    let f = Fixture::new();
    let id = KeyId::new(b"k".to_vec()).unwrap();
    f.scdev()
        .generate_key(&id, "k", KeySpec::new(KeyAlgorithm::Ed25519))
        .unwrap();
    let before = files(&f.keys());
    let wrong = f.scdev_with(KeyEncryptionKey::from_bytes([0x42; 32]));
    let result = wrong.sign(&id, SignatureAlgorithm::Ed25519, SignInput::Message(b"x"));
    assert!(
        matches!(result, Err(ScdevError::WrongKeyEncryptionKey { ref key_id }) if *key_id == id),
        "{result:?}"
    );
    assert!(matches!(
        wrong.find_key(&id),
        Err(ScdevError::WrongKeyEncryptionKey { .. })
    ));
    assert!(matches!(
        wrong.list_keys(),
        Err(ScdevError::WrongKeyEncryptionKey { .. })
    ));
    assert!(matches!(
        wrong.export_wrapped(&id),
        Err(ScdevError::WrongKeyEncryptionKey { .. })
    ));
    assert_eq!(files(&f.keys()), before, "a failed open changed the store");
    f.scdev()
        .sign(&id, SignatureAlgorithm::Ed25519, SignInput::Message(b"x"))
        .unwrap();
}

#[test]
fn soft_writes_leave_no_temporary_files_and_never_replace_a_record() {
    let f = Fixture::new();
    let scdev = f.scdev();
    let id = KeyId::new(b"once".to_vec()).unwrap();
    scdev
        .generate_key(&id, "once", KeySpec::new(KeyAlgorithm::EcP256))
        .unwrap();
    let before = files(&f.keys());
    let again = scdev.generate_key(&id, "twice", KeySpec::new(KeyAlgorithm::EcP384));
    assert!(
        matches!(again, Err(ScdevError::KeyExists { .. })),
        "{again:?}"
    );
    assert_eq!(files(&f.keys()), before);
    let names: Vec<_> = before
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn soft_backup_tampering_and_wrong_backup_key_are_refused() {
    let f = Fixture::new();
    let scdev = f.scdev();
    let id = KeyId::new(b"bk".to_vec()).unwrap();
    scdev
        .generate_key(&id, "bk", KeySpec::new(KeyAlgorithm::EcP256).with_backup())
        .unwrap();
    let bytes = scdev.export_wrapped(&id).unwrap().to_bytes();
    scdev.destroy_key(&id).unwrap();

    let mut payload_flip = bytes.clone();
    let last = payload_flip.len() - 1;
    payload_flip[last] ^= 1;
    let result = scdev.import_wrapped(&id, &WrappedKey::from_bytes(&payload_flip).unwrap());
    assert!(
        matches!(result, Err(ScdevError::BackupIntegrity { source: None })),
        "{result:?}"
    );

    // The label sits in the header, which the seal authenticates.
    let label_at = bytes.windows(2).position(|w| w == b"bk").unwrap() + 2;
    let label_at = label_at
        + bytes[label_at..]
            .windows(2)
            .position(|w| w == b"bk")
            .unwrap();
    let mut header_flip = bytes.clone();
    header_flip[label_at] = b'B';
    let result = scdev.import_wrapped(&id, &WrappedKey::from_bytes(&header_flip).unwrap());
    assert!(
        matches!(result, Err(ScdevError::BackupIntegrity { source: None })),
        "{result:?}"
    );

    let stranger = SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap())
        .with_backup_key(BackupKey::generate().unwrap());
    let result = stranger.import_wrapped(&id, &WrappedKey::from_bytes(&bytes).unwrap());
    assert!(
        matches!(result, Err(ScdevError::WrongBackupKey)),
        "{result:?}"
    );
    let no_key = SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap());
    assert!(matches!(
        no_key.import_wrapped(&id, &WrappedKey::from_bytes(&bytes).unwrap()),
        Err(ScdevError::NoBackupKey)
    ));

    assert!(
        scdev.find_key(&id).unwrap().is_none(),
        "a refused restore left a key behind"
    );
    scdev
        .import_wrapped(&id, &WrappedKey::from_bytes(&bytes).unwrap())
        .unwrap();
    scdev.sign(&id, ECDSA, SignInput::Message(b"x")).unwrap();
}

#[test]
fn soft_rsa_cannot_be_generated_only_imported() {
    let f = Fixture::new();
    let scdev = f.scdev();
    let id = KeyId::new(b"rsa".to_vec()).unwrap();
    let result = scdev.generate_key(&id, "rsa", KeySpec::new(KeyAlgorithm::Rsa2048));
    assert!(
        matches!(result, Err(ScdevError::GenerateUnsupported { .. })),
        "{result:?}"
    );
    // A PKCS#8 that is not of the claimed algorithm is refused at sealing.
    let result = SoftScdev::seal_for_import(
        &f.backup,
        &id,
        "rsa",
        KeySpec::new(KeyAlgorithm::Rsa3072),
        Zeroizing::new(openssl::rsa_pkcs8(2048)),
    );
    assert!(result.is_err());
    let digest = HashAlgorithm::Sha256.digest(b"x");
    f.import(
        &scdev,
        &id,
        KeyAlgorithm::Rsa2048,
        &openssl::rsa_pkcs8(2048),
    );
    let result = scdev.sign(
        &id,
        SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256),
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
