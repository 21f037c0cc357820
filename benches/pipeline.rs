//! The whole signing pipeline with SCAL2 SADs: `SigningService::sign_documents`
//! (SAD verification, ledger, CAdES B-B per digest, audit records) on the
//! soft SCDev, for one SAD per signature and for batches of 100 digests per
//! SAD, with the audit log fsynced (the default) and not. Minting the SAD is
//! the identity provider's work and happens outside the timed routine.
//!
//! `cargo bench --bench pipeline`; the operators' harness with threads and
//! other backends is `examples/hsm_bench.rs`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "support/pipeline.rs"]
mod pipeline;

use std::cell::Cell;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pipeline::Pipeline;
use ssa::KeyAlgorithm;
use ssa::scdev::KeyEncryptionKey;
use ssa::scdev::soft::SoftScdev;

fn pipeline(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline/soft-p256/scal2");
    for fsync in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let scdev = Arc::new(SoftScdev::in_memory(KeyEncryptionKey::generate().unwrap()));
        let pipeline = Pipeline::new(scdev, KeyAlgorithm::EcP256, fsync, 100, dir.path()).unwrap();
        let durability = if fsync { "fsync" } else { "no-fsync" };
        let next = Cell::new(0u64);
        for batch in [1usize, 100] {
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(format!("batch-{batch}/{durability}"), |b| {
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
