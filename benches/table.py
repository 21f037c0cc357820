#!/usr/bin/env python3
"""Turns benches/run_table.sh output (name TAB json, one per line) into the
markdown table of BENCHMARKS.md.  bash benches/run_table.sh 10 | python3 benches/table.py"""
import json
import sys

print("| # | row | signatures/s | p50 µs | p99 µs | max µs | peak RSS MiB |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
n = 0
for line in sys.stdin:
    if "\t" not in line:
        continue
    name, data = line.rstrip("\n").split("\t", 1)
    d = json.loads(data)
    n += 1
    rate = f"{d['signatures_per_second']:,.0f}".replace(",", " ")
    print(f"| {n} | {name} | {rate} | {d['p50_us']} | {d['p99_us']} | {d['max_us']} | {d['peak_rss_bytes'] / 1048576:.1f} |")
