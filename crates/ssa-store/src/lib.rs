#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod account;
mod audit;
mod bearer;
mod challenge;
mod credential;
pub mod durable;
mod enrolment;
mod error;
mod grant;
mod ledger;
mod ledger_file;
mod lockout;
mod stores;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

/// Every suite against this crate's own backends (in the unit tests, so
/// the README's `cargo test --workspace` runs them without a feature).
#[cfg(test)]
mod backends;

/// A mutex's guard; a poisoned mutex is used as it is (every store keeps
/// its state consistent before anything can panic).
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub use account::{AccountStore, FileAccountStore, MemoryAccountStore};
pub use audit::{Appended, AuditSink, Cut, Durability, FileAuditSink, MemoryAuditSink};
pub use bearer::{BearerSession, BearerTokenStore, FileBearerTokenStore, MemoryBearerTokenStore};
pub use challenge::{ChallengeStore, FileChallengeStore, MemoryChallengeStore, PendingChallenge};
pub use credential::{
    CredentialStore, FileCredentialStore, MAX_ID_LEN, MemoryCredentialStore, RecordChange,
    StoredCredential,
};
pub use enrolment::{EnrolmentStore, FileEnrolmentStore, Inserted, MemoryEnrolmentStore};
pub use error::{StoreError, io};
pub use grant::{FileGrantStore, Grant, GrantStore, MemoryGrantStore};
pub use ledger::{
    ConsumptionLedger, Forgotten, LedgerError, MemoryLedger, Reservation, UseRequest,
};
pub use ledger_file::FileLedger;
pub use lockout::{AuthState, FileLockoutStore, LockoutStore, MemoryLockoutStore, StateChange};
pub use stores::Stores;
