//! Our verifier: what we sign and what OpenSSL signs passes; each broken
//! signature fails with its own specific failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use der::{Decode, Encode};
use ssa_cades::chain::ChainFailure;
use ssa_cades::{
    Document, Failure, Indication, Level, SubIndication, VerificationReport, VerifyOptions, oid,
    verify,
};
use ssa_scdev::HashAlgorithm;
use ssa_testkit::pki::pki;
use x509_cert::Certificate;

fn anchors() -> Vec<Certificate> {
    vec![Certificate::from_der(&pki().ca.cert_der).unwrap()]
}

fn check(signature: &[u8], document: &[u8], at: SystemTime) -> VerificationReport {
    let anchors = anchors();
    verify(
        signature,
        Document::Bytes(document),
        &VerifyOptions::new(&anchors, at),
    )
}

fn failure(report: &VerificationReport) -> Failure {
    assert_eq!(report.signers.len(), 1, "{report:?}");
    report.signers[0]
        .failure
        .clone()
        .unwrap_or_else(|| panic!("no failure: {report:?}"))
}

const DOC: &[u8] = b"The signer approves this document.";

#[test]
fn our_b_b_passes_our_verifier() {
    let signer = signer();
    let signature = signer.sign(DOC);
    let report = check(&signature, DOC, SystemTime::now());
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    let s = &report.signers[0];
    assert_eq!(s.level, Some(Level::BB));
    assert!(
        s.signer
            .as_deref()
            .unwrap_or_default()
            .contains("Hanako Yamada")
    );
    assert!(s.claimed_signing_time.is_some());
    for check in [
        "content-type",
        "signing-certificate-v2",
        "message-digest",
        "signature-value",
        "certificate-path",
    ] {
        assert!(s.passed.contains(&check), "{check} not reported");
    }
    // The digest and the stream give the same answer.
    let anchors = anchors();
    let options = VerifyOptions::new(&anchors, SystemTime::now());
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let by_digest = verify(
        &signature,
        Document::Digest {
            hash: HashAlgorithm::Sha256,
            value: &digest,
        },
        &options,
    );
    assert_eq!(by_digest.indication(), Indication::TotalPassed);
    let mut reader: &[u8] = DOC;
    let by_stream = verify(&signature, Document::Reader(&mut reader), &options);
    assert_eq!(by_stream.indication(), Indication::TotalPassed);
}

#[test]
fn openssl_cms_sign_cades_passes_our_verifier() {
    let signature = ssa_testkit::openssl::cms_sign(&pki().signer, DOC, &[]);
    let report = check(&signature, DOC, SystemTime::now());
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    let report = check(&signature, b"another document", SystemTime::now());
    assert_eq!(failure(&report), Failure::MessageDigestMismatch);
}

#[test]
fn tampered_document() {
    let signature = signer().sign(DOC);
    let report = check(
        &signature,
        b"The signer approves this documen!",
        SystemTime::now(),
    );
    assert_eq!(failure(&report), Failure::MessageDigestMismatch);
    assert_eq!(
        report.indication(),
        Indication::TotalFailed(SubIndication::HashFailure)
    );
}

fn replace(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in signature");
    let mut out = haystack.to_vec();
    out[at..at + needle.len()].copy_from_slice(with);
    out
}

#[test]
fn tampered_signature_value() {
    let signature = signer().sign(DOC);
    let value = signature_value(&signature);
    let mut flipped = value.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    let report = check(
        &replace(&signature, &value, &flipped),
        DOC,
        SystemTime::now(),
    );
    assert_eq!(failure(&report), Failure::SignatureInvalid);
    assert_eq!(
        report.indication(),
        Indication::TotalFailed(SubIndication::SigCryptoFailure)
    );
}

fn signature_value(signature: &[u8]) -> Vec<u8> {
    let info = cms::content_info::ContentInfo::from_der(signature).unwrap();
    let signed: ssa_cades::asn1::SignedData = info.content.decode_as().unwrap();
    signed
        .signer_infos
        .0
        .iter()
        .next()
        .unwrap()
        .signature
        .as_bytes()
        .to_vec()
}

