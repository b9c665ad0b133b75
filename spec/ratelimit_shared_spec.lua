-- The rate limit shared across nginx workers (rate_limit.shared, lua/stt/ratelimit.lua): the
-- example nginx with TWO workers and its lua_shared_dict, against the simulator's per-second
-- limit. Every worker submits at the same moment (spec/openresty/stt_ratelimit_test.lua) and
-- records when each request left; with the shared budget no 1-second window holds more than the
-- rate, without it the workers together exceed it and the simulator answers 429.
local H = require "helper"
local core = require "stt.core"
local sched = require "stt.sched"
local ratelimit = require "stt.ratelimit"

local SUBMIT_PATH = "POST /dashscope/api/v1/services/audio/asr/transcription"
local WORKERS, RATE, K = 2, 5, 10          -- K submits per worker, RATE per second in all


-- The shortest time in which `n` + 1 consecutive starts happen (starts sorted): the limiter
-- keeps it >= 1 s + its guard for n = the rate.
local function min_span(starts, n)
  local best = math.huge
  for i = 1, #starts - n do best = math.min(best, starts[i + n] - starts[i]) end
  return best
end

-- The largest number of starts inside any window [t, t + width) (starts sorted).
local function max_in_window(starts, width)
  local best, lo = 0, 1
  for hi = 1, #starts do
    while starts[hi] - starts[lo] >= width do lo = lo + 1 end
    if hi - lo + 1 > best then best = hi - lo + 1 end
  end
  return best
end

