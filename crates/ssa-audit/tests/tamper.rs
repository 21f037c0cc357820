//! Each kind of tampering with a copy of a log is detected; open refuses a
//! broken log and cuts only a torn last record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ring::signature::KeyPair;
use ssa_audit::*;

mod common;

use common::signer;

/// A log of 20 entries with a checkpoint every 5; the verifier for it.
fn log(dir: &std::path::Path) -> (Vec<u8>, PublicKeyVerifier) {
    let path = dir.join("audit.log");
    let signer = signer();
    let verifier = PublicKeyVerifier {
        key_id: "audit-key-1".into(),
        public_key: signer.0.public_key().as_ref().to_vec(),
    };
    let options = AuditOptions {
        checkpoint_signer: Some(signer),
        checkpoint_every: Some(5),
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options).unwrap();
    for i in 0..20u64 {
        let digest = [i as u8; 32];
        log.append(
            Entry::new(
                Event::Signature {
                    sad_id: format!("sad-{i}"),
                    level: "B-B".into(),
                },
                "alice",
                Outcome::Success,
            )
            .credential("alice/1")
            .digests([&digest[..]]),
            1_800_000_000 + i,
        )
        .unwrap();
    }
    (std::fs::read(&path).unwrap(), verifier)
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

fn problems(bytes: &[u8], verifier: &PublicKeyVerifier) -> Vec<Problem> {
    scan(bytes, Some(verifier)).problems
}

#[test]
fn intact_log_verifies_with_its_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let report = scan(&bytes, Some(&verifier));
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 24, "20 entries and 4 checkpoints");
    assert_eq!(report.checkpoints, 4);
}

#[test]
fn edited_record() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let mut l = lines(&bytes);
    let text = String::from_utf8(l[6].clone())
        .unwrap()
        .replace("\"alice\"", "\"mallory\"");
    l[6] = text.into_bytes();
    let found = problems(&l.concat(), &verifier);
    assert!(found.contains(&Problem::Edited { seq: 6 }), "{found:?}");
}

#[test]
fn edited_record_with_its_hash_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let mut l = lines(&bytes);
    let text = String::from_utf8(l[6].clone()).unwrap();
    let (_, body) = text.trim_end().split_once(' ').unwrap();
    let body = body.replace("\"alice\"", "\"mallory\"");
    let hash: String = ring::digest::digest(&ring::digest::SHA256, body.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    l[6] = format!("{hash} {body}\n").into_bytes();
    let found = problems(&l.concat(), &verifier);
    assert!(found.contains(&Problem::BrokenLink { seq: 7 }), "{found:?}");
}

#[test]
fn deleted_record() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let mut l = lines(&bytes);
    l.remove(8);
    let found = problems(&l.concat(), &verifier);
    assert!(
        found.contains(&Problem::Deleted { from: 8, to: 9 }),
        "{found:?}"
    );
}

#[test]
fn reordered_records() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let mut l = lines(&bytes);
    l.swap(2, 3);
    let found = problems(&l.concat(), &verifier);
    assert!(
        found.iter().any(|p| matches!(p, Problem::Reordered { .. })),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|p| matches!(p, Problem::Deleted { .. })),
        "{found:?}"
    );
}

#[test]
fn truncated_record_and_truncated_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let cut = &bytes[..bytes.len() - 17];
    let found = problems(cut, &verifier);
    assert!(
        matches!(found.as_slice(), [Problem::TornRecord { .. }]),
        "{found:?}"
    );
    // Whole records cut after a checkpoint known from elsewhere.
    let report = scan(&bytes, Some(&verifier));
    let sealed_count = report.records;
    let head = report.head.clone();
    let l = lines(&bytes);
    let shorter = l[..l.len() - 3].concat();
    let found = scan_with(&shorter, Some(&verifier), Some((sealed_count, &head))).problems;
    assert!(
        found.contains(&Problem::Truncated {
            expected: sealed_count,
            found: sealed_count - 3
        }),
        "{found:?}"
    );
}