#[test]
fn tampered_signed_attribute() {
    let signature = signer().sign(DOC);
    // Change one digit of the signing time, which no other check looks at.
    let info = cms::content_info::ContentInfo::from_der(&signature).unwrap();
    let signed: ssa_cades::asn1::SignedData = info.content.decode_as().unwrap();
    let signer_info = signed.signer_infos.0.iter().next().unwrap();
    let attrs = signer_info.signed_attrs.as_ref().unwrap();
    let time_attr = attrs
        .iter()
        .find(|a| a.oid == oid::ID_SIGNING_TIME)
        .unwrap();
    let time = time_attr.values.iter().next().unwrap().to_der().unwrap();
    let mut later = time.clone();
    let last = later.len() - 2;
    later[last] = if later[last] == b'9' {
        b'8'
    } else {
        later[last] + 1
    };
    let report = check(&replace(&signature, &time, &later), DOC, SystemTime::now());
    assert_eq!(failure(&report), Failure::SignatureInvalid);
}

fn signed_with(attributes: impl Fn(&mut Vec<x509_cert::attr::Attribute>)) -> Vec<u8> {
    let signer = signer();
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let params = signer.params(&digest, None);
    let mut attrs = ssa_cades::signed_attributes(&params).unwrap();
    attributes(&mut attrs);
    let prepared =
        ssa_cades::prepare_with_attributes(&signer.certificate, &[], ECDSA, None, attrs).unwrap();
    let value = ssa_cades::DtbsSigner::sign_dtbs(&signer.scdev_signer(), prepared.dtbs()).unwrap();
    prepared.complete(value).unwrap()
}

#[test]
fn wrong_signing_certificate_v2_hash() {
    let other = Certificate::from_der(&pki().cosigner.cert_der).unwrap();
    let signature = signed_with(|attrs| {
        let ess = attrs
            .iter_mut()
            .find(|a| a.oid == oid::ID_AA_SIGNING_CERTIFICATE_V2)
            .unwrap();
        let value = ssa_cades::asn1::SigningCertificateV2 {
            certs: vec![ssa_cades::ess_cert_id(&other).unwrap()],
            policies: None,
        };
        ess.values = der::asn1::SetOfVec::try_from(vec![
            der::asn1::Any::from_der(&value.to_der().unwrap()).unwrap(),
        ])
        .unwrap();
    });
    let report = check(&signature, DOC, SystemTime::now());
    assert_eq!(failure(&report), Failure::SigningCertificateMismatch);
    assert_eq!(
        report.indication(),
        Indication::Indeterminate(SubIndication::NoSigningCertificateFound)
    );
}

#[test]
fn missing_signing_certificate_v2() {
    let signature =
        signed_with(|attrs| attrs.retain(|a| a.oid != oid::ID_AA_SIGNING_CERTIFICATE_V2));
    let report = check(&signature, DOC, SystemTime::now());
    assert_eq!(failure(&report), Failure::SigningCertificateMissing);
}

#[test]
fn certificate_not_chaining_to_the_anchor() {
    let stranger = signer_for(&pki().stranger);
    let report = check(&stranger.sign(DOC), DOC, SystemTime::now());
    assert_eq!(failure(&report), Failure::Chain(ChainFailure::NoPath));
    assert_eq!(
        report.indication(),
        Indication::Indeterminate(SubIndication::NoCertificateChainFound)
    );
}

#[test]
fn expired_certificate_at_validation_time() {
    let short = signer_for(&pki().short_lived);
    let signature = short.sign(DOC);
    assert_eq!(
        check(&signature, DOC, SystemTime::now()).indication(),
        Indication::TotalPassed
    );
    let later = SystemTime::now() + Duration::from_secs(3 * 86_400);
    let report = check(&signature, DOC, later);
    assert!(matches!(
        failure(&report),
        Failure::Chain(ChainFailure::Expired { .. })
    ));
    assert_eq!(
        report.indication(),
        Indication::Indeterminate(SubIndication::OutOfBoundsNoPoe)
    );
}

