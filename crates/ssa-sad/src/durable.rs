//! Small durable-file helpers for the file-backed stores.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::SadError;
use crate::seal::random;

pub(crate) fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SadError {
    let path = path.to_path_buf();
    move |source| SadError::Io { what, path, source }
}

/// Replaces `path` with `bytes` atomically: temporary file, fsync, rename,
/// fsync of the directory. A crash leaves the old or the new file, whole.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SadError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut nonce = [0u8; 8];
    random(&mut nonce)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let temp = dir.join(format!(
        ".{name}.{}.tmp",
        crate::encoding::b64_encode(&nonce)
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io("write temporary file", &temp)(e));
    }
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(io("rename", path)(e));
    }
    sync_dir(dir)
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), SadError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync directory", dir))
}

/// A short checksum of a journal line (the first 8 bytes of SHA-256, hex).
pub(crate) fn checksum(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
