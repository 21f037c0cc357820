//! The PKCS#11 SCDev (cryptoki): keys generated on and never leaving an HSM.
//!
//! - One context per module per process ([`context`]), `CKF_OS_LOCKING_OK`.
//! - The token is found by its label ([`find_slot`]), never by slot number.
//! - The user logs in once, through a long-lived anchor session; a pool of
//!   sessions serves many threads. A session lost to `CKR_SESSION_HANDLE_INVALID`,
//!   `CKR_SESSION_CLOSED`, `CKR_DEVICE_REMOVED` (or a login lost with it,
//!   `CKR_USER_NOT_LOGGED_IN`) is dropped and the operation retried once on
//!   a fresh one.
//! - Keys are generated with `CKA_TOKEN`, `CKA_PRIVATE`, `CKA_SENSITIVE` true,
//!   `CKA_EXTRACTABLE` false unless the [`KeySpec`] asks for backup (then
//!   `CKA_WRAP_WITH_TRUSTED` true), `CKA_SIGN`, and `CKA_ID` = the key id.
//! - Signing: a digest (computed here for message input) is signed with
//!   `CKM_ECDSA` (the token's `r || s` is turned into DER), `CKM_RSA_PKCS`
//!   (with the `DigestInfo` prefix added here) or `CKM_RSA_PKCS_PSS`;
//!   Ed25519 signs the message with `CKM_EDDSA`. Hashing here rather than on
//!   the token means one code path for message and digest input, and works
//!   on tokens without `CKM_ECDSA_SHA256` (SoftHSM2 2.6).
//! - Backup: `C_WrapKey`/`C_UnwrapKey` with `CKM_AES_KEY_WRAP_PAD` under an
//!   AES key on the token marked `CKA_TRUSTED` ([`provision_backup_key`]).
//!
//! Every error keeps the module's `CKR_*` code ([`ScdevError::ckr`]).

mod context;
mod objects;
mod token;

use core::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

pub use context::{context, find_slot};

use crate::key::check_label;
use crate::signature_encoding::{digest_info_prefix, ecdsa_raw_to_der};
use crate::{
    Capabilities, Checked, HashAlgorithm, KeyAlgorithm, KeyId, KeyInfo, KeySpec, Pin, PublicKey,
    Scdev, ScdevError, SignInput, SignatureAlgorithm, WrapMethod, WrappedKey,
};
use token::Token;

const BACKEND: &str = "PKCS#11";

/// Where the token is and how to log in to it.
#[derive(Clone, Debug)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (`libsofthsm2.so`, a vendor library).
    pub module: PathBuf,
    /// Label of the token (`CKA_LABEL` of the token info).
    pub token_label: String,
    /// The token's user PIN.
    pub user_pin: Pin,
    /// Label of the trusted AES wrapping key for backups, if backups are used.
    pub backup_key_label: Option<String>,
}

impl Pkcs11Config {
    /// A configuration without backups.
    pub fn new(module: impl Into<PathBuf>, token_label: impl Into<String>, user_pin: Pin) -> Self {
        Self {
            module: module.into(),
            token_label: token_label.into(),
            user_pin,
            backup_key_label: None,
        }
    }

    /// The same configuration, wrapping backups under the trusted key `label`.
    pub fn with_backup_key(mut self, label: impl Into<String>) -> Self {
        self.backup_key_label = Some(label.into());
        self
    }
}

/// The PKCS#11 SCDev. See the [module documentation](self).
pub struct Pkcs11Scdev {
    token: Arc<Token>,
    capabilities: Capabilities,
    backup_key_label: Option<String>,
}

impl fmt::Debug for Pkcs11Scdev {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Scdev")
            .field("token", &self.token.label)
            .field("slot", &self.token.slot().id())
            .field("backup_key_label", &self.backup_key_label)
            .finish_non_exhaustive()
    }
}

/// The PKCS#11 hash and MGF of `hash`; `None` for a hash this backend
/// does not know.
fn hash_mechanism(hash: HashAlgorithm) -> Option<(MechanismType, PkcsMgfType)> {
    match hash {
        HashAlgorithm::Sha256 => Some((MechanismType::SHA256, PkcsMgfType::MGF1_SHA256)),
        HashAlgorithm::Sha384 => Some((MechanismType::SHA384, PkcsMgfType::MGF1_SHA384)),
        HashAlgorithm::Sha512 => Some((MechanismType::SHA512, PkcsMgfType::MGF1_SHA512)),
        _ => None,
    }
}

