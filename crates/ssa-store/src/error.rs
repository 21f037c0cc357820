//! What a store answers when it cannot do its job. Domain refusals (a spent
//! SAD, a locked credential) are not store errors: they belong to the
//! crates that judge them.

use std::path::PathBuf;

/// Why a store could not read or write. A backend's own error rides along
/// as the source ([`StoreError::Backend`]), so a database's code is never
/// lost.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Stored data does not parse: the store is damaged, not the request.
    #[error("stored {what} is corrupt")]
    Corrupt {
        /// What.
        what: &'static str,
    },
    /// A file operation failed.
    #[error("{what} failed on {path}")]
    Io {
        /// What the store was doing.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A key the store cannot hold (empty, too long for a file name, …).
    #[error("key refused by the store: {reason}")]
    InvalidKey {
        /// Why.
        reason: &'static str,
    },
    /// A value the store cannot hold as it is (an audit record with a line
    /// break, …).
    #[error("value refused by the store: {reason}")]
    InvalidValue {
        /// Why.
        reason: &'static str,
    },
    /// The store stopped after a write or sync failed, and refuses writes
    /// until it is recovered (for an audit sink: [`crate::AuditSink::cut`]
    /// what was never confirmed).
    #[error("the store stopped after a failure: {reason}")]
    Stopped {
        /// The failure it stopped on.
        reason: String,
    },
    /// Another backend (a database, a network store) failed.
    #[error("{what} failed in the store backend")]
    Backend {
        /// What the store was doing.
        what: &'static str,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// `StoreError::Io` for `what` on `path`, as a `map_err` argument.
pub fn io(what: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { what, path, source }
}
