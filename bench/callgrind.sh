#!/usr/bin/env bash
# Instructions per single SMS on the request path, counted by callgrind: the same figure on a
# busy machine, so builds can be compared where wall-clock figures swing (issue 19).
#
#   bench/callgrind.sh [BINARY] [POSTGRES_URL]
#
# For SQLite (a fresh file; the SQLite engine runs in the server, so it is counted) and, when
# a URL of a server where it may create and drop databases is given, PostgreSQL (the server
# process alone): the release server under `valgrind --tool=callgrind` in manual progression,
# with instrumentation off and logging at its default (info: one line per action call, as the
# issue asks); 200 single SMS to warm up; instrumentation on; 1,000 single SMS one
# after another on one keep-alive connection; instrumentation off. Two requests, each on a
# server of its own: bench/sms.lua's, about a Contact (`sms`: the message, its Task and its
# event), and bench/sms-plain.lua's, about nothing (`sms-plain`: the message and its event).
# Prints the instructions counted divided by 1,000, per backend and request. BINARY defaults
# to a fresh release build. With CALLGRIND_KEEP=DIR the profiles are copied there
# (callgrind.sqlite.sms.out, ...), for `callgrind_annotate --inclusive=yes DIR/<file>`.
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

# Sends $2 single SMS, the request of bench/$3.lua, to $1 on one connection, one after
# another; fails on any answer but 200.
send() {
    python3 - "$1" "$2" "$3" <<'EOF'
import http.client, sys, urllib.parse
url, count = urllib.parse.urlsplit(sys.argv[1]), int(sys.argv[2])
body = open(f"bench/{sys.argv[3]}.lua").read().split("wrk.body = '")[1].split("'\n")[0]
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
for _ in range(count):
    connection.request("POST", "/actions/SubscriberSMSInvocable", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"answered {response.status}")
EOF
}

# Counts one backend's request path over database $2, labelled $1, for the request of
# bench/$3.lua: prints "label request instructions".
measure() {
    local label=$1 database=$2 request=$3 port out
    port=$(free_port)
    base="http://127.0.0.1:$port"
    out="$work/callgrind.$label.$request.out"
    env -i PATH="$PATH" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" \
        "$binary" --database-url "$database" --addr "127.0.0.1:$port" --progression manual --log info \
        >"$work/server.$label.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        curl -fs "$base/livez" >/dev/null 2>&1 && break
        sleep 0.2
    done
    curl -fs "$base/livez" >/dev/null || { cat "$work/server.$label.log" >&2; exit 1; }
    send "$base" "$WARMUP" "$request"
    callgrind_control --instr=on "$server_pid" >/dev/null
    send "$base" "$MEASURED" "$request"
    callgrind_control --instr=off "$server_pid" >/dev/null
    kill "$server_pid" && wait "$server_pid" || true
    server_pid=""
    local total
    total=$(awk '/^totals:/ { print $2; exit }' "$out")
    [ -n "${CALLGRIND_KEEP:-}" ] && mkdir -p "$CALLGRIND_KEEP" && cp "$out" "$CALLGRIND_KEEP/"
    echo "$label $request $(( total / MEASURED ))"
}

step "instructions per single SMS ($MEASURED after $WARMUP to warm up)"
printf '%-12s %-12s %s\n' backend request instructions
for request in sms sms-plain; do
    rm -f "$work"/callgrind.db*
    read -r label kind count < <(measure sqlite "sqlite:$work/callgrind.db" "$request")
    printf '%-12s %-12s %s\n' "$label" "$kind" "$count"
done
if [ -n "$pg_url" ]; then
    for request in sms sms-plain; do
        database="fastcall_callgrind_$$"
        psql "$pg_url" -qc "CREATE DATABASE $database"
        read -r label kind count < <(measure postgres "${pg_url%/*}/$database" "$request")
        psql "$pg_url" -qc "DROP DATABASE $database"
        printf '%-12s %-12s %s\n' "$label" "$kind" "$count"
    done
fi
