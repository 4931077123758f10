#!/usr/bin/env bash
# Benchmark of the HJ 212 receiver, end to end over loopback, with every reply sent only after
# its packet is committed (issue 6, item 8 b and c).
#
# For each database it builds the release binary, loads the demo data set (whose devices the
# simulator plays) into a fresh database and keeps a pristine copy, then runs three scenarios,
# each against a freshly started `cpaudit serve --hj212-listen` (per-connection rate limits off,
# everything else as shipped):
#
#   1. throughput, active: BENCH_ACTIVE devices send minute and hourly uploads as fast as they
#      are acknowledged (`cpaudit hj212 simulate --rate 0`, each device pipelining up to
#      BENCH_WINDOW uploads) for BENCH_DURATION seconds. The sustained rate is read from the
#      server's own count of committed packets (GET /metrics) after a warm-up, so the ramp-up and
#      the tail do not count. Prints the CPU share of the server, of the load generator (which
#      shares the two cores) and of PostgreSQL, and the server's peak memory.
#   2. memory, idle (on the pristine copy): BENCH_IDLE devices connect, send one upload each and
#      hold their connection; prints the server's resident memory before, while they are held,
#      and its peak.
#   3. throughput again, on the database scenario 2 left, while the judgement job catches up
#      (see measure below).
#
# Usage: scripts/bench-ingest.sh [sqlite|postgres|both]   (default sqlite)
# Environment: BENCH_ACTIVE (default 1000), BENCH_IDLE (default 5000), BENCH_DURATION (seconds,
# default 30), BENCH_WARMUP (seconds, default 5), BENCH_WINDOW (default 16), BENCH_SCALE (demo
# enterprises, default 3000: enough devices for BENCH_IDLE), BENCH_PG_URL (default
# postgres://postgres@127.0.0.1:5432/postgres; a fresh database is created beside it and dropped
# at the end).
set -euo pipefail

cd "$(dirname "$0")/.."
which_backends=${1:-sqlite}
active=${BENCH_ACTIVE:-1000}
idle=${BENCH_IDLE:-5000}
duration=${BENCH_DURATION:-30}
warmup=${BENCH_WARMUP:-5}
window=${BENCH_WINDOW:-16}
scale=${BENCH_SCALE:-3000}
pg_admin=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
pg_name=cpaudit_bench_ingest
web_port=${BENCH_WEB_PORT:-18380}
hj212_port=${BENCH_HJ212_PORT:-18381}
work=$(mktemp -d)
pg_created=""
server_pid=""

case "$which_backends" in
    sqlite | postgres | both) ;;
    *) echo "usage: $0 [sqlite|postgres|both]" >&2; exit 2 ;;
esac
if [ "$duration" -le $((warmup + 3)) ]; then
    echo "BENCH_DURATION must exceed BENCH_WARMUP by more than 3 s" >&2
    exit 2
fi

pg_admin_sql() { PGOPTIONS=--client-min-messages=warning psql "$pg_admin" -q "$@" >/dev/null; }
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
cleanup() {
    stop_server
    if [ -n "$pg_created" ]; then
        pg_admin_sql -c "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" \
            -c "DROP DATABASE IF EXISTS ${pg_name}_pristine WITH (FORCE)" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Thousands of connections on each side.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((idle + 200)) ]; then
    echo "the open-file limit ($(ulimit -n)) is too low for $idle connections" >&2
    exit 1
fi

cargo build --release --quiet --bin cpaudit
bin=${CARGO_TARGET_DIR:-target}/release/cpaudit
export CPAUDIT_LOG=warn
ticks=$(getconf CLK_TCK)
cores=$(nproc)

cat >"$work/cpaudit.toml" <<EOF
[hj212]
listen = "127.0.0.1:$hj212_port"
# The shipped per-connection limits (256 KiB/s, 200 packets/s) would make this a test of
# the limits: a benchmark connection sends thousands of packets a second.
max_bytes_per_sec = 0
max_packets_per_sec = 0
EOF

