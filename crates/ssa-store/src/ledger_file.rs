//! A durable ledger that several processes can share: an append-only
//! journal, replayed on open and caught up under a file lock before every
//! operation.
//!
//! One line per event, `JSON \t checksum \n`: a reservation, a release, or
//! a commit (fsynced before `commit` returns). Every operation holds an
//! exclusive lock on `JOURNAL.lock`, first reads what other processes
//! appended, then decides, so two processes never both spend the same use
//! of a SAD. A reservation left by a process that died stays reserved until
//! the SAD expires (failing closed).
//!
//! On open, a torn last line (a crash mid-append: bytes without their line
//! break) is cut off; a damaged whole line, the last one too, is refused,
//! since silently dropping a commit would let a SAD be replayed.
//!
//! Entries of SADs that expired before a time the caller gives are compacted away (the journal is replaced atomically;
//! other processes notice the new file and replay it). A compacted journal
//! starts with horizon records, the times the SADs compacted away were
//! valid at; every reader refuses SADs valid at those times, and what is
//! refused never shrinks.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use base64ct::{Base64UrlUnpadded, Encoding};

use crate::durable::{hex, lock_file, unique_suffix, write_atomic};
use crate::error::{StoreError, io};
use crate::ledger::{
    ConsumptionLedger, Forgotten, LedgerError, LedgerState, Reservation, Taken, UseRequest,
};
use crate::lock;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Op {
    /// Uses spent for good (the reservation `rid`, if named, ends with it).
    #[default]
    Commit,
    /// Uses held while a signature is made.
    Reserve,
    /// A reservation given back.
    Release,
    /// SADs valid at a time from `iat` to before `exp` were compacted
    /// away: refuse every SAD valid then. Written first in a compacted
    /// journal (one per span), so every process that reads it, and every
    /// later open, keeps refusing what it no longer tracks.
    Horizon,
}

#[derive(Serialize, Deserialize)]
struct Record {
    jti: String,
    num: u32,
    /// The SAD's `iat` (0 in journals older than it: refuses more, never less).
    #[serde(default, skip_serializing_if = "is_zero")]
    iat: u64,
    exp: u64,
    /// When a reservation was made (the caller's clock).
    #[serde(default, skip_serializing_if = "is_zero")]
    at: u64,
    /// Digests (base64url); empty strings for unbound uses.
    uses: Vec<String>,
    #[serde(default)]
    op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rid: Option<String>,
}

/// The durable, file-backed, multi-process ledger.
#[derive(Debug)]
pub struct FileLedger {
    path: PathBuf,
    inner: Mutex<Inner>,
    /// The next journal write fails (as on a full disk).
    #[cfg(test)]
    fail_next_write: std::sync::atomic::AtomicBool,
    /// fsyncs of the journal made.
    #[cfg(test)]
    fsyncs: std::sync::atomic::AtomicU64,
    /// The next batch of spends is written, then its fsync fails.
    #[cfg(test)]
    fail_next_sync: std::sync::atomic::AtomicBool,
}

#[derive(Debug)]
struct Inner {
    state: LedgerState,
    journal: File,
    lock: File,
    /// Bytes of the journal read and applied so far.
    len: u64,
    /// The journal file's identity, to notice a compaction by another process.
    inode: u64,
    prefix: String,
}

/// A short checksum of a journal line (the first 8 bytes of SHA-256, hex).
fn checksum(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    hex(&digest.as_ref()[..8])
}

fn b64_encode(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn line(record: &Record) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_string(record).map_err(|_| StoreError::Corrupt {
        what: "ledger record",
    })?;
    Ok(format!("{json}\t{}\n", checksum(json.as_bytes())).into_bytes())
}

fn parse_line(text: &str) -> Option<Record> {
    let (json, sum) = text.split_once('\t')?;
    if checksum(json.as_bytes()) != sum {
        return None;
    }
    serde_json::from_str(json).ok()
}

