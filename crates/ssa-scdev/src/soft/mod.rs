//! The soft SCDev: keys generated in process by ring, held only sealed
//! (AES-256-GCM under a key-encryption key the embedder supplies), opened for
//! the length of one signature, or of one batch ([`Scdev::sign_many`]).
//!
//! What it can do, and why not more:
//! - **Generate** EC P-256, EC P-384 and Ed25519 keys. ring cannot generate
//!   RSA keys, so RSA keys come in only as a wrapped import
//!   ([`SoftScdev::seal_for_import`], then [`Scdev::import_wrapped`]).
//! - **Sign a message** with every algorithm of [`SignatureAlgorithm::ALL`]
//!   that fits the key.
//! - **Sign a prehashed digest** with ECDSA only (through RustCrypto
//!   `p256`/`p384`); RSA and Ed25519 over a digest are refused with
//!   [`ScdevError::DigestSigningUnsupported`]. See the `signing` module notes.
//!
//! ring's own key objects do not zeroize their memory when dropped. This
//! backend keeps them alive only inside one `sign` or `sign_many` call
//! (unless the key cache is on) and holds the
//! PKCS#8 bytes in zeroizing buffers; an embedder who needs key material
//! never to be in process memory at all wants the PKCS#11 backend.
//!
//! ```
//! use ssa_scdev::soft::SoftScdev;
//! use ssa_scdev::{HashAlgorithm, KeyAlgorithm, KeyEncryptionKey, KeyId, KeySpec, Scdev,
//!                 SignInput, SignatureAlgorithm};
//!
//! let scdev = SoftScdev::in_memory(KeyEncryptionKey::generate()?);
//! let id = KeyId::new(b"alice".to_vec())?;
//! let info = scdev.generate_key(&id, "Alice's signing key", KeySpec::new(KeyAlgorithm::EcP256))?;
//! let digest = HashAlgorithm::Sha256.digest(b"signed attributes");
//! let signature = scdev.sign(
//!     &id,
//!     SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
//!     SignInput::Digest { hash: HashAlgorithm::Sha256, value: &digest },
//! )?;
//! let point = ssa_scdev::PublicKey::from_spki_der(&info.public_key).map(|k| k.key).unwrap_or_default();
//! ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, point)
//!     .verify(b"signed attributes", &signature)
//!     .map_err(|_| "signature does not verify")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod directory;
mod record;
mod seal;
mod signing;
mod store;

use core::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

pub use directory::{DirectoryKeyStore, DirectoryStoreError};
pub use store::{KeyStore, MemoryKeyStore};

use crate::key::check_label;
use crate::{
    BackupKey, Capabilities, HashAlgorithm, KeyAlgorithm, KeyEncryptionKey, KeyId, KeyInfo,
    KeySpec, PssSalt, PublicKey, Scdev, ScdevError, SignInput, SignatureAlgorithm, WrapMethod,
    WrappedKey,
};

const BACKUP_PURPOSE: &[u8] = b"ssa-scdev backup key";

/// The soft SCDev. See the [module documentation](self).
pub struct SoftScdev {
    store: Arc<dyn KeyStore>,
    kek: KeyEncryptionKey,
    backup_key: Option<BackupKey>,
    cache: Option<KeyCache>,
}

type KeyCache = std::sync::RwLock<std::collections::HashMap<KeyId, Arc<signing::OpenedKey>>>;

impl fmt::Debug for SoftScdev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftScdev")
            .field("store", &self.store)
            .field("kek", &self.kek)
            .field("backup_key", &self.backup_key)
            .field("key_cache", &self.cache.is_some())
            .finish()
    }
}

impl SoftScdev {
    /// A soft SCDev over `store`, sealing keys under `kek`.
    pub fn new(store: impl KeyStore + 'static, kek: KeyEncryptionKey) -> Self {
        Self {
            store: Arc::new(store),
            kek,
            backup_key: None,
            cache: None,
        }
    }

    /// The same SCDev, keeping each key open after its first signature
    /// instead of unsealing and parsing it for every one (29 µs per P-256
    /// signature becomes ring's own cost). The trade-off: opened keys stay in
    /// process memory, in ring objects that do not zeroize, until the key is
    /// destroyed or the SCDev dropped. Use it only where that is acceptable,
    /// and only when no other process changes the store (a key destroyed
    /// elsewhere would stay usable here until this SCDev is dropped).
    pub fn with_key_cache(mut self) -> Self {
        self.cache = Some(std::sync::RwLock::new(std::collections::HashMap::new()));
        self
    }