fn capabilities(mechanisms: &[MechanismType], backup: bool) -> Capabilities {
    let has = |m: MechanismType| mechanisms.contains(&m);
    let mut generate = Vec::new();
    if has(MechanismType::ECC_KEY_PAIR_GEN) {
        generate.extend([KeyAlgorithm::EcP256, KeyAlgorithm::EcP384]);
    }
    if has(MechanismType::ECC_EDWARDS_KEY_PAIR_GEN) {
        generate.push(KeyAlgorithm::Ed25519);
    }
    if has(MechanismType::RSA_PKCS_KEY_PAIR_GEN) {
        generate.extend([
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::Rsa3072,
            KeyAlgorithm::Rsa4096,
        ]);
    }
    let sign_message: Vec<SignatureAlgorithm> = SignatureAlgorithm::ALL
        .into_iter()
        .filter(|alg| {
            has(match alg {
                SignatureAlgorithm::Ecdsa(_) => MechanismType::ECDSA,
                SignatureAlgorithm::Ed25519 => MechanismType::EDDSA,
                SignatureAlgorithm::RsaPkcs1(_) => MechanismType::RSA_PKCS,
                SignatureAlgorithm::RsaPss(..) => MechanismType::RSA_PKCS_PSS,
                // An algorithm this backend does not know is not offered.
                _ => return false,
            })
        })
        .collect();
    let sign_digest = sign_message
        .iter()
        .copied()
        .filter(|alg| alg.hash().is_some())
        .collect();
    let backup = backup && has(MechanismType::AES_KEY_WRAP_PAD);
    Capabilities {
        import: if backup { generate.clone() } else { Vec::new() },
        generate,
        sign_message,
        sign_digest,
        backup,
    }
}

impl Pkcs11Scdev {
    /// Opens the token `config.token_label` and logs in as its user.
    pub fn open(config: &Pkcs11Config) -> Result<Self, ScdevError> {
        let pkcs11 = context(&config.module)?;
        let module = config
            .module
            .canonicalize()
            .unwrap_or_else(|_| config.module.clone());
        let token = Token::open(module, pkcs11, &config.token_label, &config.user_pin)?;
        let mechanisms = token
            .pkcs11
            .get_mechanism_list(token.slot())
            .map_err(ScdevError::pkcs11("C_GetMechanismList"))?;
        Ok(Self {
            capabilities: capabilities(&mechanisms, config.backup_key_label.is_some()),
            token,
            backup_key_label: config.backup_key_label.clone(),
        })
    }

    fn private_key(session: &Session, id: &KeyId) -> Result<ObjectHandle, ScdevError> {
        objects::find(session, ObjectClass::PRIVATE_KEY, id)?
            .ok_or_else(|| ScdevError::UnknownKey { key_id: id.clone() })
    }

