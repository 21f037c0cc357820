//! B-LTA: archive-time-stamp-v3 with its ats-hash-index-v3 (EN 319 122-1
//! §5.5), made over a B-LT from a real TSA and revocation sources, each
//! token checked by `openssl ts -verify` over an imprint input that the
//! test rebuilds from the raw bytes with asn1crypto (no library code).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::SystemTime;

use common::*;
use der::{Decode, Encode};
use ssa_cades::TimeStampAuthority;
use ssa_cades::{
    Document, Failure, HttpRevocationSource, HttpTsa, Indication, Level, SignedContent,
    SubIndication, TsaFailure, VerificationReport, VerifyOptions, add_archive_time_stamp,
    add_validation_data, oid, verify,
};
use ssa_scdev::HashAlgorithm;
use ssa_testkit::revocation::RevocationCa;
use ssa_testkit::tsa::{OpensslTsa, ts_verify};
use x509_cert::Certificate;

const DOC: &[u8] = b"a contract to be kept for thirty years";

fn anchors(ca: &RevocationCa) -> Vec<Certificate> {
    vec![Certificate::from_der(&ca.ca.cert_der).unwrap()]
}

fn check(signature: &[u8], ca: &RevocationCa) -> VerificationReport {
    verify(
        signature,
        Document::Bytes(DOC),
        &VerifyOptions::new(&anchors(ca), SystemTime::now()),
    )
}

struct Made {
    ca: RevocationCa,
    tsa: OpensslTsa,
    identity: ssa_testkit::pki::Identity,
    b_lt: Vec<u8>,
}