fn decode_uses(record: &Record) -> Result<Vec<Vec<u8>>, StoreError> {
    record
        .uses
        .iter()
        .map(|u| {
            if u.is_empty() {
                Ok(Vec::new())
            } else {
                Base64UrlUnpadded::decode_vec(u)
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| StoreError::Corrupt {
            what: "ledger journal",
        })
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// What a reserve or commit record holds.
fn taken(record: &Record) -> Result<Taken, StoreError> {
    Ok(Taken {
        num: record.num,
        iat: record.iat,
        exp: record.exp,
        at: record.at,
        digests: decode_uses(record)?,
    })
}

/// The record of an operation on `reservation`, which held `taken`.
fn record_of(op: Op, reservation: &Reservation, taken: &Taken, uses: bool) -> Record {
    Record {
        jti: reservation.jti().to_owned(),
        num: taken.num,
        iat: taken.iat,
        exp: taken.exp,
        at: taken.at,
        uses: if uses {
            taken.digests.iter().map(|d| b64_encode(d)).collect()
        } else {
            Vec::new()
        },
        op,
        rid: Some(reservation.id().to_owned()),
    }
}

#[cfg(test)]
impl Record {
    /// The same record with another `exp` (to write what no code writes).
    fn clone_with_exp(&self, exp: u64) -> Self {
        Self {
            jti: self.jti.clone(),
            uses: self.uses.clone(),
            rid: self.rid.clone(),
            exp,
            ..*self
        }
    }
}

/// A horizon record: SADs valid at a time in `from..=to` are refused.
fn horizon(from: u64, to: u64) -> Record {
    Record {
        jti: String::new(),
        num: 0,
        iat: from,
        exp: to.saturating_add(1),
        at: 0,
        uses: Vec::new(),
        op: Op::Horizon,
        rid: None,
    }
}

fn apply(state: &mut LedgerState, record: &Record) -> Result<(), StoreError> {
    let rid = record.rid.as_deref().unwrap_or_default();
    match record.op {
        Op::Reserve => state.apply_reserve(&record.jti, rid, taken(record)?),
        Op::Release => state.apply_release(&record.jti, rid),
        Op::Horizon => {
            if record.exp > 0 {
                state.forget_span(record.iat, record.exp - 1);
            }
        }
        Op::Commit => {
            if record.rid.is_some() {
                state.apply_release(&record.jti, rid);
            }
            state.apply_commit(&record.jti, taken(record)?);
        }
    }
    Ok(())
}

/// Whole records in `bytes`: the records and the length they span. A
/// whole line that does not parse, or fails its checksum, is an error; bytes
/// after the last line break (torn, or still being written by another
/// process) are left out.
fn records(bytes: &[u8]) -> Result<(Vec<Record>, usize), StoreError> {
    let mut out = Vec::new();
    let mut good = 0;
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(end) = rest.iter().position(|b| *b == b'\n') else {
            break; // torn, or still being written by another process
        };
        match std::str::from_utf8(&rest[..end]).ok().and_then(parse_line) {
            Some(record) => out.push(record),
            None => {
                return Err(StoreError::Corrupt {
                    what: "ledger journal",
                });
            }
        }
        good += end + 1;
        rest = &rest[end + 1..];
    }
    Ok((out, good))
}

#[cfg(unix)]
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| m.ino()).unwrap_or(0)
}

#[cfg(not(unix))]
fn inode(_path: &Path) -> u64 {
    0
}

fn process_prefix() -> Result<String, StoreError> {
    Ok(format!("{}-{}-", std::process::id(), unique_suffix()?))
}

