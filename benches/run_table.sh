#!/usr/bin/env bash
# Runs every row of BENCHMARKS.md's table, in one run on one machine, and
# prints one JSON object per row. Usage: bash benches/run_table.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-10}
cargo build -q --release --example hsm_bench
B=target/release/examples/hsm_bench
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT
# The progress line goes to stderr; it is shown only when a row fails.
row() {
    printf '%s\t' "$1"; shift
    "$@" --duration "$D" --json 2>"$ERR" || { echo "row failed:" >&2; tail -c 2000 "$ERR" >&2; exit 1; }
}
row "ring P-256, 1 thread"                    $B --backend ring --threads 1
row "soft SCDev raw P-256, 1 thread"          $B --backend soft --alg p256 --threads 1 --mode raw
row "soft pipeline, batch 100, fsync, 1 thr"  $B --backend soft --alg p256 --threads 1 --mode pipeline --batch 100
row "soft pipeline, batch 1, fsync, 1 thr"    $B --backend soft --alg p256 --threads 1 --mode pipeline --batch 1
row "SoftHSM2 bare C_Sign P-256, 1 thread"    $B --backend c_sign --alg p256 --threads 1
row "SoftHSM2 SCDev raw P-256, 1 thread"      $B --backend pkcs11 --alg p256 --threads 1 --mode raw
row "SoftHSM2 pipeline, batch 100, 1 thread"  $B --backend pkcs11 --alg p256 --threads 1 --mode pipeline --batch 100
row "ring P-256, 2 threads"                   $B --backend ring --threads 2
row "soft SCDev raw P-256, 2 threads"         $B --backend soft --alg p256 --threads 2 --mode raw
row "SoftHSM2 bare C_Sign P-256, 2 threads"   $B --backend c_sign --alg p256 --threads 2
row "SoftHSM2 SCDev raw P-256, 2 threads"     $B --backend pkcs11 --alg p256 --threads 2 --mode raw
row "SoftHSM2 pipeline, batch 100, 2 threads" $B --backend pkcs11 --alg p256 --threads 2 --mode pipeline --batch 100
row "soft pipeline, batch 100, fsync, 2 thr"  $B --backend soft --alg p256 --threads 2 --mode pipeline --batch 100
row "soft pipeline, batch 100, no fsync, 2 thr" $B --backend soft --alg p256 --threads 2 --mode pipeline --batch 100 --no-fsync
row "soft pipeline, batch 1, fsync, 2 thr"    $B --backend soft --alg p256 --threads 2 --mode pipeline --batch 1
row "soft pipeline, batch 1, no fsync, 2 thr" $B --backend soft --alg p256 --threads 2 --mode pipeline --batch 1 --no-fsync
row "soft+cache SCDev raw P-256, 1 thread"    $B --backend soft --key-cache --alg p256 --threads 1 --mode raw
row "soft+cache pipeline, batch 100, fsync, 1 thr" $B --backend soft --key-cache --alg p256 --threads 1 --mode pipeline --batch 100
row "soft+cache pipeline, batch 1, fsync, 1 thr"   $B --backend soft --key-cache --alg p256 --threads 1 --mode pipeline --batch 1
row "soft+cache SCDev raw P-256, 2 threads"   $B --backend soft --key-cache --alg p256 --threads 2 --mode raw
row "soft+cache pipeline, batch 100, fsync, 2 thr" $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 100
row "soft+cache pipeline, batch 100, no fsync, 2 thr" $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 100 --no-fsync
# One SAD per signature against its floor (issue 16): the cryptography of
# one request alone, then requests kept in flight over 2 threads.
row "floor: SAD mint+verify, P-256 sign, 1 thread"  $B --backend ring --mode floor --threads 1
row "floor: SAD mint+verify, P-256 sign, 2 threads" $B --backend ring --mode floor --threads 2
row "soft+cache one SAD, 64 in flight, fsync, 2 thr"    $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight 64
row "soft+cache one SAD, 64 in flight, no fsync, 2 thr" $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight 64 --no-fsync
row "soft one SAD, 64 in flight, fsync, 2 thr"          $B --backend soft --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight 64
row "soft one SAD, 64 in flight, no fsync, 2 thr"       $B --backend soft --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight 64 --no-fsync
row "files: soft+cache one SAD, 64 in flight, fsync, 2 thr" $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight 64 --stores files
row "files: soft+cache one SAD, one at a time, fsync, 2 thr" $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 1 --stores files
row "floor on SoftHSM2: SAD mint+verify, C_Sign, 1 thread"  $B --backend c_sign --mode floor --threads 1
row "floor on SoftHSM2: SAD mint+verify, C_Sign, 2 threads" $B --backend c_sign --mode floor --threads 2
row "SoftHSM2 one SAD, 32 in flight, 1 thread"  $B --backend pkcs11 --alg p256 --threads 1 --mode pipeline --batch 1 --in-flight 32
row "SoftHSM2 one SAD, 64 in flight, 2 threads" $B --backend pkcs11 --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight 64
# The sweep benches/plot.py draws: one SAD per signature, soft+cache, 2
# threads, against the requests in flight.
for n in 2 4 8 16 32 64 128 256; do
    row "sweep: soft+cache one SAD, $n in flight, fsync, 2 thr"    $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight $n
    row "sweep: soft+cache one SAD, $n in flight, no fsync, 2 thr" $B --backend soft --key-cache --alg p256 --threads 2 --mode pipeline --batch 1 --in-flight $n --no-fsync
done
printf '%s\t' "Python cryptography PKCS7SignatureBuilder, 1 thread"
python3 benches/peer/pkcs7_sign.py --duration "$D"
