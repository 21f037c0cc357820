//! Start-up against real PostgreSQL: migrations on a fresh and on an
//! already-migrated database, a newer schema refused, a database that is
//! not there refused with a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use ssa_store::{AccountStore, StoreError};
use ssa_store_postgres::{Database, OpenError, PgAccountStore, SCHEMA_VERSION};
use ssa_testkit::postgres::Cluster;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

#[test]
fn a_fresh_database_is_migrated_and_a_migrated_one_starts_as_it_is() {
    let url = cluster().fresh_database();
    let name = Cluster::database_name(&url).to_owned();
    let first = Database::connect(&url).unwrap();
    assert_eq!(first.schema_version().unwrap(), SCHEMA_VERSION);
    PgAccountStore::new(first.clone())
        .put("alice", b"kept")
        .unwrap();
    // Read by psql, an independent client: one row per version applied.
    assert_eq!(
        cluster().psql(
            &name,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM ssa_schema"
        ),
        (1..=SCHEMA_VERSION)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    // Several nodes starting at once on a migrated database: each starts,
    // nothing is applied twice, nothing is lost.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| Database::connect(&url).unwrap());
        }
    });
    let again = Database::connect(&url).unwrap();
    assert_eq!(
        PgAccountStore::new(again).get("alice").unwrap().as_deref(),
        Some(&b"kept"[..])
    );
    assert_eq!(
        cluster().psql(&name, "SELECT count(*) FROM ssa_schema"),
        SCHEMA_VERSION.to_string()
    );
}

#[test]
fn nodes_starting_together_on_a_fresh_database_migrate_once() {
    let url = cluster().fresh_database();
    let name = Cluster::database_name(&url).to_owned();
    std::thread::scope(|s| {
        let starts: Vec<_> = (0..4)
            .map(|_| s.spawn(|| Database::connect(&url)))
            .collect();
        for start in starts {
            start.join().unwrap().unwrap();
        }
    });
    assert_eq!(
        cluster().psql(&name, "SELECT count(*) FROM ssa_schema"),
        SCHEMA_VERSION.to_string()
    );
}

#[test]
fn a_newer_schema_is_refused_and_left_as_it_is() {
    let url = cluster().fresh_database();
    let name = Cluster::database_name(&url).to_owned();
    Database::connect(&url).unwrap();
    let future = SCHEMA_VERSION + 1;
    cluster().psql(
        &name,
        &format!("INSERT INTO ssa_schema (version) VALUES ({future})"),
    );
    match Database::connect(&url) {
        Err(OpenError::SchemaTooNew { found, supported }) => {
            assert_eq!((found, supported), (future, SCHEMA_VERSION));
        }
        other => panic!("a newer schema was not refused: {other:?}"),
    }
    assert_eq!(
        cluster().psql(&name, "SELECT max(version) FROM ssa_schema"),
        future.to_string()
    );
}

#[test]
fn a_database_that_is_not_there_is_a_typed_error() {
    // A socket directory with no server in it.
    let empty = tempfile::tempdir().unwrap();
    let url = format!("postgres://ssa@/ssa?host={}", empty.path().display());
    match Database::connect(&url) {
        Err(e @ OpenError::Connect(_)) => {
            assert_eq!(e.to_string(), "cannot connect to the database");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Database::connect("postgres://ssa@/ssa?host=/nonexistent&port=notanumber"),
        Err(OpenError::Url(_))
    ));
    // A database that does not exist on a running cluster.
    let missing = cluster().url("no_such_database");
    assert!(matches!(
        Database::connect(&missing),
        Err(OpenError::Connect(_))
    ));
}

#[test]
fn a_database_that_goes_away_is_a_typed_store_error() {
    // A cluster of its own, stopped under a connected store.
    let own = Cluster::start();
    let url = own.fresh_database();
    let db = Database::connect_with(
        &url,
        ssa_store_postgres::PoolOptions {
            connection_timeout: std::time::Duration::from_millis(500),
            retry_for: std::time::Duration::from_millis(500),
            ..Default::default()
        },
    )
    .unwrap();
    let accounts = PgAccountStore::new(db);
    accounts.put("alice", b"one").unwrap();
    own.stop();
    assert!(matches!(
        accounts.put("alice", b"two"),
        Err(StoreError::Backend { .. })
    ));
    assert!(matches!(
        accounts.get("alice"),
        Err(StoreError::Backend { .. })
    ));
    own.resume();
    // Back without a restart of the store; the failed write changed nothing.
    assert_eq!(accounts.get("alice").unwrap().as_deref(), Some(&b"one"[..]));
}

