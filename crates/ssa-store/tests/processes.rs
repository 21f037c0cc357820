//! The file backends shared by two real processes (a property that spans
//! processes gets a test with processes): credential updates are all kept,
//! of racing enrolments one is stored per id, a SAD yields `num` uses, and
//! each OAuth2 grant (an authorization code) is taken by one process; and
//! when one writer of a shared audit log fails, the other stops too and
//! what its fsync confirmed is not marked for cutting.
//!
//! Own harness: the binary is the parent (no arguments), a worker
//! (`worker DIR TAG`), and the two audit writers (`audit-failing DIR`,
//! `audit-confirming DIR`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::Command;

use ssa_store::{
    Appended, AuditSink, ConsumptionLedger, CredentialStore, Durability, EnrolmentStore,
    FileAuditSink, FileCredentialStore, FileEnrolmentStore, FileGrantStore, FileLedger, Grant,
    GrantStore, Inserted, LedgerError, StoredCredential, UseRequest,
};

const UPDATES: usize = 100;
const IDS: usize = 100;
const ATTEMPTS: u32 = 300;
const NUM: u32 = 40;
const GRANTS: usize = 100;

/// Waits until both workers have opened their stores, so the races overlap.
fn both_ready(dir: &Path, tag: &str) {
    std::fs::write(dir.join(format!("ready-{tag}")), b"").unwrap();
    wait_for(dir, "ready-a");
    wait_for(dir, "ready-b");
}

