//! Two processes share one credential registry, key store and ledger
//! directory: a SAD consumed by one is refused by the other, even when both
//! try at the same moment; a credential enrolled by one after the other
//! started is authorized by the other.
//!
//! Own harness: the binary is the parent (no arguments), a signer
//! (`sign DIR`) and an authorizer started before the enrolment
//! (`authorize DIR`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use common::{enrol_with_certificate, pin_request, prepare_shared, shared_service};
use der::Decode;
use ssa::sad::*;
use ssa::{HashAlgorithm, SignOptions, SigningService};
use x509_cert::Certificate;

/// A service over the shared directory; `anchors` for installing certificates.
fn service(dir: &Path, audit_name: &str, anchors: Vec<Certificate>) -> SigningService {
    shared_service(dir, audit_name, anchors, |builder| builder)
}

fn sign(dir: &Path) -> Result<(), String> {
    let service = service(
        dir,
        &format!("audit-{}.log", std::process::id()),
        Vec::new(),
    );
    let sad = Sad::new(std::fs::read_to_string(dir.join("sad")).unwrap());
    let digests = vec![std::fs::read(dir.join("digest")).unwrap()];
    service
        .sign_documents(
            "shared/1",
            &sad,
            &digests,
            &SignOptions::default(),
            SystemTime::now(),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Builds its service, says so, waits until the parent has enrolled
/// `shared/2`, then authorizes for it.
fn authorize_later(dir: &Path) -> Result<(), String> {
    let service = service(
        dir,
        &format!("audit-{}.log", std::process::id()),
        Vec::new(),
    );
    std::fs::write(dir.join("ready"), b"").map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !dir.join("enrolled").exists() {
        if std::time::Instant::now() > deadline {
            return Err("the parent never enrolled".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let digests = vec![HashAlgorithm::Sha256.digest(b"enrolled elsewhere")];
    service
        .authorize(&pin_request("shared/2", &digests), SystemTime::now())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A process started before an enrolment authorizes the new credential:
/// the issuer reads enrolments from the shared registry, not from what it
/// loaded when it was built.
fn enrolment_reaches_a_running_process(d: &Path, service: &SigningService) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = Command::new(&exe)
        .arg("authorize")
        .arg(d)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !d.join("ready").exists() {
        if std::time::Instant::now() > deadline {
            return Err("the authorizer never started".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    enrol_with_certificate(service, "shared/2", "CN=Shared Two");
    std::fs::write(d.join("enrolled"), b"").map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let outcome = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if outcome != "authorized" {
        return Err(format!("a process running before the enrolment: {outcome}"));
    }
    println!("two_processes: an enrolment made by one process was authorized by another");
    Ok(())
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    prepare_shared(d);

    let anchors = vec![Certificate::from_der(&ssa_testkit::pki::pki().ca.cert_der).unwrap()];
    let service = service(d, "audit-parent.log", anchors);
    enrol_with_certificate(&service, "shared/1", "CN=Shared");
    let now = SystemTime::now();
    let digests = vec![HashAlgorithm::Sha256.digest(b"one document, one signature")];
    let sad = service
        .authorize(&pin_request("shared/1", &digests), now)
        .map_err(|e| e.to_string())?
        .sad;
    std::fs::write(d.join("sad"), sad.as_str()).map_err(|e| e.to_string())?;
    std::fs::write(d.join("digest"), &digests[0]).map_err(|e| e.to_string())?;

    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // Both start before either finishes.
    let running: Vec<_> = (0..2)
        .map(|_| {
            Command::new(&exe)
                .arg("sign")
                .arg(d)
                .stdout(std::process::Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let children: Vec<_> = running
        .into_iter()
        .map(|child| child.wait_with_output())
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let outcomes: Vec<String> = children
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .collect();
    let signed = outcomes.iter().filter(|o| *o == "signed").count();
    if signed != 1 {
        return Err(format!(
            "expected exactly one process to sign, got {outcomes:?}"
        ));
    }
    let refused = outcomes
        .iter()
        .find(|o| *o != "signed")
        .cloned()
        .unwrap_or_default();
    if !refused.contains("SAD") {
        return Err(format!(
            "the other process was refused for another reason: {refused}"
        ));
    }
    // And this process, sharing the same directory, is refused too.
    if sign(d).is_ok() {
        return Err("a third signature under a spent SAD".into());
    }
    println!("two_processes: one signed, the other refused: {refused}");
    enrolment_reaches_a_running_process(d, &service)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("sign") {
        match sign(Path::new(
            args.get(2).map(String::as_str).unwrap_or_default(),
        )) {
            Ok(()) => println!("signed"),
            Err(e) => println!("refused: {e}"),
        }
        return;
    }
    if args.get(1).map(String::as_str) == Some("authorize") {
        match authorize_later(Path::new(
            args.get(2).map(String::as_str).unwrap_or_default(),
        )) {
            Ok(()) => println!("authorized"),
            Err(e) => println!("refused: {e}"),
        }
        return;
    }
    match parent() {
        Ok(()) => println!("test result: ok. 1 passed; 0 failed; 0 ignored"),
        Err(e) => {
            println!("two_processes: {e}");
            println!("test result: FAILED. 0 passed; 1 failed; 0 ignored");
            std::process::exit(1);
        }
    }
}
