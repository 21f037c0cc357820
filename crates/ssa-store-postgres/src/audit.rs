//! The audit trail in PostgreSQL: one global sequence that every node
//! extends (`ssa-audit` chains each record to the one before, whoever
//! wrote it).

use std::time::{Duration, Instant};

use postgres::types::Type;
use ssa_store::{Appended, AuditSink, Cut, StoreError};

use crate::{Database, Fail, Mark, int, uint};

/// [`AuditSink`] on PostgreSQL: the records of every node in one table,
/// numbered from 0 without gaps.
///
/// An append is one statement that inserts the records only if the table
/// holds exactly `at` records; two nodes appending at the same number
/// collide on the primary key and the loser is told it is behind (and
/// chains again). Each append commits with `synchronous_commit = on`
/// before it returns, so [`AuditSink::sync`] has nothing left to do, and a
/// record the log confirmed is durable on the database.
///
/// An append whose outcome is unknown (the connection broke while it ran)
/// is settled by reading the records back: if they are there it was done,
/// if the table still holds `at` records it is tried again, for up to
/// [`crate::PoolOptions::retry_for`].
#[derive(Clone, Debug)]
pub struct PgAuditSink {
    db: Database,
}

impl PgAuditSink {
    /// The sink in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    fn count(&self) -> Result<u64, StoreError> {
        self.db.run("count audit records", |c| {
            let row = c
                .query_one(
                    "SELECT coalesce(max(seq) + 1, 0) FROM ssa_audit_record",
                    &[],
                )
                .before()?;
            Ok(uint(row.get(0)))
        })
    }

    /// After an append whose outcome is unknown: whether `records` are the
    /// ones stored from `at` on (`Some(true)`), or the sink still holds
    /// exactly `at` records (`Some(false)`: nothing was written).
    fn settle(&self, at: u64, records: &[String]) -> Result<Option<bool>, StoreError> {
        let stored = self.read_range(at, records.len())?;
        if stored.as_slice() == records {
            return Ok(Some(true));
        }
        if stored.is_empty() && self.count()? == at {
            return Ok(Some(false));
        }
        Ok(None)
    }

    fn read_range(&self, from: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        self.db.run("read audit records", |c| {
            let rows = c
                .query(
                    "SELECT record FROM ssa_audit_record WHERE seq >= $1 ORDER BY seq LIMIT $2",
                    &[&int(from), &i64::try_from(limit).unwrap_or(i64::MAX)],
                )
                .before()?;
            rows.iter()
                .map(|r| {
                    String::from_utf8(r.get(0)).map_err(|_| {
                        Fail::Other(StoreError::Corrupt {
                            what: "audit record (not UTF-8)",
                        })
                    })
                })
                .collect()
        })
    }
}

const UNIQUE_VIOLATION: &str = "23505";

fn check(records: &[String]) -> Result<(), StoreError> {
    if records.iter().any(|r| r.contains('\n')) {
        return Err(StoreError::InvalidValue {
            reason: "an audit record holds a line break",
        });
    }
    Ok(())
}

impl AuditSink for PgAuditSink {
    fn append(&self, at: u64, records: &[String]) -> Result<Appended, StoreError> {
        check(records)?;
        if records.is_empty() {
            return Ok(Appended::Done);
        }
        let bytes: Vec<&[u8]> = records.iter().map(|r| r.as_bytes()).collect();
        let deadline = Instant::now() + self.db.options.retry_for;
        loop {
            let inserted = self.db.run::<_, StoreError>("append audit records", |c| {
                let attempt = c.execute_prepared(
                    "INSERT INTO ssa_audit_record (seq, record) \
                     SELECT $1 + n - 1, r FROM unnest($2::bytea[]) WITH ORDINALITY AS t(r, n) \
                     WHERE (SELECT coalesce(max(seq) + 1, 0) FROM ssa_audit_record) = $1",
                    &[(&int(at), Type::INT8), (&bytes, Type::BYTEA_ARRAY)],
                );
                match attempt {
                    Ok(n) => Ok(Some(n)),
                    // Another node took the number first.
                    Err(e) if e.code().is_some_and(|s| s.code() == UNIQUE_VIOLATION) => Ok(None),
                    Err(e) => Err(Fail::Unknown(e)),
                }
            });
            match inserted {
                Ok(Some(n)) if n == records.len() as u64 => return Ok(Appended::Done),
                Ok(_) => {
                    let count = self.count()?;
                    if count == at && Instant::now() < deadline {
                        // Raced with a cut; the sink is at `at` again.
                        continue;
                    }
                    return Ok(Appended::Behind { count });
                }
                Err(error) => match self.settle(at, records) {
                    Ok(Some(true)) => return Ok(Appended::Done),
                    Ok(Some(false)) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    _ => return Err(error),
                },
            }
        }
    }

    fn sync(&self) -> Result<(), StoreError> {
        // Every append committed with synchronous_commit on.
        Ok(())
    }

    fn read_from(&self, from: u64) -> Result<Vec<String>, StoreError> {
        self.read_range(from, usize::MAX)
    }

    fn unconfirmed_from(&self) -> Result<Option<u64>, StoreError> {
        // A record in the table committed durably: none is unconfirmed.
        Ok(None)
    }

    fn cut(&self, from: u64) -> Result<Cut, StoreError> {
        self.db.run("cut audit records", |c| {
            let mut tx = c.transaction().before()?;
            tx.execute("LOCK TABLE ssa_audit_record IN EXCLUSIVE MODE", &[])
                .before()?;
            let count: i64 = tx
                .query_one(
                    "SELECT coalesce(max(seq) + 1, 0) FROM ssa_audit_record",
                    &[],
                )
                .before()?
                .get(0);
            let rows = tx
                .query(
                    "DELETE FROM ssa_audit_record WHERE seq >= $1 RETURNING seq, record",
                    &[&int(from)],
                )
                .before()?;
            let mut cut: Vec<(i64, Vec<u8>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            cut.sort_by_key(|(seq, _)| *seq);
            let seqs: Vec<i64> = cut.iter().map(|(s, _)| *s).collect();
            let texts: Vec<&[u8]> = cut.iter().map(|(_, t)| t.as_slice()).collect();
            tx.execute(
                "INSERT INTO ssa_audit_cut (seq, record) SELECT * FROM unnest($1::bigint[], $2::bytea[])",
                &[&seqs, &texts],
            )
            .before()?;
            tx.commit().unknown()?;
            let mut bytes = Vec::new();
            for text in &texts {
                bytes.extend_from_slice(text);
                bytes.push(b'\n');
            }
            Ok(Cut {
                from: uint(count).min(from),
                records: cut.len() as u64,
                bytes,
                kept: None,
            })
        })
    }
}
