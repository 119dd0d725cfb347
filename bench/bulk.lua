-- 200 SMS per request through the Salesforce REST shape.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local inputs = {}
for i = 1, 200 do
  inputs[i] = string.format('{"toPhone": "+1415555%04d", "bodyText": "Bulk message %d of 200: your order has shipped."}', 1000 + i, i)
end
wrk.body = '{"inputs": [' .. table.concat(inputs, ",") .. ']}'
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
