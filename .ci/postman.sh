#!/usr/bin/env bash
# Runs the Postman collection (postman/) with newman against a fresh emulator: the given
# binary on a free port, over a temporary SQLite database (so the built-in demo org), with
# --progression manual (the collection's Lifecycle folder moves messages and calls itself).
# Then runs its Twilio provider folder again, against a server with --provider twilio, its
# public URL and auth token those of the environment file (the folder sends Twilio's signed
# requests; nothing is sent to Twilio). Builds nothing.
#
#   .ci/postman.sh [path/to/fastcall-emulator]
#
# The default binary is $CARGO_TARGET_DIR/release/fastcall-emulator (target/ when unset), as
# `cargo build --release` leaves it; a relative path given is taken from the current directory.
#
# Exits non-zero when the server does not come up, when any request or assertion fails, or
# when the server does not stop cleanly on SIGTERM.
set -euo pipefail

binary="${1:-}"
if [ -n "$binary" ] && [ "${binary#/}" = "$binary" ]; then
    binary="$PWD/$binary"
fi
cd "$(dirname "$0")/.."
binary="${binary:-${CARGO_TARGET_DIR:-target}/release/fastcall-emulator}"
collection=postman/fastcall-emulator.postman_collection.json
environment=postman/local.postman_environment.json
startup_timeout_secs=30
shutdown_grace_secs=5

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'postman.sh: %s\n' "$*" >&2; exit 1; }

[ -x "$binary" ] || fail "no server binary at $binary (build it first: cargo build --release)"
command -v curl >/dev/null 2>&1 || fail "curl is needed to wait for the server"
command -v npm >/dev/null 2>&1 || command -v newman >/dev/null 2>&1 || fail "newman is not installed and npm is missing"
if ! command -v newman >/dev/null 2>&1; then
    step "installing newman"
    npm install -g newman
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/fastcall-postman.XXXXXX")
server_pid=""
server_log="$workdir/server.log"

# Stops the server (SIGTERM, then SIGKILL after a bound) and returns its exit status.
stop_server() {
    local pid=$server_pid status=0
    [ -n "$pid" ] || return 0
    server_pid=""
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $(( (shutdown_grace_secs + 5) * 10 ))); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "postman.sh: the server did not stop after SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || status=$?
    return "$status"
}

cleanup() {
    local status=$?
    stop_server || true
    if [ "$status" -ne 0 ] && [ -s "$server_log" ]; then
        echo "--- last lines of the server log ---" >&2
        tail -n 40 "$server_log" >&2 || true
    fi
    rm -rf "$workdir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port that is free now (the server could still lose it to another process: then retry).
free_port() {
    node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Starts the server, with the flags after PORT, and waits (bounded) for /livez; returns 1 if it
# exited or never answered. $server_env holds variables to set for it.
server_env=()
start_server() {
    local port=$1 deadline
    shift
    rm -f "$workdir/emulator.db"*
    # Settings from the caller's environment that would change what the collection sees.
    env -u FASTCALL_ORG -u FASTCALL_ADMIN_TOKEN -u FASTCALL_PROVIDER -u FASTCALL_PROVIDER_LATENCY_MS \
        -u FASTCALL_MAX_BODY_BYTES -u FASTCALL_MAX_BULK_INPUTS -u FASTCALL_STEP_DELAY_MS \
        -u FASTCALL_PUBLIC_URL -u TWILIO_ACCOUNT_SID -u TWILIO_AUTH_TOKEN ${server_env[@]+"${server_env[@]}"} \
        "$binary" "$@" \
        --addr "127.0.0.1:$port" \
        --database-url "sqlite:$workdir/emulator.db" \
        --progression manual \
        --shutdown-grace-secs "$shutdown_grace_secs" \
        --log info \
        >"$server_log" 2>&1 &
    server_pid=$!
    deadline=$(( SECONDS + startup_timeout_secs ))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" 2>/dev/null || true
            server_pid=""
            return 1
        fi
        if curl -fsS --max-time 2 "http://127.0.0.1:$port/livez" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.2
    done
    echo "postman.sh: /livez did not answer within ${startup_timeout_secs}s" >&2
    stop_server || true
    return 1
}

# start PROGRESS_NOTE [FLAG...]: the server on a free port (three attempts); sets $port.
start() {
    local note=$1 candidate
    shift
    port=""
    for attempt in 1 2 3; do
        candidate=$(free_port)
        step "starting $binary on 127.0.0.1:$candidate ($note)"
        if start_server "$candidate" "$@"; then
            port=$candidate
            return 0
        fi
        echo "postman.sh: the server did not come up (attempt $attempt)" >&2
        tail -n 20 "$server_log" >&2 || true
    done
    fail "the server did not start"
}

start "--progression manual, temporary SQLite database"

step "newman $(newman --version)"
newman_status=0
newman run "$collection" \
    --environment "$environment" \
    --env-var "baseUrl=http://127.0.0.1:$port" \
    --timeout-request 30000 \
    --color off \
    --reporters cli || newman_status=$?

step "stopping the server"
server_status=0
stop_server || server_status=$?

[ "$newman_status" -eq 0 ] || fail "newman reported failures (exit $newman_status)"
[ "$server_status" -eq 0 ] || fail "the server exited with status $server_status after SIGTERM"

# The environment's values, so that the folder's signatures are the server's.
environment_value() {
    node -e 'const e = require(process.argv[1]); console.log(e.values.find((v) => v.key === process.argv[2]).value)' \
        "$PWD/$environment" "$1"
}
twilio_folder="Twilio provider (--provider twilio)"
server_env=("TWILIO_AUTH_TOKEN=$(environment_value twilioAuthToken)")
# Nothing listens at port 9: the folder sends Twilio's requests to the emulator, never the reverse.
start "--provider twilio" --provider twilio \
    --twilio-account-sid "$(environment_value twilioAccountSid)" \
    --public-url "$(environment_value publicUrl)" \
    --twilio-api-url http://127.0.0.1:9
newman_status=0
newman run "$collection" \
    --folder "$twilio_folder" \
    --environment "$environment" \
    --env-var "baseUrl=http://127.0.0.1:$port" \
    --env-var "providerIsTwilio=true" \
    --timeout-request 30000 \
    --color off \
    --reporters cli || newman_status=$?
server_status=0
stop_server || server_status=$?
[ "$newman_status" -eq 0 ] || fail "newman reported failures in the Twilio folder (exit $newman_status)"
[ "$server_status" -eq 0 ] || fail "the Twilio server exited with status $server_status after SIGTERM"
step "Postman collection passed"
