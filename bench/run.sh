#!/usr/bin/env bash
# The benchmark: one command, from a fresh clone.
#
#   bench/run.sh                                    # SQLite only
#   bench/run.sh postgres://postgres@127.0.0.1:5432/postgres   # SQLite, PostgreSQL and the pgbench anchor
#
# Builds the release server, starts it with a benchmark org (the demo org plus BENCH_USERS
# users) over tables preloaded with BENCH_ROWS messages and Tasks, and drives four scenarios
# with wrk at 16 and 64 connections: one SMS per request, one call per request, one user-status
# change per request, and 200-input bulk SMS through the Salesforce REST shape. Prints a table
# of requests/s (inputs/s for bulk), p50/p99 latency, errors (non-2xx and socket errors) and the
# server's peak RSS. With a PostgreSQL URL (a server where it may create and drop databases) it
# also runs the naive anchor (bench/schema-pg.sql, bench/pgbench-sms.sql): pgbench running
# the naive SMS transaction, in the same run on the same machine. Then it counts the
# instructions per single SMS, with a Task and without, with bench/callgrind.sh.
# BENCH_SQLITE=0 leaves SQLite out; BENCH_CALLGRIND=0 the instruction count.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pg_url="${1:-}"

DURATION="${BENCH_SECONDS:-10}"
WARMUP="${BENCH_WARMUP_SECONDS:-2}"
export BENCH_USERS="${BENCH_USERS:-1000}"
export BENCH_USER_PREFIX="005Bn00000"
ROWS="${BENCH_ROWS:-1000000}"
export BENCH_DIR="$root/bench"
export CARGO_TERM_COLOR=never
export PGOPTIONS="-c client_min_messages=warning"

. bench/lib.sh

need_wrk
if [ -n "$pg_url" ] && ! command -v pgbench >/dev/null 2>&1; then
    step "installing pgbench"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
fi
build_release
work_dir bench

# The demo org plus BENCH_USERS Fastcall users, for the status scenario.
load_org() {
    curl -fs "$base/_emulator/org" | python3 -c '
import json, os, sys
org = json.load(sys.stdin)
prefix, count = os.environ["BENCH_USER_PREFIX"], int(os.environ["BENCH_USERS"])
org["users"] += [{"id": f"{prefix}{i:05d}", "name": f"Bench User {i}", "fastcallUser": True, "statusType": "Offline"}
                 for i in range(1, count + 1)]
json.dump(org, sys.stdout)' >"$work/org.json"
    curl -fs -X PUT "$base/_emulator/org" -H 'Content-Type: application/json' --data-binary @"$work/org.json" >/dev/null
}

# BENCH_ROWS messages and Tasks already in the tables, as the naive figures were measured with.
# Their Ids are valid 18-character Ids (all digits after the prefix, checksum AAA).
PRELOAD=(
    "INSERT INTO sms_messages (org, id, provider_id, created_at, updated_at, owner_id, user_id, phone_number_id,
        from_phone, to_phone, body, status, status_history, direction)
     SELECT 'default', 'a0s' || substr(CAST(1000000000000 + n AS TEXT), 2) || 'AAA', 'SMpre' || CAST(n AS TEXT), 0, 0,
        '005Dn0000001AdaIAE', '005Dn0000001AdaIAE', 'a0PDn0000001AdaMAE', '+14155550100', '+14155550123',
        'preloaded', 'Delivered', '[]', 'Outbound'
     FROM series"
    "INSERT INTO tasks (org, id, created_at, owner_id, subject, status, priority, task_subtype, who_id)
     SELECT 'default', '00t' || substr(CAST(1000000000000 + n AS TEXT), 2) || 'AAA', 0, '005Dn0000001AdaIAE', 'SMS', 'Completed',
        'Normal', 'Task', '003Dn0000001JanIAE'
     FROM series"
)

preload() {
    local url=$1
    step "preloading $ROWS messages and Tasks"
    case "$url" in
        postgres*)
            for statement in "${PRELOAD[@]}"; do
                psql -q "$url" -c "WITH series AS (SELECT generate_series(1, $ROWS) AS n) $statement"
            done
            # Vacuumed, and the pages that dirtied written out now, not during the first
            # scenario.
            psql -q "$url" -c "VACUUM ANALYZE" -c "CHECKPOINT"
            ;;
        sqlite:*)
            python3 - "${url#sqlite:}" "$ROWS" "${PRELOAD[@]}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = int(sys.argv[2])
for statement in sys.argv[3:]:
    db.execute(f"WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < {rows}) {statement}")
