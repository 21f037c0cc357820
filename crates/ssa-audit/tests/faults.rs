//! Issue 11, items 1 and 7: the log after a failed write or fsync of its
//! sink, and a unit of records a crash cut short. The sink here
//! (`ssa_testkit::faults::FaultySink`) fails on demand and, like a kernel
//! after a failed fsync, reports success to the next sync: the log itself
//! must stop.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ssa_audit::*;
use ssa_store::{AuditSink, StoreError};
use ssa_testkit::faults::FaultySink;

mod common;

const T0: u64 = 1_800_000_000;

fn entry(i: u64) -> Entry {
    Entry::new(
        Event::Signature {
            sad_id: format!("sad-{i}"),
            level: "B-B".into(),
        },
        "alice",
        Outcome::Success,
    )
}

fn records(sink: &dyn AuditSink) -> Vec<Record> {
    sink.read_from(0)
        .unwrap()
        .iter()
        .map(|line| serde_json::from_str(line.split_once(' ').unwrap().1).unwrap())
        .collect()
}

fn export_is_intact(log: &AuditLog) {
    let report = scan(&log.export().unwrap(), None);
    assert!(report.is_intact(), "{:?}", report.problems);
}

/// Item 1: after a failed fsync the log appends nothing, even though the
/// sink would now take it, until `recover` cuts what was never confirmed
/// and says so; then the chain is whole and the log goes on.
#[test]
fn a_failed_sync_stops_the_log_until_it_is_recovered() {
    let sink = Arc::new(FaultySink::default());
    let log = AuditLog::over(sink.clone(), AuditOptions::default()).unwrap();
    log.append_all(vec![entry(0), entry(1)], T0).unwrap();
    sink.fail_sync.store(true, Ordering::SeqCst);
    assert!(matches!(
        log.append_all(vec![entry(2), entry(3)], T0 + 1),
        Err(AuditError::Sink(StoreError::Io { .. }))
    ));
    // The sink would take and "sync" this now; the log must not.
    let error = log.append(entry(4), T0 + 2).unwrap_err();
    assert!(matches!(error, AuditError::Stopped { .. }), "{error:?}");
    assert!(log.checkpoint(T0 + 2).is_ok(), "no signer: a no-op");
    assert!(log.stopped().is_some());
    assert_eq!(records(&*sink).len(), 4, "nothing appended while stopped");

    let receipt = log.recover(T0 + 3).unwrap().unwrap();
    assert_eq!(
        receipt.seq, 2,
        "the recovery record takes the first cut place"
    );
    let kept = records(&*sink);
    assert_eq!(kept.len(), 3);
    match &kept[2].entry.event {
        Event::Recovered { from, cut, .. } => assert_eq!((*from, *cut), (2, 2)),
        other => panic!("{other:?}"),
    }
    log.append(entry(5), T0 + 4).unwrap();
    export_is_intact(&log);
    assert!(log.stopped().is_none());
    assert_eq!(log.recover(T0 + 5).unwrap(), None, "running: nothing to do");
}

/// Item 1: a failed write stops the log too; recovery with nothing to cut
/// still says that the log went on after a failure.
#[test]
fn a_failed_append_stops_the_log_and_recovery_says_so() {
    let sink = Arc::new(FaultySink::default());
    let log = AuditLog::over(sink.clone(), AuditOptions::default()).unwrap();
    log.append(entry(0), T0).unwrap();
    sink.fail_append(0);
    assert!(log.append(entry(1), T0).is_err());
    assert!(matches!(
        log.append(entry(1), T0),
        Err(AuditError::Stopped { .. })
    ));
    log.recover(T0 + 1).unwrap().unwrap();
    let kept = records(&*sink);
    assert_eq!(kept.len(), 2);
    assert!(matches!(
        kept[1].entry.event,
        Event::Recovered {
            from: 1,
            cut: 0,
            ..
        }
    ));
    log.append(entry(1), T0 + 2).unwrap();
    export_is_intact(&log);
}

/// Item 1: a new log over a sink that stopped (a restart after the
/// failure) cuts what was never confirmed before its first record.
#[test]
fn a_log_opened_over_a_stopped_sink_cuts_first_and_says_so() {
    let sink = Arc::new(FaultySink::default());
    let log = AuditLog::over(sink.clone(), AuditOptions::default()).unwrap();
    log.append(entry(0), T0).unwrap();
    sink.fail_sync.store(true, Ordering::SeqCst);
    assert!(log.append(entry(1), T0).is_err());
    drop(log);
    let log = AuditLog::over(sink.clone(), AuditOptions::default()).unwrap();
    assert_eq!(log.head().0, 1, "only the durable record counts");
    let receipt = log.append(entry(2), T0 + 10).unwrap();
    assert_eq!(receipt.seq, 2);
    let kept = records(&*sink);
    assert!(matches!(
        kept[1].entry.event,
        Event::Recovered {
            from: 1,
            cut: 1,
            ..
        }
    ));
    assert_eq!(kept[1].time, T0 + 10, "at the time of the append that cut");
    export_is_intact(&log);
}

