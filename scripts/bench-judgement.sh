#!/usr/bin/env bash
# Benchmark of the online-monitoring judgement (`cpaudit hj212 evaluate`).
#
# Builds the release binary, generates the demo data set into a fresh database, writes a day (or
# more) of one-minute flue-gas packets for the first BENCH_DEVICES air devices straight into
# monitoring_data (as the receiver stores them: the CP data area as sent, SO2 varying around the
# limit so that hours exceed and candidates are created), then runs
#     cpaudit hj212 evaluate --now <09:00 China time the day after the data>
# twice: the first run judges every hour, completes the days and creates the candidates; the
# second finds nothing left. Prints each run's report (devices, hours, exceedance hours, days,
# candidates), its wall time and peak memory.
#
# Usage: scripts/bench-judgement.sh [sqlite|postgres|both]   (default sqlite)
# Environment: BENCH_DEVICES (default 100), BENCH_DAYS (1–17, default 1), BENCH_PG_URL
# (default postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created beside it
# and dropped at the end).
set -euo pipefail

cd "$(dirname "$0")/.."
which_backends=${1:-sqlite}
devices=${BENCH_DEVICES:-100}
days=${BENCH_DAYS:-1}
pg_admin=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_name=cpaudit_bench_judgement
work=$(mktemp -d)
pg_created=""
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
if [ "$days" -lt 1 ] || [ "$days" -gt 17 ]; then
    echo "BENCH_DAYS must be 1 to 17 (the data stays within January 2027)" >&2
    exit 2
fi

cargo build --release --quiet --bin cpaudit
bin=${CARGO_TARGET_DIR:-target}/release/cpaudit
export CPAUDIT_LOG=warn
minutes=$((days * 1440 - 1))
now=$(printf '2027-01-%02dT09:00:00+08:00' $((14 + days)))

# One-minute packets from 2027-01-14 00:00, for the first $devices air devices: SO2 from 150 to
# 269 mg/m3 at 7.5 % O2 (an existing coal-fired boiler's limit is 200 mg/m3 at 6 %), NOx,
# particulate, O2, temperature and flow, each with its flag; every 97th minute is flagged C.
packets_sql="
WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < $minutes)
INSERT INTO monitoring_data (device_id, kind, data_time, qn, received_at, cp)
SELECT d.id, 2051, t.k, '', '2027-01-14T00:00:00.000000Z',
    'DataTime=' || t.k || ';a21026-Avg=' || (150 + (t.i * 7) % 120) || ',a21026-Cou=0.05,a21026-Flag='
    || CASE WHEN t.i % 97 = 0 THEN 'C' ELSE 'N' END
    || ';a21002-Avg=80.5,a21002-Cou=0.03,a21002-Flag=N;a34013-Avg=12.1,a34013-Cou=0.01,a34013-Flag=N'
    || ';a19001-Avg=7.5,a19001-Flag=N;a01012-Avg=120.3,a01012-Flag=N;a00000-Avg=50.2,a00000-Cou=3012,a00000-Flag=N'
FROM (SELECT i, 20270100000000 + (14 + i / 1440) * 1000000 + ((i % 1440) / 60) * 10000 + (i % 60) * 100 AS k FROM m) t,
    (SELECT d.id FROM devices d JOIN outlets o ON o.id = d.outlet_id WHERE o.kind = 'air'
     ORDER BY d.id LIMIT $devices) d;
"

measure() {
    local label=$1 url=$2 load=$3
    echo "== $label: demo data set"
    "$bin" --database-url "$url" demo >/dev/null
    echo "== $label: $devices air devices × $days day(s) of one-minute packets"
    local started=$SECONDS
    "$load"
    echo "   written in $((SECONDS - started)) s"
    for run in 1 2; do
        echo "== $label: run $run: cpaudit hj212 evaluate --now $now"
        /usr/bin/time -f "   %e s wall, %U s user, peak RSS %M KiB" \
            "$bin" --database-url "$url" hj212 evaluate --now "$now"
    done
}

echo "cpaudit judgement benchmark — $(nproc) cores, $(date -u +%F), $(git rev-parse --short HEAD 2>/dev/null || echo 'no git')"
if [ "$which_backends" = sqlite ] || [ "$which_backends" = both ]; then
    echo "$packets_sql" >"$work/packets.sql"
    load_sqlite() { sqlite3 "$work/bench.db" <"$work/packets.sql"; }
    measure SQLite "sqlite://$work/bench.db" load_sqlite
fi
if [ "$which_backends" = postgres ] || [ "$which_backends" = both ]; then
    pg_admin_sql -c "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" -c "CREATE DATABASE $pg_name"
    pg_created=yes
    echo "$packets_sql" >"$work/packets.sql"
    load_postgres() { psql "${pg_admin%/*}/$pg_name" -q -f "$work/packets.sql"; }
    measure PostgreSQL "${pg_admin%/*}/$pg_name" load_postgres
fi