impl FileLedger {
    /// Opens (creating it if needed) the journal at `path`, replays it, and
    /// drops the entries of SADs that expired before `drop_expired_before`
    /// (seconds since the Unix epoch: pass the current time less the SAM's
    /// clock skew).
    pub fn open(path: impl AsRef<Path>, drop_expired_before: u64) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock_path = path.with_extension("lock");
        let lock_file = lock_file(&lock_path)?;
        lock_file.lock().map_err(io("lock ledger", &lock_path))?;
        Self::load(&path, drop_expired_before, lock_file)
    }

    fn load(path: &Path, drop_expired_before: u64, lock_file: File) -> Result<Self, StoreError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                let _ = lock_file.unlock();
                return Err(io("read ledger", path)(e));
            }
        };
        let loaded = (|| -> Result<_, StoreError> {
            let (all, _) = records(&bytes)?;
            // SADs that expired before the cut are forgotten; the times
            // they were valid are refused from then on, never less.
            let cut = drop_expired_before;
            let mut forgotten = Forgotten::default();
            for record in &all {
                if record.op == Op::Horizon {
                    if record.exp > 0 {
                        forgotten.add(record.iat, record.exp - 1);
                    }
                } else if record.exp < cut {
                    forgotten.add(record.iat, record.exp);
                }
            }
            let markers: Vec<Record> = forgotten
                .spans()
                .iter()
                .map(|&(from, to)| horizon(from, to))
                .collect();
            let live: Vec<Record> = markers
                .into_iter()
                .chain(
                    all.into_iter()
                        .filter(|r| r.op != Op::Horizon && r.exp >= cut),
                )
                .collect();
            let mut kept = Vec::new();
            let prefix = process_prefix()?;
            let mut state = LedgerState::with_prefix(prefix.clone());
            for record in &live {
                apply(&mut state, record)?;
                kept.extend(line(record)?);
            }
            if kept != bytes {
                // Something was cut or compacted: replace the journal whole.
                write_atomic(path, &kept)?;
            }
            let journal = OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .open(path)
                .map_err(io("open ledger", path))?;
            Ok((state, journal, kept.len() as u64, prefix))
        })();
        let _ = lock_file.unlock();
        let (state, journal, len, prefix) = loaded?;
        Ok(Self {
            path: path.to_path_buf(),
            inner: Mutex::new(Inner {
                state,
                journal,
                lock: lock_file,
                len,
                inode: inode(path),
                prefix,
            }),
            #[cfg(test)]
            fail_next_write: std::sync::atomic::AtomicBool::new(false),
            #[cfg(test)]
            fsyncs: std::sync::atomic::AtomicU64::new(0),
            #[cfg(test)]
            fail_next_sync: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Runs `operation` under the cross-process lock, after applying what
    /// other processes appended since the last operation.
    fn locked<T>(
        &self,
        operation: impl FnOnce(&mut Inner) -> Result<T, LedgerError>,
    ) -> Result<T, LedgerError> {
        let mut inner = lock(&self.inner);
        inner.lock.lock().map_err(io("lock ledger", &self.path))?;
        let result = self
            .catch_up(&mut inner)
            .and_then(|()| operation(&mut inner));
        let _ = inner.lock.unlock();
        result
    }

    fn catch_up(&self, inner: &mut Inner) -> Result<(), LedgerError> {
        let current = inode(&self.path);
        if current != inner.inode {
            // Another process compacted the journal: start again from it.
            inner.journal = OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .open(&self.path)
                .map_err(io("reopen ledger", &self.path))?;
            inner.state = LedgerState::with_prefix(inner.prefix.clone());
            inner.len = 0;
            inner.inode = current;
        }
        let mut tail = Vec::new();
        inner
            .journal
            .seek(SeekFrom::Start(inner.len))
            .and_then(|_| inner.journal.read_to_end(&mut tail))
            .map_err(io("read ledger", &self.path))?;
        let (new, good) = records(&tail)?;
        for record in &new {
            apply(&mut inner.state, record)?;
        }
        inner.len += good as u64;
        Ok(())
    }

    /// Appends `bytes` (whole records), fsynced if `sync`. On failure
    /// what was written is cut off, so later appends stay whole.
    fn write(&self, inner: &mut Inner, bytes: &[u8], sync: bool) -> Result<(), LedgerError> {
        #[cfg(test)]
        if self
            .fail_next_write
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(
                io("append to ledger", &self.path)(std::io::Error::from_raw_os_error(28)).into(),
            );
        }
        let written = inner.journal.write_all(bytes).and_then(|()| {
            if !sync {
                return Ok(());
            }
            #[cfg(test)]
            {
                self.fsyncs
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if self
                    .fail_next_sync
                    .swap(false, std::sync::atomic::Ordering::SeqCst)
                {
                    return Err(std::io::Error::other("injected fsync failure"));
                }
            }
            inner.journal.sync_data()
        });
        match written.map_err(io("append to ledger", &self.path)) {
            Ok(()) => {
                inner.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = inner.journal.set_len(inner.len);
                Err(e.into())
            }
        }
    }

    fn append(&self, inner: &mut Inner, record: &Record, sync: bool) -> Result<(), LedgerError> {
        self.write(inner, &line(record)?, sync)
    }
}

impl ConsumptionLedger for FileLedger {
    fn reserve(&self, request: &UseRequest<'_>) -> Result<Reservation, LedgerError> {
        self.locked(|inner| {
            let reservation = inner.state.reserve(request)?;
            let record = Record {
                jti: request.jti.to_owned(),
                num: request.num,
                iat: request.iat,
                exp: request.exp,
                at: request.now,
                uses: request
                    .digests
                    .iter()
                    .map(|d| {
                        if request.bound {
                            b64_encode(d)
                        } else {
                            String::new()
                        }
                    })
                    .collect(),
                op: Op::Reserve,
                rid: Some(reservation.id().to_owned()),
            };
            if let Err(e) = self.append(inner, &record, false) {
                let _ = inner.state.take(&reservation);
                return Err(e);
            }
            Ok(reservation)
        })
    }

