-- Bench 5 (soak): SOAK_JOBS (default 100,000) zero-delay DashScope jobs through one client in one
-- process, c:transcribe_all with concurrency SOAK_CONCURRENCY (200) in chunks of 10,000 jobs;
-- prints RSS (VmRSS) after every chunk and the verdict: RSS after the first 10,000 jobs within
-- 10 % of RSS at the end (flat memory). Not a timed test: time-scaled (the simulator runs each job
-- in no time, rate_limit = false).
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local stt = require "stt"
local core = require "stt.core"

local TOTAL = tonumber(os.getenv("SOAK_JOBS") or 100000)
local CHUNK = 10000
local CONC = tonumber(os.getenv("SOAK_CONCURRENCY") or 200)

-- The simulator keeps every task and per-path request counts: it is reset between chunks (its own
-- memory is not what this measures), then set to zero-delay jobs again.
local function fresh_sim()
  B.reset()
  B.config({ queue_ms = 0, rtf = 0, min_run_ms = 0, rate_limit = core.null })
end

fresh_sim()
local url = B.media("soak", 1, "Soak test. One sentence.")
local c = stt.client("dashscope", { api_key = B.key, base_url = B.ds_base, poll_first = 0.01, timeout = 30,
  rate_limit = false })   -- the default limiter (20 submits/s) would make this a test of patience

print(("Bench 5: soak, %d DashScope jobs, transcribe_all concurrency %d, chunks of %d; %s"):format(
  TOTAL, CONC, CHUNK, _VERSION == "Lua 5.1" and (jit and jit.version or "Lua 5.1") or _VERSION))
local jobs = {}
for i = 1, CHUNK do jobs[i] = { url = url } end
local t0, cpu0 = B.now(), B.cpu()
local done, failed, first_rss, rss = 0, 0, nil, nil
while done < TOTAL do
  local n = math.min(CHUNK, TOTAL - done)
  if n < CHUNK then for i = n + 1, CHUNK do jobs[i] = nil end end
  local out = c:transcribe_all(jobs, { concurrency = CONC })
  for i = 1, n do
    if not (out[i].result and out[i].result.text ~= "") then
      failed = failed + 1
      if failed <= 3 then io.stderr:write("job failed: ", tostring(out[i].error), "\n") end
    end
  end
  out = nil -- luacheck: ignore 311 (dropped before the sample: results are the caller's memory)
  done = done + n
  collectgarbage("collect")   -- sample after a full cycle: garbage still waiting would be noise
  rss = B.mem().rss
  first_rss = first_rss or rss
  -- The live Lua heap beside RSS tells a Lua-side leak from C/allocator growth.
  print(("  %7d jobs  RSS %7d KiB  (%+.1f %% vs. after 10,000)  Lua heap %6.0f KiB  %6.1f s wall  %6.1f s CPU"
    .. "  failed %d"):format(done, rss, (rss - first_rss) * 100 / first_rss, collectgarbage("count"),
    B.now() - t0, B.cpu() - cpu0, failed))
  io.stdout:flush()
  fresh_sim()
end
local growth = (rss - first_rss) * 100 / first_rss
local ok = math.abs(growth) <= 10 and failed == 0
print(("  verdict: %s: RSS after the first %d jobs %d KiB, at the end (%d jobs) %d KiB: %+.1f %%"
  .. " (goal: within 10 %%)%s"):format(ok and "FLAT" or "NOT FLAT", math.min(CHUNK, TOTAL), first_rss, done,
    rss, growth, failed > 0 and (", " .. failed .. " jobs failed") or ""))
c:close()
os.exit(ok and 0 or 1)
