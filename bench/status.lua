-- A status change per request for one of the benchmark org's users, picked at random, each
-- request flipping its availability: nearly every request is a real, logged change.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local users = tonumber(os.getenv("BENCH_USERS"))
local flip = 0
request = function()
  flip = flip + 1
  local user = os.getenv("BENCH_USER_PREFIX") .. string.format("%05d", math.random(1, users))
  local status = (flip % 2 == 0) and "Available" or "Offline"
  return wrk.format(nil, nil, nil,
    string.format('{"userId": "%s", "statusType": "%s"}', user, status))
end
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
