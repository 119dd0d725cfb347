#!/usr/bin/env bash
# Orgs side by side: what creating an org costs, and whether many orgs on one server slow the
# request path.
#
#   bench/orgs.sh                                   # SQLite
#   bench/orgs.sh postgres://postgres@127.0.0.1:5432/postgres   # and PostgreSQL
#
# Starts the release server, measures one SMS per request with wrk (16 connections) while the
# server holds only the org `default`, then creates BENCH_ORGS orgs (the demo org's data each,
# one PUT /orgs/{name}/_emulator/org at a time) and prints their creation time (p50, p99), then
# measures the SMS again with all of them on the server, into `default` and into the last org.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
pg_url="${1:-}"
ORGS="${BENCH_ORGS:-1000}"
DURATION="${BENCH_SECONDS:-10}"
export BENCH_DIR="$root/bench"

. bench/lib.sh
need_wrk
build_release
work_dir orgs-bench

run() {
    local url=$1 label=$2
    start_server "$binary" "$url"
    sms() {
        wrk -t2 -c16 -d2s -s bench/sms.lua "$base$1" >/dev/null 2>&1 || true
        wrk -t2 -c16 -d"${DURATION}s" -s bench/sms.lua "$base$1" | tail -n 1
    }
    step "$label: SMS with one org"
    local one; one=$(sms /actions/SubscriberSMSInvocable)
    step "$label: creating $ORGS orgs"
    curl -fs "$base/_emulator/org" >"$work/org.json"
    local created
    created=$(python3 - "$base" "$ORGS" "$work/org.json" <<'PY'
import http.client, sys, time, urllib.parse
base, count, document = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read()
url = urllib.parse.urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port)
times = []
for i in range(count):
    start = time.perf_counter()
    conn.request("PUT", f"/orgs/bench-{i:05d}/_emulator/org", body=document,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    times.append((time.perf_counter() - start) * 1000)
    assert response.status == 200, response.status
times.sort()
print("%.2f %.2f" % (times[len(times) // 2], times[int(len(times) * 0.99) - 1]))
PY
)
    step "$label: SMS with $((ORGS + 1)) orgs"
    local many; many=$(sms /actions/SubscriberSMSInvocable)
    local last; last=$(sms "/orgs/bench-$(printf %05d $((ORGS - 1)))/actions/SubscriberSMSInvocable")
    local rss; rss=$(peak_rss_mb)
    stop_server
    python3 - "$label" "$ORGS" "$created" "$one" "$many" "$last" "$rss" <<'PY'
import json, sys
label, orgs, created, one, many, last, rss = sys.argv[1:]
p50, p99 = created.split()
print(f"\n{label}: creating one org (demo org data): p50 {p50} ms, p99 {p99} ms ({orgs} orgs, one at a time)")
print(f"{label}: peak RSS with {int(orgs) + 1} orgs: {rss} MB")
print("| SMS, 16 connections | requests/s | p50 ms | p99 ms | errors |")
print("|---|---|---|---|---|")
for name, line in [("1 org", one), (f"{int(orgs) + 1} orgs, into default", many), (f"{int(orgs) + 1} orgs, into the last org", last)]:
    r = json.loads(line)
    print(f"| {name} | {r['requests'] / r['seconds']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} |")
PY
}

run "sqlite:$work/orgs.db" "SQLite"
if [ -n "$pg_url" ]; then
    db="fastcall_orgs_bench_$$"
    psql -q "$pg_url" -c "CREATE DATABASE $db"
    run "${pg_url%/*}/$db" "PostgreSQL"
    psql -q "$pg_url" -c "DROP DATABASE $db"
fi
