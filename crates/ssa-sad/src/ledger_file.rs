//! A durable ledger: an append-only journal of commits, fsynced before a
//! commit returns, replayed on open.
//!
//! One line per commit: `JSON \t checksum \n`. On open, a torn or damaged
//! *last* line (a crash mid-append) is cut off; damage anywhere else is
//! refused, since silently dropping a commit would let a SAD be replayed.
//! Entries of SADs that expired before a time the caller gives are
//! compacted away (the journal is rewritten atomically).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::durable::{checksum, io, write_atomic};
use crate::encoding::{b64_decode, b64_encode};
use crate::error::{SadError, TokenPart};
use crate::ledger::{ConsumptionLedger, LedgerState, Reservation, UseRequest, lock};
use crate::time::UnixTime;

#[derive(Serialize, Deserialize)]
struct Record {
    jti: String,
    num: u32,
    exp: u64,
    /// Digests committed (base64url); empty strings for unbound uses.
    uses: Vec<String>,
}

/// The durable, file-backed ledger.
#[derive(Debug)]
pub struct FileLedger {
    path: PathBuf,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: LedgerState,
    journal: File,
    /// Bytes of whole records in the journal.
    len: u64,
}

fn line(record: &Record) -> Result<Vec<u8>, SadError> {
    let json = serde_json::to_string(record).map_err(|_| SadError::CorruptStore {
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

impl FileLedger {
    /// Opens (creating it if needed) the journal at `path`, replays it, and
    /// drops the entries of SADs that expired before `drop_expired_before`
    /// (pass the current time less the SAM's clock skew).
    pub fn open(path: impl AsRef<Path>, drop_expired_before: UnixTime) -> Result<Self, SadError> {
        let path = path.as_ref().to_path_buf();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io("read ledger", &path)(e)),
        };
        let mut records = Vec::new();
        let mut good_len = 0;
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let Some(end) = rest.iter().position(|b| *b == b'\n') else {
                break; // torn last line
            };
            let parsed = std::str::from_utf8(&rest[..end]).ok().and_then(parse_line);
            match parsed {
                Some(record) => records.push(record),
                None if end + 1 == rest.len() => break, // damaged last line
                None => {
                    return Err(SadError::CorruptStore {
                        what: "ledger journal",
                    });
                }
            }
            good_len += end + 1;
            rest = &rest[end + 1..];
        }
        let live: Vec<Record> = records
            .into_iter()
            .filter(|r| r.exp >= drop_expired_before.0)
            .collect();
        let mut state = LedgerState::default();
        let mut kept = Vec::new();
        for record in live {
            let uses = record
                .uses
                .iter()
                .map(|u| {
                    if u.is_empty() {
                        Ok(Vec::new())
                    } else {
                        b64_decode(u, TokenPart::Payload)
                    }
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| SadError::CorruptStore {
                    what: "ledger journal",
                })?;
            state.apply_commit(&record.jti, record.num, record.exp, uses);
            kept.extend(line(&record)?);
        }
        if kept.len() != bytes.len() || good_len != bytes.len() {
            // Something was cut or compacted: rewrite the journal whole.
            write_atomic(&path, &kept)?;
        }
        let journal = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io("open ledger", &path))?;
        let len = kept.len() as u64;
        Ok(Self {
            path,
            inner: Mutex::new(Inner {
                state,
                journal,
                len,
            }),
        })
    }
}

impl ConsumptionLedger for FileLedger {
    fn reserve(&self, request: &UseRequest<'_>) -> Result<Reservation, SadError> {
        lock(&self.inner).state.reserve(request)
    }

    fn commit(&self, reservation: &Reservation) -> Result<(), SadError> {
        let mut inner = lock(&self.inner);
        let taken = inner.state.take(reservation)?;
        let record = Record {
            jti: reservation.jti.clone(),
            num: taken.num,
            exp: taken.exp,
            uses: taken.digests.iter().map(|d| b64_encode(d)).collect(),
        };
        let bytes = line(&record)?;
        let written = inner
            .journal
            .write_all(&bytes)
            .and_then(|()| inner.journal.sync_data())
            .map_err(io("append to ledger", &self.path));
        match written {
            Ok(()) => {
                inner.len += bytes.len() as u64;
                inner
                    .state
                    .apply_commit(&reservation.jti, taken.num, taken.exp, taken.digests);
                Ok(())
            }
            Err(e) => {
                // Cut a partly written record, so later appends stay whole.
                let len = inner.len;
                let _ = inner.journal.set_len(len);
                inner.state.put_back(reservation, taken);
                Err(e)
            }
        }
    }

    fn release(&self, reservation: &Reservation) -> Result<(), SadError> {
        lock(&self.inner).state.take(reservation).map(|_| ())
    }
}
