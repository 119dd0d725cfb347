-- One call per request, connected to the main menu IVR, logged as a Task on the Contact.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"toPhone": "+14155550123", "recordId": "003Dn0000001JanIAE", "ivrId": "a0IDn0000001MnuMAE"}'
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
