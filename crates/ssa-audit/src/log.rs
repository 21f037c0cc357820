//! The append-only log: one record per line, `HASH JSON`, where HASH is
//! the SHA-256 of the JSON bytes and the JSON names the previous HASH. The
//! lines live in an [`AuditSink`] (a trait of `ssa-store`: a file, memory,
//! or another crate's database); this module chains them.

use core::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ssa_store::{Appended, AuditSink, FileAuditSink, MemoryAuditSink};

use crate::AuditError;
use crate::checkpoint::{CheckpointSigner, checkpoint_message};
use crate::record::{Entry, Event, GENESIS, Outcome, Record, body_hash, hex};
use crate::verify::{LogReport, Problem, scan_from};

pub use ssa_store::Durability;

/// How the log behaves.
#[derive(Clone, Default)]
pub struct AuditOptions {
    /// When a record counts as written (for a file: fsynced or not).
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

/// Records written to the sink that are not yet known durable: what
/// [`AuditLog::append_all_unsynced`] wrote, until [`AuditLog::sync_unit`]
/// confirms it. Nothing may be confirmed to anyone on the strength of it
/// before then.
#[derive(Debug)]
#[must_use = "records are durable only once `AuditLog::sync_unit` returns"]
pub struct Unsynced {
    receipts: Vec<Receipt>,
    /// Records in the log through these (the sink's count to make durable).
    through: u64,
    /// The log's recoveries when they were written: a recovery since may
    /// have cut them.
    recoveries: u64,
}

impl Unsynced {
    /// Where each record landed.
    pub fn receipts(&self) -> &[Receipt] {
        &self.receipts
    }
}

/// What one write chained and appended.
struct Written {
    /// The entries' receipts, in order.
    receipts: Vec<Receipt>,
    /// The last checkpoint written, if any.
    sealed: Option<Receipt>,
    /// Records in the log through the written ones.
    through: u64,
    /// Lines written (entries and checkpoints).
    lines: usize,
    /// The log's recoveries when it wrote.
    recoveries: u64,
}

/// What this writer knows of the chain: the next number, the head, and
/// the checkpoint state.
#[derive(Clone)]
struct State {
    next_seq: u64,
    head: String,
    since_checkpoint: u64,
    last_checkpoint_time: Option<u64>,
}

impl State {
    fn genesis() -> Self {
        Self {
            next_seq: 0,
            head: GENESIS.to_owned(),
            since_checkpoint: 0,
            last_checkpoint_time: None,
        }
    }
}

/// Whether the log may append.
#[derive(Clone, Debug)]
enum Health {
    /// It may.
    Running,
    /// A write or sync failed: nothing more until [`AuditLog::recover`]
    /// (or a reopen).
    Stopped { reason: String },
    /// Opened after a failure or a crash: the next append first cuts the
    /// records never confirmed (from `from`, or from where the sink says)
    /// and records the cut.
    Recovering { from: Option<u64>, reason: String },
}

/// The tamper-evident audit log over a sink. Several logs (threads,
/// processes, nodes) may write to one sink: an append that finds records
/// it has not seen reads and verifies them, chains after them, and tries
/// again.
///
/// Fail-stop: once an append or a sync of the sink failed, the log refuses
/// every append ([`AuditError::Stopped`]) until [`AuditLog::recover`] (or
/// a new log over the sink) cuts the records never confirmed durable and
/// says so in a [`Event::Recovered`] record: no record, and so no
/// signature, is ever confirmed on top of records that may be lost.
pub struct AuditLog {
    sink: Arc<dyn AuditSink>,
    options: AuditOptions,
    state: Mutex<State>,
    health: Mutex<Health>,
    /// Times the log recovered (cut records after a failure).
    recoveries: AtomicU64,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("sink", &self.sink)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl AuditLog {
    /// Opens (creating it if needed) the log in the file at `path`
    /// ([`FileAuditSink`]: processes may share it). The whole chain is
    /// verified: a torn last record (a crash mid-write) is cut off; any
    /// other damage is refused with a typed error and nothing is changed.
    pub fn open(path: impl AsRef<Path>, options: AuditOptions) -> Result<Self, AuditError> {
        let sink = FileAuditSink::open(path, options.durability)?;
        Self::over(Arc::new(sink), options)
    }

    /// An empty log in memory ([`MemoryAuditSink`]): the same records,
    /// chain and checkpoints, gone with the process.
    pub fn in_memory(options: AuditOptions) -> Self {
        Self {
            sink: Arc::new(MemoryAuditSink::new()),
            options,
            state: Mutex::new(State::genesis()),
            health: Mutex::new(Health::Running),
            recoveries: AtomicU64::new(0),
        }
    }

    /// The log in `sink`, whose records are read and verified first. What
    /// a failure or a crash left — records after a stop mark of the sink
    /// ([`AuditSink::unconfirmed_from`]), or a last unit of records cut
    /// short — is cut by the first append, which records the cut first
    /// ([`Event::Recovered`], at that append's time). Any other damage is
    /// refused ([`AuditError::Broken`]) and nothing is changed.
    pub fn over(sink: Arc<dyn AuditSink>, options: AuditOptions) -> Result<Self, AuditError> {
        let mut state = State::genesis();
        let records = sink.read_from(0)?;
        let health = match sink.unconfirmed_from()? {
            Some(from) => {
                // What follows the mark is cut unread: only what was
                // durable must hold.
                let kept = usize::try_from(from).unwrap_or(usize::MAX);
                let unit = verify_into(&records[..kept.min(records.len())], &mut state, true)?;
                Health::Recovering {
                    from: unit,
                    reason: "the audit sink stopped after a failed write or fsync".to_owned(),
                }
            }
            None => match verify_into(&records, &mut state, true)? {
                Some(unit) => Health::Recovering {
                    from: Some(unit),
                    reason: "a crash left a unit of records unfinished".to_owned(),
                },
                None => Health::Running,
            },
        };
        Ok(Self {
            sink,
            options,
            state: Mutex::new(state),
            health: Mutex::new(health),
            recoveries: AtomicU64::new(0),
        })
    }

    /// After a failure stopped the log ([`AuditError::Stopped`]): cuts the
    /// records the sink never confirmed durable, verifies what is left,
    /// and appends an [`Event::Recovered`] record at `time` saying what was
    /// cut; from then on the log appends again. `None` if the log was
    /// running (nothing done).
    pub fn recover(&self, time: u64) -> Result<Option<Receipt>, AuditError> {
        let mut state = lock(&self.state);
        {
            let mut health = lock(&self.health);
            match &*health {
                Health::Running => return Ok(None),
                Health::Stopped { reason } => {
                    let reason = reason.clone();
                    *health = Health::Recovering { from: None, reason };
                }
                Health::Recovering { .. } => {}
            }
        }
        self.ready(&mut state, time).map(Some)
    }

    /// Refuses while stopped; when recovering, cuts and records the cut
    /// (the receipt of the [`Event::Recovered`] record).
    fn ready(&self, state: &mut State, time: u64) -> Result<Receipt, AuditError> {
        let (from, reason) = match lock(&self.health).clone() {
            Health::Running => {
                return Ok(Receipt {
                    seq: state.next_seq,
                    hash: state.head.clone(),
                });
            }
            Health::Stopped { reason } => return Err(AuditError::Stopped { reason }),
            Health::Recovering { from, reason } => (from, reason),
        };
        let recovered = (|| {
            let from = match self.sink.unconfirmed_from()? {
                Some(marked) => Some(from.map_or(marked, |f| f.min(marked))),
                None => from,
            };
            let cut = match from {
                Some(from) => Some(self.sink.cut(from)?),
                None => None,
            };
            // What is left is verified again from the start.
            let mut fresh = State::genesis();
            verify_into(&self.sink.read_from(0)?, &mut fresh, false)?;
            let cut = cut.unwrap_or(ssa_store::Cut {
                from: fresh.next_seq,
                records: 0,
                bytes: Vec::new(),
                kept: None,
            });
            let entry = Entry::new(
                Event::Recovered {
                    from: cut.from,
                    cut: cut.records,
                    cut_sha256: body_hash(&cut.bytes),
                    kept: cut.kept.map(|p| p.display().to_string()),
                    reason,
                },
                "audit",
                Outcome::Success,
            );
            let (line, receipt) = chain(&mut fresh, time, entry, 0)?;
            fresh.since_checkpoint += 1;
            match self.sink.append(fresh.next_seq - 1, &[line])? {
                Appended::Done => {}
                Appended::Behind { .. } => {
                    return Err(AuditError::Sink(ssa_store::StoreError::Stopped {
                        reason: "another writer appended during recovery".to_owned(),
                    }));
                }
            }
            self.sink.sync()?;
            Ok((fresh, receipt))
        })();
        match recovered {
            Ok((fresh, receipt)) => {
                *state = fresh;
                self.recoveries.fetch_add(1, Ordering::SeqCst);
                *lock(&self.health) = Health::Running;
                Ok(receipt)
            }
            Err(error) => {
                if matches!(error, AuditError::Sink(_)) {
                    *lock(&self.health) = Health::Stopped {
                        reason: error.to_string(),
                    };
                }
                Err(error)
            }
        }
    }

    /// Stops the log after a failure of the sink; returns the error.
    fn stop(&self, error: AuditError) -> AuditError {
        let mut health = lock(&self.health);
        if matches!(*health, Health::Running) {
            *health = Health::Stopped {
                reason: error.to_string(),
            };
        }
        error
    }

    /// Whether the log stopped after a failure, and why.
    pub fn stopped(&self) -> Option<String> {
        match &*lock(&self.health) {
            Health::Stopped { reason } => Some(reason.clone()),
            Health::Running | Health::Recovering { .. } => None,
        }
    }

    /// The records of the log, in the line format [`crate::scan`] reads.
    pub fn export(&self) -> Result<Vec<u8>, AuditError> {
        let mut bytes = Vec::new();
        for record in self.sink.read_from(0)? {
            bytes.extend_from_slice(record.as_bytes());
            bytes.push(b'\n');
        }
        Ok(bytes)
    }

    /// Records written so far (as this writer last saw them), and the hash
    /// of the last.
    pub fn head(&self) -> (u64, String) {
        let state = lock(&self.state);
        (state.next_seq, state.head.clone())
    }

    /// Appends `entry` at `time` (seconds since the Unix epoch, given by the
    /// caller). With [`Durability::Fsync`] the record is on disk when this
    /// returns. A due checkpoint is written right after it.
    pub fn append(&self, entry: Entry, time: u64) -> Result<Receipt, AuditError> {
        self.append_all(vec![entry], time)?
            .pop()
            .ok_or_else(|| AuditError::Encoding {
                reason: "an append returned no receipt".into(),
            })
    }

    /// Appends several entries at `time`, in order and together (no other
    /// writer's record comes between them), with one sync for all (durable
    /// when this returns, with [`Durability::Fsync`]). An empty batch
    /// writes nothing.
    pub fn append_all(&self, entries: Vec<Entry>, time: u64) -> Result<Vec<Receipt>, AuditError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let unsynced = self.append_all_unsynced(entries, time)?;
        self.sync_unit(&unsynced)?;
        Ok(unsynced.receipts)
    }

