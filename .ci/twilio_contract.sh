#!/usr/bin/env bash
# The Twilio provider against Twilio's own contract: Stoplight Prism mocks Twilio's REST API from
# Twilio's OpenAPI description (twilio_api_v2010.json, shipped in the npm package
# @twilio-alpha/mcp) in its validating mode (--errors), and every request the emulator sends
# for an SMS, an MMS and a call must be accepted (201), with its Basic auth. Any refusal fails
# the run.
#
#   .ci/twilio_contract.sh BINARY
#
# One adjustment to Twilio's file, stated rather than hidden: its form bodies' array fields
# (MediaUrl, StatusCallbackEvent) get the encoding OpenAPI 3 gives form bodies by default
# (style form, explode true: the field repeated, as Twilio documents it). Prism 5 does not apply
# that default, and refuses even a single MediaUrl ("must be array"); nothing else is changed.
#
# Prism answers with data it draws from the schemas (--dynamic), so each message gets a SID of
# its own, as from Twilio (its fixed examples would give every message the same one).
#
# Tools: Prism and the package in $TWILIO_CONTRACT_TOOLS (default /tmp/fastcall-twilio-contract),
# installed from npm when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:?usage: .ci/twilio_contract.sh BINARY}
TOOLS="${TWILIO_CONTRACT_TOOLS:-/tmp/fastcall-twilio-contract}"
PRISM_VERSION=5.14.2
MCP_VERSION=0.7.0
ACCOUNT_SID=AC0123456789abcdef0123456789abcdef

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "twilio contract: $*" >&2; exit 1; }

if ! [ -x "$TOOLS/node_modules/.bin/prism" ] \
    || ! grep -q "\"version\": \"$PRISM_VERSION\"" "$TOOLS/node_modules/@stoplight/prism-cli/package.json" \
    || ! grep -q "\"version\": \"$MCP_VERSION\"" "$TOOLS/node_modules/@twilio-alpha/mcp/package.json"; then
    step "installing @stoplight/prism-cli $PRISM_VERSION and @twilio-alpha/mcp $MCP_VERSION into $TOOLS"
    mkdir -p "$TOOLS"
    (cd "$TOOLS" && npm install --silent --no-audit --no-fund --no-save \
        "@stoplight/prism-cli@$PRISM_VERSION" "@twilio-alpha/mcp@$MCP_VERSION")
fi
spec="$TOOLS/node_modules/@twilio-alpha/mcp/twilio-oai/spec/json/twilio_api_v2010.json"
[ -f "$spec" ] || fail "no $spec"

work=$(mktemp -d /tmp/fastcall-twilio-contract.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in ${pids[@]+"${pids[@]}"}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for URL PID NAME: until URL answers at all (any status).
wait_for() {
    for _ in $(seq 1 300); do
        curl -s -o /dev/null "$1" && return 0
        kill -0 "$2" 2>/dev/null || { cat "$work/$3.log" >&2; fail "$3 exited"; }
        sleep 0.1
    done
    cat "$work/$3.log" >&2
    fail "$3 did not come up"
}

step "Twilio's description, with the default encoding of its form arrays written out"
python3 - "$spec" "$work/twilio.json" <<'EOF'
import json, sys
spec = json.load(open(sys.argv[1]))
for path in ("/2010-04-01/Accounts/{AccountSid}/Messages.json",
             "/2010-04-01/Accounts/{AccountSid}/Calls.json"):
    form = spec["paths"][path]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    arrays = [name for name, field in form["schema"]["properties"].items() if field.get("type") == "array"]
    form["encoding"] = {name: {"style": "form", "explode": True} for name in arrays}
    print(path, "arrays:", ", ".join(arrays))
json.dump(spec, open(sys.argv[2], "w"))
EOF

step "Prism $PRISM_VERSION, validating"
prism_port=$(free_port)
"$TOOLS/node_modules/.bin/prism" mock --errors --dynamic -h 127.0.0.1 -p "$prism_port" "$work/twilio.json" \
    >"$work/prism.log" 2>&1 &
pids+=("$!")
wait_for "http://127.0.0.1:$prism_port/" "$!" prism

step "the emulator, sending to Prism"
port=$(free_port)
base="http://127.0.0.1:$port"
TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef "$binary" \
    --database-url "sqlite:$work/emulator.db" --addr "127.0.0.1:$port" --log warn \
    --progression manual --provider twilio --twilio-account-sid "$ACCOUNT_SID" \
    --twilio-api-url "http://127.0.0.1:$prism_port" --public-url https://emulator.example.test \
    >"$work/emulator.log" 2>&1 &
pids+=("$!")
wait_for "$base/livez" "$!" emulator

# send NAME ROUTE BODY: the action must answer 200, with Twilio's SID in FIELD.
send() {
    local name=$1 route=$2 body=$3 field=$4 answer status
    answer=$(curl -s -w '\n%{http_code}' -X POST "$base$route" -H 'Content-Type: application/json' -d "$body")
    status=${answer##*$'\n'}
    answer=${answer%$'\n'*}
    if [ "$status" != 200 ]; then
        echo "$answer" >&2
        tail -n 30 "$work/prism.log" >&2
        fail "$name: the emulator answered $status (Prism refused its request?)"
    fi
    printf '%s' "$answer" | python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; sys.exit(0 if v else 1)' "$field" \
        || fail "$name: no $field in $answer"
    echo "$name: accepted"
}
send SMS /actions/SubscriberSMSInvocable \
    '{"toPhone": "+14155550123", "bodyText": "Contract check", "recordId": "003Dn0000001JanIAE"}' smsId
send MMS /actions/SubscriberSMSInvocable \
    '{"toPhone": "+14155550123", "bodyText": "Receipt", "fromPhone": "+14155550102", "mediaURL": "https://example.com/receipt.png"}' smsId
send call /actions/SubscriberCallInvocable \
    '{"toPhone": "+14155550123", "ivrId": "a0IDn0000001MnuMAE", "fromPhone": "+14155550103"}' callId

if grep -Eq "Request (body|header|path|query).*(must|should)|UNPROCESSABLE|violation" "$work/prism.log"; then
    grep -E "must|should|UNPROCESSABLE|violation" "$work/prism.log" >&2
    fail "Prism reported a violation"
fi
step "Twilio's contract accepts every request the emulator sends"
