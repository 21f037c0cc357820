//! `examples/augment.rs` raises signatures made by OpenSSL and by pyHanko
//! to B-LTA against a real TSA and real CRL/OCSP endpoints (loopback);
//! each archive time-stamp passes `openssl ts -verify` over an imprint
//! input rebuilt by asn1crypto, and a wrong level is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

use der::Decode;
use ssa::Level;
use ssa::cades::{Document, Indication, VerifyOptions, verify};
use ssa_testkit::revocation::RevocationCa;
use ssa_testkit::tsa::{OpensslTsa, ts_verify};

/// `target/<profile>/examples/NAME`, built by `cargo test` with the tests.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join(name)
}

const DOC: &[u8] = b"minutes of the board, to be kept for thirty years";

#[test]
fn augment_raises_openssl_and_pyhanko_signatures_to_b_lta() {
    let ca = RevocationCa::start("augment example CA");
    let tsa = OpensslTsa::start_with(&ca.issue("augment example TSA", "tsa"));
    let identity = ca.issue("Ichiro Tanaka", "signer");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("doc.txt"), DOC).unwrap();
    let made = [
        (
            "openssl",
            ssa_testkit::openssl::cms_sign(&identity, DOC, &["-cades"]),
        ),
        (
            "pyhanko",
            ssa_testkit::pyhanko::sign_detached(&identity, DOC),
        ),
    ];
    let anchor = x509_cert::Certificate::from_der(&ca.ca.cert_der).unwrap();
    for (who, b_b) in made {
        let input = dir.path().join(format!("{who}.p7s"));
        let output = dir.path().join(format!("{who}-b-lta.p7s"));
        std::fs::write(&input, &b_b).unwrap();
        let run = Command::new(example("augment"))
            .arg(&input)
            .arg("--document")
            .arg(dir.path().join("doc.txt"))
            .args(["--to", "b-lta", "--tsa", &tsa.url(), "--anchor"])
            .arg(ca.ca_pem())
            .arg("--out")
            .arg(&output)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{who}: {said}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(said.contains("CAdES B-LTA"), "{who}: {said}");
        let b_lta = std::fs::read(&output).unwrap();
        let report = verify(
            &b_lta,
            Document::Bytes(DOC),
            &VerifyOptions::new(std::slice::from_ref(&anchor), SystemTime::now()),
        );
        assert_eq!(
            report.indication(),
            Indication::TotalPassed,
            "{who}: {report:#?}"
        );
        assert_eq!(report.signers[0].level, Some(Level::BLta), "{who}");
        let imprints = ssa_testkit::pyhanko::archive_imprints(&b_lta, DOC);
        assert_eq!(imprints.len(), 1, "{who}");
        let (ok, said) = ts_verify(&imprints[0].token, &imprints[0].input, &ca.ca_pem());
        assert!(ok && imprints[0].index_ok, "{who}: {said}");
        // pyHanko still finds the signature intact, valid and trusted.
        let pyhanko = ssa_testkit::pyhanko::validate_cms(
            &b_lta,
            Some(DOC),
            &ssa_testkit::pyhanko::Trust {
                roots: vec![&ca.ca_pem()],
                ..Default::default()
            },
        );
        assert!(pyhanko.passed(0), "{who}: {}", pyhanko.output);
    }
    // A level it does not know is refused, nothing written.
    let run = Command::new(example("augment"))
        .arg(dir.path().join("openssl.p7s"))
        .args(["--to", "b-ltx", "--tsa", &tsa.url(), "--anchor"])
        .arg(ca.ca_pem())
        .arg("--out")
        .arg(dir.path().join("never.p7s"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("b-ltx"));
    assert!(!dir.path().join("never.p7s").exists());
}
