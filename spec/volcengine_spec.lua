-- The "volcengine" provider (LAS operator las_asr v2) end to end against the simulator: the same
-- Result shape as DashScope, every Authorization spelling, retries, failed and timed-out tasks,
-- unsupported options, and no API key in any error or event.
local H = require "helper"
local stt = require "stt"

local PROVIDER = "volcengine"
local EN = "Hello world. This is the second sentence! And a third one?"

if H.pending_without(PROVIDER, PROVIDER .. " end to end") then return end

local function client(opts)
  return H.client(PROVIDER, { api_key = H.key, base_url = H.sim_url .. "/las/api/v1" }, opts)
end

local function stereo(name, seconds, text) return H.media(name, seconds, text, nil, 2) end

-- H.media's WAV under another extension (the simulator reads the container, not the name).
local function media_as(name, ext, seconds, text)
  H.media(name, seconds, text)
  local dir = H.sim_dir .. "/media/"
  H.write(dir .. name .. "." .. ext, assert(H.read(dir .. name .. ".wav")))
  return H.sim_url .. "/media/" .. name .. "." .. ext
end

-- The checks every normalized Result passes (DESIGN.md "Normalized Result").
local function assert_result(res, duration_ms)
  assert.equal(PROVIDER, res.provider)
  assert.is_string(res.task_id)
  assert.equal(duration_ms, res.duration_ms)
  local prev = -1
  for _, s in ipairs(res.segments) do
    assert.is_true(s.start_ms == math.floor(s.start_ms) and s.end_ms >= s.start_ms)
    assert.is_true(s.start_ms >= prev)
    prev = s.start_ms
    assert.is_true(s.speaker == nil or type(s.speaker) == "string")
    for _, w in ipairs(s.words or {}) do
      assert.is_true(w.start_ms >= s.start_ms and w.end_ms <= s.end_ms)
    end
  end
end

