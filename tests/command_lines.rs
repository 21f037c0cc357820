//! Every command-line program answers `--help` (each flag documented, with
//! its default), refuses a wrong flag with a usage message, and prints an
//! error as sentences with their causes and a non-zero exit — never
//! `Debug` output.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// `target/<profile>/examples/NAME`, built by `cargo test` with the tests.
fn example(name: &str) -> PathBuf {
    let test_exe = std::env::current_exe().unwrap();
    let profile_dir = test_exe.parent().unwrap().parent().unwrap();
    profile_dir.join("examples").join(name)
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name)).args(args).output().unwrap()
}

/// Each program and flags its help must document, with their defaults.
const PROGRAMS: &[(&str, &[&str])] = &[
    (
        "quickstart",
        &["--out", "[default: quickstart-out]", "--tsa"],
    ),
    ("softhsm", &["--out", "[default: softhsm-out]", "--tsa"]),
    (
        "hsm_bench",
        &[
            "--backend",
            "[default: soft]",
            "--module",
            "--token",
            "--pin-env",
            "--alg",
            "[default: p256]",
            "--threads",
            "--duration",
            "[default: 10]",
            "--mode",
            "--batch",
            "--no-fsync",
            "--stores",
            "[default: memory]",
            "--database-url",
            "--key-cache",
            "--json",
        ],
    ),
    (
        "audit_verify",
        &["[LOG]", "--database-url", "--key", "--sealed"],
    ),
    (
        "tsa_batch",
        &[
            "--signatures",
            "--delay",
            "[default: 2]",
            "--concurrency",
            "[default: 8]",
        ],
    ),
];

#[test]
fn every_program_answers_help_with_every_flag() {
    for (name, flags) in PROGRAMS {
        let out = run(name, &["--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name} --help failed");
        for flag in *flags {
            assert!(
                help.contains(flag),
                "{name} --help does not say {flag}:\n{help}"
            );
        }
    }
}

#[test]
fn a_wrong_flag_gets_a_usage_message_and_a_non_zero_exit() {
    for (name, _) in PROGRAMS {
        let out = run(name, &["--no-such-flag"]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} accepted a wrong flag");
        assert!(
            said.contains("unexpected argument '--no-such-flag'"),
            "{name}: {said}"
        );
        assert!(said.contains("Usage:"), "{name}: {said}");
    }
}

#[test]
fn errors_are_sentences_with_their_causes() {
    let out = run("audit_verify", &["/no/such/audit.log"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.starts_with("audit_verify: cannot read /no/such/audit.log: "),
        "{said}"
    );
    assert!(!said.contains("Error: \""), "{said}");
    // A database that is not there: a sentence, its cause, a failed exit.
    let empty = tempfile::tempdir().unwrap();
    let url = format!("postgres://ssa@/ssa?host={}", empty.path().display());
    let out = run("audit_verify", &["--database-url", &url]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.starts_with("audit_verify: cannot connect to the database: "),
        "{said}"
    );
    // The quickstart cannot write under a file.
    let file = tempfile::NamedTempFile::new().unwrap();
    let out_dir = file.path().join("out");
    let out = run("quickstart", &["--out", out_dir.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.starts_with("quickstart: "), "{said}");
    assert!(!said.contains("Os {"), "{said}");
}
