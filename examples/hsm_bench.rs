//! The operators' harness: signatures per second out of an SCDev, raw or
//! through the whole pipeline (SAD verification, CAdES B-B, audit).
//!
//! ```text
//! cargo run --release --example hsm_bench -- \
//!     --backend ring|c_sign|soft|pkcs11 [--module PATH --token LABEL --pin-env VAR] \
//!     --alg p256|p384|ed25519|rsa2048|rsa3072 --threads N --duration SECONDS \
//!     --mode raw|pipeline|floor [--batch K] [--in-flight N] [--no-fsync]
//!     [--stores memory|files|postgres]
//!     [--database-url URL] [--key-cache] [--json]
//! ```
//!
//! `--backend ring` (raw mode, P-256 only) times ring's ECDSA P-256 signing
//! alone: the primitive every ratio is measured against. `--backend c_sign`
//! (P-256 only) is its PKCS#11 counterpart: bare `C_Sign` (CKM_ECDSA over a
//! SHA-256 digest) on one session per thread, with the key handle found
//! once, no SCDev around it.
//! With `--backend pkcs11` and no `--module`, a throw-away SoftHSM2 token is
//! set up for the run. `--mode pipeline` mints one SCAL2 SAD per batch of K
//! digests outside the timed section (the identity provider's work) and
//! times `SigningService::sign_documents` for the batch: SAD verification,
//! ledger, CAdES B-B per digest and the audit records (fsynced unless
//! `--no-fsync`). `--key-cache` keeps soft keys open between signatures
//! (`SoftScdev::with_key_cache`). In raw mode `--batch K` above 1 times
//! `Scdev::sign_many` of K messages (one key look-up per K signatures).
//! `--mode floor` (`--backend ring`) times the cryptography one request
//! cannot avoid and nothing else: an ES256 SAD minted and verified and one
//! P-256 signature, all in ring: the floor of every one-SAD row. With
//! `--backend c_sign` the signature is a bare `C_Sign` on the token: the
//! floor of one-SAD rows on PKCS#11.
//! `--in-flight N` (pipeline) keeps N requests in flight over the threads
//! (`SigningService::sign_documents_pending`), so requests share fsyncs.
//! Latencies are per operation: one signature or one `sign_many` (raw), one
//! floor request, one batch (pipeline; with `--in-flight`, from a request's
//! start to its delivery).

// A benchmark harness: a failed signature must stop the run loudly.
#![allow(clippy::expect_used)]

#[path = "../benches/support/pipeline.rs"]
mod pipeline;
#[path = "support/exit.rs"]
mod support;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pipeline::{Floor, Pipeline};
use ssa::scdev::pkcs11::{Pkcs11Config, Pkcs11Scdev};
use ssa::scdev::soft::SoftScdev;
use ssa::scdev::{BackupKey, KeyEncryptionKey, KeyId, KeySpec, Pin as TokenPin};
use ssa::store::Stores;
use ssa::{KeyAlgorithm, Scdev, SignInput};

#[derive(Debug)]
struct Args {
    backend: String,
    module: Option<String>,
    token: Option<String>,
    pin_env: Option<String>,
    alg: KeyAlgorithm,
    threads: usize,
    duration: u64,
    pipeline: bool,
    floor: bool,
    in_flight: usize,
    batch: usize,
    fsync: bool,
    stores: String,
    database_url: Option<String>,
    key_cache: bool,
    json: bool,
}

