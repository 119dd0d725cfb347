#!/usr/bin/env bash
# Instructions per single SMS on the request path, counted by callgrind: the same figure on a
# busy machine, so builds can be compared where wall-clock figures swing (issue 19).
#
#   bench/callgrind.sh [BINARY] [POSTGRES_URL]
#
# For SQLite (a fresh file; the SQLite engine runs in the server, so it is counted) and, when
# a URL of a server where it may create and drop databases is given, PostgreSQL (the server
# process alone): the release server under `valgrind --tool=callgrind` in manual progression,
# with instrumentation off; 200 single SMS (bench/sms.lua's request) to warm up; instrumentation
# on; 1,000 single SMS one after another on one keep-alive connection; instrumentation off.
# Prints the instructions counted divided by 1,000, per backend. BINARY defaults to a fresh
# release build. With CALLGRIND_KEEP=DIR the profiles are copied there (callgrind.sqlite.out,
# callgrind.postgres.out), for `callgrind_annotate --inclusive=yes DIR/callgrind.sqlite.out`.
set -euo pipefail
cd "$(dirname "$0")/.."

WARMUP="${CALLGRIND_WARMUP:-200}"
MEASURED="${CALLGRIND_REQUESTS:-1000}"
export PGOPTIONS="-c client_min_messages=warning"

. bench/lib.sh
work_dir callgrind
if [ -n "${1:-}" ]; then
    binary=$1
else
    build_release
fi
pg_url="${2:-}"
need_valgrind

# Sends $2 single SMS to $1 on one connection, one after another; fails on any answer but 200.
send() {
    python3 - "$1" "$2" <<'EOF'
import http.client, sys, urllib.parse
url, count = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2])
body = open("bench/sms.lua").read().split("wrk.body = '")[1].split("'\n")[0]
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
for _ in range(count):
    connection.request("POST", "/actions/SubscriberSMSInvocable", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"answered {response.status}")
EOF
}

# Counts one backend's request path over database $2, labelled $1: prints "label instructions".
measure() {
    local label=$1 database=$2 port out
    port=$(free_port)
    base="http://127.0.0.1:$port"
    out="$work/callgrind.$label.out"
    env -i PATH="$PATH" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "$binary" --database-url "$database" --addr "127.0.0.1:$port" --progression manual --log warn \
        >"$work/server.$label.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        curl -fs "$base/livez" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -fs "$base/livez" >/dev/null || { cat "$work/server.$label.log" >&2; exit 1; }
    send "$base" "$WARMUP"
    callgrind_control --instr=on "$server_pid" >/dev/null
    send "$base" "$MEASURED"
    callgrind_control --instr=off "$server_pid" >/dev/null
    kill "$server_pid" && wait "$server_pid" || true
    server_pid=""
    local total
    total=$(awk '/^totals:/ { print $2; exit }' "$out")
    [ -n "${CALLGRIND_KEEP:-}" ] && mkdir -p "$CALLGRIND_KEEP" && cp "$out" "$CALLGRIND_KEEP/"
    echo "$label $(( total / MEASURED ))"
}

step "instructions per single SMS ($MEASURED after $WARMUP to warm up)"
printf '%-12s %s\n' backend instructions
read -r label count < <(measure sqlite "sqlite:$work/callgrind.db")
printf '%-12s %s\n' "$label" "$count"
if [ -n "$pg_url" ]; then
    database="fastcall_callgrind_$$"
    psql "$pg_url" -qc "CREATE DATABASE $database"
    read -r label count < <(measure postgres "${pg_url%/*}/$database")
    psql "$pg_url" -qc "DROP DATABASE $database"
    printf '%-12s %s\n' "$label" "$count"
fi