#[test]
fn a_rewritten_chain_fails_its_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    // Re-chain every record after an edit, as an insider with write access could.
    let mut prev = "0".repeat(64);
    let mut out = Vec::new();
    for (i, line) in lines(&bytes).into_iter().enumerate() {
        let text = String::from_utf8(line).unwrap();
        let (_, body) = text.trim_end().split_once(' ').unwrap();
        let mut record: serde_json::Value = serde_json::from_str(body).unwrap();
        if i == 1 {
            record["actor"] = "mallory".into();
        }
        record["prev"] = prev.clone().into();
        let body =
            serde_json::to_string(&serde_json::from_value::<Record>(record).unwrap()).unwrap();
        let hash: String = ring::digest::digest(&ring::digest::SHA256, body.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out.extend(format!("{hash} {body}\n").into_bytes());
        prev = hash;
    }
    let found = problems(&out, &verifier);
    assert!(
        found
            .iter()
            .all(|p| matches!(p, Problem::BadCheckpoint { .. }))
            && !found.is_empty(),
        "{found:?}"
    );
}

#[test]
fn open_refuses_a_broken_log_and_cuts_a_torn_one() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = log(dir.path());
    let path = dir.path().join("audit.log");
    let mut l = lines(&bytes);
    l.remove(3);
    std::fs::write(&path, l.concat()).unwrap();
    let error = AuditLog::open(&path, AuditOptions::default()).unwrap_err();
    assert!(matches!(error, AuditError::Broken { .. }), "{error:?}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        l.concat(),
        "a refused open changed the file"
    );

    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    assert_eq!(log.head().0, 23);
    log.append(
        Entry::new(Event::Unlock, "admin", Outcome::Success),
        1_800_001_000,
    )
    .unwrap();
    let report = scan(&std::fs::read(&path).unwrap(), None);
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 24);
}

#[test]
fn concurrent_durable_appends_share_fsyncs_and_keep_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let log = &log;
            s.spawn(move || {
                for i in 0..100u64 {
                    log.append(
                        Entry::new(
                            Event::Lockout,
                            format!("thread-{t}"),
                            Outcome::Failure("test".into()),
                        ),
                        i,
                    )
                    .unwrap();
                }
            });
        }
    });
    let report = scan(&std::fs::read(&path).unwrap(), None);
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!(report.records, 400);
}

#[test]
fn records_hold_only_what_the_entry_says() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = log(dir.path());
    let text = String::from_utf8(bytes).unwrap();
    let first = text.lines().next().unwrap();
    let (_, body) = first.split_once(' ').unwrap();
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "actor",
            "credential",
            "digests",
            "event",
            "outcome",
            "prev",
            "seq",
            "time"
        ]
    );
}

/// A checkpoint kept apart from the log: it holds on the intact log (at
/// the end, and earlier with records after it), and a log whose record at
/// that place is not the sealed one is found edited there.
#[test]
fn a_checkpoint_kept_apart_holds_on_the_intact_log_and_finds_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let l = lines(&bytes);
    let whole = scan(&bytes, Some(&verifier));
    let at_end = (whole.records, whole.head.clone());
    let earlier = scan(&l[..10].concat(), Some(&verifier));
    let at_ten = (earlier.records, earlier.head.clone());
    for (count, head) in [&at_end, &at_ten] {
        let report = scan_with(&bytes, Some(&verifier), Some((*count, head)));
        assert!(
            report.is_intact(),
            "sealed at {count}: {:?}",
            report.problems
        );
    }
    // Sealed at 10 with another head: record 9 is not what was sealed.
    let other = "00".repeat(32);
    let report = scan_with(&bytes, Some(&verifier), Some((10, &other)));
    assert_eq!(report.problems, [Problem::Edited { seq: 9 }]);
    // Sealed at 0 (nothing): nothing to compare.
    let report = scan_with(&bytes, Some(&verifier), Some((0, &other)));
    assert!(report.is_intact(), "{:?}", report.problems);
}

/// A record that appears twice is out of its place (and breaks the chain),
/// and two malformed lines are each named by their own line number.
#[test]
fn a_duplicated_record_and_two_malformed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, verifier) = log(dir.path());
    let mut l = lines(&bytes);
    l.insert(6, l[5].clone());
    let found = problems(&l.concat(), &verifier);
    assert!(found.contains(&Problem::Reordered { seq: 5 }), "{found:?}");
    let mut l = lines(&bytes);
    l[3] = b"not a record\n".to_vec();
    l[4] = b"nor this\n".to_vec();
    let found = problems(&l.concat(), &verifier);
    assert!(found.contains(&Problem::Malformed { line: 3 }), "{found:?}");
    assert!(found.contains(&Problem::Malformed { line: 4 }), "{found:?}");
}