    /// The private key of `id` and its algorithm: from the handle cache when
    /// the cached handle still carries this `CKA_ID`, else by searching.
    fn signing_key(
        &self,
        session: &Session,
        id: &KeyId,
    ) -> Result<(ObjectHandle, KeyAlgorithm), ScdevError> {
        let cached = self
            .token
            .handles
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .copied();
        if let Some((handle, algorithm)) = cached {
            let still_ours = session
                .get_attributes(handle, &[cryptoki::object::AttributeType::Id])
                .ok()
                .is_some_and(|attrs| {
                    attrs
                        .iter()
                        .any(|a| matches!(a, Attribute::Id(v) if v.as_slice() == id.as_bytes()))
                });
            if still_ours {
                return Ok((handle, algorithm));
            }
            self.token.forget_handles();
        }
        let handle = Self::private_key(session, id)?;
        let facts = objects::private_key_facts(session, handle)?;
        self.token
            .handles
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.clone(), (handle, facts.algorithm));
        Ok((handle, facts.algorithm))
    }

    fn key_exists(session: &Session, id: &KeyId) -> Result<bool, ScdevError> {
        Ok(
            objects::find(session, ObjectClass::PRIVATE_KEY, id)?.is_some()
                || objects::find(session, ObjectClass::PUBLIC_KEY, id)?.is_some(),
        )
    }

    fn backup_key(&self, session: &Session) -> Result<ObjectHandle, ScdevError> {
        let label = self
            .backup_key_label
            .as_ref()
            .ok_or(ScdevError::NoBackupKey)?;
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
            ])
            .map_err(ScdevError::pkcs11("C_FindObjects"))?;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(ScdevError::NoBackupKey),
            _ => Err(ScdevError::TokenData {
                what: "backup key label (more than one key carries it)",
            }),
        }
    }

    fn backup_fingerprint(&self) -> [u8; 8] {
        let label = self.backup_key_label.as_deref().unwrap_or_default();
        let digest = HashAlgorithm::Sha256.digest(label.as_bytes());
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        out
    }

    fn sign_on(
        &self,
        session: &Session,
        key: ObjectHandle,
        curve: KeyAlgorithm,
        algorithm: SignatureAlgorithm,
        input: Checked<'_>,
    ) -> Result<Vec<u8>, ScdevError> {
        let sign = |mechanism: &Mechanism<'_>, data: &[u8]| {
            session
                .sign(mechanism, key, data)
                .map_err(ScdevError::pkcs11("C_Sign"))
        };
        let digest = |hash: HashAlgorithm| match input {
            Checked::Message(message) => hash.digest(message),
            Checked::Digest(digest) => digest.to_vec(),
        };
        let unsupported = ScdevError::SignatureUnsupported {
            backend: BACKEND,
            algorithm,
        };
        match algorithm {
            SignatureAlgorithm::Ecdsa(hash) => {
                let scalar_len = if curve == KeyAlgorithm::EcP384 {
                    48
                } else {
                    32
                };
                let raw = sign(&Mechanism::Ecdsa, &digest(hash))?;
                ecdsa_raw_to_der(&raw, scalar_len).ok_or(ScdevError::TokenData {
                    what: "ECDSA signature",
                })
            }
            SignatureAlgorithm::Ed25519 => match input {
                Checked::Message(message) => sign(
                    &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                    message,
                ),
                Checked::Digest(_) => Err(ScdevError::DigestSigningUnsupported {
                    backend: BACKEND,
                    algorithm,
                }),
            },
            SignatureAlgorithm::RsaPkcs1(hash) => {
                let mut data = digest_info_prefix(hash).ok_or(unsupported)?.to_vec();
                data.extend(digest(hash));
                sign(&Mechanism::RsaPkcs, &data)
            }
            SignatureAlgorithm::RsaPss(hash, salt) => {
                // `curve` is the key's algorithm: for RSA, its size.
                let modulus_bytes = curve.rsa_bits().map_or(0, |bits| bits / 8);
                let (Some((hash_alg, mgf)), Some(s_len)) =
                    (hash_mechanism(hash), salt.len(modulus_bytes, hash))
                else {
                    return Err(unsupported);
                };
                let params = PkcsPssParams {
                    hash_alg,
                    mgf,
                    s_len: (s_len as u64).into(),
                };
                sign(&Mechanism::RsaPkcsPss(params), &digest(hash))
            }
            _ => Err(unsupported),
        }
    }

    /// Destroys the objects, ignoring failures: used to undo a half-made key.
    fn discard(session: &Session, handles: &[ObjectHandle]) {
        for handle in handles {
            let _ = session.destroy_object(*handle);
        }
    }
}

impl Scdev for Pkcs11Scdev {
    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    fn generate_key(&self, id: &KeyId, label: &str, spec: KeySpec) -> Result<KeyInfo, ScdevError> {
        check_label(label)?;
        if !self.capabilities.generate.contains(&spec.algorithm) {
            return Err(ScdevError::GenerateUnsupported {
                backend: BACKEND,
                algorithm: spec.algorithm,
            });
        }
        let mechanism = match spec.algorithm {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => Mechanism::EccKeyPairGen,
            KeyAlgorithm::Ed25519 => Mechanism::EccEdwardsKeyPairGen,
            _ => Mechanism::RsaPkcsKeyPairGen,
        };
        let mut public = objects::public_template(id, label);
        public.extend(objects::domain_attributes(spec.algorithm)?);
        let private = objects::private_template(id, label, spec.algorithm, spec.backup_allowed);
        self.token.with_session_exclusive(|session| {
            if Self::key_exists(session, id)? {
                return Err(ScdevError::KeyExists { key_id: id.clone() });
            }
            let (public_handle, private_handle) = session
                .generate_key_pair(&mechanism, &public, &private)
                .map_err(ScdevError::pkcs11("C_GenerateKeyPair"))?;
            objects::key_info(session, private_handle).inspect_err(|_| {
                Self::discard(session, &[private_handle, public_handle]);
            })
        })
    }

