//! A throw-away test PKI made by OpenSSL once per process: a CA, signers,
//! TSAs, and certificates made to fail (another CA, short-lived, no EKU).
//! Nothing here is a real key; all of it lives in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[signer]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa_no_eku]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[encipher_only]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
[qualified]
basicConstraints = critical,CA:FALSE
keyUsage = critical,nonRepudiation
1.3.6.1.5.5.7.1.3 = critical,DER:30:14:30:08:06:06:04:00:8E:46:01:01:30:08:06:06:04:00:8E:46:01:04
[tsa_section]
default_tsa = tsa_config
[tsa_config]
serial = tsaserial
crypto_device = builtin
default_policy = 1.2.3.4.1
signer_digest = sha256
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";

/// One certificate with its key.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The certificate, PEM file.
    pub cert_pem: PathBuf,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The private key, PEM file (for OpenSSL).
    pub key_pem: PathBuf,
    /// The private key, PKCS#8 DER (for import into an SCDev).
    pub key_pkcs8: Vec<u8>,
}

/// The test PKI of this process.
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
    /// The trust anchor.
    pub ca: Identity,
    /// A signer under the CA: keyUsage digitalSignature + nonRepudiation.
    pub signer: Identity,
    /// A second signer under the CA (co-signing).
    pub cosigner: Identity,
    /// A signer valid for one day only (for "expired at validation time").
    pub short_lived: Identity,
    /// A CA that is not the anchor, and a signer under it.
    pub stranger_ca: Identity,
    /// A signer under the stranger CA.
    pub stranger: Identity,
    /// A TSA with the critical timeStamping EKU.
    pub tsa: Identity,
    /// A TSA certificate without any EKU.
    pub tsa_no_eku: Identity,
    /// A certificate whose keyUsage allows only keyEncipherment.
    pub encipher_only: Identity,
    /// A qualified signer: QcCompliance and QcSSCD statements.
    pub qualified: Identity,
}

/// Runs `openssl ARGS` in `dir`; panics with OpenSSL's words if it fails.
pub(crate) fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}); install it with `apt-get install openssl`")
        });
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads `NAME.pem`/`NAME.key` in `dir` as an [`Identity`] (DER and PKCS#8 too).
pub(crate) fn identity(dir: &Path, name: &str) -> Identity {
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
        cert_der: std::fs::read(dir.join(format!("{name}.der"))).expect("certificate DER"),
        key_pem: dir.join(format!("{name}.key")),
        key_pkcs8: std::fs::read(dir.join(format!("{name}.p8"))).expect("key DER"),
    }
}

fn new_ca(dir: &Path, name: &str, cn: &str) -> Identity {
    new_p256_ca(dir, "pki.cnf", "ca", name, cn)
}

/// A self-signed P-256 CA `NAME.pem`/`NAME.key` in `dir`, with the
/// extensions of section `extensions` of the OpenSSL config `config`.
pub(crate) fn new_p256_ca(
    dir: &Path,
    config: &str,
    extensions: &str,
    name: &str,
    cn: &str,
) -> Identity {
    run(
        dir,
        &[
            "req",
            "-x509",
            "-config",
            config,
            "-extensions",
            extensions,
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "3650",
            "-subj",
            &format!("/CN={cn}/O=ssa test PKI"),
        ],
    );
    identity(dir, name)
}

/// A new P-256 key `NAME.key` and its request `NAME.csr` in `dir`.
pub(crate) fn new_p256_csr(dir: &Path, config: &str, name: &str, cn: &str) {
    run(
        dir,
        &[
            "req",
            "-new",
            "-config",
            config,
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
}

fn issue(
    dir: &Path,
    ca: &str,
    name: &str,
    cn: &str,
    section: &str,
    days: &str,
    serial: &str,
) -> Identity {
    new_p256_csr(dir, "pki.cnf", name, cn);
    run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-set_serial",
            serial,
            "-days",
            days,
            "-sha256",
            "-extfile",
            "pki.cnf",
            "-extensions",
            section,
            "-out",
            &format!("{name}.pem"),
        ],
    );
    identity(dir, name)
}

/// The test PKI, made on first use.
pub fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("ssa-pki-")
            .tempdir()
            .expect("PKI directory");
        let d = dir.path();
        std::fs::write(d.join("pki.cnf"), CONFIG).expect("OpenSSL config");
        std::fs::write(d.join("tsaserial"), "01\n").expect("TSA serial file");
        let ca = new_ca(d, "ca", "ssa test CA");
        let stranger_ca = new_ca(d, "stranger-ca", "stranger CA");
        TestPki {
            signer: issue(d, "ca", "signer", "Hanako Yamada", "signer", "3650", "4097"),
            cosigner: issue(d, "ca", "cosigner", "Taro Suzuki", "signer", "3650", "4098"),
            short_lived: issue(d, "ca", "short", "Short Lived", "signer", "1", "4099"),
            stranger: issue(
                d,
                "stranger-ca",
                "stranger",
                "Stranger",
                "signer",
                "3650",
                "4100",
            ),
            tsa: issue(d, "ca", "tsa", "ssa test TSA", "tsa", "3650", "4101"),
            tsa_no_eku: issue(
                d,
                "ca",
                "tsa-no-eku",
                "TSA without EKU",
                "tsa_no_eku",
                "3650",
                "4102",
            ),
            encipher_only: issue(
                d,
                "ca",
                "encipher",
                "Encipher Only",
                "encipher_only",
                "3650",
                "4103",
            ),
            qualified: issue(
                d,
                "ca",
                "qualified",
                "Qualified Signer",
                "qualified",
                "3650",
                "4104",
            ),
            ca,
            stranger_ca,
            dir,
        }
    })
}

impl TestPki {
    /// The directory holding every file, and `pki.cnf` (with a TSA section
    /// for `openssl ts -reply -config pki.cnf`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl TestPki {
    /// Issues a certificate from a DER PKCS#10 request with the test CA,
    /// using config section `section` (e.g. "signer") and `days` of
    /// validity. Returns the certificate DER.
    pub fn issue_from_csr(&self, csr_der: &[u8], section: &str, days: u32) -> Vec<u8> {
        static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(9000);
        let serial = SERIAL
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string();
        let work = tempfile::tempdir().expect("temporary directory");
        std::fs::write(work.path().join("req.der"), csr_der).expect("write CSR");
        let ca_pem = self.ca.cert_pem.to_string_lossy().into_owned();
        let ca_key = self.ca.key_pem.to_string_lossy().into_owned();
        let config = self.dir().join("pki.cnf").to_string_lossy().into_owned();
        run(
            work.path(),
            &[
                "x509",
                "-req",
                "-inform",
                "DER",
                "-in",
                "req.der",
                "-CA",
                &ca_pem,
                "-CAkey",
                &ca_key,
                "-set_serial",
                &serial,
                "-days",
                &days.to_string(),
                "-sha256",
                "-extfile",
                &config,
                "-extensions",
                section,
                "-outform",
                "DER",
                "-out",
                "cert.der",
            ],
        );
        std::fs::read(work.path().join("cert.der")).expect("read certificate")
    }
}
