//! A real RFC 3161 TSA that nobody here wrote: `openssl ts -reply`, behind
//! a small HTTP responder on the loopback interface.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::pki::{Identity, pki};

/// A running loopback TSA. Stops when dropped.
#[derive(Debug)]
pub struct OpensslTsa {
    url: String,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl OpensslTsa {
    /// Starts a TSA signing with the test PKI's TSA certificate.
    pub fn start() -> Self {
        Self::start_with(&pki().tsa)
    }

    /// Starts a TSA signing with `identity`.
    pub fn start_with(identity: &Identity) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!(
            "http://{}/tsa",
            listener.local_addr().expect("local address")
        );
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let (cert, key) = (identity.cert_pem.clone(), identity.key_pem.clone());
        let thread = {
            let (stop, served) = (Arc::clone(&stop), Arc::clone(&served));
            std::thread::spawn(move || {
                // Bounded: at most ten minutes, and stops when asked.
                for _ in 0..(10 * 60 * 100) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match listener.accept() {
                        Ok((stream, _)) => {
                            serve(stream, &cert, &key);
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            url,
            stop,
            served,
            thread: Some(thread),
        }
    }

    /// The TSA's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::Relaxed)
    }
}

impl Drop for OpensslTsa {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, cert: &Path, key: &Path) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length.min(1 << 16)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let reply = reply(&body, cert, key);
    let mut stream = reader.into_inner();
    let (status, body) = match reply {
        Some(bytes) => ("200 OK", bytes),
        None => ("500 Internal Server Error", Vec::new()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
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
