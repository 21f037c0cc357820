//! A CA with a real revocation service: `openssl ca` keeps its database,
//! issues and revokes; a loopback HTTP responder serves its CRL
//! (`GET /ca.crl`) and answers OCSP (`POST /ocsp`, `openssl ocsp` in
//! one-shot mode). Its certificates name those URLs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::loopback::LoopbackServer;
use crate::pki::{Identity, identity, new_p256_ca, new_p256_csr, run};

/// A running CA with CRL and OCSP services. Stops when dropped.
#[derive(Debug)]
pub struct RevocationCa {
    dir: Arc<tempfile::TempDir>,
    /// The CA certificate and key.
    pub ca: Identity,
    lock: Arc<Mutex<()>>,
    counter: AtomicUsize,
    server: LoopbackServer,
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
        let lock = Arc::new(Mutex::new(()));
        let server = {
            let (dir, lock) = (Arc::clone(&dir), Arc::clone(&lock));
            LoopbackServer::start(move |request, body| answer(dir.path(), &lock, request, body))
        };
        let base = server.base_url().to_owned();
        std::fs::write(d.join("ca.cnf"), config(&base)).expect("CA config");
        std::fs::write(d.join("index.txt"), "").expect("index");
        std::fs::write(d.join("serial"), "1000\n").expect("serial");
        std::fs::write(d.join("crlnumber"), "01\n").expect("crlnumber");
        std::fs::create_dir(d.join("newcerts")).expect("newcerts");
        let ca = new_p256_ca(d, "ca.cnf", "ca_ext", "ca", name);
        let ca_service = Self {
            dir,
            ca,
            lock,
            counter: AtomicUsize::new(0),
            server,
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
        new_p256_csr(d, "ca.cnf", &name, cn);
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

    /// Issues a signer certificate (DER) naming this CA's CRL and OCSP URLs
    /// for the key of `csr_der` (a PKCS#10 request, DER).
    pub fn issue_from_csr(&self, csr_der: &[u8]) -> Vec<u8> {
        let _one = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let d = self.dir.path();
        let name = format!("csr{}", self.counter.fetch_add(1, Ordering::Relaxed));
        std::fs::write(d.join(format!("{name}.der")), csr_der).expect("write the CSR");
        run(
            d,
            &[
                "req",
                "-inform",
                "DER",
                "-in",
                &format!("{name}.der"),
                "-out",
                &format!("{name}.csr"),
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
                "signer",
                "-notext",
                "-in",
                &format!("{name}.csr"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
        run(
            d,
            &[
                "x509",
                "-in",
                &format!("{name}.pem"),
                "-outform",
                "DER",
                "-out",
                &format!("{name}.cert.der"),
            ],
        );
        std::fs::read(d.join(format!("{name}.cert.der"))).expect("the certificate")
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
        self.server.base_url()
    }
}

fn answer(dir: &Path, lock: &Mutex<()>, request: &str, body: &[u8]) -> crate::loopback::Answer {
    let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
    if request.starts_with("GET /ca.crl ") {
        std::fs::read(dir.join("ca.crl"))
            .ok()
            .map(|b| ("application/pkix-crl", b))
    } else if request.starts_with("POST /ocsp ") {
        ocsp(dir, body).map(|b| ("application/ocsp-response", b))
    } else {
        None
    }
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
