//! Every store a signing service (or a server on it) keeps its state in,
//! opened together: in files of one directory (one node, the default), or
//! in one PostgreSQL database that several nodes share.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ssa::audit::{AuditLog, AuditOptions};
//! use ssa::sad::{SadVerifier, SamConfig};
//! use ssa::stores::{StoreLocation, Stores};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let scdev: Arc<dyn ssa::Scdev> = unimplemented!();
//! let location = StoreLocation::from_url_or_dir(
//!     Some("postgres://ssa@/ssa?host=/run/postgresql"),
//!     "/var/lib/ssa",
//! );
//! let now = 1_700_000_000;
//! let stores = Stores::open(&location, now)?;
//! let sam = SadVerifier::new(SamConfig::new("sam"), Arc::clone(&stores.ledger));
//! let audit = Arc::new(AuditLog::over(Arc::clone(&stores.audit), AuditOptions::default())?);
//! let service =
//!     ssa::SigningServiceBuilder::new(scdev, sam, Arc::clone(&stores.credentials), audit)
//!         .build()?;
//! # let _ = service;
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ssa_store::{
    AccountStore, AuditSink, BearerTokenStore, ChallengeStore, ConsumptionLedger, CredentialStore,
    Durability, FileAccountStore, FileAuditSink, FileBearerTokenStore, FileChallengeStore,
    FileCredentialStore, FileLedger, FileLockoutStore, LockoutStore, StoreError,
};
use ssa_store_postgres::{
    Database, OpenError, PgAccountStore, PgAuditSink, PgBearerTokenStore, PgChallengeStore,
    PgCredentialStore, PgLedger, PgLockoutStore,
};

/// Where the stores live.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// Files in one directory: `lockout/`, `challenges/`, `ledger.journal`,
    /// `registry/`, `audit.log`, `accounts/`, `tokens/`. Processes on one
    /// machine may share it; nodes on several machines may not.
    Files(PathBuf),
    /// A PostgreSQL database (`postgres://…`), shared by every node.
    Database(String),
}

impl core::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Files(dir) => f.debug_tuple("Files").field(dir).finish(),
            // A URL may carry a password.
            Self::Database(_) => f.write_str("Database(..)"),
        }
    }
}

impl StoreLocation {
    /// The database at `url` if there is one, else files in `dir`.
    pub fn from_url_or_dir(url: Option<&str>, dir: impl Into<PathBuf>) -> Self {
        match url {
            Some(url) => Self::Database(url.to_owned()),
            None => Self::Files(dir.into()),
        }
    }
}

/// Why the stores could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoresError {
    /// A file store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database could not be used (unreachable, a newer schema, a
    /// failed migration).
    #[error(transparent)]
    Database(#[from] OpenError),
}

/// Every store, opened at one [`StoreLocation`].
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
    /// The database, when the stores are in one.
    pub database: Option<Database>,
}

impl Stores {
    /// Opens (making on first use) every store at `location`. `now`
    /// (seconds since the Unix epoch, less the SAM's clock skew) is when
    /// the file ledger may drop SADs that expired before.
    pub fn open(location: &StoreLocation, now: u64) -> Result<Self, StoresError> {
        match location {
            StoreLocation::Files(dir) => Self::files(dir, now, Durability::Fsync),
            StoreLocation::Database(url) => Ok(Self::database(Database::connect(url)?)),
        }
    }

    /// The file stores in `dir`, the audit log's with `durability`.
    pub fn files(dir: &Path, now: u64, durability: Durability) -> Result<Self, StoresError> {
        std::fs::create_dir_all(dir).map_err(ssa_store::io("create directory", dir))?;
        Ok(Self {
            ledger: Arc::new(FileLedger::open(dir.join("ledger.journal"), now)?),
            lockout: Arc::new(FileLockoutStore::open(dir.join("lockout"))?),
            challenges: Arc::new(FileChallengeStore::open(dir.join("challenges"))?),
            credentials: Arc::new(FileCredentialStore::open(dir.join("registry"))?),
            audit: Arc::new(FileAuditSink::open(dir.join("audit.log"), durability)?),
            accounts: Arc::new(FileAccountStore::open(dir.join("accounts"))?),
            bearer_tokens: Arc::new(FileBearerTokenStore::open(dir.join("tokens"))?),
            database: None,
        })
    }

    /// Every store in `db` (connected and migrated by
    /// [`Database::connect`]).
    pub fn database(db: Database) -> Self {
        Self {
            ledger: Arc::new(PgLedger::new(db.clone())),
            lockout: Arc::new(PgLockoutStore::new(db.clone())),
            challenges: Arc::new(PgChallengeStore::new(db.clone())),
            credentials: Arc::new(PgCredentialStore::new(db.clone())),
            audit: Arc::new(PgAuditSink::new(db.clone())),
            accounts: Arc::new(PgAccountStore::new(db.clone())),
            bearer_tokens: Arc::new(PgBearerTokenStore::new(db.clone())),
            database: Some(db),
        }
    }
}
