//! pyHanko (PyPI) as an independent CMS/CAdES checker: it parses every
//! signed attribute with its own ASN.1 definitions and validates each
//! signer, where OpenSSL ignores the CAdES attributes.
//!
//! pyHanko runs from the virtual environment `.ci/run` makes at the
//! workspace root (`.venv`), or from the Python named by `SSA_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that has pyHanko.
pub fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("SSA_PYTHON") {
        return path.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python3");
    assert!(
        venv.exists(),
        "pyHanko is needed: python3 -m venv .venv && .venv/bin/pip install -r crates/ssa-csc/tests/pyhanko/requirements.txt (as .ci/run does), or set SSA_PYTHON"
    );
    venv
}

/// What pyHanko said about a signature: `key: value` lines (see
/// `python/validate_cms.py`).
#[derive(Clone, Debug)]
pub struct CmsValidation {
    /// The whole output, for assertion messages.
    pub output: String,
}

impl CmsValidation {
    /// The values of every line `key: value`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        let prefix = format!("{key}: ");
        self.output
            .lines()
            .filter_map(|line| line.strip_prefix(&prefix))
            .collect()
    }

    /// The value of the one line `key: value`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.all(key).first().copied()
    }

    /// Signer `n` is intact, valid and trusted, every signed attribute of
    /// every signer parsed, and nothing was reported as an error.
    pub fn passed(&self, n: usize) -> bool {
        let yes = |what: &str| self.get(&format!("signer {n} {what}")) == Some("True");
        yes("intact")
            && yes("valid")
            && yes("trusted")
            && !self.output.contains("unparseable")
            && !self.output.contains(" error: ")
    }

    /// Whether every signed attribute of every signer parsed.
    pub fn attributes_parsed(&self) -> bool {
        !self.output.contains("unparseable") && self.output.contains(" attribute ")
    }
}

/// What to validate against.
#[derive(Clone, Debug, Default)]
pub struct Trust<'a> {
    /// Trust anchors for signers and TSAs (PEM files).
    pub roots: Vec<&'a Path>,
    /// Trust anchors for attribute certificates (PEM files).
    pub attribute_authorities: Vec<&'a Path>,
    /// The validation time (ISO 8601 with offset), if not now.
    pub at: Option<String>,
}

/// Runs pyHanko's validator on `signature` (DER or BER) over `document`
/// (`None`: the content is enveloped in the signature).
pub fn validate_cms(signature: &[u8], document: Option<&[u8]>, trust: &Trust<'_>) -> CmsValidation {
    let dir = tempfile::tempdir().expect("temporary directory");
    let signature_path = dir.path().join("signature.p7s");
    std::fs::write(&signature_path, signature).expect("write the signature");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/validate_cms.py");
    let mut command = Command::new(python());
    command.arg(script).arg(&signature_path);
    match document {
        Some(bytes) => {
            let path = dir.path().join("document");
            std::fs::write(&path, bytes).expect("write the document");
            command.arg(path);
        }
        None => {
            command.arg("--enveloped");
        }
    }
    for root in &trust.roots {
        command.arg("--trust").arg(root);
    }
    for root in &trust.attribute_authorities {
        command.arg("--ac-trust").arg(root);
    }
    if let Some(at) = &trust.at {
        command.arg("--at").arg(at);
    }
    let out = command.output().expect("run pyHanko");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "validate_cms.py failed:\n{output}");
    CmsValidation { output }
}

/// One archive time-stamp of a signature, as `python/archive_imprints.py`
/// rebuilds it from the raw bytes with asn1crypto alone.
#[derive(Clone, Debug)]
pub struct ArchiveImprint {
    /// The archive-time-stamp-v3 token.
    pub token: Vec<u8>,
    /// What its imprint should be the hash of (EN 319 122-1 §5.5.3).
    pub input: Vec<u8>,
    /// Every hash of its ats-hash-index-v3 names something still present.
    pub index_ok: bool,
}

/// The archive time-stamps of the first SignerInfo of `signature` over
/// `document`, rebuilt independently of the library.
pub fn archive_imprints(signature: &[u8], document: &[u8]) -> Vec<ArchiveImprint> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let signature_path = dir.path().join("signature.p7s");
    let document_path = dir.path().join("document");
    std::fs::write(&signature_path, signature).expect("write the signature");
    std::fs::write(&document_path, document).expect("write the document");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/archive_imprints.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&signature_path)
        .arg(&document_path)
        .arg(dir.path())
        .output()
        .expect("run python");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "archive_imprints.py failed: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count: usize = said
        .lines()
        .find_map(|l| l.strip_prefix("archive time-stamps: "))
        .and_then(|n| n.parse().ok())
        .expect("a count");
    (0..count)
        .map(|n| ArchiveImprint {
            token: std::fs::read(dir.path().join(format!("token-{n}.der"))).expect("token"),
            input: std::fs::read(dir.path().join(format!("input-{n}.bin"))).expect("input"),
            index_ok: said.contains(&format!("archive {n} index: ok")),
        })
        .collect()
}

/// A detached CAdES B-B signature of `document` made by pyHanko with
/// `identity`'s key (`python/sign_cms.py`).
pub fn sign_detached(identity: &crate::pki::Identity, document: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let document_path = dir.path().join("document");
    let out_path = dir.path().join("signature.p7s");
    std::fs::write(&document_path, document).expect("write the document");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/sign_cms.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&identity.key_pem)
        .arg(&identity.cert_pem)
        .arg(&document_path)
        .arg(&out_path)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "sign_cms.py failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(out_path).expect("the signature")
}
