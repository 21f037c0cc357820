//! Signatures as other products make them (issue 14): each vector in
//! `tests/data/vectors` was made by OpenSSL or pyHanko, or edited at the
//! ASN.1 level where no product makes the case on demand
//! (`tests/data/vectors/make_vectors.py` says how, one by one). Each is
//! valid under the vectors' own throw-away PKI, judged at 2027-01-01.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use der::Decode;
use ssa_cades::{Document, Indication, Level, VerificationReport, VerifyOptions, verify};
use x509_cert::Certificate;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

fn certificate(name: &str) -> Certificate {
    let der = std::fs::read(dir().join("pki").join(format!("{name}.der"))).unwrap();
    Certificate::from_der(&der).unwrap()
}

/// 2027-01-01T00:00:00Z, inside every vector certificate's validity.
fn judged_at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_798_761_600)
}

fn check_with(name: &str, options: &VerifyOptions<'_>) -> VerificationReport {
    let signature = std::fs::read(dir().join(name)).unwrap();
    let document = std::fs::read(dir().join("doc.txt")).unwrap();
    verify(&signature, Document::Bytes(&document), options)
}

fn check(name: &str) -> VerificationReport {
    let anchors = [certificate("root")];
    check_with(name, &VerifyOptions::new(&anchors, judged_at()))
}

fn passes_at(name: &str, level: Level) -> VerificationReport {
    let report = check(name);
    assert_eq!(
        report.indication(),
        Indication::TotalPassed,
        "{name}: {report:#?}"
    );
    assert_eq!(report.signers[0].level, Some(level), "{name}: {report:#?}");
    report
}

/// Item 1: pyHanko's standard-shaped signer-attributes-v2 is read: the
/// claimed role, and the attribute certificate checked as a delegation.
#[test]
fn pyhanko_signer_attributes_are_read() {
    let anchors = [certificate("root")];
    let authorities = [certificate("aa")];
    let options =
        VerifyOptions::new(&anchors, judged_at()).with_attribute_authorities(&authorities);
    let report = check_with("pyhanko-signer-attributes.p7s", &options);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    let signer = &report.signers[0];
    assert_eq!(signer.claimed_roles, ["urn:example:role:accountant"]);
    assert_eq!(signer.delegations.len(), 1, "{signer:#?}");
    let delegation = signer.delegations[0].as_ref().unwrap();
    assert!(delegation.issuer.contains("Vector Attribute Authority"));
}

/// Item 4: a genTime with fractional seconds (`openssl ts`,
/// `clock_precision_digits = 3`) is read, fraction included.
#[test]
fn fractional_gen_time_is_read() {
    let report = passes_at("fractional-gen-time.p7s", Level::BT);
    let at = report.signers[0].time_stamped_at.unwrap();
    let nanos = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    assert!(nanos > 0 && nanos.is_multiple_of(1_000_000), "{nanos}");
}

/// Item 5: a BasicOCSPResponse stored under id-pkix-ocsp-basic.
#[test]
fn ocsp_basic_response_under_other_counts() {
    passes_at("ocsp-basic-under-other.p7s", Level::BLt);
}

/// Item 5: an OCSP response whose CertID hashes with SHA-1.
#[test]
fn ocsp_sha1_cert_id_counts() {
    passes_at("ocsp-sha1-cert-id.p7s", Level::BLt);
}

/// Item 6: an attribute certificate in a token's certificate set.
#[test]
fn attribute_certificate_in_a_token_is_tolerated() {
    passes_at("tsa-attribute-certificate.p7s", Level::BT);
}

/// Item 7: a TSA bound with ESS signing-certificate v1 (SHA-1).
#[test]
fn tsa_with_ess_signing_certificate_v1_passes() {
    passes_at("tsa-ess-v1.p7s", Level::BT);
}

/// Item 8: zero bytes after the DER value.
#[test]
fn trailing_zero_bytes_are_tolerated() {
    passes_at("trailing-zeros.p7s", Level::BB);
    // Anything else after the value is still refused.
    let mut signature = std::fs::read(dir().join("trailing-zeros.p7s")).unwrap();
    signature.push(1);
    let document = std::fs::read(dir().join("doc.txt")).unwrap();
    let anchors = [certificate("root")];
    let report = verify(
        &signature,
        Document::Bytes(&document),
        &VerifyOptions::new(&anchors, judged_at()),
    );
    assert!(report.format_error.is_some(), "{report:#?}");
}

/// Item 9: a v1 CRL (no version field) is read and counts.
#[test]
fn v1_crl_is_read() {
    let report = passes_at("crl-v1.p7s", Level::BB);
    let coverage = &report.signers[0].revocation;
    assert!(
        coverage.total > 0 && coverage.covered == coverage.total,
        "{coverage:?}"
    );
}

/// Item 10: signing-certificate-v2's issuer in PrintableString against the
/// certificate's UTF8String: the same name by RFC 5280 §7.1.
#[test]
fn issuer_names_compare_as_rfc_5280_says() {
    passes_at("ess-issuer-printable.p7s", Level::BB);
}