    /// [`AuditLog::append_all`] without waiting for the disk: the entries
    /// are chained and written as one unit, and are durable once
    /// [`AuditLog::sync_unit`] returns for them. Many writers' units can
    /// then share one fsync (group commit across requests). An empty
    /// batch writes nothing.
    pub fn append_all_unsynced(
        &self,
        entries: Vec<Entry>,
        time: u64,
    ) -> Result<Unsynced, AuditError> {
        self.append_units_unsynced(&[(entries.as_slice(), time)])
    }

    /// Several units, each its entries and their time, chained in order
    /// and written to the sink with one append (no other writer's record
    /// comes between them): one lock of the sink and one write for all,
    /// where [`AuditLog::append_all_unsynced`] takes one each. Each unit
    /// stays a unit of the log (a crash keeps or cuts it whole); a due
    /// checkpoint follows the unit after which it fell due. Durable once
    /// [`AuditLog::sync_unit`] returns for the answer. Units without
    /// entries write nothing.
    pub fn append_units_unsynced(&self, units: &[(&[Entry], u64)]) -> Result<Unsynced, AuditError> {
        let Some(&(_, time)) = units.first() else {
            return Ok(Unsynced {
                receipts: Vec::new(),
                through: 0,
                recoveries: 0,
            });
        };
        let written = self.write_counted(time, units, false)?;
        Ok(Unsynced {
            through: if written.lines == 0 {
                0
            } else {
                written.through
            },
            receipts: written.receipts,
            recoveries: written.recoveries,
        })
    }

