//! Independent acceptance: OpenSSL verifies what the builder makes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use ssa_scdev::HashAlgorithm;
use ssa_testkit::openssl::cms_verify_cades;
use ssa_testkit::pki::pki;

#[test]
fn b_b_detached_is_accepted_by_openssl_cms_cades() {
    let signer = signer();
    let document = b"Contract v1: the parties agree to the terms below.".repeat(20);
    let signature = signer.sign(&document);
    let (ok, said) = cms_verify_cades(&signature, Some(&document), &pki().ca.cert_pem, false);
    assert!(ok, "OpenSSL refused: {said}");
    // And OpenSSL is a real check: another document fails.
    let (ok, _) = cms_verify_cades(&signature, Some(b"Contract v2"), &pki().ca.cert_pem, false);
    assert!(!ok);
}

#[test]
fn b_b_enveloping_is_accepted_by_openssl_cms_cades() {
    let signer = signer();
    let document = b"enveloped document".to_vec();
    let digest = HashAlgorithm::Sha256.digest(&document);
    let signature = ssa_cades::sign(
        &signer.params(&digest, Some(&document)),
        &signer.scdev_signer(),
    )
    .unwrap();
    let (ok, said) = cms_verify_cades(&signature, None, &pki().ca.cert_pem, false);
    assert!(ok, "OpenSSL refused: {said}");
}

#[test]
fn prepare_then_complete_raw_hash_mode_is_accepted() {
    use ssa_scdev::{Scdev, SignInput};
    let signer = signer();
    let document = b"raw hash mode".to_vec();
    let digest = HashAlgorithm::Sha256.digest(&document);
    let prepared = ssa_cades::prepare(&signer.params(&digest, None)).unwrap();
    // The client sends only the DTBS/R to the signing service.
    let dtbs_r = prepared.dtbs_digest().unwrap();
    let value = signer
        .scdev
        .sign(
            &signer.key,
            ECDSA,
            SignInput::Digest {
                hash: HashAlgorithm::Sha256,
                value: &dtbs_r,
            },
        )
        .unwrap();
    let signature = prepared.complete(value).unwrap();
    let (ok, said) = cms_verify_cades(&signature, Some(&document), &pki().ca.cert_pem, false);
    assert!(ok, "OpenSSL refused: {said}");
}

#[test]
fn co_signed_document_is_accepted_for_both_signers() {
    let first = signer();
    let second = signer_for(&pki().cosigner);
    let document = b"a contract both parties sign".to_vec();
    let digest = HashAlgorithm::Sha256.digest(&document);
    let once = first.sign(&document);
    let prepared = ssa_cades::prepare(&second.params(&digest, None)).unwrap();
    let value = ssa_cades::DtbsSigner::sign_dtbs(&second.scdev_signer(), prepared.dtbs()).unwrap();
    let twice = prepared.complete_into(&once, value).unwrap();
    let (ok, said) = cms_verify_cades(&twice, Some(&document), &pki().ca.cert_pem, false);
    assert!(ok, "OpenSSL refused the co-signed document: {said}");
}
