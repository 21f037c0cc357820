//! Checks an audit log and its checkpoints, and reports every edited,
//! deleted, reordered or truncated record.
//!
//! ```text
//! cargo run --example audit_verify -- LOG [--key KEY_ID:PUBLIC_KEY_HEX] [--sealed COUNT:HEAD]
//! cargo run --example audit_verify -- --database-url postgres://USER@HOST/DB [--key …] [--sealed …]
//! ```
//!
//! With `--database-url` the trail is read from the PostgreSQL database
//! the nodes share (`ssa-store-postgres`), records in sequence order, and
//! checked the same way.
//!
//! `--key` checks checkpoint signatures (ECDSA P-256 point or Ed25519 key,
//! hex); `--sealed` is a checkpoint kept apart from the log, which reveals
//! records cut from its end. Exits 1 if anything is wrong; a torn tail
//! alone (a torn last record or a last unit of records cut short: what a
//! crash mid-write leaves, and what the log cuts, with a `recovered`
//! record, when it is next appended to) is reported as such and is not
//! tampering (exit 0).

#[path = "support/exit.rs"]
mod support;

use ssa::audit::{CheckpointVerifier, Problem, PublicKeyVerifier, scan_with};

fn hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn describe(problem: &Problem) -> String {
    match problem {
        Problem::Edited { seq } => {
            format!("record {seq} was edited (its hash does not match its contents)")
        }
        Problem::Deleted { from, to } => format!("records {from}..{to} were deleted"),
        Problem::Reordered { seq } => format!("record {seq} is out of order"),
        Problem::BrokenLink { seq } => format!("record {seq} does not follow the record before it"),
        Problem::BadCheckpoint { seq } => {
            format!("checkpoint {seq} does not hold (count, head or signature)")
        }
        Problem::TornRecord { offset } => format!("the record at byte {offset} is truncated"),
        Problem::Truncated { expected, found } => {
            format!("records were cut from the end: {found} of {expected} sealed")
        }
        Problem::Malformed { line } => format!("line {line} is not a record"),
        Problem::BrokenUnit { seq } => {
            format!("record {seq} does not continue the unit of records before it")
        }
        Problem::UnfinishedUnit { seq } => {
            format!("the unit of records from {seq} ends early (a write cut short)")
        }
        other => format!("{other:?}"),
    }
}

/// Checks an audit log: the hash chain, and with --key the signed
/// checkpoints.
#[derive(clap::Parser, Debug)]
#[command(name = "audit_verify")]
struct Cli {
    /// The audit log file.
    #[arg(
        required_unless_present = "database_url",
        conflicts_with = "database_url"
    )]
    log: Option<std::path::PathBuf>,
    /// Read the trail from this PostgreSQL database instead of a file.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// The checkpoint key, KEY_ID:HEX (the ECDSA P-256 point or Ed25519 key, hex).
    #[arg(long, value_name = "KEY_ID:HEX")]
    key: Option<String>,
    /// A head kept elsewhere, COUNT:HEAD: the log must still hold it.
    #[arg(long, value_name = "COUNT:HEAD")]
    sealed: Option<String>,
}

fn main() -> std::process::ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    support::exit("audit_verify", run(&cli))
}

fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let key = match &cli.key {
        Some(value) => {
            let (id, public) = value.split_once(':').ok_or("--key needs KEY_ID:HEX")?;
            Some(PublicKeyVerifier {
                key_id: id.to_owned(),
                public_key: hex(public).ok_or("the key of --key is not hex")?,
            })
        }
        None => None,
    };
    let sealed = match &cli.sealed {
        Some(value) => {
            let (count, head) = value.split_once(':').ok_or("--sealed needs COUNT:HEAD")?;
            Some((
                count
                    .parse::<u64>()
                    .map_err(|_| "the COUNT of --sealed is not a number")?,
                head.to_owned(),
            ))
        }
        None => None,
    };
    let (log, bytes) = match (&cli.log, &cli.database_url) {
        (Some(path), _) => {
            let log = path.display().to_string();
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {log}: {e}"))?;
            (log, bytes)
        }
        (None, Some(url)) => {
            use ssa::store::AuditSink;
            let db = ssa_store_postgres::Database::connect(url)?;
            let mut bytes = Vec::new();
            for record in ssa_store_postgres::PgAuditSink::new(db).read_from(0)? {
                bytes.extend_from_slice(record.as_bytes());
                bytes.push(b'\n');
            }
            ("the database's audit trail".to_owned(), bytes)
        }
        (None, None) => return Err("give a LOG file or --database-url".into()),
    };
    let verifier = key.as_ref().map(|k| k as &dyn CheckpointVerifier);
    let report = scan_with(
        &bytes,
        verifier,
        sealed.as_ref().map(|(c, h)| (*c, h.as_str())),
    );
    println!(
        "{log}: {} records, {} checkpoints verified, head {}",
        report.records, report.checkpoints, report.head
    );
    if key.is_none() {
        println!("(checkpoint signatures not checked: no --key given)");
    }
    if report.records_since_checkpoint > 0 {
        println!(
            "{} records after the last checkpoint are not sealed yet",
            report.records_since_checkpoint
        );
    }
    for problem in &report.problems {
        println!("PROBLEM: {}", describe(problem));
    }
    if report.is_intact() {
        println!("intact");
        Ok(())
    } else if report.only_a_torn_tail() {
        println!(
            "intact but for a torn tail (a crash mid-write; never acknowledged, cut with a `recovered` record when the log is next appended to)"
        );
        Ok(())
    } else {
        Err(format!("{log} is not intact").into())
    }
}