    /// Waits until the records of `unsynced` are durable (with
    /// [`Durability::Fsync`]; one fsync covers every record written
    /// before it began). Refused if the log stopped, or recovered since
    /// they were written and cut them (a recovery keeps what an fsync
    /// had confirmed).
    pub fn sync_unit(&self, unsynced: &Unsynced) -> Result<(), AuditError> {
        if unsynced.through == 0 {
            return Ok(());
        }
        if let Health::Stopped { reason } = &*lock(&self.health) {
            return Err(AuditError::Stopped {
                reason: reason.clone(),
            });
        }
        self.sink
            .sync_through(unsynced.through)
            .map_err(|e| self.stop(e.into()))?;
        if self.recoveries.load(Ordering::SeqCst) != unsynced.recoveries && !self.kept(unsynced)? {
            return Err(AuditError::Stopped {
                reason: "the log recovered after these records were written and cut them"
                    .to_owned(),
            });
        }
        Ok(())
    }

    /// Whether the records of `unsynced` are still in the sink, each at
    /// its number with its hash: a recovery keeps what an fsync confirmed
    /// before the failure and cuts only what followed.
    fn kept(&self, unsynced: &Unsynced) -> Result<bool, AuditError> {
        let Some(first) = unsynced.receipts.first() else {
            return Ok(true);
        };
        let lines = self.sink.read_from(first.seq)?;
        Ok(unsynced.receipts.iter().all(|receipt| {
            receipt
                .seq
                .checked_sub(first.seq)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| lines.get(i))
                .and_then(|line| line.split_once(' '))
                .is_some_and(|(hash, _)| hash == receipt.hash)
        }))
    }