#[test]
fn truncated_and_garbage_der() {
    let signature = signer().sign(DOC);
    for cut in [0, 1, 10, signature.len() / 2, signature.len() - 1] {
        let report = check(&signature[..cut], DOC, SystemTime::now());
        assert!(report.format_error.is_some(), "cut at {cut}: {report:?}");
        assert_eq!(
            report.indication(),
            Indication::TotalFailed(SubIndication::FormatFailure)
        );
    }
    for garbage in [&b"\x30\x80\x00\x00"[..], b"not DER at all", &[0xff; 64]] {
        assert!(
            check(garbage, DOC, SystemTime::now())
                .format_error
                .is_some()
        );
    }
}

#[test]
fn co_signed_document_passes_for_both_signers() {
    let first = signer();
    let second = signer_for(&pki().cosigner);
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let once = first.sign(DOC);
    let prepared = ssa_cades::prepare(&second.params(&digest, None)).unwrap();
    let value = ssa_cades::DtbsSigner::sign_dtbs(&second.scdev_signer(), prepared.dtbs()).unwrap();
    let twice = prepared.complete_into(&once, value).unwrap();
    let report = check(&twice, DOC, SystemTime::now());
    assert_eq!(report.signers.len(), 2);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    let mut names: Vec<String> = report
        .signers
        .iter()
        .filter_map(|s| s.signer.clone())
        .collect();
    names.sort();
    assert!(
        names[0].contains("Hanako Yamada") && names[1].contains("Taro Suzuki"),
        "{names:?}"
    );
    // The first signature is untouched: it still verifies on its own bytes.
    assert_eq!(
        check(&once, DOC, SystemTime::now()).indication(),
        Indication::TotalPassed
    );
    // A tampered document fails for both.
    let report = check(&twice, b"other", SystemTime::now());
    assert!(
        report
            .signers
            .iter()
            .all(|s| s.failure == Some(Failure::MessageDigestMismatch))
    );
}

#[test]
fn attributes_found_are_reported() {
    use ssa_cades::asn1::{CommitmentTypeIndication, SignerAttributesV2};
    let signer = signer();
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let mut params = signer.params(&digest, None);
    let proof_of_approval = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.6.5");
    params.options.commitment = Some(CommitmentTypeIndication {
        commitment_type_id: proof_of_approval,
        commitment_type_qualifier: None,
    });
    let uri = "urn:example:role:representative-director";
    let role = x509_cert::attr::Attribute {
        oid: ssa_cades::delegation::ID_AT_ROLE,
        values: der::asn1::SetOfVec::try_from(vec![
            der::asn1::Any::encode_from(&ssa_cades::delegation::role_syntax(uri).unwrap()).unwrap(),
        ])
        .unwrap(),
    };
    params.options.signer_attributes = Some(SignerAttributesV2 {
        claimed_attributes: Some(vec![role]),
        ..SignerAttributesV2::default()
    });
    params.options.mime_type = Some("application/pdf".into());
    let signature = ssa_cades::sign(&params, &signer.scdev_signer()).unwrap();
    let report = check(&signature, DOC, SystemTime::now());
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    let s = &report.signers[0];
    assert_eq!(
        s.commitment.as_ref().map(|c| c.commitment_type_id),
        Some(proof_of_approval)
    );
    assert_eq!(s.claimed_roles, [uri]);
    let (ok, said) =
        ssa_testkit::openssl::cms_verify_cades(&signature, Some(DOC), &pki().ca.cert_pem, false);
    assert!(ok, "{said}");
    // pyHanko parses every attribute written (OpenSSL does not look at
    // signer-attributes-v2 or the commitment type) and reads the role.
    let pyhanko = ssa_testkit::pyhanko::validate_cms(
        &signature,
        Some(DOC),
        &ssa_testkit::pyhanko::Trust {
            roots: vec![&pki().ca.cert_pem],
            ..Default::default()
        },
    );
    assert!(pyhanko.passed(0), "{}", pyhanko.output);
    assert_eq!(
        pyhanko.all("signer 0 claimed role"),
        [uri],
        "{}",
        pyhanko.output
    );
}

