-- Bench 3: polls per job and notice delay (job finished -> c:wait returns) for job durations from
-- 2 s to 10 min, next to the DashScope SDK's schedule (1 s, doubling every 3 polls, capped at 5 s).
-- (a) analytically, from the client's own Client:_interval (jitter included: median of many draws)
--     and the wait loop's shape (first poll poll_first after submit, then sleep _interval(elapsed));
-- (b) for real against the simulator, time-scaled by K: a job of T s runs T/K s (rtf = 1/K on a
--     WAV of T s) and the client's poll_first/poll_max are divided by K (poll_ratio is scale-free).
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local stt = require "stt"
local sched = require "stt.sched"

local DURATIONS = { 2, 5, 10, 30, 60, 120, 200, 300, 600 }
local DRAWS = 201

local c = stt.client("dashscope", { api_key = B.key, base_url = B.ds_base, rate_limit = false })

-- The wait loop of Client:wait on a virtual clock: poll at poll_first, then after each _interval.
local function ours(T)
  local t, polls = c.poll_first, 1
  while t < T do
    t = t + c:_interval(t)
    polls = polls + 1
  end
  return polls, t - T
end

-- DashScope SDK (dashscope-sdk-python wait()): first poll after 1 s, the interval doubled every
-- 3 polls, at most 5 s.
local function sdk(T)
  local t, polls, d = 0, 0, 1
  while true do
    t = t + d
    polls = polls + 1
    if t >= T then return polls, t - T end
    if polls % 3 == 0 then d = math.min(d * 2, 5) end
  end
end

local function median_of(fn, T)
  local ps, ds, worst = {}, {}, 0
  for i = 1, DRAWS do
    ps[i], ds[i] = fn(T)
    if ds[i] > worst then worst = ds[i] end
  end
  return B.median(ps), B.median(ds), worst
end

local function fmt_dur(T)
  return T < 60 and (T .. " s") or ("%g min (%d s)"):format(math.floor(T / 6 + 0.5) / 10, T)
end
local rows = {}
for _, T in ipairs(DURATIONS) do
  local p, d, worst = median_of(ours, T)
  local sp, sd = sdk(T)
  rows[#rows + 1] = { fmt_dur(T), ("%.0f"):format(p), ("%.2f"):format(d), ("%.2f"):format(worst),
                      ("%.2f"):format(0.1 * T + 1), (worst <= 0.1 * T + 1) and "yes" or "NO", sp, ("%.2f"):format(sd) }
end
B.table(("Bench 3a: polling schedule, analytic (Client:_interval: poll_first %.1f s, ratio %.2f, max %.0f s;"
  .. " median of %d jittered draws)"):format(c.poll_first, c.poll_ratio, c.poll_max, DRAWS),
  { "job T", "polls", "notice delay s", "worst delay s", "goal <= 0.1T+1", "worst met", "SDK polls",
    "SDK delay s" }, rows)

-- long ones at 1:100; REPS jobs per duration run concurrently, the median is shown.
local GROUPS = { { K = 10, T = { 2, 10, 60 } }, { K = 100, T = { 300, 600 } } }
local REPS = tonumber(os.getenv("BENCH_REPS") or 3)
local function wall()
  local p = io.popen("date +%s.%N")
  local s = tonumber(p:read("*a"))
  p:close()
  return s
end
local rrows = {}
for _, g in ipairs(GROUPS) do
  local K = g.K
  B.reset()
  B.config({ queue_ms = 0, rtf = 1 / K, min_run_ms = 0 })
  local rc = stt.client("dashscope", { api_key = B.key, base_url = B.ds_base, rate_limit = false,
    poll_first = c.poll_first / K, poll_max = c.poll_max / K, poll_ratio = c.poll_ratio })
  local offset = wall() - B.now()            -- wall clock = monotonic + offset (+- a few ms)
  local results = {}
  sched.run(function()
    local ths = {}
    for i, T in ipairs(g.T) do
      results[i] = { T = T, polls = {}, delay = {} }
      local url = B.media("bench3_" .. T, T, "a job of " .. T .. " seconds.")
      for r = 1, REPS do
        ths[#ths + 1] = sched.spawn(function()
          local polls = 1
          local task = assert(rc:submit({ url = url }))
          local res, err = rc:wait(task, { on_progress = function() polls = polls + 1 end })
          local done = B.now()
          assert(res, err and err.message)
          local rec = require("stt.core").json_decode(B.control("GET", "/_sim/tasks/" .. task.id))
          results[i].polls[r], results[i].delay[r] = polls, (done + offset - rec.end_at) * K
        end)
      end
    end
    for i = 1, #ths do ths[i]:join() end
  end)
  for _, r in ipairs(results) do
    local sp, sd = sdk(r.T)
    local d = B.median(r.delay)
    rrows[#rrows + 1] = { fmt_dur(r.T), "1:" .. K, B.median(r.polls), ("%.2f"):format(d),
                          ("%.2f"):format(0.1 * r.T + 1),
                          (d <= 0.1 * r.T + 1) and "yes" or "NO", sp, ("%.2f"):format(sd) }
  end
end
B.table(("Bench 3b: measured against the simulator, time-scaled (median of %d concurrent jobs; delays scaled"
  .. " back, so a 5 ms clock error reads as 0.05 s at 1:10, 0.5 s at 1:100)"):format(REPS),
  { "job T", "scale", "polls", "notice delay s", "goal <= 0.1T+1", "met", "SDK polls", "SDK delay s" }, rrows)
