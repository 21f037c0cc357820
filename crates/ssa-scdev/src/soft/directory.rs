//! A key store that is one directory on disk, one file per key.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::{KeyId, ScdevError};

use super::KeyStore;

const SUFFIX: &str = ".key";

/// One directory on disk, one file `<hex key id>.key` per sealed record.
///
/// A record is written to a temporary file, fsynced, then linked to its
/// final name and the directory fsynced: a crash leaves either no record or
/// the whole record, never half of one. `link(2)` is used where a plain
/// `rename(2)` would be: it is just as atomic, but it fails instead of
/// replacing a record that another writer created under the same id.
///
/// ```
/// use ssa_scdev::soft::{DirectoryKeyStore, SoftScdev};
/// use ssa_scdev::{KeyAlgorithm, KeyEncryptionKey, KeyId, KeySpec, Scdev};
///
/// let dir = tempfile::tempdir()?;
/// let store = DirectoryKeyStore::open(dir.path())?;
/// let scdev = SoftScdev::new(store, KeyEncryptionKey::generate()?);
/// let id = KeyId::new(b"k1".to_vec())?;
/// scdev.generate_key(&id, "first key", KeySpec::new(KeyAlgorithm::EcP256))?;
/// assert!(dir.path().join(format!("{}.key", id.to_hex())).exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DirectoryKeyStore {
    dir: PathBuf,
}

/// An I/O failure of a [`DirectoryKeyStore`], with the path it concerned.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct DirectoryStoreError {
    /// The file or directory.
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: io::Error,
}

fn store_error(operation: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ScdevError {
    let path = path.to_path_buf();
    move |source| ScdevError::Store {
        operation,
        source: Box::new(DirectoryStoreError { path, source }),
    }
}

impl DirectoryKeyStore {
    /// Opens (creating it if needed, owner-only) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, ScdevError> {
        let dir = dir.as_ref().to_path_buf();
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(store_error("create directory", &dir))?;
        Ok(Self { dir })
    }

    /// The directory of this store.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, id: &KeyId) -> PathBuf {
        self.dir.join(format!("{}{SUFFIX}", id.to_hex()))
    }

    fn sync_dir(&self) -> Result<(), ScdevError> {
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(store_error("fsync directory", &self.dir))
    }

    fn write_temp(&self, id: &KeyId, record: &[u8]) -> Result<PathBuf, ScdevError> {
        let mut nonce = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce).map_err(
            |_| ScdevError::Crypto {
                operation: "random temporary name",
            },
        )?;
        let temp = self.dir.join(format!(
            ".{}.{}.tmp",
            id.to_hex(),
            crate::hex::encode(&nonce)
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temp).and_then(|mut file| {
            file.write_all(record)?;
            file.sync_all()
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(store_error("write temporary record", &temp)(e));
        }
        Ok(temp)
    }
}

impl KeyStore for DirectoryKeyStore {
    fn create(&self, id: &KeyId, record: &[u8]) -> Result<bool, ScdevError> {
        let path = self.record_path(id);
        let temp = self.write_temp(id, record)?;
        let linked = fs::hard_link(&temp, &path);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                self.sync_dir()?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(store_error("link record", &path)(e)),
        }
    }

    fn load(&self, id: &KeyId) -> Result<Option<Vec<u8>>, ScdevError> {
        let path = self.record_path(id);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(store_error("read record", &path)(e)),
        }
    }

    fn ids(&self) -> Result<Vec<KeyId>, ScdevError> {
        let mut ids = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(store_error("list", &self.dir))?;
        for entry in entries {
            let entry = entry.map_err(store_error("list", &self.dir))?;
            let name = entry.file_name();
            let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(SUFFIX)) else {
                continue;
            };
            // Temporary files start with '.', which is not hex: skipped here.
            if let Some(id) = crate::hex::decode(hex).and_then(|b| KeyId::new(b).ok()) {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn remove(&self, id: &KeyId) -> Result<bool, ScdevError> {
        let path = self.record_path(id);
        match fs::remove_file(&path) {
            Ok(()) => {
                self.sync_dir()?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(store_error("remove record", &path)(e)),
        }
    }
}
