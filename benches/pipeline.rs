//! The whole signing pipeline with SCAL2 SADs: `SigningService::sign_documents`
//! (SAD verification, ledger, CAdES B-B per digest, audit records) on the
//! soft SCDev (keys unsealed per request, and kept open with the key cache)
//! and on SoftHSM2 through PKCS#11, for one SAD per signature and for
//! batches of 100 digests per SAD, with the audit log fsynced (the default;
//! every backend) and not (soft). Minting the SAD is
//! the identity provider's work and happens outside the timed routine.
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

criterion_group!(benches, pipeline);
criterion_main!(benches);
