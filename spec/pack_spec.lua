-- transcribe_all: batch packing (pack = true) against the simulator's DashScope, and
-- back-pressure (a long list never makes more than `concurrency` threads).
local H = require "helper"
local sched = require "stt.sched"
local batch = require "stt.batch"

local SUBMIT_PATH = "/dashscope/api/v1/services/audio/asr/transcription"

local function client(opts)
  return H.client("dashscope", { api_key = H.key, base_url = H.ds_base }, opts)
end

local function submits()
  local n = 0
  for k, v in pairs(H.stats().requests or {}) do
    if k:find(SUBMIT_PATH, 1, true) and k:find("^POST") then n = n + v end
  end
  return n
end

-- Words, not digits, so that every file's text is its own and easy to check.
local WORDS = { "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine" }
local function spelled(i)
  local t = {}
  for d in tostring(i):gmatch("%d") do t[#t + 1] = WORDS[tonumber(d) + 1] end
  return table.concat(t, " ")
end

local function media_list(n, prefix)
  local urls = {}
  for i = 1, n do
    urls[i] = H.media(prefix .. i, 0.2, "File number " .. spelled(i) .. " ends here.")
  end
  return urls
end

describe("transcribe_all pack", function()
  before_each(H.quick_sim)

  it("packs 250 jobs into 3 tasks and splits the results back in order", function()
    local urls = media_list(250, "pk")
    local bad = 137
    urls[bad] = H.sim_url .. "/media/no_such_file.wav"
    local jobs = {}
    for i = 1, 250 do jobs[i] = { url = urls[i] } end
    local seen = {}
    local out = client():transcribe_all(jobs, { pack = true,
      on_result = function(i) seen[#seen + 1] = i end })
    assert.equal(3, submits())
    assert.equal(250, #out)
    assert.equal(250, #seen)
    for i = 1, 250 do
      if i == bad then
        assert.is_nil(out[i].result)
        assert.equal("task_failed", out[i].error.kind)
        assert.equal("InvalidFile.DownloadFailed", out[i].error.code)
      else
        assert.is_nil(out[i].error, out[i].error and tostring(out[i].error))
        local want = "File number " .. spelled(i) .. " ends here"
        assert.truthy(out[i].result.text:find(want, 1, true), i .. ": " .. out[i].result.text)
      end
    end
  end)

  it("without pack, one submit per job", function()
    local urls = media_list(250, "np")
    local jobs = {}
    for i = 1, 250 do jobs[i] = { url = urls[i] } end
    local out = client({ rate_limit = false }):transcribe_all(jobs, { concurrency = 50 })
    assert.equal(250, submits())
    for i = 1, 250 do
      assert.truthy(out[i].result.text:find("File number " .. spelled(i) .. " ends", 1, true))
    end
  end)

  it("packs only consecutive jobs with identical options, and models that take batches", function()
    local urls = media_list(9, "mx")
    local jobs = {
      { url = urls[1], language = "en" }, { url = urls[2], language = "en" }, { url = urls[3], language = "en" },
      { url = urls[4] }, { url = urls[5] },
      { url = urls[6], model = "qwen3-asr-flash-filetrans" }, { url = urls[7], model = "qwen3-asr-flash-filetrans" },
      { url = urls[8] }, { url = urls[9] },
    }
    local out = client():transcribe_all(jobs, { pack = true })
    assert.equal(5, submits())             -- en x3 | plain x2 | qwen | qwen | plain x2
    for i = 1, 9 do
      assert.is_nil(out[i].error, out[i].error and tostring(out[i].error))
      assert.truthy(out[i].result.text:find("File number " .. spelled(i), 1, true))
    end
    assert.equal("qwen3-asr-flash-filetrans", out[6].result.model)
    assert.equal("paraformer-v2", out[8].result.model)
    assert.equal(out[1].result.task_id, out[3].result.task_id)
    assert.are_not.equal(out[3].result.task_id, out[4].result.task_id)
  end)

  it("knows which models take batches (the default model too)", function()
    local ds = client()
    assert.equal(100, batch.batch_max(ds, nil))
    assert.equal(100, batch.batch_max(ds, "sensevoice-v1"))
    assert.equal(1, batch.batch_max(ds, "qwen3-asr-flash-filetrans"))
    assert.is_nil(batch.pack_key(ds, { urls = { "a", "b" } }))
    local tu = require("stt").client("turing", { api_key = "k", base_url = H.sim_url .. "/turing/api/v1" })
    assert.equal("aliyun/tingwu", tu.model)              -- the registry's default model
    assert.equal(1, batch.batch_max(tu, nil))
    assert.is_nil(batch.pack_key(tu, { url = "https://example.com/a.wav" }))
  end)

  it("10,000 jobs make only `concurrency` threads", function()
    local spawn, spawned = sched.spawn, 0
    sched.spawn = function(...) spawned = spawned + 1; return spawn(...) end
    local jobs = {}
    for i = 1, 10000 do jobs[i] = {} end   -- refused before any request: no url
    local c = client()
    local ok, out = pcall(c.transcribe_all, c, jobs, { concurrency = 8, pack = true })
    sched.spawn = spawn
    assert.is_true(ok, tostring(out))
    assert.equal(8, spawned)
    assert.equal(10000, #out)
    for i = 1, 10000 do assert.equal("invalid", out[i].error.kind) end
  end)
end)