    fn find_key(&self, id: &KeyId) -> Result<Option<KeyInfo>, ScdevError> {
        self.token.with_session(|session| {
            match objects::find(session, ObjectClass::PRIVATE_KEY, id)? {
                Some(handle) => objects::key_info(session, handle).map(Some),
                None => Ok(None),
            }
        })
    }

    fn list_keys(&self) -> Result<Vec<KeyInfo>, ScdevError> {
        self.token.with_session(|session| {
            objects::private_keys(session)?
                .into_iter()
                .map(|handle| objects::key_info(session, handle))
                .collect()
        })
    }

    fn sign(
        &self,
        id: &KeyId,
        algorithm: SignatureAlgorithm,
        input: SignInput<'_>,
    ) -> Result<Vec<u8>, ScdevError> {
        // A batch of one: the same checks, one session, one look-up.
        self.sign_many(id, algorithm, &[input])?
            .pop()
            .ok_or(ScdevError::TokenData {
                what: "no signature for the input",
            })
    }

    fn sign_many(
        &self,
        id: &KeyId,
        algorithm: SignatureAlgorithm,
        inputs: &[SignInput<'_>],
    ) -> Result<Vec<Vec<u8>>, ScdevError> {
        let checked = inputs
            .iter()
            .map(|input| crate::check_input(BACKEND, algorithm, *input))
            .collect::<Result<Vec<_>, _>>()?;
        if !self.capabilities.can_sign_message(algorithm) {
            return Err(ScdevError::SignatureUnsupported {
                backend: BACKEND,
                algorithm,
            });
        }
        // One session and one key look-up for the batch. A session lost
        // half-way is retried from the start; nothing is returned before
        // every signature is made.
        self.token.with_session(|session| {
            let (key, key_algorithm) = self.signing_key(session, id)?;
            if !algorithm.fits(key_algorithm) {
                return Err(ScdevError::AlgorithmNotAllowed {
                    key_id: id.clone(),
                    key: key_algorithm,
                    requested: algorithm,
                });
            }
            checked
                .iter()
                .map(|input| self.sign_on(session, key, key_algorithm, algorithm, *input))
                .collect()
        })
    }

    fn destroy_key(&self, id: &KeyId) -> Result<(), ScdevError> {
        self.token.with_session_exclusive(|session| {
            let private = objects::find(session, ObjectClass::PRIVATE_KEY, id)?;
            let public = objects::find(session, ObjectClass::PUBLIC_KEY, id)?;
            if private.is_none() && public.is_none() {
                return Err(ScdevError::UnknownKey { key_id: id.clone() });
            }
            for handle in private.into_iter().chain(public) {
                session
                    .destroy_object(handle)
                    .map_err(ScdevError::pkcs11("C_DestroyObject"))?;
            }
            Ok(())
        })
    }

    fn export_wrapped(&self, id: &KeyId) -> Result<WrappedKey, ScdevError> {
        self.token.with_session(|session| {
            let wrapping_key = self.backup_key(session)?;
            let key = Self::private_key(session, id)?;
            let info = objects::key_info(session, key)?;
            if !info.backup_allowed {
                return Err(ScdevError::NotExtractable { key_id: id.clone() });
            }
            let payload = session
                .wrap_key(&Mechanism::AesKeyWrapPad, wrapping_key, key)
                .map_err(|e| match e {
                    cryptoki::error::Error::Pkcs11(
                        cryptoki::error::RvError::KeyNotWrappable,
                        _,
                    ) => ScdevError::KeyNotWrappable {
                        key_id: id.clone(),
                        source: e,
                    },
                    e => ScdevError::pkcs11("C_WrapKey")(e),
                })?;
            Ok(WrappedKey::new(
                WrapMethod::Pkcs11AesKeyWrapPad,
                self.backup_fingerprint(),
                info,
            )?
            .with_payload(payload))
        })
    }

    fn import_wrapped(&self, id: &KeyId, backup: &WrappedKey) -> Result<KeyInfo, ScdevError> {
        backup.check_destination(WrapMethod::Pkcs11AesKeyWrapPad, id)?;
        if self.backup_key_label.is_none() {
            return Err(ScdevError::NoBackupKey);
        }
        if backup.wrapping_key() != self.backup_fingerprint() {
            return Err(ScdevError::WrongBackupKey);
        }
        let info = backup.key_info().clone();
        let key_type = objects::key_type(info.algorithm).ok_or(ScdevError::MalformedBackup {
            reason: "a key algorithm this backend does not know",
        })?;
        let public =
            PublicKey::from_spki_der(&info.public_key).ok_or(ScdevError::MalformedBackup {
                reason: "bad public key",
            })?;
        let mut private = vec![
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(key_type),
        ];
        private.extend(objects::private_template(
            id,
            &info.label,
            info.algorithm,
            true,
        ));
        let mut public_attributes = vec![
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(key_type),
        ];
        public_attributes.extend(objects::public_template(id, &info.label));
        public_attributes.extend(objects::public_key_attributes(&public)?);
        self.token.with_session_exclusive(|session| {
            if Self::key_exists(session, id)? {
                return Err(ScdevError::KeyExists { key_id: id.clone() });
            }
            let unwrapping_key = self.backup_key(session)?;
            let private_handle = session
                .unwrap_key(
                    &Mechanism::AesKeyWrapPad,
                    unwrapping_key,
                    backup.payload(),
                    &private,
                )
                .map_err(|e| match e {
                    cryptoki::error::Error::Pkcs11(
                        cryptoki::error::RvError::WrappedKeyInvalid
                        | cryptoki::error::RvError::EncryptedDataInvalid,
                        _,
                    ) => ScdevError::BackupIntegrity { source: Some(e) },
                    e => ScdevError::pkcs11("C_UnwrapKey")(e),
                })?;
            let public_handle = match session.create_object(&public_attributes) {
                Ok(handle) => handle,
                Err(e) => {
                    Self::discard(session, &[private_handle]);
                    return Err(ScdevError::pkcs11("C_CreateObject")(e));
                }
            };
            // The header is not covered by the wrap: prove that the key inside
            // is the one the header names before keeping it.
            let check = self_test(self, session, private_handle, &public);
            if let Err(e) = check {
                Self::discard(session, &[private_handle, public_handle]);
                return Err(e);
            }
            objects::key_info(session, private_handle).inspect_err(|_| {
                Self::discard(session, &[private_handle, public_handle]);
            })
        })
    }
}

/// Signs a fixed challenge with the restored key and verifies it against
/// the public key the backup names.
fn self_test(
    scdev: &Pkcs11Scdev,
    session: &Session,
    key: ObjectHandle,
    public: &PublicKey,
) -> Result<(), ScdevError> {
    let algorithm = match public.algorithm {
        KeyAlgorithm::EcP256 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
        KeyAlgorithm::EcP384 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        KeyAlgorithm::Ed25519 => SignatureAlgorithm::Ed25519,
        _ => SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256),
    };
    const CHALLENGE: &[u8] = b"ssa-scdev restore self-test";
    let signature = scdev.sign_on(
        session,
        key,
        public.algorithm,
        algorithm,
        Checked::Message(CHALLENGE),
    )?;
    public
        .verify(algorithm, CHALLENGE, &signature)
        .map_err(|_| ScdevError::BackupPublicKeyMismatch)
}

