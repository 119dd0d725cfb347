#!/usr/bin/env bash
# Where a single SMS's CPU goes on PostgreSQL: the server's and PostgreSQL's own, per SMS,
# and PostgreSQL's transactions per SMS (issue 19). Wall-clock throughput on this machine
# swings with everything else it does; CPU time per SMS moves much less, so two builds
# compare by it.
#
#   bench/cpu.sh BINARY POSTGRES_URL [CONNECTIONS...]
#
# For each connection count (default 16 and 64): starts BINARY over a fresh database on the
# server of POSTGRES_URL (where it may create and drop databases), drives `bench/sms.lua`
# with wrk (warm-up, then the measured run), and reads the CPU time the server process and
# every PostgreSQL process used meanwhile (/proc: user and system) and the database's
# committed transactions (pg_stat_database). PostgreSQL's figure counts every process of
# the cluster (its WAL writer among them), so run it where nothing else uses the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$1
pg_url=$2
shift 2
connections=("$@")
[ ${#connections[@]} -gt 0 ] || connections=(16 64)

DURATION="${BENCH_SECONDS:-10}"
WARMUP="${BENCH_WARMUP_SECONDS:-3}"
export BENCH_DIR="$PWD/bench"
export PGOPTIONS="-c client_min_messages=warning"

. bench/lib.sh
need_wrk
work_dir cpu

database="fastcall_cpu_$$"
url="${pg_url%/*}/$database"
admin() { psql "$pg_url" -qAtc "$1"; }
trap 'bench_cleanup; admin "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true' EXIT

# "pid ticks" for the server and every PostgreSQL process: user and system clock ticks so far.
cpu_ticks() {
    for pid in "$server_pid" $(pgrep -x postgres); do
        awk -v pid="$pid" '{ print pid, $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || true
    done
}

transactions() {
    psql "$url" -qAtc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
}

# Prints the row of connection count $1: $2 requests in $DURATION seconds, $3 transactions,
# and the CPU ticks between the files $work/before and $work/after.
row() {
    python3 - "$1" "$2" "$DURATION" "$(getconf CLK_TCK)" "$server_pid" "$3" \
        "$work/before" "$work/after" <<'PY'
import sys
c, n, seconds, hz, server_pid, tx = (int(x) for x in sys.argv[1:7])
before, after = ({int(p): int(t) for p, t in (l.split() for l in open(f))} for f in sys.argv[7:9])
# A process that ended meanwhile is not counted; one that began is counted whole.
used = {pid: ticks - before.get(pid, 0) for pid, ticks in after.items()}
server = used.pop(server_pid, 0)
per_sms = lambda ticks: ticks / hz * 1e6 / n
print(f"{c:<12} {n / seconds:12.0f} {per_sms(sum(used.values())):16.0f} {per_sms(server):16.0f} {tx / n:16.2f}")
PY
}

printf '%-12s %12s %16s %16s %16s\n' connections requests/s "postgres µs/SMS" "server µs/SMS" "transactions/SMS"
for c in "${connections[@]}"; do
    admin "DROP DATABASE IF EXISTS $database" >/dev/null
    admin "CREATE DATABASE $database" >/dev/null
    start_server "$binary" "$url"
    wrk -t2 -c"$c" -d"${WARMUP}s" -s bench/sms.lua "$base/actions/SubscriberSMSInvocable" >/dev/null 2>&1 || true
    cpu_ticks >"$work/before"
    tx0=$(transactions)
    requests=$(wrk -t2 -c"$c" -d"${DURATION}s" -s bench/sms.lua "$base/actions/SubscriberSMSInvocable" \
        | tail -n 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
    cpu_ticks >"$work/after"
    tx1=$(transactions)
    row "$c" "$requests" "$((tx1 - tx0))"
    stop_server
done
