//! What the server tells its operator — logs, `/metrics`, `/healthz`,
//! `/readyz` — and what it never tells anyone: a bearer token, a password,
//! a PIN, an OTP or a SAD appears in no log line (every target at TRACE),
//! no error and no `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Server, authorize_v2, b64, otp};
use serde_json::json;
use ssa::{HashAlgorithm, KeyAlgorithm, Scal};

/// Every log line of this test process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn metric(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(name_and_labels))
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().unwrap())
}

#[test]
fn no_secret_reaches_a_log_line_an_error_or_debug_and_metrics_count_what_happened() {
    let captured = Captured::default();
    tracing_subscriber::fmt()
        .json()
        .without_time()
        .with_max_level(tracing::Level::TRACE)
        // The test's own HTTP client is not the server.
        .with_env_filter("trace,ureq=off,ureq_proto=off")
        .with_writer(captured.clone())
        .init();

    let server = Server::start(|_| {});
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let mut client = server.client("v2");
    let mut secrets: Vec<String> = vec![
        alice.password.to_string(),
        alice.pin.to_string(),
        // The HTTP Basic header's value, as it travels.
        b64(format!("alice:{}", alice.password.as_str()).as_bytes()),
    ];

    // A refused login and a refused authorization first.
    let (status, _) = client.login("alice", "not-the-password-42");
    assert_eq!(status, 401);
    secrets.push("not-the-password-42".into());
    client.login_as(&alice);
    secrets.push(client.token.clone().unwrap());
    let hashes = vec![
        HashAlgorithm::Sha256.digest(b"one"),
        HashAlgorithm::Sha256.digest(b"two"),
    ];
    let wrong_pin = if alice.pin.as_str() == "000001" {
        "000002"
    } else {
        "000001"
    };
    let mut bad = authorize_v2(&alice, &hashes, "dtbsr");
    bad["authData"][0]["value"] = json!(wrong_pin);
    let (status, refusal) = client.post("credentials/authorize", &bad);
    assert_eq!(status, 400);
    secrets.push(bad["authData"][1]["value"].as_str().unwrap().to_owned());

    // The good flow. (The OTP of the refused attempt is spent only by a
    // success, so a new step is not needed.)
    let body = authorize_v2(&alice, &hashes, "dtbsr");
    secrets.push(body["authData"][1]["value"].as_str().unwrap().to_owned());
    let (status, authorized, authorize_id) = client.post_with_id("credentials/authorize", &body);
    assert_eq!(status, 200, "{authorized}");
    let sad = authorized["SAD"].as_str().unwrap().to_owned();
    secrets.push(sad.clone());
    let (status, signed, sign_id) = client.post_with_id(
        "signatures/signHash",
        &json!({
            "credentialID": "alice/1", "SAD": sad,
            "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1", "signAlgo": "1.2.840.10045.4.3.2",
        }),
    );
    assert_eq!(status, 200, "{signed}");
    // A replay, refused.
    let (status, _) = client.post(
        "signatures/signHash",
        &json!({
            "credentialID": "alice/1", "SAD": sad, "hashes": [b64(&hashes[0])],
            "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1", "signAlgo": "1.2.840.10045.4.3.2",
        }),
    );
    assert_eq!(status, 400);
    let _ = otp(&alice);

    // Health, readiness, metrics.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str| {
        let mut response = agent.get(format!("{}{path}", server.url)).call().unwrap();
        (
            response.status().as_u16(),
            response.headers().get("x-request-id").is_some(),
            response.body_mut().read_to_string().unwrap(),
        )
    };
    assert_eq!(get("/healthz").0, 200);
    let (status, has_id, _) = get("/readyz");
    assert_eq!(status, 200);
    assert!(has_id, "no x-request-id");
    let (status, _, text) = get("/metrics");
    assert_eq!(status, 200);
    assert_eq!(
        metric(
            &text,
            "csc_signatures_total{endpoint=\"/csc/v2/signatures/signHash\"}"
        ),
        2.0,
        "{text}"
    );
    assert_eq!(server.provider.csc().metrics().signatures_returned(), 2);
    assert_eq!(
        metric(
            &text,
            "csc_refusals_total{endpoint=\"/csc/v2/credentials/authorize\",reason=\"invalid_pin\"}"
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "csc_refusals_total{endpoint=\"/csc/v2/signatures/signHash\",reason=\"invalid_request\"}"
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "csc_refusals_total{endpoint=\"/csc/v2/auth/login\",reason=\"authentication_error\"}"
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "csc_requests_total{endpoint=\"/csc/v2/signatures/signHash\",status=\"200\"}"
        ),
        1.0,
        "{text}"
    );
    assert!(text.contains("csc_request_seconds_bucket"), "{text}");
    assert!(text.contains("csc_requests_in_flight"), "{text}");
    assert!(text.contains("csc_scdev_errors_total 0"), "{text}");

    // The request ids the client saw are in the audit records of those
    // requests (and in the logs), not the id the client sent.
    assert_eq!(authorize_id.len(), 32, "{authorize_id}");
    assert_ne!(authorize_id, sign_id);
    let audit = std::fs::read_to_string(server.data.path().join("audit.log")).unwrap();
    let with = |id: &str, kind: &str| {
        audit
            .lines()
            .filter(|l| {
                l.contains(&format!("\"request\":\"{id}\""))
                    && l.contains(&format!("\"type\":\"{kind}\""))
            })
            .count()
    };
    assert_eq!(with(&authorize_id, "authorization"), 1, "{audit}");
    assert_eq!(with(&sign_id, "activation"), 1, "{audit}");
    assert_eq!(with(&sign_id, "signature"), 1, "{audit}");
    assert!(!audit.contains("client-chosen"));

    // What a log, an error or Debug may hold.
    drop(server.client("v2"));
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("\"answered\""),
        "the server logged nothing: the scan would prove nothing"
    );
    assert!(logs.contains("/csc/v2/signatures/signHash"), "{logs}");
    assert!(logs.contains(&sign_id), "the request id is not in the logs");
    assert!(
        !logs.contains("client-chosen"),
        "a client's request id reached the logs"
    );
    let debug = format!(
        "{:?} {:?} {:?} {:?}",
        server.provider,
        server.provider.csc(),
        alice,
        refusal
    );
    for secret in &secrets {
        assert!(!secret.is_empty());
        assert!(
            !logs.contains(secret.as_str()),
            "a secret is in the logs: {secret}"
        );
        assert!(
            !debug.contains(secret.as_str()),
            "a secret is in Debug: {secret}"
        );
    }
    assert!(!refusal.to_string().contains(wrong_pin), "{refusal}");
}
