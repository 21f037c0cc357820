//! The audit trail in PostgreSQL: two writers (two pools, as two nodes)
//! extend one chain, and `examples/audit_verify --database-url` finds it
//! intact, then finds a record edited or deleted behind the nodes' backs
//! (with psql, as someone with database access would).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use ssa::audit::{AuditLog, AuditOptions, Entry, Event, Outcome};
use ssa_store_postgres::{Database, PgAuditSink};
use ssa_testkit::postgres::Cluster;

fn audit_verify(url: &str) -> Output {
    let test_exe = std::env::current_exe().unwrap();
    let profile_dir: PathBuf = test_exe.parent().unwrap().parent().unwrap().into();
    Command::new(profile_dir.join("examples").join("audit_verify"))
        .args(["--database-url", url])
        .output()
        .unwrap()
}

#[test]
fn two_writers_make_one_chain_that_audit_verify_checks_in_the_database() {
    let cluster = Cluster::start();
    cluster.create_database("trail");
    let url = cluster.url("trail");
    std::thread::scope(|s| {
        for writer in ["node-a", "node-b"] {
            let url = &url;
            s.spawn(move || {
                let sink = Arc::new(PgAuditSink::new(Database::connect(url).unwrap()));
                let log = AuditLog::over(sink, AuditOptions::default()).unwrap();
                for i in 0..100u64 {
                    let entry = Entry::new(Event::KeyBackup, writer, Outcome::Success)
                        .credential(format!("{writer}/{i}"));
                    log.append(entry, 1_700_000_000 + i).unwrap();
                }
            });
        }
    });
    let out = audit_verify(&url);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains(": 200 records"), "{said}");
    assert!(said.contains("\nintact"), "{said}");

    // Edited in the database: found, and named.
    cluster.psql(
        "trail",
        "UPDATE ssa_audit_record SET record = \
         convert_to(replace(convert_from(record, 'UTF8'), 'node-a', 'node-x'), 'UTF8') \
         WHERE seq = (SELECT min(seq) FROM ssa_audit_record \
                      WHERE convert_from(record, 'UTF8') LIKE '%node-a%' AND seq > 50)",
    );
    let out = audit_verify(&url);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("was edited"), "{said}");

    // Deleted: found too.
    cluster.psql("trail", "DELETE FROM ssa_audit_record WHERE seq = 120");
    let out = audit_verify(&url);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("PROBLEM"), "{said}");
}
