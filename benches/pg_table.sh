#!/usr/bin/env bash
# PostgreSQL beside the file stores, in one run on one machine: the
# in-process pipeline (hsm_bench --stores files|postgres, batch 100 and 1),
# the database statements (round trips) per signature at batch 1, and
# csc_load against one node on files, one node on PostgreSQL and two nodes
# sharing it. Starts a private cluster (fsync and synchronous_commit on, as
# in production) over a Unix socket in a temporary directory. Prints one
# line per row: the row's name, a tab, the tool's JSON.
# The pipeline rows run one thread (the database's latency adds to every
# request) and four (a server's concurrency: other requests sign while one
# waits for the database).
# Usage: [SPREAD=N] bash benches/pg_table.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-10}
cargo build -q --release -p ssa-csc --bin csc_server --example csc_load
cargo build -q --release --example hsm_bench
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG=$(mktemp -d)
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    chown nobody:nogroup "$PG"
    as_owner=(setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env)
fi
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    "${as_owner[@]}" "$BIN/pg_ctl" -D "$PG/data" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$PG"
}
trap cleanup EXIT
"${as_owner[@]}" "$BIN/initdb" -D "$PG/data" -U ssa --auth=trust >/dev/null
printf "listen_addresses = ''\nunix_socket_directories = '%s'\nmax_connections = 200\nshared_buffers = 128MB\n" "$PG" \
    >>"$PG/data/postgresql.conf"
"${as_owner[@]}" "$BIN/pg_ctl" -D "$PG/data" -l "$PG/log" start -w >/dev/null
db() { # a fresh database; its URL
    "$BIN/psql" -X -q -h "$PG" -U ssa -d postgres -c "CREATE DATABASE $1" >/dev/null
    echo "postgres://ssa@/$1?host=$PG"
}
row() {
    printf '%s\t' "$1"; shift
    "$@" --duration "$D" --json
}
H=target/release/examples/hsm_bench
for threads in 1 4; do
    for batch in 100 1; do
        row "pipeline, files, batch $batch, $threads thread(s)" \
            $H --mode pipeline --stores files --batch "$batch" --threads "$threads"
        row "pipeline, postgres, batch $batch, $threads thread(s)" \
            $H --mode pipeline --stores postgres --batch "$batch" --threads "$threads" \
            --database-url "$(db "pipe${batch}t$threads")"
    done
done

# Statements per signature at batch 1: every statement the server runs,
# logged for one database, over the signatures made.
URL=$(db count)
"$BIN/psql" -X -q -h "$PG" -U ssa -d postgres -c "ALTER DATABASE count SET log_statement = 'all'"
before=$(wc -l <"$PG/log")
out=$($H --mode pipeline --stores postgres --batch 1 --duration 3 --json --database-url "$URL")
statements=$(tail -n +"$((before + 1))" "$PG/log" | grep -cE 'LOG:  (statement|execute)')
signatures=$(sed 's/.*"signatures":\([0-9]*\).*/\1/' <<<"$out")
printf 'statements per signature, postgres, batch 1\t{"statements":%s,"signatures":%s,"per_signature":%s}\n' \
    "$statements" "$signatures" "$(python3 -c "print(round($statements/$signatures, 1))")"

# The batch-100 pairs again, SPREAD more times (3 unless set), each pair
# back to back: the ratio's spread from run to run, next to its one value.
for run in $(seq "${SPREAD:-3}"); do
    for threads in 1 4; do
        row "spread $run, pipeline, files, batch 100, $threads thread(s)" \
            $H --mode pipeline --stores files --batch 100 --threads "$threads"
        row "spread $run, pipeline, postgres, batch 100, $threads thread(s)" \
            $H --mode pipeline --stores postgres --batch 100 --threads "$threads" \
            --database-url "$(db "spread${run}t$threads")"
    done
done

# csc_load: one node on files, one node on PostgreSQL, two nodes sharing it.
node() { # DATA [URL]: starts a node, sets ADDRESS (not in $(...): PIDS must stay)
    local out
    out=$(mktemp)
    if [ -n "${2:-}" ]; then
        target/release/csc_server --data "$1" --database-url "$2" --min-scal 1 --listen 127.0.0.1:0 >"$out" 2>/dev/null &
    else
        target/release/csc_server --data "$1" --min-scal 1 --listen 127.0.0.1:0 >"$out" 2>/dev/null &
    fi
    PIDS+=($!)
    for _ in $(seq 100); do grep -q '^listening on ' "$out" && break; sleep 0.1; done
    ADDRESS=$(sed -n 's/^listening on //p' "$out")
}
L=target/release/examples/csc_load
FILES=$(mktemp -d) SHARED=$(mktemp -d)
trap 'cleanup; rm -rf "$FILES" "$SHARED"' EXIT
URL=$(db nodes)
# The shared data directory is made (keys, CA) before the nodes start.
$L --in-process --data "$SHARED" --database-url "$URL" --clients 1 --duration 1 --json >/dev/null
node "$FILES"; F=$ADDRESS
node "$SHARED" "$URL"; A=$ADDRESS
node "$SHARED" "$URL"; B=$ADDRESS
for batch in 100 1; do
    row "csc_load, 1 node, files, 16 clients, batch $batch" \
        $L --url "$F" --data "$FILES" --clients 16 --batch "$batch" --light-pins
    row "csc_load, 1 node, postgres, 16 clients, batch $batch" \
        $L --url "$A" --data "$SHARED" --database-url "$URL" --clients 16 --batch "$batch" --light-pins
    row "csc_load, 2 nodes, postgres, 16 clients, batch $batch" \
        $L --url "$A" --url "$B" --data "$SHARED" --database-url "$URL" --clients 16 --batch "$batch" --light-pins
done
