//! The consumption ledger in PostgreSQL.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::Transaction;
use ssa_store::{ConsumptionLedger, Forgotten, LedgerError, Reservation, UseRequest};

use crate::{Database, Fail, Mark, check_key, int, uint};

/// Reservations a handle makes between two sweeps of expired SADs.
const SWEEP_EVERY: u64 = 4096;

/// Taken by a sweep, so two nodes never merge the forgotten spans at once.
const SWEEP_LOCK: i64 = 0x5353_4100_0002;

/// [`ConsumptionLedger`] on PostgreSQL, shared by every node.
///
/// Every change to a SAD's use runs in one transaction that first locks
/// the SAD's row (`SELECT … FOR UPDATE`, after an `INSERT … ON CONFLICT DO
/// NOTHING` that makes it on first use): reservations of one SAD are
/// serialised across nodes, so together they never exceed `num`. A bound
/// digest is a row keyed by (SAD, digest): the primary key holds it for one
/// reservation, then for good once committed. A failed call rolls back and
/// changes nothing.
///
/// Expired SADs are swept (every 4096 reservations of a handle) and their
/// times kept as spans ([`Forgotten`]), so a clock stepping back cannot
/// replay one.
#[derive(Debug)]
pub struct PgLedger {
    db: Database,
    reserves: AtomicU64,
}

impl PgLedger {
    /// The ledger in `db`.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            reserves: AtomicU64::new(0),
        }
    }

    /// Forgets the SADs that expired before `cut` and have nothing in
    /// flight, and keeps their times of validity as spans.
    fn sweep(&self, cut: u64) -> Result<(), LedgerError> {
        self.db.run("sweep the ledger", |c| {
            let mut tx = c.transaction().before()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SWEEP_LOCK])
                .before()?;
            let gone = tx
                .query(
                    "DELETE FROM ssa_ledger_sad WHERE exp < $1 AND reserved = 0 RETURNING iat, exp",
                    &[&int(cut)],
                )
                .before()?;
            if gone.is_empty() {
                return Ok(());
            }
            let mut forgotten = Forgotten::default();
            for row in tx
                .query("SELECT lo, hi FROM ssa_ledger_forgotten", &[])
                .before()?
            {
                forgotten.add(uint(row.get(0)), uint(row.get(1)));
            }
            for row in &gone {
                forgotten.add(uint(row.get(0)), uint(row.get(1)));
            }
            let (lo, hi): (Vec<i64>, Vec<i64>) = forgotten
                .spans()
                .iter()
                .map(|&(a, b)| (int(a), int(b)))
                .unzip();
            tx.execute("DELETE FROM ssa_ledger_forgotten", &[])
                .before()?;
            tx.execute(
                "INSERT INTO ssa_ledger_forgotten (lo, hi) SELECT * FROM unnest($1::bigint[], $2::bigint[])",
                &[&lo, &hi],
            )
            .before()?;
            tx.commit().unknown()
        })
    }
}

/// The state of a SAD's row, locked for the rest of the transaction.
struct Sad {
    num: i64,
    committed: i64,
    reserved: i64,
}

fn lock_sad(tx: &mut Transaction<'_>, jti: &str) -> Result<Option<Sad>, Fail<LedgerError>> {
    let row = tx
        .query_opt(
            "SELECT num, committed, reserved FROM ssa_ledger_sad WHERE jti = $1 FOR UPDATE",
            &[&jti],
        )
        .before()?;
    Ok(row.map(|r| Sad {
        num: r.get(0),
        committed: r.get(1),
        reserved: r.get(2),
    }))
}

/// The reservation `id` (its SAD and count), once its SAD's row is locked;
/// `None` if no reservation has that id.
fn held(
    tx: &mut Transaction<'_>,
    reservation: &Reservation,
) -> Result<Option<i64>, Fail<LedgerError>> {
    let Ok(id) = reservation.id().parse::<i64>() else {
        return Ok(None);
    };
    if lock_sad(tx, reservation.jti())?.is_none() {
        return Ok(None);
    }
    let row = tx
        .query_opt(
            "DELETE FROM ssa_ledger_reservation WHERE id = $1 AND jti = $2 RETURNING count",
            &[&id, &reservation.jti()],
        )
        .before()?;
    Ok(row.map(|r| r.get(0)))
}

