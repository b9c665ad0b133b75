-- Bench 2: resident memory with N jobs in flight (submitted, running, waiting in c:wait) in one
-- process, against the idle process (stt loaded, one client made).
-- usage: memory.lua [N]  (prints "idle=<KiB> peak=<KiB> steady=<KiB> submitted=<n> polls=<n> ...")
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local stt = require "stt"
local sched = require "stt.sched"

local N = tonumber(arg[1] or 10000)
-- BENCH_GCPAUSE=n: collectgarbage("setpause", n) (Lua's default 200 lets the heap reach twice the
-- live data before a cycle); an application setting, to show how much of the RSS is GC slack.
if os.getenv("BENCH_GCPAUSE") then collectgarbage("setpause", tonumber(os.getenv("BENCH_GCPAUSE"))) end
local HOLD = tonumber(os.getenv("BENCH_HOLD") or 3)        -- seconds to sample once all are waiting

local c = stt.client("dashscope", { api_key = B.key, base_url = B.ds_base,
  -- one poll per job while we sample: the first 1 s after its submit, the next 10 minutes later
  poll_first = 1, poll_ratio = 600, poll_max = 600,
  -- The default limiter (20 submits/s) would take 500 s for 10,000 jobs: off, or BENCH_RATE per second.
  rate_limit = os.getenv("BENCH_RATE") and { submit = tonumber(os.getenv("BENCH_RATE")),
                                             query = tonumber(os.getenv("BENCH_RATE")) } or false })
collectgarbage(); collectgarbage()
local idle = B.mem().rss

local submitted, polls, errs = 0, 0, 0
c.on_event = function(ev)
  if ev.type == "submit" then submitted = submitted + 1
  elseif ev.type == "poll" then polls = polls + 1
  elseif ev.type == "error" then
    errs = errs + 1
    if errs == 1 then io.stderr:write("first error: ", tostring(ev.error and ev.error.message), "\n") end
  end
end
local jobs = {}
local url = B.media("bench2", 0.1, "hello world.")
for i = 1, N do jobs[i] = { url = url } end

local steady, t_all, peak_rss = 0, nil, 0
local t0 = B.now()
sched.run(function()
  local done = false
  sched.spawn(function()
    -- Every wait ends at its deadline (timeout): long after the sampling below is over.
    c:transcribe_all(jobs, { concurrency = N, timeout = tonumber(os.getenv("BENCH_WAIT") or 60) })
    done = true
  end)
  -- Sample until every job has been submitted and polled once, then HOLD seconds more.
  while not done do
    local m = B.mem().rss
    if m > peak_rss then peak_rss = m end
    if not t_all and polls + errs >= N then t_all = B.now() end
    if t_all then
      if m > steady then steady = m end
      if B.now() - t_all >= HOLD then break end
    end
    sched.sleep(0.1)
  end
  local hwm = B.mem().hwm
  collectgarbage(); collectgarbage()
  local lua_kib = collectgarbage("count")
  print(("lua_heap=%.0f idle=%d peak=%d sampled_peak=%d steady=%d submitted=%d polls=%d errors=%d ramp=%.1f")
    :format(lua_kib, idle, hwm, peak_rss, steady, submitted, polls, errs, (t_all or B.now()) - t0))
  io.stdout:flush()
  os.exit(0)           -- the waits would otherwise run to their deadline
end)