# user + system CPU ticks of the given processes (those still running).
cpu_ticks() {
    local total=0 pid fields
    for pid in "$@"; do
        if fields=$(cut -d')' -f2 "/proc/$pid/stat" 2>/dev/null); then
            # After the command name: field 14 (utime) and 15 (stime) are the 12th and 13th.
            set -- $fields
            total=$((total + ${12} + ${13}))
        fi
    done
    echo "$total"
}
# CPU ticks of the whole machine not idle (user, nice, system, irq, softirq, steal): loopback TCP
# is partly processed in softirq, which no process is charged for.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
postgres_pids() { pgrep -x postgres 2>/dev/null | tr '\n' ' ' || true; }
status_kib() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }
mib() { echo $(($1 / 1024)); }
metric() {
    curl -sf "http://127.0.0.1:$web_port/metrics" | awk -v name="$1" '$1 == name { print $2 }'
}

start_server() {
    local url=$1
    "$bin" --config "$work/cpaudit.toml" --database-url "$url" serve \
        --listen "127.0.0.1:$web_port" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        if curl -sf "http://127.0.0.1:$web_port/healthz" >/dev/null 2>&1 &&
            (exec 3<>"/dev/tcp/127.0.0.1/$hj212_port") 2>/dev/null; then
            return
        fi
        sleep 0.1
    done
    cat "$work/server.log" >&2
    echo "the server did not start" >&2
    exit 1
}

# Always started in the background: exec, so that $! is the generator itself.
simulate() {
    exec "$bin" --database-url "sqlite://$work/unused.db" hj212 simulate \
        --target "127.0.0.1:$hj212_port" --scale "$scale" --faults none "$@"
}

idle_scenario() {
    local url=$1
    start_server "$url"
    sleep 1
    local before
    before=$(status_kib "$server_pid" VmRSS)
    simulate --devices "$idle" --idle --rate 0 --duration 25 --window 1 >"$work/idle.log" 2>&1 &
    local generator=$!
    local open=0
    for _ in $(seq 1 200); do
        open=$(metric cpaudit_hj212_connections_open)
        [ "${open:-0}" -ge "$idle" ] && break
        sleep 0.1
    done
    sleep 2
    local held anon file peak
    held=$(status_kib "$server_pid" VmRSS)
    anon=$(status_kib "$server_pid" RssAnon)
    file=$(status_kib "$server_pid" RssFile)
    peak=$(status_kib "$server_pid" VmHWM)
    wait "$generator" || { cat "$work/idle.log" >&2; exit 1; }
    echo "   connections held open by the server: $open"
    echo "   server RSS before: $(mib "$before") MiB; with $idle idle connections: $(mib "$held") MiB" \
        "(anonymous $(mib "$anon") MiB, file $(mib "$file") MiB); peak (VmHWM): $(mib "$peak") MiB"
    echo "   per idle connection: $(((held - before) / idle)) KiB"
    grep -E '^(sent|acknowledged|failed)' "$work/idle.log" | sed 's/^/   generator: /' || true
    stop_server
}

