#!/usr/bin/env bash
# A flame graph (SVG) of one hsm_bench row: perf record with DWARF call
# graphs of a release build with line tables, folded and drawn by inferno
# (cargo install --locked inferno).
#   bash benches/profile.sh OUT.svg SECONDS -- HSM_BENCH_ARGS...
# e.g. bash benches/profile.sh docs/perf/one-sad-in-flight.svg 5 -- \
#        --backend soft --key-cache --threads 2 --mode pipeline --batch 1 --in-flight 64
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$1; D=$2; shift 3
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    cargo build -q --release --example hsm_bench --target-dir target/profile
DATA=$(mktemp)
trap 'rm -f "$DATA" "$DATA.folded"' EXIT
perf record -q -F 499 --call-graph dwarf,16384 -o "$DATA" \
    target/profile/release/examples/hsm_bench "$@" --duration "$D" --json >&2
perf script -i "$DATA" 2>/dev/null | inferno-collapse-perf > "$DATA.folded"
inferno-flamegraph --title "hsm_bench $*" --width 1400 --minwidth 1 < "$DATA.folded" > "$OUT"
echo "$OUT: $(wc -l < "$DATA.folded") stacks" >&2