#[test]
fn a_restart_between_reserve_and_release_neither_spends_nor_loses_the_sad() {
    use ssa_store::{ConsumptionLedger, LedgerError, UseRequest};
    use ssa_store_postgres::PgLedger;
    let own = Cluster::start();
    let url = own.fresh_database();
    let ledger = PgLedger::new(Database::connect(&url).unwrap());
    let digests = [b"d1".to_vec()];
    let request = UseRequest {
        jti: "sad-1",
        num: 1,
        iat: 1_000,
        exp: 4_000_000_000,
        now: 1_000,
        forget_before: 0,
        digests: &digests,
        bound: true,
    };
    let held = ledger.reserve(&request).unwrap();
    // Every pooled connection dies with the restart.
    own.restart();
    // The release reaches the database on a new connection (the dead one
    // failed; the reservation, looked up, was still held: tried again).
    ledger.release(&held).unwrap();
    // Not consumed: the SAD can be reserved, spent, and then no more.
    let again = ledger.reserve(&request).unwrap();
    own.restart();
    ledger.commit(&again).unwrap();
    assert!(matches!(
        ledger.reserve(&request),
        Err(LedgerError::Exhausted { .. })
    ));
    assert_eq!(
        own.psql(
            Cluster::database_name(&url),
            "SELECT committed || ' ' || reserved FROM ssa_ledger_sad WHERE jti = 'sad-1'"
        ),
        "1 0"
    );
}

#[test]
fn a_sweep_forgets_expired_sads_and_keeps_refusing_their_time() {
    use ssa_store::{ConsumptionLedger, LedgerError, UseRequest};
    use ssa_store_postgres::PgLedger;
    let url = cluster().fresh_database();
    let name = Cluster::database_name(&url).to_owned();
    // Every reservation sweeps.
    let ledger = PgLedger::new(Database::connect(&url).unwrap()).sweep_every(1);
    let other = PgLedger::new(Database::connect(&url).unwrap());
    let one = [b"d".to_vec()];
    let old = UseRequest {
        jti: "old",
        num: 1,
        iat: 1_000,
        exp: 2_000,
        now: 1_500,
        forget_before: 0,
        digests: &one,
        bound: false,
    };
    let r = ledger.reserve(&old).unwrap();
    ledger.commit(&r).unwrap();
    // Later, the verifier refuses what expired before 3 000: the next
    // reservation sweeps "old" away and keeps its time.
    let later = UseRequest {
        jti: "later",
        iat: 3_500,
        exp: 4_000,
        now: 3_500,
        forget_before: 3_000,
        ..old
    };
    ledger.reserve(&later).unwrap();
    assert_eq!(
        cluster().psql(
            &name,
            "SELECT count(*) FROM ssa_ledger_sad WHERE jti = 'old'"
        ),
        "0",
        "an expired SAD was not forgotten"
    );
    assert_eq!(
        cluster().psql(&name, "SELECT lo || '-' || hi FROM ssa_ledger_forgotten"),
        "1000-2000"
    );
    // A clock stepped back: the forgotten SAD shown again is refused, on
    // any handle, and so is any SAD valid in its time; one valid later is not.
    for handle in [&ledger, &other] {
        assert!(matches!(
            handle.reserve(&UseRequest {
                forget_before: 0,
                ..old
            }),
            Err(LedgerError::Forgotten { horizon: 2_001, .. })
        ));
    }
    assert!(matches!(
        other.reserve(&UseRequest {
            jti: "inside",
            iat: 1_900,
            exp: 2_100,
            ..old
        }),
        Err(LedgerError::Forgotten { .. })
    ));
    other
        .reserve(&UseRequest {
            jti: "after",
            iat: 2_500,
            exp: 2_900,
            ..old
        })
        .unwrap();
    // A SAD with a reservation in flight is not swept, expired or not.
    let held = other
        .reserve(&UseRequest {
            jti: "held",
            iat: 2_950,
            exp: 2_990,
            ..old
        })
        .unwrap();
    ledger
        .reserve(&UseRequest {
            jti: "sweeper",
            forget_before: 5_000,
            ..later
        })
        .unwrap();
    assert_eq!(
        cluster().psql(
            &name,
            "SELECT count(*) FROM ssa_ledger_sad WHERE jti = 'held'"
        ),
        "1"
    );
    other.commit(&held).unwrap();
}

