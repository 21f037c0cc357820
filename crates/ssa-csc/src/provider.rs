//! The embedded default provider behind the runnable server: everything in
//! one data directory — the soft SCDev's keys sealed under a
//! key-encryption key made on first start (mode 0600), or keys on a PKCS#11
//! token; the SAD issuer's key and the seed key (0600); the file stores
//! (registry, lockout, ledger, challenges, accounts, bearer tokens, OAuth2
//! grants); the
//! audit log with checkpoints signed by a key in the SCDev; and a
//! throw-away CA ([`DemoCa`]) that certifies the signers it enrols.
//!
//! Several processes may open one data directory (the file stores lock
//! across processes): `csc_server enrol` enrols while the server runs.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use der::{Decode, Encode};
use ring::rand::SecureRandom;
use ssa::audit::{AuditLog, AuditOptions};
use ssa::cades::{HttpRevocationSource, HttpTsa};
use ssa::demo_ca::{DemoCaError, certificate_pem};
use ssa::sad::factor::totp::TotpConfig;
use ssa::sad::{
    IssuerConfig, PinPolicy, SadAlgorithm, SadIssuer, SadSigningKey, SadVerifier, SamConfig,
    SeedKey, TotpSeed,
};
use ssa::scdev::pkcs11::{Pkcs11Config, Pkcs11Scdev};
use ssa::scdev::soft::{DirectoryKeyStore, SoftScdev};
use ssa::scdev::{KeyEncryptionKey, KeyId, KeySpec};
use ssa::store::{Durability, Stores};
use ssa::{
    DemoCa, EnrolmentRequest, HashAlgorithm, KeyAlgorithm, Pin, Scal, Scdev, ScdevCheckpointSigner,
    SignatureAlgorithm, SigningServiceBuilder,
};
use x509_cert::Certificate;
use zeroize::Zeroizing;

use crate::account::{AccountError, Accounts};
use crate::bearer::BearerTokens;
use crate::service::{CscService, CscSettings};

/// Where the signing keys live.
#[derive(Debug, Clone)]
pub enum KeyBackend {
    /// The soft SCDev: keys sealed in `DATA/keys` under `DATA/kek`.
    Soft,
    /// A PKCS#11 token, found by label.
    Pkcs11 {
        /// The module (`libsofthsm2.so`, a vendor library).
        module: PathBuf,
        /// The token's label.
        token: String,
        /// The token's user PIN.
        pin: Pin,
    },
}

/// How to open a provider. `Debug` leaves the database URL out (it may
/// carry a password).
#[derive(Clone)]
pub struct ProviderOptions {
    /// The data directory.
    pub data: PathBuf,
    /// Where the keys live.
    pub keys: KeyBackend,
    /// A TSA for B-T and above.
    pub tsa: Option<String>,
    /// Fetch CRLs and OCSP responses from the locations the certificates
    /// name (over HTTP), for B-LT. The demo CA's certificates name none.
    pub revocation: bool,
    /// Argon2id costs of PINs and account passwords.
    pub pin_policy: PinPolicy,
    /// Seconds a bearer token is valid.
    pub token_lifetime: u64,
    /// Failed logins (and failed authorizations) before a lock.
    pub max_failures: u32,
    /// The request policy (SCAL, digests per SAD).
    pub requests: ssa::policy::RequestPolicy,
    /// The CSC settings.
    pub settings: CscSettings,
    /// A PostgreSQL database (`postgres://…`) holding every store, shared
    /// with other nodes; `None`: files in `data`. Keys, the SAD issuer's
    /// key and the CA stay in `data` (or the HSM) either way.
    pub database: Option<String>,
}

impl core::fmt::Debug for ProviderOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ProviderOptions")
            .field("data", &self.data)
            .field("keys", &self.keys)
            .field("tsa", &self.tsa)
            .field("revocation", &self.revocation)
            .field("pin_policy", &self.pin_policy)
            .field("token_lifetime", &self.token_lifetime)
            .field("max_failures", &self.max_failures)
            .field("requests", &self.requests)
            .field("settings", &self.settings)
            .field(
                "database",
                &self.database.as_ref().map(|_| "(set, not shown)"),
            )
            .finish()
    }
}

impl ProviderOptions {
    /// Defaults over `data` with soft keys.
    pub fn new(data: impl Into<PathBuf>) -> Self {
        Self {
            data: data.into(),
            keys: KeyBackend::Soft,
            tsa: None,
            revocation: false,
            pin_policy: PinPolicy::default(),
            token_lifetime: 3600,
            max_failures: 5,
            requests: ssa::policy::RequestPolicy::default(),
            settings: CscSettings::default(),
            database: None,
        }
    }
}

