//! `SignatureTemplate` makes exactly the bytes the general builder makes,
//! and OpenSSL accepts a batch made with it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use der::Decode;
use proptest::prelude::*;
use ssa_cades::{CadesError, SignatureParameters, SignatureTemplate, SignedAttributeOptions};
use ssa_scdev::{HashAlgorithm, Scdev, SignInput, SignatureAlgorithm};
use ssa_testkit::openssl::cms_verify_cades;
use ssa_testkit::pki::pki;
use x509_cert::Certificate;

const ALGORITHMS: [SignatureAlgorithm; 6] = [
    SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
    SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
    SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512),
    SignatureAlgorithm::Ed25519,
    SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256),
    SignatureAlgorithm::RsaPss(HashAlgorithm::Sha512, ssa_types::PssSalt::Digest),
];

fn certificate(identity: &ssa_testkit::pki::Identity) -> Certificate {
    Certificate::from_der(&identity.cert_der).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every algorithm, UTCTime and GeneralizedTime signing times, short
    /// and long-form lengths (a long mime type, a large signature value),
    /// with and without a chain: the same bytes as prepare + complete.
    #[test]
    fn template_output_is_the_builders_output(
        which in 0..ALGORITHMS.len(),
        seed in any::<u8>(),
        secs in 0u64..4_000_000_000,
        mime in proptest::option::of("[a-z/+.-]{1,300}"),
        signature in proptest::collection::vec(any::<u8>(), 0..600),
        with_chain in any::<bool>(),
    ) {
        let algorithm = ALGORITHMS[which];
        let hash = ssa_cades::algorithm::signer_digest(algorithm);
        let digest = hash.digest(&[seed]);
        let signing_time = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        let cert = certificate(&pki().signer);
        let chain = if with_chain { vec![certificate(&pki().ca)] } else { vec![] };
        let mut options = SignedAttributeOptions::default();
        options.mime_type = mime;

        let template =
            SignatureTemplate::new(&cert, &chain, algorithm, signing_time, options.clone()).unwrap();
        let dtbs = template.dtbs(&digest).unwrap();
        let ours = template.complete(&dtbs, &signature).unwrap();

        let prepared = ssa_cades::prepare(&SignatureParameters {
            certificate: &cert,
            chain: &chain,
            algorithm,
            hash,
            digest: &digest,
            signing_time,
            content: None,
            options,
        })
        .unwrap();
        prop_assert_eq!(dtbs.as_ref(), prepared.dtbs());
        prop_assert_eq!(ours, prepared.complete(signature).unwrap());
    }
}

fn template_for(signer: &Signer) -> SignatureTemplate {
    SignatureTemplate::new(
        &signer.certificate,
        &[],
        ECDSA,
        now(),
        SignedAttributeOptions::default(),
    )
    .unwrap()
}

#[test]
fn a_batch_signed_through_sign_many_is_accepted_by_openssl() {
    let signer = signer();
    let documents: Vec<Vec<u8>> = (0..4u8)
        .map(|i| format!("document {i} of the batch").into_bytes())
        .collect();
    let digests: Vec<Vec<u8>> = documents
        .iter()
        .map(|d| HashAlgorithm::Sha256.digest(d))
        .collect();
    let template = template_for(&signer);
    let signatures = template
        .sign_all(&digests, |dtbs| {
            let inputs: Vec<SignInput<'_>> = dtbs
                .iter()
                .map(|d| SignInput::Message(d.as_ref()))
                .collect();
            signer
                .scdev
                .sign_many(&signer.key, ECDSA, &inputs)
                .map_err(|e| ssa_cades::CadesError::Signer(Box::new(e)))
        })
        .unwrap();
    assert_eq!(signatures.len(), documents.len());
    for (i, signature) in signatures.iter().enumerate() {
        let (ok, said) =
            cms_verify_cades(signature, Some(&documents[i]), &pki().ca.cert_pem, false);
        assert!(ok, "OpenSSL refused signature {i}: {said}");
        let other = &documents[(i + 1) % documents.len()];
        let (ok, _) = cms_verify_cades(signature, Some(other), &pki().ca.cert_pem, false);
        assert!(!ok, "signature {i} verified over another document");
    }
}

#[test]
fn wrong_digest_length_and_a_short_signer_are_refused() {
    let signer = signer();
    let template = template_for(&signer);
    assert!(matches!(
        template.dtbs(&[0u8; 31]),
        Err(CadesError::DigestLength {
            expected: 32,
            actual: 31,
            ..
        })
    ));
    let digests = [[1u8; 32], [2u8; 32]];
    let result = template.sign_all(&digests, |dtbs| {
        Ok::<_, ssa_cades::CadesError>(vec![vec![0u8; 8]; dtbs.len() - 1])
    });
    assert!(matches!(
        result,
        Err(ssa_cades::CadesError::NotExtendable { .. })
    ));
}
