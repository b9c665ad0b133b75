-- Volcengine big-model file API (openspeech AUC v3) wire schema: csrc/providers/volcengine_auc.c
-- (+ volcengine_common.c) through core.build / core.parse. Pure: no network. Shapes from
-- docs/providers.md#volcengine-auc.
local core = require "stt.core"

local P = "volcengine-auc"
local APP = "app-TEST-1234-SECRET"
local ACCESS = "acc-TEST-5678-SECRET"
local BASE = "https://openspeech.bytedance.com/api/v3"
local A = "https://example.com/audio/a.mp3"
local RID = "5b0c4c2e-8b3a-4b8e-9a51-3f1b8f0c1d2e"

local S = require("schema_helper").new {
  provider = P, secrets = { app_key = APP, access_key = ACCESS },
  secret_headers = { ["X-Api-App-Key"] = true, ["X-Api-Access-Key"] = true },
  submit_defaults = { request_id = RID },
}
local build, submit, assert_no_secret = S.build, S.submit, S.assert_no_secret

-- the status of this API is in headers (x-api-status-code), so tests here give headers first;
-- `extra` may still replace them
local function parse(kind, status, headers, body, extra)
  local fields = { headers = headers }
  for k, v in pairs(extra or {}) do fields[k] = v end
  return S.parse(kind, status, body or "", fields)
end

local LOGID = "202407261553070FACFE6D19421815D605"
local function code(c, msg) return { ["x-api-status-code"] = c, ["x-api-message"] = msg, ["x-tt-logid"] = LOGID } end

