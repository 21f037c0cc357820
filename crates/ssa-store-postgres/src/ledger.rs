//! The consumption ledger in PostgreSQL.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use postgres::types::Type;
use ssa_store::{ConsumptionLedger, Forgotten, LedgerError, Reservation, StoreError, UseRequest};

use crate::{Conn, Database, Fail, Mark, check_key, int, uint};

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
                    "WITH gone AS (DELETE FROM ssa_ledger_sad WHERE exp < $1 AND reserved = 0 \
                     RETURNING jti, iat, exp), \
                     orphans AS (DELETE FROM ssa_ledger_reservation r USING gone \
                     WHERE r.jti = gone.jti) \
                     SELECT iat, exp FROM gone",
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

/// The SQLSTATEs `ssa_ledger_reserve` and `ssa_ledger_end` raise (schema
/// version 2), as the refusals they stand for.
fn refusal(
    error: &postgres::Error,
    jti: &str,
    request: Option<&UseRequest<'_>>,
) -> Option<LedgerError> {
    let db = error.as_db_error()?;
    let detail = || db.detail().and_then(|d| d.parse::<u64>().ok());
    let jti = jti.to_owned();
    Some(match db.code().code() {
        "SL001" => LedgerError::Exhausted { jti },
        "SL002" => LedgerError::CountExceeded {
            jti,
            left: u32::try_from(detail()?).unwrap_or(u32::MAX),
            requested: request?.digests.len(),
        },
        "SL003" => LedgerError::DigestAlreadyUsed { jti },
        "SL004" => LedgerError::Forgotten {
            jti,
            exp: request?.exp,
            horizon: detail()?.saturating_add(1),
        },
        "SL005" => LedgerError::UnknownReservation,
        _ => return None,
    })
}

/// A reservation id no other node will choose: 64 random bits (a
/// collision is refused by the primary key and the call fails).
fn new_id() -> Result<i64, LedgerError> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        LedgerError::Store(StoreError::Backend {
            what: "draw a reservation id",
            source: Box::new(e),
        })
    })?;
    Ok(i64::from_le_bytes(bytes))
}

impl PgLedger {
    /// Whether reservation `id` is still held (a lookup after a call whose
    /// outcome is unknown).
    fn holds(c: &mut Conn, id: i64) -> Result<bool, Fail<LedgerError>> {
        Ok(c.query_opt_prepared(
            "SELECT 1 FROM ssa_ledger_reservation WHERE id = $1",
            &[(&id, Type::INT8)],
        )
        .before()?
        .is_some())
    }

    /// Commits (`commit`) or releases reservation `reservation`: one
    /// statement. A call whose connection broke is settled by looking the
    /// reservation up: gone, it was done; still held, it is tried again.
    fn end(&self, reservation: &Reservation, commit: bool) -> Result<(), LedgerError> {
        let Ok(id) = reservation.id().parse::<i64>() else {
            return Err(LedgerError::UnknownReservation);
        };
        let jti = reservation.jti();
        self.db.run_settled(
            if commit {
                "commit SAD use"
            } else {
                "release SAD use"
            },
            |c| {
                c.execute_prepared(
                    "SELECT ssa_ledger_end($1, $2, $3)",
                    &[(&jti, Type::TEXT), (&id, Type::INT8), (&commit, Type::BOOL)],
                )
                .map(|_| ())
                .map_err(|e| match refusal(&e, jti, None) {
                    Some(refused) => Fail::Other(refused),
                    None => Fail::Unknown(e),
                })
            },
            |c| Ok((!Self::holds(c, id)?).then_some(())),
        )
    }
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
        let id = new_id()?;
        self.db.run_settled(
            "reserve SAD use",
            |c| {
                c.execute_prepared(
                    "SELECT ssa_ledger_reserve($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        (&jti, Type::TEXT),
                        (&i64::from(request.num), Type::INT8),
                        (&int(request.iat), Type::INT8),
                        (&int(request.exp), Type::INT8),
                        (&int(request.now), Type::INT8),
                        (&id, Type::INT8),
                        (&wanted, Type::INT8),
                        (&request.bound, Type::BOOL),
                        (&bound, Type::BYTEA_ARRAY),
                    ],
                )
                .map_err(|e| match refusal(&e, jti, Some(request)) {
                    Some(refused) => Fail::Other(refused),
                    None => Fail::Unknown(e),
                })?;
                Ok(Reservation::new(jti, id.to_string()))
            },
            // Held: the lost call reserved. Not held: it did not (a
            // reservation is only ever ended by its id, which no one else
            // knows yet).
            |c| Ok(Self::holds(c, id)?.then(|| Reservation::new(jti, id.to_string()))),
        )
    }

    fn commit(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        self.end(reservation, true)
    }

    fn release(&self, reservation: &Reservation) -> Result<(), LedgerError> {
        self.end(reservation, false)
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
