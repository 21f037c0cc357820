//! Checking a log: every record's hash, the chain, the sequence, and the
//! checkpoints.

use crate::checkpoint::{CheckpointVerifier, checkpoint_message};
use crate::record::{Event, GENESIS, Record, body_hash};

/// Something wrong with a log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A line that is not a record (in the middle of the log).
    Malformed {
        /// 0-based line number.
        line: u64,
    },
    /// A record whose hash is not the hash of its contents: edited.
    Edited {
        /// Its sequence number.
        seq: u64,
    },
    /// Records missing between two others: deleted.
    Deleted {
        /// The first missing sequence number.
        from: u64,
        /// The next sequence number present.
        to: u64,
    },
    /// A record out of its place: reordered (or duplicated).
    Reordered {
        /// Its sequence number.
        seq: u64,
    },
    /// A record that does not name the previous record's hash.
    BrokenLink {
        /// Its sequence number.
        seq: u64,
    },
    /// A checkpoint whose count, head or signature is wrong.
    BadCheckpoint {
        /// Its sequence number.
        seq: u64,
    },
    /// The last record is incomplete: the log was cut (or a write torn).
    TornRecord {
        /// Byte offset where it starts.
        offset: u64,
    },
    /// A record that does not continue the unit of records before it (a
    /// unit is written together: its records say how many follow).
    BrokenUnit {
        /// Its sequence number.
        seq: u64,
    },
    /// The log ends inside a unit: a crash cut a write short. Its records
    /// were never confirmed, and the log cuts them on its next append.
    UnfinishedUnit {
        /// The number of the unit's first record.
        seq: u64,
    },
    /// Fewer records than a checkpoint known from elsewhere sealed.
    Truncated {
        /// Records the checkpoint sealed.
        expected: u64,
        /// Records found.
        found: u64,
    },
}

/// What a scan found.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LogReport {
    /// Records read.
    pub records: u64,
    /// Hash of the last record (or the genesis value).
    pub head: String,
    /// Bytes of whole records.
    pub valid_len: u64,
    /// Checkpoints whose count, head (and signature, if a verifier was given) hold.
    pub checkpoints: u64,
    /// Records after the last checkpoint.
    pub records_since_checkpoint: u64,
    /// Time of the last checkpoint.
    pub last_checkpoint_time: Option<u64>,
    /// Everything wrong, in log order.
    pub problems: Vec<Problem>,
}

impl LogReport {
    /// Whether nothing is wrong.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether the only thing wrong is a torn tail: a torn last record or
    /// a last unit cut short, what a crash in the middle of a write leaves
    /// (never acknowledged, and cut when the log is next appended to), not
    /// tampering.
    pub fn only_a_torn_tail(&self) -> bool {
        matches!(
            self.problems.as_slice(),
            [Problem::TornRecord { .. }]
                | [Problem::UnfinishedUnit { .. }]
                | [Problem::TornRecord { .. }, Problem::UnfinishedUnit { .. }]
        )
    }
}

/// Scans a whole log. With `verifier`, checkpoint signatures are checked
/// too; with `sealed` (a checkpoint's count and head kept apart from the
/// log), truncation behind it is found.
pub fn scan_with(
    bytes: &[u8],
    verifier: Option<&dyn CheckpointVerifier>,
    sealed: Option<(u64, &str)>,
) -> LogReport {
    let start = LogReport {
        records: 0,
        head: GENESIS.to_owned(),
        valid_len: 0,
        checkpoints: 0,
        records_since_checkpoint: 0,
        last_checkpoint_time: None,
        problems: Vec::new(),
    };
    scan_from(bytes, verifier, sealed, start)
}