/// The operators' throughput harness: signatures per second out of an
/// SCDev, raw or through the whole pipeline.
#[derive(clap::Parser, Debug)]
#[command(name = "hsm_bench")]
struct Cli {
    /// ring (P-256 primitive alone), c_sign (bare PKCS#11 C_Sign, P-256),
    /// soft (the soft SCDev), pkcs11 (a token; a throw-away SoftHSM2 one
    /// without --module).
    #[arg(long, default_value = "soft", value_parser = ["ring", "c_sign", "soft", "pkcs11"])]
    backend: String,
    /// The PKCS#11 module.
    #[arg(long, requires = "token")]
    module: Option<String>,
    /// The token's label.
    #[arg(long)]
    token: Option<String>,
    /// The environment variable holding the token's user PIN.
    #[arg(long)]
    pin_env: Option<String>,
    /// The key.
    #[arg(long, value_enum, default_value_t = Alg::P256)]
    alg: Alg,
    /// Threads signing at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    threads: u64,
    /// Seconds to run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// raw (the SCDev alone), pipeline (SAD, CAdES B-B, audit) or floor
    /// (--backend ring or c_sign: the cryptography of one request and
    /// nothing else).
    #[arg(long, default_value = "raw", value_parser = ["raw", "pipeline", "floor"])]
    mode: String,
    /// Requests kept in flight over the --threads threads (pipeline mode):
    /// each thread starts requests until it holds its share, then delivers
    /// them together (`PendingSignatures::wait_all`: one append of their
    /// audit records, one fsync, one commit of the spends).
    #[arg(long, default_value_t = 0)]
    in_flight: u64,
    /// Signatures per operation (sign_many in raw mode, digests per SAD in
    /// pipeline mode).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    batch: u64,
    /// Do not fsync the audit log (pipeline mode, --stores memory).
    #[arg(long)]
    no_fsync: bool,
    /// Where the pipeline keeps its state: memory (ledger, lockout and
    /// credentials in memory, the audit log in a file), files (every store
    /// in files, as one csc_server node) or postgres (every store in
    /// PostgreSQL: --database-url, or a throw-away cluster).
    #[arg(long, default_value = "memory", value_parser = ["memory", "files", "postgres"])]
    stores: String,
    /// The PostgreSQL database for --stores postgres (a fresh one: the run
    /// adds a credential and SADs).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Keep soft keys open between signatures.
    #[arg(long)]
    key_cache: bool,
    /// One JSON line of results instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Alg {
    P256,
    P384,
    Ed25519,
    Rsa2048,
    Rsa3072,
}

fn parse() -> Args {
    let cli = <Cli as clap::Parser>::parse();
    Args {
        backend: cli.backend,
        module: cli.module,
        token: cli.token,
        pin_env: cli.pin_env,
        alg: match cli.alg {
            Alg::P256 => KeyAlgorithm::EcP256,
            Alg::P384 => KeyAlgorithm::EcP384,
            Alg::Ed25519 => KeyAlgorithm::Ed25519,
            Alg::Rsa2048 => KeyAlgorithm::Rsa2048,
            Alg::Rsa3072 => KeyAlgorithm::Rsa3072,
        },
        threads: usize::try_from(cli.threads).unwrap_or(usize::MAX),
        duration: cli.duration,
        pipeline: cli.mode == "pipeline",
        floor: cli.mode == "floor",
        in_flight: usize::try_from(cli.in_flight).unwrap_or(usize::MAX),
        batch: usize::try_from(cli.batch).unwrap_or(usize::MAX),
        fsync: !cli.no_fsync,
        stores: cli.stores,
        database_url: cli.database_url,
        key_cache: cli.key_cache,
        json: cli.json,
    }
}

/// The SCDev, and for PKCS#11 the configuration that opened it.
type Opened = (Arc<dyn Scdev>, Option<Pkcs11Config>);

fn scdev(args: &Args) -> Result<Opened, Box<dyn std::error::Error>> {
    if args.backend == "soft" {
        let backup = BackupKey::generate()?;
        let soft = SoftScdev::in_memory(KeyEncryptionKey::generate()?).with_backup_key(backup);
        let soft = if args.key_cache {
            soft.with_key_cache()
        } else {
            soft
        };
        return Ok((Arc::new(soft), None));
    }
    let config = pkcs11_config(args)?;
    Ok((Arc::new(Pkcs11Scdev::open(&config)?), Some(config)))
}

