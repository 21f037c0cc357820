//! Errors of the audit log.

use std::path::PathBuf;

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
    /// Another sink's backend (a database) failed.
    #[error("{what} failed in the audit sink's backend")]
    Backend {
        /// What the sink was doing.
        what: &'static str,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading, writing or fsyncing the log failed.
    #[error("{what} failed on {path}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}
