//! The keyed stores: lockout, challenges, enrolments, credentials, bearer
//! sessions, OAuth2 grants, accounts. Each change is one statement, or one transaction
//! that first locks the row it changes (`SELECT … FOR UPDATE`), so no
//! change is lost whatever node makes it.

use postgres::Row;
use postgres::types::Type;
use ssa_store::{
    AccountStore, AuthState, BearerSession, BearerTokenStore, ChallengeStore, CredentialStore,
    EnrolmentStore, Grant, GrantStore, Inserted, LockoutStore, PendingChallenge, RecordChange,
    StateChange, StoreError, StoredCredential,
};

use crate::{Database, Fail, Mark, check_key, holdable, int, uint};

macro_rules! store {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            db: Database,
        }

        impl $name {
            /// The store in `db`.
            pub fn new(db: Database) -> Self {
                Self { db }
            }
        }
    };
}

store!(
    /// [`LockoutStore`] on PostgreSQL: `update` locks the credential's row
    /// (`INSERT … ON CONFLICT DO NOTHING`, then `SELECT … FOR UPDATE`) from
    /// the read to the commit, so N failures on any mix of nodes count N and
    /// a TOTP step is accepted once.
    PgLockoutStore
);

fn auth_state(row: &Row) -> AuthState {
    AuthState {
        failures: u32::try_from(row.get::<_, i64>(0)).unwrap_or(u32::MAX),
        locked: row.get(1),
        last_otp_step: row.get::<_, Option<i64>>(2).map(uint),
    }
}

impl LockoutStore for PgLockoutStore {
    fn load(&self, credential: &str) -> Result<AuthState, StoreError> {
        if !holdable(credential) {
            return Ok(AuthState::default());
        }
        self.db.run("load lockout state", |c| {
            let row = c
                .query_opt(
                    "SELECT failures, locked, last_otp_step FROM ssa_lockout WHERE credential = $1",
                    &[&credential],
                )
                .before()?;
            Ok(row.as_ref().map(auth_state).unwrap_or_default())
        })
    }

    fn update(
        &self,
        credential: &str,
        change: &dyn Fn(&AuthState) -> AuthState,
    ) -> Result<StateChange, StoreError> {
        check_key(credential)?;
        self.db.run("update lockout state", |c| {
            let mut tx = c.transaction().before()?;
            tx.execute(
                "INSERT INTO ssa_lockout (credential) VALUES ($1) ON CONFLICT DO NOTHING",
                &[&credential],
            )
            .before()?;
            let row = tx
                .query_one(
                    "SELECT failures, locked, last_otp_step FROM ssa_lockout \
                     WHERE credential = $1 FOR UPDATE",
                    &[&credential],
                )
                .before()?;
            let before = auth_state(&row);
            let after = change(&before);
            tx.execute(
                "UPDATE ssa_lockout SET failures = $2, locked = $3, last_otp_step = $4 \
                 WHERE credential = $1",
                &[
                    &credential,
                    &i64::from(after.failures),
                    &after.locked,
                    &after.last_otp_step.map(int),
                ],
            )
            .before()?;
            tx.commit().unknown()?;
            Ok(StateChange { before, after })
        })
    }
}

store!(
    /// [`ChallengeStore`] on PostgreSQL: `take` is one `DELETE … RETURNING`,
    /// so of every node asking for a challenge, one gets it.
    PgChallengeStore
);

impl ChallengeStore for PgChallengeStore {
    fn put(&self, id: &str, challenge: &PendingChallenge, now: u64) -> Result<(), StoreError> {
        check_key(id)?;
        self.db.run("store challenge", |c| {
            let mut tx = c.transaction().before()?;
            tx.execute(
                "DELETE FROM ssa_challenge WHERE expires <= $1",
                &[&int(now)],
            )
            .before()?;
            tx.execute(
                "INSERT INTO ssa_challenge (id, credential, nonce, expires) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE \
                 SET credential = $2, nonce = $3, expires = $4",
                &[
                    &id,
                    &challenge.credential,
                    &challenge.nonce,
                    &int(challenge.expires),
                ],
            )
            .before()?;
            tx.commit().unknown()
        })
    }

    fn take(&self, id: &str) -> Result<Option<PendingChallenge>, StoreError> {
        if !holdable(id) {
            return Ok(None);
        }
        self.db.run("take challenge", |c| {
            let row = c
                .query_opt(
                    "DELETE FROM ssa_challenge WHERE id = $1 \
                     RETURNING credential, nonce, expires",
                    &[&id],
                )
                .unknown()?;
            Ok(row.map(|row| PendingChallenge {
                credential: row.get(0),
                nonce: row.get(1),
                expires: uint(row.get(2)),
            }))
        })
    }
}

