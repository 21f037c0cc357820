//! The append-only log: one line per record, `HASH JSON\n`, where HASH is
//! the SHA-256 of the JSON bytes and the JSON names the previous HASH.

use core::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::AuditError;
use crate::checkpoint::{CheckpointSigner, checkpoint_message};
use crate::record::{Entry, Event, Outcome, Record, body_hash, hex};
use crate::verify::{Problem, scan};

/// When an appended record is on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// `append` returns once the record is fsynced (group commit: one
    /// fsync covers every record written before it began). The default.
    #[default]
    Fsync,
    /// No fsync: for tests and benchmarks only, never the default.
    NoSync,
}

/// How the log behaves.
#[derive(Clone, Default)]
pub struct AuditOptions {
    /// When a record counts as written.
    pub durability: Durability,
    /// Signs checkpoints; none are written without it.
    pub checkpoint_signer: Option<Arc<dyn CheckpointSigner>>,
    /// Write a checkpoint after this many records (default: never by count).
    pub checkpoint_every: Option<u64>,
    /// Write a checkpoint when this many seconds passed since the last one.
    pub checkpoint_interval: Option<u64>,
}

impl fmt::Debug for AuditOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditOptions")
            .field("durability", &self.durability)
            .field("checkpoint_signer", &self.checkpoint_signer)
            .field("checkpoint_every", &self.checkpoint_every)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .finish()
    }
}

/// Where a record landed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Its sequence number.
    pub seq: u64,
    /// Its hash, hex.
    pub hash: String,
}

struct State {
    next_seq: u64,
    head: String,
    len: u64,
    since_checkpoint: u64,
    last_checkpoint_time: Option<u64>,
}

/// Where the log's lines go.
enum Medium {
    /// An append-only file.
    File(File),
    /// A buffer in memory (lost with the process).
    Memory(Mutex<Vec<u8>>),
}

