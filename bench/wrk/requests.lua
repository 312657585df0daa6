-- wrk script: a fixed, seeded mix of requests to the pay-service release of
-- bench/plugin-config.json, cycled through; built once so wrk spends no Lua
-- per request beyond picking the next one.
--   10% header env: test             (rule hit, first condition)
--    5% query uid=1001               (rule hit, second condition)
--    5% x-app-version: 2.N.M-beta    (rule hit, the regex)
--   40% x-user-id from 500 users     (sticky; the regex is tried and fails)
--   40% anonymous                    (the random roll)
-- Every request carries a client x-canary-cluster one time in ten (the
-- filter must overwrite it) and the headers a real client sends, among them
-- one traceparent (wrk's script argument, from the harness), the same for
-- every variant: the one (cl) has recorded in a lane.

local requests = {}
local next_index = 1
local traceparent = nil

local function build(i)
  local headers = {
    ["Host"] = "pay-service",
    ["traceparent"] = traceparent,
    ["User-Agent"] = "bench-client/1.0",
    ["Accept"] = "application/json",
    ["X-Request-Id"] = string.format("%08x-bench-%06d", math.random(0, 0x7fffffff), i),
    ["X-App-Version"] = "2.4.1",
  }
  local path = "/api/orders?page=" .. math.random(1, 50)
  local pick = math.random(1, 100)
  if pick <= 10 then
    headers["env"] = "test"
  elseif pick <= 15 then
    path = "/checkout?uid=1001&step=2"
  elseif pick <= 20 then
    headers["X-App-Version"] = string.format("2.%d.%d-beta", math.random(0, 9), math.random(0, 20))
  elseif pick <= 60 then
    headers["X-User-Id"] = "user-" .. math.random(1, 500)
  end
  if math.random(1, 10) == 1 then
    headers["X-Canary-Cluster"] = "pay-v2"
  end
  return wrk.format("GET", path, headers)
end

function init(args)
  traceparent = args[1]
  if traceparent == nil then
    error("requests.lua needs the traceparent as its argument (wrk ... -- <traceparent>)")
  end
  math.randomseed(20240607)
  for i = 1, 1000 do
    requests[i] = build(i)
  end
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

-- One machine-readable line for the harness (latencies in microseconds).
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d socket_errors=%d non2xx=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