fn pkcs11_config(args: &Args) -> Result<Pkcs11Config, Box<dyn std::error::Error>> {
    Ok(match &args.module {
        Some(module) => {
            let token = args
                .token
                .clone()
                .ok_or("--token is needed with --module")?;
            let pin = std::env::var(
                args.pin_env
                    .as_deref()
                    .ok_or("--pin-env is needed with --module")?,
            )?;
            Pkcs11Config::new(module, token, TokenPin::new(pin))
        }
        None => ssa_testkit::softhsm()
            .create_token("hsm-bench", false)
            .config(),
    })
}

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> std::process::ExitCode {
    support::exit("hsm_bench", run(parse()))
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.floor && !matches!(args.backend.as_str(), "ring" | "c_sign") {
        return Err("--mode floor runs with --backend ring or c_sign".into());
    }
    if args.in_flight > 0 && !args.pipeline {
        return Err("--in-flight is for --mode pipeline".into());
    }
    if args.backend == "ring" {
        return if args.floor {
            run_floor(&args)
        } else {
            run_ring(&args)
        };
    }
    let (scdev, config) = scdev(&args)?;
    if let (Some(config), "c_sign") = (&config, args.backend.as_str()) {
        return run_c_sign(&args, &*scdev, config);
    }
    let signature_algorithm = ssa::service::signature_algorithm_for(args.alg)
        .ok_or("no signature algorithm for this key")?;
    let work = tempfile::tempdir()?;

    if !args.pipeline {
        let id = KeyId::new(b"bench-key".to_vec())?;
        if scdev.capabilities().generate.contains(&args.alg) {
            scdev.generate_key(&id, "bench", KeySpec::new(args.alg))?;
        } else {
            let bits = args
                .alg
                .rsa_bits()
                .ok_or("this backend cannot generate that key")?;
            let backup = BackupKey::generate()?;
            let soft =
                SoftScdev::in_memory(KeyEncryptionKey::generate()?).with_backup_key(backup.clone());
            let wrapped = SoftScdev::seal_for_import(
                &backup,
                &id,
                "bench",
                KeySpec::new(args.alg),
                zeroize::Zeroizing::new(ssa_testkit::openssl::rsa_pkcs8(bits)),
            )?;
            soft.import_wrapped(&id, &wrapped)?;
            return run_raw(&args, Arc::new(soft), id, signature_algorithm);
        }
        return run_raw(&args, scdev, id, signature_algorithm);
    }

    let mut _cluster = None;
    let pipeline = match args.stores.as_str() {
        "files" => Pipeline::over(
            scdev,
            args.alg,
            args.batch,
            &Stores::files(work.path(), 0, ssa::store::Durability::Fsync)?,
        )?,
        "postgres" => {
            let url = match &args.database_url {
                Some(url) => url.clone(),
                None => {
                    let cluster = ssa_testkit::postgres::Cluster::start();
                    cluster.create_database("bench");
                    let url = cluster.url("bench");
                    _cluster = Some(cluster);
                    url
                }
            };
            Pipeline::over(
                scdev,
                args.alg,
                args.batch,
                &ssa_store_postgres::Database::connect(&url)?.stores(),
            )?
        }
        _ => Pipeline::new(scdev, args.alg, args.fsync, args.batch, work.path())?,
    };
    if args.in_flight > 0 {
        run_in_flight(&args, &pipeline);
        return Ok(());
    }
    drive(&args, |t, n| {
        let (digests, sad) = pipeline.authorize(&format!("{t}-{n}"), args.batch);
        let begin = Instant::now();
        pipeline.sign(&sad, &digests).expect("sign_documents");
        (begin.elapsed(), digests.len() as u64)
    });
    Ok(())
}

/// Keeps up to `args.in_flight` requests in flight over `args.threads`
/// threads: each thread starts requests (mint the SAD, then
/// `sign_documents_pending`) until it holds its share, then delivers them
/// together (`PendingSignatures::wait_all`: the audit units made durable
/// by one fsync, the SADs spent by one ledger commit). A request's latency
/// runs from its start (after the minting) to the end of that delivery;
/// the signatures count when delivered.
fn run_in_flight(args: &Args, pipeline: &Pipeline) {
    let share = args.in_flight.div_ceil(args.threads).max(1);
    run_threads(args, |t, stop, count| {
        let mut lat = Vec::new();
        let mut held: Vec<(Instant, ssa::PendingSignatures<'_>)> = Vec::with_capacity(share);
        let mut n = 0u64;
        let mut deliver = |held: &mut Vec<(Instant, ssa::PendingSignatures<'_>)>| {
            let (begun, pending): (Vec<Instant>, Vec<_>) = held.drain(..).unzip();
            let answers = ssa::PendingSignatures::wait_all(pending);
            for (begin, answer) in begun.into_iter().zip(answers) {
                let signatures = answer.expect("wait");
                lat.push(begin.elapsed().as_micros() as u64);
                count.fetch_add(signatures.len() as u64, Ordering::Relaxed);
            }
        };
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let (digests, sad) = pipeline.authorize(&format!("{t}-{n}"), args.batch);
            let begin = Instant::now();
            let pending = pipeline.sign_pending(&sad, &digests).expect("sign");
            held.push((begin, pending));
            if held.len() >= share {
                deliver(&mut held);
            }
        }
        deliver(&mut held);
        lat
    });
}

