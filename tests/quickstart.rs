//! The README's main job, end to end: the quickstart's outputs pass
//! `openssl cms -verify -cades`, and its audit chain verifies.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/quickstart`, built by `cargo test` with the tests.
fn quickstart() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir.join("examples").join("quickstart")
}

#[test]
fn quickstart_outputs_pass_openssl_and_the_audit_chain_verifies() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(quickstart())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "quickstart failed: {said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains("replaying the SAD: refused"), "{said}");
    for name in ["document-1.txt", "document-2.txt"] {
        let signature = std::fs::read(out.path().join(format!("{name}.p7s"))).unwrap();
        let document = std::fs::read(out.path().join(name)).unwrap();
        let (ok, openssl) = ssa_testkit::openssl::cms_verify_cades(
            &signature,
            Some(&document),
            &out.path().join("ca.pem"),
            false,
        );
        assert!(ok, "{name}: {openssl}");
        // The exact command the quickstart prints works as printed.
        assert!(said.contains(&format!("-in {}/{name}.p7s", out.path().display())));
    }
    let log = std::fs::read(out.path().join("audit.log")).unwrap();
    let report = ssa::audit::scan(&log, None);
    assert!(report.is_intact(), "{:?}", report.problems);
    assert!(report.checkpoints >= 1);
    let text = String::from_utf8(log).unwrap();
    assert!(!text.contains("482916"), "the PIN is in the audit log");
}