#[test]
fn a_database_of_version_1_is_upgraded_with_a_reservation_in_flight() {
    use ssa_store::{ConsumptionLedger, LedgerError, Reservation, UseRequest};
    use ssa_store_postgres::PgLedger;
    let url = cluster().fresh_database();
    let name = Cluster::database_name(&url).to_owned();
    // What a node of version 1 left: its schema, and a SAD with one use
    // reserved (reservation 7) and not yet committed.
    cluster().psql(
        &name,
        &format!(
            "CREATE TABLE ssa_schema (version integer PRIMARY KEY, \
             applied timestamptz NOT NULL DEFAULT now()); {} \
             INSERT INTO ssa_schema (version) VALUES (1); \
             INSERT INTO ssa_ledger_sad (jti, num, iat, exp, reserved) \
             VALUES ('sad', 1, 1000, 4000000000, 1); \
             INSERT INTO ssa_ledger_reservation (id, jti, at, count, digests) \
             VALUES (7, 'sad', 1000, 1, ARRAY['\\x6431'::bytea]);",
            include_str!("../migrations/0001_stores.sql")
        ),
    );
    let ledger = PgLedger::new(Database::connect(&url).unwrap());
    assert_eq!(
        cluster().psql(
            &name,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM ssa_schema"
        ),
        "1,2,3"
    );
    // The new functions end the old reservation: spent, and no more.
    ledger.commit(&Reservation::new("sad", "7")).unwrap();
    let digests = [b"d2".to_vec()];
    assert!(matches!(
        ledger.reserve(&UseRequest {
            jti: "sad",
            num: 1,
            iat: 1_000,
            exp: 4_000_000_000,
            now: 1_000,
            forget_before: 0,
            digests: &digests,
            bound: true,
        }),
        Err(LedgerError::Exhausted { .. })
    ));
    assert_eq!(
        cluster().psql(
            &name,
            "SELECT committed || ' ' || reserved || ' ' || (SELECT count(*) FROM ssa_ledger_reservation) \
             FROM ssa_ledger_sad WHERE jti = 'sad'"
        ),
        "1 0 0"
    );
}

#[test]
fn a_reserve_whose_connection_is_cut_is_looked_up_and_made_once() {
    use ssa_store::{ConsumptionLedger, UseRequest};
    use ssa_store_postgres::PgLedger;
    let url = cluster().fresh_database();
    let name = Cluster::database_name(&url).to_owned();
    let ledger = PgLedger::new(Database::connect(&url).unwrap());
    let digests = [b"d".to_vec()];
    let request = UseRequest {
        jti: "sad",
        num: 5,
        iat: 1_000,
        exp: 4_000_000_000,
        now: 1_000,
        forget_before: 0,
        digests: &digests,
        bound: false,
    };
    ledger.reserve(&request).unwrap();
    // Another client holds the SAD's row: the next reserve waits for it.
    let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut holding = other.transaction().unwrap();
    holding
        .execute(
            "SELECT 1 FROM ssa_ledger_sad WHERE jti = 'sad' FOR UPDATE",
            &[],
        )
        .unwrap();
    std::thread::scope(|s| {
        let waiting = s.spawn(|| ledger.reserve(&request));
        // Its connection is cut while it waits (nothing of it applied).
        let mut cut = false;
        for _ in 0..200 {
            let killed = cluster().psql(
                &name,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE wait_event_type = 'Lock' AND query LIKE '%ssa_ledger_reserve%'",
            );
            if killed == "1" {
                cut = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(cut, "the reserve never waited on the row lock");
        holding.commit().unwrap();
        // Looked up (not held), made again on another connection: once.
        waiting.join().unwrap().unwrap();
    });
    assert_eq!(
        cluster().psql(
            &name,
            "SELECT reserved || ' ' || (SELECT count(*) FROM ssa_ledger_reservation) \
             FROM ssa_ledger_sad WHERE jti = 'sad'"
        ),
        "2 2"
    );
}

#[test]
fn a_refused_statement_fails_at_once_and_a_database_down_is_waited_for_until_the_deadline() {
    use std::time::{Duration, Instant};
    let own = Cluster::start();
    let url = own.fresh_database();
    let name = Cluster::database_name(&url).to_owned();
    let handle = |retry_for| {
        PgAccountStore::new(
            Database::connect_with(
                &url,
                ssa_store_postgres::PoolOptions {
                    connection_timeout: Duration::from_millis(500),
                    retry_for,
                    ..Default::default()
                },
            )
            .unwrap(),
        )
    };
    let retry_for = Duration::from_secs(2);
    let accounts = handle(retry_for);
    let patient = handle(Duration::from_secs(60));
    accounts.put("alice", b"one").unwrap();

    // Refused by the database (its table is gone), not a lost connection:
    // not retried.
    own.psql(&name, "ALTER TABLE ssa_account RENAME TO ssa_account_gone");
    let started = Instant::now();
    assert!(matches!(
        accounts.get("alice"),
        Err(StoreError::Backend { .. })
    ));
    assert!(
        started.elapsed() < retry_for,
        "a refused statement was retried for {:?}",
        started.elapsed()
    );
    own.psql(&name, "ALTER TABLE ssa_account_gone RENAME TO ssa_account");

    // Down: tried again until `retry_for` has passed, then a typed error.
    own.stop();
    let started = Instant::now();
    assert!(matches!(
        accounts.get("alice"),
        Err(StoreError::Backend { .. })
    ));
    let took = started.elapsed();
    assert!(
        took >= retry_for && took < retry_for * 5,
        "gave up after {took:?}"
    );

    // Down for less than `retry_for`: the call waits and succeeds.
    std::thread::scope(|s| {
        let waiting = s.spawn(|| patient.get("alice"));
        std::thread::sleep(Duration::from_millis(500));
        own.resume();
        assert_eq!(
            waiting.join().unwrap().unwrap().as_deref(),
            Some(&b"one"[..])
        );
    });
}
