-- Bench 2 driver: peak RSS with N jobs in flight, one fresh process per configuration
-- (memory.lua), against the idle process (stt loaded, one client made).
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"

local N = tonumber(os.getenv("BENCH_INFLIGHT") or 10000)
local RUNS = tonumber(os.getenv("BENCH_RUNS") or 3)
local lua_bin = os.getenv("BENCH_LUA") or "lua5.4"
local cpath = os.getenv("BENCH_CPATH") or "build/lua5.4/?.so"

local CONFIGS = {
  { label = "rate_limit = false (all " .. N .. " submits at once)", env = "" },
  { label = "rate_limit = 1000/s (library option)", env = "BENCH_RATE=1000 " },
  { label = "rate_limit = 1000/s + collectgarbage(\"setpause\", 100)", env = "BENCH_RATE=1000 BENCH_GCPAUSE=100 " },
}

local rows = {}
for _, cf in ipairs(CONFIGS) do
  local peaks, idles, heaps, ramps, subs, fails = {}, {}, {}, {}, {}, {}
  for r = 1, RUNS do
    B.reset()
    -- Jobs that stay RUNNING for 10 minutes: all of them are in flight while we sample.
    B.config({ queue_ms = 0, rtf = 0, min_run_ms = 600000, rate_limit = require("stt.core").null })
    local out = B.sh("STT_SIM_URL=" .. B.sh_quote(B.sim_url) .. " STT_SIM_DIR=" .. B.sh_quote(B.sim_dir)
      .. " LUA_CPATH=" .. B.sh_quote(cpath .. ";;") .. " " .. cf.env .. lua_bin
      .. " spec/bench/memory.lua " .. N .. " 2>&1")
    local heap, idle, peak = out:match("lua_heap=(%d+) idle=(%d+) peak=(%d+)")
    local errs = tonumber(out:match("errors=(%d+)"))
    if not peak then io.stderr:write(out, "\n"); os.exit(1) end
    fails[r] = errs
    peaks[r], idles[r], heaps[r] = tonumber(peak), tonumber(idle), tonumber(heap)
    ramps[r] = tonumber(out:match("ramp=([%d.]+)"))
    subs[r] = tonumber(out:match("submitted=(%d+)"))
  end
  -- Per job in flight: jobs whose submit the simulator refused are not in flight.
  local idle, peak, n = B.median(idles), B.median(peaks), B.median(subs)
  rows[#rows + 1] = { cf.label, idle, peak, n, ("%.1f"):format((peak - idle) / n),
    ("%.1f"):format(B.median(heaps) / n), ("%.1f"):format(B.median(ramps)),
    B.median(fails) }
end
B.table(("Bench 2: peak RSS with %d DashScope jobs in flight (concurrency %d; median of %d runs; KiB)")
  :format(N, N, RUNS), { "configuration", "idle RSS", "peak RSS", "in flight", "KiB/job above idle",
  "live Lua heap KiB/job", "ramp s", "errors" }, rows)
print("  goal: <= 8 KiB per job above idle; 'errors' = submits the simulator dropped (its one nginx worker"
  .. " runs out of connections when 10,000 submits and their media downloads arrive at once)")