impl ConsumptionLedger for PgLedger {
    fn reserve(&self, request: &UseRequest<'_>) -> Result<Reservation, LedgerError> {
        check_key(request.jti)?;
        if self.reserves.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep(request.forget_before)?;
        }
        let jti = request.jti;
        let wanted = i64::try_from(request.digests.len()).unwrap_or(i64::MAX);
        self.db.run("reserve SAD use", |c| {
            let mut tx = c.transaction().before()?;
            tx.execute(
                "INSERT INTO ssa_ledger_sad (jti, num, iat, exp) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
                &[
                    &jti,
                    &i64::from(request.num),
                    &int(request.iat),
                    &int(request.exp),
                ],
            )
            .before()?;
            // Locked from here to the commit. Missing: a sweep forgot it
            // between the two statements (its span is visible now).
            let sad = lock_sad(&mut tx, jti)?;
            let span = tx
                .query_opt(
                    "SELECT hi FROM ssa_ledger_forgotten WHERE lo <= $2 AND $1 <= hi LIMIT 1",
                    &[&int(request.iat), &int(request.exp)],
                )
                .before()?;
            if let Some(span) = span {
                return Err(Fail::Other(LedgerError::Forgotten {
                    jti: jti.to_owned(),
                    exp: request.exp,
                    horizon: uint(span.get::<_, i64>(0)).saturating_add(1),
                }));
            }
            let Some(sad) = sad else {
                return Err(Fail::Other(LedgerError::Exhausted {
                    jti: jti.to_owned(),
                }));
            };
            let left = (sad.num - sad.committed - sad.reserved).max(0);
            if left == 0 {
                return Err(Fail::Other(LedgerError::Exhausted {
                    jti: jti.to_owned(),
                }));
            }
            if wanted > left {
                return Err(Fail::Other(LedgerError::CountExceeded {
                    jti: jti.to_owned(),
                    left: u32::try_from(left).unwrap_or(u32::MAX),
                    requested: request.digests.len(),
                }));
            }
            let id: i64 = tx
                .query_one(
                    "INSERT INTO ssa_ledger_reservation (jti, at, count) VALUES ($1, $2, $3) \
                     RETURNING id",
                    &[&jti, &int(request.now), &wanted],
                )
                .before()?
                .get(0);
            if request.bound {
                let distinct: BTreeSet<&[u8]> = request.digests.iter().map(Vec::as_slice).collect();
                let distinct: Vec<&[u8]> = distinct.into_iter().collect();
                let inserted = tx
                    .execute(
                        "INSERT INTO ssa_ledger_digest (jti, digest, reservation) \
                         SELECT $1, d, $3 FROM unnest($2::bytea[]) AS d ON CONFLICT DO NOTHING",
                        &[&jti, &distinct, &id],
                    )
                    .before()?;
                if inserted != distinct.len() as u64 {
                    return Err(Fail::Other(LedgerError::DigestAlreadyUsed {
                        jti: jti.to_owned(),
                    }));
                }
            }
            tx.execute(
                "UPDATE ssa_ledger_sad SET reserved = reserved + $2 WHERE jti = $1",
                &[&jti, &wanted],
            )
            .before()?;
            tx.commit().unknown()?;
            Ok(Reservation::new(jti, id.to_string()))
        })
    }

    fn commit(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        let jti = reservation.jti();
        self.db.run("commit SAD use", |c| {
            let mut tx = c.transaction().before()?;
            let Some(count) = held(&mut tx, reservation)? else {
                return Err(Fail::Other(LedgerError::UnknownReservation));
            };
            let row = tx
                .query_one(
                    "UPDATE ssa_ledger_sad SET committed = committed + $2, reserved = reserved - $2 \
                     WHERE jti = $1 RETURNING num, committed",
                    &[&jti, &count],
                )
                .before()?;
            let (num, committed): (i64, i64) = (row.get(0), row.get(1));
            if committed >= num {
                // Used up (nothing can be in flight): a used-up SAD is
                // refused before its digests are looked at.
                tx.execute("DELETE FROM ssa_ledger_digest WHERE jti = $1", &[&jti])
                    .before()?;
            } else {
                let id: i64 = reservation.id().parse().unwrap_or(-1);
                tx.execute(
                    "UPDATE ssa_ledger_digest SET reservation = NULL WHERE reservation = $1",
                    &[&id],
                )
                .before()?;
            }
            tx.commit().unknown()
        })
    }

    fn release(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        let jti = reservation.jti();
        self.db.run("release SAD use", |c| {
            let mut tx = c.transaction().before()?;
            let Some(count) = held(&mut tx, reservation)? else {
                return Err(Fail::Other(LedgerError::UnknownReservation));
            };
            let id: i64 = reservation.id().parse().unwrap_or(-1);
            tx.execute(
                "DELETE FROM ssa_ledger_digest WHERE reservation = $1",
                &[&id],
            )
            .before()?;
            tx.execute(
                "UPDATE ssa_ledger_sad SET reserved = reserved - $2 WHERE jti = $1",
                &[&jti, &count],
            )
            .before()?;
            tx.commit().unknown()
        })
    }

    fn release_stale(&self, reserved_before: u64) -> Result<Vec<Reservation>, LedgerError> {
        let stale: Vec<Reservation> = self.db.run("list stale reservations", |c| {
            let rows = c
                .query(
                    "SELECT jti, id FROM ssa_ledger_reservation WHERE at < $1 ORDER BY at, id",
                    &[&int(reserved_before)],
                )
                .before()?;
            Ok::<_, Fail<LedgerError>>(
                rows.iter()
                    .map(|r| {
                        Reservation::new(r.get::<_, String>(0), r.get::<_, i64>(1).to_string())
                    })
                    .collect(),
            )
        })?;
        let mut released = Vec::with_capacity(stale.len());
        for reservation in stale {
            match self.release(&reservation) {
                Ok(()) => released.push(reservation),
                // Committed or released meanwhile by its own process.
                Err(LedgerError::UnknownReservation) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(released)
    }
}