describe(PROVIDER .. " end to end", function()
  before_each(H.quick_sim)

  it("transcribes one file, blocking, into the normalized Result", function()
    local res, err = client():transcribe({ url = H.media("v_en", 2, EN), language = "en" })
    assert.is_nil(err)
    assert_result(res, 2000)
    assert.equal("bigasr", res.model)
    assert.equal(EN, res.text)
    assert.equal(3, #res.segments)
    assert.equal("Hello world.", res.segments[1].text)
    assert.equal(2, #res.segments[1].words)
    assert.equal("Hello", res.segments[1].words[1].text)
  end)

  it("runs several jobs concurrently under stt.run", function()
    local c = client()
    local urls = { H.media("v_a", 1, "First file."), H.media("v_b", 1, "Second file."),
                   H.media("v_c", 1, "Third file.") }
    local out = {}
    stt.run(function()
      local ths = {}
      for i, u in ipairs(urls) do ths[i] = stt.spawn(function() return c:transcribe({ url = u }) end) end
      for i, th in ipairs(ths) do out[i] = th:join() end
    end)
    assert.equal("First file.", out[1].text)
    assert.equal("Second file.", out[2].text)
    assert.equal("Third file.", out[3].text)
  end)

  it("sends the raw key by default, and Bearer or ApiKey when asked", function()
    local url = H.media("v_auth", 1, "Auth works.")
    for prefix, want in pairs({ [""] = H.key, Bearer = "Bearer " .. H.key, ApiKey = "ApiKey " .. H.key }) do
      local res = assert(client({ auth_prefix = prefix ~= "" and prefix or nil }):transcribe({ url = url }))
      assert.equal("Auth works.", res.text)
      assert.equal(want, H.stats().last_headers.authorization)
    end
  end)

  it("maps speakers to strings and split channels to 0-based numbers", function()
    local res = assert(client():transcribe({ url = H.media("v_spk", 2, EN), speakers = 2 }))
    assert.same({ "1", "2", "1" }, { res.segments[1].speaker, res.segments[2].speaker, res.segments[3].speaker })
    res = assert(client():transcribe({ url = stereo("v_stereo", 2, EN), channels = { 0, 1 } }))
    assert.same({ 0, 1, 0 }, { res.segments[1].channel, res.segments[2].channel, res.segments[3].channel })
  end)

  it("sends model seedasr as data.resource", function()
    local task = assert(client({ model = "seedasr" }):submit({ url = H.media("v_seed", 1, "Seed.") }))
    assert.equal("seedasr", task.model)
    assert.equal("seedasr", H.sim_task(task.id).resource)
  end)

  it("retries 429 Server.Busy and 500 on submit and poll", function()
    local url = H.media("v_busy", 1, "Busy once.")
    H.fault({ path = "/las/api/v1/submit", type = "429", retry_after = 1 })
    H.fault({ path = "/las/api/v1/poll", type = "500" })
    local retries = {}
    local res = assert(client({ on_event = function(ev)
      if ev.type == "retry" then retries[#retries + 1] = ev.error end
    end }):transcribe({ url = url }))
    assert.equal("Busy once.", res.text)
    assert.equal(2, #retries)
    assert.equal("throttled", retries[1].kind)
    assert.equal("Server.Busy", retries[1].code)
    assert.equal("server", retries[2].kind)
  end)

  it("reports FAILED, TIMEOUT and an unreachable file as task_failed", function()
    for _, case in ipairs({ { "v_fail", '{"fail":"FAILED","fail_message":"audio too noisy"}', "audio too noisy" },
                            { "v_timeout", '{"fail":"TIMEOUT"}', "timed out" } }) do
      local res, err = client():transcribe({ url = H.media(case[1], 1, "x.", case[2]) })
      assert.is_nil(res)
      assert.equal("task_failed", err.kind)
      assert.is_false(err.retryable)
      assert.matches(case[3], err.message)
    end
    local res, err = client():transcribe({ url = H.sim_url .. "/media/v_missing.wav" })
    assert.is_nil(res)
    assert.equal("task_failed", err.kind)
  end)

  it("polls with task_id at the top level and in data (both forms in one body)", function()
    assert.equal("Both forms.", assert(client():transcribe({ url = H.media("v_poll", 1, "Both forms.") })).text)
    local forms = H.stats().las_poll_task_id
    assert.is_true((forms.both or 0) >= 1)
    assert.is_nil(forms.top)
    assert.is_nil(forms.data)
  end)

  it("labels audio.format only when the extension or the format option names a documented one", function()
    local c = client()
    local function format_of(job)
      local task = assert(c:submit(job))
      assert.equal("M4a file.", assert(c:wait(task)).text)
      return H.sim_task(task.id).params.format
    end
    local m4a = media_as("v_m4a", "m4a", 1, "M4a file.")
    assert.is_nil(format_of({ url = m4a }))                            -- not "mp3": left out
    assert.equal("wav", format_of({ url = m4a, format = "wav" }))
    assert.equal("wav", format_of({ url = media_as("v_m4a", "WAV", 1, "M4a file.") }))
  end)

  it("returns an empty Result for silent audio", function()
    local res = assert(client():transcribe({ url = H.media("v_silent", 1) }))
    assert.equal("", res.text)
    assert.equal(0, #res.segments)
  end)

  it("refuses an option LAS cannot honour before any request", function()
    local before = H.stats().requests or {}
    local task, err = client():submit({ url = "http://127.0.0.1/a.wav", vocabulary_id = "vocab-x" })
    assert.is_nil(task)
    assert.equal("unsupported", err.kind)
    assert.matches("vocabulary_id", err.message)
    assert.same(before, H.stats().requests or {})
  end)

  it("never shows the API key in errors or events", function()
    local secret = "las-SECRET-canary-5d1e"
    local seen, on_event = H.event_log()
    local c = client({ api_key = secret, retries = 1, on_event = on_event })
    local task, err = c:submit({ url = H.media("v_key", 1, "x.") })
    assert.is_nil(task)
    assert.equal("auth", err.kind)
    assert.is_false(err.retryable)
    H.assert_secret_hidden(secret, err, c, seen)
  end)
end)
