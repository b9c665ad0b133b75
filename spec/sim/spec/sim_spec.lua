-- The provider simulator (spec/sim/): its own instance, driven with the curl command-line tool
-- only (independent of lua-stt's own HTTP engine). DashScope protocol, result files, faults,
-- control API and the /_t/ helpers.
local H = require "helper"
local curl_tool = require "curl_tool"
local cjson = require "cjson"

local HERE = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".")
local SIMCTL = HERE .. "/../simctl"

local KEY = "sk-sim-valid-key-0001"

local dir, url, tls_url, ds
local env = {}          -- the variables simctl start printed

---------------------------------------------------------------------------- shell helpers

-- H.popen: children never inherit the sanitizer runtime (curl, nginx and sh are fixtures here)
local q, popen = H.sh_quote, H.popen

-- Run a shell command -> stdout, exit code (portable to Lua 5.1/LuaJIT popen).
local function sh(cmd)
  local p = assert(popen("{ " .. cmd .. "; } 2>/dev/null; printf '\\n%d' $?"))
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)\n(%d+)$")
  return body, tonumber(code)
end

local slurp, spit = H.read, H.write

local function now()
  local out = sh("date +%s.%N")
  return tonumber(out)
end

local sleep = H.sleep

local http = curl_tool.http   -- curl -> { status, headers (lower-case), body, rc, stderr, time }

local function decode(s)
  local ok, v = pcall(cjson.decode, s)
  return ok and v or nil
end

local function control(method, path, tbl)
  local r = http(url .. path, { method = method, json = tbl })
  return decode(r.body), r
end

local function config(t) return control("POST", "/_sim/config", t) end
-- Move a task's clock on (POST /_sim/tasks/<id>/advance): "running" or "done"; "done" is refused
-- (409) until the task has been processed, which happens right after its submit.
local function advance(id, to)
  for _ = 1, 200 do
    local j, r = control("POST", "/_sim/tasks/" .. id .. "/advance", { to = to })
    if r.status == 200 then return j end
    assert(r.status == 409, r.body)
    os.execute("sleep 0.02")
  end
  error("the simulator never processed task " .. id)
end
local function fault(t) return control("POST", "/_sim/faults", t) end
local function stats() return (control("GET", "/_sim/stats")) end

---------------------------------------------------------------------------- media

local function le(v, bytes)
  local t = {}
  for i = 1, bytes do t[i] = string.char(v % 256); v = math.floor(v / 256) end
  return table.concat(t)
end

-- 16 kHz mono 16-bit WAV of silence (+ .txt / .json references); returns its URL.
local function wav(name, seconds, text, override)
  local n = math.floor(16000 * seconds) * 2
  local hdr = "RIFF" .. le(36 + n, 4) .. "WAVE" .. "fmt " .. le(16, 4) .. le(1, 2) .. le(1, 2)
    .. le(16000, 4) .. le(32000, 4) .. le(2, 2) .. le(16, 2) .. "data" .. le(n, 4)
  spit(dir .. "/media/" .. name .. ".wav", hdr .. string.rep("\0", n))
  if text then spit(dir .. "/media/" .. name .. ".txt", text) end
  if override then spit(dir .. "/media/" .. name .. ".json", cjson.encode(override)) end
  return url .. "/media/" .. name .. ".wav"
end

local HAVE_FFMPEG = select(2, sh("command -v ffmpeg")) == 0

local function mp3(name, seconds, text)
  local path = dir .. "/media/" .. name .. ".mp3"
  local _, code = sh("ffmpeg -nostdin -loglevel error -y -f lavfi -i anullsrc=r=16000:cl=mono -t " ..
    seconds .. " -q:a 9 " .. q(path))
  assert(code == 0, "ffmpeg failed")
  if text then spit(dir .. "/media/" .. name .. ".txt", text) end
  return url .. "/media/" .. name .. ".mp3"
end

---------------------------------------------------------------------------- DashScope helpers

local AUTH = "Authorization: Bearer " .. KEY
local ASYNC = "X-DashScope-Async: enable"

local function submit(body, headers)
  local r = http(ds .. "/services/audio/asr/transcription",
    { method = "POST", json = body, headers = headers or { AUTH, ASYNC } })
  return decode(r.body), r
end

local function submit_ok(body)
  local j, r = submit(body)
  assert.are.equal(200, r.status, r.body)
  return j.output.task_id
end

local function query(id, headers)
  local r = http(ds .. "/tasks/" .. id, { headers = headers or { AUTH } })
  return decode(r.body), r
end

local TERMINAL = { SUCCEEDED = true, FAILED = true, CANCELED = true, UNKNOWN = true }

local function wait_done(id, timeout)
  local deadline = now() + (timeout or 5)
  while true do
    local j = query(id)
    if TERMINAL[j.output.task_status] or now() > deadline then return j end
    sleep(0.03)
  end
end

local function fetch_result(result_url, headers)
  local r = http(result_url, { headers = headers })
  return decode(r.body), r
end

local function bj_ms(s) -- "YYYY-MM-DD HH:MM:SS.mmm" -> ms of the day (enough for differences)
  local h, m, sec, ms = s:match(" (%d+):(%d+):(%d+)%.(%d+)$")
  return ((tonumber(h) * 60 + tonumber(m)) * 60 + tonumber(sec)) * 1000 + tonumber(ms)
end

---------------------------------------------------------------------------- spec