/// Scans `bytes` as the continuation of a log already read up to `start`
/// (its record count, head and checkpoint state): the first record must
/// be number `start.records` and chain to `start.head`. `valid_len` counts
/// the bytes of `bytes` only.
pub(crate) fn scan_from(
    bytes: &[u8],
    verifier: Option<&dyn CheckpointVerifier>,
    sealed: Option<(u64, &str)>,
    start: LogReport,
) -> LogReport {
    let first = start.records;
    let mut report = start;
    report.valid_len = 0;
    report.problems = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    let mut seqs: Vec<u64> = Vec::new();
    let mut offset = 0usize;
    let mut line_no = 0u64;
    // Records still to come in the current unit, and where it began.
    let mut unit_left = 0u32;
    let mut unit_start = first;
    while offset < bytes.len() {
        let Some(end) = bytes[offset..].iter().position(|b| *b == b'\n') else {
            report.problems.push(Problem::TornRecord {
                offset: offset as u64,
            });
            break;
        };
        let line = &bytes[offset..offset + end];
        let is_last = offset + end + 1 == bytes.len();
        let parsed = std::str::from_utf8(line).ok().and_then(|text| {
            let (hash, body) = text.split_once(' ')?;
            let record: Record = serde_json::from_str(body).ok()?;
            Some((hash.to_owned(), body, record))
        });
        let Some((hash, body, record)) = parsed else {
            report.problems.push(if is_last {
                Problem::TornRecord {
                    offset: offset as u64,
                }
            } else {
                Problem::Malformed { line: line_no }
            });
            if is_last {
                break;
            }
            offset += end + 1;
            line_no += 1;
            continue;
        };
        let expected_seq = report.records;
        if record.seq > expected_seq {
            report.problems.push(Problem::Deleted {
                from: expected_seq,
                to: record.seq,
            });
        } else if record.seq < expected_seq {
            report.problems.push(Problem::Reordered { seq: record.seq });
        }
        if body_hash(body.as_bytes()) != hash {
            report.problems.push(Problem::Edited { seq: record.seq });
        }
        if record.prev != report.head {
            report
                .problems
                .push(Problem::BrokenLink { seq: record.seq });
        }
        if unit_left > 0 && record.more != unit_left - 1 {
            report
                .problems
                .push(Problem::BrokenUnit { seq: record.seq });
        }
        if unit_left == 0 {
            unit_start = record.seq;
        }
        unit_left = record.more;
        if let Event::Checkpoint {
            count,
            head,
            key_id,
            signature,
        } = &record.entry.event
        {
            let holds = *count == record.seq
                && *head == record.prev
                && verifier.is_none_or(|v| {
                    hex_decode(signature).is_some_and(|sig| {
                        v.verify(key_id, &checkpoint_message(*count, head), &sig)
                    })
                });
            if holds {
                report.checkpoints += 1;
                report.records_since_checkpoint = 0;
                report.last_checkpoint_time = Some(record.time);
            } else {
                report
                    .problems
                    .push(Problem::BadCheckpoint { seq: record.seq });
            }
        } else {
            report.records_since_checkpoint += 1;
        }
        seqs.push(record.seq);
        hashes.push(hash.clone());
        report.head = hash;
        report.records += 1;
        offset += end + 1;
        line_no += 1;
        report.valid_len = offset as u64;
    }
    if unit_left > 0 {
        report
            .problems
            .push(Problem::UnfinishedUnit { seq: unit_start });
    }
    // A gap whose records turn up later is a reordering, not a deletion.
    let problems = std::mem::take(&mut report.problems);
    report.problems = problems
        .into_iter()
        .map(|p| match p {
            Problem::Deleted { from, to } if seqs.iter().any(|s| (from..to).contains(s)) => {
                Problem::Reordered { seq: from }
            }
            other => other,
        })
        .collect();
    if let Some((count, head)) = sealed {
        let found = report.records;
        if found < count {
            report.problems.push(Problem::Truncated {
                expected: count,
                found,
            });
        } else if count > first
            && hashes.get((count - 1 - first) as usize).map(String::as_str) != Some(head)
        {
            report.problems.push(Problem::Edited { seq: count - 1 });
        }
    }
    report
}

/// [`scan_with`] without a sealed checkpoint from elsewhere.
pub fn scan(bytes: &[u8], verifier: Option<&dyn CheckpointVerifier>) -> LogReport {
    scan_with(bytes, verifier, None)
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