/// The tamper-evident audit log: in a file ([`AuditLog::open`]) or in
/// memory ([`AuditLog::in_memory`]). One writer per log: processes sharing
/// a directory each keep their own file.
pub struct AuditLog {
    path: PathBuf,
    medium: Medium,
    options: AuditOptions,
    state: Mutex<State>,
    sync: Mutex<()>,
    synced: AtomicU64,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AuditError {
    let path = path.to_path_buf();
    move |source| AuditError::Io { what, path, source }
}

impl AuditLog {
    /// Opens (creating it if needed) the log at `path`. The whole chain is
    /// verified: a torn last record (a crash mid-write) is cut off; any
    /// other damage is refused with a typed error and nothing is changed.
    pub fn open(path: impl AsRef<Path>, options: AuditOptions) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io("read audit log", &path)(e)),
        };
        let report = scan(&bytes, None);
        if let Some(problem) = report
            .problems
            .iter()
            .find(|p| !matches!(p, Problem::TornRecord { .. }))
        {
            return Err(AuditError::Broken {
                problem: problem.clone(),
            });
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io("open audit log", &path))?;
        if report.valid_len != bytes.len() as u64 {
            file.set_len(report.valid_len)
                .map_err(io("cut torn record", &path))?;
            file.sync_all().map_err(io("fsync audit log", &path))?;
        }
        Ok(Self {
            state: Mutex::new(State {
                next_seq: report.records,
                head: report.head.clone(),
                len: report.valid_len,
                since_checkpoint: report.records_since_checkpoint,
                last_checkpoint_time: report.last_checkpoint_time,
            }),
            synced: AtomicU64::new(report.valid_len),
            sync: Mutex::new(()),
            path,
            medium: Medium::File(file),
            options,
        })
    }

    /// An empty log in memory: the same records, chain and checkpoints as
    /// a file log, gone with the process. For tests, benchmarks and
    /// embedders whose sink copies [`AuditSink::export`] elsewhere.
    pub fn in_memory(options: AuditOptions) -> Self {
        Self {
            state: Mutex::new(State {
                next_seq: 0,
                head: crate::record::GENESIS.to_owned(),
                len: 0,
                since_checkpoint: 0,
                last_checkpoint_time: None,
            }),
            synced: AtomicU64::new(0),
            sync: Mutex::new(()),
            path: PathBuf::from("(memory)"),
            medium: Medium::Memory(Mutex::new(Vec::new())),
            options,
        }
    }

    /// Records written so far, and the hash of the last.
    pub fn head(&self) -> (u64, String) {
        let state = lock(&self.state);
        (state.next_seq, state.head.clone())
    }

    fn write(&self, state: &mut State, time: u64, entry: Entry) -> Result<Receipt, AuditError> {
        let record = Record {
            seq: state.next_seq,
            time,
            entry,
            prev: state.head.clone(),
        };
        let body = serde_json::to_string(&record).map_err(|e| AuditError::Encoding {
            reason: e.to_string(),
        })?;
        let hash = body_hash(body.as_bytes());
        let line = format!("{hash} {body}\n");
        match &self.medium {
            Medium::File(file) => {
                if let Err(e) = { file }.write_all(line.as_bytes()) {
                    // Leave no partial record behind for the next append to follow.
                    let _ = file.set_len(state.len);
                    return Err(io("append to audit log", &self.path)(e));
                }
            }
            Medium::Memory(buffer) => lock(buffer).extend_from_slice(line.as_bytes()),
        }
        state.len += line.len() as u64;
        state.next_seq += 1;
        state.head = hash.clone();
        Ok(Receipt {
            seq: record.seq,
            hash,
        })
    }

    /// Whether a checkpoint is due after a record was just written (so
    /// something is unsealed).
    fn checkpoint_due(&self, state: &State, time: u64) -> bool {
        if self.options.checkpoint_signer.is_none() {
            return false;
        }
        let by_count = self
            .options
            .checkpoint_every
            .is_some_and(|n| state.since_checkpoint >= n);
        let by_time = self
            .options
            .checkpoint_interval
            .is_some_and(|t| time.saturating_sub(state.last_checkpoint_time.unwrap_or(0)) >= t);
        by_count || by_time
    }

    fn write_checkpoint(
        &self,
        state: &mut State,
        time: u64,
        signer: &dyn CheckpointSigner,
    ) -> Result<Receipt, AuditError> {
        let count = state.next_seq;
        let head = state.head.clone();
        let signature = signer.sign(&checkpoint_message(count, &head))?;
        let entry = Entry::new(
            Event::Checkpoint {
                count,
                head,
                key_id: signer.key_id(),
                signature: hex(&signature),
            },
            "audit",
            Outcome::Success,
        );
        let receipt = self.write(state, time, entry)?;
        state.since_checkpoint = 0;
        state.last_checkpoint_time = Some(time);
        Ok(receipt)
    }

    /// Appends `entry` at `time` (seconds since the Unix epoch, given by the
    /// caller). With [`Durability::Fsync`] the record is on disk when this
    /// returns. A due checkpoint is written right after it.
    pub fn append(&self, entry: Entry, time: u64) -> Result<Receipt, AuditError> {
        let (receipt, end) = {
            let mut state = lock(&self.state);
            let receipt = self.write(&mut state, time, entry)?;
            state.since_checkpoint += 1;
            if self.checkpoint_due(&state, time)
                && let Some(signer) = self.options.checkpoint_signer.clone()
            {
                self.write_checkpoint(&mut state, time, signer.as_ref())?;
            }
            (receipt, state.len)
        };
        self.make_durable(end)?;
        Ok(receipt)
    }

    /// Appends several entries at `time` with one fsync for all of them
    /// (durable when this returns, with [`Durability::Fsync`]).
    /// An empty batch writes nothing.
    pub fn append_all(&self, entries: Vec<Entry>, time: u64) -> Result<Vec<Receipt>, AuditError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let (receipts, end) = {
            let mut state = lock(&self.state);
            let mut receipts = Vec::with_capacity(entries.len());
            for entry in entries {
                receipts.push(self.write(&mut state, time, entry)?);
                state.since_checkpoint += 1;
            }
            if self.checkpoint_due(&state, time)
                && let Some(signer) = self.options.checkpoint_signer.clone()
            {
                self.write_checkpoint(&mut state, time, signer.as_ref())?;
            }
            (receipts, state.len)
        };
        self.make_durable(end)?;
        Ok(receipts)
    }

    /// Writes a checkpoint now (if a signer is configured and anything is unsealed).
    pub fn checkpoint(&self, time: u64) -> Result<Option<Receipt>, AuditError> {
        let Some(signer) = self.options.checkpoint_signer.clone() else {
            return Ok(None);
        };
        let (receipt, end) = {
            let mut state = lock(&self.state);
            if state.since_checkpoint == 0 {
                return Ok(None);
            }
            (
                self.write_checkpoint(&mut state, time, signer.as_ref())?,
                state.len,
            )
        };
        self.make_durable(end)?;
        Ok(Some(receipt))
    }

    /// Group commit: one fsync at a time; whoever finds its bytes already
    /// covered by an fsync that began after they were written returns at once.
    fn make_durable(&self, end: u64) -> Result<(), AuditError> {
        let Medium::File(file) = &self.medium else {
            return Ok(());
        };
        if self.options.durability == Durability::NoSync {
            return Ok(());
        }
        let _one = lock(&self.sync);
        if self.synced.load(Ordering::Acquire) >= end {
            return Ok(());
        }
        let covered = lock(&self.state).len;
        file.sync_data()
            .map_err(io("fsync audit log", &self.path))?;
        self.synced.fetch_max(covered, Ordering::AcqRel);
        Ok(())
    }
}