describe("provider simulator", function()
  local start_out

  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    local out, code = sh("bash " .. q(SIMCTL) .. " start " .. q(dir))
    assert(code == 0, "simctl start failed: " .. out)
    start_out = out
    url = out:match("STT_SIM_URL=(%S+)")
    tls_url = out:match("STT_SIM_TLS_URL=(%S+)")
    for k, v in out:gmatch("(STT_[%w_]+)=(%S+)") do env[k] = v end
    ds = url .. "/dashscope/api/v1"
  end)

  teardown(function()
    if dir then
      sh("bash " .. q(SIMCTL) .. " stop " .. q(dir))
      sh("rm -rf " .. q(dir))
    end
  end)

  before_each(function()
    control("POST", "/_sim/reset")
    config({ queue_ms = 20, rtf = 0.01, min_run_ms = 0 })
  end)

  describe("simctl", function()
    it("prints exactly the five env lines and writes DIR/env", function()
      local lines = {}
      for l in start_out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.are.equal(5, #lines)
      assert.truthy(lines[1]:match("^STT_SIM_URL=http://127%.0%.0%.1:%d+$"))
      assert.truthy(lines[2]:match("^STT_SIM_TLS_URL=https://127%.0%.0%.1:%d+$"))
      assert.are.equal("STT_SIM_TLS_CA=" .. dir .. "/cert.pem", lines[3])
      assert.truthy(lines[4]:match("^STT_SIM_TLS_WRONGHOST_URL=https://127%.0%.0%.1:%d+$"))
      assert.are.equal("STT_SIM_TLS_WRONGHOST_CA=" .. dir .. "/wronghost-cert.pem", lines[5])
      assert.are.equal(start_out, slurp(dir .. "/env"))
      assert.truthy(slurp(dir .. "/nginx.conf"):find("listen 127.0.0.1:%d+ ssl http2"))
    end)

    it("serves TLS with a self-signed certificate, and HTTP/2 there", function()
      local r = http(tls_url .. "/_t/echo", { extra = "-k --http2" })
      assert.are.equal(200, r.status)
      assert.are.equal(2, decode(r.body).http_version)
      local bad = http(tls_url .. "/_t/echo")
      assert.are.equal(60, bad.rc)   -- certificate not trusted
      local trusted = http(tls_url .. "/_t/echo", { extra = "--cacert " .. q(env.STT_SIM_TLS_CA) })
      assert.are.equal(200, trusted.status)
    end)

    it("serves TLS with a trusted certificate for another host name (wrong.example)", function()
      local wrong = env.STT_SIM_TLS_WRONGHOST_URL
      local ca = "--cacert " .. q(env.STT_SIM_TLS_WRONGHOST_CA)
      -- Trusted, but not for 127.0.0.1: only the host-name check refuses it.
      local r = http(wrong .. "/_t/echo", { extra = ca })
      assert.are.equal(60, r.rc)
      assert.truthy(r.stderr:find("subject name", 1, true), r.stderr)
      -- The same certificate is valid for wrong.example ...
      local port = wrong:match(":(%d+)$")
      r = http("https://wrong.example:" .. port .. "/_t/echo", { extra = ca .. " --resolve wrong.example:" .. port
        .. ":127.0.0.1" })
      assert.are.equal(200, r.status, r.stderr)
      -- ... and without verification the listener serves the simulator's routes.
      r = http(wrong .. "/dashscope/api/v1/tasks/x", { headers = { "Authorization: Bearer " .. KEY }, extra = "-k" })
      assert.are.equal(200, r.status)
      assert.are.equal("UNKNOWN", decode(r.body).output.task_status)
      assert.are.equal("lua-stt", r.headers["x-simulator"])
    end)

    it("marks every answer as the simulator", function()
      assert.are.equal("lua-stt", http(url .. "/_t/conn").headers["x-simulator"])
      assert.are.equal("lua-stt", http(ds .. "/tasks/x").headers["x-simulator"])
    end)

    it("start --media serves another folder; start on a running DIR fails; stop is idempotent", function()
      local d2, m2 = os.tmpname(), os.tmpname()
      os.remove(d2)
      os.remove(m2)
      sh("mkdir -p " .. q(m2))
      spit(m2 .. "/probe.txt", "hello")
      local out, code = sh("bash " .. q(SIMCTL) .. " start " .. q(d2) .. " --media " .. q(m2))
      assert.are.equal(0, code)
      local u2 = out:match("STT_SIM_URL=(%S+)")
      assert.are.equal(200, http(u2 .. "/").status)
      assert.are.equal("hello", http(u2 .. "/media/probe.txt").body)
      local _, code2 = sh("bash " .. q(SIMCTL) .. " start " .. q(d2))
      assert.are_not.equal(0, code2)
      assert.are.equal(0, select(2, sh("bash " .. q(SIMCTL) .. " stop " .. q(d2))))
      assert.are.equal(0, select(2, sh("bash " .. q(SIMCTL) .. " stop " .. q(d2))))
      assert.are.equal(7, http(u2 .. "/").rc)   -- connection refused
      sh("rm -rf " .. q(d2) .. " " .. q(m2))
    end)
  end)

  describe("DashScope submit", function()
    it("accepts paraformer-v2 and answers PENDING with ids", function()
      local u = wav("hello", 3, "Hello world, this is the simulator. How are you?")
      local j, r = submit({ model = "paraformer-v2", input = { file_urls = { u } } })
      assert.are.equal(200, r.status)
      assert.are.equal("PENDING", j.output.task_status)
      assert.truthy(j.output.task_id:match("^%x+%-%x+%-4%x+%-%x+%-%x+$"))
      assert.truthy(j.request_id:match("^%x+%-"))
      assert.are.equal(1, stats().submissions[u])
    end)

    it("rejects a missing or unknown API key with 401 InvalidApiKey", function()
      local body = { model = "paraformer-v2", input = { file_urls = { url .. "/media/x.wav" } } }
      for _, headers in ipairs({ { ASYNC }, { ASYNC, "Authorization: Bearer sk-nope" },
                                 { ASYNC, "Authorization: " .. KEY } }) do
        local j, r = submit(body, headers)
        assert.are.equal(401, r.status)
        assert.are.equal("InvalidApiKey", j.code)
        assert.are.equal("Invalid API-key provided.", j.message)
        assert.truthy(j.request_id)
      end
      local j, r = query("whatever", { "Authorization: Bearer wrong" })
      assert.are.equal(401, r.status)
      assert.are.equal("InvalidApiKey", j.code)
    end)

    it("accepts keys set through the control API", function()
      config({ keys = { "sk-other" } })
      local _, r = query("x", { "Authorization: Bearer sk-other" })
      assert.are.equal(200, r.status)
      _, r = query("x", { AUTH })
      assert.are.equal(401, r.status)
    end)

    it("requires X-DashScope-Async: enable (403 AccessDenied)", function()
      local j, r = submit({ model = "paraformer-v2", input = { file_urls = { url .. "/media/x.wav" } } }, { AUTH })
      assert.are.equal(403, r.status)
      assert.are.equal("AccessDenied", j.code)
      assert.are.equal("current user api does not support synchronous calls", j.message)
    end)

    it("answers 400 InvalidParameter for bad bodies", function()
      local cases = {
        { body = "{not json", msg = "JSON" },
        { json = { input = { file_urls = { "http://127.0.0.1/a.wav" } } }, msg = "model" },
        { json = { model = "whisper-1", input = { file_urls = { "http://127.0.0.1/a.wav" } } },
          msg = "Model not exist" },
        { json = { model = "paraformer-v2" }, msg = "input" },
        { json = { model = "paraformer-v2", input = {} }, msg = "file_urls" },
        { json = { model = "paraformer-v2", input = { file_url = "http://127.0.0.1/a.wav" } }, msg = "file_urls" },
        { json = { model = "qwen3-asr-flash-filetrans", input = { file_urls = { "http://127.0.0.1/a.wav" } } },
          msg = "file_url" },
        { json = { model = "paraformer-v2", input = { file_urls = { "http://127.0.0.1/a.wav" } },
                   parameters = { channel_id = { -1 } } }, msg = "channel_id" },
      }
      for _, c in ipairs(cases) do
        local r = http(ds .. "/services/audio/asr/transcription", { method = "POST", headers = { AUTH, ASYNC },
          body = c.body, json = c.json })
        assert.are.equal(400, r.status, r.body)
        local j = decode(r.body)
        assert.are.equal("InvalidParameter", j.code)
        assert.truthy(j.message:find(c.msg, 1, true), j.message .. " should mention " .. c.msg)
      end
    end)

    it("limits file_urls to 1..100", function()
      local urls = {}
      for i = 1, 101 do urls[i] = url .. "/media/f" .. i .. ".wav" end
      local j, r = submit({ model = "sensevoice-v1", input = { file_urls = urls } })
      assert.are.equal(400, r.status)
      assert.are.equal("InvalidParameter", j.code)
      urls[101] = nil
      j, r = submit({ model = "sensevoice-v1", input = { file_urls = urls } })
      assert.are.equal(200, r.status)
      assert.are.equal("PENDING", j.output.task_status)
      r = http(ds .. "/services/audio/asr/transcription", { method = "POST", headers = { AUTH, ASYNC },
        body = '{"model":"sensevoice-v1","input":{"file_urls":[]}}' })
      assert.are.equal(400, r.status, r.body)
      assert.truthy(decode(r.body).message:find("empty", 1, true))
    end)

    it("counts submissions per file URL", function()
      local u = wav("counted", 1, "One.")
      submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } })
      submit_ok({ model = "fun-asr", input = { file_urls = { u, u .. "?x=1" } } })
      local s = stats()
      assert.are.equal(2, s.submissions[u])
      assert.are.equal(1, s.submissions[u .. "?x=1"])
      assert.are.equal(2, s.requests["POST /dashscope/api/v1/services/audio/asr/transcription"])
    end)
  end)

  describe("DashScope task lifecycle", function()
    it("goes PENDING -> RUNNING -> SUCCEEDED on the configured clock", function()
      -- Long clocks hold each state; the control API moves the task on (no wall-clock race).
      config({ queue_ms = 60000, rtf = 100 })        -- 3 s audio -> 300 s RUNNING
      local u = wav("timed", 3, "Timing test.")
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } })
      local j = query(id)
      assert.are.equal("PENDING", j.output.task_status)
      assert.truthy(j.output.submit_time:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d%.%d%d%d$"))
      advance(id, "running")
      j = query(id)
      assert.are.equal("RUNNING", j.output.task_status)
      assert.is_true(math.abs(60000 - (bj_ms(j.output.scheduled_time) - bj_ms(j.output.submit_time))) <= 1)
      assert.are.same({ TOTAL = 1, SUCCEEDED = 0, FAILED = 0 }, j.output.task_metrics)
      assert.is_nil(j.usage)
      advance(id, "done")
      j = query(id)
      assert.are.equal("SUCCEEDED", j.output.task_status)
      assert.is_true(math.abs(360000 - (bj_ms(j.output.end_time) - bj_ms(j.output.submit_time))) <= 1)
      assert.are.same({ TOTAL = 1, SUCCEEDED = 1, FAILED = 0 }, j.output.task_metrics)
      assert.are.equal("number", type(j.usage.duration))
      assert.are.equal(math.floor(j.usage.duration), j.usage.duration)
    end)

    it("answers UNKNOWN for tasks it does not know or no longer keeps", function()
      local j, r = query("00000000-0000-4000-8000-000000000000")
      assert.are.equal(200, r.status)
      assert.are.same({ task_id = "00000000-0000-4000-8000-000000000000", task_status = "UNKNOWN" }, j.output)
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { wav("old", 1, "Old.") } } })
      config({ retention_s = 0 })
      sleep(0.01)
      assert.are.equal("UNKNOWN", query(id).output.task_status)
    end)

    it("accepts POST for queries too", function()
      local r = http(ds .. "/tasks/abc", { method = "POST", headers = { AUTH } })
      assert.are.equal(200, r.status)
      assert.are.equal("UNKNOWN", decode(r.body).output.task_status)
    end)

    it("cancels PENDING tasks only", function()
      config({ queue_ms = 60000 })
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { wav("c1", 1, "Cancel me.") } } })
      local r = http(ds .. "/tasks/" .. id .. "/cancel", { method = "POST", headers = { AUTH } })
      assert.are.equal(200, r.status)
      assert.truthy(decode(r.body).request_id)
      assert.are.equal("CANCELED", query(id).output.task_status)

      config({ queue_ms = 0, min_run_ms = 600000 })
      id = submit_ok({ model = "paraformer-v2", input = { file_urls = { wav("c2", 1, "Running.") } } })
      sleep(0.05)
      assert.are.equal("RUNNING", query(id).output.task_status)
      r = http(ds .. "/tasks/" .. id .. "/cancel", { method = "POST", headers = { AUTH } })
      assert.are.equal(400, r.status)
      assert.are.equal("UnsupportedOperation", decode(r.body).code)
      assert.are.equal("RUNNING", query(id).output.task_status)
    end)
  end)

  describe("DashScope results", function()
    it("paraformer-v2: result file shape, words, diarization, channels", function()
      local text = "Hello world, this is the simulator. It speaks in sentences! Does it?"
      local u = wav("para", 4, text)
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { u } },
        parameters = { diarization_enabled = true, channel_id = { 0, 1 } } })
      local j = wait_done(id)
      assert.are.equal("SUCCEEDED", j.output.task_status)
      local res = j.output.results[1]
      assert.are.equal(u, res.file_url)
      assert.are.equal("SUCCEEDED", res.subtask_status)
      local function esc(x) return (x:gsub("%p", "%%%0")) end
      assert.truthy(res.transcription_url:match("^" .. esc(url) ..
        "/oss/dashscope%-result/" .. esc(id) ..
        "/1%.json%?Expires=%d+&OSSAccessKeyId=LTAI5tSimulator&Signature=[%w%%]+$"))
      local doc, r = fetch_result(res.transcription_url)
      assert.are.equal(200, r.status)
      assert.falsy(r.body:find('":%-?%d+%.%d'), "all times are integers")
      assert.are.equal(u, doc.file_url)
      assert.are.same({ audio_format = "pcm_s16le", channels = { 0 }, original_sampling_rate = 16000,
        original_duration_in_milliseconds = 4000 }, doc.properties)
      assert.are.equal(2, #doc.transcripts)
      assert.are.equal(0, doc.transcripts[1].channel_id)
      assert.are.equal(1, doc.transcripts[2].channel_id)
      local t = doc.transcripts[1]
      assert.are.equal(text, t.text)
      assert.are.equal(3, #t.sentences)
      local total = 0
      for i, s in ipairs(t.sentences) do
        assert.are.equal(i, s.sentence_id)
        assert.are.equal((i - 1) % 2, s.speaker_id)
        assert.is_true(s.begin_time < s.end_time and s.end_time <= 4000)
        if i > 1 then assert.is_true(s.begin_time >= t.sentences[i - 1].end_time) end
        total = total + s.end_time - s.begin_time
        for k, w in ipairs(s.words) do
          assert.are.equal(math.floor(w.begin_time), w.begin_time)
          assert.is_true(w.begin_time <= w.end_time)
          if k > 1 then assert.are.equal(s.words[k - 1].end_time, w.begin_time) end
        end
      end
      assert.are.equal(total, t.content_duration_in_milliseconds)
      local w = t.sentences[1].words
      assert.are.same({ "Hello ", "", "world", ", " }, { w[1].text, w[1].punctuation, w[2].text, w[2].punctuation })
      assert.are.same({ "simulator", "." }, { w[#w].text, w[#w].punctuation })
      assert.are.equal("Hello world, this is the simulator.", t.sentences[1].text)
      -- usage.duration: speech seconds billed per requested channel
      assert.are.equal(math.ceil(2 * total / 1000), j.usage.duration)
    end)

    it("paraformer without diarization has no speaker_id; CJK splits per character", function()
      local u = wav("zh", 2, "今天天气很好。我们去公园吧！")
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } })
      local j = wait_done(id)
      local doc = fetch_result(j.output.results[1].transcription_url)
      local t = doc.transcripts[1]
      assert.are.equal("今天天气很好。我们去公园吧！", t.text)
      assert.are.equal(2, #t.sentences)
      assert.is_nil(t.sentences[1].speaker_id)
      assert.are.equal(6, #t.sentences[1].words)
      assert.are.same({ "好", "。" }, { t.sentences[1].words[6].text, t.sentences[1].words[6].punctuation })
    end)

    it("sensevoice-v1 batch of 3 with one 404: subtask FAILED, tags encoded as \\u003c", function()
      local a = wav("sv1", 2, "Senior staff and classmates. I am honored to speak today.",
        { sentences = { { emotion = "happy" }, { events = { "Applause" } } } })
      local b = wav("sv2", 1, "Second file.")
      local missing = url .. "/media/does-not-exist.wav"
      local id = submit_ok({ model = "sensevoice-v1", input = { file_urls = { a, missing, b } },
        parameters = { language_hints = { "en" } } })
      local j = wait_done(id)
      assert.are.equal("SUCCEEDED", j.output.task_status)
      assert.are.same({ TOTAL = 3, SUCCEEDED = 2, FAILED = 1 }, j.output.task_metrics)
      local failed = j.output.results[2]
      assert.are.same({ file_url = missing, code = "InvalidFile.DownloadFailed",
        message = "The audio file cannot be downloaded.", subtask_status = "FAILED" }, failed)
      assert.are.equal("SUCCEEDED", j.output.results[3].subtask_status)
      local doc, r = fetch_result(j.output.results[1].transcription_url)
      assert.truthy(r.body:find("\\u003c|Speech|\\u003e", 1, true))
      assert.falsy(r.body:find("<", 1, true))
      local s = doc.transcripts[1].sentences
      assert.are.equal(2, #s)
      assert.are.equal("<|Speech|> Senior staff and classmates. <|/Speech|> <|HAPPY|>", s[1].text)
      assert.are.equal("<|Applause|> <|Speech|> I <|/Applause|> am honored to speak today. <|/Speech|> <|NEUTRAL|>",
        s[2].text)
      assert.is_nil(s[1].words)
      assert.is_nil(s[1].sentence_id)
      assert.are.equal(s[1].text .. s[2].text, doc.transcripts[1].text)
    end)

    it("qwen3-asr-flash-filetrans: output.result, usage.seconds, 0-based sentences", function()
      local u = wav("qw", 3, "First sentence here. Second one!")
      local id = submit_ok({ model = "qwen3-asr-flash-filetrans", input = { file_url = u },
        parameters = { channel_id = { 0 }, enable_itn = false } })
      local j = wait_done(id)
      assert.are.equal("SUCCEEDED", j.output.task_status)
      assert.is_nil(j.output.results)
      assert.are.equal(3, j.usage.seconds)
      assert.is_nil(j.usage.duration)
      local doc = fetch_result(j.output.result.transcription_url)
      assert.are.same({ format = "wav", sample_rate = 16000 }, doc.audio_info)
      local t = doc.transcripts[1]
      assert.are.equal("First sentence here.Second one!", t.text)
      assert.are.equal(0, t.sentences[1].sentence_id)
      assert.are.equal(1, t.sentences[2].sentence_id)
      assert.are.equal("en", t.sentences[1].language)
      assert.are.equal("neutral", t.sentences[1].emotion)
      assert.is_nil(t.sentences[1].words)

      id = submit_ok({ model = "qwen3-asr-flash-filetrans", input = { file_url = u },
        parameters = { enable_words = true } })
      doc = fetch_result(wait_done(id).output.result.transcription_url)
      assert.are.equal("First ", doc.transcripts[1].sentences[1].words[1].text)
    end)

    it("qwen failure is task-level FAILED with a FILE_* code", function()
      local id = submit_ok({ model = "qwen3-asr-flash-filetrans", input = { file_url = url .. "/media/nope.wav" } })
      local j = wait_done(id)
      assert.are.equal("FAILED", j.output.task_status)
      assert.are.equal("FILE_404_NOT_FOUND", j.output.code)
      assert.truthy(j.output.message)
      assert.truthy(j.output.end_time)
      assert.is_nil(j.output.result)
    end)

    it("all files failed: task FAILED with the first failure's code", function()
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = {
        url .. "/_t/bytes?n=5000", "http://192.0.2.1/a.wav", url .. "/media/gone.wav" } } })
      local j = wait_done(id)
      assert.are.equal("FAILED", j.output.task_status)
      assert.are.equal("InvalidFile.DecodeFailed", j.output.code)
      assert.are.equal("The audio file cannot be decoded.", j.output.message)
      assert.are.equal("InvalidFile.DownloadFailed", j.output.results[2].code)   -- never contacted
      assert.are.same({ TOTAL = 3, SUCCEEDED = 0, FAILED = 3 }, j.output.task_metrics)
    end)

    it("media without a reference text has no valid fragment", function()
      local u = wav("silent", 1)
      local j = wait_done(submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } }))
      assert.are.equal("FAILED", j.output.task_status)
      assert.are.equal("SUCCESS_WITH_NO_VALID_FRAGMENT", j.output.results[1].code)
    end)

    it("reads WAV and MP3 durations (within 30 ms)", function()
      local u = wav("dur", 2.5, "Duration.")
      local doc = fetch_result(wait_done(submit_ok({ model = "paraformer-v2",
        input = { file_urls = { u } } })).output.results[1].transcription_url)
      assert.is_true(math.abs(doc.properties.original_duration_in_milliseconds - 2500) <= 30)
      if not HAVE_FFMPEG then return pending("ffmpeg not installed: MP3 duration not tested") end
      local m = mp3("dur", 2, "An MP3 file.")
      doc = fetch_result(wait_done(submit_ok({ model = "paraformer-v2",
        input = { file_urls = { m } } })).output.results[1].transcription_url)
      assert.are.equal("mp3", doc.properties.audio_format)
      assert.are.equal(16000, doc.properties.original_sampling_rate)
      assert.is_true(math.abs(doc.properties.original_duration_in_milliseconds - 2000) <= 30,
        "mp3 duration " .. doc.properties.original_duration_in_milliseconds)
    end)

    it("result URLs refuse Authorization headers, bad signatures and expiry", function()
      local u = wav("sig", 1, "Signed.")
      local j = wait_done(submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } }))
      local ru = j.output.results[1].transcription_url
      local _, r = fetch_result(ru, { AUTH })
      assert.are.equal(400, r.status)
      assert.truthy(r.body:find("^<%?xml"))
      assert.truthy(r.body:find("<Code>InvalidArgument</Code>", 1, true))
      assert.truthy(r.body:find("Authorization header is invalid.", 1, true))
      _, r = fetch_result((ru:gsub("Signature=", "Signature=AAAA")))
      assert.are.equal(403, r.status)
      assert.truthy(r.body:find("<Code>SignatureDoesNotMatch</Code>", 1, true))
      _, r = fetch_result((ru:gsub("Expires=(%d+)", function(e) return "Expires=" .. (e + 1) end)))
      assert.are.equal(403, r.status)
      assert.truthy(r.body:find("SignatureDoesNotMatch", 1, true))
      local s = stats()
      assert.are.equal(3, s.result_fetches)
      assert.are.equal(1, s.result_fetch_auth_rejected)
      assert.falsy(s.last_headers.authorization)

      config({ result_ttl_s = -5 })
      j = query(j.output.task_id)
      _, r = fetch_result(j.output.results[1].transcription_url)
      assert.are.equal(403, r.status)
      assert.truthy(r.body:find("<Code>AccessDenied</Code>", 1, true))
      assert.truthy(r.body:find("Request has expired.", 1, true))
    end)

    it("serves results on the TLS listener with https URLs", function()
      local u = wav("tls", 1, "Over TLS.")
      local r = http(tls_url .. "/dashscope/api/v1/services/audio/asr/transcription", { method = "POST",
        headers = { AUTH, ASYNC }, json = { model = "paraformer-v2", input = { file_urls = { u } } }, extra = "-k" })
      local id = decode(r.body).output.task_id
      local out
      for _ = 1, 100 do
        r = http(tls_url .. "/dashscope/api/v1/tasks/" .. id, { headers = { AUTH }, extra = "-k --http2" })
        out = decode(r.body).output
        if out.task_status == "SUCCEEDED" then break end
        sleep(0.02)
      end
      local ru = out.results[1].transcription_url
      assert.truthy(ru:find("^https://"))
      assert.are.equal(200, http(ru, { extra = "-k" }).status)
    end)

    it("hands result URLs out on config.result_base_url", function()
      config({ result_base_url = "http://nonexistent.invalid:1/" })
      local u = wav("elsewhere", 1, "Elsewhere.")
      local j = wait_done(submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } }))
      local ru = j.output.results[1].transcription_url
      assert.truthy(ru:find("^http://nonexistent%.invalid:1/oss/dashscope%-result/"), ru)
      -- the same object and signature, served by this simulator
      local r = http((ru:gsub("^http://nonexistent%.invalid:1", url)))
      assert.are.equal(200, r.status)
      assert.are.equal("Elsewhere.", decode(r.body).transcripts[1].text)
      config({ result_base_url = cjson.null })
      j = query(j.output.task_id)
      assert.truthy(j.output.results[1].transcription_url:find(url, 1, true) == 1)
    end)
  end)

  describe("DashScope model families, oss://, filters, workspaces", function()
    it("knows models by exact name: dated snapshots and qwen-audio filetrans (file_urls) too", function()
      local u = wav("fam", 1, "Families.")
      for _, m in ipairs({ "fun-asr-mtl", "fun-asr-2025-11-07", "qwen-audio-3.0-asr-flash-filetrans",
                           "qwen-audio-3.1-asr-flash-filetrans", "paraformer-mtl-v1" }) do
        local j = wait_done(submit_ok({ model = m, input = { file_urls = { u } } }))
        assert.are.equal("SUCCEEDED", j.output.task_status, m)
      end
      local j = wait_done(submit_ok({ model = "qwen3-asr-flash-filetrans-2025-11-17", input = { file_url = u } }))
      assert.are.equal("SUCCEEDED", j.output.task_status)
      for _, c in ipairs({ { "paraformer-realtime-v2", "Model not exist" }, { "qwen3-asr-flash", "Model not exist" },
                           { "fun-asr-flash-2026-06-15", "Model not exist" },
                           { "qwen-audio-3.0-asr-flash-filetrans", "file_urls", true } }) do
        local input = c[3] and { file_url = u } or { file_urls = { u } }
        local jj, r = submit({ model = c[1], input = input })
        assert.are.equal(400, r.status, c[1])
        assert.truthy(jj.message:find(c[2], 1, true), jj.message)
      end
    end)

    it("resolves oss://<key> to <media dir>/oss/<key> only with X-DashScope-OssResourceResolve: enable", function()
      os.execute("mkdir -p " .. q(dir .. "/media/oss/dashscope-instant/k1"))
      local src = wav("oss_src", 2, "From temporary storage.")
      assert(src)
      spit(dir .. "/media/oss/dashscope-instant/k1/a.wav", slurp(dir .. "/media/oss_src.wav"))
      spit(dir .. "/media/oss/dashscope-instant/k1/a.txt", "From temporary storage.")
      local OSS = "oss://dashscope-instant/k1/a.wav"
      local RESOLVE = "X-DashScope-OssResourceResolve: enable"
      local j, r = submit({ model = "paraformer-v2", input = { file_urls = { OSS } } }, { AUTH, ASYNC, RESOLVE })
      assert.are.equal(200, r.status)
      local done = wait_done(j.output.task_id)
      assert.are.equal("SUCCEEDED", done.output.task_status)
      assert.are.equal(OSS, done.output.results[1].file_url)
      local doc = fetch_result(done.output.results[1].transcription_url)
      assert.are.equal("From temporary storage.", doc.transcripts[1].text)
      -- without the header: the file fails like an undownloadable one (the real answer is UNCONFIRMED)
      done = wait_done(submit_ok({ model = "paraformer-v2", input = { file_urls = { OSS } } }))
      assert.are.equal("FAILED", done.output.task_status)
      assert.are.equal("InvalidFile.DownloadFailed", done.output.results[1].code)
      done = wait_done(submit_ok({ model = "qwen3-asr-flash-filetrans", input = { file_url = OSS } }))
      assert.are.same({ "FAILED", "FILE_DOWNLOAD_FAILED" }, { done.output.task_status, done.output.code })
      -- a key that climbs out of oss/ resolves to nothing
      j = submit({ model = "paraformer-v2", input = { file_urls = { "oss://../oss_src.wav" } } },
        { AUTH, ASYNC, RESOLVE })
      done = wait_done(j.output.task_id)
      assert.are.equal("InvalidFile.DownloadFailed", done.output.results[1].code)
    end)

    it("applies parameters.special_word_filter, which must be a JSON string", function()
      local u = wav("swf", 3, "The secret word is here. Remove this now.")
      local filter = '{"filter_with_signed":{"word_list":["secret"]},"filter_with_empty":{"word_list":[" now"]}}'
      local done = wait_done(submit_ok({ model = "fun-asr", input = { file_urls = { u } },
        parameters = { special_word_filter = filter } }))
      local doc = fetch_result(done.output.results[1].transcription_url)
      local t = doc.transcripts[1]
      assert.are.equal("The ****** word is here. Remove this.", t.text)
      assert.are.equal("****** ", t.sentences[1].words[2].text)      -- a word keeps its trailing space
      for _, bad in ipairs({ { system_reserved_filter = true }, "not json", 5 }) do
        local j, r = submit({ model = "paraformer-v2", input = { file_urls = { u } },
          parameters = { special_word_filter = bad } })
        assert.are.equal(400, r.status)
        assert.truthy(j.message:find("special_word_filter", 1, true))
      end
    end)

    it("counts X-DashScope-WorkSpace per operation; config.workspaces refuses others with 404", function()
      local u = wav("ws", 1, "Workspace.")
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } })
      query(id)
      config({ workspaces = { "ws-1" } })
      local WS = "X-DashScope-WorkSpace: ws-1"
      local j, r = submit({ model = "paraformer-v2", input = { file_urls = { u } } }, { AUTH, ASYNC, WS })
      assert.are.equal(200, r.status)
      query(j.output.task_id, { AUTH, WS })
      r = http(ds .. "/tasks", { headers = { AUTH, WS } })
      assert.are.equal(200, r.status)
      local s = stats().dashscope_workspace
      assert.are.same({ 1, 1, 1, 1, 1 },
        { s["submit -"], s["query -"], s["submit ws-1"], s["query ws-1"], s["list ws-1"] })
      j, r = submit({ model = "paraformer-v2", input = { file_urls = { u } } },
        { AUTH, ASYNC, "X-DashScope-WorkSpace: ws-2" })
      assert.are.equal(404, r.status)
      assert.are.same({ "WorkSpaceNotFound", "WorkSpace can not be found." }, { j.code, j.message })
      j, r = query(id, { AUTH, "X-DashScope-WorkSpace: ws-2" })
      assert.are.same({ 404, "WorkSpaceNotFound" }, { r.status, j.code })
    end)

    it("config.succeeded_without_results: SUCCEEDED with no results in the SDK's wrapper, N times", function()
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { wav("nores", 1, "No results yet.") } } })
      advance(id, "done")
      config({ succeeded_without_results = 1 })
      local r = http(ds .. "/tasks/" .. id, { headers = { AUTH } })
      local j = decode(r.body)
      assert.are.equal(200, r.status)
      assert.are.same({ 200, cjson.null, "", cjson.null, "SUCCEEDED" },
        { j.status_code, j.code, j.message, j.usage, j.output.task_status })
      assert.is_nil(j.output.results)
      j = query(id)
      assert.are.equal("SUCCEEDED", j.output.task_status)
      assert.are.equal(1, #j.output.results)
    end)
  end)

  describe("DashScope task list", function()
    local function list(qs, headers)
      local r = http(ds .. "/tasks" .. (qs or ""), { headers = headers or { AUTH } })
      return decode(r.body), r
    end

    it("lists the key's tasks newest first, shaped like the SDK's AsyncTaskInfo", function()
      config({ queue_ms = 60000 })
      local u = wav("lst", 1, "Listed.")
      local j1 = submit({ model = "paraformer-v2", input = { file_urls = { u } } })
      sleep(0.01)
      local j2 = submit({ model = "fun-asr", input = { file_urls = { u } } })
      advance(j1.output.task_id, "done")
      local j, r = list()
      assert.are.equal(200, r.status)
      assert.truthy(j.request_id)
      assert.are.same({ 2, 1, 1, 10 }, { j.total, j.total_page, j.page_no, j.page_size })
      local a, b = j.data[1], j.data[2]
      assert.are.same({ j2.output.task_id, "PENDING", "fun-asr", j2.request_id },
        { a.task_id, a.status, a.model_name, a.request_id })
      assert.is_nil(a.start_time)
      assert.is_nil(a.end_time)
      assert.are.same({ j1.output.task_id, "SUCCEEDED", "paraformer-v2" }, { b.task_id, b.status, b.model_name })
      for _, it in ipairs({ a, b }) do
        assert.are.equal(math.floor(it.gmt_create), it.gmt_create)
        assert.is_true(math.abs(it.gmt_create / 1000 - now()) < 120)
        assert.are.equal("cn-beijing", it.region)
      end
      assert.is_true(b.start_time >= b.gmt_create and b.end_time >= b.start_time)
      -- another key (another account) sees none of them
      config({ keys = { KEY, "sk-other" } })
      j = list(nil, { "Authorization: Bearer sk-other" })
      assert.are.same({ 0, 0 }, { j.total, #j.data })
      assert.truthy(r.body:find('"data":[', 1, true))
    end)

    it("filters by status, model_name and start/end time (Beijing), pages, refuses bad parameters", function()
      config({ queue_ms = 60000 })
      local u = wav("lst2", 1, "Listed.")
      local ids = {}
      for i = 1, 3 do ids[i] = submit_ok({ model = i == 3 and "sensevoice-v1" or "paraformer-v2",
                                           input = { file_urls = { u } } }) end
      assert.are.equal(2, list("?status=PENDING&model_name=paraformer-v2").total)
      assert.are.equal(0, list("?status=SUCCEEDED").total)
      assert.are.equal(ids[3], list("?model_name=sensevoice-v1").data[1].task_id)
      local p = list("?page_no=2&page_size=2")
      assert.are.same({ 3, 2, 2, 1 }, { p.total, p.total_page, p.page_no, #p.data })
      local function bj(t) return os.date("!%Y%m%d%H%M%S", math.floor(t) + 8 * 3600) end
      local t = now()
      assert.are.equal(3, list("?start_time=" .. bj(t - 600) .. "&end_time=" .. bj(t + 600)).total)
      assert.are.equal(0, list("?start_time=" .. bj(t + 600)).total)
      assert.are.equal(0, list("?end_time=" .. bj(t - 600)).total)
      for _, qs in ipairs({ "?page_no=0", "?page_size=101", "?page_size=x", "?start_time=2024-01-01",
                            "?end_time=20241301000000", "?status=DONE" }) do
        local j, r = list(qs)
        assert.are.equal(400, r.status, qs)
        assert.are.equal("InvalidParameter", j.code)
      end
    end)
  end)

  describe("throttling", function()
    it("limits queries per key per second with 429 Throttling.RateQuota", function()
      config({ rate_limit = { submit = 2, query = 3 } })
      local codes = {}
      for i = 1, 10 do codes[i] = select(2, query("t" .. i)) end
      assert.are.equal(200, codes[1].status)
      local limited
      for _, r in ipairs(codes) do if r.status == 429 then limited = r end end
      assert.truthy(limited, "no 429 seen")
      local j = decode(limited.body)
      assert.are.equal("Throttling.RateQuota", j.code)
      assert.are.equal("Requests rate limit exceeded, please try again later.", j.message)
      config({ rate_limit = cjson.null })
      assert.are.equal(200, select(2, query("after")).status)
    end)
  end)

  describe("faults", function()
    local target = function() return ds .. "/tasks/f" end

    local function one(kind, extra)
      local f = { path = "/dashscope/api/v1/tasks", type = kind }
      for k, v in pairs(extra or {}) do f[k] = v end
      fault(f)
      return http(target(), { headers = { AUTH } })
    end

    it("429 and 500 are DashScope-shaped", function()
      local r = one("429", { retry_after = 2 })
      assert.are.equal(429, r.status)
      assert.are.equal("2", r.headers["retry-after"])
      assert.are.equal("Throttling", decode(r.body).code)
      r = one("500")
      assert.are.equal(500, r.status)
      assert.are.equal("InternalError", decode(r.body).code)
    end)

    it("502/503/504 are gateway text, html is a 502 page", function()
      for _, code in ipairs({ 502, 503, 504 }) do
        local r = one(tostring(code), { retry_after = 3 })
        assert.are.equal(code, r.status)
        assert.truthy(r.headers["content-type"]:find("text/plain", 1, true))
        assert.is_nil(decode(r.body))
        if code == 503 then assert.are.equal("3", r.headers["retry-after"]) end
      end
      local r = one("html")
      assert.are.equal(502, r.status)
      assert.truthy(r.headers["content-type"]:find("text/html", 1, true))
      assert.truthy(r.body:find("<html>", 1, true))
    end)

    it("reset closes without an answer, truncated cuts the body", function()
      local r = one("reset")
      assert.are.equal(52, r.rc)   -- empty reply from server
      r = one("truncated")
      assert.are.equal(18, r.rc)   -- partial file
      assert.truthy(r.stderr:find("transfer closed with %d+ bytes remaining"))
    end)

    it("malformed, empty and slow", function()
      local r = one("malformed")
      assert.are.equal(200, r.status)
      assert.is_nil(decode(r.body))
      r = one("empty")
      assert.are.equal(200, r.status)
      assert.are.equal("", r.body)
      r = one("slow", { delay_ms = 300 })
      assert.are.equal(200, r.status)
      assert.is_true(r.time >= 0.29)
      assert.are.equal("UNKNOWN", decode(r.body).output.task_status)
    end)

    it("applies to the next N matching requests only, honouring method", function()
      fault({ path = "^/dashscope/api/v1/tasks/[^/]+$", method = "POST", type = "500", count = 2 })
      assert.are.equal(200, http(target(), { headers = { AUTH } }).status)       -- GET: no match
      assert.are.equal(500, http(target(), { method = "POST", headers = { AUTH } }).status)
      assert.are.equal(500, http(target(), { method = "POST", headers = { AUTH } }).status)
      assert.are.equal(200, http(target(), { method = "POST", headers = { AUTH } }).status)
      assert.are.equal(2, stats().faults_applied)
    end)

    it("make a media download fail", function()
      local u = wav("flaky", 1, "Flaky.")
      fault({ path = "/media/flaky.wav", type = "reset" })
      local j = wait_done(submit_ok({ model = "paraformer-v2", input = { file_urls = { u } } }))
      assert.are.equal("InvalidFile.DownloadFailed", j.output.results[1].code)
    end)

    it("content_type: the normal answer (status, body) with another Content-Type", function()
      local plain = http(target(), { headers = { AUTH } })
      for _, ct in ipairs({ "text/html; charset=utf-8", "application/octet-stream" }) do
        local r = one("content_type", { content_type = ct })
        assert.are.equal(ct, r.headers["content-type"])
        assert.are.equal(plain.status, r.status)
        assert.are.equal("UNKNOWN", decode(r.body).output.task_status)
      end
      assert.are.equal("text/plain", one("content_type").headers["content-type"])
      assert.are.equal("application/json", http(target(), { headers = { AUTH } }).headers["content-type"])
      local j, r = fault({ path = "/x", type = "content_type", content_type = "a\r\nX-Evil: 1" })
      assert.are.equal(400, r.status)
      assert.truthy(j.error)
    end)

    it("rejects unknown fault types", function()
      local j, r = fault({ path = "/x", type = "explode" })
      assert.are.equal(400, r.status)
      assert.truthy(j.error)
    end)
  end)

  describe("control API", function()
    it("merges config, resets to defaults and shows task records", function()
      local c = config({ rtf = 0.5 })
      assert.are.equal(0.5, c.rtf)
      assert.are.equal(86400, c.result_ttl_s)
      local id = submit_ok({ model = "paraformer-v2", input = { file_urls = { wav("rec", 1, "Record.") } } })
      local rec, r = control("GET", "/_sim/tasks/" .. id)
      assert.are.equal(200, r.status)
      assert.are.equal(id, rec.id)
      assert.are.equal("paraformer-v2", rec.model)
      control("POST", "/_sim/reset")
      c = control("GET", "/_sim/config")
      assert.are.same({ "sk-sim-valid-key-0001", "sk-demo" }, c.keys)
      assert.are.equal(0.1, c.rtf)
      assert.are.equal(100, c.queue_ms)
      assert.are.equal(404, select(2, control("GET", "/_sim/tasks/" .. id)).status)
      assert.are.same({}, stats().submissions)
    end)

    it("records the last provider request's headers", function()
      query("h", { AUTH, "X-Custom: yes" })
      local h = stats().last_headers
      assert.are.equal("yes", h["x-custom"])
      assert.are.equal("Bearer " .. KEY, h.authorization)
    end)
  end)

  describe("/_t/ helpers", function()
    it("echo shows method, args, headers and body", function()
      local r = http(url .. "/_t/echo?a=1&b=two", { method = "PUT", body = "payload", headers = { "X-Y: z" } })
      local j = decode(r.body)
      assert.are.equal("PUT", j.method)
      assert.are.equal("/_t/echo?a=1&b=two", j.uri)
      assert.are.same({ a = "1", b = "two" }, j.args)
      assert.are.equal("z", j.headers["x-y"])
      assert.are.equal("payload", j.body)
      assert.are.equal(1.1, j.http_version)
    end)

    it("conn shows keep-alive reuse", function()
      local out = sh("curl -s " .. q(url .. "/_t/conn") .. " " .. q(url .. "/_t/conn"))
      local a, b = out:match("^(%b{})(%b{})$")
      a, b = decode(a), decode(b)
      assert.are.equal(a.connection, b.connection)
      assert.are.equal(1, a.requests)
      assert.are.equal(2, b.requests)
    end)

    it("bytes, delay, trickle, status", function()
      local r = http(url .. "/_t/bytes?n=100000")
      assert.are.equal(100000, #r.body)
      assert.are.equal("100000", r.headers["content-length"])
      r = http(url .. "/_t/delay?ms=200")
      assert.are.equal("ok", r.body)
      assert.is_true(r.time >= 0.19)
      r = http(url .. "/_t/trickle?n=3&ms=100")
      assert.are.equal("xxx", r.body)
      assert.are.equal("chunked", r.headers["transfer-encoding"])
      assert.is_true(r.time >= 0.19)
      r = http(url .. "/_t/trickle?n=20&ms=100", { extra = "--max-time 0.3" })
      assert.are.equal(28, r.rc)   -- total timeout
      r = http(url .. "/_t/status?code=503&retry_after=7")
      assert.are.equal(503, r.status)
      assert.are.equal("7", r.headers["retry-after"])
    end)

    it("serves media files as octet-stream", function()
      wav("plain", 0.5)
      local r = http(url .. "/media/plain.wav")
      assert.are.equal(200, r.status)
      assert.are.equal("application/octet-stream", r.headers["content-type"])
      assert.are.equal(44 + 16000, #r.body)
    end)
  end)

  it("logged no Lua errors while doing all that", function()
    local log = slurp(dir .. "/logs/error.log") or ""
    local bad = {}
    for line in log:gmatch("[^\n]+") do
      if line:find("%[error%]") or line:find("%[alert%]") or line:find("%[crit%]")
        or line:find("lua entry thread aborted", 1, true) or line:find("runtime error", 1, true) then
        bad[#bad + 1] = line
      end
    end
    assert.are.same({}, bad)
  end)
end)
