#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod audit;
mod ledger;
mod stores;

use core::fmt;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Row, Statement};
use ssa_store::StoreError;

pub use audit::PgAuditSink;
pub use ledger::PgLedger;
pub use stores::{
    PgAccountStore, PgBearerTokenStore, PgChallengeStore, PgCredentialStore, PgEnrolmentStore,
    PgGrantStore, PgLockoutStore,
};

/// The schema versions this crate knows, in order: each one's SQL runs once,
/// in the transaction that records it.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("../migrations/0001_stores.sql")),
    (2, include_str!("../migrations/0002_ledger_functions.sql")),
    (3, include_str!("../migrations/0003_grants.sql")),
];

/// The newest schema version this crate writes and reads.
pub const SCHEMA_VERSION: i32 = 3;

/// Taken (as a transaction-scoped advisory lock) by every migration, so
/// nodes starting together migrate one after another.
const MIGRATION_LOCK: i64 = 0x5353_4100_0001;

/// Why [`Database::connect`] could not give a usable database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The URL does not parse as a PostgreSQL connection string.
    #[error("the database URL does not parse")]
    Url(#[source] postgres::Error),
    /// The database could not be reached (down, wrong host or socket,
    /// refused credentials).
    #[error("cannot connect to the database")]
    Connect(#[source] postgres::Error),
    /// The database holds a schema newer than this build knows: an older
    /// node must not write to it.
    #[error(
        "the database schema is version {found}, newer than version {supported} this build knows"
    )]
    SchemaTooNew {
        /// The version found.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },
    /// A migration failed (rolled back: the schema is as it was).
    #[error("the schema migration failed")]
    Migrate(#[source] postgres::Error),
    /// The connection pool could not be made.
    #[error("the connection pool could not start")]
    Pool(#[source] r2d2::Error),
}

/// How the pool behaves.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Connections at most (each node opens its own pool).
    pub max_size: u32,
    /// How long a call waits for a connection before it fails.
    pub connection_timeout: Duration,
    /// How long a call keeps retrying work that certainly did not reach the
    /// database (a connection lost before a transaction's commit was sent,
    /// a database restarting) before it fails.
    pub retry_for: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 16,
            connection_timeout: Duration::from_secs(5),
            retry_for: Duration::from_secs(3),
        }
    }
}

