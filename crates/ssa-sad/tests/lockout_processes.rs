//! Two processes share one `FileLockoutStore` directory and one
//! `FileChallengeStore`: every failure is counted, the lock comes after
//! exactly the limit however the attempts interleave, one TOTP code mints
//! one SAD, and one device-key answer mints one SAD.
//!
//! Own harness: the binary is the parent (no arguments) or a child
//! (`pins DIR LIMIT N`, `totp DIR STEPS START_MS`, `device DIR START_MS`),
//! which prints one line per attempt's outcome.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ssa_sad::*;

const NOW: u64 = 1_800_000_000;
const PIN: &str = "482916";
const SEED: &[u8] = b"a TOTP seed of 20 b!";

/// The issuer every process builds over the shared directory: same keys,
/// same enrolment (restored from the parent's), the shared lockout store.
fn issuer(dir: &Path, max_failures: u32) -> SadIssuer {
    let mut config = IssuerConfig::new("iss", "sam");
    config.max_failures = max_failures;
    config.pin_policy = PinPolicy {
        m_cost: 64,
        t_cost: 1,
        p_cost: 1,
        min_len: 4,
    };
    let key = SadSigningKey::from_pkcs8(
        SadAlgorithm::Es256,
        &std::fs::read(dir.join("issuer.p8")).unwrap(),
    )
    .unwrap();
    let issuer = SadIssuer::new(
        config,
        key,
        SeedKey::from_bytes([7; 32]),
        Arc::new(FileLockoutStore::open(dir.join("lockout")).unwrap()),
    )
    .with_challenge_store(Arc::new(
        FileChallengeStore::open(dir.join("challenges")).unwrap(),
    ));
    let factors: EnrolledFactors =
        serde_json::from_slice(&std::fs::read(dir.join("factors.json")).unwrap()).unwrap();
    issuer.restore("cred", factors).unwrap();
    issuer
}

fn request<'a>(digests: &'a [Vec<u8>], pin: &str, otp: Option<Otp>) -> AuthorizationRequest<'a> {
    AuthorizationRequest {
        credential: "cred",
        mode: SigningMode::Document,
        hash_alg: HashAlgorithm::Sha256,
        digests,
        num: 1,
        lifetime: 60,
        factors: PresentedFactors {
            pin: Some(Pin::new(pin)),
            otp,
            device: None,
        },
    }
}

fn outcome(result: Result<Authorized, SadError>) -> &'static str {
    match result {
        Ok(_) => "minted",
        Err(SadError::AuthenticationFailed { .. }) => "failed",
        Err(SadError::Locked { .. }) => "locked",
        Err(SadError::UnknownChallenge) => "unknown",
        Err(other) => panic!("unexpected refusal: {other:?}"),
    }
}

/// A child: `count` wrong PINs, as fast as it can.
fn wrong_pins(dir: &Path, max_failures: u32, count: usize) {
    let issuer = issuer(dir, max_failures);
    let digests = vec![vec![1u8; 32]];
    let seed = TotpSeed::new(SEED.to_vec()).unwrap();
    for _ in 0..count {
        // The right code with a wrong PIN: a guess by whoever holds the
        // authenticator but not the PIN.
        let otp = factor::totp::code_at(&seed, &TotpConfig::default(), UnixTime(NOW));
        let result = issuer.authorize(&request(&digests, "000000", Some(otp)), UnixTime(NOW));
        println!("{}", outcome(result));
    }
}

/// A child: for each of `steps` TOTP steps, waits for that step's slot on
/// the wall clock (shared with the other child), then presents the right
/// PIN and that step's code. Both children hit each step together.
fn totp_race(dir: &Path, steps: u64, start_ms: u64) {
    let issuer = issuer(dir, 1000);
    let seed = TotpSeed::new(SEED.to_vec()).unwrap();
    let digests = vec![vec![2u8; 32]];
    for step in 0..steps {
        let slot = UNIX_EPOCH + Duration::from_millis(start_ms + step * 40);
        if let Ok(wait) = slot.duration_since(SystemTime::now()) {
            std::thread::sleep(wait);
        }
        let at = UnixTime(NOW + 30 * step);
        let otp = factor::totp::code_at(&seed, &TotpConfig::default(), at);
        let result = issuer.authorize(&request(&digests, PIN, Some(otp)), at);
        println!("{step} {}", outcome(result));
    }
}