fn b_lt() -> Made {
    let ca = RevocationCa::start("B-LTA CA");
    let identity = ca.issue("Hanako Yamada", "signer");
    let signer = signer_for(&identity);
    let tsa = OpensslTsa::start_with(&ca.issue("B-LTA TSA", "tsa"));
    let b_t = ssa_cades::add_signature_time_stamp(
        &signer.sign(DOC),
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
    Made {
        ca,
        tsa,
        identity,
        b_lt,
    }
}

fn archive(made: &Made, signature: &[u8]) -> Vec<u8> {
    add_archive_time_stamp(
        signature,
        SignedContent::Bytes(DOC),
        &HttpTsa::new(&made.tsa.url()).unwrap(),
        HashAlgorithm::Sha256,
    )
    .unwrap()
}

/// Checks every archive time-stamp with OpenSSL over the independently
/// rebuilt imprint input; returns how many there were.
fn openssl_checks_every_archive_time_stamp(signature: &[u8], ca: &RevocationCa) -> usize {
    let imprints = ssa_testkit::pyhanko::archive_imprints(signature, DOC);
    for (n, imprint) in imprints.iter().enumerate() {
        assert!(
            imprint.index_ok,
            "archive {n}: its hash index names what is gone"
        );
        let (ok, said) = ts_verify(&imprint.token, &imprint.input, &ca.ca_pem());
        assert!(ok, "archive {n}: openssl ts -verify refused: {said}");
        let (ok, _) = ts_verify(&imprint.token, &imprint.input[1..], &ca.ca_pem());
        assert!(!ok, "openssl accepted other data");
    }
    imprints.len()
}

#[test]
fn b_lta_is_made_verified_and_renewed() {
    let made = b_lt();
    // Before the first archive time-stamp, the validation data of the
    // signer's path and of the signature time-stamp's TSA are in: an OCSP
    // answer for each of the two certificates.
    let ocsp_answers = signed_data(&made.b_lt)
        .crls
        .iter()
        .flat_map(|s| s.iter())
        .filter(|c| matches!(c, ssa_cades::asn1::RevocationInfoChoice::Other(_)))
        .count();
    assert!(ocsp_answers >= 2, "{ocsp_answers} OCSP answers");
    let b_lta = archive(&made, &made.b_lt);
    let report = check(&b_lta, &made.ca);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    let signer = &report.signers[0];
    assert_eq!(signer.level, Some(Level::BLta));
    assert!(signer.archived_at.is_some());
    assert_eq!(openssl_checks_every_archive_time_stamp(&b_lta, &made.ca), 1);
    // Everything of the B-LT is still there, byte for byte: the
    // certificates, the revocation values, the SignerInfo's unsigned
    // attributes; one attribute was added.
    assert!(ssa_testkit::pyhanko::archive_imprints(&made.b_lt, DOC).is_empty());
    let (before, after) = (signed_data(&made.b_lt), signed_data(&b_lta));
    assert_eq!(before.certificates, after.certificates);
    assert_eq!(before.crls, after.crls);
    let unsigned = |s: &ssa_cades::asn1::SignedData| -> Vec<Vec<u8>> {
        s.signer_infos
            .0
            .iter()
            .flat_map(|i| i.unsigned_attrs.iter().flat_map(|a| a.iter()))
            .map(|a| a.to_der().unwrap())
            .collect()
    };
    let (was, is) = (unsigned(&before), unsigned(&after));
    assert_eq!(is.len(), was.len() + 1);
    assert!(was.iter().all(|a| is.contains(a)));
    // OpenSSL still accepts the CMS signature itself.
    let (ok, said) =
        ssa_testkit::openssl::cms_verify_cades(&b_lta, Some(DOC), &made.ca.ca_pem(), false);
    assert!(ok, "{said}");

    // Renewal: a second archive time-stamp covers the first.
    let renewed = archive(&made, &b_lta);
    let report = check(&renewed, &made.ca);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert_eq!(report.signers[0].level, Some(Level::BLta));
    assert_eq!(
        openssl_checks_every_archive_time_stamp(&renewed, &made.ca),
        2
    );
    // The second index covers the first archive time-stamp's value.
    let imprints = ssa_testkit::pyhanko::archive_imprints(&renewed, DOC);
    let first = imprints.iter().map(|i| i.token.clone()).collect::<Vec<_>>();
    assert_eq!(first.len(), 2);
    // Its TSA: the token the library wrote carries ats-hash-index-v3 as an
    // unsigned attribute of its own SignerInfo.
    for token in first {
        let signed: ssa_cades::asn1::SignedData = cms::content_info::ContentInfo::from_der(&token)
            .unwrap()
            .content
            .decode_as()
            .unwrap();
        let info = signed.signer_infos.0.iter().next().unwrap();
        assert!(
            info.unsigned_attrs
                .iter()
                .flat_map(|a| a.iter())
                .any(|a| a.oid == oid::ID_AA_ATS_HASH_INDEX_V3)
        );
    }
}

/// The signature's parts, to tamper with.
fn signed_data(signature: &[u8]) -> ssa_cades::asn1::SignedData {
    cms::content_info::ContentInfo::from_der(signature)
        .unwrap()
        .content
        .decode_as()
        .unwrap()
}

fn encode(signed: &ssa_cades::asn1::SignedData) -> Vec<u8> {
    cms::content_info::ContentInfo {
        content_type: oid::ID_SIGNED_DATA,
        content: der::asn1::Any::encode_from(signed).unwrap(),
    }
    .to_der()
    .unwrap()
}

fn archive_failure(report: &VerificationReport) -> Failure {
    match report.signers[0].failure.clone() {
        Some(Failure::ArchiveTimeStamp(inner)) => *inner,
        other => panic!("not an archive time-stamp failure: {other:?} in {report:#?}"),
    }
}

/// `signature` with its first SignerInfo's unsigned attributes edited.
fn edit_unsigned(
    signature: &[u8],
    edit: impl FnOnce(Vec<x509_cert::attr::Attribute>) -> Vec<x509_cert::attr::Attribute>,
) -> Vec<u8> {
    let mut signed = signed_data(signature);
    let mut infos: Vec<_> = signed.signer_infos.0.iter().cloned().collect();
    let attrs = infos[0]
        .unsigned_attrs
        .as_ref()
        .unwrap()
        .iter()
        .cloned()
        .collect();
    infos[0].unsigned_attrs = Some(der::asn1::SetOfVec::try_from(edit(attrs)).unwrap());
    signed.signer_infos.0 = der::asn1::SetOfVec::try_from(infos).unwrap();
    encode(&signed)
}

/// `attrs` with the (single) value of every `oid` attribute replaced by
/// `replace(value)`.
fn replace_value(
    attrs: Vec<x509_cert::attr::Attribute>,
    oid: der::asn1::ObjectIdentifier,
    replace: impl Fn(&[u8]) -> Vec<u8>,
) -> Vec<x509_cert::attr::Attribute> {
    attrs
        .into_iter()
        .map(|a| {
            if a.oid != oid {
                return a;
            }
            let value = replace(&a.values.iter().next().unwrap().to_der().unwrap());
            x509_cert::attr::Attribute {
                oid,
                values: der::asn1::SetOfVec::try_from(vec![
                    der::asn1::Any::from_der(&value).unwrap(),
                ])
                .unwrap(),
            }
        })
        .collect()
}

#[test]
fn tampering_after_the_archive_time_stamp_fails_each_with_its_reason() {
    let made = b_lt();
    let b_lta = archive(&made, &made.b_lt);

    // A removed OCSP response.
    let mut signed = signed_data(&b_lta);
    let crls: Vec<_> = signed.crls.as_ref().unwrap().iter().cloned().collect();
    let without_ocsp: Vec<_> = crls
        .iter()
        .filter(|c| !matches!(c, ssa_cades::asn1::RevocationInfoChoice::Other(_)))
        .cloned()
        .collect();
    assert!(
        without_ocsp.len() < crls.len(),
        "the B-LT has no OCSP response"
    );
    signed.crls = Some(der::asn1::SetOfVec::try_from(without_ocsp).unwrap());
    let report = check(&encode(&signed), &made.ca);
    assert_eq!(
        archive_failure(&report),
        Failure::ArchiveHashIndex("a revocation value it covers is not in the signature")
    );
    assert_eq!(
        report.indication(),
        Indication::TotalFailed(SubIndication::HashFailure)
    );

    // A modified unsigned attribute: the signature time-stamp replaced by
    // another token over the same signature value.
    let value = signed_data(&b_lta)
        .signer_infos
        .0
        .iter()
        .next()
        .unwrap()
        .signature
        .as_bytes()
        .to_vec();
    let fresh = HttpTsa::new(&made.tsa.url())
        .unwrap()
        .time_stamp(HashAlgorithm::Sha256, &HashAlgorithm::Sha256.digest(&value))
        .unwrap();
    let replaced = edit_unsigned(&b_lta, |attrs| {
        replace_value(attrs, oid::ID_AA_TIME_STAMP_TOKEN, |_| fresh.clone())
    });
    let report = check(&replaced, &made.ca);
    assert_eq!(
        archive_failure(&report),
        Failure::ArchiveHashIndex("an unsigned attribute value it covers is not in the signature")
    );

    // An archive time-stamp copied from another signature (same signer,
    // same document, its own B-LTA).
    let other = archive(&made, &b_lt_again(&made));
    let other_ats = signed_data(&other)
        .signer_infos
        .0
        .iter()
        .next()
        .unwrap()
        .unsigned_attrs
        .as_ref()
        .unwrap()
        .iter()
        .find(|a| a.oid == oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
        .unwrap()
        .clone();
    let copied = edit_unsigned(&made.b_lt, |mut attrs| {
        attrs.push(other_ats);
        attrs
    });
    let report = check(&copied, &made.ca);
    // Its index names the other signature's certificate.
    assert_eq!(
        archive_failure(&report),
        Failure::ArchiveHashIndex("a certificate it covers is not in the signature")
    );
    assert_eq!(
        report.indication(),
        Indication::TotalFailed(SubIndication::HashFailure)
    );

    // An edited index (one of its own hashes listed twice: everything it
    // names is still there) no longer matches the time-stamped imprint.
    let edited = edit_unsigned(&b_lta, |attrs| {
        replace_value(
            attrs,
            oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3,
            with_edited_index,
        )
    });
    let report = check(&edited, &made.ca);
    assert_eq!(archive_failure(&report), Failure::TimeStampImprintMismatch);
    assert_eq!(
        report.indication(),
        Indication::TotalFailed(SubIndication::HashFailure)
    );
}

/// `token` with its ats-hash-index-v3's first certificate hash listed twice.
fn with_edited_index(token: &[u8]) -> Vec<u8> {
    edit_unsigned(token, |attrs| {
        replace_value(attrs, oid::ID_AA_ATS_HASH_INDEX_V3, |value| {
            let mut index = ssa_cades::asn1::AtsHashIndexV3::from_der(value).unwrap();
            let first = index.certificates_hash_index[0].clone();
            index.certificates_hash_index.push(first);
            index.to_der().unwrap()
        })
    })
}

/// Another B-LT by the same signer over the same document.
fn b_lt_again(made: &Made) -> Vec<u8> {
    let signer = signer_for(&made.ca.issue("Hanako Yamada", "signer"));
    let b_t = ssa_cades::add_signature_time_stamp(
        &signer.sign(DOC),
        &HttpTsa::new(&made.tsa.url()).unwrap(),
        HashAlgorithm::Sha256,
        TsaFailure::Fail,
    )
    .unwrap()
    .signature;
    add_validation_data(
        &b_t,
        &anchors(&made.ca),
        &HttpRevocationSource::default(),
        SystemTime::now(),
    )
    .unwrap()
}

/// `augment` raises a B-B to B-LTA in one call: ours, and one made by
/// `openssl cms -sign -cades` (the document is not needed: each archive
/// time-stamp is over the signer's own message-digest).
#[test]
fn augment_raises_b_b_to_b_lta_for_ours_and_openssls() {
    let made = b_lt();
    let identity = made.ca.issue("Taro Suzuki", "signer");
    let tsa = HttpTsa::new(&made.tsa.url()).unwrap();
    let source = HttpRevocationSource::default();
    let anchors = anchors(&made.ca);
    let with = ssa_cades::Augmentation {
        tsa: Some(&tsa),
        revocation: Some(&source),
        anchors: &anchors,
        at: SystemTime::now(),
    };
    let ours = signer_for(&identity).sign(DOC);
    let theirs = ssa_testkit::openssl::cms_sign(&identity, DOC, &["-cades"]);
    for (who, b_b) in [("ours", ours), ("OpenSSL's", theirs)] {
        let b_lta = ssa_cades::augment(b_b.clone(), Level::BLta, &with).unwrap();
        let report = check(&b_lta, &made.ca);
        assert_eq!(
            report.indication(),
            Indication::TotalPassed,
            "{who}: {report:#?}"
        );
        assert_eq!(report.signers[0].level, Some(Level::BLta), "{who}");
        assert_eq!(
            openssl_checks_every_archive_time_stamp(&b_lta, &made.ca),
            1,
            "{who}"
        );
        let (ok, said) =
            ssa_testkit::openssl::cms_verify_cades(&b_lta, Some(DOC), &made.ca.ca_pem(), false);
        assert!(ok, "{who}: {said}");
        // The signed part of the SignerInfo is the signer's, byte for byte.
        let before = signed_data(&b_b);
        let after = signed_data(&b_lta);
        let signed_part = |s: &ssa_cades::asn1::SignedData| {
            let info = s.signer_infos.0.iter().next().unwrap();
            (info.signed_attrs.to_der().unwrap(), info.signature.clone())
        };
        assert_eq!(signed_part(&before), signed_part(&after), "{who}");
        // Raising again renews.
        let renewed = ssa_cades::augment(b_lta, Level::BLta, &with).unwrap();
        assert_eq!(
            openssl_checks_every_archive_time_stamp(&renewed, &made.ca),
            2,
            "{who}"
        );
        assert_eq!(
            check(&renewed, &made.ca).indication(),
            Indication::TotalPassed
        );
    }
}

/// A B-LTA is judged at the times its time-stamps prove: the signer's
/// certificate expired since, or revoked since, still passes; revoked
/// before the signature time-stamp, it fails.
#[test]
fn b_lta_is_judged_at_the_time_its_time_stamps_prove() {
    use std::time::Duration;
    let made = b_lt();
    let b_lta = archive(&made, &made.b_lt);
    let anchors = anchors(&made.ca);

    // Eleven years on, every certificate has expired (3650 days).
    let later = SystemTime::now() + Duration::from_secs(11 * 365 * 86_400);
    let report = verify(
        &b_lta,
        Document::Bytes(DOC),
        &VerifyOptions::new(&anchors, later),
    );
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert_eq!(report.signers[0].level, Some(Level::BLta));
    // Without its time-stamps the same signature is out of bounds.
    let b_b = signer_for(&made.identity).sign(DOC);
    assert_eq!(
        verify(
            &b_b,
            Document::Bytes(DOC),
            &VerifyOptions::new(&anchors, later)
        )
        .indication(),
        Indication::Indeterminate(SubIndication::OutOfBoundsNoPoe)
    );

    // Revoked after the time-stamps: the fresh CRL and OCSP answer that
    // say so are added (an archive time-stamp allows that); it passes.
    std::thread::sleep(Duration::from_secs(2));
    made.ca.revoke(&made.identity);
    let with_news = add_validation_data(
        &b_lta,
        &anchors,
        &HttpRevocationSource::default(),
        SystemTime::now(),
    )
    .unwrap();
    assert_ne!(with_news, b_lta, "no new revocation data was added");
    let report = check(&with_news, &made.ca);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert_eq!(report.signers[0].level, Some(Level::BLta));

    // Revoked before the signature time-stamp: it fails.
    let tsa = HttpTsa::new(&made.tsa.url()).unwrap();
    let source = HttpRevocationSource::default();
    let after_revocation = ssa_cades::augment(
        signer_for(&made.identity).sign(DOC),
        Level::BLta,
        &ssa_cades::Augmentation {
            tsa: Some(&tsa),
            revocation: Some(&source),
            anchors: &anchors,
            at: SystemTime::now(),
        },
    )
    .unwrap();
    let report = check(&after_revocation, &made.ca);
    assert_eq!(
        report.indication(),
        Indication::Indeterminate(SubIndication::RevokedNoPoe),
        "{report:#?}"
    );
}

/// A B-LTA co-signed later (連署) and raised to B-LTA again: only the new
/// signer gets a time-stamp and an archive time-stamp; the first signer's
/// SignerInfo stays byte for byte, and both pass.
#[test]
fn co_signing_a_b_lta_leaves_the_first_signer_byte_for_byte() {
    let made = b_lt();
    let b_lta = archive(&made, &made.b_lt);
    let second = signer_for(&made.ca.issue("Taro Suzuki", "signer"));
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let prepared = ssa_cades::prepare(&second.params(&digest, None)).unwrap();
    let value = ssa_cades::DtbsSigner::sign_dtbs(&second.scdev_signer(), prepared.dtbs()).unwrap();
    let co_signed = prepared.complete_into(&b_lta, value).unwrap();
    let tsa = HttpTsa::new(&made.tsa.url()).unwrap();
    let source = HttpRevocationSource::default();
    let anchors = anchors(&made.ca);
    let raised = ssa_cades::augment(
        co_signed,
        Level::BLta,
        &ssa_cades::Augmentation {
            tsa: Some(&tsa),
            revocation: Some(&source),
            anchors: &anchors,
            at: SystemTime::now(),
        },
    )
    .unwrap();
    let infos = |signature: &[u8]| -> Vec<Vec<u8>> {
        signed_data(signature)
            .signer_infos
            .0
            .iter()
            .map(|i| i.to_der().unwrap())
            .collect()
    };
    let first = infos(&b_lta).remove(0);
    assert!(infos(&raised).contains(&first), "the first signer changed");
    let report = check(&raised, &made.ca);
    assert_eq!(report.signers.len(), 2);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert!(
        report.signers.iter().all(|s| s.level == Some(Level::BLta)),
        "{report:#?}"
    );
}

/// The signed content's hash for the archive time-stamp, three ways: an
/// enveloping signature's own content, a detached one's document digest,
/// and a digest under another hash (refused, nothing made).
#[test]
fn archive_content_enveloped_digest_and_refused() {
    let made = b_lt();
    let tsa = HttpTsa::new(&made.tsa.url()).unwrap();
    let source = HttpRevocationSource::default();
    let anchors = anchors(&made.ca);
    let signer = signer_for(&made.identity);
    let digest = HashAlgorithm::Sha256.digest(DOC);
    let enveloping =
        ssa_cades::sign(&signer.params(&digest, Some(DOC)), &signer.scdev_signer()).unwrap();
    let with = ssa_cades::Augmentation {
        tsa: Some(&tsa),
        revocation: Some(&source),
        anchors: &anchors,
        at: SystemTime::now(),
    };
    let b_lt = ssa_cades::augment(enveloping, Level::BLt, &with).unwrap();
    let b_lta =
        add_archive_time_stamp(&b_lt, SignedContent::Enveloped, &tsa, HashAlgorithm::Sha256)
            .unwrap();
    let report = verify(
        &b_lta,
        Document::Enveloped,
        &VerifyOptions::new(&anchors, SystemTime::now()),
    );
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert_eq!(report.signers[0].level, Some(Level::BLta));

    // Detached, from the document's digest only; verified from the digest.
    let b_lta = add_archive_time_stamp(
        &made.b_lt,
        SignedContent::Digest {
            hash: HashAlgorithm::Sha256,
            value: &digest,
        },
        &tsa,
        HashAlgorithm::Sha256,
    )
    .unwrap();
    let report = verify(
        &b_lta,
        Document::Digest {
            hash: HashAlgorithm::Sha256,
            value: &digest,
        },
        &VerifyOptions::new(&anchors, SystemTime::now()),
    );
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert_eq!(report.signers[0].level, Some(Level::BLta));
    assert_eq!(openssl_checks_every_archive_time_stamp(&b_lta, &made.ca), 1);

    // An archive time-stamp under another hash than the signer's digest
    // (SHA-384 over a SHA-256 signature): the verifier hashes the document
    // under that hash too.
    let b_lta = add_archive_time_stamp(
        &made.b_lt,
        SignedContent::Bytes(DOC),
        &tsa,
        HashAlgorithm::Sha384,
    )
    .unwrap();
    let report = check(&b_lta, &made.ca);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert_eq!(report.signers[0].level, Some(Level::BLta));
    assert_eq!(openssl_checks_every_archive_time_stamp(&b_lta, &made.ca), 1);

    // A SHA-256 digest for a SHA-384 archive time-stamp: refused.
    let served = made.tsa.served();
    let refused = add_archive_time_stamp(
        &made.b_lt,
        SignedContent::Digest {
            hash: HashAlgorithm::Sha256,
            value: &digest,
        },
        &tsa,
        HashAlgorithm::Sha384,
    );
    assert!(
        matches!(refused, Err(ssa_cades::CadesError::NotExtendable { .. })),
        "{refused:?}"
    );
    assert_eq!(made.tsa.served(), served, "the TSA was asked for nothing");
}
