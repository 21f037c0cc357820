//! Small helpers for the file-backed ledger. Atomic replacement is the
//! store crate's ([`ssa_store::durable`]).

use std::path::Path;

use crate::error::SadError;

pub(crate) fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SadError {
    let path = path.to_path_buf();
    move |source| SadError::Io { what, path, source }
}

/// Replaces `path` with `bytes` atomically (see [`ssa_store::durable::write_atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SadError> {
    Ok(ssa_store::durable::write_atomic(path, bytes)?)
}

/// A short checksum of a journal line (the first 8 bytes of SHA-256, hex).
pub(crate) fn checksum(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    ssa_store::durable::hex(&digest.as_ref()[..8])
}
