#!/usr/bin/env bash
# The published contract, proven: openapi.yaml and the actions document the server cuts from it
# (/openapi/actions.yaml) must be valid OpenAPI 3.0 and pass the Spectral ruleset
# (.spectral.yaml); Schemathesis, run over every operation against a live server with the demo
# org, must find no response the contract does not allow; and the hand-made cases of
# .ci/contract_cases.py (answers Schemathesis does not reach) must conform too. Any failure fails
# the run.
#
#   .ci/contract.sh                  # builds the release binary first
#   CONTRACT_PROFILE=debug .ci/contract.sh
#   CONTRACT_MAX_EXAMPLES=200 .ci/contract.sh
#   CONTRACT_WORKERS=4 .ci/contract.sh   # faster; Python 3.11 may then fail inside Hypothesis
#                                        # ("AST constructor recursion depth mismatch", a CPython bug)
#   CONTRACT_DATABASE_URL=postgres://postgres@127.0.0.1:5432/empty_db .ci/contract.sh
#
# The Schemathesis server runs on a temporary SQLite database unless CONTRACT_DATABASE_URL names
# another; it must be empty (the server then loads the demo org), since the run replaces and
# wipes its data.
#
# Tools: openapi-spec-validator and Schemathesis in a Python venv ($CONTRACT_VENV, default
# /tmp/stvenv), Spectral from npm; each is installed when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

VENV="${CONTRACT_VENV:-/tmp/stvenv}"
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
SPECTRAL_VERSION=6.16.3
PROFILE="${CONTRACT_PROFILE:-release}"
MAX_EXAMPLES="${CONTRACT_MAX_EXAMPLES:-50}"
WORKERS="${CONTRACT_WORKERS:-1}"
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "contract: $*" >&2; exit 1; }

ensure_tools() {
    # The version is read whole before it is matched: `| grep -q` would quit at its match,
    # and pipefail would then count the pipe as failed and reinstall every run.
    local installed
    installed=$("$VENV/bin/schemathesis" --version 2>/dev/null || true)
    if [[ "$installed" != *"$SCHEMATHESIS_VERSION"* ]] \
        || ! [ -x "$VENV/bin/openapi-spec-validator" ]; then
        step "installing schemathesis $SCHEMATHESIS_VERSION and openapi-spec-validator into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --upgrade pip
        "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION" \
            "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"
    fi
    if ! command -v spectral >/dev/null 2>&1; then
        step "installing @stoplight/spectral-cli $SPECTRAL_VERSION"
        npm install -g --silent "@stoplight/spectral-cli@$SPECTRAL_VERSION"
    fi
}

# Checks one document: valid OpenAPI 3.0, and clean under the project's Spectral ruleset.
lint() {
    local document=$1
    "$VENV/bin/openapi-spec-validator" "$document"
    spectral lint --ruleset "$root/.spectral.yaml" --fail-severity error "$document"
}

ensure_tools

step "openapi.yaml"
lint openapi.yaml

step "cargo build ($PROFILE)"
target_dir="${CARGO_TARGET_DIR:-target}"
if [ "$PROFILE" = release ]; then
    cargo build --locked --release
else
    cargo build --locked
fi
binary="$target_dir/$PROFILE/fastcall-emulator"
[ -x "$binary" ] || fail "no binary at $binary"

work=$(mktemp -d /tmp/fastcall-contract.XXXXXX)
server_pids=()
cleanup() {
    local pid
    for pid in ${server_pids[@]+"${server_pids[@]}"}; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME DATABASE_URL [FLAG...]: starts the binary on a free port, waits for /livez,
# and sets $base to its URL. Its log is $work/NAME.log.
start_server() {
    local name=$1 database_url=$2 port pid
    shift 2
    port=$(free_port)
    base="http://127.0.0.1:$port"
    "$binary" --database-url "$database_url" --addr "127.0.0.1:$port" --log warn "$@" >"$work/$name.log" 2>&1 &
    pid=$!
    server_pids+=("$pid")
    for _ in $(seq 1 100); do
        curl -sf "$base/livez" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; fail "the $name server exited"; }
        sleep 0.1
    done
    cat "$work/$name.log" >&2
    fail "the $name server did not come up"
}

database_url="${CONTRACT_DATABASE_URL:-sqlite:$work/fuzz.db}"
step "starting the server (${database_url%%:*}, demo org, immediate progression)"
start_server fuzz "$database_url" --progression immediate
echo "$base"

step "the served documents"
curl -sf "$base/openapi.yaml" -o "$work/served.yaml"
cmp -s "$work/served.yaml" openapi.yaml || fail "/openapi.yaml differs from openapi.yaml (a stale binary?)"
curl -sf "$base/openapi/actions.yaml" -o "$work/actions.yaml"
lint "$work/actions.yaml"

