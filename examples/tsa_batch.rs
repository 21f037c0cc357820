//! What a slow TSA costs a batch: one SAD for N documents signed at B-T
//! through the whole pipeline, against a TSA (OpenSSL on loopback) that
//! waits D seconds before each answer, with the time-stamps fetched one
//! after another and then concurrently, in one run.
//!
//! ```text
//! cargo run --release --example tsa_batch -- [--signatures N] [--delay SECONDS] [--concurrency C]
//! ```
//!
//! Defaults: 10 signatures, a 2 s TSA, concurrency 8 (the service's
//! default) against 1.

// A benchmark harness: a failed signature must stop the run loudly.
#![allow(clippy::expect_used)]

#[path = "../benches/support/pipeline.rs"]
#[allow(dead_code)]
mod pipeline;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pipeline::Pipeline;
use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::soft::SoftScdev;
use ssa::{KeyAlgorithm, Level, SignOptions};

/// What a slow TSA costs a batch signed at B-T.
#[derive(clap::Parser, Debug)]
#[command(name = "tsa_batch")]
struct Cli {
    /// Signatures in the batch (one SAD).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    signatures: u64,
    /// Seconds the TSA waits before each answer.
    #[arg(long, default_value_t = 2)]
    delay: u64,
    /// Time-stamps fetched at once in the second run (the first: 1).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    concurrency: u64,
}

fn main() {
    let cli = <Cli as clap::Parser>::parse();
    let n = usize::try_from(cli.signatures).unwrap_or(usize::MAX);
    let delay = Duration::from_secs(cli.delay);
    let concurrent = usize::try_from(cli.concurrency).unwrap_or(usize::MAX);
    let tsa = ssa_testkit::tsa::OpensslTsa::start_slow(&ssa_testkit::pki::pki().tsa, delay);
    let options = SignOptions {
        level: Level::BT,
        ..SignOptions::default()
    };
    println!("{n} signatures at B-T, one SAD, a TSA answering after {delay:?}");
    for concurrency in [1, concurrent] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut client = ssa::cades::HttpTsa::new(&tsa.url()).expect("the TSA URL");
        // Room for the slow TSA: the deadline is per request.
        client.settings.deadline = delay + Duration::from_secs(5);
        client.settings.timeout = client.settings.deadline;
        let scdev = Arc::new(SoftScdev::in_memory(
            KeyEncryptionKey::generate().expect("a KEK"),
        ));
        let pipeline = Pipeline::with(scdev, KeyAlgorithm::EcP256, true, n, dir.path(), |b| {
            b.tsa(Box::new(client)).augment_concurrency(concurrency)
        })
        .expect("the pipeline");
        let (digests, sad) = pipeline.authorize(&format!("tsa-batch-{concurrency}"), n);
        let started = Instant::now();
        pipeline
            .sign_at(&sad, &digests, &options)
            .expect("signing the batch");
        let took = started.elapsed();
        println!(
            "augment_concurrency {concurrency:>2}: {:>6.2} s for the batch ({:.2} s a signature)",
            took.as_secs_f64(),
            took.as_secs_f64() / n as f64
        );
    }
}