/// Item 12: of two signature time-stamps one is over other data: it is
/// reported and set aside, the other still makes B-T.
#[test]
fn an_unusable_time_stamp_is_set_aside() {
    let report = passes_at("one-unusable-time-stamp.p7s", Level::BT);
    let signer = &report.signers[0];
    assert!(signer.time_stamped_at.is_some());
    assert_eq!(signer.unusable_time_stamps.len(), 1, "{signer:#?}");
    assert_eq!(
        signer.unusable_time_stamps[0],
        ssa_cades::Failure::TimeStampImprintMismatch
    );
}

/// Item 13: the TSA's sub-CA is in the signature's certificate set.
#[test]
fn tsa_path_uses_the_signatures_certificates() {
    passes_at("tsa-chain-in-signature.p7s", Level::BT);
}

/// Item 14: signed over the DER-sorted attributes, sent in another order
/// (OpenSSL refuses this one; pyHanko accepts it).
#[test]
fn attributes_signed_sorted_but_sent_unsorted_pass() {
    passes_at("signed-sorted-sent-unsorted.p7s", Level::BB);
}

/// The vectors' structures (attribute certificates in a certificate set, a
/// v1 CRL, a fractional genTime inside a token) decode and encode back
/// byte for byte, so extending such a signature keeps what others wrote.
#[test]
fn vectors_re_encode_byte_for_byte() {
    use der::Encode;
    for name in [
        "crl-v1.p7s",
        "fractional-gen-time.p7s",
        "ocsp-basic-under-other.p7s",
        "ocsp-sha1-cert-id.p7s",
        "tsa-attribute-certificate.p7s",
        "tsa-chain-in-signature.p7s",
        "pyhanko-signer-attributes.p7s",
    ] {
        let bytes = std::fs::read(dir().join(name)).unwrap();
        let info = cms::content_info::ContentInfo::from_der(&bytes).unwrap();
        let signed: ssa_cades::asn1::SignedData = info.content.decode_as().unwrap();
        let again = cms::content_info::ContentInfo {
            content_type: info.content_type,
            content: der::asn1::Any::encode_from(&signed).unwrap(),
        }
        .to_der()
        .unwrap();
        assert_eq!(again, bytes, "{name}");
        for token in signed
            .signer_infos
            .0
            .iter()
            .flat_map(|i| i.unsigned_attrs.iter().flat_map(|a| a.iter()))
            .filter(|a| a.oid == ssa_cades::oid::ID_AA_TIME_STAMP_TOKEN)
            .flat_map(|a| a.values.iter())
        {
            let token_info: cms::content_info::ContentInfo = token.decode_as().unwrap();
            let token_signed: ssa_cades::asn1::SignedData = token_info.content.decode_as().unwrap();
            assert_eq!(
                der::asn1::Any::encode_from(&token_signed).unwrap(),
                token_info.content,
                "{name}: token"
            );
        }
    }
}

/// Item 18: TSA anchors are apart from signer anchors, both ways.
#[test]
fn tsa_anchors_are_apart_from_signer_anchors() {
    use ssa_cades::SubIndication;
    let root = [certificate("root")];
    let other = [certificate("tsa-ca")];
    let name = "fractional-gen-time.p7s";
    // The TSA trusted through its own anchors: B-T.
    let report = check_with(
        name,
        &VerifyOptions::new(&root, judged_at()).with_tsa_anchors(&root),
    );
    assert_eq!(report.signers[0].level, Some(Level::BT), "{report:#?}");
    // TSA anchors that do not cover the TSA: the time-stamp is set aside
    // (the signer anchors are not used for it), the signature is B-B.
    let report = check_with(
        name,
        &VerifyOptions::new(&root, judged_at()).with_tsa_anchors(&other),
    );
    let signer = &report.signers[0];
    assert_eq!(report.indication(), Indication::TotalPassed);
    assert_eq!(signer.level, Some(Level::BB), "{report:#?}");
    assert_eq!(
        signer.unusable_time_stamps[0].indication(),
        Indication::Indeterminate(SubIndication::NoCertificateChainFound)
    );
    // TSA anchors are not trusted for signers.
    let report = check_with(
        name,
        &VerifyOptions::new(&other, judged_at()).with_tsa_anchors(&root),
    );
    assert_eq!(
        report.indication(),
        Indication::Indeterminate(SubIndication::NoCertificateChainFound)
    );
}

