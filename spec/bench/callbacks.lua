-- Bench 9: per-task callbacks through ONE OpenResty worker. BENCH_CB_TASKS (1,000) Volcengine LAS
-- tasks of 2-20 s of audio (19 files, 2, 3, ... 20 s, in turn), all submitted and waited on at
-- once inside the example nginx (examples/openresty/nginx.conf, one worker, started with
-- spec/openresty/examplectl; the waits run in one request of its test location
-- /_test/callback_wait), once with the example's clients (callbacks to its own /stt/callback
-- location) and once with a client without callbacks (the default geometric polling), against the
-- same simulator. The simulator's clock is accelerated: queue_ms 1000, rtf 0.1 (a task of T s of
-- audio ends 1 + T/10 s after its submit), so a run takes seconds. Rate limits off in both runs.
-- Reported: polls per task (the simulator's count of POST /las/api/v1/poll), the notice delay
-- (median and p90): from the simulator's first callback POST to the wait waking (`notice`
-- event) and to c:wait returning (one poll later); from the task's end to c:wait returning, for
-- both runs; the wall time of the run. Goals: <= 1.2 polls per task, median <= 100 ms after the
-- simulator's callback.
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local T = require "common_table"
local stt = require "stt"
local sched = require "stt.sched"

local N = tonumber(os.getenv("BENCH_CB_TASKS") or 1000)
local RUNS = tonumber(os.getenv("BENCH_RUNS") or 3)
local ROOT = B.sh("pwd"):gsub("%s+$", "")

if not io.open("build/luajit/stt/core.so", "rb") then
  print("Bench 9 skipped: needs the LuaJIT build for nginx (make LUA=luajit all)")
  return
end

local tmpl = (os.getenv("TMPDIR") or "/tmp") .. "/stt-openresty.XXXXXX"
local work = B.sh("mktemp -d " .. B.sh_quote(tmpl)):gsub("%s+$", "")
local out = B.sh("bash spec/openresty/examplectl start " .. B.sh_quote(work) .. " " .. B.sh_quote(B.ds_base) .. " 2>&1")
local base = out:match("EXAMPLE_URL=(%S+)")
local function cleanup()
  B.sh("bash spec/openresty/examplectl stop " .. B.sh_quote(work) .. " >/dev/null 2>&1; rm -rf " .. B.sh_quote(work))
end
if not base then
  cleanup()
  error("bench 9: the example nginx did not start: " .. out)
end
assert(ROOT ~= "")

local files = {}
for s = 2, 20 do files[#files + 1] = B.media(("cb%02d"):format(s), s, ("Callback bench, %d seconds."):format(s)) end
local urls = {}
for i = 1, N do urls[i] = files[(i - 1) % #files + 1] end

local function q(t, p)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  if #c == 0 then return nil end
  return c[math.max(1, math.ceil(#c * p))]
end

-- GET /_sim/tasks/{id} for every id, 64 at once (our engine).
local function sim_tasks(ids)
  local recs = {}
  stt.run(function()
    local next_i = 0
    local function worker()
      while true do
        next_i = next_i + 1
        local id = ids[next_i]
        if not id then return end
        local r = assert(sched.http(nil, { method = "GET", url = B.sim_url .. "/_sim/tasks/" .. id }, { timeout = 30 }))
        recs[id] = stt.json_decode(r.body)
      end
    end
    local ths = {}
    for w = 1, 64 do ths[w] = stt.spawn(worker) end
    for _, th in ipairs(ths) do th:join() end
  end)
  return recs
end

local function one_run(callbacks)
  B.reset()
  B.config({ queue_ms = 1000, rtf = 0.1, min_run_ms = 0 })
  local body = stt.json_encode({ provider = "volcengine", callbacks = callbacks, urls = urls })
  local f = assert(io.open(work .. "/body.json", "wb"))
  f:write(body)
  f:close()
  local resp = B.sh(("curl -s --max-time 900 -H 'Content-Type: application/json' --data-binary @%s %s")
    :format(B.sh_quote(work .. "/body.json"), B.sh_quote(base .. "/_test/callback_wait")))
  local r = assert(stt.json_decode(resp), resp)
  local st = B.stats()
  local polls = 0
  for k, v in pairs(st.requests or {}) do if k:match("^POST /las/api/v1/poll") then polls = polls + v end end
  local ids, failed = {}, 0
  for i, res in ipairs(r.results) do
    if res.error or not res.task_id then failed = failed + 1 else ids[#ids + 1] = res.task_id end
    r.results[i] = res
  end
  local recs = sim_tasks(ids)
  local wake, ret, after_end = {}, {}, {}
  for _, res in ipairs(r.results) do
    local rec = res.task_id and recs[res.task_id]
    if rec then
      after_end[#after_end + 1] = res.done_at - rec.end_at
      if callbacks and rec.cb and rec.cb.first_at then
        ret[#ret + 1] = res.done_at - rec.cb.first_at
        if res.noticed_at then wake[#wake + 1] = res.noticed_at - rec.cb.first_at end
      end
    end
  end
  return { polls = polls / N, wake = q(wake, 0.5), wake90 = q(wake, 0.9), ret = q(ret, 0.5), ret90 = q(ret, 0.9),
           after_end = q(after_end, 0.5), after_end90 = q(after_end, 0.9), wall = r.elapsed, failed = failed,
           sent = st.callbacks_sent or 0, woken = #wake }
end

local function med(list, k)
  local v = {}
  for i, x in ipairs(list) do v[i] = x[k] end
  return q(v, 0.5)
end
local function ms(x) return x and ("%.0f ms"):format(x * 1000) or "-" end

local ok, err = pcall(function()
  local with, without = {}, {}
  for i = 1, RUNS do
    with[i] = one_run(true)
    without[i] = one_run(false)
  end
  local rows = {}
  for _, case in ipairs({ { "callbacks (example's /stt/callback)", with }, { "polling (no callbacks)", without } }) do
    local l = case[2]
    rows[#rows + 1] = { case[1], ("%.2f"):format(med(l, "polls")), ms(med(l, "wake")) .. " / " .. ms(med(l, "wake90")),
      ms(med(l, "ret")) .. " / " .. ms(med(l, "ret90")), ms(med(l, "after_end")) .. " / " .. ms(med(l, "after_end90")),
      ("%.1f s"):format(med(l, "wall")), tostring(med(l, "failed")), tostring(med(l, "sent")) }
  end
  T.table(("Bench 9: %d Volcengine LAS tasks of 2-20 s (queue 1 s, rtf 0.1) waited on in ONE OpenResty worker; "
    .. "median of %d runs"):format(N, RUNS),
    { "mode", "polls/task", "callback -> wake (p50 / p90)", "callback -> wait returns", "task end -> wait returns",
      "wall", "failed", "callbacks sent" }, rows)
  local p, d = med(with, "polls"), med(with, "wake")
  print(("  goals: polls/task <= 1.2 with callbacks: %s (%.2f); median notice delay <= 100 ms after the "
    .. "simulator's callback: %s (%s to the wake, %s to c:wait's return)"):format(p <= 1.2 and "yes" or "NO", p,
    d and d <= 0.1 and "yes" or "NO", ms(d), ms(med(with, "ret"))))
end)
cleanup()
if not ok then error(err, 0) end
