-- Bench 7: the Redis work queue. BENCH_FLEET_JOBS (400) zero-delay jobs enqueued with
-- `stt enqueue`, done by 1, 2 and 4 `stt worker` processes (-j 8 each, rate limits off) on a real
-- redis-server, against peers measured in the same run: one process without Redis, 8 at once
-- (c:transcribe_all; and `stt transcribe` with its file journal and the same outputs), rate
-- limits off everywhere. Jobs/s, CPU per job (the workers' user + sys;
-- the peer's own), Redis round trips per job as the workers counted them (a pipeline is one;
-- polling an empty queue at the end included) and commands per job as the server saw them
-- (MONITOR, the commands run inside scripts left out). Then the fleet-wide submit rate: 4 workers with the provider's
-- documented limit (DashScope: 20 submits/s), the most submits the simulator saw in any second.
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local stt = require "stt"

local N = tonumber(os.getenv("BENCH_FLEET_JOBS") or 400)
if B.sh("command -v redis-server"):match("^%s*$") then
  print("Bench 7 skipped: needs redis-server (make deps)")
  return
end
if B.sh("command -v /usr/bin/time") == "" then
  print("Bench 7 skipped: needs /usr/bin/time (apt install time)")
  return
end

local work = B.sh("mktemp -d " .. B.sh_quote((os.getenv("TMPDIR") or "/tmp") .. "/stt-fleet.XXXXXX")):gsub("%s+$", "")
local env = B.sh("bash spec/redis/redisctl start " .. B.sh_quote(work .. "/redis"))
local redis_url = assert(env:match("STT_REDIS_URL=(%S+)"), env)
local port = redis_url:match(":(%d+)/")
local function cleanup()
  B.sh("bash spec/redis/redisctl stop " .. B.sh_quote(work .. "/redis") .. " >/dev/null 2>&1; rm -rf "
    .. B.sh_quote(work))
end

local ENV = ("DASHSCOPE_API_KEY=%s LUA_CPATH=%s "):format(B.key, B.sh_quote(os.getenv("LUA_CPATH") or ""))
local urls = {}
for i = 1, N do urls[i] = B.media(("fleet%04d"):format(i), 0.1, ("Fleet bench %d."):format(i)) end
local list = work .. "/list.txt"
do
  local f = assert(io.open(list, "wb"))
  f:write(table.concat(urls, "\n"), "\n")
  f:close()
end

local function quick()
  B.reset()
  B.config({ queue_ms = 0, rtf = 0, min_run_ms = 0, process_inline = true })
end

-- `stt enqueue` of the whole list under a fresh prefix: the prefix.
local seq = 0
local function enqueue()
  seq = seq + 1
  local p = ("bench:%d:%d:"):format(os.time(), seq)
  local out = B.sh(("%s bin/stt enqueue --store %s --store-prefix %s -f txt --base-url %s @%s 2>&1"):format(ENV,
    redis_url, p, B.sh_quote(B.ds_base), B.sh_quote(list)))
  assert(out:match("queued as batch"), out)
  return p
end

-- W workers until the queue is empty: wall seconds, CPU seconds (all workers), Redis commands.
local function run_workers(w, p, extra)
  local mon = work .. "/monitor.txt"
  B.sh(("(redis-cli -p %s MONITOR > %s 2>&1 & echo $! > %s/monitor.pid)"):format(port, B.sh_quote(mon),
    B.sh_quote(work)))
  B.sh("sleep 0.2")
  local t0 = B.now()
  local cmds = {}
  for i = 1, w do
    cmds[i] = ("env %s /usr/bin/time -f 'TIME %%U %%S' -o %s/time%d bin/stt worker --store %s --store-prefix %s "
      .. "-o %s/out -j 8 -q --until-empty %s >%s/w%d.log 2>&1"):format(ENV, B.sh_quote(work), i, redis_url, p,
      B.sh_quote(work), extra or "--no-rate-limit", B.sh_quote(work), i)
  end
  B.sh("(" .. table.concat(cmds, " & ") .. " & wait)")
  local wall = B.now() - t0
  B.sh("kill $(cat " .. B.sh_quote(work .. "/monitor.pid") .. ") 2>/dev/null; sleep 0.1")
  local cpu = 0
  for i = 1, w do
    local f = io.open(("%s/time%d"):format(work, i), "rb")
    local t = f and f:read("*a") or ""
    if f then f:close() end
    local u, s = t:match("TIME ([%d.]+) ([%d.]+)")
    assert(u, "worker " .. i .. ": " .. (B.sh("cat " .. B.sh_quote(("%s/w%d.log"):format(work, i)))))
    cpu = cpu + tonumber(u) + tonumber(s)
  end
  local n = 0
  local f = assert(io.open(mon, "rb"))
  for line in f:lines() do
    if line:match('^%d+%.%d+ %[%d+ [%d.:]+%] "') then n = n + 1 end     -- client commands, not "[0 lua]"
  end
  f:close()
  -- round trips: what each worker counted (its closing line)
  local rt = 0
  for i = 1, w do
    local log = B.sh("cat " .. B.sh_quote(("%s/w%d.log"):format(work, i)))
    rt = rt + assert(tonumber(log:match("Redis: (%d+) round trips")), log)
  end
  return wall, cpu, n, rt