describe("volcengine-auc schema", function()
  describe("build", function()
    it("a submit without a job is an invalid error in every mode, not a raised out-of-memory", function()
      for _, mode in ipairs({ "standard", "idle", "flash" }) do
        local req, err = build("submit", { mode = mode, request_id = RID })
        assert.is_nil(req)
        assert.equal("invalid", err.kind, mode)
      end
    end)

    it("submit: POST {base}/auc/bigmodel/submit, the doc's headers in order, {audio, request}", function()
      local req = assert(submit({ url = A }))
      assert.equal("POST", req.method)
      assert.equal(BASE .. "/auc/bigmodel/submit", req.url)
      assert.same({
        { "X-Api-App-Key", APP }, { "X-Api-Access-Key", ACCESS }, { "X-Api-Resource-Id", "volc.bigasr.auc" },
        { "X-Api-Request-Id", RID }, { "X-Api-Sequence", "-1" }, { "Content-Type", "application/json" },
      }, req.headers)
      assert.equal('{"audio":{"url":"' .. A .. '","format":"mp3"},'
        .. '"request":{"model_name":"bigmodel","enable_itn":true,"show_utterances":true}}', req.body)
    end)

    it("seedasr -> volc.seedasr.auc; the same options as LAS, at the body root", function()
      local req = assert(submit({ url = A, model = "seedasr", punctuation = true, speakers = 2, language = "ko",
        hotwords = { "豆包" }, extra = { callback = "https://cb.example/x", request = { model_version = "400" } } }))
      assert.equal("volc.seedasr.auc", req.headers[3][2])
      assert.equal('{"audio":{"url":"' .. A .. '","format":"mp3","language":"ko-KR"},'
        .. '"request":{"model_name":"bigmodel","enable_itn":true,"show_utterances":true,"enable_punc":true,'
        .. '"enable_speaker_info":true,"corpus":{"context":"{\\"hotwords\\":[{\\"word\\":\\"豆包\\"}]}"},'
        .. '"model_version":"400"},"callback":"https://cb.example/x"}', req.body)
    end)

    it("submit needs the client-chosen request id; base_url loses one trailing slash", function()
      local _, err = build("submit", { job = { url = A } })
      assert.equal("invalid", err.kind)
      assert.matches("request_id", err.message)
      _, err = submit({ url = A }, { request_id = "has space" })
      assert.equal("invalid", err.kind)
      assert.equal("http://127.0.0.1:9/auc/api/v3/auc/bigmodel/submit",
        submit({ url = A }, { base_url = "http://127.0.0.1:9/auc/api/v3/" }).url)
    end)

    it("both keys are required, reported without their values", function()
      local _, err = submit({ url = A }, { app_key = false })
      assert.equal("auth", err.kind)
      assert.matches("app key", err.message)
      _, err = submit({ url = A }, { access_key = false })
      assert.equal("auth", err.kind)
      assert.matches("access key", err.message)
      _, err = core.build(P, "submit", { app_key = APP, access_key = ACCESS .. "\nX: 1", request_id = RID,
        job = { url = A } })
      assert.equal("auth", err.kind)
      assert_no_secret(err)
    end)

    it("query: POST {base}/auc/bigmodel/query, the task id as X-Api-Request-Id, body {}", function()
      local req = assert(build("poll", { task = { id = RID, model = "seedasr" } }))
      assert.equal("POST", req.method)
      assert.equal(BASE .. "/auc/bigmodel/query", req.url)
      assert.same({
        { "X-Api-App-Key", APP }, { "X-Api-Access-Key", ACCESS }, { "X-Api-Resource-Id", "volc.seedasr.auc" },
        { "X-Api-Request-Id", RID }, { "Content-Type", "application/json" },
      }, req.headers)
      assert.equal("{}", req.body)
      assert.equal("volc.bigasr.auc", build("poll", { task = { id = RID } }).headers[3][2])
      assert.equal("volc.seedasr.auc", build("poll", { model = "seedasr", task = { id = RID } }).headers[3][2])
      local _, err = build("poll", { task = {} })
      assert.equal("invalid", err.kind)
    end)

    it("unsupported options, models and ops; hotwords op", function()
      local _, err = submit({ url = A, phrase_id = "p" })
      assert.equal("unsupported", err.kind)
      assert.equal('option "phrase_id" is not supported by volcengine-auc model "bigasr"', err.message)
      _, err = submit({ url = A }, { model = "bigasr-turbo" })
      assert.equal("unsupported", err.kind)
      _, err = submit({ urls = { A, A } })
      assert.equal("unsupported", err.kind)
      _, err = build("cancel", { task = { id = RID } })
      assert.equal("unsupported", err.kind)
      local out = assert(core.build(P, "hotwords", { model = "seedasr", hotwords = { { word = "a", weight = 2 } } }))
      assert.same({ field = "request.corpus.context", value = '{"hotwords":[{"word":"a"}]}' }, out)
    end)
  end)

  describe("parse", function()
    it("submit: empty body + 20000000 -> the request id we sent is the task id", function()
      local t = assert(parse("submit", 200, code("20000000", "OK"), "", { request_id = RID }))
      assert.same({ id = RID, state = "queued", request_id = "202407261553070FACFE6D19421815D605" }, t)
      local _, err = parse("submit", 200, code("20000000", "OK"), "")
      assert.equal("invalid", err.kind)
      -- processing / queued also mean the task exists
      assert.equal(RID, parse("submit", 200, code("20000002", "queued"), "", { request_id = RID }).id)
    end)

    it("the header decides, not the HTTP status", function()
      local _, err = parse("submit", 200, code("45000151", "audio format invalid"), "", { request_id = RID })
      assert.equal("invalid", err.kind)
      assert.equal("45000151", err.code)
      assert.matches("audio format invalid", err.message)
      assert.equal("202407261553070FACFE6D19421815D605", err.request_id)
      assert.is_false(err.retryable)
      local st = assert(parse("poll", 500, code("20000001", "processing")))
      assert.equal("running", st.state)
    end)

    it("45000001 for a reused request id sets duplicate = true; other 45000001 do not", function()
      local _, err = parse("submit", 400, code("45000001", "duplicate request id"), "", { request_id = RID })
      assert.equal("invalid", err.kind)
      assert.is_true(err.duplicate)
      _, err = parse("submit", 400, code("45000001", "Request Is Duplicated"), "", { request_id = RID })
      assert.is_true(err.duplicate)
      _, err = parse("submit", 400, code("45000001", "missing field audio.url"), "", { request_id = RID })
      assert.equal("invalid", err.kind)
      assert.is_nil(err.duplicate)
      _, err = parse("poll", 200, code("45000002", "empty audio"))
      assert.equal("invalid", err.kind)
      _, err = parse("submit", 400, code("45000002", "x"), "", { request_id = RID })
      assert.equal(400, err.status)
    end)

    it("a 45xxxxxx code with HTTP 401/403 or 404 is auth / not_found (codes UNCONFIRMED)", function()
      local _, err = parse("submit", 401, code("45000010", "invalid auth"), "", { request_id = RID })
      assert.same({ "auth", "45000010", false }, { err.kind, err.code, err.retryable })
      _, err = parse("poll", 404, code("45000001", "task not found"))
      assert.same({ "not_found", "45000001" }, { err.kind, err.code })
      assert.is_nil(err.duplicate)
    end)

    it("55000031 busy is throttled; other 550xxxxx server errors; both retryable", function()
      local _, err = parse("submit", 503, code("55000031", "server busy"), "",
        { request_id = RID, headers = { ["x-api-status-code"] = "55000031", ["retry-after"] = "2" } })
      assert.equal("throttled", err.kind)
      assert.is_true(err.retryable)
      assert.equal(2, err.retry_after)
      _, err = parse("poll", 500, code("55000001", "internal"))
      assert.equal("server", err.kind)
      assert.is_true(err.retryable)
      _, err = parse("poll", 200, code("12345678", "odd"))
      assert.equal("protocol", err.kind)
      assert.is_false(err.retryable)
    end)

    it("no status header: the HTTP status decides", function()
      local _, err = parse("poll", 401, {}, '{"error":"unauthorized"}')
      assert.equal("auth", err.kind)
      assert.matches("unauthorized", err.message)
      _, err = parse("poll", 429, {})
      assert.equal("throttled", err.kind)
      _, err = parse("poll", 200, {}, "")
      assert.equal("protocol", err.kind)
      assert.is_true(err.retryable)
    end)

    it("query: 20000002 queued, 20000001 running (body ignored)", function()
      assert.same({ state = "queued", provider_state = "20000002", request_id = "202407261553070FACFE6D19421815D605" },
        parse("poll", 200, code("20000002", "queued"), "{}"))
      assert.equal("running", parse("poll", 200, code("20000001"), "").state)
    end)

    it("query: 20000003 silent audio is a success whose Result says silent = true", function()
      local st = assert(parse("poll", 200, code("20000003", "silence"), "", { task = { id = RID, model = "seedasr" } }))
      assert.equal("succeeded", st.state)
      assert.equal("20000003", st.provider_state)
      assert.same({ provider = P, model = "seedasr", task_id = RID, text = "", silent = true, segments = {} },
        st.result)
      -- a JSON body beside the code (UNCONFIRMED) is kept as raw, its duration read; text stays empty
      st = assert(parse("poll", 200, code("20000003", "silence"),
        '{"audio_info":{"duration":3000},"result":{"text":"","additions":{"duration":"3000"}}}',
        { task = { id = RID } }))
      local r = st.result
      assert.same({ true, "", 3000, 0 }, { r.silent, r.text, r.duration_ms, #r.segments })
      assert.same({ audio_ms = 3000 }, st.usage)
      assert.equal(3000, st.result.raw.audio_info.duration)
      -- an unreadable body changes nothing
      assert.is_true(assert(parse("poll", 200, code("20000003"), "{oops", { task = { id = RID } })).result.silent)
      -- a finished task with speech is not marked
      assert.is_nil(assert(parse("result", 200, {}, '{"result":{"text":"x"}}')).silent)
    end)

    it("45000002 empty audio is invalid and says so, with or without X-Api-Message", function()
      local _, err = parse("poll", 400, code("45000002", nil), "", { task = { id = RID } })
      assert.same({ "invalid", "45000002", false }, { err.kind, err.code, err.retryable })
      assert.equal("volcengine-auc 45000002 (empty audio): (no X-Api-Message)", err.message)
      _, err = parse("submit", 400, code("45000002", "audio is empty"), "", { request_id = RID })
      assert.equal("volcengine-auc 45000002 (empty audio): audio is empty", err.message)
      _, err = parse("poll", 400, code("45000151", "bad"))
      assert.matches("bad audio format", err.message)
      _, err = parse("poll", 500, code("55000007"))
      assert.matches("internal error", err.message)
    end)

    -- the doc's example repeats the top-level key audio_info (docs/providers.md#auc-submit-and-query):
    -- the last one wins
    local DONE = [[{"audio_info":{"duration":1},"audio_info":{"duration":2499},
      "result":{"text":"你好。","additions":{"duration":"2499"},
       "utterances":[{"text":"你好。","start_time":0,"end_time":1705,"definite":true,
         "additions":{"speaker":"1"},
         "words":[{"text":"你","start_time":740,"end_time":860,"blank_duration":0,"confidence":0},
                  {"text":"好","start_time":860,"end_time":1020,"blank_duration":0}]}]}}]]

    it("query: 20000000 with the result body (duplicate key tolerated)", function()
      local st = assert(parse("poll", 200, code("20000000", "OK"), DONE, { task = { id = RID } }))
      assert.equal("succeeded", st.state)
      assert.equal("20000000", st.provider_state)
      assert.same({ audio_ms = 2499 }, st.usage)
      local r = st.result
      assert.same({ P, "bigasr", RID, "你好。", 2499 }, { r.provider, r.model, r.task_id, r.text, r.duration_ms })
      assert.same({ start_ms = 0, end_ms = 1705, text = "你好。", speaker = "1",
        words = { { start_ms = 740, end_ms = 860, text = "你", confidence = 0 },
                  { start_ms = 860, end_ms = 1020, text = "好" } } }, r.segments[1])
      assert.equal(2499, r.raw.audio_info.duration)
    end)

    it("query: a time too large for an integer is left out (found by make fuzz)", function()
      local body = DONE:gsub('"end_time":1705', '"end_time":1.7e52')
      local st = assert(parse("poll", 200, code("20000000", "OK"), body, { task = { id = RID } }))
      assert.is_nil(st.result.segments[1].end_ms)
      assert.equal(0, st.result.segments[1].start_ms)
    end)

    it("query: 20000000 with an empty or broken body is a retryable protocol error", function()
      local _, err = parse("poll", 200, code("20000000"), "")
      assert.equal("protocol", err.kind)
      assert.is_true(err.retryable)
      _, err = parse("poll", 200, code("20000000"), "{oops")
      assert.equal("protocol", err.kind)
    end)

    it("result: a stored query body, with or without the header", function()
      local r = assert(parse("result", 200, {}, DONE))
      assert.equal("你好。", r.text)
      r = assert(parse("result", 200, code("20000003"), ""))
      assert.same({}, r.segments)
      assert.is_true(r.silent)
      local _, err = parse("result", 200, {}, '{"x":1}')
      assert.equal("protocol", err.kind)
    end)
  end)

  describe("modes", function()
    it("idle: /idle/submit and /idle/query, X-Api-Resource-Id volc.bigasr.auc_idle (model 1.0 only)", function()
      local req = assert(submit({ url = A }, { mode = "idle" }))
      assert.equal(BASE .. "/auc/bigmodel/idle/submit", req.url)
      assert.same({
        { "X-Api-App-Key", APP }, { "X-Api-Access-Key", ACCESS }, { "X-Api-Resource-Id", "volc.bigasr.auc_idle" },
        { "X-Api-Request-Id", RID }, { "X-Api-Sequence", "-1" }, { "Content-Type", "application/json" },
      }, req.headers)
      assert.equal(assert(submit({ url = A })).body, req.body)      -- the standard request fields
      -- idle and flash have one documented resource each, of model 1.0: seedasr there would run
      -- on bigasr without saying so, so it is refused
      for _, mode in ipairs({ "idle", "flash" }) do
        local none, err = submit({ url = A, model = "seedasr" }, { mode = mode })
        assert.is_nil(none)
        assert.equal("unsupported", err.kind)
        assert.matches('"seedasr" has no documented resource in mode "' .. mode .. '"', err.message)
      end
      local q = assert(build("poll", { mode = "idle", task = { id = RID, model = "seedasr" } }))
      assert.equal(BASE .. "/auc/bigmodel/idle/query", q.url)
      assert.equal("volc.bigasr.auc_idle", q.headers[3][2])
      assert.equal("{}", q.body)
    end)

    it("standard is the default; an unknown mode is invalid for submit, poll and cancel", function()
      assert.equal(BASE .. "/auc/bigmodel/submit", submit({ url = A }, { mode = "standard" }).url)
      assert.equal(BASE .. "/auc/bigmodel/query", build("poll", { mode = "standard", task = { id = RID } }).url)
      for _, m in ipairs({ "turbo", "", "Flash", 1, true }) do
        local _, err = submit({ url = A }, { mode = m })
        assert.equal("invalid", err.kind)
        assert.matches('"standard", "idle" or "flash"', err.message, 1, true)
        _, err = build("poll", { mode = m, task = { id = RID } })
        assert.equal("invalid", err.kind)
        _, err = build("cancel", { mode = m, task = { id = RID } })
        assert.equal("invalid", err.kind)
      end
    end)

    it("flash: one POST to /recognize/flash, volc.bigasr.auc_turbo, sequence -1, the standard body", function()
      local req = assert(submit({ url = A, speakers = 2 }, { mode = "flash" }))
      assert.equal("POST", req.method)
      assert.equal(BASE .. "/auc/bigmodel/recognize/flash", req.url)
      assert.same({
        { "X-Api-App-Key", APP }, { "X-Api-Access-Key", ACCESS }, { "X-Api-Resource-Id", "volc.bigasr.auc_turbo" },
        { "X-Api-Request-Id", RID }, { "X-Api-Sequence", "-1" }, { "Content-Type", "application/json" },
      }, req.headers)
      assert.equal('{"audio":{"url":"' .. A .. '","format":"mp3"},"request":{"model_name":"bigmodel",'
        .. '"enable_itn":true,"show_utterances":true,"enable_speaker_info":true}}', req.body)
      -- user and other request fields still merge from extra
      assert.matches('"user":{"uid":"u1"}',
        submit({ url = A, extra = { user = { uid = "u1" } } }, { mode = "flash" }).body)
    end)

    it("flash: a local file goes inline, streamed as base64 between the two halves of the body", function()
      local req = assert(submit({ file = "/data/talk one.mp3", language = "en" }, { mode = "flash" }))
      assert.equal("/data/talk one.mp3", req.body_file)
      assert.is_true(req.body_file_base64)
      -- the engine sends body .. base64(file) .. body_suffix: together, the documented body
      local doc = core.json_decode(req.body .. "QUJD" .. req.body_suffix)
      assert.same({ data = "QUJD", format = "mp3", language = "en-US" }, doc.audio)
      assert.equal("bigmodel", doc.request.model_name)
      assert.is_nil(req.body:find("talk one", 1, true))            -- the path never goes on the wire
      -- only flash takes inline data; a job holds a url or a file
      local none, err = submit({ file = "/data/a.wav" })
      assert.is_nil(none)
      assert.equal("unsupported", err.kind)
      assert.matches("only in mode \"flash\"", err.message)
      none, err = submit({ file = "/data/a.wav", url = A }, { mode = "flash" })
      assert.is_nil(none)
      assert.equal("invalid", err.kind)
    end)

    it("flash: no callback fields; no query and no cancel (invalid, explained)", function()
      for _, f in ipairs({ "callback", "callback_data" }) do
        local _, err = submit({ url = A, extra = { [f] = "https://cb.example/x" } }, { mode = "flash" })
        assert.equal("unsupported", err.kind)
        assert.matches(f, err.message, 1, true)
        assert.matches('mode "flash"', err.message, 1, true)
      end
      assert(submit({ url = A, extra = { callback = "https://cb.example/x" } }, { mode = "idle" }))
      local _, err = build("poll", { mode = "flash", task = { id = RID } })
      assert.equal("invalid", err.kind)
      assert.matches("flash task has no query", err.message, 1, true)
      _, err = build("cancel", { mode = "flash", task = { id = RID } })
      assert.equal("invalid", err.kind)
      assert.matches("flash task has no cancel", err.message, 1, true)
      -- the other modes keep cancel unsupported, fetch stays unsupported
      assert.equal("unsupported", select(2, build("cancel", { mode = "idle", task = { id = RID } })).kind)
      assert.equal("unsupported", select(2, build("fetch", { mode = "flash", url = "https://x" })).kind)
    end)

    local FLASH = [[{"audio_info":{"duration":2499},"result":{"additions":{"duration":"2499"},"text":"关闭透传。",
      "utterances":[{"end_time":1530,"start_time":450,"text":"关闭透传。","words":[{"confidence":0,
        "end_time":770,"start_time":450,"text":"关"}]}]}}]]

    it("parse submit: a flash answer (20000000 + {audio_info, result}) is a task already succeeded", function()
      local t = assert(parse("submit", 200, code("20000000", "OK"), FLASH, { request_id = RID, model = "seedasr" }))
      assert.equal(RID, t.id)
      assert.equal("succeeded", t.state)
      assert.equal("20000000", t.provider_state)
      assert.equal(LOGID, t.request_id)
      assert.same({ audio_ms = 2499 }, t.usage)
      local r = t.result
      assert.same({ P, "seedasr", RID, "关闭透传。", 2499, 1 },
        { r.provider, r.model, r.task_id, r.text, r.duration_ms, #r.segments })
      assert.same({ start_ms = 450, end_ms = 1530, text = "关闭透传。",
        words = { { start_ms = 450, end_ms = 770, text = "关", confidence = 0 } } }, r.segments[1])
      -- silent audio in a submit answer: final too
      t = assert(parse("submit", 200, code("20000003", "silent"), "", { request_id = RID }))
      assert.same({ "succeeded", true, "" }, { t.state, t.result.silent, t.result.text })
      -- the standard answer (empty body, or a body without result) stays queued
      assert.equal("queued", parse("submit", 200, code("20000000", "OK"), "", { request_id = RID }).state)
      assert.equal("queued", parse("submit", 200, code("20000000", "OK"), "{}", { request_id = RID }).state)
      assert.equal("queued", parse("submit", 200, code("20000000", "OK"), "{oops", { request_id = RID }).state)
    end)
  end)

  describe("X-Api-Key (new console keys)", function()
    local KEY = "auc-NEWKEY-0099-SECRET"
    local K = require("schema_helper").new {
      provider = P, secrets = { api_key = KEY }, secret_headers = { ["X-Api-Key"] = true },
      submit_defaults = { request_id = RID },
    }

    it("api_key replaces App-Key/Access-Key; Resource-Id, Request-Id, Sequence stay", function()
      local req = assert(K.submit({ url = A }))
      assert.same({
        { "X-Api-Key", KEY }, { "X-Api-Resource-Id", "volc.bigasr.auc" }, { "X-Api-Request-Id", RID },
        { "X-Api-Sequence", "-1" }, { "Content-Type", "application/json" },
      }, req.headers)
      assert.same({
        { "X-Api-Key", KEY }, { "X-Api-Resource-Id", "volc.bigasr.auc_idle" }, { "X-Api-Request-Id", RID },
        { "Content-Type", "application/json" },
      }, assert(K.build("poll", { mode = "idle", task = { id = RID } })).headers)
      assert.equal("X-Api-Key", K.submit({ url = A }, { mode = "flash" }).headers[1][1])
      -- it wins over an app key pair given as well
      req = assert(K.submit({ url = A }, { app_key = APP, access_key = ACCESS }))
      assert.equal(5, #req.headers)
      assert.equal("X-Api-Key", req.headers[1][1])
    end)

    it("no credentials at all: auth, naming both alternatives; a bad api_key: auth, not echoed", function()
      local _, err = K.submit({ url = A }, { api_key = false })
      assert.equal("auth", err.kind)
      assert.matches("api_key", err.message, 1, true)
      assert.matches("VOLC_API_KEY", err.message, 1, true)
      assert.matches("app_key and access_key", err.message, 1, true)
      _, err = K.submit({ url = A }, { api_key = KEY .. "\r\nX: 1" })
      assert.equal("auth", err.kind)
      K.assert_no_secret(err)
    end)
  end)
  describe("callbacks", function()
    local CB = { url = "https://my.host/stt/callback?x=1", data = "stt1.req.abc" }

    it("submit: top-level callback and callback_data (standard and idle); flash refuses them", function()
      for _, mode in ipairs({ "standard", "idle" }) do
        local req = assert(submit({ url = A }, { callback = CB, mode = mode }))
        local body = assert(core.json_decode(req.body))
        assert.equal(CB.url, body.callback)
        assert.equal(CB.data, body.callback_data)
        assert.is_nil(body.request.callback)
      end
      local _, err = submit({ url = A }, { callback = CB, mode = "flash" })
      assert.equal("unsupported", err.kind)
      _, err = submit({ url = A }, { callback = { url = "https://h/x" } })
      assert.equal("invalid", err.kind)
    end)

    it("parse notice: the id from X-Api-Request-Id or the body, the state from the status code or result", function()
      local function notice(body, headers) return assert(parse("notice", 200, headers or {}, body)) end
      assert.same({ task_id = RID, state = "succeeded", callback_data = "tok" },
        notice('{"audio_info":{"duration":1},"result":{"text":"x"},"callback_data":"tok"}',
               { ["x-api-request-id"] = RID }))
      assert.same({ task_id = RID, state = "failed", callback_data = "tok" },
        notice('{"callback_data":"tok"}', { ["x-api-request-id"] = RID, ["x-api-status-code"] = "45000151" }))
      assert.same({ task_id = "r-2", state = "succeeded", callback_data = "t2" },
        notice('{"resp":{"id":"r-2","code":20000000,"callback_data":"t2"}}'))
      assert.same({ task_id = "r-3", state = "failed", callback_data = "t3" },
        notice('{"id":"r-3","code":55000000,"callback_data":"t3"}'))
      assert.same({ task_id = "r-4", state = "succeeded" }, notice('{"request_id":"r-4","result":{"text":""}}'))
      assert.same({}, notice("<html>"))
    end)
  end)
end)
