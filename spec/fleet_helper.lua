--- What the fleet specs share: bin/stt runs (in the foreground or as background workers) with the
-- simulator's keys in their environment, process checks, and a wait for a condition.
local H = require "helper"

local F = {}

function F.env()
  return ("DASHSCOPE_API_KEY=%s VOLC_API_KEY=sim-auc-api-key-0001 AWS_ACCESS_KEY_ID=AKIDSIMEXAMPLE0001 "
    .. "AWS_SECRET_ACCESS_KEY=sim-secret-0001 "):format(H.key)
end

--- bin/stt ARGS in the foreground: exit code, stdout, stderr (kept in dir).
function F.stt(args, dir) return H.cli(args, F.env(), dir) end

--- `stt worker ARGS` in the background, its output in `log`: its pid.
local started = {}
function F.start_worker(args, log)
  local pid = H.sh(("%s bin/stt worker %s >%s 2>&1 </dev/null & echo $!"):format(F.env(), args, H.sh_quote(log)))
    :match("(%d+)")
  started[#started + 1] = pid
  return pid
end

--- Kill every worker a spec started that still runs (after_each: a failed spec leaves none behind).
function F.kill_all()
  for _, pid in ipairs(started) do H.sh("kill -KILL " .. pid .. " 2>/dev/null") end
  started = {}
end

function F.alive(pid) return H.sh("kill -0 " .. pid .. " 2>/dev/null && echo yes"):match("yes") ~= nil end

--- Wait up to `seconds` for the process to end; true when it did.
function F.wait_exit(pid, seconds)
  local t0 = os.time()
  while F.alive(pid) and os.time() - t0 < seconds do H.sleep(0.1) end
  return not F.alive(pid)
end

--- Wait up to `seconds` for fn() to return a true value; returns it (nil on timeout).
function F.until_true(fn, seconds)
  local t0 = require("stt.core").now()
  repeat
    local v = fn()
    if v then return v end
    H.sleep(0.05)
  until require("stt.core").now() - t0 > seconds
  return nil
end

local n = 0
--- A Redis key prefix of its own for each batch of a spec.
function F.prefix(name)
  n = n + 1
  return ("%s:%d:%d:"):format(name, os.time(), n)
end

return F
