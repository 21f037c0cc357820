//! The signing pipeline that `examples/hsm_bench.rs` and
//! `benches/pipeline.rs` time: a `SigningService` with one SCAL2 credential
//! (PIN + TOTP) whose certificate the test CA issued from its CSR.
//!
//! The SAD is minted by [`Pipeline::authorize`] (the identity provider's
//! work, not timed); [`Pipeline::sign`] is the timed part: SAD verification,
//! ledger, CAdES B-B for each digest and the audit records.

use std::error::Error;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use der::Decode;
use ssa::audit::{AuditLog, AuditOptions, Durability};
use ssa::sad::{
    Amr, IssuerConfig, MemoryLedger, MemoryLockoutStore, Pin, PinPolicy, Sad, SadAlgorithm,
    SadClaims, SadIssuer, SadSigningKey, SadVerifier, SamConfig, Scal, SeedKey, SigningMode,
    TotpConfig, TotpSeed,
};
use ssa::{
    EnrolmentRequest, HashAlgorithm, KeyAlgorithm, KeySpec, MemoryCredentialStore, Scdev,
    ServiceError, SignOptions, SigningService, SigningServiceBuilder,
};
use x509_cert::Certificate;

/// Where the pipeline keeps what it must remember.
struct Parts {
    ledger: Arc<dyn ssa::sad::ConsumptionLedger>,
    lockout: Arc<dyn ssa::sad::LockoutStore>,
    credentials: Arc<dyn ssa::CredentialStore>,
    audit: AuditLog,
}

/// A service ready to sign for credential `bench-…`, and the IdP key that
/// mints its SADs.
pub(crate) struct Pipeline {
    service: SigningService,
    minting: SadSigningKey,
    hash: HashAlgorithm,
    /// `bench-` and the time it was made: a store that outlives the run
    /// (a database) gets a new credential each run.
    credential: String,
}

impl Pipeline {
    /// Enrols credential `bench` with a new `alg` key in `scdev`; the audit
    /// log goes to `dir`, fsynced or not; a SAD may carry up to `max_batch`
    /// digests.
    pub(crate) fn new(
        scdev: Arc<dyn Scdev>,
        alg: KeyAlgorithm,
        fsync: bool,
        max_batch: usize,
        dir: &Path,
    ) -> Result<Self, Box<dyn Error>> {
        Self::with(scdev, alg, fsync, max_batch, dir, |builder| builder)
    }

    /// [`Pipeline::new`], the service builder finished by `finish` (a TSA, …).
    pub(crate) fn with(
        scdev: Arc<dyn Scdev>,
        alg: KeyAlgorithm,
        fsync: bool,
        max_batch: usize,
        dir: &Path,
        finish: impl FnOnce(SigningServiceBuilder) -> SigningServiceBuilder,
    ) -> Result<Self, Box<dyn Error>> {
        let audit = AuditLog::open(
            dir.join("audit.log"),
            AuditOptions {
                durability: if fsync {
                    Durability::Fsync
                } else {
                    Durability::NoSync
                },
                ..AuditOptions::default()
            },
        )?;
        let stores = Parts {
            ledger: Arc::new(MemoryLedger::new()),
            lockout: Arc::new(MemoryLockoutStore::new()),
            credentials: Arc::new(MemoryCredentialStore::new()),
            audit,
        };
        Self::build(scdev, alg, max_batch, stores, finish)
    }

    /// A pipeline whose ledger, lockout state, credentials and audit
    /// records are in `stores` (files of a directory, or a database).
    #[allow(dead_code)] // hsm_bench only
    pub(crate) fn over(
        scdev: Arc<dyn Scdev>,
        alg: KeyAlgorithm,
        max_batch: usize,
        stores: &ssa::store::Stores,
    ) -> Result<Self, Box<dyn Error>> {
        let parts = Parts {
            ledger: Arc::clone(&stores.ledger),
            lockout: Arc::clone(&stores.lockout),
            credentials: Arc::clone(&stores.credentials),
            audit: AuditLog::over(Arc::clone(&stores.audit), AuditOptions::default())?,
        };
        Self::build(scdev, alg, max_batch, parts, |b| b)
    }

