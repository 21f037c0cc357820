//! Every store a signing service (or a server on it) keeps its state in,
//! as one value: opened in files of one directory here, or in a database
//! by a backend crate (`ssa_store_postgres::Database::stores`).

use std::path::Path;
use std::sync::Arc;

use crate::{
    AccountStore, AuditSink, BearerTokenStore, ChallengeStore, ConsumptionLedger, CredentialStore,
    Durability, FileAccountStore, FileAuditSink, FileBearerTokenStore, FileChallengeStore,
    FileCredentialStore, FileGrantStore, FileLedger, FileLockoutStore, GrantStore, LockoutStore,
    StoreError, io,
};

/// Every store, opened together.
#[derive(Clone, Debug)]
pub struct Stores {
    /// The SAM's consumption ledger.
    pub ledger: Arc<dyn ConsumptionLedger>,
    /// Failure counters, locks and spent TOTP steps.
    pub lockout: Arc<dyn LockoutStore>,
    /// Device challenges waiting for their answer.
    pub challenges: Arc<dyn ChallengeStore>,
    /// The credential registry's records (with their sealed factors).
    pub credentials: Arc<dyn CredentialStore>,
    /// The audit log's records.
    pub audit: Arc<dyn AuditSink>,
    /// A server's accounts (password verifiers).
    pub accounts: Arc<dyn AccountStore>,
    /// A server's bearer sessions.
    pub bearer_tokens: Arc<dyn BearerTokenStore>,
    /// A server's OAuth2 grants: consent-page sessions, codes, tokens.
    pub grants: Arc<dyn GrantStore>,
}

impl Stores {
    /// The file stores in `dir` (made on first use): `ledger.journal`,
    /// `lockout/`, `challenges/`, `registry/`, `audit.log` (with
    /// `durability`), `accounts/`, `tokens/`, `grants/`. Processes on one machine may
    /// share the directory. `now` (seconds since the Unix epoch, less the
    /// SAM's clock skew): the file ledger may drop SADs expired before it.
    pub fn files(dir: &Path, now: u64, durability: Durability) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        Ok(Self {
            ledger: Arc::new(FileLedger::open(dir.join("ledger.journal"), now)?),
            lockout: Arc::new(FileLockoutStore::open(dir.join("lockout"))?),
            challenges: Arc::new(FileChallengeStore::open(dir.join("challenges"))?),
            credentials: Arc::new(FileCredentialStore::open(dir.join("registry"))?),
            audit: Arc::new(FileAuditSink::open(dir.join("audit.log"), durability)?),
            accounts: Arc::new(FileAccountStore::open(dir.join("accounts"))?),
            bearer_tokens: Arc::new(FileBearerTokenStore::open(dir.join("tokens"))?),
            grants: Arc::new(FileGrantStore::open(dir.join("grants"))?),
        })
    }
}