/// Item 7: a request's records are one unit. A unit a crash cut short (its
/// first record written, the rest lost) is a torn tail, not tampering, and
/// the next append cuts it, with a record saying so.
#[test]
fn a_unit_cut_short_is_a_torn_tail_and_is_cut_before_the_next_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    log.append(entry(0), T0).unwrap();
    log.append_all(vec![entry(1), entry(2), entry(3)], T0 + 1)
        .unwrap();
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // A crash after the unit's second record reached the disk.
    std::fs::write(&path, format!("{}\n{}\n{}\n", lines[0], lines[1], lines[2])).unwrap();
    let report = scan(&std::fs::read(&path).unwrap(), None);
    assert!(report.only_a_torn_tail(), "{:?}", report.problems);
    assert_eq!(report.problems, [Problem::UnfinishedUnit { seq: 1 }]);

    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    assert_eq!(log.head().0, 1);
    log.append(entry(4), T0 + 2).unwrap();
    export_is_intact(&log);
    let events: Vec<Event> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Record>(l.split_once(' ').unwrap().1)
                .unwrap()
                .entry
                .event
        })
        .collect();
    assert_eq!(events.len(), 3);
    assert!(matches!(
        events[1],
        Event::Recovered {
            from: 1,
            cut: 2,
            ..
        }
    ));
    // The cut records were kept beside the log.
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("audit.log.cut-1-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
}

