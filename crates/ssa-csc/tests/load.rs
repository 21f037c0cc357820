//! The server under load: 64 clients for 10 s, one SAD per signature;
//! then SIGTERM in the middle of a load on the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use common::{Client, Server, b64};
use serde_json::json;
use ssa::policy::RequestPolicy;
use ssa::{HashAlgorithm, KeyAlgorithm, PublicKey, Scal, SignatureAlgorithm};
use ssa_csc::provider::{EnrolledSigner, Provider, ProviderOptions, SignerSpec};

const ECDSA_SHA256: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);

fn scal1(options: &mut ProviderOptions) {
    options.pin_policy = common::CHEAP;
    options.requests = RequestPolicy {
        default_scal: Scal::Scal1,
        ..RequestPolicy::default()
    };
}

/// What one client did: the messages whose signatures came back, and
/// every answer that was not a signature.
#[derive(Default)]
struct Outcome {
    signed: Vec<(Vec<u8>, Vec<u8>)>,
    failed: Vec<String>,
}

/// Authorizes and signs one message after another until `stop`; one SAD
/// per signature.
fn sign_until(client: &Client, enrolled: &EnrolledSigner, id: usize, stop: &AtomicBool) -> Outcome {
    let mut outcome = Outcome::default();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let message = format!("client {id} message {n}").into_bytes();
        let hash = HashAlgorithm::Sha256.digest(&message);
        let (status, body) = client.post(
            "credentials/authorize",
            &json!({
                "credentialID": enrolled.credential, "numSignatures": 1,
                "hashes": [b64(&hash)], "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                "authData": [{ "id": "PIN", "value": enrolled.pin.as_str() }],
            }),
        );
        if status != 200 {
            outcome.failed.push(format!("authorize {status} {body}"));
            continue;
        }
        let (status, body) = client.post(
            "signatures/signHash",
            &json!({
                "credentialID": enrolled.credential, "SAD": body["SAD"], "hashes": [b64(&hash)],
                "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1", "signAlgo": "1.2.840.10045.4.3.2",
            }),
        );
        if status != 200 {
            outcome.failed.push(format!("signHash {status} {body}"));
            continue;
        }
        let signature = common::unb64(body["signatures"][0].as_str().unwrap());
        outcome.signed.push((message, signature));
    }
    outcome
}

/// The digests (hex) of every signature record in the audit log.
fn audited_digests(log: &[u8]) -> HashSet<String> {
    let mut digests = HashSet::new();
    for line in String::from_utf8_lossy(log).lines() {
        let Some((_, json)) = line.split_once(' ') else {
            continue;
        };
        let Ok(record) = serde_json::from_str::<serde_json::Value>(json) else {
            continue;
        };
        if record["event"]["type"] == "signature" {
            for d in record["digests"].as_array().unwrap() {
                digests.insert(d.as_str().unwrap().to_owned());
            }
        }
    }
    digests
}

fn public_key(server_provider: &Provider, credential: &str) -> PublicKey {
    let csc = server_provider.csc();
    let signer = credential.split('/').next().unwrap();
    let info = csc.info(signer, credential, SystemTime::now()).unwrap();
    let certificate = <x509_cert::Certificate as der::Decode>::from_der(&info.chain[0]).unwrap();
    let spki =
        der::Encode::to_der(certificate.tbs_certificate().subject_public_key_info()).unwrap();
    PublicKey::from_spki_der(&spki).unwrap()
}

