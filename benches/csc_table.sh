#!/usr/bin/env bash
# The CSC server under csc_load (1, 16, 64 clients; batch 1 and 100) beside
# the in-process pipeline (hsm_bench), in one run on one machine. Prints one
# JSON object per row. Usage: bash benches/csc_table.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-10}
cargo build -q --release -p ssa-csc --bin csc_server --example csc_load
cargo build -q --release --example hsm_bench
DATA=$(mktemp -d)
OUT=$(mktemp)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DATA" "$OUT"' EXIT
target/release/csc_server --data "$DATA" --min-scal 1 --listen 127.0.0.1:0 >"$OUT" 2>/dev/null &
SERVER=$!
for _ in $(seq 100); do grep -q '^listening on ' "$OUT" && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$OUT")
row() {
    printf '%s\t' "$1"; shift
    "$@" --duration "$D" --json
}
INPROC=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$DATA" "$INPROC" "$OUT"' EXIT
L=target/release/examples/csc_load
for pins in "" "--light-pins"; do
    for batch in 1 100; do
        for clients in 1 16 64; do
            row "server, $clients clients, batch $batch ${pins:+(light PINs)}" \
                $L --url "$URL" --data "$DATA" --clients "$clients" --batch "$batch" --mode doc $pins
            row "in process, $clients clients, batch $batch ${pins:+(light PINs)}" \
                $L --in-process --data "$INPROC" --clients "$clients" --batch "$batch" --mode doc $pins
        done
    done
done
for batch in 1 100; do
    for threads in 1 2; do
        row "hsm_bench pipeline, $threads threads, batch $batch, fsync" \
            target/release/examples/hsm_bench --backend soft --alg p256 --threads "$threads" --mode pipeline --batch "$batch"
    done
done
