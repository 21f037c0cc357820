//! The file backends shared by two real processes (a property that spans
//! processes gets a test with processes): credential updates are all kept,
//! of racing enrolments one is stored per id, a SAD yields `num` uses, and
//! each OAuth2 grant (an authorization code) is taken by one process.
//!
//! Own harness: the binary is the parent (no arguments) and a worker
//! (`worker DIR TAG`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::process::Command;

use ssa_store::{
    ConsumptionLedger, CredentialStore, EnrolmentStore, FileCredentialStore, FileEnrolmentStore,
    FileGrantStore, FileLedger, Grant, GrantStore, Inserted, LedgerError, StoredCredential,
    UseRequest,
};

const UPDATES: usize = 100;
const IDS: usize = 100;
const ATTEMPTS: u32 = 300;
const NUM: u32 = 40;
const GRANTS: usize = 100;

/// Waits until both workers have opened their stores, so the races overlap.
fn both_ready(dir: &Path, tag: &str) {
    std::fs::write(dir.join(format!("ready-{tag}")), b"").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !(dir.join("ready-a").exists() && dir.join("ready-b").exists()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the other worker never started"
        );
        std::thread::yield_now();
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("worker") {
        worker(Path::new(&args[2]), &args[3]);
        return;
    }
    match parent() {
        Ok(()) => println!("test result: ok. 1 passed; 0 failed; 0 ignored"),
        Err(e) => {
            println!("file_stores_shared_by_two_processes: {e}");
            println!("test result: FAILED. 0 passed; 1 failed; 0 ignored");
            std::process::exit(1);
        }
    }
}
