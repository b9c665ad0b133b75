-- The "turing" provider (TCL Turing, service aliyun/tingwu) end to end against the simulator: the
-- Result shape, the {code, message, data} envelope (a non-zero code is an error whatever the HTTP
-- status), failed tasks, unknown in-progress states, retries, and no API key in errors or events.
local H = require "helper"
local stt = require "stt"

local PROVIDER = "turing"
local EN = "Hello world. This is the second sentence! And a third one?"
local ZH = "欢迎使用语音转写。这是一个模拟的服务。"

if H.pending_without(PROVIDER, PROVIDER .. " end to end") then return end

local function client(opts)
  return H.client(PROVIDER, { api_key = H.key, base_url = H.sim_url .. "/turing/api/v1" }, opts)
end

describe(PROVIDER .. " end to end", function()
  before_each(H.quick_sim)

  it("transcribes one file, blocking, into the normalized Result", function()
    local c = client()
    local task = assert(c:submit({ url = H.media("t_en", 2, EN), language = "en", speakers = 2 }))
    assert.matches("^run_%x+$", task.id)
    local res = assert(c:wait(task))
    assert.equal(PROVIDER, res.provider)
    assert.equal(task.id, res.task_id)
    assert.equal(2000, res.duration_ms)
    assert.equal(EN, res.text)
    assert.equal(3, #res.segments)
    local prev = -1
    for _, s in ipairs(res.segments) do
      assert.is_true(s.start_ms >= prev and s.end_ms >= s.start_ms)
      prev = s.start_ms
    end
    assert.same({ "1", "2" }, { res.segments[1].speaker, res.segments[2].speaker })
    if H.sim_task(task.id).params.usages then
      assert.equal(2000, res.usage.audio_ms)
    end
  end)

  it("sends language zh as Tingwu's cn", function()
    local res, err = client():transcribe({ url = H.media("t_zh", 2, ZH), language = "zh" })
    assert.is_nil(err, err and tostring(err))
    assert.equal(ZH, res.text)
  end)

  it("runs several jobs concurrently under stt.run", function()
    local c = client()
    local out = {}
    stt.run(function()
      local a = stt.spawn(function() return c:transcribe({ url = H.media("t_a", 1, "First.") }) end)
      local b = stt.spawn(function() return c:transcribe({ url = H.media("t_b", 1, "Second.") }) end)
      out[1], out[2] = a:join(), b:join()
    end)
    assert.equal("First.", out[1].text)
    assert.equal("Second.", out[2].text)
  end)

  it("treats a non-zero code as an error even with HTTP 200", function()
    local res, err = client():transcribe({ url = H.media("t_code", 1, "x.",
      '{"code":50001,"message":"backend exploded"}') })
    assert.is_nil(res)
    assert.equal("50001", tostring(err.code))
    assert.matches("backend exploded", err.message)
  end)

  it("reports a failed task as task_failed with its reason", function()
    local res, err = client():transcribe({ url = H.media("t_fail", 1, "x.",
      '{"fail":"FAILED","fail_message":"audio too noisy"}') })
    assert.is_nil(res)
    assert.equal("task_failed", err.kind)
    assert.matches("audio too noisy", err.message)
    res, err = client():transcribe({ url = H.sim_url .. "/media/t_missing.wav" })
    assert.is_nil(res)
    assert.equal("task_failed", err.kind)
  end)

  it("treats an unknown state as in progress", function()
    H.config({ queue_ms = 300 })
    local states = {}
    local res = assert(client({ on_event = function(ev)
      if ev.type == "poll" then states[#states + 1] = ev.state end
    end }):transcribe({ url = H.media("t_queued", 1, "Queued first.", '{"state":"queued"}') }))
    assert.equal("Queued first.", res.text)
    assert.is_true(#states >= 2)
  end)

  it("retries 429 on submit and 500 on poll", function()
    H.fault({ path = "/turing/api/v1/audio/transcriptions/runs", method = "POST", type = "429" })
    H.fault({ path = "/turing/api/v1/audio/transcriptions/runs/", method = "GET", type = "500" })
    local kinds = {}
    local res = assert(client({ on_event = function(ev)
      if ev.type == "retry" then kinds[#kinds + 1] = ev.error.kind end
    end }):transcribe({ url = H.media("t_busy", 1, "Busy.") }))
    assert.equal("Busy.", res.text)
    assert.same({ "throttled", "server" }, kinds)
  end)

  it("returns an empty Result for silent audio", function()
    local res = assert(client():transcribe({ url = H.media("t_silent", 1) }))
    assert.equal("", res.text)
    assert.equal(0, #res.segments)
  end)

  it("refuses split channels (Turing has none) before any request", function()
    local before = H.stats().requests or {}
    local task, err = client():submit({ url = "http://127.0.0.1/a.wav", channels = { 0, 1 } })
    assert.is_nil(task)
    assert.equal("unsupported", err.kind)
    assert.matches("channels", err.message)
    assert.same(before, H.stats().requests or {})
  end)

  it("never shows the API key in errors or events", function()
    local secret = "turing-SECRET-canary-3c8e"
    local seen, on_event = H.event_log()
    local c = client({ api_key = secret, on_event = on_event })
    local task, err = c:submit({ url = H.media("t_key", 1, "x.") })
    assert.is_nil(task)
    assert.equal("auth", err.kind)
    assert.is_false(err.retryable)
    H.assert_secret_hidden(secret, err, c, seen)
  end)
end)
