//! The README's main job, end to end, on the soft SCDev and on a SoftHSM2
//! token: the outputs pass `openssl cms -verify -cades`, and the audit
//! chain verifies.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/NAME`, built by `cargo test` with the tests.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join(name)
}

#[test]
fn quickstart_on_the_soft_scdev() {
    check_example("quickstart");
}

#[test]
fn quickstart_on_a_softhsm2_token() {
    check_example("softhsm");
}

fn check_example(name: &str) {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(example(name))
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{name} failed: {said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains("replaying the SAD: refused"), "{said}");
    for document in ["document-1.txt", "document-2.txt"] {
        let signature = std::fs::read(out.path().join(format!("{document}.p7s"))).unwrap();
        let bytes = std::fs::read(out.path().join(document)).unwrap();
        let (ok, openssl) = ssa_testkit::openssl::cms_verify_cades(
            &signature,
            Some(&bytes),
            &out.path().join("ca.pem"),
            false,
        );
        assert!(ok, "{name} {document}: {openssl}");
        // The command the example prints names these files.
        assert!(said.contains(&format!("-in {}/{document}.p7s", out.path().display())));
    }
    let log = std::fs::read(out.path().join("audit.log")).unwrap();
    let report = ssa::audit::scan(&log, None);
    assert!(report.is_intact(), "{:?}", report.problems);
    assert!(report.checkpoints >= 1);
    let text = String::from_utf8(log).unwrap();
    assert!(!text.contains("482916"), "the PIN is in the audit log");
}

/// Item 18 of issue 14: a B-T from a TSA outside the signer PKI. With
/// `--tsa-ca` the TSA is trusted for time-stamps only and both signatures
/// verify at B-T; without it the run still completes (it aborted after the
/// first document before), the time-stamps set aside and reported.
#[test]
fn quickstart_with_a_tsa_from_another_pki() {
    let tsa = ssa_testkit::tsa::OpensslTsa::start();
    let ca = &ssa_testkit::pki::pki().ca.cert_pem;
    for trusted in [true, false] {
        let out = tempfile::tempdir().unwrap();
        let mut command = Command::new(example("quickstart"));
        command
            .arg("--out")
            .arg(out.path())
            .arg("--tsa")
            .arg(tsa.url());
        if trusted {
            command.arg("--tsa-ca").arg(ca);
        }
        let run = command.output().unwrap();
        let said = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "trusted {trusted}: {said}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let expected = if trusted { "B-T" } else { "B-B" };
        for document in ["document-1.txt", "document-2.txt"] {
            assert!(
                said.contains(&format!(
                    "{document}.p7s: CAdES {expected}, verified here: TOTAL-PASSED"
                )),
                "trusted {trusted}: {said}"
            );
            let signature = std::fs::read(out.path().join(format!("{document}.p7s"))).unwrap();
            let bytes = std::fs::read(out.path().join(document)).unwrap();
            let (ok, openssl) = ssa_testkit::openssl::cms_verify_cades(
                &signature,
                Some(&bytes),
                &out.path().join("ca.pem"),
                false,
            );
            assert!(ok, "{document}: {openssl}");
        }
        assert_eq!(
            said.matches("a time-stamp was set aside").count(),
            if trusted { 0 } else { 2 },
            "{said}"
        );
    }
    assert_eq!(tsa.served(), 4);
}
