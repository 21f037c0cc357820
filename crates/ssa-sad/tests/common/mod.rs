//! A small world for SAD tests: an issuer, a SAM, a credential, a clock.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

use std::sync::Arc;

use ssa_sad::*;

pub const ISS: &str = "https://idp.ssa.test";
pub const AUD: &str = "sam-1";
pub const NOW: UnixTime = UnixTime(1_800_000_000);
pub const PIN: &str = "482916";

/// A light Argon2id cost for tests (the default cost is tested on its own).
pub const TEST_PIN_POLICY: PinPolicy = PinPolicy {
    m_cost: 256,
    t_cost: 1,
    p_cost: 1,
    min_len: 4,
};

pub struct World {
    pub issuer: SadIssuer,
    pub sam: SadVerifier,
    /// A second handle on the issuer's key, to mint claims no honest issuer would.
    pub minter: SadSigningKey,
    /// The issuer key's PKCS#8, to sign payloads `mint` would not write.
    pub minter_pkcs8: Vec<u8>,
    pub minter_alg: SadAlgorithm,
    pub lockout: Arc<dyn LockoutStore>,
    pub ledger: Arc<dyn ConsumptionLedger>,
    pub seed: TotpSeed,
    pub totp: TotpConfig,
    pub device: ring::signature::EcdsaKeyPair,
}

pub fn digests(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| vec![i as u8 + 1; HashAlgorithm::Sha256.digest_len()])
        .collect()
}

pub fn world_with(
    alg: SadAlgorithm,
    lockout: Arc<dyn LockoutStore>,
    ledger: Arc<dyn ConsumptionLedger>,
) -> World {
    let (key, pkcs8) = SadSigningKey::generate(alg).unwrap();
    let minter = SadSigningKey::from_pkcs8(alg, &pkcs8).unwrap();
    let mut config = IssuerConfig::new(ISS, AUD);
    config.pin_policy = TEST_PIN_POLICY;
    let issuer = SadIssuer::new(
        config,
        key,
        SeedKey::generate().unwrap(),
        Arc::clone(&lockout),
    );
    let sam = SadVerifier::new(SamConfig::new(AUD), Arc::clone(&ledger))
        .trust(ISS, issuer.verifying_key());
    let rng = ring::rand::SystemRandom::new();
    let device_pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let device = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        device_pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let world = World {
        issuer,
        sam,
        minter,
        minter_pkcs8: pkcs8.to_vec(),
        minter_alg: alg,
        lockout,
        ledger,
        seed: TotpSeed::new(b"a TOTP seed of 20 b".iter().chain(b"!").copied().collect()).unwrap(),
        totp: TotpConfig::default(),
        device,
    };
    world.enroll("cred-2", "signer-2", Scal::Scal2);
    world.enroll("cred-1", "signer-1", Scal::Scal1);
    world
}

pub fn world() -> World {
    world_with(
        SadAlgorithm::Es256,
        Arc::new(MemoryLockoutStore::new()),
        Arc::new(MemoryLedger::new()),
    )
}

impl World {
    pub fn enroll(&self, credential: &str, signer: &str, scal: Scal) {
        use ring::signature::KeyPair;
        self.issuer
            .enroll(Enrolment {
                credential: credential.into(),
                signer: signer.into(),
                scal,
                pin: Some(Pin::new(PIN)),
                totp: Some((self.seed.clone(), self.totp)),
                device_key: Some(DeviceKey::P256(self.device.public_key().as_ref().to_vec())),
            })
            .unwrap();
    }

