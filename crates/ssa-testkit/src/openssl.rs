//! OpenSSL as an independent checker and key maker.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use ssa_scdev::{HashAlgorithm, SignatureAlgorithm};

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run openssl ({e}); install it with `apt-get install openssl`")
        })
}

fn digest_name(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sha256 => "sha256",
        HashAlgorithm::Sha384 => "sha384",
        HashAlgorithm::Sha512 => "sha512",
        _ => panic!("unknown hash"),
    }
}

fn write_inputs(spki_der: &[u8], data: &[u8], signature: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("key.der"), spki_der).expect("write key");
    std::fs::write(dir.path().join("data.bin"), data).expect("write data");
    std::fs::write(dir.path().join("sig.bin"), signature).expect("write signature");
    dir
}

fn padding_options(algorithm: SignatureAlgorithm, flag: &'static str) -> Vec<&'static str> {
    match algorithm {
        SignatureAlgorithm::RsaPkcs1(_) => vec![flag, "rsa_padding_mode:pkcs1"],
        SignatureAlgorithm::RsaPss(_, salt) => vec![
            flag,
            "rsa_padding_mode:pss",
            flag,
            if salt == ssa_scdev::PssSalt::Maximum {
                "rsa_pss_saltlen:max"
            } else {
                "rsa_pss_saltlen:digest"
            },
            flag,
            "rsa_mgf1_md:", // completed by the caller
        ],
        _ => Vec::new(),
    }
}

fn options(algorithm: SignatureAlgorithm, flag: &'static str) -> Vec<String> {
    let mut out: Vec<String> = padding_options(algorithm, flag)
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let (SignatureAlgorithm::RsaPss(hash, _), Some(last)) = (algorithm, out.last_mut()) {
        last.push_str(digest_name(hash));
    }
    out
}

/// Verifies `signature` over `message` with `openssl dgst -verify` (or
/// `pkeyutl -rawin` for Ed25519) and the DER SPKI `spki_der`.
pub fn verify_message(
    spki_der: &[u8],
    algorithm: SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let dir = write_inputs(spki_der, message, signature);
    let out = match algorithm.hash() {
        None => openssl(
            &[
                "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", "key.der", "-rawin",
                "-in", "data.bin", "-sigfile", "sig.bin",
            ],
            dir.path(),
        ),
        Some(hash) => {
            let digest = format!("-{}", digest_name(hash));
            let mut args: Vec<String> = [
                "dgst",
                &digest,
                "-keyform",
                "DER",
                "-verify",
                "key.der",
                "-signature",
                "sig.bin",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect();
            args.extend(options(algorithm, "-sigopt"));
            args.push("data.bin".into());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            openssl(&args, dir.path())
        }
    };
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified")
}

/// Verifies `signature` over a prehashed `digest` with `openssl pkeyutl -verify`.
pub fn verify_digest(
    spki_der: &[u8],
    algorithm: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> bool {
    let hash = algorithm.hash().expect("a digest needs a hash algorithm");
    let dir = write_inputs(spki_der, digest, signature);
    let digest_opt = format!("digest:{}", digest_name(hash));
    let mut args: Vec<String> = [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        "key.der",
        "-in",
        "data.bin",
        "-sigfile",
        "sig.bin",
        "-pkeyopt",
        &digest_opt,
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    args.extend(options(algorithm, "-pkeyopt"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = openssl(&args, dir.path());
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified")
}

/// A fresh PKCS#8 DER private key from `openssl genpkey`, e.g.
/// `&["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]`.
pub fn genpkey_pkcs8(args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut all = vec!["genpkey"];
    all.extend(args);
    all.extend(["-outform", "DER", "-out", "raw.der"]);
    let out = openssl(&all, dir.path());
    assert!(
        out.status.success(),
        "openssl genpkey failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // OpenSSL 3.0 writes some keys (RSA) in their traditional form: make it PKCS#8.
    let out = openssl(
        &[
            "pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", "raw.der", "-outform", "DER",
            "-out", "key.der",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "openssl pkcs8 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.path().join("key.der")).expect("read generated key")
}

/// An RSA PKCS#8 key of `bits` bits, made once per process and size
/// (RSA generation is slow).
pub fn rsa_pkcs8(bits: usize) -> Vec<u8> {
    static KEYS: OnceLock<Mutex<HashMap<usize, Vec<u8>>>> = OnceLock::new();
    let keys = KEYS.get_or_init(Mutex::default);
    if let Some(key) = keys.lock().unwrap_or_else(|e| e.into_inner()).get(&bits) {
        return key.clone();
    }
    let option = format!("rsa_keygen_bits:{bits}");
    let key = genpkey_pkcs8(&["-algorithm", "RSA", "-pkeyopt", &option]);
    keys.lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(bits)
        .or_insert(key)
        .clone()
}

/// `openssl cms -verify -cades -binary -inform DER -content DOC -CAfile CA`
/// over a detached (or, with `document` `None`, enveloping) signature.
/// Returns whether it verified, and what OpenSSL said.
pub fn cms_verify_cades(
    signature: &[u8],
    document: Option<&[u8]>,
    ca_pem: &Path,
    purpose_any: bool,
) -> (bool, String) {
    let extra: &[&str] = if purpose_any {
        &["-purpose", "any"]
    } else {
        &[]
    };
    cms_verify_cades_with(signature, document, ca_pem, extra)
}

/// [`cms_verify_cades`] with extra arguments (e.g. `-crl_check`).
pub fn cms_verify_cades_with(
    signature: &[u8],
    document: Option<&[u8]>,
    ca_pem: &Path,
    extra: &[&str],
) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("sig.der"), signature).expect("write signature");
    let ca = ca_pem.to_string_lossy().into_owned();
    let mut args = vec![
        "cms",
        "-verify",
        "-cades",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "sig.der",
        "-CAfile",
        &ca,
        "-out",
        "content.out",
    ];
    if let Some(document) = document {
        std::fs::write(dir.path().join("doc.bin"), document).expect("write document");
        args.extend(["-content", "doc.bin"]);
    }
    args.extend(extra);
    let out = openssl(&args, dir.path());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success() && said.contains("Verification successful"),
        said,
    )
}

/// `openssl cms -sign -cades -binary -md sha256` of `document` by
/// `identity`, DER out, with `extra` arguments (e.g. `-stream`, `-nodetach`).
pub fn cms_sign(identity: &crate::pki::Identity, document: &[u8], extra: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("doc.bin"), document).expect("write document");
    let out = Command::new("openssl")
        .args([
            "cms", "-sign", "-cades", "-binary", "-md", "sha256", "-in", "doc.bin", "-outform",
            "DER", "-out", "sig.der",
        ])
        .args(extra)
        .arg("-signer")
        .arg(&identity.cert_pem)
        .arg("-inkey")
        .arg(&identity.key_pem)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e})"));
    assert!(
        out.status.success(),
        "openssl cms -sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.path().join("sig.der")).expect("read signature")
}
