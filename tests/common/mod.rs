//! Set-up shared by the facade's process tests: an issuer with a cheap PIN
//! hash, and a P-256 credential with a PIN whose certificate the test CA
//! issued from its CSR.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use der::Decode;
use ssa::audit::{AuditLog, AuditOptions};
use ssa::sad::*;
use ssa::scdev::soft::{DirectoryKeyStore, SoftScdev};
use ssa::scdev::{KeyEncryptionKey, KeySpec};
use ssa::{
    EnrolmentRequest, FileCredentialStore, HashAlgorithm, KeyAlgorithm, SigningService,
    SigningServiceBuilder,
};
use x509_cert::Certificate;

/// The PIN every test credential gets.
pub const PIN: &str = "1234";

/// An issuer configuration for issuer `iss` and SAM `sam` whose PIN hash
/// costs microseconds, not the production Argon2id parameters.
pub fn cheap_pin_config() -> IssuerConfig {
    let mut config = IssuerConfig::new("iss", "sam");
    config.pin_policy = PinPolicy {
        m_cost: 64,
        t_cost: 1,
        p_cost: 1,
        min_len: 4,
    };
    config
}

/// A request policy that accepts the SCAL1 credentials these tests enrol
/// (the default policy requires SCAL2).
pub fn scal1_policy() -> ssa::policy::RequestPolicy {
    ssa::policy::RequestPolicy {
        default_scal: ssa::Scal::Scal1,
        ..ssa::policy::RequestPolicy::default()
    }
}

/// Enrols `credential` (SCAL1, P-256, [`PIN`]) and installs the certificate
/// the test CA issues for it. The certificate is checked at the time of
/// installing: the CA dates it from its issuance, which may be a second
/// after the enrolment.
pub fn enrol_with_certificate(service: &SigningService, credential: &str, subject: &str) {
    let csr = service
        .enroll(
            EnrolmentRequest {
                credential: credential.into(),
                signer: "s".into(),
                evidence: "e".into(),
                key: KeySpec::new(KeyAlgorithm::EcP256),
                scal: Scal::Scal1,
                subject: subject.parse().unwrap(),
                pin: Some(Pin::new(PIN)),
                totp: None,
                device_key: None,
            },
            SystemTime::now(),
        )
        .unwrap();
    let cert =
        Certificate::from_der(&ssa_testkit::pki::pki().issue_from_csr(&csr, "signer", 30)).unwrap();
    service
        .install_certificate(credential, &[cert], SystemTime::now())
        .unwrap();
}

/// Writes the secrets that processes sharing `dir` build their service
/// from ([`shared_service`]): a KEK, a seed key and the issuer's key.
pub fn prepare_shared(dir: &Path) {
    let mut kek = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut kek).unwrap();
    std::fs::write(dir.join("kek"), kek).unwrap();
    std::fs::write(dir.join("seed-key"), [7u8; 32]).unwrap();
    let (_, pkcs8) = SadSigningKey::generate(SadAlgorithm::Es256).unwrap();
    std::fs::write(dir.join("issuer.p8"), &*pkcs8).unwrap();
}

/// A service over the directory `dir` that several processes share (file
/// keys, registry, lockout store and ledger; the audit log `audit_name`),
/// with `anchors` for installing certificates; `finish` adds to the
/// builder (a TSA, …).
pub fn shared_service(
    dir: &Path,
    audit_name: &str,
    anchors: Vec<Certificate>,
    finish: impl FnOnce(SigningServiceBuilder) -> SigningServiceBuilder,
) -> SigningService {
    let kek: [u8; 32] = std::fs::read(dir.join("kek")).unwrap().try_into().unwrap();
    let issuer_key = SadSigningKey::from_pkcs8(
        SadAlgorithm::Es256,
        &std::fs::read(dir.join("issuer.p8")).unwrap(),
    )
    .unwrap();
    let seed_key: [u8; 32] = std::fs::read(dir.join("seed-key"))
        .unwrap()
        .try_into()
        .unwrap();
    let issuer = SadIssuer::new(
        cheap_pin_config(),
        issuer_key,
        SeedKey::from_bytes(seed_key),
        Arc::new(FileLockoutStore::open(dir.join("lockout")).unwrap()),
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sam = SadVerifier::new(
        SamConfig::new("sam"),
        Arc::new(FileLedger::open(dir.join("ledger.journal"), now).unwrap()),
    )
    .trust("iss", issuer.verifying_key());
    let builder = SigningServiceBuilder::new(
        Arc::new(SoftScdev::new(
            DirectoryKeyStore::open(dir.join("keys")).unwrap(),
            KeyEncryptionKey::from_bytes(kek),
        )),
        sam,
        Arc::new(FileCredentialStore::open(dir.join("registry")).unwrap()),
        Arc::new(AuditLog::open(dir.join(audit_name), AuditOptions::default()).unwrap()),
    )
    .issuer(issuer)
    .requests(scal1_policy())
    .anchors(anchors);
    finish(builder).build().unwrap()
}

/// A PIN-only authorization of one signature over `digests`.
pub fn pin_request<'a>(credential: &'a str, digests: &'a [Vec<u8>]) -> AuthorizationRequest<'a> {
    AuthorizationRequest {
        mode: SigningMode::Document,
        credential,
        hash_alg: HashAlgorithm::Sha256,
        digests,
        num: 1,
        lifetime: 120,
        factors: PresentedFactors {
            pin: Some(Pin::new(PIN)),
            ..PresentedFactors::default()
        },
    }
}