    fn build(
        scdev: Arc<dyn Scdev>,
        alg: KeyAlgorithm,
        max_batch: usize,
        parts: Parts,
        finish: impl FnOnce(SigningServiceBuilder) -> SigningServiceBuilder,
    ) -> Result<Self, Box<dyn Error>> {
        let credential = format!(
            "bench-{}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        if !scdev.capabilities().generate.contains(&alg) {
            return Err(format!(
                "the pipeline generates the credential's key in the SCDev, which cannot generate {alg}"
            )
            .into());
        }
        let (issuer_key, pkcs8) = SadSigningKey::generate(SadAlgorithm::Es256)?;
        let minting = SadSigningKey::from_pkcs8(SadAlgorithm::Es256, &pkcs8)?;
        let mut config = IssuerConfig::new("bench-idp", "bench-sam");
        config.pin_policy = PinPolicy {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
            min_len: 4,
        };
        config.max_count = 100_000;
        let issuer = SadIssuer::new(config, issuer_key, SeedKey::generate()?, parts.lockout);
        let sam = SadVerifier::new(SamConfig::new("bench-sam"), parts.ledger)
            .trust("bench-idp", issuer.verifying_key());
        let builder =
            SigningServiceBuilder::new(scdev, sam, parts.credentials, Arc::new(parts.audit))
                .issuer(issuer)
                .requests(ssa::policy::RequestPolicy {
                    max_digests_per_sad: max_batch.max(100),
                    ..Default::default()
                })
                .anchors(vec![Certificate::from_der(
                    &ssa_testkit::pki::pki().ca.cert_der,
                )?]);
        let service = finish(builder).build()?;
        let now = SystemTime::now();
        let csr = service.enroll(
            EnrolmentRequest {
                credential: credential.clone(),
                signer: "bench".into(),
                evidence: "bench".into(),
                key: KeySpec::new(alg),
                scal: Scal::Scal2,
                subject: "CN=hsm_bench".parse()?,
                pin: Some(Pin::new("1234")),
                totp: Some((TotpSeed::new(vec![7; 20])?, TotpConfig::default())),
                device_key: None,
            },
            now,
        )?;
        let cert =
            Certificate::from_der(&ssa_testkit::pki::pki().issue_from_csr(&csr, "signer", 30))?;
        // Checked at the time of installing: the CA dates the certificate
        // from its issuance, which may be a second after `now`.
        service.install_certificate(&credential, &[cert], SystemTime::now())?;
        let algorithm =
            ssa::service::signature_algorithm_for(alg).ok_or("no signature algorithm")?;
        let hash = ssa::cades::algorithm::signer_digest(algorithm);
        Ok(Self {
            service,
            minting,
            hash,
            credential,
        })
    }

    /// `batch` document digests named by `jti`, and an SCAL2 SAD (PIN and
    /// OTP) for exactly them, with id `jti`.
    pub(crate) fn authorize(&self, jti: &str, batch: usize) -> (Vec<Vec<u8>>, Sad) {
        let digests: Vec<Vec<u8>> = (0..batch)
            .map(|i| self.hash.digest(format!("{jti}/{i}").as_bytes()))
            .collect();
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let sad = self
            .minting
            .mint(&SadClaims {
                iss: "bench-idp".into(),
                aud: "bench-sam".into(),
                sub: "bench".into(),
                cred: self.credential.clone(),
                mode: SigningMode::Document,
                hash_alg: self.hash,
                hashes: digests.clone(),
                num: u32::try_from(digests.len()).unwrap_or(u32::MAX),
                scal: Scal::Scal2,
                amr: vec![Amr::Pin, Amr::Otp],
                iat,
                exp: iat + 300,
                jti: format!("{}/{jti}", self.credential),
            })
            .expect("minting a SAD with a fresh key");
        (digests, sad)
    }

    /// Signs every digest under the SAD: the timed part.
    pub(crate) fn sign(&self, sad: &Sad, digests: &[Vec<u8>]) -> Result<(), ServiceError> {
        self.sign_at(sad, digests, &SignOptions::default())
    }

