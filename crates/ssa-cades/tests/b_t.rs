//! B-T: signature time-stamps from a real TSA (`openssl ts -reply` over
//! HTTP on loopback), checked by OpenSSL and by our verifier.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::process::Command;
use std::time::{Duration, SystemTime};

use common::*;
use der::{Decode, Encode};
use ssa_cades::asn1::{MessageImprint, TstInfo};
use ssa_cades::{
    Document, Failure, HttpTsa, Indication, Level, TimeStampAuthority, TsaFailure,
    VerificationReport, VerifyOptions, oid, verify,
};
use ssa_scdev::HashAlgorithm;
use ssa_testkit::openssl::cms_verify_cades;
use ssa_testkit::pki::pki;
use ssa_testkit::tsa::{OpensslTsa, ts_verify};
use x509_cert::Certificate;

const DOC: &[u8] = b"a contract worth a time-stamp";

fn check(signature: &[u8], at: SystemTime) -> VerificationReport {
    let anchors = vec![Certificate::from_der(&pki().ca.cert_der).unwrap()];
    verify(
        signature,
        Document::Bytes(DOC),
        &VerifyOptions::new(&anchors, at),
    )
}

fn signed_data(signature: &[u8]) -> ssa_cades::asn1::SignedData {
    cms::content_info::ContentInfo::from_der(signature)
        .unwrap()
        .content
        .decode_as()
        .unwrap()
}

/// The signature value and the time-stamp token of the only SignerInfo.
fn value_and_token(signature: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let signed = signed_data(signature);
    let info = signed.signer_infos.0.iter().next().unwrap();
    let unsigned = info.unsigned_attrs.as_ref().unwrap();
    let token = unsigned
        .iter()
        .find(|a| a.oid == oid::ID_AA_TIME_STAMP_TOKEN)
        .unwrap();
    (
        info.signature.as_bytes().to_vec(),
        token.values.iter().next().unwrap().to_der().unwrap(),
    )
}

/// Puts `token` into the signature whatever it stamps (to forge bad cases).
fn force_embed(signature: &[u8], token: &[u8]) -> Vec<u8> {
    let mut signed = signed_data(signature);
    let mut infos: Vec<_> = signed.signer_infos.0.iter().cloned().collect();
    infos[0].unsigned_attrs = Some(
        der::asn1::SetOfVec::try_from(vec![x509_cert::attr::Attribute {
            oid: oid::ID_AA_TIME_STAMP_TOKEN,
            values: der::asn1::SetOfVec::try_from(vec![der::asn1::Any::from_der(token).unwrap()])
                .unwrap(),
        }])
        .unwrap(),
    );
    signed.signer_infos.0 = der::asn1::SetOfVec::try_from(infos).unwrap();
    cms::content_info::ContentInfo {
        content_type: oid::ID_SIGNED_DATA,
        content: der::asn1::Any::encode_from(&signed).unwrap(),
    }
    .to_der()
    .unwrap()
}

#[test]
fn b_t_token_over_http_from_openssl_ts_reply() {
    let tsa = OpensslTsa::start();
    let b_b = signer().sign(DOC);
    let client = HttpTsa::new(&tsa.url()).unwrap();
    let stamped =
        ssa_cades::add_signature_time_stamp(&b_b, &client, HashAlgorithm::Sha256, TsaFailure::Fail)
            .unwrap();
    assert!(stamped.time_stamped);
    assert_eq!(tsa.served(), 1);
    let b_t = stamped.signature;

    let (ok, said) = cms_verify_cades(&b_t, Some(DOC), &pki().ca.cert_pem, false);
    assert!(ok, "OpenSSL cms refused the B-T signature: {said}");
    let (value, token) = value_and_token(&b_t);
    let (ok, said) = ts_verify(&token, &value, &pki().ca.cert_pem);
    assert!(ok, "OpenSSL ts refused the token: {said}");
    let (ok, _) = ts_verify(&token, b"other data", &pki().ca.cert_pem);
    assert!(!ok, "OpenSSL ts accepted the token over other data");

    let report = check(&b_t, SystemTime::now());
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    assert_eq!(report.signers[0].level, Some(Level::BT));
    let stamped_at = report.signers[0].time_stamped_at.unwrap();
    assert!(stamped_at.duration_since(now()).unwrap_or_default() < Duration::from_secs(120));
}

