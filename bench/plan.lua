-- wrk script for bench/wrk.py: cycle through the requests of a plan file and report.
--
-- wrk <options> -s plan.lua URL -- PLAN_FILE OFFSET TOKEN
-- PLAN_FILE has one request a line: METHOD<TAB>PATH<TAB>BODY (BODY may be empty).
-- Every request is formatted once in init(), so request() only hands back a string and
-- the load generator takes as little CPU from the server (same 2 cores) as it can.
-- done() prints one "WRK_JSON {...}" line with the exact counts and percentiles, which is
-- sturdier to read than wrk's rounded text summary.

local plan = {}
local size = 0
local position = 0

function init(args)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. args[3],
  }
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t(.*)$")
    if body == "" then
      body = nil
    end
    size = size + 1
    plan[size] = wrk.format(method, path, headers, body)
  end
  position = tonumber(args[2]) % size
end

function request()
  position = position % size + 1
  return plan[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max
  ))
end
