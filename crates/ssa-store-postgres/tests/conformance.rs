//! Every conformance suite of ssa-store against PostgreSQL: a private
//! cluster for this test process, a fresh database per store, and two
//! handles on it with pools of their own (as two nodes would have).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, OnceLock};

use ssa_store::conformance::{self, Pair};
use ssa_store::{
    AccountStore, AuditSink, BearerTokenStore, ChallengeStore, ConsumptionLedger, CredentialStore,
    EnrolmentStore, GrantStore, LockoutStore,
};
use ssa_store_postgres::{
    Database, PgAccountStore, PgAuditSink, PgBearerTokenStore, PgChallengeStore, PgCredentialStore,
    PgEnrolmentStore, PgGrantStore, PgLedger, PgLockoutStore,
};
use ssa_testkit::postgres::Cluster;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

/// Two databases handles (two pools) on one fresh database.
fn two_nodes() -> (Database, Database) {
    let url = cluster().fresh_database();
    (
        Database::connect(&url).unwrap(),
        Database::connect(&url).unwrap(),
    )
}

macro_rules! suite {
    ($test:ident, $suite:ident, $trait:ident, $make:expr) => {
        #[test]
        fn $test() {
            conformance::$suite(&|| {
                let (a, b) = two_nodes();
                let make = $make;
                let a: Arc<dyn $trait> = Arc::new(make(a));
                let b: Arc<dyn $trait> = Arc::new(make(b));
                Pair {
                    a,
                    b,
                    guard: Box::new(()),
                }
            });
        }
    };
}

suite!(
    lockout_store,
    lockout_store,
    LockoutStore,
    PgLockoutStore::new
);
suite!(
    challenge_store,
    challenge_store,
    ChallengeStore,
    PgChallengeStore::new
);
suite!(
    consumption_ledger,
    consumption_ledger,
    ConsumptionLedger,
    PgLedger::new
);
suite!(
    enrolment_store,
    enrolment_store,
    EnrolmentStore,
    PgEnrolmentStore::new
);
suite!(
    credential_store,
    credential_store,
    CredentialStore,
    PgCredentialStore::new
);
suite!(audit_sink, audit_sink, AuditSink, PgAuditSink::new);
suite!(
    bearer_token_store,
    bearer_token_store,
    BearerTokenStore,
    PgBearerTokenStore::new
);
suite!(grant_store, grant_store, GrantStore, PgGrantStore::new);
suite!(
    account_store,
    account_store,
    AccountStore,
    PgAccountStore::new
);