/// Waits (up to a minute) for `name` to appear in `dir`.
fn wait_for(dir: &Path, name: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !dir.join(name).exists() {
        assert!(std::time::Instant::now() < deadline, "no {name}");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// One worker's share of the races; prints what it won.
fn worker(dir: &Path, tag: &str) {
    let credentials = FileCredentialStore::open(dir.join("credentials")).unwrap();
    let enrolments = FileEnrolmentStore::open(dir.join("enrolments")).unwrap();
    let ledger = FileLedger::open(dir.join("ledger.journal"), 0).unwrap();
    let grants = FileGrantStore::open(dir.join("grants")).unwrap();
    both_ready(dir, tag);
    let mut stored = 0;
    for i in 0..UPDATES.max(IDS) {
        if i < UPDATES {
            credentials
                .update("shared", &|old| Ok([old, tag.as_bytes()].concat()))
                .unwrap()
                .unwrap();
        }
        if i < IDS
            && enrolments
                .insert(&format!("cred-{i}"), tag.as_bytes())
                .unwrap()
                == Inserted::Stored
        {
            stored += 1;
        }
    }
    let mut used = 0;
    for attempt in 0..ATTEMPTS {
        let digest = [format!("{tag}-{attempt}").into_bytes()];
        let request = UseRequest {
            jti: "raced",
            num: NUM,
            iat: 4_000_000_000 - 300,
            exp: 4_000_000_000,
            now: 1_000,
            forget_before: 0,
            digests: &digest,
            bound: true,
        };
        match ledger.reserve(&request) {
            Ok(reservation) => {
                ledger.commit(&reservation).unwrap();
                used += 1;
            }
            Err(LedgerError::Exhausted { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    let mut taken = 0;
    for i in 0..GRANTS {
        if grants.take(&format!("code-{i}")).unwrap().is_some() {
            taken += 1;
        }
    }
    println!("{stored} {used} {taken}");
}

fn parent() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    let created = FileCredentialStore::open(d.join("credentials"))
        .and_then(|store| {
            store.create(&StoredCredential {
                id: "shared".into(),
                signer: "alice".into(),
                record: Vec::new(),
            })
        })
        .map_err(|e| e.to_string())?;
    if created != Inserted::Stored {
        return Err("a fresh store had the credential".into());
    }
    let grants = FileGrantStore::open(d.join("grants")).map_err(|e| e.to_string())?;
    for i in 0..GRANTS {
        let grant = Grant {
            kind: "code".into(),
            expires: u64::MAX,
            sealed: vec![1, 2, 3],
        };
        grants
            .put(&format!("code-{i}"), &grant, 0)
            .map_err(|e| e.to_string())?;
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            Command::new(&exe)
                .arg("worker")
                .arg(d)
                .arg(tag)
                .stdout(std::process::Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let (mut stored, mut used, mut taken) = (0, 0, 0);
    for child in children {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!("a worker failed: {output:?}"));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut numbers = text.split_whitespace().map(str::parse::<usize>);
        stored += numbers.next().and_then(Result::ok).ok_or("no count")?;
        used += numbers.next().and_then(Result::ok).ok_or("no count")?;
        taken += numbers.next().and_then(Result::ok).ok_or("no count")?;
    }
    let record = FileCredentialStore::open(d.join("credentials"))
        .and_then(|store| store.get("shared"))
        .map_err(|e| e.to_string())?
        .ok_or("the credential vanished")?
        .record;
    println!(
        "processes: {} of {} credential updates kept, {stored} enrolments stored for {IDS} ids, {used} uses of a SAD of {NUM}, {taken} of {GRANTS} grants taken",
        record.len(),
        2 * UPDATES
    );
    if record.len() == 2 * UPDATES && stored == IDS && used == NUM as usize && taken == GRANTS {
        Ok(())
    } else {
        Err("a store lost or doubled something across processes".into())
    }
}

/// Records the confirming writer appends and makes durable.
const CONFIRMED: u64 = 20;

fn audit_records(from: u64, to: u64) -> Vec<String> {
    // About 100 bytes each: the confirming writer's records outgrow the
    // failing writer's file size limit.
    (from..to)
        .map(|i| format!("record {i:04} {}", "x".repeat(88)))
        .collect()
}

/// Opens the log while it is empty, lets the other writer append and
/// confirm, then appends past its file size limit (`prlimit --fsize`, with
/// SIGXFSZ ignored: the write fails with EFBIG) and stops.
fn audit_failing(dir: &Path) {
    let sink = FileAuditSink::open(dir.join("audit.log"), Durability::Fsync).unwrap();
    std::fs::write(dir.join("failing-open"), b"").unwrap();
    wait_for(dir, "confirmed");
    // After the other writer's 20 confirmed records and 1 not yet synced.
    let failed = sink.append(CONFIRMED + 1, &audit_records(CONFIRMED + 1, CONFIRMED + 2));
    std::fs::write(dir.join("failed"), b"").unwrap();
    println!(
        "append {:?}, unconfirmed from {:?}",
        failed.map_err(|e| e.to_string()),
        sink.unconfirmed_from().map_err(|e| e.to_string())
    );
}

/// Appends and confirms records after the failing writer opened, and
/// appends one more without syncing it; once that writer failed, tries to
/// make the last one durable, then to append another.
fn audit_confirming(dir: &Path) {
    let sink = FileAuditSink::open(dir.join("audit.log"), Durability::Fsync).unwrap();
    assert_eq!(
        sink.append(0, &audit_records(0, CONFIRMED)).unwrap(),
        Appended::Done
    );
    sink.sync_through(CONFIRMED).unwrap();
    let unsynced = audit_records(CONFIRMED, CONFIRMED + 1);
    assert_eq!(sink.append(CONFIRMED, &unsynced).unwrap(), Appended::Done);
    std::fs::write(dir.join("confirmed"), b"").unwrap();
    wait_for(dir, "failed");
    // The fsync itself may well succeed: it must confirm nothing.
    let synced = sink.sync_through(CONFIRMED + 1);
    let appended = sink.append(CONFIRMED + 1, &audit_records(CONFIRMED + 1, CONFIRMED + 2));
    let said = |r: Result<(), ssa_store::StoreError>| match r {
        Err(ssa_store::StoreError::Stopped { .. }) => "refused".to_owned(),
        other => format!("{other:?}"),
    };
    println!("{} {}", said(synced), said(appended.map(|_| ())));
}

/// Two writers of one audit file: one fails to write; the other must stop
/// too, and the stop mark must not ask to cut what the other's fsync
/// confirmed.
fn audit_writers() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // An ignored signal stays ignored across exec; prlimit (util-linux)
    // runs the writer with a file size limit of 1 KiB.
    let failing = Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; exec prlimit --fsize=1024 "$0" audit-failing "$1""#)
        .arg(&exe)
        .arg(d)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    wait_for(d, "failing-open");
    let confirming = Command::new(&exe)
        .arg("audit-confirming")
        .arg(d)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut said = Vec::new();
    for child in [failing, confirming] {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!("an audit writer failed: {output:?}"));
        }
        said.push(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    }
    let reopened = FileAuditSink::open(d.join("audit.log"), Durability::Fsync)
        .and_then(|sink| sink.unconfirmed_from())
        .map_err(|e| e.to_string())?;
    println!(
        "audit writers: the failing one said {:?}; the other {:?}; the reopened log is unconfirmed from {reopened:?}",
        said[0], said[1]
    );
    if !said[0].starts_with("append Err(") {
        return Err("the failing writer's append went through".into());
    }
    if said[1] != "refused refused" {
        return Err("the other writer confirmed or appended after the failure".into());
    }
    if reopened != Some(CONFIRMED) {
        return Err(format!(
            "the stop mark is not at the {CONFIRMED} records confirmed"
        ));
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("worker") => return worker(Path::new(&args[2]), &args[3]),
        Some("audit-failing") => return audit_failing(Path::new(&args[2])),
        Some("audit-confirming") => return audit_confirming(Path::new(&args[2])),
        _ => {}
    }
    type Test = fn() -> Result<(), String>;
    let tests: [(&str, Test); 2] = [
        ("file_stores_shared_by_two_processes", parent),
        (
            "a_failed_writer_stops_the_other_and_marks_what_it_confirmed",
            audit_writers,
        ),
    ];
    let mut failed = 0;
    for (name, test) in tests {
        if let Err(e) = test() {
            println!("{name}: {e}");
            failed += 1;
        }
    }
    println!(
        "test result: {}. {} passed; {failed} failed; 0 ignored",
        if failed == 0 { "ok" } else { "FAILED" },
        tests.len() - failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
