//! Issue 11, item 1, on a real full filesystem: the audit log lives on a
//! small tmpfs this test mounts (it runs as root, as `.ci/run` does) and
//! fills. The write fails with ENOSPC; the log stops and stays stopped when
//! space comes back, until it is recovered (in the process, or by the next
//! process to open it: the mark in the lock file, written on the full
//! disk, says what to cut); the same SAD then signs once, and the chain
//! verifies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::SystemTime;

use common::{cheap_pin_config, enrol_with_certificate, scal1_policy};
use der::Decode;
use ssa::audit::{AuditError, AuditLog, AuditOptions, Event, Record, scan};
use ssa::sad::*;
use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::soft::SoftScdev;
use ssa::{
    HashAlgorithm, MemoryCredentialStore, ServiceError, SignOptions, SigningService,
    SigningServiceBuilder,
};
use x509_cert::Certificate;

/// A tmpfs of `size` mounted at `path`, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(path: &Path, size: &str) -> Self {
        std::fs::create_dir_all(path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and must run as root (as .ci/run does): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(path.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the filesystem of `dir` with a file `filler`, to the last byte.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
    while file.write_all(&[0]).is_ok() {}
    let _ = file.sync_all();
    path
}

struct Service {
    service: SigningService,
    issuer_pkcs8: Vec<u8>,
}

fn service(audit: &Path, ledger: &Path, issuer_pkcs8: Option<Vec<u8>>) -> Service {
    let (key, pkcs8) = match issuer_pkcs8 {
        Some(pkcs8) => (
            SadSigningKey::from_pkcs8(SadAlgorithm::Es256, &pkcs8).unwrap(),
            pkcs8,
        ),
        None => {
            let (key, pkcs8) = SadSigningKey::generate(SadAlgorithm::Es256).unwrap();
            (key, pkcs8.to_vec())
        }
    };
    let issuer = SadIssuer::new(
        cheap_pin_config(),
        key,
        SeedKey::generate().unwrap(),
        Arc::new(MemoryLockoutStore::new()),
    );
    let ledger = Arc::new(FileLedger::open(ledger, 0).unwrap());
    let sam = SadVerifier::new(SamConfig::new("sam"), ledger).trust("iss", issuer.verifying_key());
    let service = SigningServiceBuilder::new(
        Arc::new(SoftScdev::in_memory(KeyEncryptionKey::from_bytes([9; 32]))),
        sam,
        Arc::new(MemoryCredentialStore::new()),
        Arc::new(AuditLog::open(audit, AuditOptions::default()).unwrap()),
    )
    .issuer(issuer)
    .requests(scal1_policy())
    .anchors(vec![
        Certificate::from_der(&ssa_testkit::pki::pki().ca.cert_der).unwrap(),
    ])
    .build()
    .unwrap();
    Service {
        service,
        issuer_pkcs8: pkcs8,
    }
}

fn authorize(service: &SigningService, digests: &[Vec<u8>]) -> (Sad, String) {
    let authorized = service
        .authorize(&common::pin_request("c/1", digests), SystemTime::now())
        .unwrap();
    (authorized.sad, authorized.sad_id)
}

fn sign(service: &SigningService, sad: &Sad, digests: &[Vec<u8>]) -> Result<(), ServiceError> {
    service
        .sign_documents(
            "c/1",
            sad,
            digests,
            &SignOptions::default(),
            SystemTime::now(),
        )
        .map(|_| ())
}

fn signature_records(audit: &Path, sad_id: &str) -> usize {
    std::fs::read_to_string(audit)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Record>(l.split_once(' ')?.1).ok())
        .filter(|r| matches!(&r.entry.event, Event::Signature { sad_id: s, .. } if s == sad_id))
        .count()
}

fn recovered_records(audit: &Path) -> usize {
    std::fs::read_to_string(audit)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Record>(l.split_once(' ')?.1).ok())
        .filter(|r| matches!(r.entry.event, Event::Recovered { .. }))
        .count()
}

