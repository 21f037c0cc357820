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

use crate::durable::{unique_suffix, write_atomic};
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
    /// Makes durable the first `count` records (and maybe more): what
    /// [`AuditSink::sync`] does, but a sink that knows how far it synced
    /// returns at once when an fsync that began after they were written
    /// has covered them, however much was appended since (group commit
    /// across writers that sync later than they append).
    fn sync_through(&self, count: u64) -> Result<(), StoreError> {
        let _ = count;
        self.sync()
    }
    /// The records numbered `from` on, in order.
    fn read_from(&self, from: u64) -> Result<Vec<String>, StoreError>;
    /// Whether the sink stopped: after an append or sync failed (in this
    /// process, or in one before it that left a mark), it refuses appends
    /// and syncs ([`StoreError::Stopped`]) and answers how many records
    /// are known durable; those after were never confirmed to anyone.
    /// `None`: nothing failed.
    fn unconfirmed_from(&self) -> Result<Option<u64>, StoreError>;
    /// Cuts every record numbered `from` on (and any torn bytes after the
    /// last whole record), durably, keeping what it cut apart where it can;
    /// then accepts appends again. For a log that stopped, or a unit of
    /// records a crash left unfinished.
    fn cut(&self, from: u64) -> Result<Cut, StoreError>;
}

/// What [`AuditSink::cut`] cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The number of the first record cut (the records kept).
    pub from: u64,
    /// Whole records cut.
    pub records: u64,
    /// The bytes cut (records and any torn tail), as they were.
    pub bytes: Vec<u8>,
    /// Where the sink kept them (a file beside the log), if it did.
    pub kept: Option<PathBuf>,
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

    fn unconfirmed_from(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }

    fn cut(&self, from: u64) -> Result<Cut, StoreError> {
        let mut held = lock(&self.records);
        let at = usize::try_from(from).unwrap_or(usize::MAX).min(held.len());
        let cut = held.split_off(at);
        let mut bytes = Vec::new();
        for record in &cut {
            bytes.extend_from_slice(record.as_bytes());
            bytes.push(b'\n');
        }
        Ok(Cut {
            from: at as u64,
            records: cut.len() as u64,
            bytes,
            kept: None,
        })
    }
}

/// Bytes at the start of `FILE.lock` kept for the stop mark, then as many
/// for the count of records an fsync confirmed (any writer's): written
/// when the lock file is made, so that neither needs new space on a full
/// disk.
const MARK_LEN: usize = 64;

/// Where the confirmed count sits in `FILE.lock`.
const CONFIRMED_AT: u64 = MARK_LEN as u64;

/// The stop mark in the lock file: the number of records known durable
/// when a writer stopped, if one did.
fn read_mark(lock: &File, path: &Path) -> Result<Option<u64>, StoreError> {
    use std::os::unix::fs::FileExt;
    let mut bytes = [0u8; MARK_LEN];
    let n = lock
        .read_at(&mut bytes, 0)
        .map_err(io("read audit stop mark", path))?;
    let text = std::str::from_utf8(&bytes[..n]).map_err(|_| StoreError::Corrupt {
        what: "audit stop mark",
    })?;
    match text.trim_matches(|c: char| c == ' ' || c == '\n' || c == '\0') {
        "" => Ok(None),
        mark => mark
            .strip_prefix("unconfirmed-from ")
            .and_then(|n| n.parse().ok())
            .map(Some)
            .ok_or(StoreError::Corrupt {
                what: "audit stop mark",
            }),
    }
}

/// The records an fsync of any writer confirmed, as the last one to
/// confirm more wrote it in the lock file (0 if none did).
fn read_confirmed(lock: &File, path: &Path) -> Result<u64, StoreError> {
    use std::os::unix::fs::FileExt;
    let mut bytes = [0u8; MARK_LEN];
    let n = lock
        .read_at(&mut bytes, CONFIRMED_AT)
        .map_err(io("read audit confirmed count", path))?;
    let text = std::str::from_utf8(&bytes[..n]).map_err(|_| StoreError::Corrupt {
        what: "audit confirmed count",
    })?;
    match text.trim_matches(|c: char| c == ' ' || c == '\n' || c == '\0') {
        "" => Ok(0),
        count => count
            .strip_prefix("confirmed ")
            .and_then(|n| n.parse().ok())
            .ok_or(StoreError::Corrupt {
                what: "audit confirmed count",
            }),
    }
}