db.commit()
PY
            ;;
    esac
}

# Runs one scenario: prints "name connections rate p50 p99 errors".
scenario() {
    local name=$1 script=$2 path=$3 connections=$4 per_request=$5
    wrk -t2 -c"$connections" -d"${WARMUP}s" -s "bench/$script" "$base$path" >/dev/null 2>&1 || true
    local json
    json=$(wrk -t2 -c"$connections" -d"${DURATION}s" -s "bench/$script" "$base$path" | tail -n 1)
    python3 -c '
import json, sys
r = json.loads(sys.argv[1])
rate = r["requests"] * int(sys.argv[2]) / r["seconds"]
print("%.0f %.2f %.2f %d" % (rate, r["p50_ms"], r["p99_ms"], r["errors"]))' "$json" "$per_request"
}

results="$work/results.txt"
: >"$results"

# Benchmarks one backend: $1 its label, $2 its database URL.
run_backend() {
    local label=$1 url=$2
    step "$label"
    start_server "$binary" "$url"
    load_org
    stop_server
    preload "$url"
    start_server "$binary" "$url"
    for connections in 16 64; do
        for spec in "SMS sms.lua /actions/SubscriberSMSInvocable 1" \
                    "call call.lua /actions/SubscriberCallInvocable 1" \
                    "user-status status.lua /actions/SubscriberUserStatusInvocable 1" \
                    "bulk-SMS-200 bulk.lua /services/data/v60.0/actions/custom/apex/SubscriberSMSInvocable 200"; do
            set -- $spec
            step "$label: $1 at $connections connections"
            echo "$label $1 $connections $(scenario "$1" "$2" "$3" "$connections" "$4")" >>"$results"
        done
    done
    echo "$label rss - $(peak_rss_mb)" >>"$results"
    stop_server
}

[ "${BENCH_SQLITE:-1}" = 0 ] || run_backend SQLite "sqlite:$work/bench.db"

anchor=""
if [ -n "$pg_url" ]; then
    db="fastcall_bench_$$"
    admin="${pg_url%/*}"
    psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    run_backend PostgreSQL "$admin/$db"
    psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"

    step "the naive anchor: pgbench"
    anchor_db="fastcall_anchor_$$"
    psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $anchor_db" -c "CREATE DATABASE $anchor_db"
    psql -q "$admin/$anchor_db" -f bench/schema-pg.sql >/dev/null
    # What the scenarios before it wrote is written out now, not during its run.
    psql -q "$admin/$anchor_db" -c "CHECKPOINT"
    anchor=$(pgbench "$admin/$anchor_db" -n -M prepared -f bench/pgbench-sms.sql -c 8 -j 2 -T "$DURATION" 2>/dev/null \
        | awk '/^tps/ { printf "%.0f", $3 }')
    psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $anchor_db WITH (FORCE)"
fi

# Instructions per single SMS, counted by callgrind (bench/callgrind.sh) on the same binary.
if [ "${BENCH_CALLGRIND:-1}" != 0 ]; then
    step "instructions per single SMS (callgrind)"
    bench/callgrind.sh "$binary" ${pg_url:+"$pg_url"} | awk '$3 ~ /^[0-9]+$/ { print "callgrind", $1, $2, $3 }' >>"$results"
fi

python3 - "$results" "$anchor" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
anchor = sys.argv[2]
print()
print(f"| backend | scenario | connections | requests/s (bulk: inputs/s) | p50 ms | p99 ms | errors |")
print(f"|---|---|---|---|---|---|---|")
for r in rows:
    if r[1] == "rss" or r[0] == "callgrind":
        continue
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} |")
print()
for r in rows:
    if r[1] == "rss":
        print(f"- peak RSS ({r[0]}): {r[3]} MB")
for r in rows:
    if r[0] == "callgrind":
        print(f"- instructions per single SMS ({r[1]}, {r[2]}, callgrind): {int(r[3]):,}")
if anchor:
    print(f"- pgbench anchor (naive SMS transaction, -c 8): {anchor} transactions/s")
    sms = {r[0]: float(r[3]) for r in rows if r[1] == "SMS" and r[2] == "16"}
    if "PostgreSQL" in sms:
        print(f"- single SMS on PostgreSQL / anchor: {sms['PostgreSQL'] / float(anchor):.2f}")
    if "PostgreSQL" in sms and "SQLite" in sms:
        print(f"- single SMS on SQLite / on PostgreSQL: {sms['SQLite'] / sms['PostgreSQL']:.2f}")
PY