# Records of every kind, so that the `{id}` routes also answer 200 (and 409), not only 404.
step "seeding records"
post() { curl -s -X POST "$base$1" -H 'Content-Type: application/json' -d "$2"; }
field() { "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
sms=$(post /actions/SubscriberSMSInvocable \
    '{"recordId": "003Dn0000001JanIAE", "phoneNumberFieldName": "MobilePhone", "bodyText": "contract"}')
call=$(post /actions/SubscriberCallInvocable '{"toPhone": "+14155550125", "ivrId": "a0IDn0000001MnuMAE"}')
refused=$(post /actions/SubscriberSMSInvocable '{"toPhone": "+15005550001", "bodyText": "refused"}')
status=$(post /actions/SubscriberUserStatusInvocable '{"userId": "005Dn0000002GrcIAE", "statusType": "Available"}')
voip_error=$(curl -sf "$base/_emulator/voip-errors" | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
[ "$(printf '%s' "$refused" | field errorCode)" = 100 ] || fail "seeding: the refused SMS answered $refused"
message_id=$(printf '%s' "$sms" | field id)
sms_id=$(printf '%s' "$sms" | field smsId)
sms_task=$(printf '%s' "$sms" | field taskId)
call_id=$(printf '%s' "$call" | field id)
provider_call_id=$(printf '%s' "$call" | field callId)
call_task=$(printf '%s' "$call" | field taskId)
log_id=$(printf '%s' "$status" | field logId)

# Schemathesis settings beyond the command line:
# - `wait` long-polls up to 120 s, and a request with nothing to wait for is held that long:
#   with a 5 s request timeout it is fixed at 0.2 s here (the long-poll still runs, briefly).
# - the event stream never ends by itself: Schemathesis reads it for 2 s (not the 5 s of other
#   requests) and checks the events it got; `after` is half the time an early event id, so that
#   the stream replays the seeded events.
# - the `{id}` parameters draw half of their values from the seeded records.
cat >"$work/schemathesis.toml" <<EOF
[generation]
database = "none"

[parameters]
"query.wait" = "0.2"

[dictionaries.message-ids]
values = ["$message_id", "$sms_id"]

[dictionaries.call-ids]
values = ["$call_id", "$provider_call_id"]

[dictionaries.task-ids]
values = ["$sms_task", "$call_task"]

[dictionaries.voip-error-ids]
values = ["$voip_error"]

[dictionaries.log-ids]
values = ["$log_id"]

[dictionaries.user-ids]
values = ["005Dn0000001AdaIAE", "005Dn0000002GrcIAE", "005Dn0000003KatIAE", "005Dn0000004LinIAE"]

[dictionaries.sobject-names]
values = ["FastCall__SMS_Message__c", "FastCall__Call__c", "Task", "Contact", "Lead", "Account"]

[dictionaries.sobject-ids]
values = ["$message_id", "$call_id", "$sms_task", "$call_task", "003Dn0000001JanIAE", "00QDn0000001BobMAE", "001Dn0000001AcmIAE"]

[dictionaries.event-ids]
values = [0, 1, 3]

[[operations]]
include-path = "/_emulator/events"
request-timeout = 2
parameters = { "query.after" = { dictionary = "event-ids", probability = 0.5 } }

[[operations]]
include-path-regex = "^/_emulator/messages/\\\\{id\\\\}"
parameters = { "path.id" = { dictionary = "message-ids", probability = 0.5 } }

[[operations]]
include-path-regex = "^/_emulator/calls/\\\\{id\\\\}"
parameters = { "path.id" = { dictionary = "call-ids", probability = 0.5 } }

[[operations]]
include-path = "/_emulator/tasks/{id}"
parameters = { "path.id" = { dictionary = "task-ids", probability = 0.5 } }

[[operations]]
include-path = "/_emulator/voip-errors/{id}"
parameters = { "path.id" = { dictionary = "voip-error-ids", probability = 0.5 } }

[[operations]]
include-path = "/_emulator/status-log/{id}"
parameters = { "path.id" = { dictionary = "log-ids", probability = 0.5 } }

[[operations]]
include-path = "/_emulator/users/{id}"
parameters = { "path.id" = { dictionary = "user-ids", probability = 0.5 } }

[[operations]]
include-path = "/services/data/{version}/sobjects/{object}/{id}"
parameters = { "path.object" = { dictionary = "sobject-names", probability = 0.5 }, "path.id" = { dictionary = "sobject-ids", probability = 0.5 } }

# A direct action's 502 is the provider's refusal, a documented answer (APIException 100), which
# a fuzzed destination that is not a valid number gets (SPEC 8). Every other 5xx still fails.
[[operations]]
include-path-regex = "^/actions/"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "502"]
EOF

# Two runs, so that the seeded records are there for the first: every operation but the two
# that wipe data (reset, replacing the org), then those two.
schemathesis() {
    local label=$1
    shift
    step "schemathesis: $label"
    # From the work directory, so that nothing is written into the repository.
    (
        cd "$work"
        "$VENV/bin/schemathesis" --no-color --config-file "$work/schemathesis.toml" run "$root/openapi.yaml" \
            --url "$base" \
            --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
            --request-timeout 5 \
            --max-examples "$MAX_EXAMPLES" \
            --workers "$WORKERS" \
            "$@"
    ) || { echo "--- server log ---" >&2; tail -n 50 "$work/fuzz.log" >&2; fail "schemathesis found failures ($label)"; }
}
destructive='^(resetEmulator|replaceOrg)$'
schemathesis "every operation but reset and org replacement" --exclude-operation-id-regex "$destructive"
schemathesis "reset and org replacement" --include-operation-id-regex "$destructive"

# What Schemathesis does not reach by itself (API keys, the admin token, oversized bodies, provider
# refusals, manual moves, YAML): hand-made requests, each held against the contract, on two more
# servers with fresh demo orgs (always SQLite).
step "hand-made cases"
start_server manual "sqlite:$work/manual.db" --progression manual
manual_base=$base
start_server admin "sqlite:$work/admin.db" --progression immediate --admin-token sekret --max-body-bytes 2000
admin_base=$base
"$VENV/bin/python" .ci/contract_cases.py openapi.yaml "$manual_base" "$admin_base" \
    || { tail -n 20 "$work/manual.log" "$work/admin.log" >&2; fail "hand-made cases do not conform"; }

step "the contract holds"