    /// Writes a checkpoint now (if a signer is configured and anything is unsealed).
    pub fn checkpoint(&self, time: u64) -> Result<Option<Receipt>, AuditError> {
        if self.options.checkpoint_signer.is_none() {
            return Ok(None);
        }
        let written = self.write_counted(time, &[(&[], time)], true)?;
        self.sink.sync().map_err(|e| self.stop(e.into()))?;
        Ok(written.sealed)
    }

    /// Chains the units (each its entries and their time; after each, a
    /// checkpoint if one is due, or `force`d after the last if anything is
    /// unsealed) after the head and appends them with one append; if
    /// another writer got there first, catches up and chains again. `time`
    /// stamps the record of a recovery this write makes first. Also
    /// returns the log's recoveries when it wrote (read under the chain's
    /// lock, after any recovery this write made: a later one may cut what
    /// it wrote).
    fn write_counted(
        &self,
        time: u64,
        units: &[(&[Entry], u64)],
        force: bool,
    ) -> Result<Written, AuditError> {
        let mut state = lock(&self.state);
        self.ready(&mut state, time)?;
        let recoveries = self.recoveries.load(Ordering::SeqCst);
        let records: usize = units.iter().map(|(entries, _)| entries.len()).sum();
        loop {
            let mut next = state.clone();
            let mut lines = Vec::with_capacity(records + 1);
            let mut receipts = Vec::with_capacity(records);
            let mut sealed = None;
            for (i, &(entries, time)) in units.iter().enumerate() {
                // One unit: each record says how many of it follow.
                let mut more = entries.len();
                for entry in entries {
                    more -= 1;
                    let (line, receipt) = chain(
                        &mut next,
                        time,
                        entry.clone(),
                        u32::try_from(more).unwrap_or(u32::MAX),
                    )?;
                    next.since_checkpoint += 1;
                    lines.push(line);
                    receipts.push(receipt);
                }
                let forced = force && i + 1 == units.len() && next.since_checkpoint > 0;
                if (forced || self.checkpoint_due(&next, time))
                    && let Some(signer) = &self.options.checkpoint_signer
                {
                    let (line, receipt) = checkpoint(&mut next, time, signer.as_ref())?;
                    lines.push(line);
                    sealed = Some(receipt);
                }
            }
            let written = |state: &State| Written {
                receipts,
                sealed,
                through: state.next_seq,
                lines: lines.len(),
                recoveries,
            };
            if lines.is_empty() {
                return Ok(written(&state));
            }
            let appended = self
                .sink
                .append(state.next_seq, &lines)
                .map_err(|e| self.stop(e.into()))?;
            match appended {
                Appended::Done => {
                    *state = next;
                    return Ok(written(&state));
                }
                Appended::Behind { count } => {
                    let before = state.next_seq;
                    catch_up(&*self.sink, &mut state)?;
                    // A sink that says it is ahead but gives nothing new
                    // would keep this loop going: refuse it.
                    if count <= before || state.next_seq == before {
                        return Err(AuditError::Sink(ssa_store::StoreError::Corrupt {
                            what: "audit sink record count",
                        }));
                    }
                }
            }
        }
    }

