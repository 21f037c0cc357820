#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod algorithm;
mod backup;
mod error;
mod hex;
mod key;
mod key_header;
pub mod pkcs11;
mod public_key;
mod secret;
mod signature_encoding;
pub mod soft;

use core::fmt;

pub use algorithm::{Capabilities, KeySpec, SignInput};
pub use backup::{WrapMethod, WrappedKey};
pub use error::ScdevError;
pub use key::{KeyId, KeyInfo};
pub use secret::{BackupKey, KeyEncryptionKey};
/// The algorithms, public keys and PINs are the shared vocabulary, re-exported.
pub use ssa_types::{HashAlgorithm, KeyAlgorithm, Pin, PssSalt, PublicKey, SignatureAlgorithm};

/// A signature creation device: what holds signing keys and computes raw
/// signatures. The facade talks only to `dyn Scdev`; the soft store and
/// PKCS#11 are two implementations, and another (a cloud KMS, a network HSM)
/// fits without touching the core.
///
/// Every method takes untrusted input and answers a typed [`ScdevError`];
/// a refused call changes nothing.
pub trait Scdev: Send + Sync + fmt::Debug {
    /// What this SCDev can generate, sign and back up.
    fn capabilities(&self) -> Capabilities;

    /// Generates a key inside the SCDev under the caller-chosen `id` and
    /// `label`. Refuses an id that exists already.
    fn generate_key(&self, id: &KeyId, label: &str, spec: KeySpec) -> Result<KeyInfo, ScdevError>;

    /// Describes the key `id`, or `None` if there is none.
    fn find_key(&self, id: &KeyId) -> Result<Option<KeyInfo>, ScdevError>;

    /// Describes every key.
    fn list_keys(&self) -> Result<Vec<KeyInfo>, ScdevError>;

    /// The public key of `id` as DER `SubjectPublicKeyInfo`.
    fn public_key(&self, id: &KeyId) -> Result<Vec<u8>, ScdevError> {
        self.find_key(id)?
            .map(|info| info.public_key)
            .ok_or_else(|| ScdevError::UnknownKey { key_id: id.clone() })
    }

    /// Signs `input` with the key `id`. ECDSA signatures come as DER
    /// `Ecdsa-Sig-Value`, RSA and Ed25519 as the raw signature value: the
    /// encodings CMS carries in `SignerInfo.signature`.
    fn sign(
        &self,
        id: &KeyId,
        algorithm: SignatureAlgorithm,
        input: SignInput<'_>,
    ) -> Result<Vec<u8>, ScdevError>;

    /// Signs every input with the key `id`, in order: the digests one
    /// activation authorizes. A backend looks the key up (unseals it, finds
    /// its handle) once for the whole batch. All or nothing: every input is
    /// checked before the first signature, and on any error no signature
    /// comes back.
    fn sign_many(
        &self,
        id: &KeyId,
        algorithm: SignatureAlgorithm,
        inputs: &[SignInput<'_>],
    ) -> Result<Vec<Vec<u8>>, ScdevError> {
        inputs
            .iter()
            .map(|input| self.sign(id, algorithm, *input))
            .collect()
    }

    /// Destroys the key `id` for good.
    fn destroy_key(&self, id: &KeyId) -> Result<(), ScdevError>;

    /// Exports the key `id` wrapped under the backup key. Only keys generated
    /// with [`KeySpec::with_backup`] can be exported; there is no plaintext export.
    fn export_wrapped(&self, id: &KeyId) -> Result<WrappedKey, ScdevError>;

    /// Imports a backup back under `id`, which must be the id it was made for.
    fn import_wrapped(&self, id: &KeyId, backup: &WrappedKey) -> Result<KeyInfo, ScdevError>;
}

/// What to sign, once the input has been checked against the algorithm.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Checked<'a> {
    /// A whole message (Ed25519, or a backend that hashes itself).
    Message(&'a [u8]),
    /// A digest of the algorithm's hash, of the right length.
    Digest(&'a [u8]),
}

/// Checks that `input` fits `algorithm`: a digest must be of the algorithm's
/// hash and of that hash's length.
pub(crate) fn check_input<'a>(
    backend: &'static str,
    algorithm: SignatureAlgorithm,
    input: SignInput<'a>,
) -> Result<Checked<'a>, ScdevError> {
    match input {
        SignInput::Message(message) => Ok(Checked::Message(message)),
        SignInput::Digest { hash, value } => {
            if algorithm.hash().is_none() {
                return Err(ScdevError::DigestSigningUnsupported { backend, algorithm });
            }
            if algorithm.hash() != Some(hash) {
                return Err(ScdevError::DigestAlgorithmMismatch {
                    algorithm,
                    expected: algorithm.hash(),
                    given: hash,
                });
            }
            if value.len() != hash.digest_len() {
                return Err(ScdevError::DigestLength {
                    hash,
                    expected: hash.digest_len(),
                    actual: value.len(),
                });
            }
            Ok(Checked::Digest(value))
        }
    }
}

/// Refuses a signature algorithm that the key cannot make.
pub(crate) fn check_fits(info: &KeyInfo, algorithm: SignatureAlgorithm) -> Result<(), ScdevError> {
    if algorithm.fits(info.algorithm) {
        Ok(())
    } else {
        Err(ScdevError::AlgorithmNotAllowed {
            key_id: info.id.clone(),
            key: info.algorithm,
            requested: algorithm,
        })
    }
}
