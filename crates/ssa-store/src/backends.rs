//! Every conformance suite against this crate's memory and file backends.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use crate::conformance::{self, Pair};
use crate::{
    AccountStore, AuditSink, BearerTokenStore, ChallengeStore, ConsumptionLedger, CredentialStore,
    Durability, EnrolmentStore, FileAccountStore, FileAuditSink, FileBearerTokenStore,
    FileChallengeStore, FileCredentialStore, FileEnrolmentStore, FileGrantStore, FileLedger,
    FileLockoutStore, GrantStore, LockoutStore, MemoryAccountStore, MemoryAuditSink,
    MemoryBearerTokenStore, MemoryChallengeStore, MemoryCredentialStore, MemoryEnrolmentStore,
    MemoryGrantStore, MemoryLedger, MemoryLockoutStore,
};

#[test]
fn memory_lockout_store() {
    conformance::lockout_store(&|| {
        let store: Arc<dyn LockoutStore> = Arc::new(MemoryLockoutStore::new());
        Pair {
            a: Arc::clone(&store),
            b: store,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_lockout_store() {
    conformance::lockout_store(&|| {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: Arc::new(FileLockoutStore::open(dir.path()).unwrap()),
            b: Arc::new(FileLockoutStore::open(dir.path()).unwrap()),
            guard: Box::new(dir),
        }
    });
}

#[test]
fn memory_challenge_store() {
    conformance::challenge_store(&|| {
        let store: Arc<dyn ChallengeStore> = Arc::new(MemoryChallengeStore::new());
        Pair {
            a: Arc::clone(&store),
            b: store,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_challenge_store() {
    conformance::challenge_store(&|| {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: Arc::new(FileChallengeStore::open(dir.path()).unwrap()),
            b: Arc::new(FileChallengeStore::open(dir.path()).unwrap()),
            guard: Box::new(dir),
        }
    });
}

#[test]
fn memory_ledger() {
    conformance::consumption_ledger(&|| {
        let ledger: Arc<dyn ConsumptionLedger> = Arc::new(MemoryLedger::new());
        Pair {
            a: Arc::clone(&ledger),
            b: ledger,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_ledger() {
    conformance::consumption_ledger(&|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        Pair {
            a: Arc::new(FileLedger::open(&path, 0).unwrap()),
            b: Arc::new(FileLedger::open(&path, 0).unwrap()),
            guard: Box::new(dir),
        }
    });
}

#[test]
fn memory_enrolment_store() {
    conformance::enrolment_store(&|| {
        let store: Arc<dyn EnrolmentStore> = Arc::new(MemoryEnrolmentStore::new());
        Pair {
            a: Arc::clone(&store),
            b: store,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_enrolment_store() {
    conformance::enrolment_store(&|| {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: Arc::new(FileEnrolmentStore::open(dir.path()).unwrap()),
            b: Arc::new(FileEnrolmentStore::open(dir.path()).unwrap()),
            guard: Box::new(dir),
        }
    });
}

#[test]
fn memory_credential_store() {
    conformance::credential_store(&|| {
        let store: Arc<dyn CredentialStore> = Arc::new(MemoryCredentialStore::new());
        Pair {
            a: Arc::clone(&store),
            b: store,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_credential_store() {
    conformance::credential_store(&|| {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: Arc::new(FileCredentialStore::open(dir.path()).unwrap()),
            b: Arc::new(FileCredentialStore::open(dir.path()).unwrap()),
            guard: Box::new(dir),
        }
    });
}

#[test]
fn memory_audit_sink() {
    conformance::audit_sink(&|| {
        let sink: Arc<dyn AuditSink> = Arc::new(MemoryAuditSink::new());
        Pair {
            a: Arc::clone(&sink),
            b: sink,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_audit_sink() {
    for durability in [Durability::Fsync, Durability::NoSync] {
        conformance::audit_sink(&|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("audit.log");
            Pair {
                a: Arc::new(FileAuditSink::open(&path, durability).unwrap()),
                b: Arc::new(FileAuditSink::open(&path, durability).unwrap()),
                guard: Box::new(dir),
            }
        });
    }
}

/// Stores that hold sealed factors print how many, never what.
#[test]
fn memory_stores_keep_their_contents_out_of_debug() {
    let enrolments = MemoryEnrolmentStore::new();
    assert_eq!(
        enrolments.insert("cred", b"sealed-verifier-bytes").unwrap(),
        crate::Inserted::Stored
    );
    let credentials = MemoryCredentialStore::new();
    let stored = crate::StoredCredential {
        id: "cred".into(),
        signer: "alice".into(),
        record: b"{\"pin\":\"sealed-verifier-bytes\"}".to_vec(),
    };
    assert_eq!(
        credentials.create(&stored).unwrap(),
        crate::Inserted::Stored
    );
    for debug in [
        format!("{enrolments:?}"),
        format!("{credentials:?}"),
        format!("{stored:?}"),
    ] {
        assert!(!debug.contains("sealed"), "{debug}");
        // The bytes as numbers, as a derived Debug prints a Vec<u8>.
        assert!(!debug.contains("115, 101, 97"), "{debug}");
    }
    assert_eq!(
        format!("{enrolments:?}"),
        "MemoryEnrolmentStore { enrolments: 1 }"
    );
}

#[test]
fn memory_bearer_token_store() {
    conformance::bearer_token_store(&|| {
        let store: Arc<dyn BearerTokenStore> = Arc::new(MemoryBearerTokenStore::new());
        Pair {
            a: Arc::clone(&store),
            b: store,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_bearer_token_store() {
    conformance::bearer_token_store(&|| {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: Arc::new(FileBearerTokenStore::open(dir.path()).unwrap()),
            b: Arc::new(FileBearerTokenStore::open(dir.path()).unwrap()),
            guard: Box::new(dir),
        }
    });
}

#[test]
fn memory_grant_store() {
    conformance::grant_store(&|| {
        let store: Arc<dyn GrantStore> = Arc::new(MemoryGrantStore::new());
        Pair {
            a: Arc::clone(&store),
            b: store,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_grant_store() {
    conformance::grant_store(&|| {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: Arc::new(FileGrantStore::open(dir.path()).unwrap()),
            b: Arc::new(FileGrantStore::open(dir.path()).unwrap()),
            guard: Box::new(dir),
        }
    });
}

#[test]
fn memory_account_store() {
    conformance::account_store(&|| {
        let store: Arc<dyn AccountStore> = Arc::new(MemoryAccountStore::new());
        Pair {
            a: Arc::clone(&store),
            b: store,
            guard: Box::new(()),
        }
    });
}

#[test]
fn file_account_store() {
    conformance::account_store(&|| {
        let dir = tempfile::tempdir().unwrap();
        Pair {
            a: Arc::new(FileAccountStore::open(dir.path()).unwrap()),
            b: Arc::new(FileAccountStore::open(dir.path()).unwrap()),
            guard: Box::new(dir),
        }
    });
}
