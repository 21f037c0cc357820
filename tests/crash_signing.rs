//! A child process signs in a loop with durable audit and is killed with
//! SIGKILL; on reopen the audit chain verifies, and every signature the
//! child reported (after `sign_documents` returned it) has its record.
//!
//! Own harness: the binary is the parent (no arguments) and the child
//! (`child DIR`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::SystemTime;

use common::{PIN, cheap_pin_config, enrol_with_certificate, scal1_policy};
use der::Decode;
use ssa::audit::{AuditLog, AuditOptions, Event, Record, scan};
use ssa::sad::*;
use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::soft::SoftScdev;
use ssa::{FileCredentialStore, HashAlgorithm, SignOptions, SigningServiceBuilder};
use x509_cert::Certificate;

fn child(dir: &str) -> ! {
    let dir = std::path::Path::new(dir);
    let (key, _) = SadSigningKey::generate(SadAlgorithm::EdDsa).unwrap();
    let issuer = SadIssuer::new(
        cheap_pin_config(),
        key,
        SeedKey::generate().unwrap(),
        Arc::new(MemoryLockoutStore::new()),
    );
    let sam = SadVerifier::new(SamConfig::new("sam"), Arc::new(MemoryLedger::new()))
        .trust("iss", issuer.verifying_key());
    let service = SigningServiceBuilder::new(
        Arc::new(SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap())),
        sam,
        Arc::new(FileCredentialStore::open(dir.join("registry")).unwrap()),
        Arc::new(AuditLog::open(dir.join("audit.log"), AuditOptions::default()).unwrap()),
    )
    .issuer(issuer)
    .requests(scal1_policy())
    .anchors(vec![
        Certificate::from_der(&ssa_testkit::pki::pki().ca.cert_der).unwrap(),
    ])
    .build()
    .unwrap();
    enrol_with_certificate(&service, "c", "CN=Crash Test");
    let now = SystemTime::now();
    let stdout = std::io::stdout();
    for i in 0u64.. {
        let digests = vec![HashAlgorithm::Sha256.digest(&i.to_be_bytes())];
        let sad = service
            .authorize(
                &AuthorizationRequest {
                    mode: SigningMode::Document,
                    credential: "c",
                    hash_alg: HashAlgorithm::Sha256,
                    digests: &digests,
                    num: 1,
                    lifetime: 60,
                    factors: PresentedFactors {
                        pin: Some(Pin::new(PIN)),
                        ..PresentedFactors::default()
                    },
                },
                now,
            )
            .unwrap()
            .sad;
        service
            .sign_documents("c", &sad, &digests, &SignOptions::default(), now)
            .unwrap();
        let hex: String = digests[0].iter().map(|b| format!("{b:02x}")).collect();
        let mut out = stdout.lock();
        let _ = writeln!(out, "signed {hex}");
        let _ = out.flush();
    }
    unreachable!()
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .arg("child")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut reported = Vec::new();
    let mut line = String::new();
    while reported.len() < 60 {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the child stopped early".into());
        }
        if let Some(hex) = line.trim().strip_prefix("signed ") {
            reported.push(hex.to_owned());
        }
    }
    child.kill().map_err(|e| e.to_string())?; // SIGKILL
    for line in reader.lines().map_while(Result::ok) {
        if let Some(hex) = line.trim().strip_prefix("signed ") {
            reported.push(hex.to_owned());
        }
    }
    let _ = child.wait();
    let path = dir.path().join("audit.log");
    AuditLog::open(&path, AuditOptions::default()).map_err(|e| format!("reopen: {e}"))?;
    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
    let report = scan(&bytes, None);
    if !report.is_intact() {
        return Err(format!("chain broken after SIGKILL: {:?}", report.problems));
    }
    let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
    let signed: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Record>(l.split_once(' ')?.1).ok())
        .filter(|r| matches!(r.entry.event, Event::Signature { .. }))
        .flat_map(|r| r.entry.digests)
        .collect();
    for hex in &reported {
        if !signed.contains(hex) {
            return Err(format!(
                "signature over {hex} was returned but has no audit record"
            ));
        }
    }
    println!(
        "crash_signing: {} signatures reported, {} signature records after SIGKILL",
        reported.len(),
        signed.len()
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        child(args.get(2).map(String::as_str).unwrap_or_default());
    }
    match parent() {
        Ok(()) => println!("test result: ok. 1 passed; 0 failed; 0 ignored"),
        Err(e) => {
            println!("sigkill_while_signing_loses_no_audit_record: {e}");
            println!("test result: FAILED. 0 passed; 1 failed; 0 ignored");
            std::process::exit(1);
        }
    }
}
