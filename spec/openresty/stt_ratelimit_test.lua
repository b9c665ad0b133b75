-- Test-only: the shared rate limit across nginx workers (spec/ratelimit_shared_spec.lua).
-- A round is posted once (POST /_test/ratelimit, any worker) into the stt_jobs dict; every
-- worker's timer (init_worker, started by examplectl's EXAMPLE_INIT_WORKER) picks it up, waits
-- for the common start time, submits `k` jobs at once through one client, and stores the start
-- time of every HTTP request it sent (a recording transport) for GET /_test/ratelimit?round=N.
-- So every worker takes part, whichever worker nginx gives the connection to.
-- luacheck: globals ngx
local stt = require "stt"
local ngx_transport = require "stt.transport.ngx"

local M = {}

local RL_DICT = "stt_ratelimit"           -- the example's dict for shared rate limits

local function board() return ngx.shared.stt_jobs end

local function now()
  ngx.update_time()
  return ngx.now()
end

local function reply(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(stt.json_encode(t))
end

-- A transport that notes the (shared-clock) time each request leaves, then sends it.
local function recording_transport(starts)
  local inner = ngx_transport.new({ resty_http = false })
  return {
    request = function(_, req, opts)
      starts[#starts + 1] = now()
      return inner:request(req, opts)
    end,
  }
end

local function run_round(cfg)
  local starts, retries, ok, errs = {}, 0, 0, {}
  local shared = cfg.shared
  if shared == "object" then shared = ngx.shared[RL_DICT] end
  local c = stt.client("dashscope", {
    transport = recording_transport(starts), timeout = 10, retries = cfg.retries,
    rate_limit = { submit = cfg.rate, shared = shared, key = cfg.key },
    on_event = function(ev) if ev.type == "retry" then retries = retries + 1 end end,
  })
  local wait = cfg.start_at - now()
  if wait > 0 then ngx.sleep(wait) end
  stt.run(function()
    local ths = {}
    for i = 1, cfg.k do
      ths[i] = stt.spawn(function()
        local task, err = c:submit({ url = cfg.url })
        if task then ok = ok + 1 else errs[#errs + 1] = tostring(err and err.message) end
      end)
    end
    for i = 1, #ths do ths[i]:join() end
  end)
  board():set(("rltest:res:%d:%d"):format(cfg.round, ngx.worker.id()), stt.json_encode({
    worker = ngx.worker.id(), pid = ngx.worker.pid(), starts = starts, retries = retries, ok = ok,
    errors = errs }), 600)
end

--- init_worker_by_lua: every 20 ms, run the newest round once in this worker.
function M.init_worker()
  local done = 0
  local function tick(premature)
    if premature then return end
    local s = board():get("rltest:round")
    local cfg = s and stt.json_decode(s)
    if not cfg or cfg.round <= done then return end
    done = cfg.round
    local okr, err = pcall(run_round, cfg)
    if not okr then
      board():set(("rltest:res:%d:%d"):format(cfg.round, ngx.worker.id()),
        stt.json_encode({ worker = ngx.worker.id(), failed = tostring(err) }), 600)
    end
  end
  local ok, err = ngx.timer.every(0.02, tick)
  if not ok then ngx.log(ngx.ERR, "rltest: no timer: ", err) end
end

--- POST {k, rate, shared = "stt_ratelimit" | "object" | nil, key, url, align, retries}: a new round.
--- GET ?round=N: {workers, results (one per worker that finished), keys (of the RL dict)}.
function M.handle()
  if ngx.req.get_method() == "GET" then
    local round = tonumber(ngx.var.arg_round)
    local results = {}
    for w = 0, ngx.worker.count() - 1 do
      local s = board():get(("rltest:res:%d:%d"):format(round, w))
      if s then results[#results + 1] = stt.json_decode(s) end
    end
    return reply({ workers = ngx.worker.count(), results = results,
                   keys = ngx.shared[RL_DICT]:get_keys(0) })
  end
  ngx.req.read_body()
  local cfg = stt.json_decode(ngx.req.get_body_data() or "{}")
  cfg.round = board():incr("rltest:round_n", 1, 0)
  local t = now()
  -- align: start 0.3 s into a wall-clock second (the simulator counts per wall-clock second),
  -- so that one worker's burst and the other's land in the same second of its counter.
  cfg.start_at = cfg.align and (math.floor(t) + 1.3) or (t + 0.2)
  if cfg.start_at < t + 0.2 then cfg.start_at = cfg.start_at + 1 end
  board():set("rltest:round", stt.json_encode(cfg), 600)
  -- A missing dict is a programming mistake: the client refuses to be made.
  local made, err = pcall(stt.client, "dashscope", { rate_limit = { shared = "no_such_dict" } })
  return reply({ round = cfg.round, start_at = cfg.start_at, missing_dict = not made and tostring(err) })
end

--- GET /_test/ratelimit_paths: the shared limiter's rarer paths, in this worker, at once:
--   deadline: query = 2/s (starts 0.55 s apart); the 1st at once, the 2nd 0.55 s later, a 3rd
--     with a 0.3 s deadline gives up at once (its start would be 0.55 s away), then a 4th and
--     5th: the 4th's predecessor is the ticket that gave up, which passed its own predecessor's
--     start on, so they leave 1.1 s and 1.65 s after the first (not 1.65 s and 2.2 s).
--   late: ticket 1 taken but written 50 ms later (as by another worker): ticket 2 waits for it
--     and leaves 1.1 s after it (rate 1/s).
--   lost: ticket 1 taken and never written: ticket 2 waits STALL (0.2 s), logs, and leaves.
-- Every time is measured from its own section's start.
-- late and lost stand in for the other worker by touching the dict's keys directly.
function M.paths()
  local sched = require "stt.sched"
  local dict = ngx.shared[RL_DICT]
  local tag = tostring(board():incr("rltest:paths", 1, 0))
  local function limiter(name, rate)
    return stt.client("dashscope", { rate_limit = { submit = false, query = rate, shared = RL_DICT,
                                                    key = name .. tag } }).limiter
  end
  local out = {}
  local t0 = now()
  stt.run(function()
    local dl = limiter("deadline", 2)
    local function at(deadline) return function()
      local ok = dl:acquire("poll", sched.now() + deadline)
      return ok, now() - t0
    end end
    local ok1 = at(5)()
    local ok2 = at(5)()
    local t3 = now() - t0
    local gave_up, gave_up_at = at(0.3)()
    local gave_up_after = gave_up_at - t3
    local fourth = stt.spawn(at(5))
    local fifth = stt.spawn(at(5))

    local late_prefix = "stt:rl:late" .. tag .. ":query:"
    local late = stt.spawn(function()
      local t1 = now()
      dict:incr(late_prefix .. "n", 1, 0)                        -- ticket 1, not yet written
      local ok = ngx.timer.at(0.05, function()
        dict:set(late_prefix .. "0", ("1 %.6f"):format(now()))   -- written 50 ms later
      end)
      assert(ok)
      limiter("late", 1):acquire("poll")
      return now() - t1
    end)
    local lost = stt.spawn(function()
      local t1 = now()
      dict:incr("stt:rl:lost" .. tag .. ":query:n", 1, 0)      -- ticket 1, never written
      limiter("lost", 1):acquire("poll")
      return now() - t1
    end)
    local _, t4 = fourth:join()
    local _, t5 = fifth:join()
    out.deadline = { first_ok = ok1 and ok2, gave_up = not gave_up, gave_up_after = gave_up_after,
                     fourth = t4, fifth = t5 }
    out.late = late:join()
    out.lost = lost:join()
  end)
  reply(out)
end

return M
