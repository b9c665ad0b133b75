-- Per-task callbacks in a real nginx: examples/openresty/nginx.conf (one worker, started with
-- spec/openresty/examplectl) with STT_CALLBACK_URL pointing at its own /stt/callback location,
-- which the simulator POSTs to when a task ends. The example answers at once (204; 401 for a
-- forged notice; 200 for a late one) and marks after the answer; the waiting /transcribe polls
-- once. The shared dict path: a receiver with no client marks only the dict.
local H = require "helper"
local core = require "stt.core"
local sched = require "stt.sched"

describe("OpenResty example: per-task callbacks (real nginx)", function()
  local dir, base, eng

  setup(function()
    assert(H.sim_url, "no simulator: run through spec/run-tests")
    dir, base = H.example_start()
    eng = core.engine()
  end)

  teardown(function()
    if eng then eng:close() end
    H.example_stop(dir)
  end)

  local function call(method, path, body)
    local r = sched.http(eng, { method = method, url = base .. path, body = body and H.encode(body),
      headers = body and { { "Content-Type", "application/json" } } or nil }, { timeout = 60 })
    assert(r and not r.error, r and r.error and r.error.message)
    return r.status, H.json(r.body)
  end

  before_each(function()
    H.reset()
    H.config({ queue_ms = 300, rtf = 0.1, min_run_ms = 0 })
  end)

  local function polls(provider)
    local s = H.stats()
    return H.count(s.requests, provider == "volcengine" and "^POST /las/api/v1/poll"
      or "^POST /auc/api/v3/auc/bigmodel/query")
  end

  for _, provider in ipairs({ "volcengine", "volcengine-auc" }) do
    it(provider .. ": POST /transcribe returns on the callback after one poll; the example answered 204", function()
      local url = H.media("orcb_en", 1, "One second of talk.")
      local t0 = core.now()
      local st, res = call("POST", "/transcribe", { provider = provider, url = url })
      assert.equal(200, st, H.encode(res))
      assert.equal("One second of talk.", res.text)
      assert.is_true(core.now() - t0 < 20)              -- the fallback poll would come after 120 s
      local s = H.stats()
      assert.equal(1, polls(provider))
      assert.equal(1, s.callbacks_sent)
      assert.equal(1, s.callback_status["204"])
      local cb = H.sim_task(res.task_id).cb
      assert.equal(base .. "/stt/callback/" .. provider .. "?stt_token=" .. cb.data, cb.url)
      -- late (a repeat after the wait ended): acknowledged with 200, nothing marked
      local again = H.json(H.control("POST", "/_sim/tasks/" .. res.task_id .. "/callback", "{}"))
      assert.equal(200, again.status)
    end)
  end

  it("a forged third-party notice gets 401 (retried by the sender: 401 again); the real one wakes the wait", function()
    H.config({ callbacks = { forge = 1, retry_ms = 10 } })
    local url = H.media("orcb_en", 1, "Forged first.")
    local st, res = call("POST", "/transcribe", { provider = "volcengine", url = url })
    assert.equal(200, st)
    assert.equal("Forged first.", res.text)
    local s = H.stats()
    assert.equal(1, s.callbacks_forged)
    assert.equal(4, s.callback_status["401"])           -- 1 + 3 retries, all refused
    assert.equal(1, s.callback_status["204"])
    assert.equal(1, polls("volcengine"))
  end)

  it("POST /jobs: the background poller polls a job when its notice comes (c:take_notice), once", function()
    local st, r = call("POST", "/jobs", { provider = "volcengine", url = H.media("orcb_job", 1, "A background job.") })
    assert.equal(202, st, H.encode(r))
    local t0, out = core.now(), nil
    for _ = 1, 400 do
      _, out = call("GET", "/jobs/" .. r.id)
      if out.state == "succeeded" then break end
      H.sleep(0.05)
    end
    assert.equal("succeeded", out.state)
    assert.equal("A background job.", out.result.text)
    assert.is_true(core.now() - t0 < 20)                   -- no notice: the first poll after 120 s
    assert.equal(1, polls("volcengine"))
    assert.equal(1, H.stats().callback_status["204"])
  end)

  it("a receiver with no client marks the shared dict only; the waiting timer sees it there", function()
    H.config({ callbacks = { drop = 1 } })                   -- the simulator's own notice is lost
    local st, r = call("POST", "/_test/callback_wait",
      { provider = "volcengine", async = true, urls = { H.media("orcb_sh", 1, "Through the dict.") } })
    assert.equal(202, st)
    local id = r.ids[1]
    H.advance(id, "done")
    local tok = H.sim_task(id).cb.data
    -- forged first: refused, nothing marked
    local fst, fr = call("POST", "/_test/notify_shared?provider=volcengine",
      { callback_data = tok:sub(1, -9) .. "00000000" })
    assert.equal(401, fst, H.encode(fr))
    st, r = call("POST", "/_test/notify_shared?provider=volcengine", { callback_data = tok })
    assert.equal(200, st, H.encode(r))
    assert.equal(id, r.task_id)                            -- the key's task, from the dict
    local out
    for _ = 1, 400 do
      _, out = call("GET", "/_test/callback_wait?id=" .. id)
      if not out.pending then break end
      H.sleep(0.05)
    end
    assert.equal("Through the dict.", out.text)
    assert.equal(1, polls("volcengine"))
    -- the end is in the dict too: the same notice now is late
    st, r = call("POST", "/_test/notify_shared?provider=volcengine", { callback_data = tok })
    assert.equal(401, st)
    assert.equal("CallbackEnded", r.code)
  end)
end)
