-- wrk script for the tasks API: every request is authenticated as one of the seeded users
-- (round robin), and writes go to that user's own tasks, so concurrent clients rarely touch
-- the same row. Environment:
--   BENCH_USERS  the Lua table seed.py wrote ({id, token, tasks} per user)
--   BENCH_OP     list | create | update | complete
-- The summary is one line, `BENCH {json}`, which the xtask parses.

local users = dofile(os.getenv("BENCH_USERS"))
local op = os.getenv("BENCH_OP")
local counter = 0

local json_headers = function(user)
  return {["Authorization"] = "Bearer " .. user.token, ["Content-Type"] = "application/json"}
end

local build = {
  -- The list the UI shows: pending tasks, soonest due first, one page of 20.
  list = function(user, n)
    return wrk.format("GET", "/api/" .. user.id .. "/tasks?status=pending&sort=due&limit=20",
      {["Authorization"] = "Bearer " .. user.token})
  end,
  create = function(user, n)
    local body = '{"title":"Benchmark task ' .. n .. '","priority":"high","tags":["bench"]}'
    return wrk.format("POST", "/api/" .. user.id .. "/tasks", json_headers(user), body)
  end,
  update = function(user, n, task)
    local body = '{"title":"Renamed task ' .. n .. '","priority":"low"}'
    return wrk.format("PUT", "/api/" .. user.id .. "/tasks/" .. task, json_headers(user), body)
  end,
  complete = function(user, n, task)
    return wrk.format("PATCH", "/api/" .. user.id .. "/tasks/" .. task .. "/complete",
      {["Authorization"] = "Bearer " .. user.token})
  end,
}
if build[op] == nil then
  error("BENCH_OP must be list, create, update or complete, not " .. tostring(op))
end

request = function()
  counter = counter + 1
  local user = users[(counter % #users) + 1]
  -- Each pass over the users moves to their next task.
  local task = user.tasks[(math.floor(counter / #users) % #user.tasks) + 1]
  return build[op](user, counter, task)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,'
      .. '"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