/// Writes the confirmed count in place. Not fsynced: it serves the
/// writers that are running (a restart verifies the file itself).
fn write_confirmed(lock: &File, count: u64, path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::FileExt;
    let mut bytes = [b' '; MARK_LEN];
    bytes[MARK_LEN - 1] = b'\n';
    let text = format!("confirmed {count}");
    bytes[..text.len()].copy_from_slice(text.as_bytes());
    lock.write_all_at(&bytes, CONFIRMED_AT)
        .map_err(io("write audit confirmed count", path))
}

/// Writes (or clears) the stop mark in place, durably.
fn write_mark(lock: &File, mark: Option<u64>, path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::FileExt;
    let mut bytes = [b' '; MARK_LEN];
    bytes[MARK_LEN - 1] = b'\n';
    if let Some(count) = mark {
        let text = format!("unconfirmed-from {count}");
        bytes[..text.len()].copy_from_slice(text.as_bytes());
    }
    lock.write_all_at(&bytes, 0)
        .and_then(|()| lock.sync_data())
        .map_err(io("write audit stop mark", path))
}

/// Records in one append-only file, a line each, that several processes
/// may share: every append holds an exclusive lock on `FILE.lock`, first
/// counts what others appended, then writes. On open a torn last line (a
/// crash mid-write) is cut off. With [`Durability::Fsync`] appends share
/// fsyncs (group commit).
///
/// Fail-stop: once a write or an fsync failed, nothing after the last
/// fsync that succeeded can be trusted to be on disk (after a failed
/// fsync the kernel may drop the pages and report success to the next
/// one). The sink then refuses every append and sync
/// ([`StoreError::Stopped`]), and leaves a mark in `FILE.lock` (in bytes
/// kept for it, so no new space is needed) saying how many records are
/// known durable — the most any writer's fsync confirmed: each writes its
/// confirmed count there —; every writer reads the mark when it appends
/// or confirms an fsync, and stops too; a later open finds the mark and
/// stays stopped until [`AuditSink::cut`] cuts the records after it (kept
/// in `FILE.cut-N-RANDOM`).
pub struct FileAuditSink {
    path: PathBuf,
    durability: Durability,
    inner: Mutex<Inner>,
    /// One fsync at a time, and how far the file is known to be synced.
    sync: Mutex<Synced>,
    /// Records known durable (`sync.count`, readable without that lock).
    durable: AtomicU64,
    /// Why the sink stopped, and the records known durable then.
    stopped: Mutex<Option<(String, u64)>>,
    #[cfg(test)]
    fail_next_sync: std::sync::atomic::AtomicBool,
    #[cfg(test)]
    fail_next_write: std::sync::atomic::AtomicBool,
    /// fsyncs made.
    #[cfg(test)]
    fsyncs: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Synced {
    len: u64,
    count: u64,
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

/// Records (line breaks) in `bytes` up to its last line break, and the
/// length that spans.
fn whole_records(bytes: &[u8]) -> (u64, u64) {
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let count = bytes[..whole].iter().filter(|b| **b == b'\n').count();
    (whole as u64, count as u64)
}

impl FileAuditSink {
    /// Opens (creating it if needed) the sink at `path`. A stop mark left
    /// by a writer that failed makes it open stopped: see
    /// [`AuditSink::unconfirmed_from`].
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io("open audit log", &path))?;
        let lock_path = path.with_extension("lock");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(io("open lock file", &lock_path))?;
        lock_file.lock().map_err(io("lock audit log", &lock_path))?;
        let counted = (|| {
            let size = lock_file
                .metadata()
                .map_err(io("read lock file", &lock_path))?
                .len();
            if size < MARK_LEN as u64 {
                // Room for a stop mark, taken now, while there is space.
                write_mark(&lock_file, None, &lock_path)?;
            }
            if size < 2 * MARK_LEN as u64 {
                // And for the confirmed count.
                write_confirmed(&lock_file, 0, &lock_path)?;
            }
            let mark = read_mark(&lock_file, &lock_path)?;
            let mut bytes = Vec::new();
            (&file)
                .seek(SeekFrom::Start(0))
                .and_then(|_| (&file).read_to_end(&mut bytes))
                .map_err(io("read audit log", &path))?;
            let (whole, count) = whole_records(&bytes);
            if whole != bytes.len() as u64 && mark.is_none() {
                // A crash mid-write: cut the torn record, durably. (With a
                // mark, the cut waits for `cut`, which keeps what it cuts.)
                file.set_len(whole)
                    .and_then(|()| file.sync_all())
                    .map_err(io("cut torn audit record", &path))?;
            }
            Ok((whole, count, mark))
        })();
        let _ = lock_file.unlock();
        let (len, count, mark) = counted?;
        let stopped = mark.map(|from| {
            (
                "a writer stopped after a failure before this open".to_owned(),
                from,
            )
        });
        Ok(Self {
            path,
            durability,
            inner: Mutex::new(Inner {
                file,
                lock: lock_file,
                len,
                count,
            }),
            sync: Mutex::new(Synced { len, count }),
            durable: AtomicU64::new(count),
            stopped: Mutex::new(stopped),
            #[cfg(test)]
            fail_next_sync: std::sync::atomic::AtomicBool::new(false),
            #[cfg(test)]
            fail_next_write: std::sync::atomic::AtomicBool::new(false),
            #[cfg(test)]
            fsyncs: AtomicU64::new(0),
        })
    }

