//! Where the signing log's records live. The chain (hashes, checkpoints,
//! what a record says) is `ssa-audit`'s; a sink keeps the records in order,
//! durably, and lets several writers (threads, processes, nodes) extend one
//! sequence: an append names the number its first record gets, and a sink
//! that holds more records than that refuses it, so the writer catches up
//! and chains again.

use core::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::durable::lock_file;
use crate::error::{StoreError, io};
use crate::lock;

/// When an appended record is on disk (for a sink that has a disk).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// `append` returns once the records are fsynced (group commit: one
    /// fsync covers every record written before it began). The default.
    #[default]
    Fsync,
    /// No fsync: for tests and benchmarks only, never the default.
    NoSync,
}

/// What [`AuditSink::append`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum Appended {
    /// The records were appended (durable once [`AuditSink::sync`] returns).
    Done,
    /// Nothing was written: the sink holds `count` records, not the number
    /// the append named. Read the new ones, chain again, retry.
    Behind {
        /// Records the sink holds.
        count: u64,
    },
}

/// Where audit records live: an append-only sequence numbered from 0, each
/// record one line of text without its line break.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Appends `records` as numbers `at`, `at + 1`, … if the sink holds
    /// exactly `at` records; otherwise writes nothing and answers
    /// [`Appended::Behind`]. All of them or none. A record holding a line
    /// break is refused ([`StoreError::InvalidValue`]).
    fn append(&self, at: u64, records: &[String]) -> Result<Appended, StoreError>;
    /// Makes durable every record appended before this call (a sink whose
    /// appends are durable already does nothing). Callers append under
    /// their own lock and sync after it, so one sync may cover many.
    fn sync(&self) -> Result<(), StoreError>;
    /// The records numbered `from` on, in order.
    fn read_from(&self, from: u64) -> Result<Vec<String>, StoreError>;
}

fn check(records: &[String]) -> Result<(), StoreError> {
    if records.iter().any(|r| r.contains('\n')) {
        return Err(StoreError::InvalidValue {
            reason: "an audit record holds a line break",
        });
    }
    Ok(())
}

/// Records in memory: lost when the process ends; one process only.
#[derive(Debug, Default)]
pub struct MemoryAuditSink {
    records: Mutex<Vec<String>>,
}

impl MemoryAuditSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }
}

impl AuditSink for MemoryAuditSink {
    fn append(&self, at: u64, records: &[String]) -> Result<Appended, StoreError> {
        check(records)?;
        let mut held = lock(&self.records);
        let count = held.len() as u64;
        if count != at {
            return Ok(Appended::Behind { count });
        }
        held.extend_from_slice(records);
        Ok(Appended::Done)
    }