    fn commit(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        self.commit_all(&[reservation])
            .pop()
            .unwrap_or(Err(LedgerError::UnknownReservation))
    }

    /// The spends written one after the other under one lock, then one
    /// fsync for all. If a write or the fsync fails, every spend of the
    /// call is cut from the journal and put back (as one failed `commit`
    /// is) and each answers the error.
    fn commit_all(&self, reservations: &[&Reservation]) -> Vec<Result<(), LedgerError>> {
        let mut answers: Vec<Result<(), LedgerError>> = Vec::with_capacity(reservations.len());
        let outcome = self.locked(|inner| {
            let mut taken = Vec::with_capacity(reservations.len());
            let mut bytes = Vec::new();
            for reservation in reservations {
                match inner.state.take(reservation) {
                    Ok(held) => {
                        match line(&record_of(Op::Commit, reservation, &held, true)) {
                            Ok(line) => bytes.extend_from_slice(&line),
                            Err(e) => {
                                inner.state.put_back(reservation, held);
                                answers.push(Err(e.into()));
                                continue;
                            }
                        }
                        taken.push((*reservation, held));
                        answers.push(Ok(()));
                    }
                    Err(e) => answers.push(Err(e)),
                }
            }
            if taken.is_empty() {
                return Ok(());
            }
            match self.write(inner, &bytes, true) {
                Ok(()) => {
                    for (reservation, held) in taken {
                        inner.state.apply_commit(reservation.jti(), held);
                    }
                    Ok(())
                }
                Err(e) => {
                    for (reservation, held) in taken {
                        inner.state.put_back(reservation, held);
                    }
                    Err(e)
                }
            }
        });
        if let Err(error) = outcome {
            // The first spend the batch would have made gets the error
            // itself; the others, its message.
            let reason = error.to_string();
            let mut error = Some(error);
            for answer in answers.iter_mut().filter(|a| a.is_ok()) {
                *answer = Err(error.take().unwrap_or_else(|| {
                    LedgerError::Store(StoreError::Io {
                        what: "commit to ledger",
                        path: self.path.clone(),
                        source: std::io::Error::other(reason.clone()),
                    })
                }));
            }
        }
        answers
    }

    fn release(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        self.locked(|inner| {
            let taken = inner.state.take(reservation)?;
            let record = record_of(Op::Release, reservation, &taken, false);
            self.append(inner, &record, false)
        })
    }

    fn release_stale(&self, reserved_before: u64) -> Result<Vec<Reservation>, LedgerError> {
        self.locked(|inner| {
            let stale = inner.state.stale(reserved_before);
            for reservation in &stale {
                let taken = inner.state.take(reservation)?;
                let record = record_of(Op::Release, reservation, &taken, false);
                // Durable: the administrator is told these are free.
                if let Err(e) = self.append(inner, &record, true) {
                    inner.state.put_back(reservation, taken);
                    return Err(e);
                }
            }
            Ok(stale)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    fn request(digests: &[Vec<u8>]) -> UseRequest<'_> {
        UseRequest {
            jti: "sad",
            num: 1,
            iat: 1_000,
            exp: 1_300,
            now: 1_000,
            forget_before: 0,
            digests,
            bound: true,
        }
    }

    /// A commit the journal could not take leaves the reservation held,
    /// so that giving it back is written: after a restart the SAD is free,
    /// not reserved until it expires.
    #[test]
    fn a_commit_that_cannot_be_written_can_be_given_back_durably() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        let digests = vec![vec![1u8; 32]];
        let ledger = FileLedger::open(&path, 0).unwrap();
        let reservation = ledger.reserve(&request(&digests)).unwrap();
        ledger.fail_next_write.store(true, Ordering::SeqCst);
        assert!(matches!(
            ledger.commit(&reservation),
            Err(LedgerError::Store(StoreError::Io { .. }))
        ));
        ledger.release(&reservation).unwrap();
        drop(ledger);
        let ledger = FileLedger::open(&path, 0).unwrap();
        let again = ledger.reserve(&request(&digests)).unwrap();
        ledger.commit(&again).unwrap();
    }

    fn sad(jti: &'static str, digests: &'static [Vec<u8>]) -> UseRequest<'static> {
        UseRequest {
            jti,
            ..request(digests)
        }
    }

