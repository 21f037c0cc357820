//! Set-up shared by the facade's process tests: an issuer with a cheap PIN
//! hash, and a P-256 credential with a PIN whose certificate the test CA
//! issued from its CSR.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::time::SystemTime;

use der::Decode;
use ssa::sad::{IssuerConfig, Pin, PinPolicy, Scal};
use ssa::scdev::KeySpec;
use ssa::{EnrolmentRequest, KeyAlgorithm, SigningService};
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