/// A unit's records out of step (one says more follow, the next is not
/// its continuation) is damage in the middle: refused, nothing changed.
#[test]
fn a_broken_unit_in_the_middle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    log.append_all(vec![entry(0), entry(1)], T0).unwrap();
    log.append(entry(2), T0).unwrap();
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Drop the unit's second record and re-chain nothing: a deletion.
    std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(
        AuditLog::open(&path, AuditOptions::default()),
        Err(AuditError::Broken { .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// The recovery record is a record like any other: it counts towards the
/// next checkpoint by count.
#[test]
fn the_recovery_record_counts_towards_the_next_checkpoint() {
    let sink = Arc::new(FaultySink::default());
    let options = AuditOptions {
        checkpoint_signer: Some(common::signer()),
        checkpoint_every: Some(3),
        ..AuditOptions::default()
    };
    let log = AuditLog::over(sink.clone(), options).unwrap();
    log.append(entry(0), T0).unwrap();
    sink.fail_sync.store(true, Ordering::SeqCst);
    assert!(log.append(entry(1), T0).is_err());
    log.recover(T0 + 1).unwrap();
    // entry 0, the recovery record, and this one: three, then sealed.
    log.append(entry(2), T0 + 2).unwrap();
    let kept = records(&*sink);
    assert_eq!(kept.len(), 4, "{kept:#?}");
    assert!(matches!(
        kept[3].entry.event,
        Event::Checkpoint { count: 3, .. }
    ));
    export_is_intact(&log);
}

/// Another writer's unit cut short is not something to chain after: a
/// writer that meets it while catching up refuses it (only a log being
/// opened cuts a unit, with a record).
#[test]
fn a_unit_cut_short_by_another_writer_is_refused_when_catching_up() {
    let sink = Arc::new(ssa_store::MemoryAuditSink::new());
    let one = AuditLog::over(sink.clone(), AuditOptions::default()).unwrap();
    let two = AuditLog::over(sink.clone(), AuditOptions::default()).unwrap();
    one.append(entry(0), T0).unwrap();
    // A unit of two of which only the first record reached the sink.
    let scratch = AuditLog::in_memory(AuditOptions::default());
    scratch.append(entry(0), T0).unwrap();
    scratch.append_all(vec![entry(1), entry(2)], T0).unwrap();
    let lines: Vec<String> = scan_lines(&scratch.export().unwrap());
    assert_eq!(
        sink.append(1, &lines[1..2]).unwrap(),
        ssa_store::Appended::Done
    );
    let error = two.append(entry(3), T0).unwrap_err();
    assert!(
        matches!(
            error,
            AuditError::Broken {
                problem: Problem::UnfinishedUnit { seq: 1 }
            }
        ),
        "{error:?}"
    );
}

fn scan_lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A whole last line that is not a record is a torn tail (a crash while
/// the line was written), not tampering; the same line before another is.
#[test]
fn a_garbled_last_line_is_a_torn_tail_and_in_the_middle_it_is_not() {
    let log = AuditLog::in_memory(AuditOptions::default());
    log.append(entry(0), T0).unwrap();
    let mut bytes = log.export().unwrap();
    let whole = bytes.len() as u64;
    bytes.extend_from_slice(b"0000 {not a record\n");
    let report = scan(&bytes, None);
    assert_eq!(report.problems, [Problem::TornRecord { offset: whole }]);
    assert!(report.only_a_torn_tail());
    bytes.extend_from_slice(b"more\n");
    let report = scan(&bytes, None);
    assert!(matches!(
        report.problems.first(),
        Some(Problem::Malformed { line: 1 })
    ));
    assert!(!report.only_a_torn_tail());
}

/// One line of a record chained after `prev`, made by hand: a unit that
/// says more records follow than do, and its hash.
fn hand_made(seq: u64, prev: &str, more: u32) -> (String, String) {
    let record = Record {
        seq,
        time: T0,
        entry: entry(seq),
        prev: prev.to_owned(),
        more,
    };
    let body = serde_json::to_string(&record).unwrap();
    let hash: String = ring::digest::digest(&ring::digest::SHA256, body.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (format!("{hash} {body}\n"), hash)
}

/// A unit that says two more records follow, then one that says none:
/// the chain holds, the unit does not.
#[test]
fn a_unit_that_ends_before_it_said_is_broken() {
    let (first, h0) = hand_made(0, &"0".repeat(64), 2);
    let (second, h1) = hand_made(1, &h0, 0);
    let (third, _) = hand_made(2, &h1, 0);
    let report = scan(format!("{first}{second}{third}").as_bytes(), None);
    assert_eq!(report.problems, [Problem::BrokenUnit { seq: 1 }]);
}

/// Records since the last checkpoint are counted again on reopen, so the
/// next checkpoint by count comes when it is due, not later.
#[test]
fn a_reopened_log_counts_the_records_since_its_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let options = || AuditOptions {
        checkpoint_signer: Some(common::signer()),
        checkpoint_every: Some(3),
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options()).unwrap();
    log.append(entry(0), T0).unwrap();
    log.append(entry(1), T0).unwrap();
    drop(log);
    let log = AuditLog::open(&path, options()).unwrap();
    log.append(entry(2), T0).unwrap();
    let last = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .last()
        .map(|l| serde_json::from_str::<Record>(l.split_once(' ').unwrap().1).unwrap())
        .unwrap();
    assert!(
        matches!(last.entry.event, Event::Checkpoint { count: 3, .. }),
        "{last:?}"
    );
}

/// Issue 16: units appended together (`append_units_unsynced`, one append
/// of the sink) stay units of the log, each with its own count of records
/// to follow and its own time, a due checkpoint after the unit it fell due
/// on; a recovery that cut them before their sync makes the sync refuse
/// them, while units an fsync confirmed before the failure survive it.
#[test]
fn units_appended_together_stay_units_and_a_recovery_that_cut_them_refuses_their_sync() {
    let sink = Arc::new(FaultySink::default());
    let options = AuditOptions {
        checkpoint_signer: Some(common::signer()),
        checkpoint_every: Some(3),
        ..AuditOptions::default()
    };
    let log = AuditLog::over(sink.clone(), options).unwrap();
    let units = [
        vec![entry(0), entry(1)],
        vec![entry(2)],
        vec![entry(3), entry(4)],
    ];
    let together: Vec<(&[Entry], u64)> = units
        .iter()
        .zip([T0, T0 + 1, T0 + 2])
        .map(|(unit, time)| (unit.as_slice(), time))
        .collect();
    let unsynced = log.append_units_unsynced(&together).unwrap();
    assert_eq!(unsynced.receipts().len(), 5);
    log.sync_unit(&unsynced).unwrap();
    let written = records(&*sink);
    let shape: Vec<(u32, u64, bool)> = written
        .iter()
        .map(|r| {
            let sealed = matches!(r.entry.event, Event::Checkpoint { .. });
            (r.more, r.time, sealed)
        })
        .collect();
    // Three records are due a checkpoint: after the second unit, not
    // inside the third.
    assert_eq!(
        shape,
        [
            (1, T0, false),
            (0, T0, false),
            (0, T0 + 1, false),
            (0, T0 + 1, true),
            (1, T0 + 2, false),
            (0, T0 + 2, false),
        ]
    );
    export_is_intact(&log);

    // Written, not synced; another write's fsync fails; the recovery cuts
    // them, and their sync is refused.
    let cut = log
        .append_units_unsynced(&[(&[entry(5)], T0 + 3), (&[entry(6)], T0 + 3)])
        .unwrap();
    sink.fail_sync.store(true, Ordering::SeqCst);
    assert!(log.append(entry(7), T0 + 4).is_err());
    log.recover(T0 + 5).unwrap();
    let error = log.sync_unit(&cut).unwrap_err();
    assert!(matches!(error, AuditError::Stopped { .. }), "{error:?}");
    // Confirmed before the failure: kept, and its sync goes through.
    log.sync_unit(&unsynced).unwrap();
    export_is_intact(&log);

    // Nothing to write: no record, nothing to sync.
    let empty = log.append_units_unsynced(&[(&[], T0 + 6)]).unwrap();
    assert!(empty.receipts().is_empty());
    let before = records(&*sink).len();
    log.sync_unit(&empty).unwrap();
    assert_eq!(records(&*sink).len(), before);
}