    /// A soft SCDev whose sealed keys live in memory only.
    pub fn in_memory(kek: KeyEncryptionKey) -> Self {
        Self::new(MemoryKeyStore::new(), kek)
    }

    /// The same SCDev, able to export and import backups under `backup_key`.
    pub fn with_backup_key(mut self, backup_key: BackupKey) -> Self {
        self.backup_key = Some(backup_key);
        self
    }

    /// Seals an existing PKCS#8 private key (RSA, or any other supported
    /// algorithm) as a backup under `backup_key`, ready for
    /// [`Scdev::import_wrapped`]. This is the only way a key made outside
    /// (ring cannot generate RSA keys) comes into a soft SCDev; the
    /// plaintext goes in, and nothing ever comes out.
    pub fn seal_for_import(
        backup_key: &BackupKey,
        id: &KeyId,
        label: &str,
        spec: KeySpec,
        pkcs8: Zeroizing<Vec<u8>>,
    ) -> Result<WrappedKey, ScdevError> {
        check_label(label)?;
        let public = signing::public_key(spec.algorithm, &pkcs8)?;
        let info = info_for(id, label, spec, public)?;
        seal_backup(backup_key, info, &pkcs8)
    }

    /// The opened key `id` from the cache, opened and cached if absent.
    fn cached(&self, cache: &KeyCache, id: &KeyId) -> Result<Arc<signing::OpenedKey>, ScdevError> {
        let cached = cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned();
        if let Some(opened) = cached {
            return Ok(opened);
        }
        let (info, pkcs8) = self.open(id)?;
        let opened = Arc::new(signing::OpenedKey::open(info, pkcs8)?);
        cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), Arc::clone(&opened));
        Ok(opened)
    }

    fn open(&self, id: &KeyId) -> Result<(KeyInfo, Zeroizing<Vec<u8>>), ScdevError> {
        let record = self
            .store
            .load(id)?
            .ok_or_else(|| ScdevError::UnknownKey { key_id: id.clone() })?;
        record::open(&self.kek.0, id, &record)
    }

    fn backup_key(&self) -> Result<&BackupKey, ScdevError> {
        self.backup_key.as_ref().ok_or(ScdevError::NoBackupKey)
    }

    fn store_new(&self, info: &KeyInfo, pkcs8: &[u8]) -> Result<(), ScdevError> {
        let sealed = record::seal(&self.kek.0, info, pkcs8)?;
        if self.store.create(&info.id, &sealed)? {
            Ok(())
        } else {
            Err(ScdevError::KeyExists {
                key_id: info.id.clone(),
            })
        }
    }
}

fn info_for(
    id: &KeyId,
    label: &str,
    spec: KeySpec,
    raw_public_key: Vec<u8>,
) -> Result<KeyInfo, ScdevError> {
    let public_key = PublicKey {
        algorithm: spec.algorithm,
        key: raw_public_key,
    }
    .to_spki_der()
    .map_err(|_| ScdevError::Crypto {
        operation: "encode public key",
    })?;
    Ok(KeyInfo {
        id: id.clone(),
        label: label.to_owned(),
        algorithm: spec.algorithm,
        backup_allowed: spec.backup_allowed,
        public_key,
    })
}

fn seal_backup(
    backup_key: &BackupKey,
    info: KeyInfo,
    pkcs8: &[u8],
) -> Result<WrappedKey, ScdevError> {
    let wrapped = WrappedKey::new(
        WrapMethod::SoftAes256Gcm,
        backup_key.0.fingerprint(BACKUP_PURPOSE),
        info,
    )?;
    let payload = seal::seal(&backup_key.0, wrapped.header(), pkcs8)?;
    Ok(wrapped.with_payload(payload))
}