    /// Whether a checkpoint is due after records were just chained (so
    /// something is unsealed).
    fn checkpoint_due(&self, state: &State, time: u64) -> bool {
        if self.options.checkpoint_signer.is_none() || state.since_checkpoint == 0 {
            return false;
        }
        let by_count = self
            .options
            .checkpoint_every
            .is_some_and(|n| state.since_checkpoint >= n);
        let by_time = self
            .options
            .checkpoint_interval
            // Distance either way: a record stamped in the future (a
            // refused request carries the caller's time) must not stop
            // checkpoints until the clock catches up with it.
            .is_some_and(|t| time.abs_diff(state.last_checkpoint_time.unwrap_or(0)) >= t);
        by_count || by_time
    }
}

/// One record after the head: its line and receipt; the head moves.
fn chain(
    state: &mut State,
    time: u64,
    entry: Entry,
    more: u32,
) -> Result<(String, Receipt), AuditError> {
    let record = Record {
        seq: state.next_seq,
        time,
        entry,
        prev: state.head.clone(),
        more,
    };
    let body = serde_json::to_string(&record).map_err(|e| AuditError::Encoding {
        reason: e.to_string(),
    })?;
    let hash = body_hash(body.as_bytes());
    state.next_seq += 1;
    state.head = hash.clone();
    Ok((
        format!("{hash} {body}"),
        Receipt {
            seq: record.seq,
            hash,
        },
    ))
}

/// A checkpoint over every record before it.
fn checkpoint(
    state: &mut State,
    time: u64,
    signer: &dyn CheckpointSigner,
) -> Result<(String, Receipt), AuditError> {
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
    let out = chain(state, time, entry, 0)?;
    state.since_checkpoint = 0;
    state.last_checkpoint_time = Some(time);
    Ok(out)
}

/// Reads the records after `state` from the sink and verifies that they
/// continue the chain; any break is [`AuditError::Broken`] and `state`
/// stays as it was.
fn catch_up(sink: &dyn AuditSink, state: &mut State) -> Result<(), AuditError> {
    let records = sink.read_from(state.next_seq)?;
    verify_into(&records, state, false).map(|_| ())
}

/// Verifies that `records` continue the chain after `state` and moves
/// `state` past them. A last unit cut short is allowed only if
/// `unfinished_ok`: then `state` ends before it and its first number is
/// returned. Anything else wrong is [`AuditError::Broken`] and `state`
/// stays as it was.
fn verify_into(
    records: &[String],
    state: &mut State,
    unfinished_ok: bool,
) -> Result<Option<u64>, AuditError> {
    if records.is_empty() {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    for record in records {
        bytes.extend_from_slice(record.as_bytes());
        bytes.push(b'\n');
    }
    let start = LogReport {
        records: state.next_seq,
        head: state.head.clone(),
        valid_len: 0,
        checkpoints: 0,
        records_since_checkpoint: state.since_checkpoint,
        last_checkpoint_time: state.last_checkpoint_time,
        problems: Vec::new(),
    };
    let report = scan_from(&bytes, None, None, start.clone());
    match report.problems.as_slice() {
        [] => {
            *state = State {
                next_seq: report.records,
                head: report.head,
                since_checkpoint: report.records_since_checkpoint,
                last_checkpoint_time: report.last_checkpoint_time,
            };
            Ok(None)
        }
        [Problem::UnfinishedUnit { seq }] if unfinished_ok && *seq >= state.next_seq => {
            let unit = *seq;
            let keep = usize::try_from(unit - state.next_seq).unwrap_or(usize::MAX);
            verify_into(&records[..keep.min(records.len())], state, false)?;
            Ok(Some(unit))
        }
        [problem, ..] => Err(AuditError::Broken {
            problem: problem.clone(),
        }),
    }
}
