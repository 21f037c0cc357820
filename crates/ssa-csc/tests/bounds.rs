//! The time and in-flight bounds: above them a request is answered 503 at
//! once, and what it would have done is either not done (in-flight) or
//! done whole and recorded (a request past its time).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Server, b64};
use serde_json::json;
use ssa::policy::RequestPolicy;
use ssa::{HashAlgorithm, KeyAlgorithm, Scal};

const SHA256: &str = "2.16.840.1.101.3.4.2.1";

fn scal1() -> RequestPolicy {
    RequestPolicy {
        default_scal: Scal::Scal1,
        ..RequestPolicy::default()
    }
}

#[test]
fn above_the_in_flight_bound_a_request_is_refused_at_once_and_changes_nothing() {
    // One request at a time; a slow TSA keeps a B-T signDoc in progress.
    let tsa = ssa_testkit::tsa::OpensslTsa::start_slow(
        &ssa_testkit::pki::pki().tsa,
        Duration::from_secs(3),
    );
    let server = Server::start(|options| {
        options.requests = scal1();
        options.tsa = Some(tsa.url());
        options.settings.limits.in_flight = 1;
    });
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut client = server.client("v2");
    client.login_as(&alice);
    let slow_digest = HashAlgorithm::Sha256.digest(b"slow");
    let fast_digest = HashAlgorithm::Sha256.digest(b"fast");
    let authorize = |digest: &[u8], mode: &str| {
        let (status, body) = client.post(
            "credentials/authorize",
            &json!({
                "credentialID": "alice/1", "numSignatures": 1, "hashes": [b64(digest)],
                "hashAlgorithmOID": SHA256, "signingMode": mode,
                "authData": [{ "id": "PIN", "value": alice.pin.as_str() }],
            }),
        );
        assert_eq!(status, 200, "{body}");
        body["SAD"].as_str().unwrap().to_owned()
    };
    let slow_sad = authorize(&slow_digest, "document");
    let fast_sad = authorize(&fast_digest, "dtbsr");
    let sign_fast = |client: &common::Client| {
        client.post(
            "signatures/signHash",
            &json!({
                "credentialID": "alice/1", "SAD": fast_sad, "hashes": [b64(&fast_digest)],
                "hashAlgorithmOID": SHA256, "signAlgo": "1.2.840.10045.4.3.2",
            }),
        )
    };
    std::thread::scope(|scope| {
        let slow = scope.spawn(|| {
            client.post(
                "signatures/signDoc",
                &json!({
                    "credentialID": "alice/1", "SAD": slow_sad,
                    "documentDigests": [{
                        "hashes": [b64(&slow_digest)], "hashAlgorithmOID": SHA256,
                        "signature_format": "C", "conformance_level": "Ades-B-T",
                    }],
                }),
            )
        });
        // The slow request is at the TSA (it answers after 3 s).
        std::thread::sleep(Duration::from_secs(1));
        assert!(
            !slow.is_finished(),
            "the slow request did not wait for the TSA"
        );
        let started = Instant::now();
        let (status, body) = sign_fast(&client);
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "temporarily_unavailable");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not refused at once"
        );
        let (status, body) = slow.join().unwrap();
        assert_eq!(status, 200, "{body}");
    });
    // The refused request did nothing: its SAD signs now.
    let (status, body) = sign_fast(&client);
    assert_eq!(status, 200, "{body}");
    let metrics = server.provider.csc().metrics().render();
    assert!(
        metrics.contains("csc_refusals_total{endpoint=\"/csc/v2/signatures/signHash\",reason=\"temporarily_unavailable\"} 1"),
        "{metrics}"
    );
}

#[test]
fn past_the_time_bound_the_client_gets_503_and_the_signature_is_recorded_and_its_sad_spent() {
    let tsa = ssa_testkit::tsa::OpensslTsa::start_slow(
        &ssa_testkit::pki::pki().tsa,
        Duration::from_secs(3),
    );
    let server = Server::start(|options| {
        options.requests = scal1();
        options.tsa = Some(tsa.url());
        options.settings.limits.request_time = Duration::from_secs(1);
    });
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut client = server.client("v2");
    client.login_as(&alice);
    let digest = HashAlgorithm::Sha256.digest(b"too slow");
    let (status, body) = client.post(
        "credentials/authorize",
        &json!({
            "credentialID": "alice/1", "numSignatures": 1, "hashes": [b64(&digest)],
            "hashAlgorithmOID": SHA256, "signingMode": "document",
            "authData": [{ "id": "PIN", "value": alice.pin.as_str() }],
        }),
    );
    assert_eq!(status, 200, "{body}");
    let sign_doc = json!({
        "credentialID": "alice/1", "SAD": body["SAD"],
        "documentDigests": [{
            "hashes": [b64(&digest)], "hashAlgorithmOID": SHA256,
            "signature_format": "C", "conformance_level": "Ades-B-T",
        }],
    });
    let started = Instant::now();
    let (status, body) = client.post("signatures/signDoc", &sign_doc);
    assert_eq!(status, 503, "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    // The work finishes behind the answer: recorded, and its SAD spent.
    let hex = ssa::store::durable::hex(&digest);
    let waited = Instant::now();
    let recorded = loop {
        let log = std::fs::read_to_string(server.data.path().join("audit.log")).unwrap();
        if log
            .lines()
            .any(|l| l.contains("\"type\":\"signature\"") && l.contains(&hex))
        {
            break true;
        }
        if waited.elapsed() > Duration::from_secs(15) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        recorded,
        "the signature made behind the 503 is not in the audit log"
    );
    std::thread::sleep(Duration::from_millis(200));
    let (status, body) = client.post("signatures/signDoc", &sign_doc);
    assert_eq!(status, 400, "the SAD was not spent: {body}");
}

#[test]
fn readyz_says_no_while_the_stores_take_no_write_and_yes_again_after() {
    let server = Server::start(|_| {});
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let readyz = || {
        let mut response = agent.get(format!("{}/readyz", server.url)).call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    };
    assert_eq!(readyz().0, 200);
    // The lockout store's directory becomes a file: no write can land.
    let lockout = server.data.path().join("lockout");
    let aside = server.data.path().join("lockout.aside");
    std::fs::rename(&lockout, &aside).unwrap();
    std::fs::write(&lockout, b"not a directory").unwrap();
    let (status, body) = readyz();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("take no write"), "{body}");
    assert_eq!(
        server.client("v2").post("credentials/list", &json!({})).0,
        401,
        "the rest of the server still answers"
    );
    std::fs::remove_file(&lockout).unwrap();
    std::fs::rename(&aside, &lockout).unwrap();
    assert_eq!(readyz().0, 200);
}
