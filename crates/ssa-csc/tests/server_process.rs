//! The `csc_server` binary as an operator runs it: `--help`, refusals of
//! bad command lines and unsafe set-ups, TLS with rustls, `--demo`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_csc_server"))
}

#[test]
fn help_documents_every_flag_with_its_default() {
    let out = server().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--data",
        "[default: ./csc-data]",
        "--module",
        "--token",
        "--pin-env",
        "[default: SSA_TOKEN_PIN]",
        "--tsa",
        "--token-lifetime",
        "[default: 3600]",
        "--max-failures",
        "--listen",
        "[default: 127.0.0.1:8080]",
        "--tls-cert",
        "--tls-key",
        "--insecure-http",
        "--demo",
        "--log-json",
        "--shutdown-grace",
        "--max-body",
        "--max-hashes",
        "--request-timeout",
        "--max-in-flight",
        "--database-url",
        "enrol",
        "unlock",
    ] {
        assert!(help.contains(flag), "--help does not say {flag}:\n{help}");
    }
    let out = server().args(["enrol", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--signer",
        "--credential",
        "--key",
        "[default: p256]",
        "--scal1",
        "--name",
    ] {
        assert!(
            help.contains(flag),
            "enrol --help does not say {flag}:\n{help}"
        );
    }
}

#[test]
fn bad_command_lines_and_unsafe_setups_are_refused_with_sentences() {
    let out = server().arg("--no-such-flag").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage:"));

    let data = tempfile::tempdir().unwrap();
    let out = server()
        .args([
            "--data",
            data.path().to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("refusing plain HTTP on 0.0.0.0:0"), "{said}");

    // A token that does not exist: the error and its cause, as sentences.
    let out = server()
        .args(["--data", data.path().to_str().unwrap(), "--module"])
        .arg(ssa_testkit::softhsm_module())
        .args(["--token", "no-such-token"])
        .env("SSA_TOKEN_PIN", "1234")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.starts_with("csc_server: SCDev: "), "{said}");
    assert!(!said.contains("Error: "), "{said}");

    let out = server()
        .args([
            "--data",
            data.path().to_str().unwrap(),
            "--module",
            "/lib/x.so",
            "--token",
            "t",
        ])
        .env_remove("SSA_TOKEN_PIN")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("SSA_TOKEN_PIN, which is not set"), "{said}");

    // A database that is down at start: a sentence with its cause, a
    // failed exit, and no server.
    let no_server = tempfile::tempdir().unwrap();
    let url = format!("postgres://ssa@/ssa?host={}", no_server.path().display());
    let out = server()
        .args([
            "--data",
            data.path().to_str().unwrap(),
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.starts_with("csc_server: cannot connect to the database: "),
        "{said}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"));
}

/// Starts the server; returns it and the address it printed (it is
/// waited for by [`stop`]).
#[allow(clippy::zombie_processes)]
fn start(args: &[&str], data: &Path) -> (Child, String, Vec<String>) {
    let mut child = server()
        .args(["--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the server stopped: {lines:?}"
        );
        if let Some(address) = line.trim().strip_prefix("listening on ") {
            let address = address.to_owned();
            lines.push(line);
            return (child, address, lines);
        }
        lines.push(line);
    }
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap()
}

#[test]
fn tls_with_rustls_and_a_demo_signer_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("tls.pem"), dir.path().join("tls.key"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-days",
            "1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success());
    let data = dir.path().join("data");
    let (child, url, printed) = start(
        &[
            "--demo",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        &data,
    );
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let text = printed.concat();
    assert!(text.contains("password    "), "{text}");
    assert!(text.contains("otpauth://totp/ssa:demo?secret="), "{text}");
    let kek = std::fs::metadata(data.join("kek")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&kek.permissions()) & 0o777,
        0o600
    );

    let curl = |extra: &[&str]| {
        Command::new("curl")
            .args(["-s", "-f", "--max-time", "10"])
            .args(extra)
            .arg(format!("{url}/csc/v2/info"))
            .output()
            .unwrap()
    };
    let out = curl(&["--cacert", cert.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"specs\":\"2.0.0.2\""));
    // Without the certificate trusted, the handshake fails: it is TLS.
    assert!(!curl(&[]).status.success());
    assert!(stop(child).success());

    // A second start keeps the demo signer and prints no secret again.
    let (child, _, printed) = start(&["--demo"], &data);
    let text = printed.concat();
    assert!(text.contains("exists already"), "{text}");
    assert!(!text.contains("password    "), "{text}");
    assert!(stop(child).success());
}