    /// Refuses to go on if the sink stopped.
    fn check_running(&self) -> Result<(), StoreError> {
        match &*lock(&self.stopped) {
            Some((reason, _)) => Err(StoreError::Stopped {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Stops the sink after `error`: records after `durable` were never
    /// confirmed. The mark goes into the lock file (holding its lock): the
    /// lowest any writer left stands. Returns `error`.
    fn stop(&self, inner: &Inner, durable: u64, error: StoreError) -> StoreError {
        let mut stopped = lock(&self.stopped);
        if stopped.is_none() {
            let lock_path = self.path.with_extension("lock");
            // Another writer's fsync may have confirmed more than this one
            // knows; an earlier mark stands.
            let durable = read_confirmed(&inner.lock, &lock_path)
                .unwrap_or(0)
                .max(durable);
            let from = match read_mark(&inner.lock, &lock_path) {
                Ok(Some(mark)) => mark.min(durable),
                Ok(None) | Err(_) => durable,
            };
            // Without the mark, this process still refuses to go on; a
            // restart would not know what to cut (docs/operations.md).
            let _ = write_mark(&inner.lock, Some(from), &lock_path);
            *stopped = Some((error.to_string(), from));
        }
        error
    }

    /// Stops this writer if another one left a stop mark (holding the
    /// lock): nothing after the mark may be confirmed, by anyone.
    fn check_mark(&self, inner: &Inner) -> Result<(), StoreError> {
        let lock_path = self.path.with_extension("lock");
        let Some(from) = read_mark(&inner.lock, &lock_path)? else {
            return Ok(());
        };
        let reason = "another writer stopped the audit log after a failure".to_owned();
        let mut stopped = lock(&self.stopped);
        if stopped.is_none() {
            *stopped = Some((reason.clone(), from));
        }
        Err(StoreError::Stopped { reason })
    }

    /// Counts the records other processes appended since `inner.len`.
    fn catch_up(&self, inner: &mut Inner) -> Result<(), StoreError> {
        let size = inner
            .file
            .metadata()
            .map_err(io("read audit log", &self.path))?
            .len();
        if size < inner.len {
            // Another writer cut records this one counted: it recovered
            // from a failure this one has not seen. Go no further.
            return Err(StoreError::Stopped {
                reason: "the audit log was cut by another writer".to_owned(),
            });
        }
        if size == inner.len {
            // Nobody appended since: no seek and read for an empty tail.
            return Ok(());
        }
        let mut tail = Vec::new();
        (&inner.file)
            .seek(SeekFrom::Start(inner.len))
            .and_then(|_| (&inner.file).read_to_end(&mut tail))
            .map_err(io("read audit log", &self.path))?;
        let (whole, count) = whole_records(&tail);
        inner.len += whole;
        inner.count += count;
        Ok(())
    }

    /// Group commit: whoever finds its records (the first `end`) covered
    /// by an fsync that began after they were written returns at once.
    fn make_durable(&self, end: u64) -> Result<(), StoreError> {
        if self.durability == Durability::NoSync {
            return self.check_running();
        }
        let mut synced = lock(&self.sync);
        // A stopped sink confirms nothing, not even what an earlier fsync
        // covered: the caller's record may be after the failure.
        self.check_running()?;
        if synced.count >= end {
            return Ok(());
        }
        let (file, covered) = {
            let inner = lock(&self.inner);
            (
                inner
                    .file
                    .try_clone()
                    .map_err(io("fsync audit log", &self.path))?,
                Synced {
                    len: inner.len,
                    count: inner.count,
                },
            )
        };
        #[cfg(test)]
        let fault = self
            .fail_next_sync
            .swap(false, std::sync::atomic::Ordering::SeqCst);
        #[cfg(not(test))]
        let fault = false;
        let result = if fault {
            Err(std::io::Error::other("injected fsync failure"))
        } else {
            #[cfg(test)]
            self.fsyncs.fetch_add(1, Ordering::SeqCst);
            file.sync_data()
        };
        match result {
            Ok(()) => {
                // Confirmed only if no writer stopped meanwhile; then the
                // count is there for a writer that stops later.
                let inner = lock(&self.inner);
                let lock_path = self.path.with_extension("lock");
                inner
                    .lock
                    .lock()
                    .map_err(io("lock audit log", &self.path))?;
                let published = self.check_mark(&inner).and_then(|()| {
                    let confirmed = read_confirmed(&inner.lock, &lock_path)?;
                    if covered.count > confirmed {
                        write_confirmed(&inner.lock, covered.count, &lock_path)?;
                    }
                    Ok(())
                });
                let _ = inner.lock.unlock();
                drop(inner);
                published?;
                if covered.len > synced.len {
                    *synced = covered;
                    self.durable.store(covered.count, Ordering::Release);
                }
                Ok(())
            }
            Err(e) => {
                let error = io("fsync audit log", &self.path)(e);
                let inner = lock(&self.inner);
                let durable = synced.count;
                let _ = inner.lock.lock();
                let error = self.stop(&inner, durable, error);
                let _ = inner.lock.unlock();
                drop(inner);
                Err(error)
            }
        }
    }
}

impl AuditSink for FileAuditSink {
    fn append(&self, at: u64, records: &[String]) -> Result<Appended, StoreError> {
        check(records)?;
        let mut inner = lock(&self.inner);
        self.check_running()?;
        inner
            .lock
            .lock()
            .map_err(io("lock audit log", &self.path))?;
        let written = (|| -> Result<Appended, StoreError> {
            self.check_mark(&inner)?;
            self.catch_up(&mut inner)?;
            if inner.count != at {
                return Ok(Appended::Behind { count: inner.count });
            }
            let mut bytes = Vec::new();
            for record in records {
                bytes.extend_from_slice(record.as_bytes());
                bytes.push(b'\n');
            }
            #[cfg(test)]
            let written = if self.fail_next_write.swap(false, Ordering::SeqCst) {
                // A full disk: half the bytes land, then ENOSPC.
                (&inner.file)
                    .write_all(&bytes[..bytes.len() / 2])
                    .and_then(|()| Err(std::io::Error::from_raw_os_error(28)))
            } else {
                (&inner.file).write_all(&bytes)
            };
            #[cfg(not(test))]
            let written = (&inner.file).write_all(&bytes);
            if let Err(e) = written {
                // Leave no partial record for the next append to follow;
                // whether the cut reached the disk is not known: stop.
                let _ = inner.file.set_len(inner.len);
                let error = io("append to audit log", &self.path)(e);
                let durable = self.durable_count(&inner);
                return Err(self.stop(&inner, durable, error));
            }
            inner.len += bytes.len() as u64;
            inner.count += records.len() as u64;
            Ok(Appended::Done)
        })();
        let _ = inner.lock.unlock();
        written
    }

    fn sync(&self) -> Result<(), StoreError> {
        let end = lock(&self.inner).count;
        self.make_durable(end)
    }

    fn sync_through(&self, count: u64) -> Result<(), StoreError> {
        self.make_durable(count)
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

    fn unconfirmed_from(&self) -> Result<Option<u64>, StoreError> {
        Ok(lock(&self.stopped).as_ref().map(|(_, from)| *from))
    }

    fn cut(&self, from: u64) -> Result<Cut, StoreError> {
        let mut synced = lock(&self.sync);
        let mut inner = lock(&self.inner);
        inner
            .lock
            .lock()
            .map_err(io("lock audit log", &self.path))?;
        let lock_path = self.path.with_extension("lock");
        let done = (|| -> Result<Cut, StoreError> {
            let mut bytes = Vec::new();
            (&inner.file)
                .seek(SeekFrom::Start(0))
                .and_then(|_| (&inner.file).read_to_end(&mut bytes))
                .map_err(io("read audit log", &self.path))?;
            // Where record `from` starts (or the end of the whole records).
            let mut at = 0usize;
            let mut kept = 0u64;
            while kept < from {
                match bytes[at..].iter().position(|b| *b == b'\n') {
                    Some(end) => {
                        at += end + 1;
                        kept += 1;
                    }
                    None => break,
                }
            }
            let tail = bytes.split_off(at);
            let (_, records) = whole_records(&tail);
            let side = if tail.is_empty() {
                None
            } else {
                let name = self
                    .path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("audit");
                let side = self
                    .path
                    .with_file_name(format!("{name}.cut-{kept}-{}", unique_suffix()?));
                write_atomic(&side, &tail)?;
                Some(side)
            };
            inner
                .file
                .set_len(at as u64)
                .and_then(|()| inner.file.sync_all())
                .map_err(io("cut audit log", &self.path))?;
            // What is left is durable; nothing after it was confirmed.
            write_confirmed(&inner.lock, kept, &lock_path)?;
            write_mark(&inner.lock, None, &lock_path)?;
            inner.len = at as u64;
            inner.count = kept;
            Ok(Cut {
                from: kept,
                records,
                bytes: tail,
                kept: side,
            })
        })();
        let _ = inner.lock.unlock();
        let cut = done?;
        *synced = Synced {
            len: inner.len,
            count: inner.count,
        };
        self.durable.store(inner.count, Ordering::Release);
        *lock(&self.stopped) = None;
        Ok(cut)
    }
}

impl FileAuditSink {
    /// Records known durable: the last fsync's, or every record counted
    /// when nothing is fsynced ([`Durability::NoSync`]).
    fn durable_count(&self, inner: &Inner) -> u64 {
        match self.durability {
            Durability::Fsync => self.durable.load(Ordering::Acquire),
            Durability::NoSync => inner.count,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn lines(n: std::ops::Range<u32>) -> Vec<String> {
        n.map(|i| format!("record {i}")).collect()
    }

    /// Group commit across writers that sync after they append: one fsync
    /// covers every unit written before it began; a unit it covered syncs
    /// for free, however much was appended since; a unit after it does not.
    #[test]
    fn one_fsync_covers_every_unit_written_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let sink = FileAuditSink::open(dir.path().join("audit.log"), Durability::Fsync).unwrap();
        for at in 0..3u32 {
            assert_eq!(
                sink.append(u64::from(at) * 2, &lines(at * 2..at * 2 + 2))
                    .unwrap(),
                Appended::Done
            );
        }
        sink.sync_through(2).unwrap();
        assert_eq!(sink.fsyncs.load(Ordering::SeqCst), 1);
        sink.sync_through(4).unwrap();
        sink.sync_through(6).unwrap();
        assert_eq!(sink.fsyncs.load(Ordering::SeqCst), 1);
        assert_eq!(sink.append(6, &lines(6..7)).unwrap(), Appended::Done);
        sink.sync_through(6).unwrap();
        assert_eq!(sink.fsyncs.load(Ordering::SeqCst), 1);
        sink.sync_through(7).unwrap();
        assert_eq!(sink.fsyncs.load(Ordering::SeqCst), 2);
        // `sync` makes durable everything appended before it.
        assert_eq!(sink.append(7, &lines(7..8)).unwrap(), Appended::Done);
        sink.sync().unwrap();
        assert_eq!(sink.fsyncs.load(Ordering::SeqCst), 3);
        assert_eq!(sink.durable.load(Ordering::SeqCst), 8);
    }

    /// After a failed fsync nothing is confirmed again until the records
    /// after the last good fsync are cut, in this process or the next:
    /// the mark in the lock file carries the stop over a restart.
    #[test]
    fn a_failed_fsync_stops_the_sink_until_what_followed_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        // The room for the mark and the confirmed count is taken at open,
        // while there is space.
        let lock_len = std::fs::metadata(path.with_extension("lock"))
            .unwrap()
            .len();
        assert_eq!(lock_len, 2 * MARK_LEN as u64);
        assert_eq!(sink.append(0, &lines(0..2)).unwrap(), Appended::Done);
        sink.sync().unwrap();
        assert_eq!(sink.append(2, &lines(2..4)).unwrap(), Appended::Done);
        sink.fail_next_sync.store(true, Ordering::SeqCst);
        assert!(matches!(sink.sync(), Err(StoreError::Io { .. })));
        // Stopped: a second fsync would report success for lost pages.
        assert!(matches!(sink.sync(), Err(StoreError::Stopped { .. })));
        assert!(matches!(
            sink.append(4, &lines(4..5)),
            Err(StoreError::Stopped { .. })
        ));
        assert_eq!(sink.unconfirmed_from().unwrap(), Some(2));
        drop(sink);
        // A write torn after the stop: kept for the cut, not cut at open.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"torn").unwrap();
        drop(file);
        // A restart: still stopped, still knowing where.
        let sink = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        assert_eq!(sink.unconfirmed_from().unwrap(), Some(2));
        assert!(matches!(
            sink.append(4, &lines(4..5)),
            Err(StoreError::Stopped { .. })
        ));
        let cut = sink.cut(2).unwrap();
        assert_eq!((cut.from, cut.records), (2, 2));
        let kept = cut.kept.unwrap();
        assert_eq!(std::fs::read(&kept).unwrap(), b"record 2\nrecord 3\ntorn");
        assert_eq!(sink.read_from(0).unwrap(), lines(0..2));
        assert_eq!(sink.append(2, &lines(2..3)).unwrap(), Appended::Done);
        sink.sync().unwrap();
        drop(sink);
        let sink = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        assert_eq!(sink.unconfirmed_from().unwrap(), None);
        assert_eq!(sink.read_from(0).unwrap(), lines(0..3));
    }

    /// Another writer opening the file leaves the confirmed count as it
    /// was: a stop after that still marks from what was confirmed.
    #[test]
    fn the_confirmed_count_outlives_another_writer_opening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let first = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        // Opened before the records: it knows none of them durable itself.
        let second = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        assert_eq!(first.append(0, &lines(0..6)).unwrap(), Appended::Done);
        first.sync().unwrap();
        // A third writer opens after the fsync.
        drop(FileAuditSink::open(&path, Durability::Fsync).unwrap());
        second.fail_next_write.store(true, Ordering::SeqCst);
        assert!(second.append(6, &lines(6..7)).is_err());
        assert_eq!(second.unconfirmed_from().unwrap(), Some(6));
    }

    /// The confirmed count follows a cut: a stop after it marks from what
    /// the cut kept, not from a count the cut took back.
    #[test]
    fn a_cut_takes_back_the_confirmed_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        assert_eq!(sink.append(0, &lines(0..6)).unwrap(), Appended::Done);
        sink.sync().unwrap();
        // As `AuditLog` cuts a unit it finds unfinished.
        let cut = sink.cut(4).unwrap();
        assert_eq!((cut.from, cut.records), (4, 2));
        assert_eq!(sink.append(4, &lines(4..5)).unwrap(), Appended::Done);
        sink.fail_next_write.store(true, Ordering::SeqCst);
        assert!(sink.append(5, &lines(5..6)).is_err());
        assert_eq!(sink.unconfirmed_from().unwrap(), Some(4));
        let reopened = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        assert_eq!(reopened.unconfirmed_from().unwrap(), Some(4));
    }

    /// A write that fails halfway (a full disk) leaves no partial record
    /// and stops the sink: the records of the last good fsync are known.
    #[test]
    fn a_failed_write_stops_the_sink_and_leaves_no_partial_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        assert_eq!(sink.append(0, &lines(0..3)).unwrap(), Appended::Done);
        sink.sync().unwrap();
        sink.fail_next_write.store(true, Ordering::SeqCst);
        assert!(matches!(
            sink.append(3, &lines(3..5)),
            Err(StoreError::Io { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap().len() as u64, {
            let whole: usize = lines(0..3).iter().map(|l| l.len() + 1).sum();
            whole as u64
        });
        assert!(matches!(sink.sync(), Err(StoreError::Stopped { .. })));
        assert_eq!(sink.unconfirmed_from().unwrap(), Some(3));
        let cut = sink.cut(3).unwrap();
        assert_eq!(cut.records, 0);
        assert_eq!(sink.append(3, &lines(3..4)).unwrap(), Appended::Done);
        sink.sync().unwrap();
    }

    /// Records appended through another handle after a cut was made are
    /// refused there, not written at numbers the cut took away.
    #[test]
    fn a_handle_whose_records_were_cut_goes_no_further() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let one = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        let two = FileAuditSink::open(&path, Durability::Fsync).unwrap();
        assert_eq!(one.append(0, &lines(0..3)).unwrap(), Appended::Done);
        assert_eq!(two.read_from(0).unwrap().len(), 3);
        one.cut(1).unwrap();
        assert!(matches!(
            two.append(3, &lines(3..4)),
            Err(StoreError::Stopped { .. })
        ));
    }
}
