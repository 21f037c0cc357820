//! B-LT: the path and revocation data (CRL from a distribution point, OCSP
//! from `openssl ocsp`) embedded for later validation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::SystemTime;

use common::*;
use der::Decode;
use ssa_cades::chain::ChainFailure;
use ssa_cades::{
    Document, Failure, HttpRevocationSource, HttpTsa, Indication, Level, SubIndication, TsaFailure,
    VerificationReport, VerifyOptions, add_validation_data, verify,
};
use ssa_scdev::HashAlgorithm;
use ssa_testkit::openssl::cms_verify_cades_with;
use ssa_testkit::revocation::RevocationCa;
use ssa_testkit::tsa::OpensslTsa;
use x509_cert::Certificate;

const DOC: &[u8] = b"a contract to be validated in ten years";

fn check(signature: &[u8], ca: &RevocationCa) -> VerificationReport {
    let anchors = vec![Certificate::from_der(&ca.ca.cert_der).unwrap()];
    verify(
        signature,
        Document::Bytes(DOC),
        &VerifyOptions::new(&anchors, SystemTime::now()),
    )
}

fn anchors(ca: &RevocationCa) -> Vec<Certificate> {
    vec![Certificate::from_der(&ca.ca.cert_der).unwrap()]
}

#[test]
fn b_lt_embeds_path_crl_and_ocsp_and_openssl_accepts_it() {
    let ca = RevocationCa::start("B-LT CA");
    let signer = signer_for(&ca.issue("Hanako Yamada", "signer"));
    let tsa = OpensslTsa::start_with(&ca.issue("B-LT TSA", "tsa"));
    let b_b = signer.sign(DOC);
    let b_t = ssa_cades::add_signature_time_stamp(
        &b_b,
        &HttpTsa::new(&tsa.url()).unwrap(),
        HashAlgorithm::Sha256,
        TsaFailure::Fail,
    )
    .unwrap()
    .signature;
    let b_lt = add_validation_data(
        &b_t,
        &anchors(&ca),
        &HttpRevocationSource::default(),
        SystemTime::now(),
    )
    .unwrap();

    let signed: ssa_cades::asn1::SignedData = cms::content_info::ContentInfo::from_der(&b_lt)
        .unwrap()
        .content
        .decode_as()
        .unwrap();
    let crls = signed.crls.as_ref().unwrap();
    assert!(
        crls.iter()
            .any(|c| matches!(c, ssa_cades::asn1::RevocationInfoChoice::Crl(_))),
        "no CRL embedded"
    );
    assert!(
        crls.iter()
            .any(|c| matches!(c, ssa_cades::asn1::RevocationInfoChoice::Other(_))),
        "no OCSP embedded"
    );

    let report = check(&b_lt, &ca);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    assert_eq!(report.signers[0].level, Some(Level::BLt));
    assert_eq!(
        report.signers[0].revocation.covered,
        report.signers[0].revocation.total
    );
    // B-T alone is not B-LT.
    assert_eq!(check(&b_t, &ca).signers[0].level, Some(Level::BT));

    let (ok, said) = cms_verify_cades_with(&b_lt, Some(DOC), &ca.ca_pem(), &["-crl_check"]);
    assert!(
        ok,
        "OpenSSL refused the B-LT signature with -crl_check: {said}"
    );
}

#[test]
fn revoked_signer_fails_with_crl_and_with_ocsp() {
    let ca = RevocationCa::start("Revoking CA");
    let identity = ca.issue("Revoked Signer", "signer");
    let b_b = signer_for(&identity).sign(DOC);
    ca.revoke(&identity);
    for (use_crl, use_ocsp) in [(true, false), (false, true)] {
        let source = HttpRevocationSource {
            use_crl,
            use_ocsp,
            ..HttpRevocationSource::default()
        };
        let b_lt = add_validation_data(&b_b, &anchors(&ca), &source, SystemTime::now()).unwrap();
        let report = check(&b_lt, &ca);
        assert!(
            matches!(
                report.signers[0].failure,
                Some(Failure::Chain(ChainFailure::Revoked { .. }))
            ),
            "crl {use_crl} ocsp {use_ocsp}: {report:?}"
        );
        // Revoked, and no time-stamp shows the signature came before:
        // EN 319 102-1 INDETERMINATE/REVOKED_NO_POE.
        assert_eq!(
            report.indication(),
            Indication::Indeterminate(SubIndication::RevokedNoPoe)
        );
    }
}

#[test]
fn ocsp_only_b_lt_is_well_formed_for_openssl() {
    let ca = RevocationCa::start("OCSP CA");
    let b_b = signer_for(&ca.issue("OCSP Signer", "signer")).sign(DOC);
    let source = HttpRevocationSource {
        use_crl: false,
        ..HttpRevocationSource::default()
    };
    let b_lt = add_validation_data(&b_b, &anchors(&ca), &source, SystemTime::now()).unwrap();
    let report = check(&b_lt, &ca);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:?}");
    assert_eq!(report.signers[0].revocation.covered, 1);
    let (ok, said) = cms_verify_cades_with(&b_lt, Some(DOC), &ca.ca_pem(), &[]);
    assert!(
        ok,
        "OpenSSL could not read the OCSP revocation choice: {said}"
    );
}

#[test]
fn missing_revocation_data_changes_nothing() {
    // The main test PKI's certificates name no CRL or OCSP service.
    let b_b = signer().sign(DOC);
    let anchors = vec![Certificate::from_der(&ssa_testkit::pki::pki().ca.cert_der).unwrap()];
    let error = add_validation_data(
        &b_b,
        &anchors,
        &HttpRevocationSource::default(),
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(
        matches!(error, ssa_cades::CadesError::Revocation { .. }),
        "{error:?}"
    );
}
