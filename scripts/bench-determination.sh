#!/usr/bin/env bash
# Benchmark of the yearly determination and planning (issue target: 100,000 enterprises with
# evidence, under 5 s on 2 cores, time and peak memory printed).
#
# Builds the release binary, generates 100,000 demo enterprises with their evidence, past rounds
# and park pilots into a fresh database, then runs
#     cpaudit determine --year 2027 --plan --timing
# twice (the first run reads a cold database; the second shows the steady state) and prints the
# counts, the time to load the facts, to determine, to plan, the total and the peak memory.
#
# Usage: scripts/bench-determination.sh [sqlite|postgres|both]   (default sqlite)
# Environment: BENCH_SCALE (default 100000), BENCH_YEAR (default 2027), BENCH_PG_URL
# (default postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created beside it
# and dropped at the end).
set -euo pipefail

cd "$(dirname "$0")/.."
which_backends=${1:-sqlite}
scale=${BENCH_SCALE:-100000}
year=${BENCH_YEAR:-2027}
pg_admin=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_name=cpaudit_bench_determination
work=$(mktemp -d)
pg_created=""
# psql without the server's "does not exist, skipping" notices.
pg_admin_sql() { PGOPTIONS=--client-min-messages=warning psql "$pg_admin" -q "$@" >/dev/null; }
cleanup() {
    if [ -n "$pg_created" ]; then
        pg_admin_sql -c "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

case "$which_backends" in
    sqlite | postgres | both) ;;
    *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;;
esac

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-target}/release/cpaudit
export CPAUDIT_LOG=warn

measure() {
    local label=$1 url=$2
    echo "== $label: generating $scale enterprises with evidence"
    /usr/bin/time -f "   generation: %e s, peak RSS %M KiB" "$bin" --database-url "$url" demo --scale "$scale"
    for run in 1 2; do
        echo "== $label: run $run: cpaudit determine --year $year --plan --timing"
        "$bin" --database-url "$url" determine --year "$year" --plan --timing
    done
}

echo "cpaudit determination benchmark — $(nproc) cores, $(date -u +%F), $(git rev-parse --short HEAD 2>/dev/null || echo 'no git')"
if [ "$which_backends" = sqlite ] || [ "$which_backends" = both ]; then
    measure SQLite "sqlite://$work/bench.db"
fi
if [ "$which_backends" = postgres ] || [ "$which_backends" = both ]; then
    pg_admin_sql -c "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" -c "CREATE DATABASE $pg_name"
    pg_created=yes
    measure PostgreSQL "${pg_admin%/*}/$pg_name"
fi