/// Runs `op` on `args.threads` threads until the duration is up, showing
/// progress, then reports. `op(thread, n)` does the `n`th operation of its
/// thread and returns the time of its timed part and the signatures it made.
fn drive<F>(args: &Args, op: F)
where
    F: Fn(usize, u64) -> (Duration, u64) + Sync,
{
    run_threads(args, |t, stop, count| {
        let mut lat = Vec::new();
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let (took, made) = op(t, n);
            lat.push(took.as_micros() as u64);
            count.fetch_add(made, Ordering::Relaxed);
        }
        lat
    });
}

/// Runs `worker(thread, stop, signatures)` on `args.threads` threads until
/// the duration is up (then `stop` is set), showing progress from the
/// signatures counted, then reports the latencies the workers return.
fn run_threads<W>(args: &Args, worker: W)
where
    W: Fn(usize, &AtomicBool, &AtomicU64) -> Vec<u64> + Sync,
{
    let stop = AtomicBool::new(false);
    let count = AtomicU64::new(0);
    let started = Instant::now();
    let latencies: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.threads)
            .map(|t| {
                let (worker, stop, count) = (&worker, &stop, &count);
                s.spawn(move || worker(t, stop, count))
            })
            .collect();
        progress(args, &stop, &count, started);
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    report(
        args,
        latencies,
        count.load(Ordering::Relaxed),
        started.elapsed(),
    );
}

fn progress(args: &Args, stop: &AtomicBool, count: &AtomicU64, started: Instant) {
    let deadline = started + Duration::from_secs(args.duration);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        let elapsed = started.elapsed().as_secs_f64();
        let done = count.load(Ordering::Relaxed);
        eprint!(
            "\r{elapsed:5.1} s  {done:9} signatures  {:9.0} /s",
            done as f64 / elapsed.max(1e-9)
        );
        let _ = std::io::stderr().flush();
    }
    stop.store(true, Ordering::Relaxed);
    eprintln!();
}

/// ring's ECDSA P-256 signing, no SCDev around it.
fn run_ring(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
        .map_err(|_| "keygen")?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| "key")?;
    let message = [0x5au8; 32];
    drive(args, |_, _| {
        let begin = Instant::now();
        let _ = key.sign(&rng, &message);
        (begin.elapsed(), 1)
    });
    Ok(())
}

/// The cryptography one request cannot avoid, in ring and nothing else:
/// the identity provider signs a SAD (ES256 over the signing input of a
/// real one-digest SAD), the SAM verifies it, and the credential's P-256
/// key signs a message the size of our CAdES signed attributes. One
/// operation is one such request: the floor of every one-SAD row.
fn run_floor(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let floor = floor()?;
    drive(args, |_, _| {
        let begin = Instant::now();
        floor.request();
        (begin.elapsed(), 1)
    });
    Ok(())
}

/// The floor's inputs, made and said.
fn floor() -> Result<Floor, Box<dyn std::error::Error>> {
    let floor = Floor::new()?;
    eprintln!(
        "floor: a SAD signing input of {} bytes, signed attributes of {} bytes",
        floor.input.len(),
        floor.signed_attributes.len()
    );
    Ok(floor)
}

