//! The facade end to end on the soft SCDev: enrol, certify, authorize,
//! sign, verify — and every refusal typed and audited.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::Decode;
use ssa::CredentialRegistry;
use ssa::audit::{AuditLog, AuditOptions, Record, scan};
use ssa::cades::Document;
use ssa::policy::{AlgorithmPolicy, RequestPolicy};
use ssa::sad::*;
use ssa::scdev::soft::SoftScdev;
use ssa::scdev::{KeyEncryptionKey, KeySpec};
use ssa::{
    EnrolmentRequest, FileCredentialStore, KeyAlgorithm, ServiceError, SignOptions, SigningService,
    SigningServiceBuilder,
};
use ssa_testkit::pki::pki;
use x509_cert::Certificate;

const PIN: &str = "482916";
const ISS: &str = "https://idp.ssa.test";

struct Fixture {
    service: SigningService,
    seed: TotpSeed,
    dir: tempfile::TempDir,
    rogue: SadSigningKey,
    /// Key material the service holds, which its audit log must never show.
    secrets: Vec<Vec<u8>>,
}

/// The soft SCDev's key-encryption key: fixed so the log can be searched for it.
const KEK: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = (i as u8).wrapping_mul(37).wrapping_add(11);
        i += 1;
    }
    k
};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` as the encodings a log line could carry them in.
fn encodings(bytes: &[u8]) -> Vec<String> {
    use base64ct::{Base64, Base64Unpadded, Base64Url, Base64UrlUnpadded, Encoding};
    let hex = hex(bytes);
    vec![
        hex.to_uppercase(),
        hex,
        Base64::encode_string(bytes),
        Base64Unpadded::encode_string(bytes),
        Base64Url::encode_string(bytes),
        Base64UrlUnpadded::encode_string(bytes),
        String::from_utf8_lossy(bytes).into_owned(),
    ]
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn unix(t: SystemTime) -> UnixTime {
    UnixTime(t.duration_since(UNIX_EPOCH).unwrap().as_secs())
}

fn fixture() -> Fixture {
    fixture_with(RequestPolicy::default(), AlgorithmPolicy::default())
}

fn fixture_with(requests: RequestPolicy, algorithms: AlgorithmPolicy) -> Fixture {
    fixture_built(|builder| builder.requests(requests).algorithms(algorithms))
}

/// The fixture, its service builder finished by `finish` (policies, a TSA).
fn fixture_built(finish: impl FnOnce(SigningServiceBuilder) -> SigningServiceBuilder) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (key, issuer_pkcs8) = SadSigningKey::generate(SadAlgorithm::Es256).unwrap();
    let mut config = IssuerConfig::new(ISS, "sam-1");
    config.pin_policy = PinPolicy {
        m_cost: 256,
        t_cost: 1,
        p_cost: 1,
        min_len: 4,
    };
    let issuer = SadIssuer::new(
        config,
        key,
        SeedKey::generate().unwrap(),
        Arc::new(MemoryLockoutStore::new()),
    );
    let (rogue, _) = SadSigningKey::generate(SadAlgorithm::Es256).unwrap();
    let sam = SadVerifier::new(SamConfig::new("sam-1"), Arc::new(MemoryLedger::new()))
        .trust(ISS, issuer.verifying_key())
        .trust("https://external-idp.test", rogue.verifying_key());
    let audit =
        Arc::new(AuditLog::open(dir.path().join("audit.log"), AuditOptions::default()).unwrap());
    let registry = Arc::new(FileCredentialStore::open(dir.path().join("registry")).unwrap());
    let scdev = Arc::new(SoftScdev::in_memory(KeyEncryptionKey::from_bytes(KEK)));
    let service = SigningServiceBuilder::new(scdev, sam, registry, audit)
        .issuer(issuer)
        .anchors(vec![Certificate::from_der(&pki().ca.cert_der).unwrap()])
        // The company's representative, who issues delegations.
        .attribute_authorities(vec![
            Certificate::from_der(&pki().cosigner.cert_der).unwrap(),
        ]);
    let service = finish(service).build().unwrap();
    const SEED: &[u8] = b"alice's TOTP seed 123";
    let seed = TotpSeed::new(SEED.to_vec()).unwrap();
    let f = Fixture {
        service,
        seed,
        dir,
        rogue,
        secrets: vec![KEK.to_vec(), SEED.to_vec(), issuer_pkcs8.to_vec()],
    };
    f.enroll("alice/1", 3650);
    f
}

impl Fixture {
    /// Enrols `credential` (SCAL2, PIN + TOTP) and returns its CSR.
    fn enroll_only(&self, credential: &str) -> Vec<u8> {
        self.service
            .enroll(
                EnrolmentRequest {
                    credential: credential.into(),
                    signer: "alice".into(),
                    evidence: "KYC-2026-0042".into(),
                    key: KeySpec::new(KeyAlgorithm::EcP256),
                    scal: Scal::Scal2,
                    subject: "CN=Alice Example,O=ssa test".parse().unwrap(),
                    pin: Some(Pin::new(PIN)),
                    totp: Some((self.seed.clone(), TotpConfig::default())),
                    device_key: None,
                },
                now(),
            )
            .unwrap()
    }

    /// The credential registry the service uses, opened a second time: a
    /// way to put the store in a state the service itself would refuse.
    fn registry(&self) -> CredentialRegistry {
        CredentialRegistry::new(Arc::new(
            FileCredentialStore::open(self.dir.path().join("registry")).unwrap(),
        ))
    }

    fn enroll(&self, credential: &str, days: u32) {
        let csr = self.enroll_only(credential);
        let cert = Certificate::from_der(&pki().issue_from_csr(&csr, "signer", days)).unwrap();
        self.service
            .install_certificate(credential, &[cert], now())
            .unwrap();
    }

    fn otp(&self, at: SystemTime) -> Otp {
        factor::totp::code_at(&self.seed, &TotpConfig::default(), unix(at))
    }

    fn authorize(
        &self,
        credential: &str,
        digests: &[Vec<u8>],
        pin: &str,
        at: SystemTime,
    ) -> Result<Sad, ServiceError> {
        self.authorize_for(SigningMode::Document, credential, digests, pin, at)
    }

    fn authorize_for(
        &self,
        mode: SigningMode,
        credential: &str,
        digests: &[Vec<u8>],
        pin: &str,
        at: SystemTime,
    ) -> Result<Sad, ServiceError> {
        // The digests' length says their hash (SHA-256, -384 or -512).
        let hash = HashAlgorithm::ALL
            .into_iter()
            .find(|h| digests.first().is_some_and(|d| d.len() == h.digest_len()))
            .unwrap_or(HashAlgorithm::Sha256);
        self.service
            .authorize(
                &AuthorizationRequest {
                    mode,
                    credential,
                    hash_alg: hash,
                    digests,
                    num: digests.len() as u32,
                    lifetime: 300,
                    factors: PresentedFactors {
                        pin: Some(Pin::new(pin)),
                        otp: Some(self.otp(at)),
                        device: None,
                    },
                },
                at,
            )
            .map(|authorized| authorized.sad)
    }

    fn records(&self) -> Vec<Record> {
        let text = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l.split_once(' ').unwrap().1).unwrap())
            .collect()
    }

    fn last_failure(&self) -> Record {
        let record = self.records().pop().unwrap();
        assert!(
            matches!(record.entry.outcome, ssa::audit::Outcome::Failure(_)),
            "{record:?}"
        );
        record
    }
}

fn digests() -> (Vec<Vec<u8>>, [&'static [u8]; 2]) {
    let docs: [&'static [u8]; 2] = [b"document one", b"document two"];
    (
        docs.iter()
            .map(|d| ssa::HashAlgorithm::Sha256.digest(d))
            .collect(),
        docs,
    )
}

#[test]
fn enrol_certify_authorize_sign_verify() {
    let f = fixture();
    let (digests, docs) = digests();
    let sad = f.authorize("alice/1", &digests, PIN, now()).unwrap();
    let signatures = f
        .service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), now())
        .unwrap();
    assert_eq!(signatures.len(), 2);
    for (signature, doc) in signatures.iter().zip(docs) {
        let (ok, said) =
            ssa_testkit::openssl::cms_verify_cades(signature, Some(doc), &pki().ca.cert_pem, false);
        assert!(ok, "{said}");
        assert_eq!(
            f.service
                .verify(signature, Document::Bytes(doc), now())
                .indication(),
            ssa::cades::Indication::TotalPassed
        );
    }
    let log = std::fs::read(f.dir.path().join("audit.log")).unwrap();
    let report = scan(&log, None);
    assert!(report.is_intact(), "{:?}", report.problems);
    // Enrolment, certificate, authorization, activation, and one signature
    // record naming both digests, in order, under the SAD's id.
    assert_eq!(report.records, 5);
    let last = f.records().pop().unwrap();
    assert!(
        matches!(&last.entry.event, ssa::audit::Event::Signature { level, sad_id }
            if level == "BB" && !sad_id.is_empty()),
        "{last:?}"
    );
    assert_eq!(
        last.entry.digests,
        digests.iter().map(|d| hex(d)).collect::<Vec<_>>()
    );
    // Nothing secret in the log: not the PIN, the OTP, the SAD, nor in any
    // usual encoding the KEK, the TOTP seed or the SAD issuer's key.
    let text = String::from_utf8(log).unwrap();
    let otp = f.otp(now());
    for secret in [PIN, otp.as_str(), sad.as_str()] {
        assert!(!text.contains(secret), "the audit log holds a secret");
    }
    for secret in &f.secrets {
        for encoded in encodings(secret) {
            assert!(!text.contains(&encoded), "the audit log holds key material");
        }
    }
}

#[test]
fn wrong_pin_then_locked() {
    let f = fixture();
    let (digests, _) = digests();
    for _ in 0..5 {
        let error = f
            .authorize("alice/1", &digests, "000000", now())
            .unwrap_err();
        assert!(
            matches!(
                error,
                ServiceError::Sad(SadError::AuthenticationFailed { .. })
            ),
            "{error:?}"
        );
        f.last_failure();
    }
    assert!(
        f.records()
            .iter()
            .any(|r| matches!(r.entry.event, ssa::audit::Event::Lockout))
    );
    let error = f
        .authorize("alice/1", &digests, PIN, now() + Duration::from_secs(30))
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::Sad(SadError::Locked { .. })),
        "{error:?}"
    );
    f.last_failure();
    f.service.unlock("alice/1", "admin", now()).unwrap();
    f.authorize("alice/1", &digests, PIN, now() + Duration::from_secs(60))
        .unwrap();
}

#[test]
fn replayed_sad_and_digest_not_authorized() {
    let f = fixture();
    let (digests, _) = digests();
    let sad = f.authorize("alice/1", &digests, PIN, now()).unwrap();
    let other = vec![ssa::HashAlgorithm::Sha256.digest(b"not approved")];
    let error = f
        .service
        .sign_documents("alice/1", &sad, &other, &SignOptions::default(), now())
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::Sad(SadError::DigestNotBound { .. })),
        "{error:?}"
    );
    f.last_failure();
    f.service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), now())
        .unwrap();
    let error = f
        .service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), now())
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::Sad(SadError::SadExhausted { .. })),
        "{error:?}"
    );
    f.last_failure();
}

#[test]
fn certificate_for_another_key_is_refused() {
    let f = fixture();
    let other = Certificate::from_der(&pki().cosigner.cert_der).unwrap();
    let error = f
        .service
        .install_certificate("alice/1", &[other], now())
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Policy(ssa::policy::PolicyError::KeyMismatch)
        ),
        "{error:?}"
    );
    f.last_failure();
}

#[test]
fn expired_certificate_is_refused_at_signing() {
    let f = fixture();
    f.enroll("alice/short", 1);
    // Signed while valid first: what the service keeps of the record
    // between requests must not keep its validity.
    let early = vec![ssa::HashAlgorithm::Sha256.digest(b"early document")];
    let sad = f.authorize("alice/short", &early, PIN, now()).unwrap();
    f.service
        .sign_documents("alice/short", &sad, &early, &SignOptions::default(), now())
        .unwrap();
    let later = now() + Duration::from_secs(3 * 86_400);
    let digests = vec![ssa::HashAlgorithm::Sha256.digest(b"late document")];
    let sad = f.authorize("alice/short", &digests, PIN, later).unwrap();
    let error = f
        .service
        .sign_documents(
            "alice/short",
            &sad,
            &digests,
            &SignOptions::default(),
            later,
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Policy(ssa::policy::PolicyError::Expired)
        ),
        "{error:?}"
    );
    f.last_failure();
}

#[test]
fn scal1_sad_on_a_scal2_credential_is_refused() {
    let f = fixture();
    let digests = vec![ssa::HashAlgorithm::Sha256.digest(b"doc")];
    let t = unix(now()).0;
    let sad = f
        .rogue
        .mint(&SadClaims {
            iss: "https://external-idp.test".into(),
            aud: "sam-1".into(),
            sub: "alice".into(),
            cred: "alice/1".into(),
            mode: SigningMode::Document,
            hash_alg: HashAlgorithm::Sha256,
            hashes: digests.clone(),
            num: 1,
            scal: Scal::Scal1,
            amr: vec![Amr::Pin],
            iat: t,
            exp: t + 60,
            jti: "external-1".into(),
        })
        .unwrap();
    let error = f
        .service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), now())
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Sad(SadError::ScalTooLow {
                required: Scal::Scal2,
                sad: Scal::Scal1
            })
        ),
        "{error:?}"
    );
    f.last_failure();
}

#[test]
fn disabled_credential_signs_nothing() {
    let f = fixture();
    let (digests, _) = digests();
    let sad = f.authorize("alice/1", &digests, PIN, now()).unwrap();
    f.service.disable("alice/1", "admin", now()).unwrap();
    let error = f
        .service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), now())
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::CredentialDisabled { .. }),
        "{error:?}"
    );
    f.last_failure();
}

#[test]
fn raw_hash_mode_signs_the_bound_dtbs_r() {
    let f = fixture();
    let dtbs_r = vec![ssa::HashAlgorithm::Sha256.digest(b"signed attributes built by the client")];
    // A SAD approved for a document signature does not buy a bare one.
    let for_documents = f.authorize("alice/1", &dtbs_r, PIN, now()).unwrap();
    let error = f
        .service
        .sign_hashes("alice/1", &for_documents, &dtbs_r, None, now())
        .unwrap_err();
    assert!(
        matches!(error, ServiceError::Sad(SadError::WrongMode { .. })),
        "{error:?}"
    );
    f.last_failure();
    let later = now() + Duration::from_secs(30);
    let sad = f
        .authorize_for(SigningMode::Dtbsr, "alice/1", &dtbs_r, PIN, later)
        .unwrap();
    // Nor the reverse.
    assert!(matches!(
        f.service
            .sign_documents("alice/1", &sad, &dtbs_r, &SignOptions::default(), now()),
        Err(ServiceError::Sad(SadError::WrongMode { .. }))
    ));
    let values = f
        .service
        .sign_hashes("alice/1", &sad, &dtbs_r, None, now())
        .unwrap();
    assert_eq!(values.len(), 1);
    // The signature is recorded as such, under the SAD's id, with its digest.
    let last = f.records().pop().unwrap();
    assert!(
        matches!(&last.entry.event, ssa::audit::Event::Signature { level, sad_id }
            if level == "raw" && !sad_id.is_empty()),
        "{last:?}"
    );
    assert_eq!(last.entry.outcome, ssa::audit::Outcome::Success);
    assert_eq!(last.entry.digests, vec![hex(&dtbs_r[0])]);
    // The value verifies as a prehashed ECDSA signature under the credential's key.
    let record = f.registry().get("alice/1").unwrap().unwrap();
    let key = ssa::PublicKey::from_spki_der(&record.public_key).unwrap();
    let message = b"signed attributes built by the client";
    key.verify(
        ssa::SignatureAlgorithm::Ecdsa(ssa::HashAlgorithm::Sha256),
        message,
        &values[0],
    )
    .unwrap();
    assert!(matches!(
        f.service.sign_hashes("alice/1", &sad, &dtbs_r, None, now()),
        Err(ServiceError::Sad(_))
    ));
}

#[test]
fn backup_and_restore_are_audited_and_refused_for_a_non_extractable_key() {
    let f = fixture();
    // alice/1 was generated without backup: export is refused, and audited.
    let error = f.service.backup_key("alice/1", "admin", now()).unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Scdev(ssa::ScdevError::NotExtractable { .. })
                | ServiceError::Scdev(ssa::ScdevError::NoBackupKey)
        ),
        "{error:?}"
    );
    let record = f.last_failure();
    assert!(matches!(record.entry.event, ssa::audit::Event::KeyBackup));
}

/// An RFC 5755 attribute certificate for `holder`, issued and signed by the
/// test PKI's `cosigner` (standing for the company's representative).
fn delegation_for(
    holder: &Certificate,
    valid_from: SystemTime,
    valid_until: SystemTime,
) -> Vec<u8> {
    use der::Encode;
    use ssa::cades::asn1::*;
    use x509_cert::ext::pkix::name::GeneralName;
    let representative = Certificate::from_der(&pki().cosigner.cert_der).unwrap();
    let algorithm = ssa::cades::algorithm::signature_algorithm(ssa::SignatureAlgorithm::Ecdsa(
        ssa::HashAlgorithm::Sha256,
    ))
    .unwrap();
    let role = der::asn1::Any::encode_from(
        &ssa::cades::delegation::role_syntax("urn:example:role:representative-director-proxy")
            .unwrap(),
    )
    .unwrap();
    let info = AttributeCertificateInfo {
        version: 1,
        holder: Holder {
            base_certificate_id: Some(AcIssuerSerial {
                issuer: vec![GeneralName::DirectoryName(
                    holder.tbs_certificate().issuer().clone(),
                )],
                serial: holder.tbs_certificate().serial_number().clone(),
                issuer_uid: None,
            }),
            entity_name: None,
        },
        issuer: AttCertIssuer::V2Form(V2Form {
            issuer_name: Some(vec![GeneralName::DirectoryName(
                representative.tbs_certificate().subject().clone(),
            )]),
            base_certificate_id: None,
        }),
        signature: algorithm.clone(),
        serial_number: x509_cert::serial_number::SerialNumber::new(&[0x42]).unwrap(),
        attr_cert_validity_period: AttCertValidityPeriod {
            not_before_time: der::asn1::GeneralizedTime::from_system_time(valid_from).unwrap(),
            not_after_time: der::asn1::GeneralizedTime::from_system_time(valid_until).unwrap(),
        },
        attributes: vec![x509_cert::attr::Attribute {
            oid: der::asn1::ObjectIdentifier::new_unwrap("2.5.4.72"),
            values: der::asn1::SetOfVec::try_from(vec![role]).unwrap(),
        }],
        issuer_unique_id: None,
        extensions: None,
    };
    let rng = ring::rand::SystemRandom::new();
    let key = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &pki().cosigner.key_pkcs8,
        &rng,
    )
    .unwrap();
    let signature = key.sign(&rng, &info.to_der().unwrap()).unwrap();
    AttributeCertificate {
        acinfo: info,
        signature_algorithm: algorithm,
        signature_value: der::asn1::BitString::from_bytes(signature.as_ref()).unwrap(),
    }
    .to_der()
    .unwrap()
}

fn alice_certificate(f: &Fixture) -> Certificate {
    let record = f.registry().get("alice/1").unwrap().unwrap();
    Certificate::from_der(&record.chain[0]).unwrap()
}

#[test]
fn delegation_is_carried_checked_and_reported() {
    let f = fixture();
    let alice = alice_certificate(&f);
    let ac = delegation_for(
        &alice,
        now() - Duration::from_secs(3600),
        now() + Duration::from_secs(86_400),
    );
    let role = "urn:example:role:%E8%B3%BC%E8%B2%B7%E9%83%A8%E9%95%B7";
    f.service
        .set_delegation("alice/1", Some(role.into()), vec![ac], "admin", now())
        .unwrap();
    let (digests, docs) = digests();
    let sad = f.authorize("alice/1", &digests, PIN, now()).unwrap();
    let signatures = f
        .service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), now())
        .unwrap();
    let (ok, said) = ssa_testkit::openssl::cms_verify_cades(
        &signatures[0],
        Some(docs[0]),
        &pki().ca.cert_pem,
        false,
    );
    assert!(ok, "{said}");
    // pyHanko reads signer-attributes-v2 (OpenSSL does not): the claimed
    // role, and the attribute certificate validated against its authority.
    let pyhanko = ssa_testkit::pyhanko::validate_cms(
        &signatures[0],
        Some(docs[0]),
        &ssa_testkit::pyhanko::Trust {
            roots: vec![&pki().ca.cert_pem],
            attribute_authorities: vec![&pki().cosigner.cert_pem],
            at: None,
        },
    );
    assert!(pyhanko.passed(0), "{}", pyhanko.output);
    // asn1crypto shows a URI as an IRI: the percent-encoded UTF-8 decoded.
    assert_eq!(
        pyhanko.all("signer 0 claimed role"),
        ["urn:example:role:購買部長"],
        "{}",
        pyhanko.output
    );
    assert_eq!(
        pyhanko.all("signer 0 certified role"),
        ["urn:example:role:representative-director-proxy"],
        "{}",
        pyhanko.output
    );
    let report = f
        .service
        .verify(&signatures[0], Document::Bytes(docs[0]), now());
    assert_eq!(report.indication(), ssa::cades::Indication::TotalPassed);
    let delegations = &report.signers[0].delegations;
    assert_eq!(delegations.len(), 1);
    let delegation = delegations[0].as_ref().unwrap();
    assert!(
        delegation.issuer.contains("Taro Suzuki"),
        "{}",
        delegation.issuer
    );
    assert_eq!(report.signers[0].claimed_roles, [role]);
}

#[test]
fn a_claimed_role_that_is_not_a_uri_is_refused() {
    let f = fixture();
    for role in [
        "購買部長",
        "purchasing manager",
        "no-scheme",
        "1urn:x",
        "urn:",
    ] {
        let error = f
            .service
            .set_delegation("alice/1", Some(role.into()), Vec::new(), "admin", now())
            .unwrap_err();
        assert!(
            matches!(
                error,
                ServiceError::Delegation(ssa::cades::delegation::DelegationError::Malformed { .. })
            ),
            "{role}: {error:?}"
        );
    }
    let record = f.registry().get("alice/1").unwrap().unwrap();
    assert_eq!(record.claimed_role, None, "nothing was written");
}

#[test]
fn delegation_for_another_holder_is_refused() {
    let f = fixture();
    let someone_else = Certificate::from_der(&pki().signer.cert_der).unwrap();
    let ac = delegation_for(
        &someone_else,
        now() - Duration::from_secs(3600),
        now() + Duration::from_secs(86_400),
    );
    let error = f
        .service
        .set_delegation("alice/1", None, vec![ac], "admin", now())
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Delegation(ssa::cades::delegation::DelegationError::WrongHolder)
        ),
        "{error:?}"
    );
    let record = f.last_failure();
    assert!(matches!(
        record.entry.event,
        ssa::audit::Event::Delegation { .. }
    ));
}

#[test]
fn expired_delegation_is_refused_at_signing() {
    let f = fixture();
    let alice = alice_certificate(&f);
    let ac = delegation_for(
        &alice,
        now() - Duration::from_secs(3600),
        now() + Duration::from_secs(600),
    );
    f.service
        .set_delegation("alice/1", None, vec![ac], "admin", now())
        .unwrap();
    let later = now() + Duration::from_secs(1200);
    let digests = vec![ssa::HashAlgorithm::Sha256.digest(b"after the delegation ended")];
    let sad = f.authorize("alice/1", &digests, PIN, later).unwrap();
    let error = f
        .service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), later)
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Delegation(
                ssa::cades::delegation::DelegationError::NotValidAtSigningTime
            )
        ),
        "{error:?}"
    );
    f.last_failure();
}

#[test]
fn a_level_the_service_cannot_make_is_refused_before_the_sad_is_used() {
    let f = fixture();
    let (digests, _) = digests();
    let sad = f.authorize("alice/1", &digests, PIN, now()).unwrap();
    let b_t = SignOptions {
        level: ssa::policy::Level::BT,
        ..SignOptions::default()
    };
    // The fixture has no TSA.
    let error = f
        .service
        .sign_documents("alice/1", &sad, &digests, &b_t, now())
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Cades(ssa::cades::CadesError::LevelUnavailable {
                level: ssa::Level::BT,
                ..
            })
        ),
        "{error:?}"
    );
    f.last_failure();
    // Nothing was spent: the same SAD signs at B-B.
    f.service
        .sign_documents("alice/1", &sad, &digests, &SignOptions::default(), now())
        .unwrap();
    // The level is refused before the SAD is even looked at: a spent SAD
    // still gets the configuration error, not a SAD error.
    let error = f
        .service
        .sign_documents("alice/1", &sad, &digests, &b_t, now())
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Cades(ssa::cades::CadesError::LevelUnavailable {
                level: ssa::Level::BT,
                ..
            })
        ),
        "{error:?}"
    );
}

/// One way a signing request must be refused before its SAD is used.
struct Refusal {
    name: &'static str,
    /// Sets the world up; returns the credential and the signing time.
    setup: fn() -> (Fixture, &'static str, SystemTime),
    /// How many digests the request names.
    digests: usize,
    /// The signature algorithm the request names (None: the key's default).
    algorithm: Option<ssa::SignatureAlgorithm>,
    /// The authenticated signer the request comes from
    /// ([`SigningService::for_signer`]); None: asked both without one and
    /// as the credential's owner, alice.
    signer: Option<&'static str>,
    expected: fn(&ServiceError) -> bool,
}

fn refusals() -> Vec<Refusal> {
    use ssa::policy::PolicyError as P;
    vec![
        Refusal {
            name: "no certificate installed",
            setup: || {
                let f = fixture();
                f.enroll_only("alice/bare");
                (f, "alice/bare", now())
            },
            digests: 1,
            algorithm: None,
            signer: None,
            expected: |e| matches!(e, ServiceError::NoCertificate { .. }),
        },
        Refusal {
            name: "expired certificate",
            setup: || {
                let f = fixture();
                f.enroll("alice/short", 1);
                (f, "alice/short", now() + Duration::from_secs(3 * 86_400))
            },
            digests: 1,
            algorithm: None,
            signer: None,
            expected: |e| matches!(e, ServiceError::Policy(P::Expired)),
        },
        Refusal {
            name: "more digests than one SAD may authorize",
            setup: || {
                let requests = RequestPolicy {
                    max_digests_per_sad: 1,
                    ..RequestPolicy::default()
                };
                (
                    fixture_with(requests, AlgorithmPolicy::default()),
                    "alice/1",
                    now(),
                )
            },
            digests: 2,
            algorithm: None,
            signer: None,
            expected: |e| matches!(e, ServiceError::Policy(P::TooManyDigests { .. })),
        },
        Refusal {
            name: "a hash the algorithm policy forbids",
            setup: || {
                let algorithms = AlgorithmPolicy::default().forbid_hash(ssa::HashAlgorithm::Sha256);
                (
                    fixture_with(RequestPolicy::default(), algorithms),
                    "alice/1",
                    now(),
                )
            },
            digests: 1,
            algorithm: None,
            signer: None,
            expected: |e| matches!(e, ServiceError::Policy(P::Algorithm { .. })),
        },
        Refusal {
            name: "a certificate whose keyUsage forbids signing",
            setup: || {
                let f = fixture();
                let csr = f.enroll_only("alice/ku");
                // install_certificate refuses it; the store is edited behind
                // the service's back, as another tool (or an older version) could.
                let der = pki().issue_from_csr(&csr, "encipher_only", 30);
                f.registry()
                    .update("alice/ku", &|r| r.chain = vec![der.clone()])
                    .unwrap();
                (f, "alice/ku", now())
            },
            digests: 1,
            algorithm: None,
            signer: None,
            expected: |e| matches!(e, ServiceError::Policy(P::KeyUsage { .. })),
        },
        Refusal {
            name: "a signature algorithm that does not fit the key",
            setup: || (fixture(), "alice/1", now()),
            digests: 1,
            algorithm: Some(ssa::SignatureAlgorithm::RsaPss(
                ssa::HashAlgorithm::Sha256,
                ssa::types::PssSalt::Digest,
            )),
            signer: None,
            expected: |e| {
                matches!(
                    e,
                    ServiceError::AlgorithmNotOffered {
                        key: KeyAlgorithm::EcP256,
                        ..
                    }
                )
            },
        },
        Refusal {
            name: "a signature algorithm the policy forbids",
            setup: || {
                let algorithms = AlgorithmPolicy::default().forbid_hash(ssa::HashAlgorithm::Sha384);
                (
                    fixture_with(RequestPolicy::default(), algorithms),
                    "alice/1",
                    now(),
                )
            },
            digests: 1,
            algorithm: Some(ssa::SignatureAlgorithm::Ecdsa(ssa::HashAlgorithm::Sha384)),
            signer: None,
            expected: |e| matches!(e, ServiceError::Policy(P::Algorithm { .. })),
        },
        Refusal {
            name: "a disabled credential",
            setup: || {
                let f = fixture();
                f.service.disable("alice/1", "admin", now()).unwrap();
                (f, "alice/1", now())
            },
            digests: 1,
            algorithm: None,
            signer: None,
            expected: |e| matches!(e, ServiceError::CredentialDisabled { .. }),
        },
        Refusal {
            name: "a credential below the SCAL the policy requires",
            setup: || {
                let f = fixture();
                // Enrolled SCAL2; its record says SCAL1, as one enrolled
                // under an older, laxer policy would. The policy requires 2.
                f.registry()
                    .update("alice/1", &|r| r.scal = Scal::Scal1)
                    .unwrap();
                (f, "alice/1", now())
            },
            digests: 1,
            algorithm: None,
            signer: None,
            expected: |e| {
                matches!(
                    e,
                    ServiceError::Policy(P::ScalBelowPolicy {
                        required: Scal::Scal2,
                        credential: Scal::Scal1
                    })
                )
            },
        },
        Refusal {
            name: "another signer's credential",
            setup: || (fixture(), "alice/1", now()),
            digests: 1,
            algorithm: None,
            signer: Some("bob"),
            expected: |e| matches!(e, ServiceError::UnknownCredential { .. }),
        },
        Refusal {
            // Answered as for one that does not exist: not "disabled".
            name: "another signer's disabled credential",
            setup: || {
                let f = fixture();
                f.service.disable("alice/1", "admin", now()).unwrap();
                (f, "alice/1", now())
            },
            digests: 1,
            algorithm: None,
            signer: Some("bob"),
            expected: |e| matches!(e, ServiceError::UnknownCredential { .. }),
        },
    ]
}

/// Every refusal, in both signing modes: the same pre-check runs before
/// the SAD is looked at, so a valid SAD and garbage get the same answer,
/// the refusal is audited, and the valid SAD is not spent.
/// How a signing request reaches the service.
#[derive(Clone, Copy, Debug)]
enum Via<'a> {
    /// `SigningService::sign_*` (no authenticated signer).
    Service,
    /// `SigningService::for_signer(signer).sign_*`.
    Signer(&'a str),
    /// `SigningService::sign_*_pending`, then `wait`.
    Pending,
}

#[test]
fn both_signing_modes_refuse_the_same_requests_before_the_sad_is_used() {
    for refusal in refusals() {
        for mode in [SigningMode::Document, SigningMode::Dtbsr] {
            let (f, credential, at) = (refusal.setup)();
            let hash = refusal
                .algorithm
                .and_then(|a| a.hash())
                .unwrap_or(ssa::HashAlgorithm::Sha256);
            let digests: Vec<Vec<u8>> = (0..refusal.digests)
                .map(|i| hash.digest(format!("doc {i}").as_bytes()))
                .collect();
            // The SAD is minted as the signer would get it (the issuer does
            // not look at certificates or the request policy).
            let sad = f
                .authorize_for(mode, credential, &digests, PIN, at)
                .unwrap_or_else(|e| panic!("{}: {mode:?}: authorize: {e:?}", refusal.name));
            let options = SignOptions {
                algorithm: refusal.algorithm,
                ..SignOptions::default()
            };
            let sign = |sad: &Sad, via: Via<'_>| match (mode, via) {
                (SigningMode::Document, Via::Service) => f
                    .service
                    .sign_documents(credential, sad, &digests, &options, at),
                (SigningMode::Document, Via::Signer(signer)) => f
                    .service
                    .for_signer(signer)
                    .sign_documents(credential, sad, &digests, &options, at),
                (SigningMode::Document, Via::Pending) => f
                    .service
                    .sign_documents_pending(credential, sad, &digests, &options, at)
                    .and_then(ssa::PendingSignatures::wait),
                (_, Via::Service) => {
                    f.service
                        .sign_hashes(credential, sad, &digests, refusal.algorithm, at)
                }
                (_, Via::Signer(signer)) => f.service.for_signer(signer).sign_hashes(
                    credential,
                    sad,
                    &digests,
                    refusal.algorithm,
                    at,
                ),
                (_, Via::Pending) => f
                    .service
                    .sign_hashes_pending(credential, sad, &digests, refusal.algorithm, at)
                    .and_then(ssa::PendingSignatures::wait),
            };
            // Without a named signer: as the service, as the owner, and up
            // to the disk (`…_pending`, then `wait`).
            let vias = match refusal.signer {
                Some(signer) => vec![Via::Signer(signer)],
                None => vec![Via::Service, Via::Signer("alice"), Via::Pending],
            };
            for via in vias {
                for presented in [sad.clone(), Sad::new("not a SAD")] {
                    let Err(error) = sign(&presented, via) else {
                        panic!("{}: {mode:?}: {via:?}: signed", refusal.name);
                    };
                    assert!(
                        (refusal.expected)(&error),
                        "{}: {mode:?}: {via:?}: {error:?}",
                        refusal.name
                    );
                    f.last_failure();
                }
            }
        }
    }
}

#[test]
fn enrolment_below_the_policys_scal_is_refused_and_creates_nothing() {
    let f = fixture();
    let error = f
        .service
        .enroll(
            EnrolmentRequest {
                credential: "bob/1".into(),
                signer: "bob".into(),
                evidence: "KYC-2026-0043".into(),
                key: KeySpec::new(KeyAlgorithm::EcP256),
                scal: Scal::Scal1,
                subject: "CN=Bob Example".parse().unwrap(),
                pin: Some(Pin::new(PIN)),
                totp: None,
                device_key: None,
            },
            now(),
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            ServiceError::Policy(ssa::policy::PolicyError::ScalBelowPolicy {
                required: Scal::Scal2,
                credential: Scal::Scal1
            })
        ),
        "{error:?}"
    );
    f.last_failure();
    assert!(f.registry().get("bob/1").unwrap().is_none());
}

#[test]
fn the_registry_holds_no_pin_verifier_in_the_clear() {
    let f = fixture();
    for entry in std::fs::read_dir(f.dir.path().join("registry")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("argon2"), "a PIN verifier in the clear");
    }
    let record = f.registry().get("alice/1").unwrap().unwrap();
    assert!(record.factors.pin.is_some());
    assert!(!format!("{record:?}").contains("argon2"));
}

#[test]
fn ids_the_file_registry_cannot_round_trip_are_refused() {
    let f = fixture();
    let registry = f.registry();
    let mut record = registry.get("alice/1").unwrap().unwrap();
    for (id, what) in [
        (String::new(), "empty"),
        ("x".repeat(ssa::store::MAX_ID_LEN + 1), "too long"),
    ] {
        record.id = id.clone();
        let error = registry.create(&record).unwrap_err();
        assert!(
            matches!(error, ServiceError::InvalidCredentialId { .. }),
            "{what}: {error:?}"
        );
        // No store could hold it, so none has it.
        assert!(registry.get(&id).unwrap().is_none());
        // Through the service, the enrolment is refused and creates nothing.
        let error = f
            .service
            .enroll(
                EnrolmentRequest {
                    credential: id.clone(),
                    signer: "alice".into(),
                    evidence: "e".into(),
                    key: KeySpec::new(KeyAlgorithm::EcP256),
                    scal: Scal::Scal2,
                    subject: "CN=x".parse().unwrap(),
                    pin: Some(Pin::new(PIN)),
                    totp: Some((f.seed.clone(), TotpConfig::default())),
                    device_key: None,
                },
                now(),
            )
            .unwrap_err();
        assert!(
            matches!(error, ServiceError::InvalidCredentialId { .. }),
            "{what}: {error:?}"
        );
    }
    // What is stored is exactly what list() returns.
    let listed: Vec<String> = registry
        .list(None)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, vec!["alice/1".to_owned()]);
    // The longest id stored round-trips.
    record.id = "y".repeat(ssa::store::MAX_ID_LEN);
    registry.create(&record).unwrap();
    assert_eq!(registry.list(None).unwrap().len(), 2);
}

#[test]
fn a_signer_sees_only_their_own_credentials() {
    let f = fixture();
    f.enroll("alice/2", 30);
    // bob enrols too, with his own credential.
    f.service
        .enroll(
            EnrolmentRequest {
                credential: "bob/1".into(),
                signer: "bob".into(),
                evidence: "KYC-2026-0044".into(),
                key: KeySpec::new(KeyAlgorithm::EcP256),
                scal: Scal::Scal2,
                subject: "CN=Bob Example".parse().unwrap(),
                pin: Some(Pin::new(PIN)),
                totp: Some((f.seed.clone(), TotpConfig::default())),
                device_key: None,
            },
            now(),
        )
        .unwrap();
    assert_eq!(
        f.service.credentials_of("alice").unwrap(),
        vec!["alice/1".to_owned(), "alice/2".to_owned()]
    );
    assert_eq!(
        f.service.credentials_of("bob").unwrap(),
        vec!["bob/1".to_owned()]
    );
    assert!(f.service.credentials_of("mallory").unwrap().is_empty());
    // Asking for another signer's credential is answered as for none.
    for (signer, credential) in [
        ("alice", "bob/1"),
        ("bob", "alice/1"),
        ("alice", "nobody/1"),
    ] {
        let error = f
            .service
            .credential_info(signer, credential, now())
            .unwrap_err();
        assert!(
            matches!(&error, ServiceError::UnknownCredential { credential: c } if c == credential),
            "{signer} asking for {credential}: {error:?}"
        );
    }
    let info = f
        .service
        .credential_info("alice", "alice/1", now())
        .unwrap();
    assert_eq!(info.key, KeyAlgorithm::EcP256);
    assert_eq!(info.scal, Scal::Scal2);
    assert_eq!(info.factors, vec![Amr::Pin, Amr::Otp]);
    assert_eq!(info.chain.len(), 1);
    assert_eq!(info.max_digests_per_sad, 100);
    assert!(!info.disabled);
    use ssa::{HashAlgorithm as H, SignatureAlgorithm as S};
    assert_eq!(
        info.document_algorithms,
        vec![
            S::Ecdsa(H::Sha256),
            S::Ecdsa(H::Sha384),
            S::Ecdsa(H::Sha512)
        ]
    );
    assert_eq!(info.dtbsr_algorithms, info.document_algorithms);
    // What the policy forbids is not offered.
    let strict = fixture_with(
        RequestPolicy::default(),
        AlgorithmPolicy::default().forbid_hash(H::Sha512),
    );
    let offered = strict
        .service
        .credential_info("alice", "alice/1", now())
        .unwrap()
        .document_algorithms;
    assert_eq!(offered, vec![S::Ecdsa(H::Sha256), S::Ecdsa(H::Sha384)]);
}

#[test]
fn the_signature_algorithm_is_chosen_per_request() {
    use ssa::{HashAlgorithm as H, SignatureAlgorithm as S};
    let f = fixture();
    let algorithm = S::Ecdsa(H::Sha384);
    // Raw mode: SHA-384 DTBS/R, signed as asked.
    let message = b"signed attributes the client built";
    let dtbs_r = vec![H::Sha384.digest(message)];
    let sad = f
        .authorize_for(SigningMode::Dtbsr, "alice/1", &dtbs_r, PIN, now())
        .unwrap();
    let values = f
        .service
        .sign_hashes("alice/1", &sad, &dtbs_r, Some(algorithm), now())
        .unwrap();
    let record = f.registry().get("alice/1").unwrap().unwrap();
    let key = ssa::PublicKey::from_spki_der(&record.public_key).unwrap();
    key.verify(algorithm, message, &values[0]).unwrap();
    assert!(
        key.verify(S::Ecdsa(H::Sha256), message, &values[0])
            .is_err()
    );
    // Document mode: a SHA-384 document digest, a CAdES signature OpenSSL accepts.
    let document: &[u8] = b"a document signed with ECDSA over SHA-384";
    let digests = vec![H::Sha384.digest(document)];
    let later = now() + Duration::from_secs(30);
    let sad = f
        .authorize_for(SigningMode::Document, "alice/1", &digests, PIN, later)
        .unwrap();
    let options = SignOptions {
        algorithm: Some(algorithm),
        ..SignOptions::default()
    };
    let signatures = f
        .service
        .sign_documents("alice/1", &sad, &digests, &options, now())
        .unwrap();
    let (ok, said) = ssa_testkit::openssl::cms_verify_cades(
        &signatures[0],
        Some(document),
        &pki().ca.cert_pem,
        false,
    );
    assert!(ok, "{said}");
}

#[test]
fn a_b_t_signature_through_the_service_carries_a_time_stamp() {
    let tsa = ssa_testkit::tsa::OpensslTsa::start();
    let url = tsa.url();
    let f = fixture_built(|builder| builder.tsa(Box::new(ssa::cades::HttpTsa::new(&url).unwrap())));
    let (digests, docs) = digests();
    let sad = f.authorize("alice/1", &digests, PIN, now()).unwrap();
    let b_t = SignOptions {
        level: ssa::Level::BT,
        ..SignOptions::default()
    };
    let signatures = f
        .service
        .sign_documents("alice/1", &sad, &digests, &b_t, now())
        .unwrap();
    assert_eq!(tsa.served(), 2, "one time-stamp per signature");
    for (signature, doc) in signatures.iter().zip(docs) {
        let report = f.service.verify(signature, Document::Bytes(doc), now());
        assert_eq!(report.indication(), ssa::cades::Indication::TotalPassed);
        assert_eq!(report.signers[0].level, Some(ssa::Level::BT));
        let (ok, said) =
            ssa_testkit::openssl::cms_verify_cades(signature, Some(doc), &pki().ca.cert_pem, false);
        assert!(ok, "{said}");
    }
    // A B-B request on the same service is not time-stamped.
    let more = vec![ssa::HashAlgorithm::Sha256.digest(b"a third document")];
    let later = now() + Duration::from_secs(30);
    let sad = f.authorize("alice/1", &more, PIN, later).unwrap();
    let b_b = f
        .service
        .sign_documents("alice/1", &sad, &more, &SignOptions::default(), later)
        .unwrap();
    assert_eq!(tsa.served(), 2);
    let report = f
        .service
        .verify(&b_b[0], Document::Bytes(b"a third document"), later);
    assert_eq!(report.signers[0].level, Some(ssa::Level::BB));
}

#[test]
fn a_failed_enrolment_leaves_no_key_behind() {
    let f = fixture();
    // SCAL2 with a PIN only: the issuer refuses, after the key was made.
    let request = |totp| EnrolmentRequest {
        credential: "carol/1".into(),
        signer: "carol".into(),
        evidence: "KYC-2026-0045".into(),
        key: KeySpec::new(KeyAlgorithm::EcP256),
        scal: Scal::Scal2,
        subject: "CN=Carol Example".parse().unwrap(),
        pin: Some(Pin::new(PIN)),
        totp,
        device_key: None,
    };
    let error = f.service.enroll(request(None), now()).unwrap_err();
    assert!(
        matches!(error, ServiceError::Sad(SadError::InvalidEnrolment { .. })),
        "{error:?}"
    );
    assert!(f.registry().get("carol/1").unwrap().is_none());
    // The key id is free again: a full enrolment under it succeeds (a key
    // left behind would make this KeyExists).
    f.service
        .enroll(
            request(Some((f.seed.clone(), TotpConfig::default()))),
            now(),
        )
        .unwrap();
}

/// The facade signs at B-LTA: with a TSA and a revocation source, each
/// signature of a batch is time-stamped, gets its validation data (its
/// signer's and its TSA's) and an archive time-stamp; every archive token
/// passes `openssl ts -verify` over an imprint rebuilt by asn1crypto.
#[test]
fn the_facade_signs_at_b_lta() {
    let ca = ssa_testkit::revocation::RevocationCa::start("facade B-LTA CA");
    let tsa = ssa_testkit::tsa::OpensslTsa::start_with(&ca.issue("facade B-LTA TSA", "tsa"));
    let anchor = Certificate::from_der(&ca.ca.cert_der).unwrap();
    let f = fixture_built(|builder| {
        builder
            .anchors(vec![
                Certificate::from_der(&pki().ca.cert_der).unwrap(),
                anchor.clone(),
            ])
            .tsa(Box::new(ssa::cades::HttpTsa::new(&tsa.url()).unwrap()))
            .revocation(Box::new(ssa::cades::HttpRevocationSource::default()))
            .requests(RequestPolicy {
                allowed_levels: vec![ssa::policy::Level::BLta],
                ..RequestPolicy::default()
            })
    });
    let csr = f.enroll_only("alice/2");
    let cert = Certificate::from_der(&ca.issue_from_csr(&csr)).unwrap();
    f.service
        .install_certificate("alice/2", &[cert], now())
        .unwrap();
    let (digests, docs) = digests();
    let sad = f.authorize("alice/2", &digests, PIN, now()).unwrap();
    let options = SignOptions {
        level: ssa::policy::Level::BLta,
        ..SignOptions::default()
    };
    let signatures = f
        .service
        .sign_documents("alice/2", &sad, &digests, &options, now())
        .unwrap();
    assert_eq!(signatures.len(), docs.len());
    for (signature, doc) in signatures.iter().zip(&docs) {
        let report = f.service.verify(signature, Document::Bytes(doc), now());
        assert_eq!(
            report.indication(),
            ssa::cades::Indication::TotalPassed,
            "{report:#?}"
        );
        assert_eq!(report.signers[0].level, Some(ssa::policy::Level::BLta));
        let imprints = ssa_testkit::pyhanko::archive_imprints(signature, doc);
        assert_eq!(imprints.len(), 1);
        for imprint in imprints {
            assert!(imprint.index_ok);
            let (ok, said) =
                ssa_testkit::tsa::ts_verify(&imprint.token, &imprint.input, &ca.ca_pem());
            assert!(ok, "{said}");
        }
    }
}

/// Requests of one second share what their signatures have in common
/// (the template the service keeps per credential record): each still
/// carries its own signing time, algorithm and document, and verifies.
#[test]
fn requests_within_one_second_share_a_template_and_keep_their_own_time_and_algorithm() {
    use ssa::{HashAlgorithm as H, SignatureAlgorithm as S};
    let f = fixture();
    let second = now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 5;
    let at = |millis: u64| UNIX_EPOCH + Duration::from_millis(second * 1000 + millis);
    // The last one names its MIME type: an optional attribute, which no
    // shared template may leave out.
    let cases: [(u64, S, u64, &[u8]); 5] = [
        (100, S::Ecdsa(H::Sha256), 0, b"first in the second"),
        (600, S::Ecdsa(H::Sha256), 0, b"second in the same second"),
        (1_200, S::Ecdsa(H::Sha256), 1, b"the next second"),
        (
            1_300,
            S::Ecdsa(H::Sha384),
            1,
            b"same second, another algorithm",
        ),
        (
            1_400,
            S::Ecdsa(H::Sha384),
            1,
            b"same second, with a MIME type",
        ),
    ];
    for (i, (millis, algorithm, later, document)) in cases.into_iter().enumerate() {
        let mut attributes = ssa::cades::SignedAttributeOptions::default();
        if i == 4 {
            attributes.mime_type = Some("text/x-ssa-test".to_owned());
        }
        let hash = algorithm.hash().unwrap();
        let digests = vec![hash.digest(document)];
        // Each authorization in a TOTP step of its own, before the signing.
        let asked = at(millis) - Duration::from_secs(30 * (5 - i as u64));
        let sad = f
            .authorize_for(SigningMode::Document, "alice/1", &digests, PIN, asked)
            .unwrap();
        let options = SignOptions {
            algorithm: Some(algorithm),
            attributes,
            ..SignOptions::default()
        };
        let signature = f
            .service
            .sign_documents("alice/1", &sad, &digests, &options, at(millis))
            .unwrap()
            .pop()
            .unwrap();
        let mime: &[u8] = b"text/x-ssa-test";
        assert_eq!(
            signature.windows(mime.len()).any(|w| w == mime),
            i == 4,
            "{document:?}"
        );
        let report = f
            .service
            .verify(&signature, Document::Bytes(document), at(millis));
        assert_eq!(
            report.indication(),
            ssa::cades::Indication::TotalPassed,
            "{document:?}: {report:?}"
        );
        assert_eq!(
            report.signers[0].claimed_signing_time,
            Some(UNIX_EPOCH + Duration::from_secs(second + later)),
            "{document:?}"
        );
        let (ok, said) = ssa_testkit::openssl::cms_verify_cades(
            &signature,
            Some(document),
            &pki().ca.cert_pem,
            false,
        );
        assert!(ok, "{document:?}: {said}");
    }
}