#[test]
fn sixty_four_clients_for_ten_seconds_every_signature_verifies_and_is_recorded() {
    const CLIENTS: usize = 64;
    let server = Server::start(scal1);
    let signers: Vec<EnrolledSigner> = (0..CLIENTS)
        .map(|i| server.enrol(&format!("load{i}"), KeyAlgorithm::EcP256, Scal::Scal1))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let outcomes: Vec<(String, Outcome)> = std::thread::scope(|scope| {
        let handles: Vec<_> = signers
            .iter()
            .enumerate()
            .map(|(i, enrolled)| {
                let mut client = server.client("v2");
                let stop = Arc::clone(&stop);
                scope.spawn(move || {
                    client.login_as(enrolled);
                    (
                        enrolled.credential.clone(),
                        sign_until(&client, enrolled, i, &stop),
                    )
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(10));
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();

    let audited = audited_digests(&std::fs::read(server.data.path().join("audit.log")).unwrap());
    let mut returned = 0;
    for (credential, outcome) in &outcomes {
        assert!(
            outcome.failed.is_empty(),
            "{credential}: {:?}",
            outcome.failed
        );
        let key = public_key(&server.provider, credential);
        for (message, signature) in &outcome.signed {
            key.verify(ECDSA_SHA256, message, signature)
                .unwrap_or_else(|_| panic!("{credential}: a signature does not verify"));
            let digest = ssa::store::durable::hex(&HashAlgorithm::Sha256.digest(message));
            assert!(
                audited.contains(&digest),
                "{credential}: a signature returned is not in the audit log"
            );
        }
        returned += outcome.signed.len();
    }
    assert!(
        returned > CLIENTS,
        "only {returned} signatures in {elapsed:?}"
    );
    assert_eq!(
        audited.len(),
        returned,
        "the audit log records other signatures than those returned"
    );
    assert_eq!(
        server.provider.csc().metrics().signatures_returned(),
        returned as u64
    );
    eprintln!("{returned} signatures by {CLIENTS} clients in {elapsed:?}");
}

#[test]
fn sigterm_under_load_completes_or_fails_each_request_exits_zero_and_the_chain_verifies() {
    const CLIENTS: usize = 16;
    let data = tempfile::tempdir().unwrap();
    let signers: Vec<EnrolledSigner> = {
        let mut options = ProviderOptions::new(data.path());
        scal1(&mut options);
        let provider = Provider::open(options).unwrap();
        (0..CLIENTS)
            .map(|i| {
                provider
                    .enrol(
                        &SignerSpec {
                            signer: format!("term{i}"),
                            credential: format!("term{i}/1"),
                            key: KeyAlgorithm::EcP256,
                            scal: Scal::Scal1,
                            subject: format!("CN=term{i}"),
                        },
                        SystemTime::now(),
                    )
                    .unwrap()
            })
            .collect()
    };
    // The server over the same directory, taking SCAL1 credentials.
    let mut child = Command::new(env!("CARGO_BIN_EXE_csc_server"))
        .args([
            "--data",
            data.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--shutdown-grace", "10", "--min-scal", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the server stopped"
        );
        if let Some(url) = line.trim().strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = signers
            .iter()
            .enumerate()
            .map(|(i, enrolled)| {
                let stop = Arc::clone(&stop);
                let url = url.clone();
                scope.spawn(move || {
                    let mut client = common::client_at(&url, "v2");
                    client.login_as(enrolled);
                    sign_until_refused(&client, enrolled, i, &stop)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        assert!(status.success(), "the server exited with {status}");
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let log = std::fs::read(data.path().join("audit.log")).unwrap();
    let report = ssa::audit::scan(&log, None);
    assert!(report.is_intact(), "{:?}", report.problems);
    let audited = audited_digests(&log);
    let mut returned = 0;
    for outcome in &outcomes {
        for (message, _) in &outcome.signed {
            let digest = ssa::store::durable::hex(&HashAlgorithm::Sha256.digest(message));
            assert!(
                audited.contains(&digest),
                "a signature returned is not in the audit log"
            );
        }
        returned += outcome.signed.len();
    }
    assert!(returned > 0, "nothing was signed before the SIGTERM");
    eprintln!(
        "{returned} signatures before and during the shutdown, {} requests refused or cut",
        outcomes.iter().map(|o| o.failed.len()).sum::<usize>()
    );
}

/// [`sign_until`], stopping at the first transport error (the server is
/// gone): every request either completes or fails.
fn sign_until_refused(
    client: &Client,
    enrolled: &EnrolledSigner,
    id: usize,
    stop: &AtomicBool,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let message = format!("client {id} message {n}").into_bytes();
        let hash = HashAlgorithm::Sha256.digest(&message);
        let Some((status, body)) = client.try_post(
            "credentials/authorize",
            &json!({
                "credentialID": enrolled.credential, "numSignatures": 1,
                "hashes": [b64(&hash)], "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                "authData": [{ "id": "PIN", "value": enrolled.pin.as_str() }],
            }),
        ) else {
            break;
        };
        if status != 200 {
            outcome.failed.push(format!("authorize {status} {body}"));
            continue;
        }
        let Some((status, body)) = client.try_post(
            "signatures/signHash",
            &json!({
                "credentialID": enrolled.credential, "SAD": body["SAD"], "hashes": [b64(&hash)],
                "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1", "signAlgo": "1.2.840.10045.4.3.2",
            }),
        ) else {
            break;
        };
        if status == 200 {
            let signature = common::unb64(body["signatures"][0].as_str().unwrap());
            outcome.signed.push((message, signature));
        } else {
            outcome.failed.push(format!("signHash {status} {body}"));
        }
    }
    outcome
}