    /// [`Pipeline::sign`] up to the disk: the signatures are delivered by
    /// the answer's `wait`, which lets requests share fsyncs.
    #[allow(dead_code)] // hsm_bench and the pipeline bench
    pub(crate) fn sign_pending(
        &self,
        sad: &Sad,
        digests: &[Vec<u8>],
    ) -> Result<ssa::PendingSignatures<'_>, ServiceError> {
        self.service.sign_documents_pending(
            &self.credential,
            sad,
            digests,
            &SignOptions::default(),
            SystemTime::now(),
        )
    }

    /// [`Pipeline::sign`] with `options` (a level above B-B, …).
    pub(crate) fn sign_at(
        &self,
        sad: &Sad,
        digests: &[Vec<u8>],
        options: &SignOptions,
    ) -> Result<(), ServiceError> {
        self.service
            .sign_documents(&self.credential, sad, digests, options, SystemTime::now())
            .map(|_| ())
    }
}

/// The floor of a one-SAD request: the cryptography it cannot avoid and
/// nothing else, all in ring, over real inputs: the identity provider
/// signs the signing input (`header.claims`) of a one-digest SAD minted as
/// [`Pipeline::authorize`] mints it, the SAM verifies it, and the
/// credential's P-256 key signs the signed attributes (DER) of a CAdES
/// B-B signature by the test PKI's signer, made by the pipeline's
/// template, so the hashing costs what it costs there.
#[allow(dead_code)] // each user takes what it times
pub(crate) struct Floor {
    rng: ring::rand::SystemRandom,
    idp: ring::signature::EcdsaKeyPair,
    public: ring::signature::UnparsedPublicKey<Vec<u8>>,
    key: ring::signature::EcdsaKeyPair,
    /// The SAD's signing input.
    pub(crate) input: Vec<u8>,
    /// The signed attributes the credential's key signs.
    pub(crate) signed_attributes: Vec<u8>,
}

#[allow(dead_code)] // each user takes what it times
impl Floor {
    pub(crate) fn new() -> Result<Self, Box<dyn Error>> {
        use ring::signature::{
            ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED,
            ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, UnparsedPublicKey,
        };
        let rng = ring::rand::SystemRandom::new();
        let pair = |alg| -> Result<EcdsaKeyPair, Box<dyn Error>> {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|_| "keygen")?;
            Ok(EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).map_err(|_| "key")?)
        };
        let idp = pair(&ECDSA_P256_SHA256_FIXED_SIGNING)?;
        let public =
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, idp.public_key().as_ref().to_vec());
        let key = pair(&ECDSA_P256_SHA256_ASN1_SIGNING)?;
        let (input, signed_attributes) = Self::inputs()?;
        Ok(Self {
            rng,
            idp,
            public,
            key,
            input,
            signed_attributes,
        })
    }

    fn inputs() -> Result<(Vec<u8>, Vec<u8>), Box<dyn Error>> {
        let soft =
            ssa::scdev::soft::SoftScdev::in_memory(ssa::scdev::KeyEncryptionKey::generate()?);
        let work = tempfile::tempdir()?;
        let pipeline = Pipeline::new(Arc::new(soft), KeyAlgorithm::EcP256, false, 1, work.path())?;
        let (digests, sad) = pipeline.authorize("floor", 1);
        let input = sad
            .as_str()
            .rsplit_once('.')
            .map(|(input, _)| input.as_bytes().to_vec())
            .ok_or("a SAD without a signature")?;
        let certificate = Certificate::from_der(&ssa_testkit::pki::pki().signer.cert_der)?;
        let template = ssa::cades::SignatureTemplate::new(
            &certificate,
            &[],
            ssa::SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            SystemTime::now(),
            ssa::cades::SignedAttributeOptions::default(),
        )?;
        let mut attributes = Vec::new();
        template.sign_all(
            &digests,
            |dtbs| -> Result<Vec<Vec<u8>>, ssa::cades::CadesError> {
                attributes = dtbs
                    .first()
                    .map(|d| d.as_ref().to_vec())
                    .unwrap_or_default();
                Ok(vec![vec![0x30, 0]; dtbs.len()])
            },
        )?;
        Ok((input, attributes))
    }

    /// The identity provider's and the SAM's share: the SAD signed and
    /// verified.
    pub(crate) fn mint_and_verify(&self) {
        let sad = self.idp.sign(&self.rng, &self.input).expect("ES256 sign");
        self.public
            .verify(&self.input, sad.as_ref())
            .expect("ES256 verify");
    }

    /// The whole floor: the SAD, then the P-256 signature.
    pub(crate) fn request(&self) {
        self.mint_and_verify();
        let _ = self
            .key
            .sign(&self.rng, &self.signed_attributes)
            .expect("P-256 sign");
    }
}
