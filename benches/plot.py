#!/usr/bin/env python3
"""Draws BENCHMARKS.md's figures from one benches/run_table.sh run:
signatures per second against requests in flight, and latency percentiles
against requests in flight (the "sweep" rows), as SVG files in docs/perf/.

    bash benches/run_table.sh 10 > table.txt
    python3 -m venv .venv-plot && .venv-plot/bin/pip install -r benches/requirements.txt
    .venv-plot/bin/python3 benches/plot.py table.txt docs/perf
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402

# Byte-for-byte the same SVG for the same numbers.
matplotlib.rcParams["svg.hashsalt"] = "ssa-benchmarks"
FLOOR = "floor: SAD mint+verify, P-256 sign, 2 threads"


def read(path):
    rows = {}
    for line in Path(path).read_text().splitlines():
        if "\t" in line:
            name, data = line.split("\t", 1)
            rows[name] = json.loads(data)
    return rows


def sweep(rows, fsync):
    points = sorted(
        (d["in_flight"], d) for name, d in rows.items()
        if name.startswith("sweep: ") and d["fsync"] == fsync
    )
    return [n for n, _ in points], [d for _, d in points]


def save(figure, out, name):
    figure.tight_layout()
    figure.savefig(out / name, format="svg", metadata={"Date": None})
    plt.close(figure)


def main():
    rows = read(sys.argv[1])
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)

    figure, axes = plt.subplots(figsize=(7, 4.2))
    for fsync, label, marker in [(True, "durable (fsync)", "o"), (False, "no fsync", "s")]:
        n, d = sweep(rows, fsync)
        axes.plot(n, [x["signatures_per_second"] for x in d], marker=marker, label=label)
    if FLOOR in rows:
        floor = rows[FLOOR]["signatures_per_second"]
        axes.axhline(floor, color="black", linewidth=1, label="floor (ring, 2 threads)")
        axes.axhline(0.85 * floor, color="gray", linestyle="--", linewidth=1, label="0.85 × floor")
        axes.axhline(0.75 * floor, color="gray", linestyle=":", linewidth=1, label="0.75 × floor")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("one-SAD requests in flight (2 worker threads)")
    axes.set_ylabel("signatures / s")
    axes.set_ylim(bottom=0)
    axes.set_title("soft P-256 + key cache, one SAD per signature")
    axes.legend(fontsize="small")
    axes.grid(True, alpha=0.3)
    save(figure, out, "in-flight-throughput.svg")

    figure, axes = plt.subplots(figsize=(7, 4.2))
    for fsync, label in [(True, "durable"), (False, "no fsync")]:
        n, d = sweep(rows, fsync)
        for key, style in [("p50_us", "-"), ("p99_us", "--")]:
            axes.plot(n, [x[key] / 1000 for x in d], style, marker="o",
                      label=f"{label}, {key[:3]}")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("one-SAD requests in flight (2 worker threads)")
    axes.set_ylabel("latency of one request, ms (start to delivery)")
    axes.set_title("latency percentiles against requests in flight")
    axes.legend(fontsize="small")
    axes.grid(True, alpha=0.3, which="both")
    save(figure, out, "in-flight-latency.svg")


if __name__ == "__main__":
    main()