describe("shared rate limit (real nginx, " .. WORKERS .. " workers, one lua_shared_dict)", function()
  local dir, base, eng

  setup(function()
    assert(H.sim_url, "no simulator: run through spec/run-tests")
    dir, base = H.example_start(("EXAMPLE_WORKERS=%d EXAMPLE_INIT_WORKER=%s ")
      :format(WORKERS, H.sh_quote('require("stt_ratelimit_test").init_worker()')))
    eng = core.engine()
  end)

  teardown(function()
    if eng then eng:close() end
    H.example_stop(dir)
  end)

  local function call_json(method, path, body)
    local r = sched.http(eng, { method = method, url = base .. path, body = body and H.encode(body),
      headers = body and { { "Content-Type", "application/json" } } or nil }, { timeout = 10 })
    assert(r and not r.error, r and r.error and r.error.message)
    assert.equal(200, r.status, r.body)
    return H.json(r.body)
  end

  -- Posts a round and waits for every worker's report; returns the reports, all start times
  -- (sorted), the retries, the dict's keys and the POST's answer.
  local function round(q)
    H.quick_sim()
    H.config({ rate_limit = { submit = RATE } })
    q.k, q.rate, q.url = q.k or K, RATE, H.media("rls", 1, "Shared budget.")
    local posted = call_json("POST", "/_test/ratelimit", q)
    local got
    local t0 = core.now()
    repeat
      H.sleep(0.1)
      got = call_json("GET", "/_test/ratelimit?round=" .. posted.round)
    until #got.results == got.workers or core.now() - t0 > 20
    assert.equal(WORKERS, got.workers)
    assert.equal(WORKERS, #got.results, "not every worker reported")
    local all, retries, workers = {}, 0, {}
    for _, r in ipairs(got.results) do
      assert.is_nil(r.failed)
      workers[r.worker] = true
      retries = retries + r.retries
      for _, t in ipairs(r.starts) do all[#all + 1] = t end
    end
    table.sort(all)
    local nworkers = 0
    for _ in pairs(workers) do nworkers = nworkers + 1 end
    assert.equal(WORKERS, nworkers, "reports from fewer distinct workers")
    return got.results, all, retries, got.keys, posted
  end

  it("shared: no 1-second window above the rate, no 429, and the time the rate implies", function()
    local t0 = core.now()
    local results, all, retries, keys, posted = round({ shared = "stt_ratelimit" })
    for _, r in ipairs(results) do
      assert.equal(K, r.ok, "worker " .. r.worker .. ": " .. table.concat(r.errors, "; "))
      assert.equal(K, #r.starts)          -- each submit sent once: nothing was throttled
    end
    assert.equal(0, retries)
    assert.equal(WORKERS * K, H.stats().requests[SUBMIT_PATH])
    local max1 = max_in_window(all, 1.0)
    local span = all[#all] - all[1]
    print(("\n[shared] %d submits from %d workers: max %d per sliding 1 s, %d consecutive within >= %.3f s, "
      .. "first to last %.2f s, round %.2f s"):format(#all, WORKERS, max1, RATE + 1, min_span(all, RATE), span,
      core.now() - t0))
    assert.is_true(max1 <= RATE, max1 .. " requests in one second")
    -- 20 starts at 5/s: the 16th cannot leave before 3 full seconds after the first.
    assert.is_true(span >= (math.ceil(WORKERS * K / RATE) - 1), ("all took only %.2f s"):format(span))
    -- The account is named by a hash of the API key, never by the key.
    local names = table.concat(keys, " ")
    assert.matches("stt:rl:dashscope:%x%x%x%x%x%x%x%x%x%x%x%x:submit:", names)
    assert.is_nil(names:find(H.key, 1, true))
    assert.matches('no lua_shared_dict "no_such_dict"', posted.missing_dict)
  end)

  it("shared through the dict object and a named key: the same guarantee", function()
    local results, all, retries, keys = round({ shared = "object", key = "acct-7", k = RATE })
    for _, r in ipairs(results) do assert.equal(RATE, r.ok) end
    assert.equal(0, retries)
    assert.is_true(max_in_window(all, 1.0) <= RATE)
    assert.is_true(all[#all] - all[1] >= 1, "two workers x RATE submits within one second")
    assert.truthy(table.concat(keys, " "):find("stt:rl:acct-7:submit:n", 1, true))
  end)

  it("not shared: the same setup exceeds the rate and the simulator throttles", function()
    local t0 = core.now()
    local _, all, retries = round({ align = true, retries = 1 })
    local max1 = max_in_window(all, 1.0)
    print(("\n[local] %d requests (retries %d) from %d workers: max %d per sliding 1 s, round %.2f s")
      :format(#all, retries, WORKERS, max1, core.now() - t0))
    assert.is_true(max1 > RATE, "the workers kept the rate without sharing: the test proves nothing")
    assert.is_true(retries > 0, "no 429 from the simulator")
    assert.is_true(H.stats().requests[SUBMIT_PATH] > WORKERS * K)
  end)

  it("a deadline gives up at once, costing no budget; a late predecessor is waited for, a lost one briefly", function()
    local r = call_json("GET", "/_test/ratelimit_paths")
    local d = r.deadline
    print(("\n[paths] deadline: gave up after %.3f s, 4th %.3f s, 5th %.3f s; late predecessor %.3f s; "
      .. "lost one %.3f s"):format(d.gave_up_after, d.fourth, d.fifth, r.late, r.lost))
    assert.is_true(d.first_ok)
    assert.is_true(d.gave_up)
    assert.is_true(d.gave_up_after < 0.2)             -- at once: waiting for the deadline takes 0.3 s
    -- the 4th and 5th leave one and two spacings after the 2nd; the ticket that gave up pushes
    -- nothing back (they would leave at 1.65 s and 2.2 s then).
    assert.is_true(d.fourth >= 1.09 and d.fourth < 1.6, d.fourth)
    assert.is_true(d.fifth >= 1.64 and d.fifth < 2.15, d.fifth)
    -- taken 50 ms late by "another worker", then one spacing (1.1 s): not treated as long ago.
    assert.is_true(r.late >= 1.14, r.late)
    assert.is_true(r.lost >= 0.2 and r.lost < 1.0, r.lost)      -- STALL, not the 1.1 s spacing
    assert.truthy(H.read(dir .. "/logs/error.log"):find("was never recorded", 1, true))
  end)

  it("outside nginx, shared is refused; key needs shared", function()
    local ok, err = pcall(ratelimit.new, "dashscope", { shared = "stt_ratelimit" })
    assert.is_false(ok)
    assert.matches("rate_limit.shared needs nginx", err, 1, true)
    ok, err = pcall(ratelimit.new, "dashscope", { submit = 5, key = "a" })
    assert.is_false(ok)
    assert.matches("it needs rate_limit.shared", err, 1, true)
    assert.is_false(ratelimit.new("dashscope", { submit = 5 }).shared)
  end)
end)
