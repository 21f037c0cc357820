//! Every refusal a client can provoke, each with its CSC error, and what
//! was not changed by it (a SAD still signs, a counter did not move).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Server, b64};
use serde_json::{Value, json};
use ssa::policy::RequestPolicy;
use ssa::{HashAlgorithm, KeyAlgorithm, Scal};
use ssa_csc::provider::EnrolledSigner;

const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";

/// A server whose credentials are SCAL1 (PIN only), so a test may
/// authorize one credential many times within one TOTP step.
fn scal1_server() -> Server {
    Server::start(|options| {
        options.requests = RequestPolicy {
            default_scal: Scal::Scal1,
            ..RequestPolicy::default()
        };
        options.max_failures = 3;
    })
}

fn digest(text: &str) -> Vec<u8> {
    HashAlgorithm::Sha256.digest(text.as_bytes())
}

fn authorize(
    client: &Client,
    enrolled: &EnrolledSigner,
    hashes: &[Vec<u8>],
    pin: &str,
) -> (u16, Value) {
    client.post(
        "credentials/authorize",
        &json!({
            "credentialID": enrolled.credential,
            "numSignatures": hashes.len(),
            "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "hashAlgorithmOID": SHA256,
            "authData": [{ "id": "PIN", "value": pin }],
        }),
    )
}

fn sad(client: &Client, enrolled: &EnrolledSigner, hashes: &[Vec<u8>]) -> String {
    let (status, body) = authorize(client, enrolled, hashes, &enrolled.pin);
    assert_eq!(status, 200, "{body}");
    body["SAD"].as_str().unwrap().to_owned()
}

fn sign_hash_body(credential: &str, sad: &str, hashes: &[Vec<u8>]) -> Value {
    json!({
        "credentialID": credential,
        "SAD": sad,
        "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
        "hashAlgorithmOID": SHA256,
        "signAlgo": ECDSA_SHA256,
    })
}

fn sign_hash(client: &Client, credential: &str, sad: &str, hashes: &[Vec<u8>]) -> (u16, Value) {
    client.post(
        "signatures/signHash",
        &sign_hash_body(credential, sad, hashes),
    )
}

/// Asserts a CSC error: the status, the code, and a description.
#[track_caller]
fn refused((status, body): (u16, Value), want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], want_code, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

#[test]
fn bearer_tokens_missing_unknown_expired_or_revoked_are_invalid_token() {
    let server = Server::start(|options| options.token_lifetime = 1);
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let mut client = server.client("v2");
    for endpoint in [
        "credentials/list",
        "credentials/info",
        "credentials/authorize",
        "signatures/signHash",
        "signatures/signDoc",
    ] {
        refused(
            client.post(endpoint, &json!({ "credentialID": "alice/1" })),
            401,
            "invalid_token",
        );
    }
    client.token = Some("A".repeat(43));
    refused(
        client.post("credentials/list", &json!({})),
        401,
        "invalid_token",
    );
    client.token = Some("x".repeat(100_000));
    refused(
        client.post("credentials/list", &json!({})),
        401,
        "invalid_token",
    );

    // Revoked.
    client.login_as(&alice);
    assert_eq!(client.post("credentials/list", &json!({})).0, 200);
    let (status, _) = client.post("auth/revoke", &json!({}));
    assert_eq!(status, 204);
    refused(
        client.post("credentials/list", &json!({})),
        401,
        "invalid_token",
    );

    // Expired (a one-second lifetime).
    client.login_as(&alice);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    refused(
        client.post("credentials/list", &json!({})),
        401,
        "invalid_token",
    );
}

#[test]
fn logins_are_refused_counted_and_locked() {
    let server = scal1_server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let bob = server.enrol("bob", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut client = server.client("v2");
    refused(
        client.login("nobody", "secret-password"),
        401,
        "authentication_error",
    );
    // A token lives as long as configured (the default, an hour).
    let (status, body) = client.login(&bob.signer, &bob.password);
    assert_eq!(
        (status, body["expires_in"].as_u64()),
        (200, Some(3600)),
        "{body}"
    );
    // Two failures, then the right password resets the count.
    for _ in 0..2 {
        refused(
            client.login("alice", "wrong-password"),
            401,
            "authentication_error",
        );
    }
    client.login_as(&alice);
    for _ in 0..3 {
        refused(
            client.login("alice", "wrong-password"),
            401,
            "authentication_error",
        );
    }
    // Locked: the right password is refused too.
    let (status, body) = client.login("alice", &alice.password);
    refused((status, body.clone()), 401, "authentication_error");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("locked"),
        "{body}"
    );
    // Only Alice's account: Bob's failures are his own.
    let (status, body) = client.login(&bob.signer, &bob.password);
    assert_eq!(status, 200, "{body}");
    // HTTP Basic is required.
    refused(
        client.post("auth/login", &json!({})),
        401,
        "authentication_error",
    );
}