/// A signed attribute read by the verifier that is present but malformed
/// fails the format check; it is not treated as absent (EN 319 102-1
/// FORMAT_FAILURE).
#[test]
fn malformed_optional_signed_attributes_fail_the_format_check() {
    let signer = signer();
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let params = signer.params(&digest, None);
    let utf8 = |text: &str| {
        der::asn1::Any::encode_from(&der::asn1::Utf8StringRef::new(text).unwrap()).unwrap()
    };
    let time = |t: SystemTime| {
        der::asn1::Any::encode_from(&x509_cert::time::Time::try_from(t).unwrap()).unwrap()
    };
    let oid = der::asn1::ObjectIdentifier::new_unwrap;
    let signing_time = oid("1.2.840.113549.1.9.5");
    let cases: Vec<(&str, der::asn1::ObjectIdentifier, Vec<der::asn1::Any>)> = vec![
        (
            "two signing-time values",
            signing_time,
            vec![
                time(now()),
                time(now() - std::time::Duration::from_secs(60)),
            ],
        ),
        (
            "signing-time not a Time",
            signing_time,
            vec![utf8("yesterday")],
        ),
        (
            "signature policy not a policy",
            oid("1.2.840.113549.1.9.16.2.15"),
            vec![utf8("x")],
        ),
        (
            "commitment type not one",
            oid("1.2.840.113549.1.9.16.2.16"),
            vec![utf8("x")],
        ),
        (
            "signer-attributes-v2 not one",
            oid("0.4.0.19122.1.1"),
            vec![utf8("x")],
        ),
        (
            "a claimed role not a RoleSyntax",
            oid("0.4.0.19122.1.1"),
            vec![
                der::asn1::Any::encode_from(&ssa_cades::asn1::SignerAttributesV2 {
                    claimed_attributes: Some(vec![x509_cert::attr::Attribute {
                        oid: ssa_cades::delegation::ID_AT_ROLE,
                        values: der::asn1::SetOfVec::try_from(vec![utf8("部長")]).unwrap(),
                    }]),
                    ..Default::default()
                })
                .unwrap(),
            ],
        ),
    ];
    for (case, oid, values) in cases {
        let mut attributes: Vec<x509_cert::attr::Attribute> = ssa_cades::signed_attributes(&params)
            .unwrap()
            .into_iter()
            .filter(|a| a.oid != oid)
            .collect();
        let mut set = der::asn1::SetOfVec::new();
        for value in values {
            set.insert(value).unwrap();
        }
        attributes.push(x509_cert::attr::Attribute { oid, values: set });
        let prepared =
            ssa_cades::prepare_with_attributes(&signer.certificate, &[], ECDSA, None, attributes)
                .unwrap();
        let value =
            ssa_cades::DtbsSigner::sign_dtbs(&signer.scdev_signer(), prepared.dtbs()).unwrap();
        let signature = prepared.complete(value).unwrap();
        let report = check(&signature, DOC, SystemTime::now());
        assert_eq!(
            report.indication(),
            Indication::TotalFailed(SubIndication::FormatFailure),
            "{case}: {report:?}"
        );
        assert!(
            matches!(report.signers[0].failure, Some(Failure::Format(_))),
            "{case}: {:?}",
            report.signers[0].failure
        );
    }
}

#[test]
fn ber_from_openssl_stream_passes_and_the_document_can_be_streamed() {
    let dir = tempfile::tempdir().unwrap();
    let document = vec![0x5a_u8; 200_000];
    std::fs::write(dir.path().join("doc.bin"), &document).unwrap();
    let signature = ssa_testkit::openssl::cms_sign(&pki().signer, &document, &["-stream"]);
    assert_eq!(
        &signature[..2],
        &[0x30, 0x80],
        "expected indefinite-length BER from -stream"
    );
    let report = check(&signature, &document, SystemTime::now());
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    // Our builder from a streamed digest, checked by OpenSSL.
    let ours = signer_for(&pki().signer);
    let mut reader = std::fs::File::open(dir.path().join("doc.bin")).unwrap();
    let digest = ssa_cades::digest_reader(HashAlgorithm::Sha256, &mut reader).unwrap();
    assert_eq!(digest, HashAlgorithm::Sha256.digest(&document));
    let signature = ssa_cades::sign(&ours.params(&digest, None), &ours.scdev_signer()).unwrap();
    let (ok, said) = ssa_testkit::openssl::cms_verify_cades(
        &signature,
        Some(&document),
        &pki().ca.cert_pem,
        false,
    );
    assert!(ok, "{said}");
}