/// One PostgreSQL database holding every ssa store, behind a connection
/// pool. Cheap to clone (the pool is shared); every store made from it
/// shares the pool.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
    options: Arc<PoolOptions>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: it is not kept, and not shown.
        f.debug_struct("Database")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Connects to the database at `url` (`postgres://user@host/db`, or a
    /// Unix socket: `postgres://user@/db?host=/run/postgresql`), applies the
    /// migrations it lacks and starts the pool. Refuses a database whose
    /// schema is newer than this build ([`OpenError::SchemaTooNew`]).
    pub fn connect(url: &str) -> Result<Self, OpenError> {
        Self::connect_with(url, PoolOptions::default())
    }

    /// [`Database::connect`] with pool options.
    pub fn connect_with(url: &str, options: PoolOptions) -> Result<Self, OpenError> {
        let mut config = postgres::Config::from_str(url).map_err(OpenError::Url)?;
        // A signature is returned only after its audit record committed
        // durably: whatever the database's default, these sessions wait
        // for the commit to be flushed.
        config.options("-c synchronous_commit=on");
        config.connect_timeout(options.connection_timeout);
        let mut client = config.connect(NoTls).map_err(OpenError::Connect)?;
        migrate(&mut client)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            // A broken connection is found when it is used (and retried
            // then, see `run`), not by a round trip on every checkout.
            .test_on_check_out(false)
            .build(Manager { config })
            .map_err(OpenError::Pool)?;
        Ok(Self {
            pool,
            options: Arc::new(options),
        })
    }

    /// Every store in this database, sharing its pool.
    pub fn stores(&self) -> ssa_store::Stores {
        ssa_store::Stores {
            ledger: Arc::new(PgLedger::new(self.clone())),
            lockout: Arc::new(PgLockoutStore::new(self.clone())),
            challenges: Arc::new(PgChallengeStore::new(self.clone())),
            credentials: Arc::new(PgCredentialStore::new(self.clone())),
            audit: Arc::new(PgAuditSink::new(self.clone())),
            accounts: Arc::new(PgAccountStore::new(self.clone())),
            bearer_tokens: Arc::new(PgBearerTokenStore::new(self.clone())),
            grants: Arc::new(PgGrantStore::new(self.clone())),
        }
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        self.run("read the schema version", |c| {
            let row = c
                .query_one("SELECT coalesce(max(version), 0) FROM ssa_schema", &[])
                .before()?;
            Ok(row.get(0))
        })
    }

    /// Runs `op` on a pooled connection. Work that certainly did not reach
    /// the database ([`Fail::Before`] on a lost connection) is retried on
    /// another connection for up to [`PoolOptions::retry_for`]; anything
    /// else fails at once with [`StoreError::Backend`].
    pub(crate) fn run<T, E: From<StoreError>>(
        &self,
        what: &'static str,
        mut op: impl FnMut(&mut Conn) -> Result<T, Fail<E>>,
    ) -> Result<T, E> {
        let deadline = Instant::now() + self.options.retry_for;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let outcome = match self.pool.get() {
                Ok(mut client) => op(&mut client),
                Err(e) => {
                    if Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                    return Err(StoreError::Backend {
                        what,
                        source: Box::new(e),
                    }
                    .into());
                }
            };
            match outcome {
                Ok(value) => return Ok(value),
                Err(Fail::Other(e)) => return Err(e),
                Err(Fail::Before(e)) if connection_lost(&e) && Instant::now() < deadline => {
                    // Pooled connections a restart killed fail at once:
                    // go through them without waiting, then back off.
                    if attempt > self.options.max_size {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
                Err(Fail::Before(e) | Fail::Unknown(e)) => {
                    return Err(StoreError::Backend {
                        what,
                        source: Box::new(e),
                    }
                    .into());
                }
            }
        }
    }
}

impl Database {
    /// [`Database::run`] for a single statement that changes something:
    /// when the connection breaks while it runs ([`Fail::Unknown`] on a
    /// lost connection), `settle` looks on another connection whether it
    /// took effect: `Some` is the outcome it had, `None` means it did not,
    /// and it is run again (until [`PoolOptions::retry_for`] has passed).
    pub(crate) fn run_settled<T, E: From<StoreError>>(
        &self,
        what: &'static str,
        mut op: impl FnMut(&mut Conn) -> Result<T, Fail<E>>,
        mut settle: impl FnMut(&mut Conn) -> Result<Option<T>, Fail<E>>,
    ) -> Result<T, E> {
        let deadline = Instant::now() + self.options.retry_for;
        loop {
            let mut lost = false;
            let error = match self.run(what, |c| {
                let outcome = op(c);
                lost = matches!(&outcome, Err(Fail::Unknown(e)) if connection_lost(e));
                outcome
            }) {
                Ok(value) => return Ok(value),
                Err(error) if !lost => return Err(error),
                Err(error) => error,
            };
            match self.run(what, &mut settle) {
                Ok(Some(value)) => return Ok(value),
                Ok(None) if Instant::now() < deadline => {}
                // Not settled, or out of time: the first error stands.
                _ => return Err(error),
            }
        }
    }
}

/// A pooled connection and the statements prepared on it: a statement run
/// often is parsed and planned once per connection, then each run is one
/// round trip (bind and execute).
pub(crate) struct Conn {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

impl Conn {
    /// `sql` prepared on this connection (once) with parameter `types`.
    pub(crate) fn prepared(
        &mut self,
        sql: &'static str,
        types: &[Type],
    ) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare_typed(sql, types)?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }

    /// `Client::execute_typed` on the statement prepared for `sql`.
    pub(crate) fn execute_prepared(
        &mut self,
        sql: &'static str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<u64, postgres::Error> {
        let (values, types) = split(params);
        let statement = self.prepared(sql, &types)?;
        self.client.execute(&statement, &values)
    }

    /// `Client::query_typed_opt` on the statement prepared for `sql`.
    pub(crate) fn query_opt_prepared(
        &mut self,
        sql: &'static str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Option<Row>, postgres::Error> {
        let (values, types) = split(params);
        let statement = self.prepared(sql, &types)?;
        self.client.query_opt(&statement, &values)
    }
}

/// Typed parameters as values and types.
fn split<'a>(
    params: &[(&'a (dyn ToSql + Sync), Type)],
) -> (Vec<&'a (dyn ToSql + Sync)>, Vec<Type>) {
    params.iter().map(|(v, t)| (*v, t.clone())).unzip()
}

impl Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Makes the pool's connections (what `r2d2_postgres` does, with a
/// statement cache beside each client).
struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        Ok(Conn {
            client: self.config.connect(NoTls)?,
            prepared: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// Applies the migrations the database lacks, in one transaction under an
/// advisory lock; refuses a newer schema.
fn migrate(client: &mut Client) -> Result<(), OpenError> {
    let mut tx = client.transaction().map_err(OpenError::Migrate)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(OpenError::Migrate)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ssa_schema (
             version integer PRIMARY KEY,
             applied timestamptz NOT NULL DEFAULT now()
         )",
    )
    .map_err(OpenError::Migrate)?;
    let found: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM ssa_schema", &[])
        .map_err(OpenError::Migrate)?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(OpenError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(sql).map_err(OpenError::Migrate)?;
        tx.execute("INSERT INTO ssa_schema (version) VALUES ($1)", &[version])
            .map_err(OpenError::Migrate)?;
    }
    tx.commit().map_err(OpenError::Migrate)
}

/// How an operation on one connection failed.
pub(crate) enum Fail<E> {
    /// Before anything could have been applied (a read, a statement of a
    /// transaction before its commit): safe to run again.
    Before(postgres::Error),
    /// Perhaps applied (a commit, a write outside a transaction): not
    /// retried; the caller gets an error and nothing is confirmed.
    Unknown(postgres::Error),
    /// An answer of the store's own (a refusal, a bad key).
    Other(E),
}

impl<E: From<StoreError>> From<StoreError> for Fail<E> {
    fn from(error: StoreError) -> Self {
        Fail::Other(error.into())
    }
}

/// Marks a database result as failing before or perhaps after its effect.
pub(crate) trait Mark<T> {
    fn before<E>(self) -> Result<T, Fail<E>>;
    fn unknown<E>(self) -> Result<T, Fail<E>>;
}

impl<T> Mark<T> for Result<T, postgres::Error> {
    fn before<E>(self) -> Result<T, Fail<E>> {
        self.map_err(Fail::Before)
    }
    fn unknown<E>(self) -> Result<T, Fail<E>> {
        self.map_err(Fail::Unknown)
    }
}

/// Whether `error` means the connection (or the server) went away, rather
/// than the statement being refused.
fn connection_lost(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            code.code().starts_with("08")
                || *code == SqlState::ADMIN_SHUTDOWN
                || *code == SqlState::CRASH_SHUTDOWN
                || *code == SqlState::CANNOT_CONNECT_NOW
        }
        // No SQLSTATE: an I/O error on the socket.
        None => true,
    }
}

/// A time or count as PostgreSQL's bigint (times past 2^63 s saturate).
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A bigint read back (never negative as this crate writes them).
pub(crate) fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A key the file stores could hold (1 to 120 bytes): the same keys are
/// refused by every backend.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    ssa_store::durable::file_name(key, "key").map(|_| ())
}

/// Whether a key could be stored at all (lookups of other keys find nothing).
pub(crate) fn holdable(key: &str) -> bool {
    check_key(key).is_ok()
}