    /// Signs any payload with the issuer's key as a compact JWS: the way
    /// to test what the SAM does with claims `mint` would never write.
    pub fn sign_payload(&self, payload: &[u8]) -> Sad {
        let header = b64(format!(
            r#"{{"alg":"{}","typ":"sad+jwt","kid":"{}"}}"#,
            self.minter_alg.name(),
            self.minter.kid()
        )
        .as_bytes());
        let input = format!("{header}.{}", b64(payload));
        let rng = ring::rand::SystemRandom::new();
        let signature = match self.minter_alg {
            SadAlgorithm::Es256 => ring::signature::EcdsaKeyPair::from_pkcs8(
                &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &self.minter_pkcs8,
                &rng,
            )
            .unwrap()
            .sign(&rng, input.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec(),
            _ => ring::signature::Ed25519KeyPair::from_pkcs8(&self.minter_pkcs8)
                .unwrap()
                .sign(input.as_bytes())
                .as_ref()
                .to_vec(),
        };
        Sad::new(format!("{input}.{}", b64(&signature)))
    }

    pub fn otp(&self, time: UnixTime) -> Otp {
        ssa_sad::factor::totp::code_at(&self.seed, &self.totp, time)
    }

    /// A SAD from the honest issuer: PIN + TOTP at `NOW`.
    pub fn authorize(
        &self,
        credential: &str,
        digests: &[Vec<u8>],
        num: u32,
    ) -> Result<Sad, SadError> {
        self.authorize_with(
            credential,
            digests,
            num,
            Some(Pin::new(PIN)),
            Some(self.otp(NOW)),
            NOW,
        )
    }

    pub fn authorize_with(
        &self,
        credential: &str,
        digests: &[Vec<u8>],
        num: u32,
        pin: Option<Pin>,
        otp: Option<Otp>,
        now: UnixTime,
    ) -> Result<Sad, SadError> {
        self.issuer
            .authorize(
                &AuthorizationRequest {
                    credential,
                    mode: SigningMode::Document,
                    hash_alg: HashAlgorithm::Sha256,
                    digests,
                    num,
                    lifetime: 300,
                    factors: PresentedFactors {
                        pin,
                        otp,
                        device: None,
                    },
                },
                now,
            )
            .map(|authorized| authorized.sad)
    }

    /// Valid SCAL2 claims for cred-2 over `digests`.
    pub fn claims(&self, digests: &[Vec<u8>]) -> SadClaims {
        SadClaims {
            iss: ISS.into(),
            aud: AUD.into(),
            sub: "signer-2".into(),
            cred: "cred-2".into(),
            mode: SigningMode::Document,
            hash_alg: HashAlgorithm::Sha256,
            hashes: digests.to_vec(),
            num: digests.len() as u32,
            scal: Scal::Scal2,
            amr: vec![Amr::Pin, Amr::Otp],
            iat: NOW.0,
            exp: NOW.0 + 300,
            jti: format!("jti-{}", digests.len()),
        }
    }

    pub fn request<'a>(
        &self,
        credential: &'a str,
        scal: Scal,
        digests: &'a [Vec<u8>],
    ) -> ActivationRequest<'a> {
        ActivationRequest {
            credential,
            signer: owner(credential),
            mode: SigningMode::Document,
            credential_scal: scal,
            hash_alg: HashAlgorithm::Sha256,
            digests,
        }
    }

    /// After a refusal: the SAD is still whole, every digest signable once.
    pub fn assert_untouched(&self, sad: &Sad, credential: &str, scal: Scal, digests: &[Vec<u8>]) {
        for digest in digests {
            let one = [digest.clone()];
            let activation = self
                .sam
                .activate(sad, &self.request(credential, scal, &one), NOW)
                .unwrap();
            activation.commit().unwrap();
        }
    }
}

/// The signer the test world enrols each credential for (`cred-N` → `signer-N`).
pub fn owner(credential: &str) -> &'static str {
    match credential {
        "cred-1" => "signer-1",
        "cred-2" => "signer-2",
        _ => "signer-of-an-unknown-credential",
    }
}

/// Rebuilds a token from its three parts.
pub fn split(sad: &Sad) -> (String, String, String) {
    let parts: Vec<&str> = sad.as_str().split('.').collect();
    (
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    )
}

pub fn b64(bytes: &[u8]) -> String {
    use base64ct::Encoding;
    base64ct::Base64UrlUnpadded::encode_string(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    use base64ct::Encoding;
    base64ct::Base64UrlUnpadded::decode_vec(text).unwrap()
}