/// Co-signing a B-T signature and stamping the result time-stamps only the
/// new signer: the first keeps its one token and its exact bytes.
#[test]
fn stamping_a_co_signed_signature_stamps_only_the_unstamped_signer() {
    let tsa = OpensslTsa::start();
    let client = HttpTsa::new(&tsa.url()).unwrap();
    let first = signer();
    let b_t = ssa_cades::add_signature_time_stamp(
        &first.sign(DOC),
        &client,
        HashAlgorithm::Sha256,
        TsaFailure::Fail,
    )
    .unwrap()
    .signature;
    let second = signer_for(&pki().cosigner);
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let prepared = ssa_cades::prepare(&second.params(&digest, None)).unwrap();
    let value = ssa_cades::DtbsSigner::sign_dtbs(&second.scdev_signer(), prepared.dtbs()).unwrap();
    let co_signed = prepared.complete_into(&b_t, value).unwrap();
    let stamped = ssa_cades::add_signature_time_stamp(
        &co_signed,
        &client,
        HashAlgorithm::Sha256,
        TsaFailure::Fail,
    )
    .unwrap();
    assert!(stamped.time_stamped);
    assert_eq!(tsa.served(), 2, "one token per signer, no more");
    let tokens = |info: &cms::signed_data::SignerInfo| {
        info.unsigned_attrs
            .iter()
            .flat_map(|a| a.iter())
            .filter(|a| a.oid == oid::ID_AA_TIME_STAMP_TOKEN)
            .map(|a| a.values.len())
            .sum::<usize>()
    };
    let signed = signed_data(&stamped.signature);
    assert!(signed.signer_infos.0.iter().all(|info| tokens(info) == 1));
    let infos = |signature: &[u8]| -> Vec<Vec<u8>> {
        signed_data(signature)
            .signer_infos
            .0
            .iter()
            .map(|info| info.to_der().unwrap())
            .collect()
    };
    let before = infos(&b_t);
    assert!(
        infos(&stamped.signature).contains(&before[0]),
        "the first signer's bytes changed"
    );
    // Stamping again adds nothing.
    let again = ssa_cades::add_signature_time_stamp(
        &stamped.signature,
        &client,
        HashAlgorithm::Sha256,
        TsaFailure::Fail,
    )
    .unwrap();
    assert_eq!(again.signature, stamped.signature);
    assert_eq!(tsa.served(), 2);

    let report = check(&stamped.signature, SystemTime::now());
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    assert!(report.signers.iter().all(|s| s.level == Some(Level::BT)));
    let pyhanko = ssa_testkit::pyhanko::validate_cms(
        &stamped.signature,
        Some(DOC),
        &ssa_testkit::pyhanko::Trust {
            roots: vec![&pki().ca.cert_pem],
            ..Default::default()
        },
    );
    for n in 0..2 {
        assert!(pyhanko.passed(n), "{}", pyhanko.output);
        assert_eq!(
            pyhanko.get(&format!("signer {n} timestamp valid")),
            Some("True"),
            "{}",
            pyhanko.output
        );
    }
}

#[test]
fn time_stamp_proves_existence_before_expiry() {
    let tsa = OpensslTsa::start();
    let b_b = signer_for(&pki().short_lived).sign(DOC);
    let b_t = ssa_cades::add_signature_time_stamp(
        &b_b,
        &HttpTsa::new(&tsa.url()).unwrap(),
        HashAlgorithm::Sha256,
        TsaFailure::Fail,
    )
    .unwrap()
    .signature;
    let later = SystemTime::now() + Duration::from_secs(3 * 86_400);
    assert!(
        check(&b_b, later).signers[0].failure.is_some(),
        "B-B must not pass after expiry"
    );
    assert_eq!(
        check(&b_t, later).indication(),
        Indication::TotalPassed,
        "the time-stamp is the proof of existence"
    );
}

#[test]
fn time_stamp_over_other_data() {
    let tsa = OpensslTsa::start();
    let b_b = signer().sign(DOC);
    let client = HttpTsa::new(&tsa.url()).unwrap();
    let token = client
        .time_stamp(
            HashAlgorithm::Sha256,
            &HashAlgorithm::Sha256.digest(b"other data"),
        )
        .unwrap();
    assert!(
        ssa_cades::embed_signature_time_stamp(&b_b, &token).is_err(),
        "embedding checks the imprint"
    );
    // The forged token is reported and set aside: the signature stays B-B.
    let forged = force_embed(&b_b, &token);
    let report = check(&forged, SystemTime::now());
    let signer = &report.signers[0];
    assert_eq!(
        signer.unusable_time_stamps,
        [Failure::TimeStampImprintMismatch],
        "{report:?}"
    );
    assert_eq!(signer.time_stamped_at, None);
    assert_eq!(signer.level, Some(Level::BB));
    // The time-stamp's own indication, in the standard's terms.
    assert_eq!(
        signer.unusable_time_stamps[0].indication(),
        Indication::TotalFailed(ssa_cades::SubIndication::HashFailure)
    );
}

