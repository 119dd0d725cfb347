-- One SMS per request, from the running (default) user's own number, as the anchor's
-- transaction does: one caller-ID lookup, the message and its Task.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"toPhone": "+14155550123", "recordId": "003Dn0000001JanIAE", "bodyText": "Hi Jane, your appointment with Dr. Smith is confirmed for Tuesday 14 May at 10:30 AM at the Main Street clinic. Reply C to confirm or STOP to opt out."}'
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
