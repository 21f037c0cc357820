//! Errors of the audit log.

use crate::verify::Problem;

/// Why the log could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The log's chain is broken (anything but a torn last record).
    #[error("the audit log is broken: {problem:?}")]
    Broken {
        /// The first problem found.
        problem: Problem,
    },
    /// A record could not be encoded.
    #[error("audit record encoding failed: {reason}")]
    Encoding {
        /// Why.
        reason: String,
    },
    /// The checkpoint signer failed.
    #[error("checkpoint signing failed: {reason}")]
    Checkpoint {
        /// Why.
        reason: String,
    },
    /// The log stopped after a write or sync of its sink failed, and
    /// appends nothing until [`crate::AuditLog::recover`] (or a reopen).
    #[error("the audit log stopped after a failure ({reason}); recover it")]
    Stopped {
        /// The failure.
        reason: String,
    },
    /// The sink failed (a file's I/O, a database's error as the source).
    #[error("audit sink: {0}")]
    Sink(#[from] ssa_store::StoreError),
}