/// Where audit records go: an append-only, hash-chained sequence that a
/// verifier can read back. [`AuditLog`] is the file and memory sink;
/// another crate may implement one over a database (a backend's own error
/// as [`AuditError::Backend`]) and prove it with
/// `conformance::audit_sink` (feature `conformance`).
///
/// A sink numbers records from 0 without gaps, chains each to the one
/// before (as [`crate::scan`] checks), and keeps every record that an
/// append returned for. Concurrent appends are serialized: none is lost,
/// none interleaved inside another's batch.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Appends `entries`, in order, at `time` (seconds since the Unix
    /// epoch), with any checkpoint then due; they are kept (durable, for a
    /// durable sink) when this returns. An empty batch writes nothing.
    fn append_all(&self, entries: Vec<Entry>, time: u64) -> Result<Vec<Receipt>, AuditError>;
    /// Appends one entry: [`AuditSink::append_all`] of one.
    fn append(&self, entry: Entry, time: u64) -> Result<Receipt, AuditError> {
        self.append_all(vec![entry], time)?
            .pop()
            .ok_or_else(|| AuditError::Encoding {
                reason: "an append returned no receipt".into(),
            })
    }
    /// Records written so far, and the hash of the last (the genesis hash
    /// for an empty sink).
    fn head(&self) -> Result<(u64, String), AuditError>;
    /// Writes a checkpoint now, if the sink signs them and anything is unsealed.
    fn checkpoint(&self, time: u64) -> Result<Option<Receipt>, AuditError>;
    /// The whole log in the line format [`crate::scan`] reads.
    fn export(&self) -> Result<Vec<u8>, AuditError>;
}

impl AuditSink for AuditLog {
    fn append_all(&self, entries: Vec<Entry>, time: u64) -> Result<Vec<Receipt>, AuditError> {
        AuditLog::append_all(self, entries, time)
    }

    fn append(&self, entry: Entry, time: u64) -> Result<Receipt, AuditError> {
        AuditLog::append(self, entry, time)
    }

    fn head(&self) -> Result<(u64, String), AuditError> {
        Ok(AuditLog::head(self))
    }

    fn checkpoint(&self, time: u64) -> Result<Option<Receipt>, AuditError> {
        AuditLog::checkpoint(self, time)
    }

    fn export(&self) -> Result<Vec<u8>, AuditError> {
        // Under the state lock: no append is half-way.
        let state = lock(&self.state);
        let mut bytes = match &self.medium {
            Medium::Memory(buffer) => lock(buffer).clone(),
            Medium::File(_) => {
                std::fs::read(&self.path).map_err(io("read audit log", &self.path))?
            }
        };
        bytes.truncate(usize::try_from(state.len).unwrap_or(usize::MAX));
        Ok(bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod sinks {
    use super::*;

    #[test]
    fn memory_sink_conforms() {
        crate::conformance::audit_sink(&|| {
            let sink: Arc<dyn AuditSink> = Arc::new(AuditLog::in_memory(AuditOptions::default()));
            (sink, Box::new(()))
        });
    }

    #[test]
    fn file_sink_conforms() {
        crate::conformance::audit_sink(&|| {
            let dir = tempfile::tempdir().unwrap();
            let sink: Arc<dyn AuditSink> = Arc::new(
                AuditLog::open(dir.path().join("audit.log"), AuditOptions::default()).unwrap(),
            );
            (sink, Box::new(dir))
        });
    }
}