#[test]
fn tsa_certificate_without_the_eku() {
    let b_b = signer().sign(DOC);
    let value = signed_data(&b_b)
        .signer_infos
        .0
        .iter()
        .next()
        .unwrap()
        .signature
        .as_bytes()
        .to_vec();
    // OpenSSL's TSA refuses such a certificate, so the token is made by hand:
    // a TSTInfo over the right imprint, signed with `openssl cms -sign`.
    let tst = TstInfo {
        version: 1,
        policy: der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4.1"),
        message_imprint: MessageImprint {
            hash_algorithm: ssa_cades::algorithm::digest_algorithm(HashAlgorithm::Sha256),
            hashed_message: der::asn1::OctetString::new(HashAlgorithm::Sha256.digest(&value))
                .unwrap(),
        },
        serial_number: der::asn1::Int::new(&[7]).unwrap(),
        gen_time: ssa_cades::asn1::GenTime::from_system_time(SystemTime::now()).unwrap(),
        accuracy: None,
        ordering: false,
        nonce: None,
        tsa: None,
        extensions: None,
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tst.der"), tst.to_der().unwrap()).unwrap();
    let identity = &pki().tsa_no_eku;
    let out = Command::new("openssl")
        .args([
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-cades",
            "-md",
            "sha256",
            "-econtent_type",
            "1.2.840.113549.1.9.16.1.4",
        ])
        .args([
            "-in",
            "tst.der",
            "-outform",
            "DER",
            "-out",
            "token.der",
            "-signer",
        ])
        .arg(&identity.cert_pem)
        .arg("-inkey")
        .arg(&identity.key_pem)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = std::fs::read(dir.path().join("token.der")).unwrap();
    let stamped = ssa_cades::embed_signature_time_stamp(&b_b, &token).unwrap();
    let report = check(&stamped, SystemTime::now());
    let signer = &report.signers[0];
    assert_eq!(
        signer.unusable_time_stamps,
        [Failure::TsaKeyPurpose],
        "{report:?}"
    );
    assert_eq!(
        signer.unusable_time_stamps[0].indication(),
        Indication::Indeterminate(ssa_cades::SubIndication::ChainConstraintsFailure)
    );
    assert_eq!(signer.level, Some(Level::BB));
}

#[test]
fn tsa_failure_fails_or_downgrades_as_the_caller_chose() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut client = HttpTsa::new(&format!("http://127.0.0.1:{port}/tsa")).unwrap();
    client.settings.attempts = 2;
    client.settings.timeout = Duration::from_millis(300);
    let b_b = signer().sign(DOC);
    let error =
        ssa_cades::add_signature_time_stamp(&b_b, &client, HashAlgorithm::Sha256, TsaFailure::Fail)
            .unwrap_err();
    assert!(
        matches!(error, ssa_cades::CadesError::Tsa { .. }),
        "{error:?}"
    );
    let downgraded = ssa_cades::add_signature_time_stamp(
        &b_b,
        &client,
        HashAlgorithm::Sha256,
        TsaFailure::DowngradeToBB,
    )
    .unwrap();
    assert!(!downgraded.time_stamped);
    assert!(downgraded.tsa_error.is_some());
    assert_eq!(downgraded.signature, b_b);
    assert_eq!(
        check(&downgraded.signature, SystemTime::now()).signers[0].level,
        Some(Level::BB)
    );
}

#[test]
fn openssl_made_b_t_passes_our_verifier() {
    let tsa = OpensslTsa::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("doc.bin"), DOC).unwrap();
    let b_b = ssa_testkit::openssl::cms_sign(&pki().cosigner, DOC, &[]);
    // The token comes from `openssl ts -query` + the OpenSSL TSA.
    let value = signed_data(&b_b)
        .signer_infos
        .0
        .iter()
        .next()
        .unwrap()
        .signature
        .as_bytes()
        .to_vec();
    std::fs::write(dir.path().join("value.bin"), &value).unwrap();
    let out = Command::new("openssl")
        .args([
            "ts",
            "-query",
            "-data",
            "value.bin",
            "-sha256",
            "-cert",
            "-out",
            "req.tsq",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let query = std::fs::read(dir.path().join("req.tsq")).unwrap();
    let response = http_post(&tsa.url(), &query);
    let response = ssa_cades::asn1::TimeStampResp::from_der(&response).unwrap();
    let token = response.time_stamp_token.unwrap().to_der().unwrap();
    let b_t = ssa_cades::embed_signature_time_stamp(&b_b, &token).unwrap();
    let report = check(&b_t, SystemTime::now());
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    assert_eq!(report.signers[0].level, Some(Level::BT));
    let (ok, said) = cms_verify_cades(&b_t, Some(DOC), &pki().ca.cert_pem, false);
    assert!(ok, "{said}");
}

fn http_post(url: &str, body: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let authority = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "POST /tsa HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    response[split + 4..].to_vec()
}