#[test]
fn another_signers_credential_is_never_listed_described_authorized_or_signed() {
    let server = scal1_server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let bob = server.enrol("bob", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut as_alice = server.client("v2");
    as_alice.login_as(&alice);
    let mut as_bob = server.client("v2");
    as_bob.login_as(&bob);
    let hashes = vec![digest("bob's DTBS/R")];
    let bobs_sad = sad(&as_bob, &bob, &hashes);

    assert_eq!(
        as_alice.post("credentials/list", &json!({})).1["credentialIDs"],
        json!(["alice/1"])
    );
    refused(
        as_alice.post("credentials/list", &json!({ "userID": "bob" })),
        400,
        "invalid_request",
    );
    refused(
        as_alice.post("credentials/info", &json!({ "credentialID": "bob/1" })),
        400,
        "invalid_request",
    );
    // Bob's PIN through Alice's token: refused before the PIN is checked.
    refused(
        authorize(&as_alice, &bob, &hashes, &bob.pin),
        400,
        "invalid_request",
    );
    // Bob's own SAD, presented with Alice's token.
    refused(
        sign_hash(&as_alice, "bob/1", &bobs_sad, &hashes),
        400,
        "invalid_request",
    );
    let mut v1 = server.client("v1");
    v1.login_as(&alice);
    refused(
        v1.post("credentials/info", &json!({ "credentialID": "bob/1" })),
        400,
        "invalid_request",
    );
    // Nothing of Bob's changed: his SAD still signs for him.
    assert_eq!(sign_hash(&as_bob, "bob/1", &bobs_sad, &hashes).0, 200);
}

#[test]
fn a_sad_is_refused_on_another_credential_when_replayed_and_for_an_unbound_hash() {
    let server = scal1_server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let second = server
        .provider
        .enrol(
            &ssa_csc::provider::SignerSpec {
                signer: "alice".into(),
                credential: "alice/2".into(),
                key: KeyAlgorithm::EcP256,
                scal: Scal::Scal1,
                subject: "CN=alice two".into(),
            },
            std::time::SystemTime::now(),
        )
        .unwrap();
    let mut client = server.client("v2");
    client.login_as(&alice);
    let hashes = vec![digest("approved")];
    let sad_a = sad(&client, &alice, &hashes);

    // SAD of alice/1 on alice/2.
    refused(
        sign_hash(&client, &second.credential, &sad_a, &hashes),
        400,
        "invalid_request",
    );
    // A hash the SAD does not bind.
    refused(
        sign_hash(&client, "alice/1", &sad_a, &[digest("not approved")]),
        400,
        "invalid_request",
    );
    // A forged SAD.
    let mut forged = sad_a.clone();
    forged.pop();
    forged.push(if sad_a.ends_with('A') { 'B' } else { 'A' });
    refused(
        sign_hash(&client, "alice/1", &forged, &hashes),
        400,
        "invalid_request",
    );
    // Unknown OIDs, a malformed hash, too many hashes: refused before the SAD is used.
    let mut unknown_algo = sign_hash_body("alice/1", &sad_a, &hashes);
    unknown_algo["signAlgo"] = json!("1.2.3.4.5");
    refused(
        client.post("signatures/signHash", &unknown_algo),
        400,
        "invalid_request",
    );
    let mut unknown_hash = sign_hash_body("alice/1", &sad_a, &hashes);
    unknown_hash["hashAlgorithmOID"] = json!("1.2.3.4");
    refused(
        client.post("signatures/signHash", &unknown_hash),
        400,
        "invalid_request",
    );
    let mut bad_base64 = sign_hash_body("alice/1", &sad_a, &hashes);
    bad_base64["hashes"] = json!(["not base64!"]);
    refused(
        client.post("signatures/signHash", &bad_base64),
        400,
        "invalid_request",
    );
    let many: Vec<Vec<u8>> = (0..1001).map(|i| digest(&i.to_string())).collect();
    refused(
        sign_hash(&client, "alice/1", &sad_a, &many),
        400,
        "invalid_request",
    );

    // None of that used the SAD: it signs once...
    let (status, body) = sign_hash(&client, "alice/1", &sad_a, &hashes);
    assert_eq!(status, 200, "{body}");
    // ...and only once.
    refused(
        sign_hash(&client, "alice/1", &sad_a, &hashes),
        400,
        "invalid_request",
    );
}

#[test]
fn wrong_pins_lock_the_credential_and_then_the_right_pin_is_refused() {
    let server = scal1_server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut client = server.client("v2");
    client.login_as(&alice);
    let hashes = vec![digest("x")];
    let wrong = if alice.pin.as_str() == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..3 {
        refused(
            authorize(&client, &alice, &hashes, wrong),
            400,
            "invalid_pin",
        );
    }
    refused(
        authorize(&client, &alice, &hashes, &alice.pin),
        403,
        "access_denied",
    );
    // The v1 spelling is counted the same.
    let mut v1 = server.client("v1");
    v1.login_as(&alice);
    refused(
        v1.post(
            "credentials/authorize",
            &json!({ "credentialID": "alice/1", "numSignatures": 1, "hash": [b64(&hashes[0])], "PIN": alice.pin.as_str() }),
        ),
        403,
        "access_denied",
    );
}

#[test]
fn malformed_and_oversize_requests_are_refused_with_csc_errors() {
    let server = Server::start(|options| options.settings.limits.body_bytes = 4096);
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let mut client = server.client("v2");
    client.login_as(&alice);
    refused(
        client.post_raw("credentials/info", b"{not json"),
        400,
        "invalid_request",
    );
    refused(
        client.post_raw("credentials/info", b"[1,2,3]"),
        400,
        "invalid_request",
    );
    refused(
        client.post("credentials/info", &json!({ "credentialID": 42 })),
        400,
        "invalid_request",
    );
    refused(
        client.post(
            "credentials/authorize",
            &json!({ "credentialID": "alice/1", "numSignatures": -1 }),
        ),
        400,
        "invalid_request",
    );
    let big = vec![b' '; 8192];
    refused(
        client.post_raw("credentials/list", &big),
        413,
        "invalid_request",
    );
    refused(
        client.post("no/such/endpoint", &json!({})),
        404,
        "invalid_request",
    );
    // A PIN of the wrong type is refused without echoing it.
    let (status, body) = client.post(
        "credentials/authorize",
        &json!({ "credentialID": "alice/1", "authData": [{ "id": "PIN", "value": 987654 }] }),
    );
    refused((status, body.clone()), 400, "invalid_request");
    assert!(!body.to_string().contains("987654"), "{body}");
}

#[test]
fn the_operations_check_the_owner_themselves_whatever_a_handler_did() {
    // An integrator calling `CscService` without the handlers gets the
    // same refusal: the check lives in each operation.
    let server = scal1_server();
    let _alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let bob = server.enrol("bob", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut as_bob = server.client("v2");
    as_bob.login_as(&bob);
    let hashes = vec![digest("bob's")];
    let bobs_sad = ssa::sad::Sad::new(sad(&as_bob, &bob, &hashes));
    let csc = server.provider.csc();
    let now = std::time::SystemTime::now();
    let ecdsa = ssa::SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
    let error = csc
        .sign_hash("alice", "bob/1", &bobs_sad, &hashes, ecdsa, None, now)
        .unwrap_err();
    assert_eq!(error.code, "invalid_request");
    let error = csc
        .sign_documents(
            "alice",
            "bob/1",
            &bobs_sad,
            &hashes,
            None,
            ssa::Level::BB,
            None,
            now,
        )
        .unwrap_err();
    assert_eq!(error.code, "invalid_request");
    // Bob's SAD was not touched.
    assert!(
        csc.sign_hash("bob", "bob/1", &bobs_sad, &hashes, ecdsa, None, now)
            .is_ok()
    );
}

#[test]
fn sign_doc_refuses_levels_formats_and_documents_it_cannot_make_before_the_sad_is_used() {
    let server = scal1_server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut client = server.client("v2");
    client.login_as(&alice);
    let digests = vec![digest("a document")];
    let (status, body) = client.post(
        "credentials/authorize",
        &json!({
            "credentialID": "alice/1",
            "numSignatures": 1,
            "hashes": [b64(&digests[0])],
            "hashAlgorithmOID": SHA256,
            "signingMode": "document",
            "authData": [{ "id": "PIN", "value": alice.pin.as_str() }],
        }),
    );
    assert_eq!(status, 200, "{body}");
    let sad = body["SAD"].as_str().unwrap().to_owned();
    let sign_doc = |level: &str, format: &str| {
        client.post(
            "signatures/signDoc",
            &json!({
                "credentialID": "alice/1",
                "SAD": sad,
                "documentDigests": [{
                    "hashes": [b64(&digests[0])],
                    "hashAlgorithmOID": SHA256,
                    "signature_format": format,
                    "conformance_level": level,
                }],
            }),
        )
    };
    // No TSA, no revocation source on this server.
    refused(sign_doc("Ades-B-T", "C"), 400, "invalid_request");
    refused(sign_doc("Ades-B-LT", "C"), 400, "invalid_request");
    refused(sign_doc("Ades-B-XL", "C"), 400, "invalid_request");
    refused(sign_doc("Ades-B-B", "P"), 400, "invalid_request");
    // A DTBS/R SAD is not a document SAD (and the other way round).
    refused(
        sign_hash(&client, "alice/1", &sad, &digests),
        400,
        "invalid_request",
    );
    // The SAD is untouched: it signs the document at B-B.
    let (status, body) = sign_doc("AdES-B-B", "C");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn revoke_takes_the_signers_own_tokens_only() {
    let server = scal1_server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let bob = server.enrol("bob", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut alice_1 = server.client("v2");
    alice_1.login_as(&alice);
    let mut alice_2 = server.client("v2");
    alice_2.login_as(&alice);
    let mut as_bob = server.client("v2");
    as_bob.login_as(&bob);
    // Bob's token, named by Alice: refused, and it still works.
    refused(
        alice_1.post("auth/revoke", &json!({ "token": as_bob.token })),
        400,
        "invalid_request",
    );
    assert_eq!(as_bob.post("credentials/list", &json!({})).0, 200);
    // Alice's other token, named by Alice: revoked; hers still works.
    let (status, body) = alice_1.post("auth/revoke", &json!({ "token": alice_2.token }));
    assert_eq!(status, 204, "{body}");
    refused(
        alice_2.post("credentials/list", &json!({})),
        401,
        "invalid_token",
    );
    assert_eq!(alice_1.post("credentials/list", &json!({})).0, 200);
    // An unknown token: refused.
    refused(
        alice_1.post("auth/revoke", &json!({ "token": "A".repeat(43) })),
        400,
        "invalid_request",
    );
}

#[test]
fn the_hashes_bound_is_the_servers_own_and_num_signatures_defaults_to_the_hashes() {
    let server = Server::start(|options| {
        options.requests = RequestPolicy {
            default_scal: Scal::Scal1,
            ..RequestPolicy::default()
        };
        options.settings.limits.hashes_per_request = 2;
    });
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal1);
    let mut client = server.client("v2");
    client.login_as(&alice);
    let three: Vec<Vec<u8>> = (0..3).map(|i| digest(&format!("h{i}"))).collect();
    let (status, body) = authorize(&client, &alice, &three, &alice.pin);
    refused((status, body.clone()), 400, "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("over the limit of 2"),
        "{body}"
    );
    // Two, at the bound, without numSignatures: one SAD for both.
    let two = &three[..2];
    let (status, body) = client.post(
        "credentials/authorize",
        &json!({
            "credentialID": "alice/1",
            "hashes": two.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "hashAlgorithmOID": SHA256,
            "authData": [{ "id": "PIN", "value": alice.pin.as_str() }],
        }),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = sign_hash(&client, "alice/1", body["SAD"].as_str().unwrap(), two);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["signatures"].as_array().unwrap().len(), 2);
}