/// A child: answers each challenge the parent left in `answers.json` at
/// its wall-clock slot (shared with the other child), with the right PIN.
fn device_race(dir: &Path, start_ms: u64) {
    let issuer = issuer(dir, 1000);
    let answers: Vec<(String, Vec<u8>)> =
        serde_json::from_slice(&std::fs::read(dir.join("answers.json")).unwrap()).unwrap();
    let digests = vec![vec![3u8; 32]];
    for (i, (id, signature)) in answers.into_iter().enumerate() {
        let slot = UNIX_EPOCH + Duration::from_millis(start_ms + i as u64 * 40);
        if let Ok(wait) = slot.duration_since(SystemTime::now()) {
            std::thread::sleep(wait);
        }
        let mut request = request(&digests, PIN, None);
        request.factors.device = Some(DeviceResponse {
            challenge_id: id,
            signature,
        });
        println!("{i} {}", outcome(issuer.authorize(&request, UnixTime(NOW))));
    }
}

fn set_up() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (_, pkcs8) = SadSigningKey::generate(SadAlgorithm::Es256).unwrap();
    std::fs::write(dir.path().join("issuer.p8"), &*pkcs8).unwrap();
    // Enrol once, here; the children restore what this wrote.
    let key = SadSigningKey::from_pkcs8(SadAlgorithm::Es256, &pkcs8).unwrap();
    let mut config = IssuerConfig::new("iss", "sam");
    config.pin_policy = PinPolicy {
        m_cost: 64,
        t_cost: 1,
        p_cost: 1,
        min_len: 4,
    };
    let enrolling = SadIssuer::new(
        config,
        key,
        SeedKey::from_bytes([7; 32]),
        Arc::new(MemoryLockoutStore::new()),
    );
    let factors = enrolling
        .enroll(Enrolment {
            credential: "cred".into(),
            signer: "signer".into(),
            scal: Scal::Scal2,
            pin: Some(Pin::new(PIN)),
            totp: Some((TotpSeed::new(SEED.to_vec()).unwrap(), TotpConfig::default())),
            device_key: Some(DeviceKey::P256(device_public(dir.path()))),
        })
        .unwrap();
    std::fs::write(
        dir.path().join("factors.json"),
        serde_json::to_vec(&factors).unwrap(),
    )
    .unwrap();
    dir
}

/// Runs two children with `args` at once; their output lines, together.
fn two_children(args: &[String]) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let running: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .args(args)
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut lines = Vec::new();
    for child in running {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "a child failed: {out:?}");
        lines.extend(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(str::to_owned),
        );
    }
    lines
}

fn every_failure_is_counted() -> Result<(), String> {
    let dir = set_up();
    let d = dir.path().to_str().unwrap().to_owned();
    let lines = two_children(&["pins".into(), d, "10000".into(), "100".into()]);
    let failed = lines.iter().filter(|l| *l == "failed").count();
    let state = FileLockoutStore::open(dir.path().join("lockout"))
        .unwrap()
        .load("cred")
        .unwrap();
    if failed != 200 || state.failures != 200 {
        return Err(format!(
            "200 wrong PINs from two processes: {failed} refused, {} counted",
            state.failures
        ));
    }
    Ok(())
}

fn locked_after_exactly_the_limit() -> Result<(), String> {
    let dir = set_up();
    let d = dir.path().to_str().unwrap().to_owned();
    let lines = two_children(&["pins".into(), d, "5".into(), "20".into()]);
    let failed = lines.iter().filter(|l| *l == "failed").count();
    let locked = lines.iter().filter(|l| *l == "locked").count();
    let state = FileLockoutStore::open(dir.path().join("lockout"))
        .unwrap()
        .load("cred")
        .unwrap();
    if failed != 5 || locked != 35 || state.failures != 5 || !state.locked {
        return Err(format!(
            "limit 5, 40 wrong PINs from two processes: {failed} guesses judged, \
             {locked} refused as locked, state {state:?}"
        ));
    }
    Ok(())
}

