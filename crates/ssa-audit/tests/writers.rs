//! Several writers on one sink extend one chain: logs sharing a memory
//! sink, logs sharing a file, and two real processes appending to one
//! file. A record a writer did not chain itself is verified before the
//! writer chains after it.
//!
//! Own harness: the binary is the parent (no arguments) and a writer
//! (`write PATH TAG`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::signer;
use ssa_audit::*;

const ROUNDS: usize = 40;

type Case = fn() -> Result<(), String>;

fn entry(tag: &str, round: usize, i: usize) -> Entry {
    Entry::new(
        Event::Unlock,
        format!("{tag}-{round}-{i}"),
        Outcome::Success,
    )
}

fn options() -> AuditOptions {
    AuditOptions {
        checkpoint_signer: Some(signer()),
        checkpoint_every: Some(7),
        ..AuditOptions::default()
    }
}

/// Appends ROUNDS batches of two and one single, at once on two threads
/// per log.
fn race(logs: &[&AuditLog]) {
    std::thread::scope(|scope| {
        for (n, log) in logs.iter().enumerate() {
            for t in 0..2 {
                let tag = format!("log{n}-t{t}");
                scope.spawn(move || {
                    for round in 0..ROUNDS {
                        let receipts = log
                            .append_all(vec![entry(&tag, round, 0), entry(&tag, round, 1)], 5)
                            .unwrap();
                        assert_eq!(receipts[1].seq, receipts[0].seq + 1, "a batch split");
                        log.append(entry(&tag, round, 2), 5).unwrap();
                    }
                });
            }
        }
    });
}

/// The log's bytes are one intact chain holding `entries` entries (and
/// checkpoints, each over everything before it).
fn check(bytes: &[u8], entries: usize) -> Result<(), String> {
    let report = scan(bytes, None);
    if !report.is_intact() {
        return Err(format!("problems: {:?}", report.problems));
    }
    let total = report.records as usize;
    if total - report.checkpoints as usize != entries {
        return Err(format!(
            "{} entries, {} expected",
            total - report.checkpoints as usize,
            entries
        ));
    }
    if report.checkpoints == 0 {
        return Err("no checkpoint was written".into());
    }
    Ok(())
}

fn logs_sharing_a_memory_sink() -> Result<(), String> {
    let sink: Arc<dyn AuditSink> = Arc::new(MemoryAuditSink::new());
    let one = AuditLog::over(Arc::clone(&sink), options()).map_err(|e| e.to_string())?;
    let two = AuditLog::over(sink, options()).map_err(|e| e.to_string())?;
    race(&[&one, &two]);
    check(
        &one.export().map_err(|e| e.to_string())?,
        2 * 2 * ROUNDS * 3,
    )
}

fn logs_sharing_a_file() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("audit.log");
    let one = AuditLog::open(&path, options()).map_err(|e| e.to_string())?;
    let two = AuditLog::open(&path, options()).map_err(|e| e.to_string())?;
    race(&[&one, &two]);
    check(
        &std::fs::read(&path).map_err(|e| e.to_string())?,
        2 * 2 * ROUNDS * 3,
    )?;
    // A third writer opened now, and the first, which has not seen what
    // the second wrote last: both continue the same chain.
    let three = AuditLog::open(&path, options()).map_err(|e| e.to_string())?;
    one.append(entry("after", 0, 0), 7)
        .map_err(|e| e.to_string())?;
    three
        .append(entry("after", 1, 0), 7)
        .map_err(|e| e.to_string())?;
    two.append(entry("after", 2, 0), 7)
        .map_err(|e| e.to_string())?;
    check(
        &std::fs::read(&path).map_err(|e| e.to_string())?,
        2 * 2 * ROUNDS * 3 + 3,
    )?;
    Ok(())
}

/// A record put into the sink that does not chain is refused by the next
/// writer that meets it, and nothing is chained after it.
fn a_foreign_record_that_does_not_chain_is_refused() -> Result<(), String> {
    let sink: Arc<dyn AuditSink> = Arc::new(MemoryAuditSink::new());
    let log =
        AuditLog::over(Arc::clone(&sink), AuditOptions::default()).map_err(|e| e.to_string())?;
    log.append(entry("a", 0, 0), 1).map_err(|e| e.to_string())?;
    let forged = format!("{} {{\"seq\":1}}", "0".repeat(64));
    if sink.append(1, &[forged]).map_err(|e| e.to_string())? != Appended::Done {
        return Err("the forged record was not put in".into());
    }
    match log.append(entry("a", 0, 1), 2) {
        Err(AuditError::Broken { .. }) => {}
        other => return Err(format!("a writer chained after a forged record: {other:?}")),
    }
    if sink.read_from(0).map_err(|e| e.to_string())?.len() != 2 {
        return Err("something was appended after the forged record".into());
    }
    // And a log opened over the sink refuses it too.
    match AuditLog::over(sink, AuditOptions::default()) {
        Err(AuditError::Broken { .. }) => Ok(()),
        other => Err(format!("opened over a forged record: {other:?}")),
    }
}

fn two_processes_share_a_file() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("audit.log");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let children: Vec<_> = ["p0", "p1"]
        .iter()
        .map(|tag| Command::new(&exe).arg("write").arg(&path).arg(tag).spawn())
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    for child in children {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!("a writer process failed: {output:?}"));
        }
    }
    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
    check(&bytes, 2 * 2 * ROUNDS * 3)?;
    let report = scan(&bytes, None);
    println!(
        "writers: two processes, {} records ({} checkpoints) in one intact chain",
        report.records, report.checkpoints
    );
    Ok(())
}

fn writer(path: &Path, tag: &str) {
    let log = AuditLog::open(path, options()).unwrap();
    std::thread::scope(|scope| {
        for t in 0..2 {
            let (log, tag) = (&log, format!("{tag}-t{t}"));
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    log.append_all(vec![entry(&tag, round, 0), entry(&tag, round, 1)], 5)
                        .unwrap();
                    log.append(entry(&tag, round, 2), 5).unwrap();
                }
            });
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("write") {
        writer(Path::new(&args[2]), &args[3]);
        return;
    }
    let cases: [(&str, Case); 4] = [
        ("logs_sharing_a_memory_sink", logs_sharing_a_memory_sink),
        ("logs_sharing_a_file", logs_sharing_a_file),
        (
            "a_foreign_record_that_does_not_chain_is_refused",
            a_foreign_record_that_does_not_chain_is_refused,
        ),
        ("two_processes_share_a_file", two_processes_share_a_file),
    ];
    let mut failed = 0;
    for (name, case) in cases {
        match case() {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                println!("test {name} ... FAILED: {e}");
                failed += 1;
            }
        }
    }
    println!(
        "test result: {}. {} passed; {failed} failed; 0 ignored",
        if failed == 0 { "ok" } else { "FAILED" },
        cases.len() - failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
