//! Load on a running CSC server: N clients, each logs in once, then
//! authorizes (PIN) and signs K hashes in a loop, one SAD per request.
//!
//! ```text
//! cargo run -p ssa-csc --release -- --data ./bench-data --min-scal 1 &
//! cargo run -p ssa-csc --release --example csc_load -- \
//!     --url http://127.0.0.1:8080 --data ./bench-data --clients 16 --duration 10 --batch 1 [--mode doc|hash] [--json]
//! cargo run -p ssa-csc --release --example csc_load -- --in-process --data ./other-data …
//! ```
//!
//! `--in-process` runs the same operations without a server, over the same
//! kind of provider (file stores, PIN costs, fsyncs): the two runs side by
//! side give what the HTTP layer costs.
//!
//! The load signers (SCAL1, P-256, soft keys) are enrolled into the
//! server's data directory first (`--data`; the server must run on soft
//! keys with `--min-scal 1`). A progress line goes to stderr; the result
//! (signatures per second, p50/p99/max of one authorize + sign cycle, and
//! each phase's median) to stdout.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64ct::{Base64, Encoding};
use clap::Parser;
use serde_json::{Value, json};
use ssa::{HashAlgorithm, KeyAlgorithm, Scal};
use ssa_csc::provider::{EnrolledSigner, Provider, ProviderOptions, SignerSpec};

/// Load on a running CSC server.
#[derive(Parser, Debug)]
#[command(name = "csc_load")]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8080; repeated for several nodes
    /// (the clients are spread over them in turn).
    #[arg(long, required_unless_present = "in_process")]
    url: Vec<String>,
    /// No server: the same operations (`CscService::authorize` and
    /// `sign_documents`/`sign_hash`) called in this process over the data
    /// directory's provider — the same stores, PIN costs and fsyncs, without
    /// HTTP, JSON and the async runtime.
    #[arg(long, conflicts_with = "url")]
    in_process: bool,
    /// The server's data directory, where the load signers are enrolled.
    #[arg(long)]
    data: std::path::PathBuf,
    /// The server's database (its --database-url), where the load signers
    /// are enrolled; without it, the data directory's files.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Clients at once (each its own signer and connection).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    clients: u64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Hashes per authorize and per sign request.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100))]
    batch: u64,
    /// doc (signDoc, CAdES B-B) or hash (signHash, raw signatures).
    #[arg(long, default_value = "doc", value_parser = ["doc", "hash"])]
    mode: String,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Enrol the load signers' PINs with Argon2id at m=64 KiB, t=1 instead
    /// of the default (19 MiB, t=2): never for production; it shows what
    /// the PIN hash costs an authorization.
    #[arg(long)]
    light_pins: bool,
}

/// What one client measured.
#[derive(Default)]
struct Measured {
    cycles: Vec<Duration>,
    authorize: Vec<Duration>,
    sign: Vec<Duration>,
    failures: Vec<String>,
}