/// Bare `C_Sign` on the token: the key is generated through the SCDev (which
/// also logs the token in), then each thread signs on a session of its own
/// with the process's one PKCS#11 context.
fn run_c_sign(
    args: &Args,
    scdev: &dyn Scdev,
    config: &Pkcs11Config,
) -> Result<(), Box<dyn std::error::Error>> {
    use cryptoki::mechanism::Mechanism;
    use cryptoki::object::{Attribute, ObjectClass};
    if args.alg != KeyAlgorithm::EcP256 {
        return Err("--backend c_sign times P-256 only".into());
    }
    let id = KeyId::new(b"bench-key".to_vec())?;
    scdev.generate_key(&id, "bench", KeySpec::new(args.alg))?;
    let pkcs11 = ssa::scdev::pkcs11::context(&config.module)?;
    let slot = ssa::scdev::pkcs11::find_slot(&pkcs11, &config.token_label)?;
    let sessions = (0..args.threads)
        .map(|_| {
            let session = pkcs11.open_ro_session(slot)?;
            let key = *session
                .find_objects(&[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Id(id.as_bytes().to_vec()),
                ])?
                .first()
                .ok_or("the key is not on the token")?;
            Ok(std::sync::Mutex::new((session, key)))
        })
        .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
    let digest = ssa::HashAlgorithm::Sha256.digest(&[0x5au8; 32]);
    // The floor of a one-SAD request on the token: the SAD minted and
    // verified in ring, the signed attributes hashed, one C_Sign.
    let sad = if args.floor { Some(floor()?) } else { None };
    drive(args, |t, _| {
        let held = sessions[t].lock().expect("session");
        let (session, key) = &*held;
        let begin = Instant::now();
        let hashed;
        let digest: &[u8] = match &sad {
            Some(sad) => {
                sad.mint_and_verify();
                hashed = ssa::HashAlgorithm::Sha256.digest(&sad.signed_attributes);
                &hashed
            }
            None => &digest,
        };
        session
            .sign(&Mechanism::Ecdsa, *key, digest)
            .expect("C_Sign");
        (begin.elapsed(), 1)
    });
    Ok(())
}

fn run_raw(
    args: &Args,
    scdev: Arc<dyn Scdev>,
    id: KeyId,
    algorithm: ssa::SignatureAlgorithm,
) -> Result<(), Box<dyn std::error::Error>> {
    let message = [0x5au8; 32];
    let batch = vec![SignInput::Message(&message); args.batch];
    drive(args, |_, _| {
        let begin = Instant::now();
        if args.batch == 1 {
            scdev
                .sign(&id, algorithm, SignInput::Message(&message))
                .expect("sign");
        } else {
            scdev.sign_many(&id, algorithm, &batch).expect("sign_many");
        }
        (begin.elapsed(), args.batch as u64)
    });
    Ok(())
}

fn report(args: &Args, mut latencies: Vec<u64>, signatures: u64, elapsed: Duration) {
    latencies.sort_unstable();
    let rate = signatures as f64 / elapsed.as_secs_f64();
    let (p50, p99, max) = (
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0),
    );
    let rss = peak_rss_bytes();
    let mode = if args.pipeline {
        "pipeline"
    } else if args.floor {
        "floor"
    } else {
        "raw"
    };
    let backend = if args.key_cache {
        format!("{}+cache", args.backend)
    } else {
        args.backend.clone()
    };
    if args.json {
        println!(
            "{{\"backend\":\"{backend}\",\"alg\":\"{}\",\"mode\":\"{mode}\",\"threads\":{},\"in_flight\":{},\"batch\":{},\"fsync\":{},\"duration_s\":{:.3},\"signatures\":{signatures},\"signatures_per_second\":{rate:.1},\"p50_us\":{p50},\"p99_us\":{p99},\"max_us\":{max},\"peak_rss_bytes\":{rss}}}",
            args.alg,
            args.threads,
            args.in_flight.max(args.threads),
            args.batch,
            args.fsync,
            elapsed.as_secs_f64()
        );
    } else {
        println!(
            "{backend} {} {mode} threads={} in_flight={} batch={} fsync={}: {signatures} signatures in {:.2} s = {rate:.0}/s; latency p50 {p50} us, p99 {p99} us, max {max} us; peak RSS {:.1} MiB",
            args.alg,
            args.threads,
            args.in_flight.max(args.threads),
            args.batch,
            args.fsync,
            elapsed.as_secs_f64(),
            rss as f64 / 1048576.0
        );
    }
}