    fn sync(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn read_from(&self, from: u64) -> Result<Vec<String>, StoreError> {
        let held = lock(&self.records);
        let from = usize::try_from(from).unwrap_or(usize::MAX).min(held.len());
        Ok(held[from..].to_vec())
    }
}

/// Records in one append-only file, a line each, that several processes
/// may share: every append holds an exclusive lock on `FILE.lock`, first
/// counts what others appended, then writes. On open a torn last line (a
/// crash mid-write) is cut off. With [`Durability::Fsync`] appends share
/// fsyncs (group commit).
pub struct FileAuditSink {
    path: PathBuf,
    durability: Durability,
    inner: Mutex<Inner>,
    /// One fsync at a time, and how far the file is known to be synced.
    sync: Mutex<()>,
    synced: AtomicU64,
}

struct Inner {
    file: File,
    lock: File,
    /// Bytes of whole records counted so far, and how many records.
    len: u64,
    count: u64,
}

impl fmt::Debug for FileAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileAuditSink")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

impl FileAuditSink {
    /// Opens (creating it if needed) the sink at `path`.
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io("open audit log", &path))?;
        let lock_path = path.with_extension("lock");
        let lock_file = lock_file(&lock_path)?;
        lock_file.lock().map_err(io("lock audit log", &lock_path))?;
        let counted = (|| {
            let mut bytes = Vec::new();
            (&file)
                .seek(SeekFrom::Start(0))
                .and_then(|_| (&file).read_to_end(&mut bytes))
                .map_err(io("read audit log", &path))?;
            let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            if whole != bytes.len() {
                // A crash mid-write: cut the torn record, durably.
                file.set_len(whole as u64)
                    .and_then(|()| file.sync_all())
                    .map_err(io("cut torn audit record", &path))?;
            }
            let count = bytes[..whole].iter().filter(|b| **b == b'\n').count() as u64;
            Ok((whole as u64, count))
        })();
        let _ = lock_file.unlock();
        let (len, count) = counted?;
        Ok(Self {
            path,
            durability,
            inner: Mutex::new(Inner {
                file,
                lock: lock_file,
                len,
                count,
            }),
            sync: Mutex::new(()),
            synced: AtomicU64::new(len),
        })
    }

    /// Counts the records other processes appended since `inner.len`.
    fn catch_up(&self, inner: &mut Inner) -> Result<(), StoreError> {
        let mut tail = Vec::new();
        (&inner.file)
            .seek(SeekFrom::Start(inner.len))
            .and_then(|_| (&inner.file).read_to_end(&mut tail))
            .map_err(io("read audit log", &self.path))?;
        let whole = tail.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        inner.len += whole as u64;
        inner.count += tail[..whole].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(())
    }

    /// Group commit: whoever finds its bytes (up to `end`) covered by an
    /// fsync that began after they were written returns at once.
    fn make_durable(&self, end: u64) -> Result<(), StoreError> {
        if self.durability == Durability::NoSync {
            return Ok(());
        }
        let _one = lock(&self.sync);
        if self.synced.load(Ordering::Acquire) >= end {
            return Ok(());
        }
        let (file, covered) = {
            let inner = lock(&self.inner);
            (
                inner
                    .file
                    .try_clone()
                    .map_err(io("fsync audit log", &self.path))?,
                inner.len,
            )
        };
        file.sync_data()
            .map_err(io("fsync audit log", &self.path))?;
        self.synced.fetch_max(covered, Ordering::AcqRel);
        Ok(())
    }
}

impl AuditSink for FileAuditSink {
    fn append(&self, at: u64, records: &[String]) -> Result<Appended, StoreError> {
        check(records)?;
        let mut inner = lock(&self.inner);
        inner
            .lock
            .lock()
            .map_err(io("lock audit log", &self.path))?;
        let written = (|| -> Result<Appended, StoreError> {
            self.catch_up(&mut inner)?;
            if inner.count != at {
                return Ok(Appended::Behind { count: inner.count });
            }
            let mut bytes = Vec::new();
            for record in records {
                bytes.extend_from_slice(record.as_bytes());
                bytes.push(b'\n');
            }
            if let Err(e) = (&inner.file).write_all(&bytes) {
                // Leave no partial record for the next append to follow.
                let _ = inner.file.set_len(inner.len);
                return Err(io("append to audit log", &self.path)(e));
            }
            inner.len += bytes.len() as u64;
            inner.count += records.len() as u64;
            Ok(Appended::Done)
        })();
        let _ = inner.lock.unlock();
        written
    }

    fn sync(&self) -> Result<(), StoreError> {
        let end = lock(&self.inner).len;
        self.make_durable(end)
    }

    fn read_from(&self, from: u64) -> Result<Vec<String>, StoreError> {
        let mut inner = lock(&self.inner);
        inner
            .lock
            .lock()
            .map_err(io("lock audit log", &self.path))?;
        let read = (|| {
            self.catch_up(&mut inner)?;
            let mut bytes = Vec::new();
            (&inner.file)
                .seek(SeekFrom::Start(0))
                .and_then(|_| (&inner.file).take(inner.len).read_to_end(&mut bytes))
                .map_err(io("read audit log", &self.path))?;
            let text =
                String::from_utf8(bytes).map_err(|_| StoreError::Corrupt { what: "audit log" })?;
            Ok(text
                .split_terminator('\n')
                .skip(usize::try_from(from).unwrap_or(usize::MAX))
                .map(str::to_owned)
                .collect())
        })();
        let _ = inner.lock.unlock();
        read
    }
}