fn one_totp_code_mints_one_sad() -> Result<(), String> {
    let dir = set_up();
    let d = dir.path().to_str().unwrap().to_owned();
    let steps = 40u64;
    let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_millis(300);
    let lines = two_children(&[
        "totp".into(),
        d,
        steps.to_string(),
        start.as_millis().to_string(),
    ]);
    for step in 0..steps {
        let minted = lines
            .iter()
            .filter(|l| **l == format!("{step} minted"))
            .count();
        if minted != 1 {
            return Err(format!(
                "TOTP step {step} presented by two processes at once minted {minted} SADs"
            ));
        }
    }
    Ok(())
}

/// The signer's device key, made once per test directory.
fn device(dir: &Path) -> ring::signature::EcdsaKeyPair {
    let path = dir.join("device.p8");
    let rng = ring::rand::SystemRandom::new();
    if !path.exists() {
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        std::fs::write(&path, pkcs8.as_ref()).unwrap();
    }
    ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &std::fs::read(&path).unwrap(),
        &rng,
    )
    .unwrap()
}

fn device_public(dir: &Path) -> Vec<u8> {
    use ring::signature::KeyPair;
    device(dir).public_key().as_ref().to_vec()
}

fn one_device_answer_mints_one_sad() -> Result<(), String> {
    let dir = set_up();
    // The parent issues the challenges and the device answers them; the
    // children present each answer at the same moment.
    let issuer = issuer(dir.path(), 1000);
    let device = device(dir.path());
    let rng = ring::rand::SystemRandom::new();
    let digests = vec![vec![3u8; 32]];
    let answers: Vec<(String, Vec<u8>)> = (0..20)
        .map(|_| {
            let challenge = issuer
                .device_challenge(
                    "cred",
                    SigningMode::Document,
                    HashAlgorithm::Sha256,
                    &digests,
                    UnixTime(NOW),
                )
                .unwrap();
            let signature = device.sign(&rng, &challenge.message).unwrap();
            (challenge.id, signature.as_ref().to_vec())
        })
        .collect();
    std::fs::write(
        dir.path().join("answers.json"),
        serde_json::to_vec(&answers).unwrap(),
    )
    .unwrap();
    let start = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_millis(300);
    let lines = two_children(&[
        "device".into(),
        dir.path().to_str().unwrap().to_owned(),
        start.as_millis().to_string(),
    ]);
    for i in 0..answers.len() {
        let minted = lines
            .iter()
            .filter(|l| **l == format!("{i} minted"))
            .count();
        let unknown = lines
            .iter()
            .filter(|l| **l == format!("{i} unknown"))
            .count();
        if (minted, unknown) != (1, 1) {
            return Err(format!(
                "device answer {i} presented by two processes at once: {minted} SADs, \
                 {unknown} refused as spent"
            ));
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("pins") => {
            let limit = args[3].parse().unwrap();
            wrong_pins(Path::new(&args[2]), limit, args[4].parse().unwrap());
            return;
        }
        Some("device") => {
            device_race(Path::new(&args[2]), args[3].parse().unwrap());
            return;
        }
        Some("totp") => {
            totp_race(
                Path::new(&args[2]),
                args[3].parse().unwrap(),
                args[4].parse().unwrap(),
            );
            return;
        }
        _ => {}
    }
    type Test = fn() -> Result<(), String>;
    let tests: [(&str, Test); 4] = [
        ("every_failure_is_counted", every_failure_is_counted),
        (
            "locked_after_exactly_the_limit",
            locked_after_exactly_the_limit,
        ),
        ("one_totp_code_mints_one_sad", one_totp_code_mints_one_sad),
        (
            "one_device_answer_mints_one_sad",
            one_device_answer_mints_one_sad,
        ),
    ];
    let mut failed = 0;
    for (name, test) in tests {
        match test() {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!(
        "test result: {}. {} passed; {failed} failed; 0 ignored",
        if failed == 0 { "ok" } else { "FAILED" },
        tests.len() - failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