impl Scdev for SoftScdev {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            generate: vec![
                KeyAlgorithm::EcP256,
                KeyAlgorithm::EcP384,
                KeyAlgorithm::Ed25519,
            ],
            import: if self.backup_key.is_some() {
                KeyAlgorithm::ALL.to_vec()
            } else {
                Vec::new()
            },
            // ring makes PSS only with a salt as long as the digest.
            sign_message: SignatureAlgorithm::ALL
                .into_iter()
                .filter(|a| !matches!(a, SignatureAlgorithm::RsaPss(_, PssSalt::Maximum)))
                .collect(),
            sign_digest: HashAlgorithm::ALL
                .into_iter()
                .map(SignatureAlgorithm::Ecdsa)
                .collect(),
            backup: self.backup_key.is_some(),
        }
    }

    fn generate_key(&self, id: &KeyId, label: &str, spec: KeySpec) -> Result<KeyInfo, ScdevError> {
        check_label(label)?;
        if self.store.load(id)?.is_some() {
            return Err(ScdevError::KeyExists { key_id: id.clone() });
        }
        let (pkcs8, public) = signing::generate(spec.algorithm)?;
        let info = info_for(id, label, spec, public)?;
        self.store_new(&info, &pkcs8)?;
        Ok(info)
    }

    fn find_key(&self, id: &KeyId) -> Result<Option<KeyInfo>, ScdevError> {
        match self.open(id) {
            Ok((info, _pkcs8)) => Ok(Some(info)),
            Err(ScdevError::UnknownKey { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn list_keys(&self) -> Result<Vec<KeyInfo>, ScdevError> {
        let mut keys = Vec::new();
        for id in self.store.ids()? {
            // A key removed between listing and opening is simply not listed.
            if let Some(info) = self.find_key(&id)? {
                keys.push(info);
            }
        }
        Ok(keys)
    }

    fn sign(
        &self,
        id: &KeyId,
        algorithm: SignatureAlgorithm,
        input: SignInput<'_>,
    ) -> Result<Vec<u8>, ScdevError> {
        // A batch of one: the same checks and the same opened key.
        self.sign_many(id, algorithm, &[input])?
            .pop()
            .ok_or(ScdevError::Crypto {
                operation: "no signature for the input",
            })
    }

    fn sign_many(
        &self,
        id: &KeyId,
        algorithm: SignatureAlgorithm,
        inputs: &[SignInput<'_>],
    ) -> Result<Vec<Vec<u8>>, ScdevError> {
        // Unsealed once for the batch, and (without the cache) dropped, and
        // so zeroized, when the batch is done.
        let opened = match &self.cache {
            Some(cache) => self.cached(cache, id)?,
            None => {
                let (info, pkcs8) = self.open(id)?;
                Arc::new(signing::OpenedKey::open(info, pkcs8)?)
            }
        };
        crate::check_fits(&opened.info, algorithm)?;
        let checked = inputs
            .iter()
            .map(|input| crate::check_input("soft", algorithm, *input))
            .collect::<Result<Vec<_>, _>>()?;
        checked
            .into_iter()
            .map(|input| opened.sign(algorithm, input))
            .collect()
    }

    fn destroy_key(&self, id: &KeyId) -> Result<(), ScdevError> {
        if let Some(cache) = &self.cache {
            cache
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(id);
        }
        if self.store.remove(id)? {
            Ok(())
        } else {
            Err(ScdevError::UnknownKey { key_id: id.clone() })
        }
    }

    fn export_wrapped(&self, id: &KeyId) -> Result<WrappedKey, ScdevError> {
        let backup_key = self.backup_key()?;
        let (info, pkcs8) = self.open(id)?;
        if !info.backup_allowed {
            return Err(ScdevError::NotExtractable { key_id: id.clone() });
        }
        seal_backup(backup_key, info, &pkcs8)
    }

    fn import_wrapped(&self, id: &KeyId, backup: &WrappedKey) -> Result<KeyInfo, ScdevError> {
        let backup_key = self.backup_key()?;
        backup.check_destination(WrapMethod::SoftAes256Gcm, id)?;
        let pkcs8 =
            seal::open(&backup_key.0, backup.header(), backup.payload()).ok_or_else(|| {
                if backup.wrapping_key() == backup_key.0.fingerprint(BACKUP_PURPOSE) {
                    ScdevError::BackupIntegrity { source: None }
                } else {
                    ScdevError::WrongBackupKey
                }
            })?;
        let info = backup.key_info().clone();
        let public = signing::public_key(info.algorithm, &pkcs8)?;
        if PublicKey::from_spki_der(&info.public_key).map(|k| k.key) != Some(public) {
            return Err(ScdevError::BackupPublicKeyMismatch);
        }
        self.store_new(&info, &pkcs8)?;
        Ok(info)
    }
}
