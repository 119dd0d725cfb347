"""Hand-made requests for the answers Schemathesis does not reach by itself (API keys, the admin
token, oversized bodies, provider refusals, manual moves, YAML, the Salesforce bulk envelope...),
each held against openapi.yaml: its status must be documented for the operation, its content type
declared for that status, and its body valid against the schema (Schemathesis' own validator).

    python contract_cases.py OPENAPI_YAML MANUAL_BASE_URL ADMIN_BASE_URL

MANUAL_BASE_URL: a fresh server with the demo org, `--progression manual`, no admin token.
ADMIN_BASE_URL: a fresh server with the demo org, `--progression immediate`,
`--admin-token sekret` and `--max-body-bytes 2000`.
Exits 1 when any answer does not conform (or is not the status the case expects).
"""

import json
import sys

import requests
import schemathesis

SPEC, A, B = sys.argv[1:4]
ADMIN = {"Authorization": "Bearer sekret"}
BIG = "{" + " " * 3000 + "}"  # over B's 2000-byte limit

schema = schemathesis.openapi.from_path(SPEC)
raw = schema.raw_schema
failures = []
checked = set()


def documented(method, template, status):
    """The response object the document declares for this status, if any."""
    responses = raw["paths"][template][method.lower()]["responses"]
    response = responses.get(status)
    if response is not None and "$ref" in response:
        response = raw["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def conform(method, template, response, expect):
    status = str(response.status_code)
    label = f"{method} {template} -> {status}"
    checked.add((method, template, status))
    problems = []
    if expect is not None and response.status_code != expect:
        problems.append(f"expected {expect}")
    declared = documented(method, template, status)
    if declared is None:
        problems.append("status not documented")
    else:
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in declared.get("content", {}):
            problems.append(f"content type `{content_type}` not declared")
    try:
        schema[template][method].validate_response(response)
    except Exception as error:  # noqa: BLE001 - any validation failure is reported
        problems.append(f"schema: {str(error)[:800]}")
    if problems:
        failures.append(f"{label}: {'; '.join(problems)}\n    body: {response.text[:300]}")
        print(f"FAIL {label}: {problems}")
    return response


def check(method, template, url, expect=None, **kwargs):
    """One request; `expect` is the status the case is about (None: any documented one)."""
    response = requests.request(method, url, timeout=10, **kwargs)
    conform(method, template, response, expect)
    return response


def check_stream(url, expect=200, seconds=1.5):
    """The event stream never ends: read it for a moment, then check what arrived."""
    response = requests.get(url, stream=True, timeout=(5, seconds))
    content = b""
    try:
        for chunk in response.iter_content(chunk_size=None):
            content += chunk
    except requests.exceptions.ConnectionError:  # the read timeout ends the stream
        pass
    response._content = content
    response._content_consumed = True
    conform("GET", "/_emulator/events", response, expect)
    return content


SMS, CALL, STATUS = (f"/actions/Subscriber{name}Invocable" for name in ("SMS", "Call", "UserStatus"))
APEX = "/services/data/{version}/actions/custom/apex"
SOBJECT = "/services/data/{version}/sobjects/{object}/{id}"
JANE, BOB, ACME = "003Dn0000001JanIAE", "00QDn0000001BobMAE", "001Dn0000001AcmIAE"
ADA, GRACE, KATHERINE, LINUS = "005Dn0000001AdaIAE", "005Dn0000002GrcIAE", "005Dn0000003KatIAE", "005Dn0000004LinIAE"
MENU = "a0IDn0000001MnuMAE"

# ---- the direct actions: success, each error code, 401, 413, 502
sms = check("POST", SMS, A + SMS, 200, json={"toPhone": "+14155550123", "bodyText": "x", "recordId": JANE}).json()
mms = check("POST", SMS, A + SMS, 200, json={"toPhone": "(415) 555-0123", "fromPhone": "+14155550102",
                                            "bodyText": "receipt", "mediaURL": "https://example.com/r.png"}).json()
check("POST", SMS, A + SMS, 200, json={"recordId": JANE, "phoneNumberFieldName": "MobilePhone",
                                      "templateId": "a0TDn0000001AptMAE", "userId": KATHERINE})
check("POST", SMS, A + SMS, 200, json={"toPhone": "+15005550010", "bodyText": "accepted, later undelivered"})
check("POST", SMS, A + SMS, 502, json={"toPhone": "+15005550001", "bodyText": "refused"})
for body in ['{"bodyText": "no destination"}', '{"toPhone": "+14155550123"}', '{"toPhone": 5}', '{"colour": "red"}',
             "[]", "", "{", '{"toPhone": "+14155550123", "bodyText": "x", "fromPhone": "+14155550103"}',
             f'{{"toPhone": "+14155550123", "bodyText": "x", "userId": "{LINUS}"}}']:
    check("POST", SMS, A + SMS, 400, data=body)
check("POST", SMS, A + SMS, 401, json={"toPhone": "+14155550123", "bodyText": "x"}, headers={"X-Fastcall-User-Id": "nope"})
check("POST", SMS, B + SMS, 413, data=BIG)
call = check("POST", CALL, A + CALL, 200, json={"recordId": BOB, "phoneNumberFieldName": "Phone", "ivrId": MENU}).json()
check("POST", CALL, A + CALL, 502, json={"toPhone": "+15005550004", "ivrId": MENU})
check("POST", CALL, A + CALL, 400, json={"toPhone": "+14155550123"})
check("POST", CALL, B + CALL, 413, data=BIG)
for to in ("+15005550020", "+15005550021", "+15005550022"):  # Busy, No Answer, Failed (immediately, on B)
    check("POST", CALL, B + CALL, 200, json={"toPhone": to, "ivrId": MENU})
log = check("POST", STATUS, A + STATUS, 200, json={"userId": GRACE, "userStatusId": "a0UDn0000001AvlMAE"}).json()
check("POST", STATUS, A + STATUS, 200, json={"userId": GRACE, "userStatusId": "a0UDn0000001AvlMAE"})  # unchanged
check("POST", STATUS, A + STATUS, 200, json={"userId": KATHERINE, "statusType": "offline"})
check("POST", STATUS, A + STATUS, 400, json={"userId": LINUS, "statusType": "Offline"})
check("POST", STATUS, B + STATUS, 413, data=BIG)

# ---- Idempotency-Key: a replay, a reused key, a malformed key
KEY = {"Idempotency-Key": "contract-cases-1"}
first = check("POST", SMS, A + SMS, 200, json={"toPhone": "+14155550123", "bodyText": "once"}, headers=KEY)
again = check("POST", SMS, A + SMS, 200, json={"toPhone": "+14155550123", "bodyText": "once"}, headers=KEY)
if again.json() != first.json() or again.headers.get("idempotent-replayed") != "true":
    failures.append(f"an Idempotency-Key retry was not a replay: {again.headers} {again.text[:200]}")
check("POST", SMS, A + SMS, 422, json={"toPhone": "+14155550123", "bodyText": "other"}, headers=KEY)
check("POST", SMS, A + SMS, 400, json={"toPhone": "+14155550123", "bodyText": "x"}, headers={"Idempotency-Key": "has space"})
check("POST", CALL, A + CALL, 502, json={"toPhone": "+15005550004", "ivrId": MENU}, headers={"Idempotency-Key": "contract-cases-2"})
check("POST", CALL, A + CALL, 502, json={"toPhone": "+15005550004", "ivrId": MENU}, headers={"Idempotency-Key": "contract-cases-2"})
check("POST", STATUS, A + STATUS, 400, json={"userId": LINUS}, headers={"Idempotency-Key": "contract-cases-3"})
check("POST", STATUS, A + STATUS, 400, json={"userId": LINUS}, headers={"Idempotency-Key": "contract-cases-3"})
BULK_SMS = "/services/data/v60.0/actions/custom/apex/SubscriberSMSInvocable"
bulk = {"inputs": [{"toPhone": "+14155550123", "bodyText": "a"}, {"bodyText": "b"}]}
check("POST", f"{APEX}/SubscriberSMSInvocable", A + BULK_SMS, 400, json=bulk, headers={"Idempotency-Key": "contract-cases-4"})
check("POST", f"{APEX}/SubscriberSMSInvocable", A + BULK_SMS, 400, json=bulk, headers={"Idempotency-Key": "contract-cases-4"})
check("POST", f"{APEX}/SubscriberSMSInvocable", A + BULK_SMS, 422, json={"inputs": [{}]}, headers={"Idempotency-Key": "contract-cases-4"})
check("POST", f"{APEX}/SubscriberSMSInvocable", A + BULK_SMS, 400, json=bulk, headers={"Idempotency-Key": ""})
# Every input refused: no records, only the answer to keep. The retry replays it (no 15 s wait, no 409).
refused_only = {"inputs": [{"ivrId": ""}]}
BULK_CALL = "/services/data/v60.0/actions/custom/apex/SubscriberCallInvocable"
for _ in range(2):
    replay = check("POST", f"{APEX}/SubscriberCallInvocable", A + BULK_CALL, 400, json=refused_only,
                   headers={"Idempotency-Key": "contract-cases-5"})
if replay.headers.get("idempotent-replayed") != "true" or replay.elapsed.total_seconds() > 2:
    failures.append(f"a retry of a bulk call whose inputs all failed was not replayed at once: {replay.headers}")

# ---- the Salesforce REST shape
for name, inputs in [("SMS", [{"toPhone": "+14155550123", "bodyText": "a"}, {"bodyText": "b"}, 7]),
                     ("Call", [{"toPhone": "+14155550123", "ivrId": MENU}]),
                     ("UserStatus", [{"userId": ADA, "statusType": "Offline"}, {"userId": "x"}])]:
    action = f"Subscriber{name}Invocable"
    template = f"{APEX}/{action}"
    for addressed in (action, "FastCall__" + action):
        url = f"{A}/services/data/v60.0/actions/custom/apex/{addressed}"
        check("POST", template, url, None, json={"inputs": inputs})
        check("POST", template, url, 200, json={"inputs": inputs[:1]})
        check("GET", template, url, 200)
    url = f"{A}/services/data/v60.0/actions/custom/apex/{action}"
    check("POST", template, url, 400, json={"inputs": []})
    check("POST", template, url, 400, data="{nope")
    check("POST", template, f"{A}/services/data/60/actions/custom/apex/{action}", 404, json={"inputs": [{}]})
    check("GET", template, f"{A}/services/data/v1/actions/custom/apex/{action}", 404)
    check("POST", template, f"{B}/services/data/v60.0/actions/custom/apex/{action}", 413, data=BIG)
check("GET", APEX, A + "/services/data/v60.0/actions/custom/apex", 200)
for object_name, record_id in [("FastCall__SMS_Message__c", sms["id"]), ("fastcall__sms_message__c", mms["id"]),
                               ("FastCall__Call__c", call["id"]), ("Task", sms["taskId"]), ("Task", call["taskId"]),
                               ("Contact", JANE), ("Lead", BOB), ("Account", ACME)]:
    check("GET", SOBJECT, f"{A}/services/data/v60.0/sobjects/{object_name}/{record_id}", 200)
check("GET", SOBJECT, f"{A}/services/data/v60.0/sobjects/Contact/{BOB}", 404)

# ---- inbound messages and opt-outs: a reply, a keyword to a group's number (userId null), an MMS
INBOUND, OPT_OUTS = "/_emulator/inbound", "/_emulator/opt-outs"
texted = check("POST", INBOUND, A + INBOUND, 201, json={"from": "+14155550123", "to": "+14155550100", "body": "Running late"}).json()
check("POST", INBOUND, A + INBOUND, 201, json={"from": "+14155550124", "to": "+14155550101", "body": " stop "})
check("POST", INBOUND, A + INBOUND, 201, json={"from": "+14155550199", "to": "+14155550102", "mediaURL": "https://example.com/a.png"})
check("POST", INBOUND, A + INBOUND, 400, json={"from": "+14155550123", "to": "+14155550999", "body": "x"})
check("POST", INBOUND, A + INBOUND, 400, json={"from": "+14155550123", "to": "+14155550100"})
check("POST", INBOUND, A + INBOUND, 400, data='{"from": 5}')
check("POST", INBOUND, B + INBOUND, 401, json={"from": "+14155550123", "to": "+14155550100", "body": "x"})
check("POST", INBOUND, B + INBOUND, 413, data=BIG, headers=ADMIN)
check("POST", SMS, A + SMS, 502, json={"fromPhone": "+14155550101", "toPhone": "+14155550124", "bodyText": "opted out"})
check("GET", OPT_OUTS, A + OPT_OUTS, 200)
check("GET", OPT_OUTS, A + OPT_OUTS + "?from=%2B14155550124&wait=0.1", 200)
check("GET", OPT_OUTS, A + OPT_OUTS + "?userId=" + ADA, 400)
check("GET", OPT_OUTS, B + OPT_OUTS, 401)
check("GET", "/_emulator/messages", A + "/_emulator/messages?direction=inbound&status=Received", 200)
check("GET", "/_emulator/messages", A + "/_emulator/messages?direction=up", 400)
check("GET", "/_emulator/messages/{id}", A + "/_emulator/messages/" + texted["message"]["smsId"], 200)
check("GET", SOBJECT, f"{A}/services/data/v60.0/sobjects/FastCall__SMS_Message__c/{texted['message']['id']}", 200)

# ---- inspection, with and without the admin token
for path in ("/_emulator/messages", "/_emulator/calls", "/_emulator/tasks", "/_emulator/voip-errors", "/_emulator/status-log"):
    check("GET", path, A + path, 200)
    check("GET", path, A + path + "?wait=0.1&limit=1", 200)
    check("GET", path, A + path + "?colour=red", 400)
    check("GET", path, A + path + "?wait=121", 400)  # Schemathesis runs with `wait` pinned
    check("GET", path, B + path, 200, headers=ADMIN)
    check("GET", path, B + path, 401)
check("GET", "/_emulator/messages", A + "/_emulator/messages?to=%2B15005550010&status=queued&since=2020-01-01T00:00:00.000%2B0000", 200)
check("GET", "/_emulator/messages/{id}", A + "/_emulator/messages/" + sms["smsId"], 200)
check("GET", "/_emulator/messages/{id}", A + "/_emulator/messages/SM0", 404)
check("GET", "/_emulator/calls/{id}", A + "/_emulator/calls/" + call["callId"], 200)
check("GET", "/_emulator/tasks/{id}", A + "/_emulator/tasks/" + call["taskId"], 200)
check("GET", "/_emulator/status-log/{id}", A + "/_emulator/status-log/" + log["logId"], 200)
for entry in requests.get(A + "/_emulator/voip-errors", timeout=10).json()["items"]:
    check("GET", "/_emulator/voip-errors/{id}", A + "/_emulator/voip-errors/" + entry["id"], 200)
for user in (ADA, GRACE, KATHERINE, LINUS):
    check("GET", "/_emulator/users/{id}", A + "/_emulator/users/" + user, 200)
check("GET", "/_emulator/users/{id}", B + "/_emulator/users/" + ADA, 401)

# ---- manual moves: forward, with an error, refused, malformed
MOVE_SMS, MOVE_CALL = "/_emulator/messages/{id}/status", "/_emulator/calls/{id}/status"
check("POST", MOVE_SMS, f"{A}/_emulator/messages/{sms['id']}/status", 200, json={"status": "Sent"})
check("POST", MOVE_SMS, f"{A}/_emulator/messages/{sms['smsId']}/status", 200,
      json={"status": "Undelivered", "errorCode": 30005, "errorMessage": "Unknown destination handset"})
check("POST", MOVE_SMS, f"{A}/_emulator/messages/{mms['id']}/status", 200, json={"status": "Failed"})
check("POST", MOVE_SMS, f"{A}/_emulator/messages/{sms['id']}/status", 409, json={"status": "Queued"})
check("POST", MOVE_SMS, f"{A}/_emulator/messages/{sms['id']}/status", 400, json={"status": "Lost"})
check("POST", MOVE_SMS, f"{A}/_emulator/messages/{sms['id']}/status", 400, json={"status": "Sent", "errorMessage": "x"})
check("POST", MOVE_SMS, f"{A}/_emulator/messages/{sms['id']}/status", 400, data="nope")
check("POST", MOVE_SMS, f"{A}/_emulator/messages/a0S000000000000EAA/status", 404, json={"status": "Sent"})
check("POST", MOVE_SMS, f"{B}/_emulator/messages/{sms['id']}/status", 413, data=BIG, headers=ADMIN)
check("POST", MOVE_CALL, f"{A}/_emulator/calls/{call['id']}/status", 200, json={"status": "Ringing"})
check("POST", MOVE_CALL, f"{A}/_emulator/calls/{call['callId']}/status", 200, json={"status": "No Answer"})
check("POST", MOVE_CALL, f"{A}/_emulator/calls/{call['id']}/status", 409, json={"status": "Completed"})
check("POST", MOVE_CALL, f"{B}/_emulator/calls/{call['id']}/status", 401, json={"status": "Ringing"})
for path in ("/_emulator/messages", "/_emulator/calls", "/_emulator/voip-errors"):  # after the moves
    check("GET", path, A + path, 200)

# ---- the event stream: a replay of everything so far, filtered, refused
events = check_stream(A + "/_emulator/events?after=0")
kinds = {line.split(b": ", 1)[1].decode() for line in events.split(b"\n") if line.startswith(b"event: ")}
if not {"sms.created", "sms.status_changed", "sms.received", "call.created", "call.status_changed", "user_status.changed"} <= kinds:
    failures.append(f"the replayed stream lacks event types: it had {sorted(kinds)}")
for line in events.split(b"\n"):
    if line.startswith(b"data: "):
        json.loads(line[6:])  # every payload is JSON
check_stream(A + "/_emulator/events?types=sms.created,user_status.changed&after=0")
check_stream(B + "/_emulator/events", expect=401)
check("GET", "/_emulator/events", A + "/_emulator/events?types=nope", 400)
check("GET", "/_emulator/events", A + "/_emulator/events?colour=red", 400)

# ---- the org: export (JSON, YAML), import (YAML), refusals, API keys, reset
check("GET", "/_emulator/org", A + "/_emulator/org", 200)
org_yaml = check("GET", "/_emulator/org", A + "/_emulator/org", 200, headers={"Accept": "application/yaml"}).text
check("GET", "/_emulator/org", B + "/_emulator/org", 401)
check("PUT", "/_emulator/org", A + "/_emulator/org", 200, data=org_yaml, headers={"Content-Type": "application/yaml"})
check("PUT", "/_emulator/org", A + "/_emulator/org", 400,
      json={"users": [{"id": "bad", "name": ""}], "phoneNumbers": [{"id": "a0PDn0000001AdaMAE", "number": "555", "assignment": "user"}]})
check("PUT", "/_emulator/org", A + "/_emulator/org", 400, data="[1]")
check("PUT", "/_emulator/org", A + "/_emulator/org", 400, data="a: [", headers={"Content-Type": "application/yaml"})
check("PUT", "/_emulator/org", B + "/_emulator/org", 413, data=BIG, headers=ADMIN)
keyed = requests.get(A + "/_emulator/org", timeout=10).json()
keyed["apiKeys"] = [{"key": "k-1", "userId": GRACE}]
# Fields named like the sObject's own keys must not replace them.
keyed["records"].append({"id": "003Dn0000002ZedIAE", "fields": {"Id": "x", "attributes": 1, "Age": 3, "Vip": True, "Gone": None}})
check("PUT", "/_emulator/org", A + "/_emulator/org", 200, json=keyed)
check("GET", SOBJECT, f"{A}/services/data/v60.0/sobjects/Contact/003Dn0000002ZedIAE", 200, headers={"X-API-Key": "k-1"})
check("POST", SMS, A + SMS, 401, json={"toPhone": "+14155550123", "bodyText": "x"})
check("POST", SMS, A + SMS, 200, json={"toPhone": "+14155550123", "bodyText": "x"}, headers={"Authorization": "Bearer k-1"})
check("POST", f"{APEX}/SubscriberSMSInvocable", A + "/services/data/v60.0/actions/custom/apex/SubscriberSMSInvocable", 401,
      json={"inputs": [{}]})
check("GET", APEX, A + "/services/data/v60.0/actions/custom/apex", 401)
check("GET", f"{APEX}/SubscriberCallInvocable", A + "/services/data/v60.0/actions/custom/apex/SubscriberCallInvocable", 401)
check("GET", SOBJECT, f"{A}/services/data/v60.0/sobjects/Contact/{JANE}", 401)
check("POST", "/_emulator/reset", B + "/_emulator/reset?org=true", 401)
check("POST", "/_emulator/reset", A + "/_emulator/reset?org=maybe", 400)
check("POST", "/_emulator/reset", A + "/_emulator/reset", 200)
check("POST", "/_emulator/reset", A + "/_emulator/reset?org=true", 200)
check("GET", "/_emulator/org", A + "/_emulator/org", 200)  # the empty org
check("POST", SMS, A + SMS, 400, json={"toPhone": "+14155550123", "bodyText": "x"})
check("GET", "/_emulator/users/{id}", A + "/_emulator/users/" + ADA, 404)

# ---- health and the contract itself
check("GET", "/livez", A + "/livez", 200)
check("GET", "/readyz", A + "/readyz", 200)
for path in ("/openapi.yaml", "/openapi.json", "/openapi/actions.yaml", "/openapi/actions.json"):
    check("GET", path, A + path, 200)

print(f"{len(checked)} distinct answers (method, path, status) checked against the contract; {len(failures)} failures")
for failure in failures:
    print(" -", failure)
sys.exit(1 if failures else 0)