/// Why the provider could not open or enrol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// A file of the data directory.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// A file of the data directory holds something else than expected.
    #[error("{path} is not a valid {what}")]
    Corrupt {
        /// What it should hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// The SCDev.
    #[error("SCDev: {0}")]
    Scdev(#[from] ssa::ScdevError),
    /// The SAD issuer or SAM.
    #[error("SAD: {0}")]
    Sad(#[from] ssa::sad::SadError),
    /// A store.
    #[error("store: {0}")]
    Store(#[from] ssa::store::StoreError),
    /// The database could not be used (unreachable, a newer schema, a
    /// failed migration; the cause is the source).
    #[error(transparent)]
    Database(#[from] ssa_store_postgres::OpenError),
    /// The audit log.
    #[error("audit log: {0}")]
    Audit(#[from] ssa::audit::AuditError),
    /// The signing service.
    #[error("{0}")]
    Service(#[from] ssa::ServiceError),
    /// The demonstration CA.
    #[error("CA: {0}")]
    Ca(#[from] DemoCaError),
    /// An account.
    #[error("account: {0}")]
    Account(#[from] AccountError),
    /// The TSA URL.
    #[error("TSA: {0}")]
    Tsa(#[from] ssa::cades::CadesError),
    /// The metrics registry.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProviderError {
    let path = path.to_path_buf();
    move |source| ProviderError::Io { what, path, source }
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, ProviderError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    ring::rand::SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| ProviderError::Io {
            what: "read randomness",
            path: PathBuf::from("/dev/urandom"),
            source: std::io::Error::other("no randomness"),
        })?;
    Ok(bytes)
}

/// The secret in `path`, made with `make` on first start (mode 0600,
/// created exclusively: two processes starting at once keep one secret).
fn secret_file(
    path: &Path,
    make: impl FnOnce() -> Result<Zeroizing<Vec<u8>>, ProviderError>,
) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
    if !path.exists() {
        let bytes = make()?;
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut file) => {
                file.write_all(&bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(io("write", path))?;
                return Ok(bytes);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io("create", path)(e)),
        }
    }
    Ok(Zeroizing::new(fs::read(path).map_err(io("read", path))?))
}

fn key_32(path: &Path) -> Result<[u8; 32], ProviderError> {
    let bytes = secret_file(path, || Ok(Zeroizing::new(random::<32>()?.to_vec())))?;
    bytes
        .as_slice()
        .try_into()
        .map_err(|_| ProviderError::Corrupt {
            what: "32-byte key",
            path: path.to_path_buf(),
        })
}

/// A provider over one data directory. See the [module documentation](self).
pub struct Provider {
    csc: Arc<CscService>,
    scdev: Arc<dyn Scdev>,
    ca: DemoCa,
    data: PathBuf,
}

impl core::fmt::Debug for Provider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Provider")
            .field("data", &self.data)
            .field("scdev", &self.scdev)
            .finish_non_exhaustive()
    }
}

/// What a signer needs, told once at enrolment. `Debug` shows no secret.
pub struct EnrolledSigner {
    /// The signer (the login name).
    pub signer: String,
    /// The credential id.
    pub credential: String,
    /// The account password (for `auth/login`), made for a signer who had
    /// no account yet; empty for a signer who had one (it is kept).
    pub password: Zeroizing<String>,
    /// The credential's PIN.
    pub pin: Zeroizing<String>,
    /// The TOTP seed (for tests; the signer scans `otpauth`).
    pub totp: TotpSeed,
    /// The `otpauth://` URI of the TOTP seed, for an authenticator app.
    pub otpauth: Zeroizing<String>,
}

impl core::fmt::Debug for EnrolledSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EnrolledSigner")
            .field("signer", &self.signer)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

/// A signer to enrol.
#[derive(Debug, Clone)]
pub struct SignerSpec {
    /// The signer (login name).
    pub signer: String,
    /// The credential id.
    pub credential: String,
    /// The key to generate in the SCDev.
    pub key: KeyAlgorithm,
    /// SCAL2 (PIN + TOTP) or SCAL1 (PIN).
    pub scal: Scal,
    /// The certificate's subject, e.g. `CN=Alice Example`.
    pub subject: String,
}

const SAM_AUDIENCE: &str = "ssa-csc-sam";
const ISSUER: &str = "ssa-csc-authenticator";

impl Provider {
    /// Opens (making on first start) the provider in `options.data`.
    pub fn open(options: ProviderOptions) -> Result<Self, ProviderError> {
        let data = options.data.clone();
        fs::create_dir_all(&data).map_err(io("create directory", &data))?;
        let scdev: Arc<dyn Scdev> = match &options.keys {
            KeyBackend::Soft => {
                let kek = key_32(&data.join("kek"))?;
                Arc::new(SoftScdev::new(
                    DirectoryKeyStore::open(data.join("keys"))?,
                    KeyEncryptionKey::from_bytes(kek),
                ))
            }
            KeyBackend::Pkcs11 { module, token, pin } => Arc::new(Pkcs11Scdev::open(
                &Pkcs11Config::new(module.clone(), token.clone(), pin.clone()),
            )?),
        };
        let now = SystemTime::now();
        let stores = match &options.database {
            Some(url) => ssa_store_postgres::Database::connect(url)?.stores(),
            None => Stores::files(&data, crate::service::secs(now), Durability::Fsync)?,
        };
        let ca = Self::ca(&scdev, &data, now)?;
        let audit_key = KeyId::new(b"ssa-csc-audit".to_vec())?;
        if scdev.find_key(&audit_key)?.is_none() {
            scdev.generate_key(
                &audit_key,
                "audit checkpoints",
                KeySpec::new(KeyAlgorithm::EcP256),
            )?;
        }
        let audit = Arc::new(AuditLog::over(
            Arc::clone(&stores.audit),
            AuditOptions {
                checkpoint_signer: Some(Arc::new(ScdevCheckpointSigner::new(
                    Arc::clone(&scdev),
                    audit_key,
                    SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
                ))),
                checkpoint_every: Some(1000),
                checkpoint_interval: Some(300),
                ..AuditOptions::default()
            },
        )?);
        let issuer_path = data.join("sad-issuer.p8");
        let pkcs8 = secret_file(&issuer_path, || {
            Ok(SadSigningKey::generate(SadAlgorithm::Es256)?.1)
        })?;
        let issuer_key = SadSigningKey::from_pkcs8(SadAlgorithm::Es256, &pkcs8)?;
        let seed_key = key_32(&data.join("seed-key"))?;
        let mut config = IssuerConfig::new(ISSUER, SAM_AUDIENCE);
        config.pin_policy = options.pin_policy;
        config.max_failures = options.max_failures;
        let lockout = Arc::clone(&stores.lockout);
        let issuer = SadIssuer::new(
            config,
            issuer_key,
            SeedKey::from_bytes(seed_key),
            lockout.clone(),
        )
        .with_challenge_store(Arc::clone(&stores.challenges));
        let sam = SadVerifier::new(SamConfig::new(SAM_AUDIENCE), Arc::clone(&stores.ledger))
            .trust(ISSUER, issuer.verifying_key());
        let mut builder = SigningServiceBuilder::new(
            Arc::clone(&scdev),
            sam,
            Arc::clone(&stores.credentials),
            audit,
        )
        .issuer(issuer)
        .requests(options.requests.clone())
        .anchors(vec![ca.certificate().clone()]);
        if let Some(url) = &options.tsa {
            builder = builder.tsa(Box::new(HttpTsa::new(url)?));
        }
        if options.revocation {
            builder = builder.revocation(Box::new(HttpRevocationSource::default()));
        }
        let signing = Arc::new(builder.build()?);
        let accounts = Accounts::new(
            Arc::clone(&stores.accounts),
            lockout,
            options.pin_policy,
            options.max_failures,
        );
        let tokens = BearerTokens::new(Arc::clone(&stores.bearer_tokens), options.token_lifetime);
        let mut settings = options.settings;
        settings.recover_audit |= options.database.is_some();
        let csc = Arc::new(
            CscService::new(signing, accounts, tokens, settings)?
                .with_grants(Arc::clone(&stores.grants)),
        );
        Ok(Self {
            csc,
            scdev,
            ca,
            data,
        })
    }

    /// The CA: its key in the SCDev, its certificate in `DATA/ca.pem`
    /// (and `DATA/ca.der`), made on first start.
    fn ca(scdev: &Arc<dyn Scdev>, data: &Path, now: SystemTime) -> Result<DemoCa, ProviderError> {
        let key = KeyId::new(b"ssa-csc-demo-ca".to_vec())?;
        let der_path = data.join("ca.der");
        if der_path.exists() {
            let der = fs::read(&der_path).map_err(io("read", &der_path))?;
            let certificate = Certificate::from_der(&der).map_err(|_| ProviderError::Corrupt {
                what: "CA certificate",
                path: der_path.clone(),
            })?;
            return Ok(DemoCa::open(Arc::clone(scdev), key, certificate)?);
        }
        let ca = DemoCa::create(
            Arc::clone(scdev),
            key,
            "CN=ssa-csc throw-away CA,O=ssa demo",
            now,
        )?;
        let der = ca.certificate().to_der().map_err(DemoCaError::from)?;
        let pem_path = data.join("ca.pem");
        fs::write(&pem_path, certificate_pem(&der)).map_err(io("write", &pem_path))?;
        fs::write(&der_path, &der).map_err(io("write", &der_path))?;
        Ok(ca)
    }

    /// The CSC service.
    pub fn csc(&self) -> Arc<CscService> {
        Arc::clone(&self.csc)
    }

    /// The CA's certificate file (PEM), the trust anchor for verifiers.
    pub fn ca_pem(&self) -> PathBuf {
        self.data.join("ca.pem")
    }

    /// The CA's certificate.
    pub fn ca_certificate(&self) -> &Certificate {
        self.ca.certificate()
    }

    /// Enrols a signer: an account with a new password (unless they have
    /// one), a key generated in
    /// the SCDev, a new PIN and (SCAL2) a new TOTP seed, a certificate
    /// issued by the CA from the CSR the key signed. The secrets are in
    /// the answer, once.
    pub fn enrol(
        &self,
        spec: &SignerSpec,
        now: SystemTime,
    ) -> Result<EnrolledSigner, ProviderError> {
        use base64ct::{Base64UrlUnpadded, Encoding};
        let password = Zeroizing::new(Base64UrlUnpadded::encode_string(random::<12>()?.as_ref()));
        let digits = random::<8>()?;
        let pin = Zeroizing::new(format!("{:06}", u64::from_be_bytes(*digits) % 1_000_000));
        let raw_seed = random::<20>()?;
        let seed = TotpSeed::new(raw_seed.to_vec())?;
        let totp = (spec.scal == Scal::Scal2).then(|| (seed.clone(), TotpConfig::default()));
        let signing = self.csc.signing();
        let csr = signing.enroll(
            EnrolmentRequest {
                credential: spec.credential.clone(),
                signer: spec.signer.clone(),
                evidence: "enrolled by the csc_server administrator".into(),
                key: KeySpec::new(spec.key),
                scal: spec.scal,
                subject: spec
                    .subject
                    .parse()
                    .map_err(|e: der::Error| ProviderError::from(DemoCaError::from(e)))?,
                pin: Some(Pin::new(pin.as_str())),
                totp,
                device_key: None,
            },
            now,
        )?;
        let certificate = self.ca.issue(&csr, now)?;
        signing.install_certificate(
            &spec.credential,
            &[certificate, self.ca.certificate().clone()],
            now,
        )?;
        let accounts = self.csc.accounts();
        let password = if accounts.exists(&spec.signer)? {
            Zeroizing::new(String::new())
        } else {
            accounts.set_password(&spec.signer, &Pin::new(password.as_str()))?;
            password
        };
        let otpauth = Zeroizing::new(format!(
            "otpauth://totp/ssa:{}?secret={}&issuer=ssa&algorithm=SHA1&digits=6&period=30",
            spec.signer,
            base32(raw_seed.as_ref())
        ));
        Ok(EnrolledSigner {
            signer: spec.signer.clone(),
            credential: spec.credential.clone(),
            password,
            pin,
            totp: seed,
            otpauth,
        })
    }
}

/// RFC 4648 base32 without padding (what `otpauth://` URIs carry).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn debug_shows_no_database_url() {
        let mut options = super::ProviderOptions::new("/data");
        options.database = Some("postgres://ssa:s3cret-pw@db/ssa".into());
        let shown = format!("{options:?}");
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(
            shown.contains("database: Some(\"(set, not shown)\")"),
            "{shown}"
        );
    }
    #[test]
    fn base32_matches_rfc_4648_vectors() {
        // RFC 4648 §10, without padding.
        assert_eq!(super::base32(b""), "");
        assert_eq!(super::base32(b"f"), "MY");
        assert_eq!(super::base32(b"fo"), "MZXQ");
        assert_eq!(super::base32(b"foo"), "MZXW6");
        assert_eq!(super::base32(b"foob"), "MZXW6YQ");
        assert_eq!(super::base32(b"fooba"), "MZXW6YTB");
        assert_eq!(super::base32(b"foobar"), "MZXW6YTBOI");
    }
}