/// Creates the trusted AES-256 wrapping key for backups on a token, as its
/// Security Officer (only the SO may set `CKA_TRUSTED`). The key is a public
/// object (the SO cannot create private ones), sensitive, non-extractable,
/// and good only for wrapping and unwrapping.
///
/// Run it while no user of this process is logged in to the token: PKCS#11
/// allows one kind of login per token and process.
pub fn provision_backup_key(
    module: &Path,
    token_label: &str,
    so_pin: &Pin,
    key_label: &str,
) -> Result<(), ScdevError> {
    check_label(key_label)?;
    let pkcs11 = context(module)?;
    let slot = find_slot(&pkcs11, token_label)?;
    let session = pkcs11
        .open_rw_session(slot)
        .map_err(ScdevError::pkcs11("C_OpenSession"))?;
    session
        .login(UserType::So, Some(&AuthPin::from(so_pin.expose())))
        .map_err(|source| match source {
            cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::PinIncorrect, _) => {
                ScdevError::PinIncorrect {
                    label: token_label.to_owned(),
                    source: Some(source),
                }
            }
            e => ScdevError::pkcs11("C_Login (SO)")(e),
        })?;
    let generated = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32u64.into()),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Trusted(true),
                Attribute::Wrap(true),
                Attribute::Unwrap(true),
                Attribute::Encrypt(false),
                Attribute::Decrypt(false),
                Attribute::Label(key_label.as_bytes().to_vec()),
            ],
        )
        .map_err(ScdevError::pkcs11("C_GenerateKey (backup key)"));
    let _ = session.logout();
    generated.map(|_| ())
}
