//! The whole signing pipeline with SCAL2 SADs: `SigningService::sign_documents`
//! (SAD verification, ledger, CAdES B-B per digest, audit records) on the
//! soft SCDev (keys unsealed per request, and kept open with the key cache)
//! and on SoftHSM2 through PKCS#11, for one SAD per signature and for
//! batches of 100 digests per SAD, with the audit log fsynced (the default;
//! every backend) and not (soft). Minting the SAD is
//! the identity provider's work and happens outside the timed routine.
//!
//! `in-flight` times 64 one-SAD requests started one after the other
//! with `sign_documents_pending` and then delivered, each by its own
//! `wait` (each writes its unit; the units share fsyncs) or all by one
//! `wait_all` (one append of the 64 units, one fsync). `floor` times the cryptography of one request
//! alone (ring: an ES256 SAD signed and verified, one P-256 signature).
//!
//! `cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 3`; the operators' harness with threads and
//! other backends is `examples/hsm_bench.rs`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "support/pipeline.rs"]
mod pipeline;

use std::cell::Cell;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pipeline::Pipeline;
use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::pkcs11::Pkcs11Scdev;
use ssa::scdev::soft::SoftScdev;
use ssa::{KeyAlgorithm, Scdev};

fn soft(cache: bool) -> Arc<dyn Scdev> {
    let soft = SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap());
    Arc::new(if cache { soft.with_key_cache() } else { soft })
}

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline/p256/scal2");
    let token = ssa_testkit::softhsm().create_token("bench-pipeline", false);
    let softhsm: Arc<dyn Scdev> = Arc::new(Pkcs11Scdev::open(&token.config()).unwrap());
    // Durable audit on every backend; the soft backend also without fsync.
    let runs: [(&str, Arc<dyn Scdev>, bool); 4] = [
        ("soft", soft(false), true),
        ("soft", soft(false), false),
        ("soft+cache", soft(true), true),
        ("softhsm", softhsm, true),
    ];
    for (backend, scdev, fsync) in runs {
        let dir = tempfile::tempdir().unwrap();
        let pipeline = Pipeline::new(scdev, KeyAlgorithm::EcP256, fsync, 100, dir.path()).unwrap();
        let durability = if fsync { "fsync" } else { "no-fsync" };
        let next = Cell::new(0u64);
        for batch in [1usize, 100] {
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(format!("{backend}/batch-{batch}/{durability}"), |b| {
                b.iter_batched(
                    || {
                        next.set(next.get() + 1);
                        pipeline.authorize(&format!("sad-{}", next.get()), batch)
                    },
                    |(digests, sad)| pipeline.sign(&sad, &digests).unwrap(),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

/// Requests in flight on one thread: 64 started, then 64 delivered.
fn in_flight(c: &mut Criterion) {
    const IN_FLIGHT: usize = 64;
    let mut group = c.benchmark_group("pipeline/p256/in-flight-64");
    group.throughput(Throughput::Elements(IN_FLIGHT as u64));
    for fsync in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let pipeline =
            Pipeline::new(soft(true), KeyAlgorithm::EcP256, fsync, 1, dir.path()).unwrap();
        let next = Cell::new(0u64);
        let durability = if fsync { "fsync" } else { "no-fsync" };
        for delivery in ["wait-each", "wait-all"] {
            group.bench_function(format!("soft+cache/batch-1/{durability}/{delivery}"), |b| {
                b.iter_batched(
                    || {
                        (0..IN_FLIGHT)
                            .map(|_| {
                                next.set(next.get() + 1);
                                pipeline.authorize(&format!("sad-{}", next.get()), 1)
                            })
                            .collect::<Vec<_>>()
                    },
                    |requests| {
                        let pending: Vec<_> = requests
                            .iter()
                            .map(|(digests, sad)| pipeline.sign_pending(sad, digests).unwrap())
                            .collect();
                        if delivery == "wait-all" {
                            for answer in ssa::PendingSignatures::wait_all(pending) {
                                answer.unwrap();
                            }
                        } else {
                            for request in pending {
                                request.wait().unwrap();
                            }
                        }
                    },
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

/// The cryptography of one request, nothing else (`hsm_bench --mode floor`,
/// the same inputs).
fn floor(c: &mut Criterion) {
    let floor = pipeline::Floor::new().unwrap();
    let mut group = c.benchmark_group("floor/p256");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sad-mint-verify-and-sign", |b| b.iter(|| floor.request()));
    group.finish();
}

criterion_group!(benches, pipeline, in_flight, floor);
criterion_main!(benches);
