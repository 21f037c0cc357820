//! Issue 11, item 9: a process killed while it signs leaves the SAD
//! reserved in the shared ledger; after the restart the SAD is refused
//! until an administrator releases reservations older than a bound, which
//! the audit log records; then the signer's SAD signs, once.
//!
//! Own harness: the binary is the parent (no arguments) and the child
//! (`child DIR TSA_URL`), which signs at B-T against a TSA that takes the
//! request and does not answer; the parent kills it (SIGKILL) then.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use common::{enrol_with_certificate, pin_request, prepare_shared, shared_service};
use der::Decode;
use ssa::audit::{Event, Record};
use ssa::sad::{Sad, SadError};
use ssa::{HashAlgorithm, Level, ServiceError, SignOptions};
use x509_cert::Certificate;

fn anchors() -> Vec<Certificate> {
    vec![Certificate::from_der(&ssa_testkit::pki::pki().ca.cert_der).unwrap()]
}

fn child(dir: &Path, tsa: &str) -> ! {
    let tsa = ssa::cades::HttpTsa::new(tsa).unwrap();
    let service = shared_service(dir, "audit.log", Vec::new(), |b| b.tsa(Box::new(tsa)));
    let sad = Sad::new(std::fs::read_to_string(dir.join("sad")).unwrap());
    let digests = vec![std::fs::read(dir.join("digest")).unwrap()];
    let options = SignOptions {
        level: Level::BT,
        ..SignOptions::default()
    };
    let outcome = service.sign_documents("c/1", &sad, &digests, &options, SystemTime::now());
    // Killed before this.
    println!("child finished: {:?}", outcome.map(|_| ()));
    std::process::exit(0)
}

fn sign_bb(
    service: &ssa::SigningService,
    sad: &Sad,
    digests: &[Vec<u8>],
) -> Result<(), ServiceError> {
    service
        .sign_documents(
            "c/1",
            sad,
            digests,
            &SignOptions::default(),
            SystemTime::now(),
        )
        .map(|_| ())
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    prepare_shared(d);
    let service = shared_service(d, "audit.log", anchors(), |b| b);
    enrol_with_certificate(&service, "c/1", "CN=Crash Release");
    let digests = vec![HashAlgorithm::Sha256.digest(b"signed when the process died")];
    let authorized = service
        .authorize(&pin_request("c/1", &digests), SystemTime::now())
        .map_err(|e| e.to_string())?;
    std::fs::write(d.join("sad"), authorized.sad.as_str()).map_err(|e| e.to_string())?;
    std::fs::write(d.join("digest"), &digests[0]).map_err(|e| e.to_string())?;
    drop(service);

    // A TSA that takes the request and says nothing until told.
    let asked = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let tsa = {
        let (asked, done) = (Arc::clone(&asked), Arc::clone(&done));
        ssa_testkit::loopback::LoopbackServer::start(move |_, _| {
            asked.store(true, Ordering::SeqCst);
            for _ in 0..3_000 {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            None
        })
    };
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .arg("child")
        .arg(d)
        .arg(format!("{}/tsa", tsa.base_url()))
        .spawn()
        .map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !asked.load(Ordering::SeqCst) {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return Err("the child never asked the TSA".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // The SAD is reserved and the signature made: the process dies.
    child.kill().map_err(|e| e.to_string())?;
    let _ = child.wait();
    done.store(true, Ordering::SeqCst);
    let killed_at = SystemTime::now();

    // The restart: the SAD is still reserved, so it is refused.
    let service = shared_service(d, "audit.log", anchors(), |b| b);
    let sad = authorized.sad;
    match sign_bb(&service, &sad, &digests) {
        Err(ServiceError::Sad(
            SadError::SadExhausted { .. } | SadError::DigestAlreadyUsed { .. },
        )) => {}
        other => return Err(format!("a reserved SAD after the crash: {other:?}")),
    }
    // A bound before the crash releases nothing; one after it (times are
    // whole seconds), the SAD.
    let before = service
        .release_stale_reservations(killed_at - Duration::from_secs(600), "admin", killed_at)
        .map_err(|e| e.to_string())?;
    if !before.is_empty() {
        return Err(format!(
            "released what was younger than the bound: {before:?}"
        ));
    }
    let released = service
        .release_stale_reservations(
            killed_at + Duration::from_secs(1),
            "admin",
            SystemTime::now(),
        )
        .map_err(|e| e.to_string())?;
    if released.len() != 1 || released[0].jti() != authorized.sad_id {
        return Err(format!("released {released:?}"));
    }
    let text = std::fs::read_to_string(d.join("audit.log")).map_err(|e| e.to_string())?;
    let recorded = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Record>(l.split_once(' ')?.1).ok())
        .any(|r| {
            matches!(&r.entry.event, Event::ReservationReleased { sad_id, .. } if *sad_id == authorized.sad_id)
                && r.entry.actor == "admin"
        });
    if !recorded {
        return Err("the release is not in the audit log".into());
    }
    sign_bb(&service, &sad, &digests).map_err(|e| format!("after the release: {e}"))?;
    if sign_bb(&service, &sad, &digests).is_ok() {
        return Err("the SAD signed twice".into());
    }
    println!(
        "crash_release: the SAD a killed process held was refused after the restart, released by the administrator (audited), and signed once"
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        child(
            Path::new(args.get(2).map(String::as_str).unwrap_or_default()),
            args.get(3).map(String::as_str).unwrap_or_default(),
        );
    }
    match parent() {
        Ok(()) => println!("test result: ok. 1 passed; 0 failed; 0 ignored"),
        Err(e) => {
            println!("a_crashed_reservation_is_released_by_an_administrator: {e}");
            println!("test result: FAILED. 0 passed; 1 failed; 0 ignored");
            std::process::exit(1);
        }
    }
}
