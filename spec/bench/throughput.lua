-- Bench 1: CPU and wall time for N zero-delay DashScope jobs (submit, poll, fetch, parse) through
-- c:transcribe_all at concurrency C, against Node's fetch + Promise.all (node_peer.mjs) and
-- against the wire limit (wrk on the same three endpoints).
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local B = require "common"
local core = require "stt.core"

local N, C, RUNS = tonumber(os.getenv("BENCH_JOBS") or 2000), 100, tonumber(os.getenv("BENCH_RUNS") or 3)
local lua_bin = os.getenv("BENCH_LUA") or "lua5.4"
local cpath = os.getenv("BENCH_CPATH") or "build/lua5.4/?.so"

B.reset()
local media = B.media("bench1", 0.1, "hello world. this is a test.")
-- process_inline: each task is done by the time its submit is answered, so both clients do the
-- same protocol work (submit, ONE poll, result fetch) whatever their speed; without it, the faster
-- client reaches a busy simulator before its processing timer ran and polls more.
local function zero_delay()
  B.config({ queue_ms = 0, rtf = 0, min_run_ms = 0, rate_limit = core.null, process_inline = true })
end

local function run(cmd)
  local out = B.sh(cmd)
  local cpu, wall, ok, polls = out:match("cpu=([%d.]+) wall=([%d.]+) ok=(%d+) polls=(%d+)")
  if not cpu then io.stderr:write("bench run failed: ", cmd, "\n", out, "\n"); os.exit(1) end
  if tonumber(ok) ~= N then io.stderr:write("only ", ok, " of ", N, " jobs succeeded: ", cmd, "\n"); os.exit(1) end
  return { cpu = tonumber(cpu), wall = tonumber(wall), polls = tonumber(polls) }
end

local function measure(label, cmd)
  local cpus, walls, polls = {}, {}, {}
  for i = 1, RUNS do
    B.reset(); zero_delay()
    local r = run(cmd)
    cpus[i], walls[i], polls[i] = r.cpu, r.wall, r.polls
  end
  local reqs = 2 * N + B.median(polls)
  return { label, ("%.2f"):format(B.median(cpus)), ("%.2f"):format(B.median(walls)),
           ("%.2f"):format(B.median(polls) / N), ("%.0f"):format(B.median(cpus) / reqs * 1e6),
           cpu = B.median(cpus), per_req = B.median(cpus) / reqs }
end

local env = "STT_SIM_URL=" .. B.sh_quote(B.sim_url) .. " LUA_CPATH=" .. B.sh_quote(cpath .. ";;") .. " "
local rows = {}
rows[1] = measure("lua-stt transcribe_all (" .. lua_bin .. ")",
  env .. lua_bin .. " spec/bench/lua_jobs.lua " .. B.sh_quote(media) .. " " .. N .. " " .. C)
rows[3] = measure("EXPERIMENT: lua-stt, submits on pooled connections (unsafe)",
  "BENCH_SUBMIT_REUSE=1 " .. env .. lua_bin .. " spec/bench/lua_jobs.lua " .. B.sh_quote(media) .. " " .. N .. " " .. C)
rows[2] = measure("node " .. B.sh("node --version"):gsub("%s+$", "") .. " fetch + Promise.all",
  "node spec/bench/node_peer.mjs " .. B.sh_quote(B.ds_base) .. " " .. B.sh_quote(media) .. " " .. N .. " " .. C)

-- The wire limit: wrk, one thread, C connections, on each endpoint for a few seconds.
B.reset(); zero_delay()
local sub = core.json_decode(B.sh("curl -s -X POST -H 'Authorization: Bearer " .. B.key .. "'"
  .. " -H 'X-DashScope-Async: enable' -H 'Content-Type: application/json' --data-binary "
  .. B.sh_quote('{"model":"paraformer-v2","input":{"file_urls":["'
  .. media .. '"]}}') .. " " .. B.sh_quote(B.ds_base .. "/services/audio/asr/transcription")))
local id = sub.output.task_id
os.execute("sleep 0.3")
local st = core.json_decode(B.sh("curl -s -H 'Authorization: Bearer " .. B.key .. "' "
  .. B.sh_quote(B.ds_base .. "/tasks/" .. id)))
local result_url = st.output.results[1].transcription_url
local secs = tonumber(os.getenv("BENCH_WRK_SECONDS") or 3)
local function wrk(script, url)
  local out = B.sh("BENCH_MEDIA_URL=" .. B.sh_quote(media) .. " wrk -t1 -c" .. C .. " -d" .. secs .. "s"
    .. (script and (" -s spec/bench/" .. script) or "") .. " " .. B.sh_quote(url) .. " 2>&1")
  local rps = tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  if not rps then io.stderr:write(out, "\n"); os.exit(1) end
  local non2xx = tonumber(out:match("Non%-2xx or 3xx responses:%s*(%d+)") or 0)
  return rps, non2xx
end
local r_sub, e1 = wrk("wrk_submit.lua", B.ds_base .. "/services/audio/asr/transcription")
local r_poll, e2 = wrk("wrk_get.lua", B.ds_base .. "/tasks/" .. id)
local r_res, e3 = wrk(nil, result_url)     -- signed URL: no Authorization header (OSS refuses one)
B.reset()
local wire = N / r_sub + N / r_poll + N / r_res
local wrows = {
  { "submit  POST /services/audio/asr/transcription", ("%.0f"):format(r_sub), e1 },
  { "poll    GET  /tasks/<id>", ("%.0f"):format(r_poll), e2 },
  { "result  GET  /oss/.../1.json", ("%.0f"):format(r_res), e3 },
}

B.table(("Bench 1: %d zero-delay DashScope jobs, concurrency %d (median of %d runs; CPU = user+sys of the"
  .. " client process)")
  :format(N, C, RUNS), { "client", "CPU s", "wall s", "polls/job", "CPU us/request" }, rows)
print(("  lua-stt CPU / node CPU = %.2f (goal <= 0.25); per HTTP request: %.2f; the experiment: %.2f")
  :format(rows[1].cpu / rows[2].cpu, rows[1].per_req / rows[2].per_req, rows[3].cpu / rows[2].cpu))
B.table(("Wire limit: wrk -t1 -c%d -d%ds against the simulator (nginx, 1 worker)"):format(C, secs),
  { "endpoint", "requests/s", "non-2xx" }, wrows)
print(("  %d jobs x 3 requests at these rates: %.2f s of wall time"):format(N, wire))
