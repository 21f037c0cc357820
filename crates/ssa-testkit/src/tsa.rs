//! A real RFC 3161 TSA that nobody here wrote: `openssl ts -reply`, behind
//! a small HTTP responder on the loopback interface.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::loopback::LoopbackServer;
use crate::pki::{Identity, pki};

/// A running loopback TSA. Stops when dropped.
#[derive(Debug)]
pub struct OpensslTsa {
    server: LoopbackServer,
}

impl OpensslTsa {
    /// Starts a TSA signing with the test PKI's TSA certificate.
    pub fn start() -> Self {
        Self::start_with(&pki().tsa)
    }

    /// Starts a TSA signing with `identity`.
    pub fn start_with(identity: &Identity) -> Self {
        Self::start_slow(identity, std::time::Duration::ZERO)
    }

    /// Starts a TSA signing with `identity` that waits `delay` before each
    /// answer (requests are answered concurrently), as a busy or distant TSA.
    pub fn start_slow(identity: &Identity, delay: std::time::Duration) -> Self {
        let (cert, key): (PathBuf, PathBuf) = (identity.cert_pem.clone(), identity.key_pem.clone());
        let server = LoopbackServer::start(move |_request, body| {
            std::thread::sleep(delay);
            reply(body, &cert, &key).map(|r| ("application/timestamp-reply", r))
        });
        Self { server }
    }

    /// The TSA's URL.
    pub fn url(&self) -> String {
        format!("{}/tsa", self.server.base_url())
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.server.served()
    }
}

fn reply(query: &[u8], cert: &Path, key: &Path) -> Option<Vec<u8>> {
    // `openssl ts -reply` increments a serial file: one at a time per process.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let work = tempfile::tempdir().ok()?;
    std::fs::write(work.path().join("req.tsq"), query).ok()?;
    let pki_dir = pki().dir();
    let out = Command::new("openssl")
        .args([
            "ts",
            "-reply",
            "-config",
            "pki.cnf",
            "-section",
            "tsa_config",
            "-queryfile",
        ])
        .arg(work.path().join("req.tsq"))
        .arg("-signer")
        .arg(cert)
        .arg("-inkey")
        .arg(key)
        .arg("-out")
        .arg(work.path().join("resp.tsr"))
        .current_dir(pki_dir)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "openssl ts -reply: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    std::fs::read(work.path().join("resp.tsr")).ok()
}

/// `openssl ts -verify -token_in -in TOKEN -data DATA -CAfile CA`: whether
/// OpenSSL accepts `token` as a time-stamp over `data`, and what it said.
pub fn ts_verify(token: &[u8], data: &[u8], ca_pem: &Path) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("token.der"), token).expect("write token");
    std::fs::write(dir.path().join("data.bin"), data).expect("write data");
    let out = Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-token_in",
            "-in",
            "token.der",
            "-data",
            "data.bin",
            "-CAfile",
        ])
        .arg(ca_pem)
        .current_dir(dir.path())
        .output()
        .expect("run openssl");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && said.contains("Verification: OK"),
        said,
    )
}