throughput_scenario() {
    local url=$1 pg=$2
    start_server "$url"
    sleep 1
    local before
    before=$(status_kib "$server_pid" VmRSS)
    simulate --devices "$active" --rate 0 --duration "$duration" --window "$window" \
        >"$work/active.log" 2>&1 &
    local generator=$!
    local pg_pids=""
    [ "$pg" = yes ] && pg_pids=$(postgres_pids)
    sleep "$warmup"
    local t0 c0 s0 g0 p0 m0
    t0=$(date +%s.%N)
    c0=$(metric cpaudit_hj212_committed_packets_total)
    s0=$(cpu_ticks "$server_pid")
    g0=$(cpu_ticks "$generator")
    # shellcheck disable=SC2086
    p0=$(cpu_ticks $pg_pids)
    m0=$(busy_ticks)
    sleep $((duration - warmup - 2))
    local t1 c1 s1 g1 p1 m1 i0 i1
    t1=$(date +%s.%N)
    c1=$(metric cpaudit_hj212_committed_packets_total)
    s1=$(cpu_ticks "$server_pid")
    g1=$(cpu_ticks "$generator")
    # shellcheck disable=SC2086
    p1=$(cpu_ticks $pg_pids)
    m1=$(busy_ticks)
    local peak anon file batches committed
    peak=$(status_kib "$server_pid" VmHWM)
    anon=$(status_kib "$server_pid" RssAnon)
    file=$(status_kib "$server_pid" RssFile)
    wait "$generator" || { cat "$work/active.log" >&2; exit 1; }
    batches=$(metric cpaudit_hj212_commit_batches_total)
    committed=$(metric cpaudit_hj212_committed_packets_total)
    awk -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v s="$((s1 - s0))" \
        -v g="$((g1 - g0))" -v p="$((p1 - p0))" -v m="$((m1 - m0))" -v hz="$ticks" \
        -v cores="$cores" -v pg="$pg" -v n="$active" -v batches="$batches" -v total="$committed" '
        BEGIN {
            dt = t1 - t0
            capacity = dt * hz * cores / 100
            printf "   sustained: %.0f packets/s committed and acknowledged (%d packets in %.1f s, %d devices)\n",
                (c1 - c0) / dt, c1 - c0, dt, n
            printf "   CPU of the two cores: server %.0f%%, load generator %.0f%%", s / capacity, g / capacity
            if (pg == "yes") printf ", PostgreSQL %.0f%%", p / capacity
            printf ", whole machine busy %.0f%%\n", m / capacity
            printf "   server CPU per packet: %.1f µs; packets per commit: %.0f on average over the run\n",
                (s / hz) * 1e6 / (c1 - c0), total / batches
        }'
    echo "   server RSS before: $(mib "$before") MiB; peak (VmHWM) with $active active connections:" \
        "$(mib "$peak") MiB (at the end: anonymous $(mib "$anon") MiB, file $(mib "$file") MiB)"
    grep -E '^(sent|acknowledged|failed|rate|ack latency)' "$work/active.log" | sed 's/^/   generator: /' || true
    stop_server
}

# The first two scenarios start from the demo data set alone. The third runs the throughput
# scenario again on the database the idle scenario left: one minute packet from each of 5,000
# devices, 30 days old, which gives the server's judgement job (it runs when the server starts)
# 30 days of those devices' hours to mark missing, so it writes beside the receiver all along.
measure() {
    local label=$1 url=$2 pristine_url=$3 pg=$4
    echo "== $label: demo data set of $scale enterprises"
    "$bin" --database-url "$url" demo --scale "$scale" >/dev/null
    copy_database "$url" "$pristine_url"
    echo "== $label: throughput with $active active device connections, $duration s"
    throughput_scenario "$url" "$pg"
    echo "== $label: memory with $idle idle device connections"
    idle_scenario "$pristine_url"
    echo "== $label: throughput again, while the judgement job catches up on 30 days of $idle devices"
    throughput_scenario "$pristine_url" "$pg"
}

echo "cpaudit HJ 212 ingest benchmark — $cores cores, $(date -u +%F), $(git rev-parse --short HEAD 2>/dev/null || echo 'no git')"
if [ "$which_backends" = sqlite ] || [ "$which_backends" = both ]; then
    copy_database() { cp "$work/bench.db" "$work/pristine.db"; }
    measure SQLite "sqlite://$work/bench.db" "sqlite://$work/pristine.db" no
fi
if [ "$which_backends" = postgres ] || [ "$which_backends" = both ]; then
    pg_admin_sql -c "DROP DATABASE IF EXISTS $pg_name WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS ${pg_name}_pristine WITH (FORCE)" -c "CREATE DATABASE $pg_name"
    pg_created=yes
    copy_database() { pg_admin_sql -c "CREATE DATABASE ${pg_name}_pristine TEMPLATE $pg_name"; }
    measure PostgreSQL "${pg_admin%/*}/$pg_name" "${pg_admin%/*}/${pg_name}_pristine" yes
fi
