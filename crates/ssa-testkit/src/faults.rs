//! Stores that fail on demand, for fault-injection tests: an audit sink
//! whose append or sync fails once when asked, and a ledger whose commit
//! or release does.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use ssa_store::{
    Appended, AuditSink, ConsumptionLedger, Cut, LedgerError, MemoryAuditSink, Reservation,
    StoreError, UseRequest,
};

/// The error a fault returns: ENOSPC, as from a full disk.
pub fn disk_full() -> StoreError {
    StoreError::Io {
        what: "injected fault",
        path: "faulty".into(),
        source: std::io::Error::from_raw_os_error(28),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Audit records in memory. When asked, the next append fails (writing
/// nothing) or the next sync fails (the records since the last good sync
/// are then unconfirmed). It does not stop by itself: like a kernel after
/// a failed fsync, it reports success to the next sync, so a log over it
/// must stop on its own.
#[derive(Debug, Default)]
pub struct FaultySink {
    inner: MemoryAuditSink,
    /// Appends to let through before one fails, if one is to.
    fail_append: Mutex<Option<usize>>,
    /// The next sync fails.
    pub fail_sync: AtomicBool,
    synced: Mutex<u64>,
    unconfirmed: Mutex<Option<u64>>,
}

impl FaultySink {
    /// The append after the next `skip` ones fails (writing nothing).
    pub fn fail_append(&self, skip: usize) {
        *lock(&self.fail_append) = Some(skip);
    }
}

impl AuditSink for FaultySink {
    fn append(&self, at: u64, records: &[String]) -> Result<Appended, StoreError> {
        {
            let mut countdown = lock(&self.fail_append);
            match *countdown {
                Some(0) => {
                    *countdown = None;
                    return Err(disk_full());
                }
                Some(n) => *countdown = Some(n - 1),
                None => {}
            }
        }
        self.inner.append(at, records)
    }

    fn sync(&self) -> Result<(), StoreError> {
        let count = self.inner.read_from(0)?.len() as u64;
        let mut synced = lock(&self.synced);
        if self.fail_sync.swap(false, Ordering::SeqCst) {
            lock(&self.unconfirmed).get_or_insert(*synced);
            return Err(disk_full());
        }
        *synced = count;
        Ok(())
    }

    fn read_from(&self, from: u64) -> Result<Vec<String>, StoreError> {
        self.inner.read_from(from)
    }

    fn unconfirmed_from(&self) -> Result<Option<u64>, StoreError> {
        Ok(*lock(&self.unconfirmed))
    }

    fn cut(&self, from: u64) -> Result<Cut, StoreError> {
        let cut = self.inner.cut(from)?;
        *lock(&self.unconfirmed) = None;
        *lock(&self.synced) = cut.from;
        Ok(cut)
    }
}

/// A ledger whose next commit or release fails when asked (nothing is
/// recorded then, as a journal on a full disk).
#[derive(Debug)]
pub struct FaultyLedger {
    inner: Arc<dyn ConsumptionLedger>,
    /// The next commit fails.
    pub fail_commit: AtomicBool,
    /// The next release fails.
    pub fail_release: AtomicBool,
}

impl FaultyLedger {
    /// Faults on demand in front of `inner`.
    pub fn new(inner: Arc<dyn ConsumptionLedger>) -> Self {
        Self {
            inner,
            fail_commit: AtomicBool::new(false),
            fail_release: AtomicBool::new(false),
        }
    }
}

impl ConsumptionLedger for FaultyLedger {
    fn reserve(&self, request: &UseRequest<'_>) -> Result<Reservation, LedgerError> {
        self.inner.reserve(request)
    }

    fn commit(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        if self.fail_commit.swap(false, Ordering::SeqCst) {
            return Err(disk_full().into());
        }
        self.inner.commit(reservation)
    }

    /// With `fail_commit` set, the first spend fails and the rest go to
    /// the inner ledger together; otherwise all of them do.
    fn commit_all(&self, reservations: &[&Reservation]) -> Vec<Result<(), LedgerError>> {
        match reservations.split_first() {
            Some((_, rest)) if self.fail_commit.swap(false, Ordering::SeqCst) => {
                let mut answers = vec![Err(disk_full().into())];
                answers.extend(self.inner.commit_all(rest));
                answers
            }
            _ => self.inner.commit_all(reservations),
        }
    }

    fn release(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        if self.fail_release.swap(false, Ordering::SeqCst) {
            return Err(disk_full().into());
        }
        self.inner.release(reservation)
    }

    fn release_stale(&self, reserved_before: u64) -> Result<Vec<Reservation>, LedgerError> {
        self.inner.release_stale(reserved_before)
    }
}