    /// Spends of several SADs take one fsync together; a batch the journal
    /// cannot take puts every spend back (each can then be given back or
    /// spent again), and the journal keeps none of it.
    #[test]
    fn spends_committed_together_take_one_fsync_and_fail_together() {
        static DIGESTS: std::sync::LazyLock<Vec<Vec<Vec<u8>>>> =
            std::sync::LazyLock::new(|| (0u8..4).map(|i| vec![vec![i; 32]]).collect());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        let ledger = FileLedger::open(&path, 0).unwrap();
        let held: Vec<Reservation> = ["a", "b", "c"]
            .iter()
            .zip(DIGESTS.iter())
            .map(|(jti, digests)| ledger.reserve(&sad(jti, digests)).unwrap())
            .collect();
        let refs: Vec<&Reservation> = held.iter().collect();
        let before = ledger.fsyncs.load(Ordering::SeqCst);
        assert!(ledger.commit_all(&refs).iter().all(Result::is_ok));
        assert_eq!(ledger.fsyncs.load(Ordering::SeqCst), before + 1);
        // Spent for good, also for a handle opened after.
        let other = FileLedger::open(&path, 0).unwrap();
        for (jti, digests) in ["a", "b", "c"].iter().zip(DIGESTS.iter()) {
            assert!(
                other.reserve(&sad(jti, digests)).is_err(),
                "{jti} spent twice"
            );
        }
        // A batch that cannot be written: every spend put back, none kept.
        let d = ledger.reserve(&sad("d", &DIGESTS[3])).unwrap();
        let again = ledger.reserve(&sad("a", &DIGESTS[0]));
        assert!(again.is_err());
        let len = std::fs::metadata(&path).unwrap().len();
        ledger.fail_next_write.store(true, Ordering::SeqCst);
        let answers = ledger.commit_all(&[&d]);
        assert!(
            matches!(answers[..], [Err(LedgerError::Store(_))]),
            "{answers:?}"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        // Written, then its fsync fails: cut from the journal, put back.
        ledger.fail_next_sync.store(true, Ordering::SeqCst);
        let answers = ledger.commit_all(&[&d]);
        assert!(
            matches!(answers[..], [Err(LedgerError::Store(_))]),
            "{answers:?}"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        ledger.commit(&d).unwrap();
    }

    /// A reservation learnt from another handle's record keeps the SAD's
    /// `iat`: what is forgotten of it later is its own time, no more.
    #[test]
    fn a_replayed_reservation_keeps_the_sads_times() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        let digests = vec![vec![2u8; 32]];
        let one = FileLedger::open(&path, 0).unwrap();
        let two = FileLedger::open(&path, 0).unwrap();
        let held = one.reserve(&request(&digests)).unwrap();
        // The other handle learns of it, then the commit.
        assert!(two.reserve(&request(&digests)).is_err());
        one.commit(&held).unwrap();
        assert!(two.reserve(&request(&digests)).is_err());
        let inner = two.inner.lock().unwrap();
        let known = inner
            .state
            .spent
            .get("sad")
            .copied()
            .or_else(|| inner.state.entries.get("sad").map(|e| (e.iat, e.exp)));
        assert_eq!(known, Some((1_000, 1_300)));
    }

    /// A journal from before reservations were written (a commit with no
    /// reservation before it) and a horizon record that forgets nothing:
    /// replayed as they say, and the SAD keeps its `num`, `iat` and `exp`.
    #[test]
    fn an_old_commit_alone_and_an_empty_horizon_replay_as_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.journal");
        let mut bytes = line(&horizon(0, 0).clone_with_exp(0)).unwrap();
        bytes.extend(
            line(&Record {
                jti: "sad".into(),
                num: 2,
                iat: 1_000,
                exp: 1_300,
                at: 0,
                uses: vec![b64_encode(&[3u8; 32])],
                op: Op::Commit,
                rid: None,
            })
            .unwrap(),
        );
        std::fs::write(&path, &bytes).unwrap();
        let ledger = FileLedger::open(&path, 0).unwrap();
        {
            let inner = ledger.inner.lock().unwrap();
            let entry = &inner.state.entries["sad"];
            assert_eq!((entry.num, entry.iat, entry.exp), (2, 1_000, 1_300));
            assert!(inner.state.forgotten.spans().is_empty());
        }
        let two = vec![vec![4u8; 32], vec![5u8; 32]];
        assert!(matches!(
            ledger.reserve(&UseRequest {
                num: 9,
                ..request(&two)
            }),
            Err(LedgerError::CountExceeded { left: 1, .. })
        ));
    }
}
