-- The "volcengine-auc" provider (direct big-model file API) end to end against the simulator:
-- the Result shape, the client-chosen request id, silent audio, the safe resubmission of a submit
-- whose outcome is unknown, status-code errors, and no key in any error or event.
local H = require "helper"
local stt = require "stt"

local PROVIDER = "volcengine-auc"
local EN = "Hello world. This is the second sentence! And a third one?"
local APP, ACCESS = "sim-app-0001", "sim-access-key-0001"
local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

if H.pending_without(PROVIDER, PROVIDER .. " end to end") then return end

local API_KEY = "sim-auc-api-key-0001"        -- an X-Api-Key the simulator accepts (auc_api_keys)
local AUC = "/auc/api/v3/auc/bigmodel"

local function client(opts)
  return H.client(PROVIDER, { app_key = APP, access_key = ACCESS, base_url = H.sim_url .. "/auc/api/v3" }, opts)
end

-- The simulator's request counts on AUC paths ("POST /auc/api/v3/auc/bigmodel/..." -> n), by the
-- path after .../bigmodel.
local function auc_requests()
  local out = {}
  for k, n in pairs(H.stats().requests or {}) do
    local path = k:match("^POST " .. AUC:gsub("%p", "%%%0") .. "(/.*)$")
    if path then out[path] = n end
  end
  return out
end