/// `target/<profile>/examples/NAME`, built by `cargo test` with the tests.
fn example(name: &str) -> std::path::PathBuf {
    let test_exe = std::env::current_exe().unwrap();
    test_exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}

#[test]
fn csc_load_drives_the_server_and_its_count_is_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, _) = start(&["--min-scal", "1"], dir.path());
    let out = Command::new(example("csc_load"))
        .args(["--url", &url, "--data", dir.path().to_str().unwrap()])
        .args([
            "--clients",
            "2",
            "--duration",
            "2",
            "--batch",
            "3",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let signatures = summary["signatures"].as_u64().unwrap();
    assert!(signatures > 0 && signatures.is_multiple_of(3), "{summary}");
    assert_eq!(summary["failures"], 0);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("signatures"),
        "no progress line"
    );
    let metrics = Command::new("curl")
        .args(["-s", "-f", &format!("{url}/metrics")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.stdout);
    let counted = text
        .lines()
        .find(|l| l.starts_with("csc_signatures_total{endpoint=\"/csc/v2/signatures/signDoc\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap();
    assert_eq!(counted, signatures.to_string(), "{text}");
    assert!(stop(child).success());
}

#[test]
fn log_json_writes_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = server()
        .args([
            "--data",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--log-json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let record: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(record["fields"]["message"], "listening", "{line}");
    assert!(stop(child).success());
}

#[test]
fn unlock_opens_a_locked_account_and_credential_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = ssa_csc::provider::ProviderOptions::new(dir.path());
    options.pin_policy = ssa::sad::PinPolicy {
        m_cost: 64,
        t_cost: 1,
        p_cost: 1,
        min_len: 4,
    };
    options.max_failures = 2;
    let provider = ssa_csc::provider::Provider::open(options).unwrap();
    let enrolled = provider
        .enrol(
            &ssa_csc::provider::SignerSpec {
                signer: "lee".into(),
                credential: "lee/1".into(),
                key: ssa::KeyAlgorithm::EcP256,
                scal: ssa::Scal::Scal2,
                subject: "CN=lee".into(),
            },
            std::time::SystemTime::now(),
        )
        .unwrap();
    let accounts = provider.csc().accounts().clone();
    let wrong = ssa::Pin::new("wrong password");
    for _ in 0..2 {
        let _ = accounts.login("lee", &wrong);
    }
    let right = ssa::Pin::new(enrolled.password.as_str());
    assert!(matches!(
        accounts.login("lee", &right),
        Err(ssa_csc::AccountError::Locked)
    ));
    drop(provider);
    let out = server()
        .args([
            "unlock",
            "--data",
            dir.path().to_str().unwrap(),
            "--signer",
            "lee",
        ])
        .args(["--credential", "lee/1", "--max-failures", "2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("account lee: unlocked") && said.contains("credential lee/1: unlocked"),
        "{said}"
    );
    accounts.login("lee", &right).unwrap();
    let log = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    assert!(log.contains("\"type\":\"unlock\""), "no unlock record");
    // Another signer's credential is not theirs to unlock.
    let out = server()
        .args([
            "unlock",
            "--data",
            dir.path().to_str().unwrap(),
            "--signer",
            "kim",
        ])
        .args(["--credential", "lee/1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
