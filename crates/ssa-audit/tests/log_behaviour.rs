//! What the log does when: checkpoints by count and by time, explicit
//! checkpoints, batches, the exact bytes a checkpoint signs, and a
//! checkpoint signed by the wrong key.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ring::signature::KeyPair;
use ssa_audit::*;

mod common;

use common::{TestSigner, signer};

const T0: u64 = 1_800_000_000;

fn verifier_for(signer: &TestSigner) -> PublicKeyVerifier {
    PublicKeyVerifier {
        key_id: "audit-key-1".into(),
        public_key: signer.0.public_key().as_ref().to_vec(),
    }
}

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

/// The events of the log at `path`, in order: "e" for an entry,
/// "cp(COUNT)" for a checkpoint.
fn events(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let record: Record = serde_json::from_str(line.split_once(' ').unwrap().1).unwrap();
            match record.entry.event {
                Event::Checkpoint { count, .. } => format!("cp({count})"),
                _ => "e".to_owned(),
            }
        })
        .collect()
}

fn open(dir: &tempfile::TempDir, options: AuditOptions) -> (AuditLog, std::path::PathBuf) {
    let path = dir.path().join("audit.log");
    (AuditLog::open(&path, options).unwrap(), path)
}

#[test]
fn checkpoint_message_is_label_count_and_head() {
    let mut expected = b"ssa-audit checkpoint v1\0".to_vec();
    expected.extend([0, 0, 0, 0, 0, 0, 1, 2]);
    expected.extend(b"abc");
    assert_eq!(checkpoint_message(258, "abc"), expected);
}

#[test]
fn a_checkpoint_signed_by_another_key_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let real = signer();
    let (log, path) = open(
        &dir,
        AuditOptions {
            checkpoint_signer: Some(real.clone()),
            checkpoint_every: Some(2),
            ..AuditOptions::default()
        },
    );
    for i in 0..4 {
        log.append(entry(i), T0 + i).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let good = scan(&bytes, Some(&verifier_for(&real)));
    assert!(good.is_intact(), "{:?}", good.problems);
    assert_eq!(good.checkpoints, 2);
    let impostor = signer();
    let report = scan(&bytes, Some(&verifier_for(&impostor)));
    assert!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, Problem::BadCheckpoint { .. })),
        "{:?}",
        report.problems
    );
    let mut renamed = verifier_for(&real);
    renamed.key_id = "another-key".into();
    assert!(!scan(&bytes, Some(&renamed)).is_intact());
}

#[test]
fn a_checkpoint_every_n_records_counts_batches_too() {
    let dir = tempfile::tempdir().unwrap();
    let (log, path) = open(
        &dir,
        AuditOptions {
            checkpoint_signer: Some(signer()),
            checkpoint_every: Some(3),
            ..AuditOptions::default()
        },
    );
    log.append(entry(0), T0).unwrap();
    let receipts = log.append_all(vec![entry(1), entry(2)], T0).unwrap();
    assert_eq!(
        receipts.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    log.append(entry(3), T0).unwrap();
    // A batch is one unit: the checkpoint due inside it comes after it.
    log.append_all(vec![entry(4), entry(5), entry(6)], T0)
        .unwrap();
    assert_eq!(
        events(&path),
        ["e", "e", "e", "cp(3)", "e", "e", "e", "e", "cp(8)"]
    );
}

#[test]
fn a_checkpoint_every_t_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (log, path) = open(
        &dir,
        AuditOptions {
            checkpoint_signer: Some(signer()),
            checkpoint_interval: Some(60),
            ..AuditOptions::default()
        },
    );
    // The first record is checkpointed at once (no checkpoint yet), the
    // next only when 60 seconds have passed since that one.
    log.append(entry(0), T0).unwrap();
    log.append(entry(1), T0 + 59).unwrap();
    log.append(entry(2), T0 + 60).unwrap();
    assert_eq!(events(&path), ["e", "cp(1)", "e", "e", "cp(4)"]);
    // An empty batch writes nothing, not even a checkpoint that is due.
    assert!(log.append_all(Vec::new(), T0 + 600).unwrap().is_empty());
    assert_eq!(events(&path).len(), 5);
}

#[test]
fn an_explicit_checkpoint_seals_what_is_unsealed_once() {
    let dir = tempfile::tempdir().unwrap();
    let (log, path) = open(
        &dir,
        AuditOptions {
            checkpoint_signer: Some(signer()),
            ..AuditOptions::default()
        },
    );
    assert_eq!(log.checkpoint(T0).unwrap(), None, "nothing to seal yet");
    log.append_all(vec![entry(0), entry(1)], T0).unwrap();
    let receipt = log.checkpoint(T0).unwrap().expect("a checkpoint");
    assert_eq!(receipt.seq, 2);
    assert_eq!(log.head(), (3, receipt.hash.clone()));
    assert_eq!(log.checkpoint(T0).unwrap(), None, "sealed already");
    assert_eq!(events(&path), ["e", "e", "cp(2)"]);
    // Without a signer there are no checkpoints.
    let other = tempfile::tempdir().unwrap();
    let (plain, _) = open(&other, AuditOptions::default());
    plain.append(entry(0), T0).unwrap();
    assert_eq!(plain.checkpoint(T0).unwrap(), None);
}

