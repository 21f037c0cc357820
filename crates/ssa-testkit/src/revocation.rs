//! A CA with a real revocation service: `openssl ca` keeps its database,
//! issues and revokes; a loopback HTTP responder serves its CRL
//! (`GET /ca.crl`) and answers OCSP (`POST /ocsp`, `openssl ocsp` in
//! one-shot mode). Its certificates name those URLs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::pki::Identity;

/// A running CA with CRL and OCSP services. Stops when dropped.
#[derive(Debug)]
pub struct RevocationCa {
    dir: Arc<tempfile::TempDir>,
    /// The CA certificate and key.
    pub ca: Identity,
    base: String,
    lock: Arc<Mutex<()>>,
    stop: Arc<AtomicBool>,
    counter: AtomicUsize,
    thread: Option<JoinHandle<()>>,
}

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e})"));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn config(base: &str) -> String {
    format!(
        "[ca]
default_ca = ca_default
[ca_default]
database = index.txt
new_certs_dir = newcerts
certificate = ca.pem
private_key = ca.key
serial = serial
crlnumber = crlnumber
default_md = sha256
default_days = 3650
default_crl_days = 30
policy = policy_any
unique_subject = no
[policy_any]
commonName = supplied
organizationName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[signer]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:{base}/ca.crl
authorityInfoAccess = OCSP;URI:{base}/ocsp
[tsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:{base}/ca.crl
authorityInfoAccess = OCSP;URI:{base}/ocsp
"
    )
}

impl RevocationCa {
    /// A new CA, its database, and its HTTP service on a loopback port.
    pub fn start(name: &str) -> Self {
        let dir = Arc::new(
            tempfile::Builder::new()
                .prefix("ssa-ca-")
                .tempdir()
                .expect("CA directory"),
        );
        let d = dir.path();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        std::fs::write(d.join("ca.cnf"), config(&base)).expect("CA config");
        std::fs::write(d.join("index.txt"), "").expect("index");
        std::fs::write(d.join("serial"), "1000\n").expect("serial");
        std::fs::write(d.join("crlnumber"), "01\n").expect("crlnumber");
        std::fs::create_dir(d.join("newcerts")).expect("newcerts");
        run(
            d,
            &[
                "req",
                "-x509",
                "-config",
                "ca.cnf",
                "-extensions",
                "ca_ext",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3650",
                "-subj",
                &format!("/CN={name}/O=ssa test PKI"),
            ],
        );
        let ca = identity(d, "ca");
        let lock = Arc::new(Mutex::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (dir, lock, stop) = (Arc::clone(&dir), Arc::clone(&lock), Arc::clone(&stop));
            std::thread::spawn(move || {
                for _ in 0..(10 * 60 * 100) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, dir.path(), &lock),
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        let ca_service = Self {
            dir,
            ca,
            base,
            lock,
            stop,
            counter: AtomicUsize::new(0),
            thread: Some(thread),
        };
        ca_service.publish_crl();
        ca_service
    }

    /// Issues a signer (`section` "signer") or TSA ("tsa") certificate
    /// naming this CA's CRL and OCSP URLs.
    pub fn issue(&self, cn: &str, section: &str) -> Identity {
        let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let d = self.dir.path();
        let name = format!("leaf{}", self.counter.fetch_add(1, Ordering::Relaxed));
        run(
            d,
            &[
                "req",
                "-new",
                "-config",
                "ca.cnf",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={cn}/O=ssa test PKI"),
            ],
        );
        run(
            d,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-extensions",
                section,
                "-notext",
                "-in",
                &format!("{name}.csr"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
        identity(d, &name)
    }

    /// Revokes `identity` and publishes a new CRL.
    pub fn revoke(&self, identity: &Identity) {
        {
            let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            let cert = identity.cert_pem.to_string_lossy().into_owned();
            run(
                self.dir.path(),
                &["ca", "-config", "ca.cnf", "-revoke", &cert],
            );
        }
        self.publish_crl();
    }

    fn publish_crl(&self) {
        let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let d = self.dir.path();
        run(
            d,
            &["ca", "-config", "ca.cnf", "-gencrl", "-out", "ca.crl.pem"],
        );
        run(
            d,
            &[
                "crl",
                "-in",
                "ca.crl.pem",
                "-outform",
                "DER",
                "-out",
                "ca.crl",
            ],
        );
    }

    /// The CA certificate file.
    pub fn ca_pem(&self) -> PathBuf {
        self.ca.cert_pem.clone()
    }

    /// The base URL of the service.
    pub fn base_url(&self) -> &str {
        &self.base
    }
}

impl Drop for RevocationCa {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn identity(dir: &Path, name: &str) -> Identity {
    run(
        dir,
        &[
            "x509",
            "-in",
            &format!("{name}.pem"),
            "-outform",
            "DER",
            "-out",
            &format!("{name}.der"),
        ],
    );
    run(
        dir,
        &[
            "pkcs8",
            "-topk8",
            "-nocrypt",
            "-in",
            &format!("{name}.key"),
            "-outform",
            "DER",
            "-out",
            &format!("{name}.p8"),
        ],
    );
    Identity {
        cert_pem: dir.join(format!("{name}.pem")),
        cert_der: std::fs::read(dir.join(format!("{name}.der"))).expect("certificate"),
        key_pem: dir.join(format!("{name}.key")),
        key_pkcs8: std::fs::read(dir.join(format!("{name}.p8"))).expect("key"),
    }
}

fn serve(stream: TcpStream, dir: &Path, lock: &Mutex<()>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
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
    let answer = {
        let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
        if request_line.starts_with("GET /ca.crl ") {
            std::fs::read(dir.join("ca.crl"))
                .ok()
                .map(|b| ("application/pkix-crl", b))
        } else if request_line.starts_with("POST /ocsp ") {
            ocsp(dir, &body).map(|b| ("application/ocsp-response", b))
        } else {
            None
        }
    };
    let mut stream = reader.into_inner();
    let (status, content_type, body) = match answer {
        Some((content_type, body)) => ("200 OK", content_type, body),
        None => ("404 Not Found", "text/plain", Vec::new()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

fn ocsp(dir: &Path, request: &[u8]) -> Option<Vec<u8>> {
    let work = tempfile::tempdir().ok()?;
    std::fs::write(work.path().join("req.der"), request).ok()?;
    let out = Command::new("openssl")
        .args([
            "ocsp",
            "-index",
            "index.txt",
            "-CA",
            "ca.pem",
            "-rsigner",
            "ca.pem",
            "-rkey",
            "ca.key",
            "-ndays",
            "1",
        ])
        .arg("-reqin")
        .arg(work.path().join("req.der"))
        .arg("-respout")
        .arg(work.path().join("resp.der"))
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("openssl ocsp: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    std::fs::read(work.path().join("resp.der")).ok()
}
