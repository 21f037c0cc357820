#!/usr/bin/env python3
"""Turns benches/run_table.sh output (name TAB json, one per line) into the
markdown tables of BENCHMARKS.md: the rows, the in-flight sweep, and each
target's ratio computed from its rows (met or not).

    bash benches/run_table.sh 10 > table.txt
    python3 benches/table.py < table.txt
"""
import json
import sys

# (target, numerator rows, denominator row, goal): the ratio is each
# numerator's rate over the denominator's, all from the one run.
TARGETS = [
    ("one SAD per signature, soft P-256, durable, 64 in flight on 2 threads ÷ floor on 2 threads",
     ["soft+cache one SAD, 64 in flight, fsync, 2 thr", "soft one SAD, 64 in flight, fsync, 2 thr"],
     "floor: SAD mint+verify, P-256 sign, 2 threads", 0.75),
    ("same without fsync ÷ floor on 2 threads",
     ["soft+cache one SAD, 64 in flight, no fsync, 2 thr", "soft one SAD, 64 in flight, no fsync, 2 thr"],
     "floor: SAD mint+verify, P-256 sign, 2 threads", 0.85),
    ("batch of 100, durable, 1 thread ÷ raw ring signing",
     ["soft pipeline, batch 100, fsync, 1 thr", "soft+cache pipeline, batch 100, fsync, 1 thr"],
     "ring P-256, 1 thread", 0.80),
    ("PKCS#11 (SoftHSM2) batch of 100 ÷ bare C_Sign, 1 thread",
     ["SoftHSM2 pipeline, batch 100, 1 thread"],
     "SoftHSM2 bare C_Sign P-256, 1 thread", 0.90),
    ("PKCS#11 (SoftHSM2) batch of 100 ÷ bare C_Sign, 2 threads",
     ["SoftHSM2 pipeline, batch 100, 2 threads"],
     "SoftHSM2 bare C_Sign P-256, 2 threads", 0.90),
    ("one SAD per signature on SoftHSM2 ÷ (bare C_Sign + SAD mint and verify), 1 thread",
     ["SoftHSM2 one SAD, 32 in flight, 1 thread"],
     "floor on SoftHSM2: SAD mint+verify, C_Sign, 1 thread", 0.75),
    ("one SAD per signature on SoftHSM2 ÷ (bare C_Sign + SAD mint and verify), 2 threads",
     ["SoftHSM2 one SAD, 64 in flight, 2 threads"],
     "floor on SoftHSM2: SAD mint+verify, C_Sign, 2 threads", 0.75),
    ("durable ÷ non-durable, one SAD, 64 in flight",
     ["soft+cache one SAD, 64 in flight, fsync, 2 thr", "soft one SAD, 64 in flight, fsync, 2 thr"],
     None, 0.85),
]


def rate(d):
    return f"{d['signatures_per_second']:,.0f}".replace(",", " ")


rows = []
for line in sys.stdin:
    if "\t" not in line:
        continue
    name, data = line.rstrip("\n").split("\t", 1)
    rows.append((name, json.loads(data)))
number = {name: i + 1 for i, (name, _) in enumerate(rows)}
by_name = dict(rows)

print("| # | row | signatures/s | p50 µs | p99 µs | max µs | peak RSS MiB |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for name, d in rows:
    if name.startswith("sweep: "):
        continue
    print(f"| {number[name]} | {name} | {rate(d)} | {d['p50_us']} | {d['p99_us']} "
          f"| {d['max_us']} | {d['peak_rss_bytes'] / 1048576:.1f} |")

sweep = [(name, d) for name, d in rows if name.startswith("sweep: ")]
if sweep:
    print()
    print("| # | in flight | fsync | signatures/s | p50 µs | p99 µs | max µs | peak RSS MiB |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, d in sweep:
        print(f"| {number[name]} | {d['in_flight']} | {'yes' if d['fsync'] else 'no'} | {rate(d)} "
              f"| {d['p50_us']} | {d['p99_us']} | {d['max_us']} | {d['peak_rss_bytes'] / 1048576:.1f} |")

print()
print("| target | measured | goal | status | rows |")
print("| --- | ---: | ---: | --- | --- |")
for target, numerators, denominator, goal in TARGETS:
    ratios, used = [], []
    for numerator in numerators:
        if numerator not in by_name:
            continue
        over = denominator
        if over is None:  # durable over the same row without fsync
            over = numerator.replace(", fsync,", ", no fsync,")
        if over not in by_name:
            continue
        ratios.append(by_name[numerator]["signatures_per_second"] / by_name[over]["signatures_per_second"])
        used.append(f"{number[numerator]} ÷ {number[over]}")
    if not ratios:
        continue
    met = all(r >= goal for r in ratios)
    status = "met" if met else ("**not met**" if not any(r >= goal for r in ratios)
                                else "**met by one variant**")
    print(f"| {target} | {', '.join(f'{r:.3f}' for r in ratios)} | ≥ {goal:.2f} | {status} | {', '.join(used)} |")

rss = [d["peak_rss_bytes"] / 1048576 for name, d in rows if "alg" in d]
if rss:
    worst = max(rss)
    print(f"| peak RSS, every Rust row of the run | {worst:.1f} MiB (largest) | ≤ 64 MiB "
          f"| {'met' if worst <= 64 else '**not met**'} | all |")