/// Item 17: pyHanko's EPES signature; its sigPolicyHash checked against
/// the policy document or its digest, a mismatch reported.
#[test]
fn epes_policy_hash_is_checked() {
    use ssa_cades::{Failure, KnownPolicy, PolicyDocument, SubIndication};
    use ssa_scdev::HashAlgorithm;
    let root = [certificate("root")];
    let id = der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1.1");
    let document = std::fs::read(dir().join("policy.txt")).unwrap();
    let digest = HashAlgorithm::Sha256.digest(&document);
    let name = "pyhanko-epes.p7s";
    let with = |policy: PolicyDocument<'_>| {
        let known = [KnownPolicy {
            id,
            document: policy,
        }];
        check_with(
            name,
            &VerifyOptions::new(&root, judged_at()).with_policies(&known),
        )
    };
    // Not given the policy: reported, not checked.
    let report = check(name);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    assert!(report.signers[0].policy.is_some());
    assert_eq!(report.signers[0].policy_hash_matches, None);
    // The document, and its digest: checked.
    for policy in [
        PolicyDocument::Bytes(&document),
        PolicyDocument::Digest {
            hash: HashAlgorithm::Sha256,
            value: &digest,
        },
    ] {
        let report = with(policy);
        assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
        assert_eq!(report.signers[0].policy_hash_matches, Some(true));
    }
    // Another document: a mismatch, INDETERMINATE/POLICY_PROCESSING_ERROR.
    let report = with(PolicyDocument::Bytes(b"another policy"));
    assert_eq!(report.signers[0].policy_hash_matches, Some(false));
    assert_eq!(report.signers[0].failure, Some(Failure::PolicyHashMismatch));
    assert_eq!(
        report.indication(),
        Indication::Indeterminate(SubIndication::PolicyProcessingError)
    );
    // A digest under another hash cannot be compared: left unchecked.
    let report = with(PolicyDocument::Digest {
        hash: HashAlgorithm::Sha384,
        value: &HashAlgorithm::Sha384.digest(&document),
    });
    assert_eq!(report.indication(), Indication::TotalPassed);
    assert_eq!(report.signers[0].policy_hash_matches, None);
}

/// Item 15: RSA-PSS with a salt other than the hash length: the longest
/// (OpenSSL's and pyHanko's default) and 20 bytes (RFC 4055's default).
#[test]
fn rsa_pss_with_any_salt_length_passes() {
    use ssa_cades::{Failure, SubIndication};
    for name in ["rsa-pss-salt-max.p7s", "rsa-pss-salt-20.p7s"] {
        passes_at(name, Level::BB);
        // The same signature value, one bit changed: refused.
        let mut signature = std::fs::read(dir().join(name)).unwrap();
        let info = cms::content_info::ContentInfo::from_der(&signature).unwrap();
        let signed: ssa_cades::asn1::SignedData = info.content.decode_as().unwrap();
        let value = signed
            .signer_infos
            .0
            .iter()
            .next()
            .unwrap()
            .signature
            .as_bytes()
            .to_vec();
        let at = signature
            .windows(value.len())
            .position(|w| w == value.as_slice())
            .unwrap();
        signature[at + 17] ^= 0x01;
        let document = std::fs::read(dir().join("doc.txt")).unwrap();
        let anchors = [certificate("root")];
        let report = verify(
            &signature,
            Document::Bytes(&document),
            &VerifyOptions::new(&anchors, judged_at()),
        );
        assert_eq!(
            report.signers[0].failure,
            Some(Failure::SignatureInvalid),
            "{name}"
        );
        assert_eq!(
            report.indication(),
            Indication::TotalFailed(SubIndication::SigCryptoFailure)
        );
    }
}

/// `PublicKey::verify_pss` takes exactly the salt length the signature
/// was made with: 222 for the max-salt vector, not the hash's 32 nor 221.
#[test]
fn pss_verification_needs_the_stated_salt_length() {
    use der::Encode;
    let bytes = std::fs::read(dir().join("rsa-pss-salt-max.p7s")).unwrap();
    let info = cms::content_info::ContentInfo::from_der(&bytes).unwrap();
    let signed: ssa_cades::asn1::SignedData = info.content.decode_as().unwrap();
    let signer = signed.signer_infos.0.iter().next().unwrap();
    let mut dtbs = signer.signed_attrs.as_ref().unwrap().to_der().unwrap();
    dtbs[0] = 0x31;
    let cert = certificate("rsa-signer");
    let key = ssa_cades::PublicKey::from_spki_der(
        &cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap(),
    )
    .unwrap();
    let value = signer.signature.as_bytes();
    let sha256 = ssa_scdev::HashAlgorithm::Sha256;
    assert!(key.verify_pss(sha256, 222, &dtbs, value).is_ok());
    for wrong in [32, 221, 0, 223, 10_000] {
        assert!(
            key.verify_pss(sha256, wrong, &dtbs, value).is_err(),
            "salt {wrong}"
        );
    }
    assert!(
        key.verify_pss(ssa_scdev::HashAlgorithm::Sha384, 222, &dtbs, value)
            .is_err()
    );
    assert!(key.verify_pss(sha256, 222, b"other", value).is_err());
    // A value of the wrong length, or not below the modulus: refused.
    assert!(key.verify_pss(sha256, 222, &dtbs, &value[1..]).is_err());
    assert!(
        key.verify_pss(sha256, 222, &dtbs, &vec![0xff; value.len()])
            .is_err()
    );
}