store!(
    /// [`EnrolmentStore`] on PostgreSQL: `insert` is `INSERT … ON CONFLICT
    /// DO NOTHING`, so a credential is enrolled once.
    PgEnrolmentStore
);

impl EnrolmentStore for PgEnrolmentStore {
    fn insert(&self, credential: &str, enrolment: &[u8]) -> Result<Inserted, StoreError> {
        check_key(credential)?;
        self.db.run("store enrolment", |c| {
            let n = c
                .execute(
                    "INSERT INTO ssa_enrolment (credential, enrolment) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                    &[&credential, &enrolment],
                )
                .unknown()?;
            Ok(if n == 1 {
                Inserted::Stored
            } else {
                Inserted::Exists
            })
        })
    }

    fn get(&self, credential: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !holdable(credential) {
            return Ok(None);
        }
        self.db.run("read enrolment", |c| {
            let row = c
                .query_opt(
                    "SELECT enrolment FROM ssa_enrolment WHERE credential = $1",
                    &[&credential],
                )
                .before()?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn remove(&self, credential: &str) -> Result<bool, StoreError> {
        if !holdable(credential) {
            return Ok(false);
        }
        self.db.run("remove enrolment", |c| {
            let n = c
                .execute(
                    "DELETE FROM ssa_enrolment WHERE credential = $1",
                    &[&credential],
                )
                .unknown()?;
            Ok(n == 1)
        })
    }
}

store!(
    /// [`CredentialStore`] on PostgreSQL: `update` locks the credential's
    /// row from the read to the commit; `list` is in byte order of the id
    /// (`COLLATE "C"`), as the other backends list.
    PgCredentialStore
);

fn credential(row: &Row) -> StoredCredential {
    StoredCredential {
        id: row.get(0),
        signer: row.get(1),
        record: row.get(2),
    }
}

impl CredentialStore for PgCredentialStore {
    fn get(&self, id: &str) -> Result<Option<StoredCredential>, StoreError> {
        if !holdable(id) {
            return Ok(None);
        }
        self.db.run("read credential", |c| {
            let row = c
                .query_opt_prepared(
                    "SELECT id, signer, record FROM ssa_credential WHERE id = $1",
                    &[(&id, Type::TEXT)],
                )
                .before()?;
            Ok(row.as_ref().map(credential))
        })
    }

    fn create(&self, new: &StoredCredential) -> Result<Inserted, StoreError> {
        check_key(&new.id)?;
        self.db.run("create credential", |c| {
            let n = c
                .execute(
                    "INSERT INTO ssa_credential (id, signer, record) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    &[&new.id, &new.signer, &new.record],
                )
                .unknown()?;
            Ok(if n == 1 {
                Inserted::Stored
            } else {
                Inserted::Exists
            })
        })
    }

    fn update(&self, id: &str, change: RecordChange<'_>) -> Result<Option<Vec<u8>>, StoreError> {
        if !holdable(id) {
            return Ok(None);
        }
        self.db.run("update credential", |c| {
            let mut tx = c.transaction().before()?;
            let Some(row) = tx
                .query_opt(
                    "SELECT record FROM ssa_credential WHERE id = $1 FOR UPDATE",
                    &[&id],
                )
                .before()?
            else {
                return Ok(None);
            };
            let old: Vec<u8> = row.get(0);
            // A refused change rolls the transaction back (dropped).
            let new = change(&old).map_err(Fail::Other)?;
            tx.execute(
                "UPDATE ssa_credential SET record = $2 WHERE id = $1",
                &[&id, &new],
            )
            .before()?;
            tx.commit().unknown()?;
            Ok(Some(new))
        })
    }

    fn list(&self, signer: Option<&str>) -> Result<Vec<StoredCredential>, StoreError> {
        self.db.run("list credentials", |c| {
            let rows = match signer {
                Some(signer) => c.query(
                    "SELECT id, signer, record FROM ssa_credential WHERE signer = $1 \
                     ORDER BY id COLLATE \"C\"",
                    &[&signer],
                ),
                None => c.query(
                    "SELECT id, signer, record FROM ssa_credential ORDER BY id COLLATE \"C\"",
                    &[],
                ),
            }
            .before()?;
            Ok(rows.iter().map(credential).collect())
        })
    }
}

store!(
    /// [`BearerTokenStore`] on PostgreSQL: a revoke is one `DELETE`,
    /// committed before it returns, so every node refuses the token from
    /// then on.
    PgBearerTokenStore
);

impl BearerTokenStore for PgBearerTokenStore {
    fn put(&self, key: &str, session: &BearerSession, now: u64) -> Result<(), StoreError> {
        check_key(key)?;
        self.db.run("store bearer session", |c| {
            let mut tx = c.transaction().before()?;
            tx.execute(
                "DELETE FROM ssa_bearer_session WHERE expires <= $1",
                &[&int(now)],
            )
            .before()?;
            tx.execute(
                "INSERT INTO ssa_bearer_session (key, signer, issued, expires) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE \
                 SET signer = $2, issued = $3, expires = $4",
                &[
                    &key,
                    &session.signer,
                    &int(session.issued),
                    &int(session.expires),
                ],
            )
            .before()?;
            tx.commit().unknown()
        })
    }

    fn get(&self, key: &str) -> Result<Option<BearerSession>, StoreError> {
        if !holdable(key) {
            return Ok(None);
        }
        self.db.run("read bearer session", |c| {
            let row = c
                .query_opt_prepared(
                    "SELECT signer, issued, expires FROM ssa_bearer_session WHERE key = $1",
                    &[(&key, Type::TEXT)],
                )
                .before()?;
            Ok(row.map(|r| BearerSession {
                signer: r.get(0),
                issued: uint(r.get(1)),
                expires: uint(r.get(2)),
            }))
        })
    }

    fn revoke(&self, key: &str) -> Result<bool, StoreError> {
        if !holdable(key) {
            return Ok(false);
        }
        self.db.run("revoke bearer session", |c| {
            let n = c
                .execute("DELETE FROM ssa_bearer_session WHERE key = $1", &[&key])
                .unknown()?;
            Ok(n == 1)
        })
    }
}

store!(
    /// [`GrantStore`] on PostgreSQL: `take` is one `DELETE … RETURNING`,
    /// so of every node asking for a grant (a code exchanged twice at
    /// once), one gets it.
    PgGrantStore
);

fn grant(row: &Row) -> Grant {
    Grant {
        kind: row.get(0),
        expires: uint(row.get(1)),
        sealed: row.get(2),
    }
}

impl GrantStore for PgGrantStore {
    fn put(&self, key: &str, grant: &Grant, now: u64) -> Result<(), StoreError> {
        check_key(key)?;
        self.db.run("store grant", |c| {
            let mut tx = c.transaction().before()?;
            tx.execute("DELETE FROM ssa_grant WHERE expires <= $1", &[&int(now)])
                .before()?;
            tx.execute(
                "INSERT INTO ssa_grant (key, kind, expires, sealed) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET kind = $2, expires = $3, sealed = $4",
                &[&key, &grant.kind, &int(grant.expires), &grant.sealed],
            )
            .before()?;
            tx.commit().unknown()
        })
    }

    fn get(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        if !holdable(key) {
            return Ok(None);
        }
        self.db.run("read grant", |c| {
            let row = c
                .query_opt(
                    "SELECT kind, expires, sealed FROM ssa_grant WHERE key = $1",
                    &[&key],
                )
                .before()?;
            Ok(row.as_ref().map(grant))
        })
    }

    fn take(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        if !holdable(key) {
            return Ok(None);
        }
        self.db.run("take grant", |c| {
            let row = c
                .query_opt(
                    "DELETE FROM ssa_grant WHERE key = $1 RETURNING kind, expires, sealed",
                    &[&key],
                )
                .unknown()?;
            Ok(row.as_ref().map(grant))
        })
    }
}

store!(
    /// [`AccountStore`] on PostgreSQL: one row per signer, replaced whole.
    PgAccountStore
);

impl AccountStore for PgAccountStore {
    fn put(&self, signer: &str, record: &[u8]) -> Result<(), StoreError> {
        check_key(signer)?;
        self.db.run("store account", |c| {
            c.execute(
                "INSERT INTO ssa_account (signer, record) VALUES ($1, $2) \
                 ON CONFLICT (signer) DO UPDATE SET record = $2",
                &[&signer, &record],
            )
            .unknown()?;
            Ok(())
        })
    }

    fn get(&self, signer: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !holdable(signer) {
            return Ok(None);
        }
        self.db.run("read account", |c| {
            let row = c
                .query_opt(
                    "SELECT record FROM ssa_account WHERE signer = $1",
                    &[&signer],
                )
                .before()?;
            Ok(row.map(|r| r.get(0)))
        })
    }
}
