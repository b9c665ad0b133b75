-- One measured run of bench 1: N zero-delay DashScope jobs through c:transcribe_all.
-- usage: lua_jobs.lua URL N CONCURRENCY  -> prints "cpu=<s> wall=<s> ok=<n> polls=<n>"
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local stt = require "stt"
local core = require "stt.core"
local url, n, conc = arg[1], tonumber(arg[2]), tonumber(arg[3])
local c = stt.client("dashscope", { api_key = "sk-sim-valid-key-0001",
  base_url = os.getenv("STT_SIM_URL") .. "/dashscope/api/v1", poll_first = 0.01,
  rate_limit = false })   -- the default client limiter (DashScope: 20 submits/s, 20 polls/s) would dominate
-- BENCH_SUBMIT_REUSE=1: an EXPERIMENT, not the library's behaviour: submits ride pooled
-- connections like polls do (as Node's fetch does). The library opens a fresh connection for each
-- submit, because libcurl silently re-sends a request whose reused connection died before any
-- answer, and a re-sent submit can create (and bill) a second task. This row prices that choice.
if os.getenv("BENCH_SUBMIT_REUSE") then
  local t = c.transport
  local request = t.request
  t.request = function(self, req, o)
    o.fresh_connect = nil
    return request(self, req, o)
  end
end
local polls = 0
c.on_event = function(ev) if ev.type == "poll" then polls = polls + 1 end end
local jobs = {}
for i = 1, n do jobs[i] = { url = url } end
local function cpu()
  local f = assert(io.open("/proc/self/stat", "rb"))
  local rest = f:read("*a"):match("%) (.*)$")
  f:close()
  local t = {}
  for w in rest:gmatch("%S+") do t[#t + 1] = w end
  return (tonumber(t[12]) + tonumber(t[13])) / 100
end
local c0, t0 = cpu(), core.now()
local out = c:transcribe_all(jobs, { concurrency = conc })
local c1, t1 = cpu(), core.now()
local ok, words = 0, 0
for i = 1, n do
  local r = out[i].result
  if r and r.segments and #r.segments > 0 then ok = ok + 1; words = words + #(r.segments[1].words or {}) end
end
if ok < n then
  for i = 1, n do if out[i].error then io.stderr:write(tostring(out[i].error.message), "\n"); break end end
end
print(("cpu=%.2f wall=%.3f ok=%d polls=%d"):format(c1 - c0, t1 - t0, ok, polls))