describe(PROVIDER .. " end to end", function()
  before_each(H.quick_sim)

  it("transcribes one file into the normalized Result; the task id is a client-chosen UUID", function()
    local url = H.media("a_en", 2, EN)
    local c = client()
    local task = assert(c:submit({ url = url, speakers = 2 }))
    assert.matches(UUID4, task.id)
    local h = H.stats().last_headers
    assert.equal(task.id, h["x-api-request-id"])
    assert.equal(APP, h["x-api-app-key"])
    assert.equal("volc.bigasr.auc", h["x-api-resource-id"])
    assert.equal("-1", h["x-api-sequence"])
    local res = assert(c:wait(task))
    assert.equal(PROVIDER, res.provider)
    assert.equal("bigasr", res.model)
    assert.equal(task.id, res.task_id)
    assert.equal(2000, res.duration_ms)
    assert.equal(EN, res.text)
    assert.equal(3, #res.segments)
    assert.same({ "1", "2" }, { res.segments[1].speaker, res.segments[2].speaker })
    assert.equal("Hello", res.segments[1].words[1].text)
    assert.equal(1, H.stats().submissions[url])
  end)

  it("uses a fresh request id per submit and X-Api-Resource-Id volc.seedasr.auc for seedasr", function()
    local c = client({ model = "seedasr" })
    local url = H.media("a_seed", 1, "Seed model.")
    local t1 = assert(c:submit({ url = url }))
    local t2 = assert(c:submit({ url = url }))
    assert.are_not.equal(t1.id, t2.id)
    assert.equal("volc.seedasr.auc", H.stats().last_headers["x-api-resource-id"])
    assert.equal("Seed model.", assert(c:wait(t2)).text)
  end)

  it("runs several jobs concurrently under stt.run", function()
    local c = client()
    local jobs = { { url = H.media("a_1", 1, "One.") }, { url = H.media("a_2", 1, "Two.") },
                   { url = H.media("a_3", 1, "Three.") } }
    local out
    stt.run(function() out = c:transcribe_all(jobs, { concurrency = 3 }) end)
    for i, want in ipairs({ "One.", "Two.", "Three." }) do
      assert.is_nil(out[i].error)
      assert.equal(want, out[i].result.text)
    end
  end)

  it("answers silent audio (20000003) with a Result marked silent = true, in every mode", function()
    for _, mode in ipairs({ "standard", "idle", "flash" }) do
      local res, err = client({ mode = mode }):transcribe({ url = H.media("a_silent_" .. mode, 1) })
      assert.is_nil(err, err and tostring(err))
      assert.is_true(res.silent, mode)
      assert.equal("", res.text)
      assert.equal(0, #res.segments)
    end
  end)

  it("refuses empty audio (45000002) as invalid, saying so", function()
    local res, err = client():transcribe({ url = H.media("a_zero", 0, "x.") })
    assert.is_nil(res)
    assert.same({ "invalid", "45000002", false }, { err.kind, tostring(err.code), err.retryable })
    assert.matches("45000002 (empty audio)", err.message, 1, true)
  end)

  it("transcribes the same in the standard, idle and flash modes", function()
    local url = H.media("a_modes", 2, EN)
    local results = {}
    for _, mode in ipairs({ "standard", "idle", "flash" }) do
      local res, err = client({ mode = mode }):transcribe({ url = url, speakers = 2 })
      assert.is_nil(err, err and tostring(err))
      results[mode] = res
    end
    for _, mode in ipairs({ "idle", "flash" }) do
      local a, b = results.standard, results[mode]
      assert.same({ a.provider, a.model, a.text, a.duration_ms }, { b.provider, b.model, b.text, b.duration_ms })
      assert.matches(UUID4, b.task_id)
      assert.same(a.segments, b.segments)
      assert.is_nil(b.silent)
    end
    assert.equal(3, H.stats().submissions[url])
  end)

  it("flash: one request, answered with the result; c:wait returns it without a query", function()
    local url = H.media("a_flash", 2, EN)
    local c = client({ mode = "flash" })
    local task = assert(c:submit({ url = url }))
    assert.matches(UUID4, task.id)
    assert.equal("succeeded", task.state)
    local h = H.stats().last_headers
    assert.equal("volc.bigasr.auc_turbo", h["x-api-resource-id"])
    assert.equal("-1", h["x-api-sequence"])
    assert.equal(task.id, h["x-api-request-id"])
    local res = assert(c:wait(task))
    assert.equal(EN, res.text)
    assert.equal(task.id, res.task_id)
    assert.equal(2000, res.duration_ms)
    assert.same({ ["/recognize/flash"] = 1 }, auc_requests())
    -- a flash task without its result (read back from elsewhere) cannot be polled
    local st, err = c:poll({ id = task.id, provider = PROVIDER, model = "bigasr", state = "queued" })
    assert.is_nil(st)
    assert.equal("invalid", err.kind)
    assert.matches("flash", err.message)
    assert.same({ ["/recognize/flash"] = 1 }, auc_requests())
  end)

  it("flash: transcribe sends exactly one request; a callback in extra is refused before sending", function()
    local c = client({ mode = "flash" })
    assert.equal("One call.", assert(c:transcribe({ url = H.media("a_flash1", 1, "One call.") })).text)
    assert.same({ ["/recognize/flash"] = 1 }, auc_requests())
    local task, err = c:submit({ url = H.media("a_flash2", 1, "x."), extra = { callback = "http://cb.example/" } })
    assert.is_nil(task)
    assert.equal("unsupported", err.kind)
    assert.same({ ["/recognize/flash"] = 1 }, auc_requests())
  end)

  it("idle: submits and queries on the idle paths with volc.bigasr.auc_idle", function()
    H.config({ queue_ms = 60000 })                  -- held queued until the test moves it on
    local c = client({ mode = "idle" })
    local task = assert(c:submit({ url = H.media("a_idle", 1, "Idle time.") }))
    assert.equal("volc.bigasr.auc_idle", H.stats().last_headers["x-api-resource-id"])
    assert.equal("queued", assert(c:poll(task)).state)
    H.advance(task.id, "running")
    assert.equal("Idle time.", assert(c:wait(task)).text)
    local req = auc_requests()
    assert.equal(1, req["/idle/submit"])
    assert.is_true(req["/idle/query"] >= 2)
    assert.is_nil(req["/submit"])
    assert.is_nil(req["/query"])
    assert.equal("volc.bigasr.auc_idle", H.stats().last_headers["x-api-resource-id"])
  end)

  it("an unknown mode is refused before any request", function()
    local task, err = client({ mode = "turbo" }):submit({ url = H.media("a_mode", 1, "x.") })
    assert.is_nil(task)
    assert.equal("invalid", err.kind)
    assert.matches("turbo", err.message)
    assert.same({}, auc_requests())
  end)

  it("authenticates with one X-Api-Key (new console keys) in every mode", function()
    local url = H.media("a_apikey", 1, "New key.")
    for _, mode in ipairs({ "standard", "idle", "flash" }) do
      local c = H.client(PROVIDER, { api_key = API_KEY, base_url = H.sim_url .. "/auc/api/v3", mode = mode })
      assert.equal("New key.", assert(c:transcribe({ url = url })).text)
      local h = H.stats().last_headers
      assert.equal(API_KEY, h["x-api-key"])
      assert.is_nil(h["x-api-app-key"])
      assert.is_nil(h["x-api-access-key"])
    end
    local secret = "auc-WRONG-api-key-77aa"
    local seen, on_event = H.event_log()
    local c = H.client(PROVIDER, { api_key = secret, base_url = H.sim_url .. "/auc/api/v3", on_event = on_event })
    local task, err = c:submit({ url = url })
    assert.is_nil(task)
    assert.equal("auth", err.kind)
    H.assert_secret_hidden(secret, err, c, seen)
  end)

  it("resubmits a submit whose outcome is unknown with the same id, and gets one task", function()
    local url = H.media("a_ambig", 1, "Only once.")
    -- Attempt 1 is answered after 400 ms (the client gave up at 200 ms) and creates the task;
    -- attempt 2 times out the same way; attempt 3 is refused as a duplicate: the task exists.
    H.fault({ path = "/auc/api/v3/auc/bigmodel/submit", type = "slow", delay_ms = 400, count = 2 })
    local events = {}
    local c = client({ timeout = 0.2, on_event = function(ev) events[#events + 1] = ev end })
    local task, err = c:submit({ url = url })
    assert.is_nil(err, err and tostring(err))
    assert.matches(UUID4, task.id)
    local st = H.stats()
    assert.equal(1, st.submissions[url])
    assert.is_true((st.auc_duplicate_submits or 0) >= 1)
    local retried = 0
    for _, ev in ipairs(events) do if ev.type == "retry" and ev.op == "submit" then retried = retried + 1 end end
    assert.equal(2, retried)
    c.timeout = 5
    assert.equal("Only once.", assert(c:wait(task)).text)
  end)

  it("keeps DashScope's rule: its ambiguous submit is still never repeated", function()
    H.fault({ path = "/dashscope/api/v1/services/audio/asr/transcription", type = "reset" })
    local c = stt.client("dashscope", { api_key = H.key, base_url = H.ds_base, timeout = 5 })
    local task, err = c:submit({ url = H.media("a_ds", 1, "x.") })
    assert.is_nil(task)
    assert.is_true(err.ambiguous)
    assert.equal(1, H.stats().requests["POST /dashscope/api/v1/services/audio/asr/transcription"])
  end)

  it("retries busy (55000031) and internal (55000000) answers", function()
    H.fault({ path = "/auc/api/v3/auc/bigmodel/submit", type = "429" })
    H.fault({ path = "/auc/api/v3/auc/bigmodel/query", type = "500" })
    local codes = {}
    local res = assert(client({ on_event = function(ev)
      if ev.type == "retry" then codes[#codes + 1] = tostring(ev.error.code) end
    end }):transcribe({ url = H.media("a_busy", 1, "Busy.") }))
    assert.equal("Busy.", res.text)
    assert.same({ "55000031", "55000000" }, codes)
  end)

  it("fails a task the service cannot decode, with its status code", function()
    local res, err = client():transcribe({ url = H.media("a_bad", 1, "x.", '{"fail":45000151}') })
    assert.is_nil(res)
    assert.equal("45000151", tostring(err.code))
    assert.is_false(err.retryable)
  end)

  it("never shows the app key or access key in errors or events", function()
    local secret = "auc-SECRET-canary-9b2c"
    local seen, on_event = H.event_log()
    local c = client({ access_key = secret, on_event = on_event })
    local task, err = c:submit({ url = H.media("a_key", 1, "x.") })
    assert.is_nil(task)
    assert.equal("auth", err.kind)
    H.assert_secret_hidden(secret, err, c, seen)
  end)
end)