/// Authorizes and signs fresh requests until the audit log's disk is
/// full (its last page fills up): the first failure must be the sink's.
/// The SAD of a signing that failed, if it was a signing that failed.
fn until_full(service: &SigningService, tag: &str) -> Option<(Sad, String, Vec<Vec<u8>>)> {
    for i in 0..1_000 {
        let digests = vec![HashAlgorithm::Sha256.digest(format!("{tag} {i}").as_bytes())];
        let authorized =
            service.authorize(&common::pin_request("c/1", &digests), SystemTime::now());
        let authorized = match authorized {
            Ok(authorized) => authorized,
            Err(error) => {
                assert!(
                    matches!(error, ServiceError::Audit(AuditError::Sink(_))),
                    "{error:?}"
                );
                return None;
            }
        };
        if let Err(error) = sign(service, &authorized.sad, &digests) {
            eprintln!("full_disk: a signing failed on the full disk after {i} requests");
            assert!(
                matches!(error, ServiceError::Audit(AuditError::Sink(_))),
                "{error:?}"
            );
            return Some((authorized.sad, authorized.sad_id, digests));
        }
    }
    panic!("the disk never filled up");
}

#[test]
fn a_full_disk_stops_the_audit_log_until_it_is_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let mount = Mount::tmpfs(&dir.path().join("audit"), "256k");
    let audit = mount.0.join("audit.log");
    let ledger = dir.path().join("ledger.journal");
    let s = service(&audit, &ledger, None);
    enrol_with_certificate(&s.service, "c/1", "CN=Full Disk");

    // Full: a request fails on the audit log, and so does the next, even
    // with room again.
    let filler = fill(&mount.0);
    let pending = until_full(&s.service, "first");
    let records = std::fs::read(&audit).unwrap();
    std::fs::remove_file(&filler).unwrap();
    let digests = vec![HashAlgorithm::Sha256.digest(b"while stopped")];
    let error = s
        .service
        .authorize(&common::pin_request("c/1", &digests), SystemTime::now())
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::Audit(AuditError::Stopped { .. })),
        "{error:?}"
    );
    assert_eq!(
        std::fs::read(&audit).unwrap(),
        records,
        "written while stopped"
    );

    // Recovered in the process: signing resumes, and a SAD whose signing
    // failed on the full disk signs, once.
    s.service.recover_audit(SystemTime::now()).unwrap();
    assert_eq!(recovered_records(&audit), 1);
    if let Some((sad, sad_id, digests)) = &pending {
        assert_eq!(signature_records(&audit, sad_id), 0);
        sign(&s.service, sad, digests).unwrap();
        assert!(sign(&s.service, sad, digests).is_err());
        assert_eq!(signature_records(&audit, sad_id), 1);
    }
    let digests = vec![HashAlgorithm::Sha256.digest(b"after recovery")];
    let (sad, _) = authorize(&s.service, &digests);
    sign(&s.service, &sad, &digests).unwrap();

    // Full again, and this time the process goes away without recovering.
    let filler = fill(&mount.0);
    let pending = until_full(&s.service, "second");
    let pkcs8 = s.issuer_pkcs8.clone();
    drop(s);
    std::fs::remove_file(&filler).unwrap();

    // The next process: the mark says the log stopped; its first record
    // recovers, and the chain is whole.
    let s = service(&audit, &ledger, Some(pkcs8));
    enrol_with_certificate(&s.service, "c/1", "CN=Full Disk");
    assert_eq!(recovered_records(&audit), 2);
    if let Some((sad, sad_id, digests)) = &pending {
        sign(&s.service, sad, digests).unwrap();
        assert_eq!(signature_records(&audit, sad_id), 1);
    }
    let report = scan(&std::fs::read(&audit).unwrap(), None);
    assert!(report.is_intact(), "{:?}", report.problems);
    drop(s);
    drop(mount);
}
