-- One SMS per request with nothing to relate it to: no recordId, so no Task, only the message
-- and its event. bench/callgrind.sh counts it beside bench/sms.lua's (issue 19).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"toPhone": "+14155550123", "bodyText": "Hi Jane, your appointment with Dr. Smith is confirmed for Tuesday 14 May at 10:30 AM at the Main Street clinic. Reply C to confirm or STOP to opt out."}'
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
