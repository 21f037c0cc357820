//! The audit-sink conformance suite, for any backend: a backend crate runs
//! it from its tests (feature `conformance`). It fails by panicking, as a
//! test does. Each case gets a fresh, empty sink without a checkpoint
//! signer, and whatever must live as long as it does.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::any::Any;
use std::sync::Arc;

use crate::{AuditSink, Entry, Event, Outcome, Receipt, Record, scan};

/// A fresh sink and its guard (a temporary directory, a database).
pub type Fresh<'a> = &'a dyn Fn() -> (Arc<dyn AuditSink>, Box<dyn Any>);

/// Runs every audit-sink case on sinks from `fresh`.
pub fn audit_sink(fresh: Fresh<'_>) {
    an_empty_sink_has_the_genesis_head(fresh);
    records_are_numbered_and_chained(fresh);
    an_empty_batch_writes_nothing(fresh);
    hostile_text_stays_inside_its_record(fresh);
    concurrent_appends_are_all_kept_and_batches_stay_whole(fresh);
}

fn entry(actor: &str) -> Entry {
    Entry::new(Event::Unlock, actor, Outcome::Success).credential("cred")
}

/// The records of an export, checked by the independent scanner.
fn verified(sink: &dyn AuditSink) -> Vec<Record> {
    let bytes = sink.export().unwrap();
    let report = scan(&bytes, None);
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.valid_len, bytes.len() as u64, "a torn record");
    assert_eq!(sink.head().unwrap(), (report.records, report.head.clone()));
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            let body = &line[line.iter().position(|b| *b == b' ').unwrap() + 1..];
            serde_json::from_slice(body).unwrap()
        })
        .collect()
}

fn an_empty_sink_has_the_genesis_head(fresh: Fresh<'_>) {
    let (sink, _guard) = fresh();
    let (count, head) = sink.head().unwrap();
    assert_eq!(count, 0);
    assert_eq!(head, "0".repeat(64));
    assert!(verified(&*sink).is_empty());
    assert_eq!(sink.checkpoint(10).unwrap(), None);
}

fn records_are_numbered_and_chained(fresh: Fresh<'_>) {
    let (sink, _guard) = fresh();
    let mut receipts: Vec<Receipt> = Vec::new();
    for i in 0..3 {
        receipts.push(sink.append(entry(&format!("admin-{i}")), 100 + i).unwrap());
    }
    receipts.extend(
        sink.append_all(vec![entry("batch-0"), entry("batch-1")], 200)
            .unwrap(),
    );
    let seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4]);
    assert_eq!(sink.head().unwrap(), (5, receipts[4].hash.clone()));
    let records = verified(&*sink);
    assert_eq!(records.len(), 5);
    let actors: Vec<&str> = records.iter().map(|r| r.entry.actor.as_str()).collect();
    assert_eq!(
        actors,
        ["admin-0", "admin-1", "admin-2", "batch-0", "batch-1"]
    );
    let times: Vec<u64> = records.iter().map(|r| r.time).collect();
    assert_eq!(times, [100, 101, 102, 200, 200]);
    assert_eq!(records[1].prev, receipts[0].hash);
}

fn an_empty_batch_writes_nothing(fresh: Fresh<'_>) {
    let (sink, _guard) = fresh();
    sink.append(entry("one"), 1).unwrap();
    let before = sink.export().unwrap();
    assert!(sink.append_all(Vec::new(), 2).unwrap().is_empty());
    assert_eq!(sink.export().unwrap(), before);
    assert_eq!(sink.head().unwrap().0, 1);
}

fn hostile_text_stays_inside_its_record(fresh: Fresh<'_>) {
    let (sink, _guard) = fresh();
    let hostile = "x\n0000 {\"seq\":99}\r\n\u{2028}\"}";
    sink.append(
        Entry::new(
            Event::Enrolment {
                evidence: hostile.into(),
            },
            hostile,
            Outcome::Failure(hostile.into()),
        )
        .credential(hostile),
        5,
    )
    .unwrap();
    sink.append(entry("after"), 6).unwrap();
    let records = verified(&*sink);
    assert_eq!(records.len(), 2, "a record split or a forged one appeared");
    assert_eq!(records[0].entry.actor, hostile);
    assert_eq!(records[0].entry.credential.as_deref(), Some(hostile));
}

fn concurrent_appends_are_all_kept_and_batches_stay_whole(fresh: Fresh<'_>) {
    const THREADS: usize = 4;
    const ROUNDS: usize = 15;
    let (sink, _guard) = fresh();
    let batches = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (sink, batches) = (&sink, &batches);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    let entries = (0..3)
                        .map(|i| entry(&format!("t{t}-r{round}-{i}")))
                        .collect();
                    let receipts = sink.append_all(entries, 7).unwrap();
                    batches.lock().unwrap().push(receipts);
                    sink.append(entry(&format!("t{t}-r{round}-single")), 7)
                        .unwrap();
                }
            });
        }
    });
    let records = verified(&*sink);
    assert_eq!(records.len(), THREADS * ROUNDS * 4, "a record was lost");
    for receipts in batches.into_inner().unwrap() {
        let seqs: Vec<u64> = receipts.iter().map(|r| r.seq).collect();
        assert_eq!(seqs.len(), 3);
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "a batch was interleaved: {seqs:?}"
        );
        let actor = &records[seqs[0] as usize].entry.actor;
        assert!(actor.ends_with("-0"), "{actor}");
    }
}