struct Client {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Client {
    fn post(&self, endpoint: &str, body: &Value) -> Result<Value, String> {
        let mut response = self
            .agent
            .post(format!("{}/{endpoint}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .send_json(body)
            .map_err(|e| format!("{endpoint}: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{endpoint}: {e}"))?;
        if status != 200 {
            return Err(format!("{endpoint}: {status} {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{endpoint}: {e}"))
    }
}

fn login(url: &str, enrolled: &EnrolledSigner) -> Result<Client, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let basic = Base64::encode_string(
        format!("{}:{}", enrolled.signer, enrolled.password.as_str()).as_bytes(),
    );
    let base = format!("{url}/csc/v2");
    let mut response = agent
        .post(format!("{base}/auth/login"))
        .header("Authorization", format!("Basic {basic}"))
        .send_empty()
        .map_err(|e| format!("login: {e}"))?;
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("login: {e}"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("login: {e}: {text}"))?;
    let token = value["access_token"]
        .as_str()
        .ok_or_else(|| format!("login refused: {text}"))?
        .to_owned();
    Ok(Client { agent, base, token })
}

fn run_client(
    client: &Client,
    enrolled: &EnrolledSigner,
    cli: &Cli,
    stop: &AtomicBool,
    signed: &AtomicU64,
) -> Measured {
    let mut measured = Measured::default();
    let document_mode = cli.mode == "doc";
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let hashes: Vec<String> = (0..cli.batch)
            .map(|_| {
                n += 1;
                let digest = HashAlgorithm::Sha256
                    .digest(format!("{} document {n}", enrolled.credential).as_bytes());
                Base64::encode_string(&digest)
            })
            .collect();
        let started = Instant::now();
        let authorized = client.post(
            "credentials/authorize",
            &json!({
                "credentialID": enrolled.credential, "numSignatures": hashes.len(),
                "hashes": hashes, "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                "signingMode": if document_mode { "document" } else { "dtbsr" },
                "authData": [{ "id": "PIN", "value": enrolled.pin.as_str() }],
            }),
        );
        let authorized_at = Instant::now();
        let answer = authorized.and_then(|body| {
            if document_mode {
                client.post(
                    "signatures/signDoc",
                    &json!({
                        "credentialID": enrolled.credential, "SAD": body["SAD"],
                        "documentDigests": [{
                            "hashes": hashes, "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                            "signature_format": "C", "conformance_level": "Ades-B-B",
                        }],
                    }),
                )
            } else {
                client.post(
                    "signatures/signHash",
                    &json!({
                        "credentialID": enrolled.credential, "SAD": body["SAD"], "hashes": hashes,
                        "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                        "signAlgo": "1.2.840.10045.4.3.2",
                    }),
                )
            }
        });
        let done = Instant::now();
        match answer {
            Ok(_) => {
                measured.cycles.push(done - started);
                measured.authorize.push(authorized_at - started);
                measured.sign.push(done - authorized_at);
                signed.fetch_add(cli.batch, Ordering::Relaxed);
            }
            Err(e) => measured.failures.push(e),
        }
    }
    measured
}

/// [`run_client`] without the server: the CSC operations called directly.
fn run_in_process(
    csc: &ssa_csc::CscService,
    enrolled: &EnrolledSigner,
    cli: &Cli,
    stop: &AtomicBool,
    signed: &AtomicU64,
) -> Measured {
    let mut measured = Measured::default();
    let document_mode = cli.mode == "doc";
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let hashes: Vec<Vec<u8>> = (0..cli.batch)
            .map(|_| {
                n += 1;
                HashAlgorithm::Sha256
                    .digest(format!("{} document {n}", enrolled.credential).as_bytes())
            })
            .collect();
        let started = Instant::now();
        let now = SystemTime::now();
        let authorized = csc.authorize(
            &enrolled.signer,
            ssa_csc::Authorize {
                credential: enrolled.credential.clone(),
                num: u32::try_from(hashes.len()).unwrap_or(u32::MAX),
                hash: HashAlgorithm::Sha256,
                hashes: hashes.clone(),
                mode: if document_mode {
                    ssa::SigningMode::Document
                } else {
                    ssa::SigningMode::Dtbsr
                },
                pin: Some(ssa::Pin::new(enrolled.pin.as_str())),
                otp: None,
                request_id: None,
            },
            now,
        );
        let authorized_at = Instant::now();
        let answer = authorized.and_then(|(sad, _)| {
            if document_mode {
                csc.sign_documents(
                    &enrolled.signer,
                    &enrolled.credential,
                    &sad,
                    &hashes,
                    None,
                    ssa::Level::BB,
                    None,
                    SystemTime::now(),
                )
            } else {
                csc.sign_hash(
                    &enrolled.signer,
                    &enrolled.credential,
                    &sad,
                    &hashes,
                    ssa::SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
                    None,
                    SystemTime::now(),
                )
            }
        });
        let done = Instant::now();
        match answer {
            Ok(_) => {
                measured.cycles.push(done - started);
                measured.authorize.push(authorized_at - started);
                measured.sign.push(done - authorized_at);
                signed.fetch_add(cli.batch, Ordering::Relaxed);
            }
            Err(e) => measured.failures.push(e.to_string()),
        }
    }
    measured
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut options = ProviderOptions::new(&cli.data);
    options.requests.default_scal = Scal::Scal1;
    options.database = cli.database_url.clone();
    if cli.light_pins {
        options.pin_policy = ssa::sad::PinPolicy {
            m_cost: 64,
            t_cost: 1,
            p_cost: 1,
            min_len: 4,
        };
    }
    let provider = Provider::open(options)?;
    let run_id = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let mut signers = Vec::new();
    let mut in_process = None;
    for i in 0..cli.clients {
        let name = format!("load-{run_id}-{i}");
        signers.push(provider.enrol(
            &SignerSpec {
                signer: name.clone(),
                credential: format!("{name}/1"),
                key: KeyAlgorithm::EcP256,
                scal: Scal::Scal1,
                subject: format!("CN={name}"),
            },
            SystemTime::now(),
        )?);
    }
    let clients = if cli.url.is_empty() {
        in_process = Some(provider.csc());
        signers.iter().map(|_| None).collect()
    } else {
        drop(provider);
        signers
            .iter()
            .enumerate()
            .map(|(i, enrolled)| login(&cli.url[i % cli.url.len()], enrolled).map(Some))
            .collect::<Result<Vec<_>, String>>()?
    };
    let stop = Arc::new(AtomicBool::new(false));
    let signed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let results: Vec<Measured> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .zip(&signers)
            .map(|(client, enrolled)| {
                let (stop, signed) = (Arc::clone(&stop), Arc::clone(&signed));
                let csc = in_process.clone();
                scope.spawn(move || match (client, csc) {
                    (Some(client), _) => run_client(client, enrolled, cli, &stop, &signed),
                    (None, Some(csc)) => run_in_process(&csc, enrolled, cli, &stop, &signed),
                    (None, None) => Measured::default(),
                })
            })
            .collect();
        let deadline = started + Duration::from_secs(cli.duration);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_secs(1).min(deadline - Instant::now()));
            let elapsed = started.elapsed().as_secs_f64();
            let count = signed.load(Ordering::Relaxed);
            eprint!(
                "\r{elapsed:5.1} s  {count} signatures  {:.1}/s   ",
                count as f64 / elapsed
            );
        }
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    eprintln!();
    let elapsed = started.elapsed().as_secs_f64();
    let mut cycles: Vec<Duration> = results.iter().flat_map(|m| m.cycles.clone()).collect();
    let mut authorize: Vec<Duration> = results.iter().flat_map(|m| m.authorize.clone()).collect();
    let mut sign: Vec<Duration> = results.iter().flat_map(|m| m.sign.clone()).collect();
    cycles.sort();
    authorize.sort();
    sign.sort();
    let failures: Vec<&String> = results.iter().flat_map(|m| &m.failures).collect();
    let signatures = signed.load(Ordering::Relaxed);
    let summary = json!({
        "url": cli.url, "in_process": cli.in_process, "mode": cli.mode, "clients": cli.clients, "batch": cli.batch,
        "light_pins": cli.light_pins,
        "seconds": elapsed, "signatures": signatures,
        "signatures_per_s": signatures as f64 / elapsed,
        "cycle_ms": { "p50": percentile(&cycles, 0.5), "p99": percentile(&cycles, 0.99), "max": percentile(&cycles, 1.0) },
        "authorize_ms_p50": percentile(&authorize, 0.5),
        "sign_ms_p50": percentile(&sign, 0.5),
        "failures": failures.len(),
    });
    if cli.json {
        println!("{summary}");
    } else {
        println!(
            "{signatures} signatures in {elapsed:.1} s: {:.1}/s; cycle p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (authorize p50 {:.1} ms, sign p50 {:.1} ms); {} failures",
            signatures as f64 / elapsed,
            percentile(&cycles, 0.5),
            percentile(&cycles, 0.99),
            percentile(&cycles, 1.0),
            percentile(&authorize, 0.5),
            percentile(&sign, 0.5),
            failures.len()
        );
    }
    if let Some(first) = failures.first() {
        return Err(format!("{} requests failed; the first: {first}", failures.len()).into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("csc_load: {error}");
            ExitCode::FAILURE
        }
    }
}
