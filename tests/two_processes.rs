//! Two processes share one credential registry, key store and ledger
//! directory: a SAD consumed by one is refused by the other, even when both
//! try at the same moment; a credential enrolled by one after the other
//! started is authorized by the other; a certificate renewed, or a
//! credential disabled, by one is seen by the other's very next signature
//! (whose parsed records are kept per version, `src/prepared.rs`).
//!
//! Own harness: the binary is the parent (no arguments), a signer
//! (`sign DIR`), an authorizer started before the enrolment
//! (`authorize DIR`) and an administrator (`renew DIR`, `disable DIR`).

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

/// The administrator's acts, each in a process of its own: install the
/// certificate in `DIR/renewed.der` for `shared/3`, or disable it. The
/// parent's CA (each process makes its own test PKI) is in `DIR/ca.der`.
fn administer(act: &str, dir: &Path) -> Result<(), String> {
    let ca = std::fs::read(dir.join("ca.der")).map_err(|e| e.to_string())?;
    let anchors = vec![Certificate::from_der(&ca).map_err(|e| e.to_string())?];
    let service = service(dir, &format!("audit-{}.log", std::process::id()), anchors);
    let now = SystemTime::now();
    match act {
        "renew" => {
            let der = std::fs::read(dir.join("renewed.der")).map_err(|e| e.to_string())?;
            let cert = Certificate::from_der(&der).map_err(|e| e.to_string())?;
            service.install_certificate("shared/3", &[cert], now)
        }
        _ => service.disable("shared/3", "admin", now),
    }
    .map_err(|e| e.to_string())
}

/// Runs this binary as `act DIR` and wants `done` from it.
fn run_child(act: &str, dir: &Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg(act)
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if said != "done" {
        return Err(format!("{act} in another process: {said}"));
    }
    Ok(())
}

/// A renewal and a disabling made by another process reach this one's
/// next signature, although it signed for the credential just before
/// (and keeps what it parsed of the record then).
fn record_changes_reach_a_running_process(
    d: &Path,
    service: &SigningService,
) -> Result<(), String> {
    use ssa::{EnrolmentRequest, KeyAlgorithm, KeySpec};
    let csr = service
        .enroll(
            EnrolmentRequest {
                credential: "shared/3".into(),
                signer: "s".into(),
                evidence: "e".into(),
                key: KeySpec::new(KeyAlgorithm::EcP256),
                scal: Scal::Scal1,
                subject: "CN=Renewed".parse().map_err(|e| format!("{e:?}"))?,
                pin: Some(Pin::new(common::PIN)),
                totp: None,
                device_key: None,
            },
            SystemTime::now(),
        )
        .map_err(|e| e.to_string())?;
    let pki = ssa_testkit::pki::pki();
    let first = pki.issue_from_csr(&csr, "signer", 30);
    let renewed = pki.issue_from_csr(&csr, "signer", 60);
    let cert = Certificate::from_der(&first).map_err(|e| e.to_string())?;
    service
        .install_certificate("shared/3", &[cert], SystemTime::now())
        .map_err(|e| e.to_string())?;
    let sign = |text: &str| -> Result<Vec<u8>, ssa::ServiceError> {
        let digests = vec![HashAlgorithm::Sha256.digest(text.as_bytes())];
        let sad = service
            .authorize(&pin_request("shared/3", &digests), SystemTime::now())?
            .sad;
        let mut signatures = service.sign_documents(
            "shared/3",
            &sad,
            &digests,
            &SignOptions::default(),
            SystemTime::now(),
        )?;
        Ok(signatures.pop().unwrap_or_default())
    };
    let carries = |signature: &[u8], cert: &[u8]| signature.windows(cert.len()).any(|w| w == cert);
    let before = sign("before the renewal").map_err(|e| e.to_string())?;
    if !carries(&before, &first) {
        return Err("the first signature does not carry the first certificate".into());
    }
    std::fs::write(d.join("renewed.der"), &renewed).map_err(|e| e.to_string())?;
    std::fs::write(d.join("ca.der"), &pki.ca.cert_der).map_err(|e| e.to_string())?;
    run_child("renew", d)?;
    let after = sign("after the renewal").map_err(|e| e.to_string())?;
    if !carries(&after, &renewed) || carries(&after, &first) {
        return Err("a signature after the renewal elsewhere carries the old certificate".into());
    }
    run_child("disable", d)?;
    match sign("after the disabling") {
        Err(ssa::ServiceError::CredentialDisabled { .. }) => {}
        other => {
            return Err(format!(
                "after a disabling elsewhere: {:?}",
                other.map(|_| "signed")
            ));
        }
    }
    println!("two_processes: a renewal and a disabling by another process were seen at once");
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
    enrolment_reaches_a_running_process(d, &service)?;
    record_changes_reach_a_running_process(d, &service)
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
    if let Some(act @ ("renew" | "disable")) = args.get(1).map(String::as_str) {
        match administer(
            act,
            Path::new(args.get(2).map(String::as_str).unwrap_or_default()),
        ) {
            Ok(()) => println!("done"),
            Err(e) => println!("failed: {e}"),
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
