//! The consumption ledger in PostgreSQL.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::Transaction;
use postgres::types::Type;
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
    sweep_every: u64,
}

impl PgLedger {
    /// The ledger in `db`.
    pub fn new(db: Database) -> Self {
        Self {
            db,
            reserves: AtomicU64::new(0),
            sweep_every: SWEEP_EVERY,
        }
    }

    /// Sweeps expired SADs every `n` reservations of this handle instead of
    /// every 4096 (at least 1).
    pub fn sweep_every(mut self, n: u64) -> Self {
        self.sweep_every = n.max(1);
        self
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
    /// Whether one of the digests asked about was signed under it.
    used: bool,
}

/// Locks the SAD's row; `digests` are checked against its signed ones.
fn lock_sad(
    tx: &mut Transaction<'_>,
    jti: &str,
    digests: &[&[u8]],
) -> Result<Option<Sad>, Fail<LedgerError>> {
    let row = tx
        .query_typed_opt(
            "SELECT num, committed, reserved, used && $2 FROM ssa_ledger_sad \
             WHERE jti = $1 FOR UPDATE",
            &[(&jti, Type::TEXT), (&digests, Type::BYTEA_ARRAY)],
        )
        .before()?;
    Ok(row.map(|r| Sad {
        num: r.get(0),
        committed: r.get(1),
        reserved: r.get(2),
        used: r.get(3),
    }))
}

/// A reservation taken out: its count and its bound digests (if any).
type Held = (i64, Option<Vec<Vec<u8>>>);

/// Takes the reservation out (its count and bound digests), once its
/// SAD's row is locked; `None` if no reservation has that id.
fn held(
    tx: &mut Transaction<'_>,
    reservation: &Reservation,
) -> Result<Option<Held>, Fail<LedgerError>> {
    let Ok(id) = reservation.id().parse::<i64>() else {
        return Ok(None);
    };
    if lock_sad(tx, reservation.jti(), &[])?.is_none() {
        return Ok(None);
    }
    let row = tx
        .query_typed_opt(
            "DELETE FROM ssa_ledger_reservation WHERE id = $1 AND jti = $2 \
             RETURNING count, digests",
            &[(&id, Type::INT8), (&reservation.jti(), Type::TEXT)],
        )
        .before()?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

impl ConsumptionLedger for PgLedger {
    fn reserve(&self, request: &UseRequest<'_>) -> Result<Reservation, LedgerError> {
        check_key(request.jti)?;
        if self.reserves.fetch_add(1, Ordering::Relaxed) % self.sweep_every == self.sweep_every - 1
        {
            self.sweep(request.forget_before)?;
        }
        let jti = request.jti;
        let wanted = i64::try_from(request.digests.len()).unwrap_or(i64::MAX);
        let distinct: BTreeSet<&[u8]> = request.digests.iter().map(Vec::as_slice).collect();
        let bound: Vec<&[u8]> = if request.bound {
            distinct.into_iter().collect()
        } else {
            Vec::new()
        };
        self.db.run("reserve SAD use", |c| {
            let mut tx = c.transaction().before()?;
            // Not flushed on its own: the signature's audit record commits
            // synchronously after it, which flushes the log this far too, so
            // no signature is ever returned on a reservation a crash lost.
            tx.batch_execute("SET LOCAL synchronous_commit = off")
                .before()?;
            tx.execute_typed(
                "INSERT INTO ssa_ledger_sad (jti, num, iat, exp) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
                &[
                    (&jti, Type::TEXT),
                    (&i64::from(request.num), Type::INT8),
                    (&int(request.iat), Type::INT8),
                    (&int(request.exp), Type::INT8),
                ],
            )
            .before()?;
            // Locked from here to the commit. Missing: a sweep forgot it
            // between the two statements (its span is visible now).
            let sad = lock_sad(&mut tx, jti, &bound)?;
            let span = tx
                .query_typed_opt(
                    "SELECT hi FROM ssa_ledger_forgotten WHERE lo <= $2 AND $1 <= hi LIMIT 1",
                    &[
                        (&int(request.iat), Type::INT8),
                        (&int(request.exp), Type::INT8),
                    ],
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
            if request.bound {
                let in_flight = sad.used
                    || tx
                        .query_typed_one(
                            "SELECT EXISTS (SELECT 1 FROM ssa_ledger_reservation \
                             WHERE jti = $1 AND digests && $2)",
                            &[(&jti, Type::TEXT), (&bound, Type::BYTEA_ARRAY)],
                        )
                        .before()?
                        .get::<_, bool>(0);
                if in_flight {
                    return Err(Fail::Other(LedgerError::DigestAlreadyUsed {
                        jti: jti.to_owned(),
                    }));
                }
            }
            let held: Option<&Vec<&[u8]>> = request.bound.then_some(&bound);
            let id: i64 = tx
                .query_typed_one(
                    "INSERT INTO ssa_ledger_reservation (jti, at, count, digests) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                    &[
                        (&jti, Type::TEXT),
                        (&int(request.now), Type::INT8),
                        (&wanted, Type::INT8),
                        (&held, Type::BYTEA_ARRAY),
                    ],
                )
                .before()?
                .get(0);
            tx.execute_typed(
                "UPDATE ssa_ledger_sad SET reserved = reserved + $2 WHERE jti = $1",
                &[(&jti, Type::TEXT), (&wanted, Type::INT8)],
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
            let Some((count, digests)) = held(&mut tx, reservation)? else {
                return Err(Fail::Other(LedgerError::UnknownReservation));
            };
            let digests = digests.unwrap_or_default();
            // Used up: a used-up SAD is refused before its digests are
            // looked at, so they need not be kept.
            tx.execute_typed(
                "UPDATE ssa_ledger_sad SET committed = committed + $2, reserved = reserved - $2, \
                 used = CASE WHEN committed + $2 >= num THEN '{}' ELSE used || $3 END \
                 WHERE jti = $1",
                &[
                    (&jti, Type::TEXT),
                    (&count, Type::INT8),
                    (&digests, Type::BYTEA_ARRAY),
                ],
            )
            .before()?;
            tx.commit().unknown()
        })
    }

    fn release(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        let jti = reservation.jti();
        self.db.run("release SAD use", |c| {
            let mut tx = c.transaction().before()?;
            let Some((count, _)) = held(&mut tx, reservation)? else {
                return Err(Fail::Other(LedgerError::UnknownReservation));
            };
            tx.execute_typed(
                "UPDATE ssa_ledger_sad SET reserved = reserved - $2 WHERE jti = $1",
                &[(&jti, Type::TEXT), (&count, Type::INT8)],
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
