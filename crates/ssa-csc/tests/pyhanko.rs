//! The real client: pyHanko's `CSCSigner` (CSC v1.0.4) signs PDFs through
//! the running server — P-256, RSA-2048 PKCS#1 v1.5, RSA-PSS, and a batch
//! of three documents in one authorize and one signHash — and pyHanko's
//! own validator finds each signature intact, valid and trusted against
//! the server's CA. Keys on a SoftHSM2 token (RSA needs PKCS#11).
//!
//! pyHanko runs from the virtual environment `.ci/run` makes at the
//! workspace root (`.venv`, from `tests/pyhanko/requirements.txt`), or
//! from the Python named by `SSA_PYTHON`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::Server;
use serde_json::{Value, json};
use ssa::{KeyAlgorithm, Scal};
use ssa_csc::provider::EnrolledSigner;

fn job(
    server: &Server,
    enrolled: &EnrolledSigner,
    out: &std::path::Path,
    documents: usize,
    batch: bool,
    pss: bool,
) -> Value {
    let secret = enrolled
        .otpauth
        .split("secret=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap();
    json!({
        "url": server.url,
        "user": enrolled.signer,
        "password": enrolled.password.as_str(),
        "credential": enrolled.credential,
        "pin": enrolled.pin.as_str(),
        "totp_secret": secret,
        "documents": documents,
        "batch": batch,
        "pss": pss,
        "out": out,
        "ca": server.ca_pem(),
    })
}

/// Counts the audit records of `kind` for `credential`.
fn audited(server: &Server, kind: &str, credential: &str) -> usize {
    let log = std::fs::read_to_string(server.data.path().join("audit.log")).unwrap();
    log.lines()
        .filter(|line| line.contains(&format!("\"{kind}\"")) && line.contains(credential))
        .count()
}

#[test]
fn pyhanko_signs_pdfs_through_the_server_and_validates_them() {
    let server = Server::start_pkcs11(|_| {});
    let out = tempfile::tempdir().unwrap();
    let ec = server.enrol("ec", KeyAlgorithm::EcP256, Scal::Scal2);
    let rsa = server.enrol("rsa", KeyAlgorithm::Rsa2048, Scal::Scal2);
    let pss = server.enrol("pss", KeyAlgorithm::Rsa2048, Scal::Scal2);
    let batch = server.enrol("batch", KeyAlgorithm::EcP256, Scal::Scal2);
    let jobs = json!([
        job(&server, &ec, out.path(), 1, false, false),
        job(&server, &rsa, out.path(), 1, false, false),
        job(&server, &pss, out.path(), 1, false, true),
        job(&server, &batch, out.path(), 3, true, false),
    ]);
    let jobs_file = out.path().join("jobs.json");
    std::fs::write(&jobs_file, serde_json::to_vec(&jobs).unwrap()).unwrap();
    let run = Command::new(ssa_testkit::pyhanko::python())
        .arg(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests/pyhanko/csc_client.py"),
        )
        .arg(&jobs_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "pyHanko failed:\n{stdout}\n{stderr}");
    let results: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(results.len(), 6, "{stdout}");
    for result in &results {
        assert_eq!(result["intact"], true, "{result}");
        assert_eq!(result["valid"], true, "{result}");
        assert_eq!(result["trusted"], true, "{result}");
    }
    let mechanism = |credential: &str| {
        results
            .iter()
            .find(|r| r["credential"] == credential)
            .unwrap()["mechanism"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(mechanism("ec/1"), "sha256_ecdsa");
    assert_eq!(mechanism("rsa/1"), "sha256_rsa");
    assert_eq!(mechanism("pss/1"), "rsassa_pss");
    // The batch: three documents, one authorize, one signHash.
    let batch_results: Vec<&Value> = results
        .iter()
        .filter(|r| r["credential"] == "batch/1")
        .collect();
    assert_eq!(batch_results.len(), 3);
    assert!(batch_results.iter().all(|r| r["authorize_calls"] == 1));
    assert_eq!(audited(&server, "authorization", "batch/1"), 1);
    assert_eq!(audited(&server, "signature", "batch/1"), 1);
}
