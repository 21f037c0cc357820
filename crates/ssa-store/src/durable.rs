//! Durable-file helpers for file backends (this crate's and others').

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{StoreError, io};

/// Replaces `path` with `bytes` atomically: temporary file, fsync, rename,
/// fsync of the directory. A crash leaves the old or the new file, whole.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // A short name of its own: the target's name may already be near the
    // file-name limit.
    let temp = dir.join(format!(".{}.tmp", unique_suffix()?));
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

/// Opens (creating it if needed) the file at `path` that a backend takes
/// an exclusive `flock` on around its read-modify-writes. The lock belongs
/// to the open file description: threads sharing one must also share a
/// mutex.
pub fn lock_file(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io("open lock file", path))
}

/// fsyncs a directory, so a rename or unlink in it is durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync directory", dir))
}

/// 16 random hex digits, for temporary names no other process picks.
pub fn unique_suffix() -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).map_err(|_| {
        StoreError::Backend {
            what: "random name",
            source: "the system random source failed".into(),
        }
    })?;
    Ok(hex(&bytes))
}

/// Lower-case hex: how file backends turn a key into a file name.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Lower-case (or upper-case) hex back to bytes; `None` if it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The longest key a file backend takes: its hex name, an extension and a
/// temporary suffix stay within the usual 255-byte file-name limit.
pub const MAX_KEY_LEN: usize = 120;

/// A store key as a file name: 1 to [`MAX_KEY_LEN`] bytes, in hex.
pub fn file_name(key: &str, extension: &str) -> Result<String, StoreError> {
    if key.is_empty() {
        return Err(StoreError::InvalidKey { reason: "empty" });
    }
    if key.len() > MAX_KEY_LEN {
        return Err(StoreError::InvalidKey {
            reason: "longer than 120 bytes",
        });
    }
    Ok(format!("{}.{extension}", hex(key.as_bytes())))
}