end

print(("Bench 7: the Redis work queue, %d zero-delay jobs (DashScope at the simulator), redis-server %s")
  :format(N, (B.sh("redis-server --version"):match("v=([%d.]+)") or "?")))
print(("%-44s %8s %8s %11s %15s %11s"):format("", "jobs/s", "wall s", "CPU ms/job", "Redis RT/job", "cmds/job"))

-- The peers: one process, no Redis, the same jobs, 8 at once like one worker and with the same
-- client defaults (the first poll 0.5 s after a submit): the library alone (c:transcribe_all,
-- no outputs), and `stt transcribe` (its file journal, the same txt outputs as the workers).
quick()
local c = stt.client("dashscope", { api_key = B.key, base_url = B.ds_base, rate_limit = false })
local jobs = {}
for i = 1, N do jobs[i] = { url = urls[i] } end
local cpu0, t0 = B.cpu(), B.now()
local res = c:transcribe_all(jobs, { concurrency = 8 })
local peer_wall, peer_cpu = B.now() - t0, B.cpu() - cpu0
local ok = 0
for _, r in ipairs(res) do if r.result then ok = ok + 1 end end
assert(ok == N, ("the peer finished %d of %d"):format(ok, N))
c:close()
print(("%-44s %8.0f %8.2f %11.2f %15s %11s"):format("peer: c:transcribe_all, 8 at once, no Redis", N / peer_wall,
  peer_wall, peer_cpu * 1000 / N, "-", "-"))
quick()
t0 = B.now()
local tout = B.sh(("env %s /usr/bin/time -f 'TIME %%U %%S' bin/stt transcribe -q -j 8 -f txt -o %s/tr --base-url %s "
  .. "@%s 2>&1"):format(ENV, B.sh_quote(work), B.sh_quote(B.ds_base), B.sh_quote(list)))
local cli_wall = B.now() - t0
local tu, ts = tout:match("TIME ([%d.]+) ([%d.]+)")
assert(tu, tout)
local cli_cpu = tonumber(tu) + tonumber(ts)
print(("%-44s %8.0f %8.2f %11.2f %15s %11s"):format("peer: stt transcribe -j 8 (file journal)", N / cli_wall,
  cli_wall, cli_cpu * 1000 / N, "-", "-"))

local per_job = {}
for _, w in ipairs({ 1, 2, 4 }) do
  quick()
  local p = enqueue()
  local wall, cpu, n, rt = run_workers(w, p)
  local st = B.stats()
  local once = 0
  for i = 1, N do if (st.submissions or {})[urls[i]] == 1 then once = once + 1 end end
  assert(once == N, ("%d workers: %d of %d jobs submitted exactly once"):format(w, once, N))
  per_job[w] = cpu * 1000 / N
  print(("%-44s %8.0f %8.2f %11.2f %15.1f %11.1f"):format(("stt worker x %d (-j 8), Redis store + queue"):format(w),
    N / wall, wall, cpu * 1000 / N, rt / N, n / N))
end
print(("CPU per job, 1 worker against the peers: %.2fx c:transcribe_all, %.2fx stt transcribe (goal: within 1.5x)")
  :format(per_job[1] / (peer_cpu * 1000 / N), per_job[1] / (cli_cpu * 1000 / N)))

-- The fleet-wide submit rate with the documented limit: 4 workers, arrivals per second at the
-- simulator (its own clock).
quick()
local p = enqueue()
B.config({ queue_ms = 0, rtf = 0, min_run_ms = 0, process_inline = true, record_arrivals = true })
local wall = run_workers(4, p, "")
local times = (require("stt.core").json_decode(B.control("GET", "/_sim/arrivals")) or {})
  ["POST /dashscope/api/v1/services/audio/asr/transcription"] or {}
table.sort(times)
local most = 0
local j = 1
for i = 1, #times do
  while times[i] - times[j] >= 1 do j = j + 1 end
  if i - j + 1 > most then most = i - j + 1 end
end
print(("fleet-wide submits, 4 workers, documented limit 20/s: %d jobs in %.1f s; most in any 1 s window: %d "
  .. "(goal: <= 20)"):format(#times, wall, most))
cleanup()
