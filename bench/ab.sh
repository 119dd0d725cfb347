#!/usr/bin/env bash
# A/B of two builds on the single-SMS scenario: the same machine, the same minutes.
#
#   bench/ab.sh BEFORE_BINARY AFTER_BINARY [POSTGRES_URL]
#
# For each round (BENCH_ROUNDS, default 2), each backend (SQLite, and PostgreSQL when a URL of a
# server where it may create and drop databases is given) and each connection count (16, 64),
# starts each build in turn over a fresh database and drives `bench/sms.lua` with wrk (warm-up,
# then the measured run). Alternating the builds within a round keeps a drift of the machine from
# favouring one. Prints one table row per run: requests/s, p50 and p99 in ms, errors.
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1
after=$2
pg_url="${3:-}"

DURATION="${BENCH_SECONDS:-8}"
WARMUP="${BENCH_WARMUP_SECONDS:-2}"
ROUNDS="${BENCH_ROUNDS:-2}"
export BENCH_DIR="$PWD/bench"
export PGOPTIONS="-c client_min_messages=warning"

. bench/lib.sh
need_wrk
work_dir ab

# Runs `bench/sms.lua` against build $1 over database $2 with $3 connections: "rps p50 p99 errors".
run() {
    local connections=$3
    start_server "$1" "$2"
    wrk -t2 -c"$connections" -d"${WARMUP}s" -s bench/sms.lua "$base/actions/SubscriberSMSInvocable" >/dev/null 2>&1 || true
    wrk -t2 -c"$connections" -d"${DURATION}s" -s bench/sms.lua "$base/actions/SubscriberSMSInvocable" \
        | tail -n 1 \
        | python3 -c 'import json, sys; r = json.load(sys.stdin); print("%.0f %.2f %.2f %d" % (r["requests"] / r["seconds"], r["p50_ms"], r["p99_ms"], r["errors"]))'
    stop_server
}

# A fresh database URL for backend $1, run $2.
fresh() {
    case $1 in
        SQLite) echo "sqlite:$work/$2.db" ;;
        PostgreSQL)
            local db="fastcall_ab_$2"
            psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >&2
            echo "${pg_url%/*}/$db"
            ;;
    esac
}

backends=(SQLite)
[ -n "$pg_url" ] && backends+=(PostgreSQL)
echo "| round | backend | connections | build | requests/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|---|---|"
n=0
for round in $(seq 1 "$ROUNDS"); do
    for backend in "${backends[@]}"; do
        for connections in 16 64; do
            for build in before after; do
                n=$((n + 1))
                binary=$before
                [ "$build" = after ] && binary=$after
                url=$(fresh "$backend" "$n")
                set -- $(run "$binary" "$url" "$connections")
                echo "| $round | $backend | $connections | $build | $1 | $2 | $3 | $4 |"
                if [ "$backend" = PostgreSQL ]; then
                    psql -q "$pg_url" -c "DROP DATABASE IF EXISTS fastcall_ab_$n WITH (FORCE)" >&2
                fi
            done
        done
    done
done
