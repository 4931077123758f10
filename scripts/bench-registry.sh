#!/usr/bin/env bash
# Whole-system benchmark of the enterprise registry (issue: foundation).
#
# Builds the release binary, generates 100,000 demo enterprises into SQLite and PostgreSQL,
# serves each, and measures with wrk (64 connections, 2 threads — wrk shares the 2 cores):
#   1. GET /api/v1/enterprises?city=620100&q=<name fragment>   (filtered API list, name search)
#   2. GET /enterprises?city=620100&q=<name fragment>           (HTML list page)
# then the time to import a 10,000-row .xlsx through POST /api/v1/enterprises/import.
#
# Usage: scripts/bench-registry.sh [sqlite|postgres|both]   (default both)
# Environment: BENCH_DURATION (seconds per run, default 20), BENCH_PG_URL
# (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_SCALE (default 100000).
set -euo pipefail

cd "$(dirname "$0")/.."
which_backends=${1:-both}
duration=${BENCH_DURATION:-20}
scale=${BENCH_SCALE:-100000}
pg_admin=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet
bin=target/release/cpaudit
port=18181
password="bench-password-1"

percentile() { # wrk --latency output → "p50 p99"
    awk '/^ +50%/{p50=$2} /^ +99%/{p99=$2} END{print p50, p99}' "$1"
}

serve_and_measure() {
    local label=$1 url=$2
    export CPAUDIT_LOG=warn
    echo "== $label: generating $scale enterprises"
    /usr/bin/time -f "   generation: %e s, peak RSS %M KiB" "$bin" --database-url "$url" demo --scale "$scale"
    echo "$password" | "$bin" --database-url "$url" user add bench --role province >/dev/null
    "$bin" --database-url "$url" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
    local token cookie fragment
    token=$(curl -sf -H 'content-type: application/json' -d "{\"username\":\"bench\",\"password\":\"$password\"}" \
        "http://127.0.0.1:$port/api/v1/auth/token" | sed 's/.*"token":"\([^"]*\)".*/\1/')
    cookie=$(curl -s -o /dev/null -D - --data-urlencode username=bench --data-urlencode "password=$password" \
        "http://127.0.0.1:$port/login" | sed -n 's/^set-cookie: \(cpaudit_session=[^;]*\).*/\1/Ip')
    # A two-character fragment of a real Lanzhou name: short queries are the hard case.
    fragment=$(curl -sf -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/enterprises?city=620100&per_page=1" \
        | python3 -c 'import sys, json; print(json.load(sys.stdin)["items"][0]["name"][2:4])')
    local q
    q=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$fragment")
    echo "   search fragment: $fragment"
    for target in "api:/api/v1/enterprises?city=620100&q=$q" "page:/enterprises?city=620100&q=$q"; do
        local name=${target%%:*} path=${target#*:}
        local header="authorization: Bearer $token"
        [ "$name" = page ] && header="cookie: $cookie"
        wrk -t2 -c64 -d"${duration}s" --latency -H "$header" "http://127.0.0.1:$port$path" >"$work/wrk.txt"
        local rps p
        rps=$(awk '/Requests\/sec/{print $2}' "$work/wrk.txt")
        p=$(percentile "$work/wrk.txt")
        local errors
        errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk.txt" || true)
        echo "   $name list (city + name search): $rps req/s, p50/p99 = $p ${errors:+($errors)}"
    done
    # Import: 10,000 rows exported from this database, imported into an empty one.
    "$bin" --database-url "$url" export "$work/import.xlsx" --limit 10000 >/dev/null
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
    echo "$label" >/dev/null
}

import_into_empty() {
    local label=$1 url=$2
    echo "$password" | "$bin" --database-url "$url" user add bench --role province >/dev/null
    "$bin" --database-url "$url" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
    local token
    token=$(curl -sf -H 'content-type: application/json' -d "{\"username\":\"bench\",\"password\":\"$password\"}" \
        "http://127.0.0.1:$port/api/v1/auth/token" | sed 's/.*"token":"\([^"]*\)".*/\1/')
    local result
    result=$(curl -s -o "$work/import.json" -w "%{http_code} %{time_total}" -H "authorization: Bearer $token" \
        -F "file=@$work/import.xlsx" "http://127.0.0.1:$port/api/v1/enterprises/import")
    echo "   import of 10,000-row .xlsx ($label): HTTP ${result% *}, ${result#* } s; $(grep -o '"outcome":{[^}]*}' "$work/import.json")"
    kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

pg_database() { # fresh database on the PostgreSQL server, printed as a URL
    local name=$1
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" -qc "CREATE DATABASE $name" >/dev/null
    echo "${pg_admin%/*}/$name"
}

echo "cpaudit registry benchmark — $(nproc) cores, wrk -t2 -c64 -d${duration}s, $(date -u +%F)"
if [ "$which_backends" = sqlite ] || [ "$which_backends" = both ]; then
    serve_and_measure SQLite "sqlite://$work/bench.db"
    import_into_empty SQLite "sqlite://$work/import.db"
fi
if [ "$which_backends" = postgres ] || [ "$which_backends" = both ]; then
    serve_and_measure PostgreSQL "$(pg_database cpaudit_bench)"
    import_into_empty PostgreSQL "$(pg_database cpaudit_bench_import)"
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS cpaudit_bench WITH (FORCE)" -qc "DROP DATABASE IF EXISTS cpaudit_bench_import WITH (FORCE)" >/dev/null
fi
