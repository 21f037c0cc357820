//! The whole v2 flow through a real HTTP client on a loopback socket:
//! login → list → info → authorize → signHash / signDoc, each result
//! checked by OpenSSL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, authorize_v2, b64, unb64};
use der::{Decode, Encode};
use serde_json::json;
use ssa::cades::{Document, Indication};
use ssa::{HashAlgorithm, KeyAlgorithm, Level, Scal, SignatureAlgorithm};
use x509_cert::Certificate;

fn spki_of(certificate_b64: &str) -> Vec<u8> {
    Certificate::from_der(&unb64(certificate_b64))
        .unwrap()
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap()
}

#[test]
fn sign_hash_values_verify_with_openssl_pkeyutl() {
    let server = Server::start(|_| {});
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let mut client = server.client("v2");
    client.login_as(&alice);

    let (status, list) = client.post("credentials/list", &json!({}));
    assert_eq!(
        (status, list["credentialIDs"].clone()),
        (200, json!(["alice/1"]))
    );
    let (status, info) = client.post(
        "credentials/info",
        &json!({ "credentialID": "alice/1", "certificates": "chain" }),
    );
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["auth"]["mode"], "explicit");
    assert_eq!(info["SCAL"], "2");
    assert!(
        info["key"]["algo"]
            .as_array()
            .unwrap()
            .contains(&json!("1.2.840.10045.4.3.2"))
    );
    let chain = info["cert"]["certificates"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "signer and CA");
    let spki = spki_of(chain[0].as_str().unwrap());

    let hashes: Vec<Vec<u8>> = ["first DTBS/R", "second DTBS/R"]
        .iter()
        .map(|t| HashAlgorithm::Sha256.digest(t.as_bytes()))
        .collect();
    let (status, authorized) = client.post(
        "credentials/authorize",
        &authorize_v2(&alice, &hashes, "dtbsr"),
    );
    assert_eq!(status, 200, "{authorized}");
    assert!(authorized["expiresIn"].as_u64().unwrap() > 0);
    let (status, signed) = client.post(
        "signatures/signHash",
        &json!({
            "credentialID": "alice/1",
            "SAD": authorized["SAD"],
            "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
            "signAlgo": "1.2.840.10045.4.3.2",
        }),
    );
    assert_eq!(status, 200, "{signed}");
    let signatures = signed["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2);
    for (hash, signature) in hashes.iter().zip(signatures) {
        assert!(ssa_testkit::openssl::verify_digest(
            &spki,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            hash,
            &unb64(signature.as_str().unwrap()),
        ));
    }
    // In order: the first value does not verify over the second hash.
    assert!(!ssa_testkit::openssl::verify_digest(
        &spki,
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
        &hashes[1],
        &unb64(signatures[0].as_str().unwrap()),
    ));
}

fn sign_documents(server: &Server, signer: &str, level: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let enrolled = server.enrol(signer, KeyAlgorithm::EcP256, Scal::Scal2);
    let mut client = server.client("v2");
    client.login_as(&enrolled);
    let documents: Vec<Vec<u8>> = (1..=2)
        .map(|i| format!("Contract {i} of {signer}\n").into_bytes())
        .collect();
    let digests: Vec<Vec<u8>> = documents
        .iter()
        .map(|d| HashAlgorithm::Sha256.digest(d))
        .collect();
    let (status, authorized) = client.post(
        "credentials/authorize",
        &authorize_v2(&enrolled, &digests, "document"),
    );
    assert_eq!(status, 200, "{authorized}");
    let (status, signed) = client.post(
        "signatures/signDoc",
        &json!({
            "credentialID": enrolled.credential,
            "SAD": authorized["SAD"],
            "documentDigests": [{
                "hashes": digests.iter().map(|h| b64(h)).collect::<Vec<_>>(),
                "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                "signature_format": "C",
                "conformance_level": level,
            }],
        }),
    );
    assert_eq!(status, 200, "{signed}");
    let objects = signed["SignatureObject"].as_array().unwrap();
    assert_eq!(objects.len(), 2);
    documents
        .into_iter()
        .zip(objects.iter().map(|o| unb64(o.as_str().unwrap())))
        .collect()
}

#[test]
fn sign_doc_b_b_verifies_with_openssl_cms_cades() {
    let server = Server::start(|_| {});
    for (document, cms) in sign_documents(&server, "bea", "Ades-B-B") {
        let (ok, said) =
            ssa_testkit::openssl::cms_verify_cades(&cms, Some(&document), &server.ca_pem(), false);
        assert!(ok, "{said}");
        // Not over another document.
        let (ok, _) =
            ssa_testkit::openssl::cms_verify_cades(&cms, Some(b"other"), &server.ca_pem(), false);
        assert!(!ok);
    }
}

#[test]
fn sign_doc_b_t_carries_the_testkit_tsas_time_stamp() {
    let tsa = ssa_testkit::tsa::OpensslTsa::start();
    let server = Server::start(|options| options.tsa = Some(tsa.url()));
    for (document, cms) in sign_documents(&server, "tom", "Ades-B-T") {
        let (ok, said) =
            ssa_testkit::openssl::cms_verify_cades(&cms, Some(&document), &server.ca_pem(), false);
        assert!(ok, "{said}");
        // The signer's CA and the TSA's (the testkit's) as anchors.
        let anchors = vec![
            server.provider.ca_certificate().clone(),
            Certificate::from_der(&ssa_testkit::pki::pki().ca.cert_der).unwrap(),
        ];
        let report = ssa::cades::verify(
            &cms,
            Document::Bytes(&document),
            &ssa::cades::VerifyOptions::new(&anchors, std::time::SystemTime::now()),
        );
        assert_eq!(report.signers[0].level, Some(Level::BT));
        assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    }
    assert!(tsa.served() >= 2);
}

#[test]
fn sign_doc_signs_with_the_sign_algo_asked_for() {
    // A P-384 key signs with ECDSA-SHA-384 by default; asked for
    // ecdsa-with-SHA256 over SHA-256 digests, it signs with that.
    let server = Server::start(|_| {});
    let pat = server.enrol("pat", KeyAlgorithm::EcP384, Scal::Scal2);
    let mut client = server.client("v2");
    client.login_as(&pat);
    let document = b"signed with the algorithm asked for".to_vec();
    let digests = vec![HashAlgorithm::Sha256.digest(&document)];
    let (status, authorized) = client.post(
        "credentials/authorize",
        &authorize_v2(&pat, &digests, "document"),
    );
    assert_eq!(status, 200, "{authorized}");
    let (status, signed) = client.post(
        "signatures/signDoc",
        &json!({
            "credentialID": pat.credential,
            "SAD": authorized["SAD"],
            "documentDigests": [{
                "hashes": [b64(&digests[0])],
                "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                "signature_format": "C",
                "conformance_level": "Ades-B-B",
                "signAlgo": "1.2.840.10045.4.3.2",
            }],
        }),
    );
    assert_eq!(status, 200, "{signed}");
    let cms = unb64(signed["SignatureObject"][0].as_str().unwrap());
    let (ok, said) =
        ssa_testkit::openssl::cms_verify_cades(&cms, Some(&document), &server.ca_pem(), false);
    assert!(ok, "{said}");
    // ecdsa-with-SHA256, 1.2.840.10045.4.3.2, in the SignerInfo.
    let oid = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    assert!(
        cms.windows(oid.len()).any(|w| w == oid),
        "not ecdsa-with-SHA256"
    );
}