#[test]
fn a_log_that_cannot_be_read_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the log should be: reading it fails, and that is
    // not the same as a log that does not exist yet.
    let error = AuditLog::open(dir.path(), AuditOptions::default()).unwrap_err();
    assert!(
        matches!(
            error,
            AuditError::Sink(ssa_store::StoreError::Io {
                what: "open audit log",
                ..
            })
        ),
        "{error:?}"
    );
}

#[test]
fn debug_output_names_the_options_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let options = AuditOptions {
        checkpoint_every: Some(7),
        ..AuditOptions::default()
    };
    assert!(format!("{options:?}").starts_with("AuditOptions { durability: Fsync"));
    let (log, path) = open(&dir, options);
    let shown = format!("{log:?}");
    assert!(shown.starts_with("AuditLog {"), "{shown}");
    assert!(shown.contains(&format!("{path:?}")), "{shown}");
    assert!(shown.contains("checkpoint_every: Some(7)"), "{shown}");
}

#[test]
fn an_explicit_checkpoint_with_nothing_unsealed_writes_nothing_even_when_one_is_due_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let (log, path) = open(
        &dir,
        AuditOptions {
            checkpoint_signer: Some(signer()),
            checkpoint_interval: Some(60),
            ..AuditOptions::default()
        },
    );
    // Due by time at once (no checkpoint yet): sealed right after.
    log.append(entry(0), T0).unwrap();
    assert_eq!(events(&path), ["e", "cp(1)"]);
    // Long after: due by time again, but nothing is unsealed.
    assert_eq!(log.checkpoint(T0 + 1_000).unwrap(), None);
    assert_eq!(events(&path), ["e", "cp(1)"]);
}

/// A sink that says others wrote more records but never gives them.
#[derive(Debug)]
struct LyingSink;

impl AuditSink for LyingSink {
    fn append(&self, at: u64, _records: &[String]) -> Result<Appended, ssa_store::StoreError> {
        Ok(Appended::Behind { count: at + 5 })
    }

    fn sync(&self) -> Result<(), ssa_store::StoreError> {
        Ok(())
    }

    fn read_from(&self, _from: u64) -> Result<Vec<String>, ssa_store::StoreError> {
        Ok(Vec::new())
    }

    fn unconfirmed_from(&self) -> Result<Option<u64>, ssa_store::StoreError> {
        Ok(None)
    }

    fn cut(&self, from: u64) -> Result<ssa_store::Cut, ssa_store::StoreError> {
        Ok(ssa_store::Cut {
            from,
            records: 0,
            bytes: Vec::new(),
            kept: None,
        })
    }
}

#[test]
fn a_sink_that_claims_records_it_never_gives_is_refused_not_retried_for_ever() {
    let log = AuditLog::over(std::sync::Arc::new(LyingSink), AuditOptions::default()).unwrap();
    let error = log.append(entry(0), T0).unwrap_err();
    assert!(
        matches!(
            error,
            AuditError::Sink(ssa_store::StoreError::Corrupt { .. })
        ),
        "{error:?}"
    );
}

/// Issue 11, item 4: a record stamped days in the future (a refused
/// request carries whatever time its caller gave) must not stop interval
/// checkpoints until the clock reaches that time.
#[test]
fn a_record_stamped_in_the_future_does_not_stop_interval_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (log, path) = open(
        &dir,
        AuditOptions {
            checkpoint_signer: Some(signer()),
            checkpoint_interval: Some(60),
            ..AuditOptions::default()
        },
    );
    log.append(entry(0), T0).unwrap();
    log.append(entry(1), T0 + 5 * 86_400).unwrap();
    assert_eq!(events(&path), ["e", "cp(1)", "e", "cp(3)"]);
    // Back at the right time: checkpoints keep coming, every 60 s.
    log.append(entry(2), T0 + 100).unwrap();
    log.append(entry(3), T0 + 130).unwrap();
    log.append(entry(4), T0 + 160).unwrap();
    assert_eq!(
        events(&path),
        ["e", "cp(1)", "e", "cp(3)", "e", "cp(5)", "e", "e", "cp(8)"]
    );
}

/// Issue 11, item 8: what a crash mid-write leaves is told apart from
/// tampering.
#[test]
fn a_torn_tail_alone_is_not_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let (log, path) = open(&dir, AuditOptions::default());
    log.append(entry(0), T0).unwrap();
    log.append(entry(1), T0).unwrap();
    let whole = std::fs::read(&path).unwrap();
    let torn = &whole[..whole.len() - 10];
    let report = scan(torn, None);
    assert!(!report.is_intact());
    assert!(report.only_a_torn_tail(), "{:?}", report.problems);
    assert_eq!(report.records, 1);
    // An edit before a torn tail is tampering.
    let mut edited = torn.to_vec();
    let at = edited.iter().position(|b| *b == b'{').unwrap() + 2;
    edited[at] ^= 1;
    assert!(!scan(&edited, None).only_a_torn_tail());
    assert!(scan(&whole, None).is_intact());
    assert!(!scan(&whole, None).only_a_torn_tail());
}
