-- DashScope wire schema (csrc/providers/dashscope.c) through the binding: core.build / core.parse.
-- Pure: no network, no simulator. Test bodies are small hand-written examples shaped like the
-- public DashScope docs (https://help.aliyun.com/zh/model-studio/paraformer-recorded-speech-recognition-restful-api,
-- https://help.aliyun.com/zh/model-studio/sensevoice-recorded-speech-recognition-restful-api,
-- https://help.aliyun.com/zh/model-studio/qwen-asr-api-reference,
-- https://help.aliyun.com/zh/model-studio/error-code; see also docs/providers.md).
local core = require "stt.core"

local KEY = "sk-TEST-0123456789abcdef-SECRET"   -- must never show up in an error
local CN = "https://dashscope.aliyuncs.com/api/v1"
local INTL = "https://dashscope-intl.aliyuncs.com/api/v1"
local SUBMIT_PATH = "/services/audio/asr/transcription"
local QWEN = "qwen3-asr-flash-filetrans"
local A = "https://example.com/audio/a.mp3"

local S = require("schema_helper").new {
  provider = "dashscope", secrets = { api_key = KEY }, secret_headers = { Authorization = true },
}
local build, parse, check_error = S.build, S.parse, S.check_error

-- submit / body_of / refused name the model first: most tests here are about one model
local function submit(model, job) return S.submit(job, { model = model }) end
local function body_of(model, job) return S.body_of(job, { model = model }) end
local function refused(kind, model, job) return S.refused(kind, job, { model = model }) end

-- every string of a Result a user would read
local function texts(res)
  local all = { res.text }
  for _, s in ipairs(res.segments) do
    all[#all + 1] = s.text
    for _, w in ipairs(s.words or {}) do all[#all + 1] = w.text end
  end
  return all
end

describe("dashscope build", function()
  describe("submit", function()
    it("paraformer-v2 (the default model) with one url: exact request", function()
      local req = assert(build("submit", { job = { url = A } }))
      assert.equal("POST", req.method)
      assert.equal(CN .. SUBMIT_PATH, req.url)
      assert.same({
        { "Authorization", "Bearer " .. KEY },
        { "Content-Type", "application/json" },
        { "X-DashScope-Async", "enable" },
      }, req.headers)
      assert.equal('{"model":"paraformer-v2","input":{"file_urls":["' .. A .. '"]},"parameters":{}}', req.body)
    end)

    it("paraformer-v2 maps every option it supports, in a fixed order", function()
      -- words = true sends nothing: paraformer results always carry words (timestamp_alignment_enabled
      -- is timestamp calibration, not a words switch)
      assert.equal('{"model":"paraformer-v2","input":{"file_urls":["' .. A .. '"]},"parameters":{'
        .. '"channel_id":[0],"language_hints":["zh","en"],"diarization_enabled":true,"speaker_count":3,'
        .. '"disfluency_removal_enabled":false,'
        .. [["special_word_filter":"{\"filter_with_signed\":{\"word_list\":[\"secret\"]},]]
        .. [[\"system_reserved_filter\":true}",]]
        .. '"vocabulary_id":"vocab-1"}}',
        body_of("paraformer-v2", {
          url = A, language = { "zh", "en" }, speakers = 3, disfluency = false, words = true,
          channels = { 0 }, vocabulary_id = "vocab-1", punctuation = true, force = true, id = "job-7",
          sensitive_words_filter = { system_reserved_filter = true, filter_with_signed = { "secret" } },
        }))
    end)

    it("speakers = true diarizes without a count; speakers = 1 sends nothing", function()
      assert.equal('{"model":"paraformer-v2","input":{"file_urls":["' .. A .. '"]},'
        .. '"parameters":{"diarization_enabled":true}}', body_of("paraformer-v2", { url = A, speakers = true }))
      assert.equal('{"model":"paraformer-v2","input":{"file_urls":["' .. A .. '"]},"parameters":{}}',
        body_of("paraformer-v2", { url = A, speakers = 1 }))
    end)

    it("sensevoice-v1: a batch of 3 urls, one language hint, channels, disfluency", function()
      local urls = { A, "https://example.com/b.wav", "https://example.com/c%20d.ogg" }
      assert.equal('{"model":"sensevoice-v1","input":{"file_urls":["' .. table.concat(urls, '","') .. '"]},'
        .. '"parameters":{"channel_id":[0,1],"language_hints":["en"],"disfluency_removal_enabled":true}}',
        body_of("sensevoice-v1", { urls = urls, language = "en", channels = { 0, 1 }, disfluency = true }))
    end)

    it("qwen3-asr-flash-filetrans: file_url string, language, itn, words, corpus.text", function()
      assert.equal('{"model":"qwen3-asr-flash-filetrans","input":{"file_url":"' .. A .. '"},'
        .. '"parameters":{"language":"zh","enable_words":true,"enable_itn":true,'
        .. '"corpus":{"text":"Lua, LuaJIT, DashScope"}}}',
        body_of(QWEN, { url = A, language = "zh", itn = true, words = true, context = "Lua, LuaJIT, DashScope" }))
      -- a one-element urls list is one file; channel_id only when asked
      assert.equal('{"model":"qwen3-asr-flash-filetrans","input":{"file_url":"' .. A .. '"},'
        .. '"parameters":{"channel_id":[0,1]}}', body_of(QWEN, { urls = { A }, channels = { 0, 1 } }))
    end)

    it("job.model wins over args.model", function()
      local req = assert(submit("sensevoice-v1", { url = A, model = "paraformer-v2" }))
      assert.matches('^{"model":"paraformer%-v2"', req.body)
    end)

    it("paraformer-v1 phrase_id goes to top-level resources", function()
      assert.equal('{"model":"paraformer-v1","input":{"file_urls":["' .. A .. '"]},"parameters":{},'
        .. '"resources":[{"resource_id":"phrase-9","resource_type":"asr_phrase"}]}',
        body_of("paraformer-v1", { url = A, phrase_id = "phrase-9" }))
    end)

    it("fun-asr takes several language hints and a vocabulary", function()
      assert.equal('{"model":"fun-asr","input":{"file_urls":["' .. A .. '"]},'
        .. '"parameters":{"language_hints":["zh","ja"],"vocabulary_id":"v"}}',
        body_of("fun-asr", { url = A, language = { "zh", "ja" }, vocabulary_id = "v" }))
    end)

    it("merges extra verbatim and recursively; no key of extra is special", function()
      local req = assert(submit("paraformer-v2", { url = A, language = "en", extra = {
        parameters = { special_word_filter = '{"system_reserved_filter":true}', language_hints = { "ja" } },
        headers = { ["X-Test"] = "1" },
      } }))
      assert.equal('{"model":"paraformer-v2","input":{"file_urls":["' .. A .. '"]},'
        .. '"parameters":{"language_hints":["ja"],"special_word_filter":"{\\"system_reserved_filter\\":true}"},'
        .. '"headers":{"X-Test":"1"}}', req.body)
      assert.equal(3, #req.headers)
    end)

    it("accepts 100 urls and refuses 101", function()
      local urls = {}
      for i = 1, 101 do urls[i] = "https://example.com/" .. i .. ".wav" end
      local err = refused("invalid", "sensevoice-v1", { urls = urls })
      assert.matches('"urls"', err.message)
      urls[101] = nil
      assert.is_table((submit("sensevoice-v1", { urls = urls })))
    end)

    it("refuses bad input and bad option values as invalid", function()
      refused("invalid", "paraformer-v2", {})
      refused("invalid", "paraformer-v2", { url = A, urls = { A } })
      refused("invalid", "paraformer-v2", { urls = {} })
      refused("invalid", "paraformer-v2", { url = "" })
      refused("invalid", "paraformer-v2", { urls = { A, 5 } })
      refused("invalid", "sensevoice-v1", { url = A, language = { "en", "zh" } })
      refused("invalid", QWEN, { url = A, language = { "en" } })
      refused("invalid", "paraformer-v2", { url = A, speakers = 0 })
      refused("invalid", "paraformer-v2", { url = A, speakers = 101 })
      refused("invalid", "paraformer-v2", { url = A, speakers = 2.5 })
      refused("invalid", "paraformer-v2", { url = A, channels = { -1 } })
      refused("invalid", "paraformer-v2", { url = A, words = "yes" })
      refused("invalid", "paraformer-v2", { url = A, extra = "x" })
      refused("invalid", QWEN, { urls = {} })
    end)

    it("refuses an unknown model as unsupported, naming it", function()
      local err = refused("unsupported", "whisper-1", { url = A })
      assert.matches('model "whisper%-1"', err.message)
    end)

    local cases = {
      { "paraformer-v2", "itn", true }, { "paraformer-v2", "context", "x" },
      { "paraformer-v2", "vad", { end_window_ms = 800 } }, { "paraformer-v2", "hotwords", { "Lua" } },
      { "paraformer-v2", "phrase_id", "p" }, { "paraformer-v2", "punctuation", false },
      { "paraformer-v2", "temperature", 1 },
      { "paraformer-8k-v2", "language", "zh" },
      { "paraformer-v1", "language", "zh" }, { "paraformer-v1", "vocabulary_id", "v" },
      { "paraformer-v1", "itn", false }, { "paraformer-8k-v1", "language", "zh" },
      { "paraformer-mtl-v1", "language", "en" },
      { "fun-asr", "itn", true }, { "fun-asr", "context", "x" },
      { "sensevoice-v1", "speakers", 2 }, { "sensevoice-v1", "words", true }, { "sensevoice-v1", "itn", true },
      { "sensevoice-v1", "context", "x" }, { "sensevoice-v1", "vocabulary_id", "v" },
      { "sensevoice-v1", "phrase_id", "p" }, { "sensevoice-v1", "vad", {} },
      { "sensevoice-v1", "hotwords", { "x" } }, { "sensevoice-v1", "punctuation", false },
      { QWEN, "speakers", true }, { QWEN, "disfluency", true }, { QWEN, "vocabulary_id", "v" },
      { QWEN, "phrase_id", "p" }, { QWEN, "vad", {} },
      { QWEN, "punctuation", false }, { QWEN, "urls", { A, A } }, { QWEN, "prompt", "x" },
    }
    for _, c in ipairs(cases) do
      local model, opt, value = c[1], c[2], c[3]
      it(("refuses %s for %s as unsupported"):format(opt, model), function()
        local job = { [opt] = value }
        if opt ~= "urls" then job.url = A end
        local err = refused("unsupported", model, job)
        assert.equal(('option "%s" is not supported by dashscope model "%s"'):format(opt, model),
          err.message:sub(1, #('option "%s" is not supported by dashscope model "%s"'):format(opt, model)))
      end)
    end

    it("qwen takes hot words as corpus.text, after the context", function()
      local body = core.json_decode(body_of(QWEN, { url = A,
                                                  hotwords = { { word = "Lua" }, { word = "LuaJIT" } } }))
      assert.equal("Lua, LuaJIT", body.parameters.corpus.text)
      body = core.json_decode(body_of(QWEN,
        { url = A, context = "A talk on scripting.", hotwords = { { word = "Lua" } } }))
      assert.equal("A talk on scripting.\nLua", body.parameters.corpus.text)
      local enc = assert(core.build("dashscope", "hotwords",
        { model = QWEN, hotwords = { { word = "Lua" } } }))
      assert.equal("parameters.corpus.text", enc.field)
      assert.equal("Lua", enc.value)
    end)

    it("hotwords points at vocabulary_id", function()
      local err = refused("unsupported", "paraformer-v2", { url = A, hotwords = { "Lua" } })
      assert.matches("pass vocabulary_id %(hotword lists arrive with stt.hotwords%)", err.message)
    end)
  end)

  describe("base url and auth", function()
    it("cn is the default; intl; explicit base_url wins and loses one trailing slash", function()
      assert.equal(CN .. SUBMIT_PATH, build("submit", { region = "cn", job = { url = A } }).url)
      assert.equal(INTL .. SUBMIT_PATH, build("submit", { region = "intl", job = { url = A } }).url)
      assert.equal("http://127.0.0.1:8080/dashscope/api/v1" .. SUBMIT_PATH, build("submit", {
        region = "intl", base_url = "http://127.0.0.1:8080/dashscope/api/v1/", job = { url = A } }).url)
      assert.equal("https://ws-1.cn-beijing.maas.aliyuncs.com/api/v1/tasks/t1",
        build("poll", { base_url = "https://ws-1.cn-beijing.maas.aliyuncs.com/api/v1", task = { id = "t1" } }).url)
    end)

    it("refuses an unknown region", function()
      local _, err = build("submit", { region = "us", job = { url = A } })
      assert.equal("invalid", err.kind)
      assert.matches('"us"', err.message)
    end)

    it("without a key: auth error naming DASHSCOPE_API_KEY", function()
      for _, op in ipairs({ "submit", "poll", "cancel" }) do
        local req, err = build(op, { api_key = false, job = { url = A }, task = { id = "t1" } })
        assert.is_nil(req)
        assert.equal("auth", err.kind)
        assert.matches("DASHSCOPE_API_KEY", err.message)
      end
      local _, err = build("submit", { api_key = "", job = { url = A } })
      assert.equal("auth", err.kind)
    end)

    it("no error from a refused job carries the key", function()
      local _, err = build("submit", { job = { url = A, foo = KEY, language = { KEY, KEY } }, model = "sensevoice-v1" })
      assert.is_table(err)
      _, err = build("submit", { api_key = KEY .. "\n", job = { url = A } })
      assert.equal("auth", err.kind)
    end)
  end)

  describe("poll, cancel, fetch", function()
    it("poll is a GET of tasks/{id} with Authorization only; the id is escaped", function()
      local req = assert(build("poll", { task = { id = "8d2a-41 b/c?" } }))
      assert.equal("GET", req.method)
      assert.equal(CN .. "/tasks/8d2a-41%20b%2Fc%3F", req.url)
      assert.same({ { "Authorization", "Bearer " .. KEY } }, req.headers)
      assert.is_nil(req.body)
    end)

    it("cancel is a POST of tasks/{id}/cancel with no body", function()
      local req = assert(build("cancel", { region = "intl", task = { id = "t-1" } }))
      assert.equal("POST", req.method)
      assert.equal(INTL .. "/tasks/t-1/cancel", req.url)
      assert.same({ { "Authorization", "Bearer " .. KEY } }, req.headers)
      assert.is_nil(req.body)
    end)

    it("poll without task.id is invalid", function()
      local _, err = build("poll", { task = {} })
      assert.equal("invalid", err.kind)
    end)

    it("fetch is a bare GET of the signed URL: no Authorization, no headers", function()
      local url = "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/x.json?Expires=1&Signature=a%2Bb"
      local req = assert(build("fetch", { url = url }))
      assert.equal("GET", req.method)
      assert.equal(url, req.url)
      assert.same({}, req.headers)
      assert.is_nil(req.body)
      local _, err = build("fetch", {})
      assert.equal("invalid", err.kind)
    end)

    it("an unknown op is invalid", function()
      local _, err = build("bogus", {})
      assert.equal("invalid", err.kind)
    end)
  end)
end)

describe("dashscope parse", function()
  describe("submit and cancel", function()
    it("submit gives the task id, state and request id", function()
      local t = assert(parse("submit", 200,
        [[{"request_id":"r-1","output":{"task_status":"PENDING","task_id":"c2d3-0001"}}]]))
      assert.same({ id = "c2d3-0001", state = "queued", request_id = "r-1" }, t)
      -- the SDK-style envelope with empty code and null usage is fine too
      t = assert(parse("submit", 200, [[{"status_code":200,"request_id":"r-2","code":"","message":"",
        "output":{"task_id":"t2","task_status":"RUNNING"},"usage":null}]]))
      assert.equal("running", t.state)
    end)

    it("a submit answer without task_id is a protocol error", function()
      local _, err = parse("submit", 200, [[{"request_id":"r-1","output":{"task_status":"PENDING"}}]])
      assert.equal("protocol", err.kind)
    end)

    it("cancel 2xx is ok", function()
      assert.same({ ok = true, request_id = "r-9" }, parse("cancel", 200, [[{"request_id":"r-9"}]]))
    end)
  end)

  describe("poll", function()
    local function poll(body, extra) return parse("poll", 200, body, extra) end

    it("PENDING, RUNNING and SUSPENDED are in progress", function()
      local st = assert(poll([[{"request_id":"r","output":{"task_id":"t","task_status":"PENDING"},"usage":null}]]))
      assert.same({ state = "queued", provider_state = "PENDING", request_id = "r" }, st)
      st = assert(poll([[{"request_id":"r","output":{"task_id":"t","task_status":"RUNNING",
        "submit_time":"2024-09-12 15:11:40.041","scheduled_time":"2024-09-12 15:11:40.066",
        "task_metrics":{"TOTAL":1,"SUCCEEDED":0,"FAILED":0}}}]]))
      assert.equal("running", st.state)
      assert.same({ submit_time = "2024-09-12 15:11:40.041", scheduled_time = "2024-09-12 15:11:40.066" },
        st.provider_times)
      assert.equal("running", poll([[{"output":{"task_id":"t","task_status":"SUSPENDED"}}]]).state)
    end)

    it("SUCCEEDED with a failed subtask and a no-speech subtask", function()
      local st = assert(poll([[{"request_id":"r-5","output":{"task_id":"t","task_status":"SUCCEEDED",
        "submit_time":"2024-09-12 15:11:40.041","end_time":"2024-09-12 15:11:42.500",
        "results":[
          {"file_url":"https://e.com/1.wav","transcription_url":"https://oss.example/1.json?Signature=x",
           "subtask_status":"SUCCEEDED"},
          {"file_url":"https://e.com/2.wav","code":"InvalidFile.DownloadFailed",
           "message":"The audio file cannot be downloaded.","subtask_status":"FAILED"},
          {"file_url":"https://e.com/3.wav","code":"SUCCESS_WITH_NO_VALID_FRAGMENT",
           "message":"no valid fragment","subtask_status":"FAILED"}],
        "task_metrics":{"TOTAL":3,"SUCCEEDED":1,"FAILED":2}},"usage":{"duration":7}}]]))
      assert.equal("succeeded", st.state)
      assert.equal("SUCCEEDED", st.provider_state)
      assert.is_nil(st.error)
      assert.same({ url = "https://e.com/1.wav", result_url = "https://oss.example/1.json?Signature=x" }, st.files[1])
      assert.equal("https://e.com/2.wav", st.files[2].url)
      assert.same({ kind = "task_failed", code = "InvalidFile.DownloadFailed", provider = "dashscope",
        message = "The audio file cannot be downloaded.", request_id = "r-5", retryable = false }, st.files[2].error)
      assert.same({ url = "https://e.com/3.wav", empty = true }, st.files[3])
      assert.same({ billed_ms = 7000 }, st.usage)
      assert.equal("2024-09-12 15:11:42.500", st.provider_times.end_time)
    end)

    it("FAILED carries output.code and output.message", function()
      local st = assert(poll([[{"request_id":"r","output":{"task_id":"t","task_status":"FAILED",
        "code":"FILE_403_FORBIDDEN","message":"FILE_403_FORBIDDEN"}}]]))
      assert.equal("failed", st.state)
      assert.equal("task_failed", st.error.kind)
      assert.equal("FILE_403_FORBIDDEN", st.error.code)
      assert.is_false(st.error.retryable)
    end)

    it("CANCELED and UNKNOWN", function()
      local st = assert(poll([[{"output":{"task_id":"t","task_status":"CANCELED"}}]]))
      assert.equal("canceled", st.state)
      assert.equal("canceled", st.error.kind)
      st = assert(poll([[{"request_id":"r","output":{"task_id":"gone-1","task_status":"UNKNOWN"}}]]))
      assert.equal("failed", st.state)
      assert.equal("UNKNOWN", st.provider_state)
      assert.equal("not_found", st.error.kind)
      assert.is_false(st.error.retryable)
      assert.matches("gone%-1", st.error.message)
    end)

    it("qwen SUCCEEDED: output.result and usage.seconds", function()
      local st = assert(poll([[{"request_id":"r","output":{"task_id":"q1","task_status":"SUCCEEDED",
        "submit_time":"2025-09-01 10:00:00.000","end_time":"2025-09-01 10:00:09.000",
        "result":{"transcription_url":"https://oss.example/q1.json?Signature=y"}},"usage":{"seconds":12}}]],
        { model = QWEN, task = { id = "q1", url = A } }))
      assert.equal("succeeded", st.state)
      assert.same({ { url = A, result_url = "https://oss.example/q1.json?Signature=y" } }, st.files)
      assert.same({ billed_ms = 12000 }, st.usage)
    end)

    it("an unknown task_status is a protocol error", function()
      local _, err = poll([[{"output":{"task_id":"t","task_status":"EXPLODED"}}]])
      assert.equal("protocol", err.kind)
    end)
  end)

  describe("HTTP errors", function()
    local function fail(status, body, headers, kind)
      local resp = { status = status, headers = headers or {}, body = body }
      local out, err = core.parse("dashscope", kind or "submit", resp)
      assert.is_nil(out)
      check_error(err)
      return err
    end

    it("400 InvalidParameter and DataInspectionFailed are invalid", function()
      local err = fail(400, [[{"request_id":"r-400","code":"InvalidParameter","message":"Model not exist."}]])
      assert.same({ kind = "invalid", status = 400, code = "InvalidParameter", request_id = "r-400",
        retryable = false, provider = "dashscope", message = err.message }, err)
      assert.matches("Model not exist.", err.message, 1, true)
      assert.equal("invalid", fail(400, [[{"code":"DataInspectionFailed","message":"inappropriate"}]]).kind)
    end)

    it("401 is auth; 403 without the async header is invalid (a client bug)", function()
      assert.equal("auth", fail(401, [[{"code":"InvalidApiKey","message":"Invalid API-key provided."}]], nil,
        "poll").kind)
      local err = fail(403, [[{"request_id":"r","code":"AccessDenied",
        "message":"current user api does not support synchronous calls"}]])
      assert.equal("invalid", err.kind)
      assert.equal("AccessDenied", err.code)
      assert.equal("auth", fail(403, [[{"code":"AccessDenied","message":"Access denied."}]]).kind)
    end)

    it("404 is not_found", function()
      assert.equal("not_found", fail(404, [[{"code":"NotFound","message":"no such task"}]], nil, "poll").kind)
    end)

    it("429 is throttled and retryable; Retry-After delta-seconds only", function()
      local body = [[{"request_id":"r","code":"Throttling.RateQuota","message":"Requests rate limit exceeded"}]]
      local err = fail(429, body, { ["retry-after"] = "3" })
      assert.equal("throttled", err.kind)
      assert.is_true(err.retryable)
      assert.equal(3, err.retry_after)
      assert.is_nil(fail(429, body).retry_after)
      assert.is_nil(fail(429, body, { ["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT" }).retry_after)
    end)

    it("a Retry-After with a NUL inside is no Retry-After, vocabulary calls too (found by make fuzz)", function()
      local body = [[{"request_id":"r","code":"Throttling","message":"Requests throttling triggered."}]]
      local headers = { ["retry-after"] = "5\0" .. "99999" }
      assert.equal(5, fail(429, body, { ["retry-after"] = " 5\t" }).retry_after)
      assert.is_nil(fail(429, body, headers).retry_after)
      local _, err = core.parse("dashscope", "vocabulary_create", { status = 429, headers = headers, body = body })
      assert.equal("throttled", err.kind)
      assert.is_nil(err.retry_after)
      _, err = core.parse("dashscope", "vocabulary_create", { status = 429, headers = { ["retry-after"] = "7" },
                                                                body = body })
      assert.equal(7, err.retry_after)
    end)

    it("429 Throttling.AllocationQuota is a per-minute cap: throttled, retryable, with Retry-After", function()
      local body = [[{"request_id":"r-aq","code":"Throttling.AllocationQuota","message":"Allocated quota exceeded."}]]
      local err = fail(429, body, { ["retry-after"] = "12" })
      assert.same({ kind = "throttled", status = 429, code = "Throttling.AllocationQuota", request_id = "r-aq",
        retryable = true, retry_after = 12, provider = "dashscope", message = err.message }, err)
      err = select(2, core.parse("dashscope", "vocabulary_create",
                                 { status = 429, headers = { ["retry-after"] = "12" }, body = body }))
      assert.same({ kind = "throttled", status = 429, code = "Throttling.AllocationQuota", request_id = "r-aq",
        retryable = true, retry_after = 12, provider = "dashscope", message = err.message }, err)
      -- the same code inside a 2xx envelope (no output) is throttled too
      err = fail(200, [[{"request_id":"r8","code":"Throttling.AllocationQuota","message":"quota"}]],
        { ["retry-after"] = "5" })
      assert.same({ "throttled", true, 5, 200 }, { err.kind, err.retryable, err.retry_after, err.status })
    end)

    it("Arrearage and the other billing codes are quota: waiting won't help", function()
      for _, code in ipairs({ "Arrearage", "PrepaidBillOverdue", "PostpaidBillOverdue", "CommodityNotPurchased" }) do
        local err = fail(400, ('{"code":"%s","message":"Access denied."}'):format(code))
        assert.same({ "quota", false }, { err.kind, err.retryable })
      end
    end)

    it("500 and 503 (HTML) are retryable server errors", function()
      local err = fail(500, [[{"request_id":"r","code":"InternalError","message":"internal error"}]])
      assert.equal("server", err.kind)
      assert.is_true(err.retryable)
      local html = "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\n<body>"
        .. string.rep("x", 400) .. "</body></html>"
      err = fail(503, html, { ["retry-after"] = "10" })
      assert.equal("server", err.kind)
      assert.equal(503, err.status)
      assert.is_true(err.retryable)
      assert.equal(10, err.retry_after)
      assert.matches("503", err.message)
      assert.matches("<title>503 Service Temporarily Unavailable</title>", err.message, 1, true)
      assert.is_nil(err.message:find("[\r\n]"))
      assert.is_true(#err.message < 300)
      assert.equal("server", fail(502, "").kind)
    end)

    it("a 2xx body that is empty or not JSON is a retryable protocol error", function()
      local err = fail(200, "")
      assert.equal("protocol", err.kind)
      assert.is_true(err.retryable)
      err = fail(200, '{"output":{"task_id":', nil, "poll")
      assert.equal("protocol", err.kind)
      assert.is_true(err.retryable)
      assert.matches("not JSON", err.message)
      assert.equal("protocol", fail(200, "<html></html>", nil, "result").kind)
    end)
  end)

  describe("one classification for the task API and the vocabulary API", function()
    -- https://www.alibabacloud.com/help/en/model-studio/developer-reference/error-code and
    -- https://help.aliyun.com/zh/model-studio/error-code; the rules are in
    -- csrc/providers/dashscope_common.c (ds_classify). { status, code, message, kind, retryable }
    local CASES = {
      { 401, "InvalidApiKey", "Invalid API-key provided.", "auth", false },
      { 403, "AccessDenied", "Access denied.", "auth", false },
      { 403, "AccessDenied.Unpurchased", "Access to model denied.", "auth", false },
      { 403, "Workspace.AccessDenied", "Workspace access denied.", "auth", false },
      { 403, "Model.AccessDenied", "Model access denied.", "auth", false },
      { 400, "AccessDenied", "Access denied.", "auth", false },     -- the code wins over the status
      { 429, "Throttling", "Requests throttling triggered.", "throttled", true },
      { 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", "throttled", true },
      { 429, "Throttling.AllocationQuota", "Allocated quota exceeded, please increase your quota limit.",
        "throttled", true },
      { 429, "Throttling.BurstRate", "Request rate increased too quickly.", "throttled", true },
      { 400, "Throttling.RateQuota", "rate", "throttled", true },   -- a Throttling code under another status
      { 429, nil, "Too many requests", "throttled", true },         -- 429 without a code
      { 429, nil, nil, "throttled", true },                         -- 429 with an empty body
      { 400, "Arrearage", "Access denied, please make sure your account is in good standing.", "quota", false },
      { 400, "PrepaidBillOverdue", "The prepaid bill is overdue.", "quota", false },
      { 400, "PostpaidBillOverdue", "The postpaid bill is overdue.", "quota", false },
      { 403, "CommodityNotPurchased", "Commodity has not purchased yet.", "quota", false },
      { 400, "DataInspectionFailed", "Input or output data may contain inappropriate content.", "invalid", false },
      { 403, "AccessDenied", "current user api does not support synchronous calls", "invalid", false },
      { 400, "InvalidParameter", "Model not exist.", "invalid", false },
      { 404, "ModelNotFound", "Model can not be found.", "not_found", false },
      { 500, "InternalError", "An internal error has occured, please try again later.", "server", true },
      { 503, "ModelServiceUnavailable", "Model service unavailable.", "server", true },
      -- error envelopes inside a 2xx (a code and no output): the code alone decides
      { 200, "Throttling.AllocationQuota", "Allocated quota exceeded.", "throttled", true },
      { 200, "InvalidApiKey", "Invalid API-key provided.", "auth", false },
      { 200, "Arrearage", "Access denied.", "quota", false },
      { 200, "DataInspectionFailed", "inappropriate content", "invalid", false },
      { 200, "SomethingNew", "an error no rule knows", "protocol", false },
    }
    local KINDS = { "submit", "poll", "cancel", "vocabulary_create", "vocabulary_list", "vocabulary_query",
                    "vocabulary_update", "vocabulary_delete" }

    local function body_of_case(i, c)
      if not c[2] and not c[3] then return "" end
      return core.json_encode({ request_id = "r-" .. i, code = c[2], message = c[3] })
    end

    for i, c in ipairs(CASES) do
      local status, code, kind, retryable = c[1], c[2], c[4], c[5]
      it(("%d %s -> %s for every kind"):format(status, code or "(no code)", kind), function()
        for _, k in ipairs(KINDS) do
          local out, err = core.parse("dashscope", k, { status = status, headers = { ["retry-after"] = "7",
                                                        ["x-request-id"] = "hdr-" .. i }, body = body_of_case(i, c) })
          assert.is_nil(out)
          check_error(err)
          local where = k .. ": " .. err.message
          assert.equal(kind, err.kind, where)
          assert.equal(retryable, err.retryable, where)
          assert.equal(status, err.status, where)
          assert.equal(code, err.code, where)
          assert.equal((code or c[3]) and "r-" .. i or "hdr-" .. i, err.request_id, where)
          assert.equal(7, err.retry_after, where)
        end
      end)
    end
  end)

  describe("result file", function()
    it("an expired or rejected signed URL (OSS XML 403) is not_found, not an auth problem", function()
      local xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
        .. '<Message>Request has expired.</Message></Error>'
      local out, err = parse("result", 403, xml)
      assert.is_nil(out)
      assert.equal("not_found", err.kind)
      assert.is_false(err.retryable)
      assert.matches("expired", err.message)
      local _, busy = parse("result", 429, "")
      assert.equal("throttled", busy.kind)
    end)

    local PARAFORMER = [[{
      "file_url":"https://example.com/audio/a.mp3",
      "properties":{"audio_format":"mp3","channels":[0],"original_sampling_rate":16000,
                    "original_duration_in_milliseconds":3834},
      "transcripts":[{"channel_id":0,"content_duration_in_milliseconds":3720,
        "text":"Hello world, this is a test. Yes.",
        "sentences":[
          {"begin_time":100,"end_time":2100,"text":"Hello world, this is a test.","sentence_id":1,"speaker_id":0,
           "words":[{"begin_time":100,"end_time":500,"text":"Hello ","punctuation":""},
                    {"begin_time":500,"end_time":900,"text":"world","punctuation":", "},
                    {"begin_time":900,"end_time":2100,"text":"test","punctuation":"."}]},
          {"begin_time":2200,"end_time":3700,"text":"Yes.","sentence_id":2,"speaker_id":1,
           "words":[{"begin_time":2200,"end_time":3700,"text":"Yes","punctuation":"."}]}]}]}]]

    it("paraformer: words, punctuation, speakers as strings, 0-based ids", function()
      local res = assert(parse("result", 200, PARAFORMER, { model = "paraformer-v2", task = { id = "t-77" } }))
      assert.equal("dashscope", res.provider)
      assert.equal("paraformer-v2", res.model)
      assert.equal("t-77", res.task_id)
      assert.equal("Hello world, this is a test. Yes.", res.text)
      assert.is_nil(res.language)
      assert.equal(3834, res.duration_ms)
      assert.equal(2, #res.segments)
      local s1, s2 = res.segments[1], res.segments[2]
      assert.same({ 0, 100, 2100, "0", 0 }, { s1.id, s1.start_ms, s1.end_ms, s1.speaker, s1.channel })
      assert.same({ 1, "1" }, { s2.id, s2.speaker })
      assert.same({ start_ms = 100, end_ms = 500, text = "Hello" }, s1.words[1])
      assert.same({ start_ms = 500, end_ms = 900, text = "world", punct = "," }, s1.words[2])
      assert.equal(".", s2.words[1].punct)
      assert.equal("https://example.com/audio/a.mp3", res.raw.file_url)
      assert.equal(1, res.raw.transcripts[1].sentences[1].sentence_id)
    end)

    it("two channels: segments in time order, then by channel; texts joined by newline", function()
      local res = assert(parse("result", 200, [[{"properties":{"channels":[0,1],
        "original_duration_in_milliseconds":9000},"transcripts":[
        {"channel_id":0,"text":"A one. A two.","sentences":[
          {"begin_time":0,"end_time":1000,"text":"A one.","sentence_id":1},
          {"begin_time":5000,"end_time":6000,"text":"A two.","sentence_id":2}]},
        {"channel_id":1,"text":"B one. B two.","sentences":[
          {"begin_time":2000,"end_time":3000,"text":"B one.","sentence_id":1},
          {"begin_time":5000,"end_time":5500,"text":"B two.","sentence_id":2}]}]}]], { model = "paraformer-v2" }))
      assert.equal("A one. A two.\nB one. B two.", res.text)
      local order = {}
      for i, s in ipairs(res.segments) do order[i] = s.text .. "@" .. s.channel end
      assert.same({ "A one.@0", "B one.@1", "A two.@0", "B two.@1" }, order)
    end)

    it("sensevoice: tags become emotion, events and language; no <| anywhere", function()
      -- the service writes < and > as \u003c and \u003e; the second sentence uses the raw form
      local first = [[\u003c|en|\u003e\u003c|Speech|\u003e Senior staff, and my classmates. \u003c|/Speech|\u003e ]]
        .. [[\u003c|ANGRY|\u003e]]
      local channel = first .. [[\u003c|Applause|\u003e\u003c|Speech|\u003e I am honored. \u003c|/Speech|\u003e]]
        .. [[|SPECIAL_TOKEN_1|]]
      local res = assert(parse("result", 200, [[{"file_url":"https://e.com/s.wav",
        "properties":{"audio_format":"pcm_s16le","channels":[0],"original_sampling_rate":16000,
                      "original_duration_in_milliseconds":17645},
        "transcripts":[{"channel_id":0,"content_duration_in_milliseconds":12710,
          "text":"]] .. channel .. [[",
          "sentences":[
            {"begin_time":0,"end_time":7060,"text":"]] .. first .. [["},
            {"begin_time":11980,"end_time":17630,
             "text":"<|Applause|><|BGM|><|Speech|> I am honored. <|/Speech|><|Laughter|><|Applause|>|SPECIAL_TOKEN_1|"},
            {"begin_time":17630,"end_time":17640,"text":"<|HAPPY|><|Cough|>  <|unclosed tail"}]}]}]]))
      assert.equal("sensevoice-v1", res.model)     -- guessed from the tags
      assert.equal("Senior staff, and my classmates. I am honored.", res.text)
      local s1, s2, s3 = res.segments[1], res.segments[2], res.segments[3]
      assert.equal("Senior staff, and my classmates.", s1.text)
      assert.equal("angry", s1.emotion)
      assert.equal("en", s1.language)
      assert.is_nil(s1.events)
      assert.equal("I am honored.", s2.text)
      assert.same({ "Applause", "BGM", "Laughter" }, s2.events)
      assert.is_nil(s2.emotion)
      assert.same({ "happy", { "Cough" } }, { s3.emotion, s3.events })
      assert.equal("unclosed tail", s3.text)
      assert.equal("en", res.language)
      assert.equal(17645, res.duration_ms)
      for _, t in ipairs(texts(res)) do
        assert.is_nil(t:find("<|", 1, true))
        assert.is_nil(t:find("SPECIAL_TOKEN", 1, true))
      end
    end)

    it("qwen: 0-based ids, language, emotion and words", function()
      local res = assert(parse("result", 200, [[{"file_url":"https://e.com/q.mp3",
        "audio_info":{"format":"mp3","sample_rate":16000},
        "transcripts":[{"channel_id":0,"text":"欢迎使用阿里云。Welcome!",
          "sentences":[
            {"sentence_id":0,"begin_time":120,"end_time":1680,"language":"zh","emotion":"neutral",
             "text":"欢迎使用阿里云。",
             "words":[{"begin_time":120,"end_time":600,"text":"欢迎","punctuation":""},
                      {"begin_time":600,"end_time":1680,"text":"使用阿里云","punctuation":"。"}]},
            {"sentence_id":1,"begin_time":1800,"end_time":2400,"language":"en","emotion":"happy",
             "text":"Welcome!","words":[{"begin_time":1800,"end_time":2400,"text":"Welcome","punctuation":"!"}]},
            {"sentence_id":2,"begin_time":2500,"end_time":2900,"language":"zh","emotion":"surprised",
             "text":"好。"}]}]}]], { task = { id = "q1" } }))
      assert.equal(QWEN, res.model)                   -- guessed from audio_info
      assert.equal("欢迎使用阿里云。Welcome!", res.text)
      assert.equal("zh", res.language)
      assert.is_nil(res.duration_ms)
      local s = res.segments
      assert.same({ 0, 1, 2 }, { s[1].id, s[2].id, s[3].id })
      assert.same({ "neutral", "happy", "surprised" }, { s[1].emotion, s[2].emotion, s[3].emotion })
      assert.same({ "zh", "en" }, { s[1].language, s[2].language })
      assert.same({ start_ms = 600, end_ms = 1680, text = "使用阿里云", punct = "。" }, s[1].words[2])
      assert.is_nil(s[3].words)
    end)

    it("a result file without transcripts is a protocol error; an OSS 403 is an error", function()
      local _, err = parse("result", 200, [[{"file_url":"x"}]])
      assert.equal("protocol", err.kind)
      _, err = parse("result", 403, [[<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>]])
      assert.equal(403, err.status)
    end)
  end)
end)

describe("dashscope model families (exact names, docs/providers.md#dashscope-models)", function()
  local QA30, QA31 = "qwen-audio-3.0-asr-flash-filetrans", "qwen-audio-3.1-asr-flash-filetrans"

  local function input_of(model, job, args)
    args = args or {}
    args.model = model
    local body = core.json_decode(assert(S.body_of(job, args)))
    return body
  end

  it("file_urls models, dated snapshots included, keep their family's fields", function()
    for _, m in ipairs({ "paraformer-v2", "fun-asr", "fun-asr-mtl", "fun-asr-2025-11-07", "fun-asr-mtl-2025-08-25",
                         QA30, QA31, "qwen-audio-3.1-asr-flash-filetrans-2026-01-01" }) do
      local body = input_of(m, { url = A, language = "en" })
      assert.same({ file_urls = { A } }, body.input, m)
      assert.same({ language_hints = { "en" } }, body.parameters, m)
    end
    assert.equal('{"model":"' .. QA31 .. '","input":{"file_urls":["' .. A .. '"]},'
      .. '"parameters":{"channel_id":[0],"language_hints":["zh","en"],"diarization_enabled":true}}',
      body_of(QA31, { url = A, channels = { 0 }, language = { "zh", "en" }, speakers = true }))
  end)

  it("qwen3-asr-flash-filetrans and its snapshots take input.file_url (the CLI's regex)", function()
    for _, m in ipairs({ QWEN, "qwen3-asr-flash-filetrans-2025-11-17", "qwen3-asr-flash-filetrans-next" }) do
      local body = input_of(m, { url = A, language = "zh", words = true })
      assert.same({ file_url = A }, body.input, m)
      assert.same({ language = "zh", enable_words = true }, body.parameters, m)
    end
  end)

  it("names that only share a prefix are refused, naming the model and the known families", function()
    for _, m in ipairs({ "paraformer-realtime-v2", "paraformer-v2-beta", "fun-asr-realtime", "fun-asr-flash-2026-06-15",
                         "qwen3-asr-flash", "qwen3-asr-flash-realtime", "qwen-audio-asr", "qwen-audio-3.0-asr-flash",
                         "sensevoice-v2", "paraformer-v2-2025-1-1", "qwen-audio--asr-flash-filetrans",
                         "qwen3-asr-flash-filetrans-realtime" }) do
      local err = refused("unsupported", m, { url = A })
      assert.matches('model "' .. m:gsub("%p", "%%%0") .. '" is not supported by dashscope', err.message)
      for _, fam in ipairs({ "paraformer", "paraformer-v1", "fun-asr", "qwen-audio-filetrans", "sensevoice",
                             "qwen3-filetrans" }) do
        assert.truthy(err.message:find(fam .. " (", 1, true), m .. ": " .. fam)
      end
      assert.matches("family", err.message)
      assert.equal("unsupported", select(2, core.build("dashscope", "hotwords",
        { model = m, hotwords = { "Lua" } })).kind, m)
    end
  end)

  it("the client option family gives an unknown model a family", function()
    local body = input_of("paraformer-v3", { url = A, language = "de", vocabulary_id = "v" }, { family = "paraformer" })
    assert.same({ model = "paraformer-v3", input = { file_urls = { A } },
                  parameters = { language_hints = { "de" }, vocabulary_id = "v" } }, body)
    body = input_of("paraformer-v9", { url = A, phrase_id = "p" }, { family = "paraformer-v1" })
    assert.same({ { resource_id = "p", resource_type = "asr_phrase" } }, body.resources)
    body = input_of("fun-asr-next", { url = A, language = { "zh", "ja" } }, { family = "fun-asr" })
    assert.same({ "zh", "ja" }, body.parameters.language_hints)
    body = input_of("qwen-audio-4.0-asr-turbo-filetrans", { url = A, language = "en" },
                    { family = "qwen-audio-filetrans" })
    assert.same({ file_urls = { A } }, body.input)
    body = input_of("sensevoice-v2", { url = A, language = "en" }, { family = "sensevoice" })
    assert.same({ "en" }, body.parameters.language_hints)
    local err = S.refused("unsupported", { url = A, words = true }, { model = "sensevoice-v2", family = "sensevoice" })
    assert.matches('option "words" is not supported by dashscope model "sensevoice%-v2"', err.message)
    body = input_of("qwen4-asr-filetrans", { url = A, itn = true }, { family = "qwen3-filetrans" })
    assert.same({ model = "qwen4-asr-filetrans", input = { file_url = A }, parameters = { enable_itn = true } }, body)
    local enc = assert(core.build("dashscope", "hotwords", { model = "qwen4-asr-filetrans", family = "qwen3-filetrans",
                                                            hotwords = { "Lua" } }))
    assert.equal("parameters.corpus.text", enc.field)
    -- a known name keeps its own family; core.null and "" mean no family
    assert.same({ file_urls = { A } }, input_of("paraformer-v2", { url = A }, { family = "qwen3-filetrans" }).input)
    assert.same({ file_urls = { A } }, input_of("paraformer-v2", { url = A }, { family = "" }).input)
    assert.same({ file_urls = { A } }, input_of("paraformer-v2", { url = A }, { family = core.null }).input)
  end)

  it("an unknown family is invalid, even for a known model", function()
    for _, f in ipairs({ "whisper", "Paraformer", 3 }) do
      local err = S.refused("invalid", { url = A }, { model = "paraformer-v2", family = f })
      assert.matches("unknown family", err.message)
      assert.matches("qwen3%-filetrans", err.message)
    end
    local _, err = core.build("dashscope", "hotwords", { model = "x-1", family = "nope", hotwords = { "a" } })
    assert.equal("invalid", err.kind)
  end)

  it("qwen-audio filetrans: the Fun-ASR protocol; options no doc confirms for it are refused", function()
    for _, c in ipairs({ { "words", true }, { "disfluency", true }, { "vocabulary_id", "v" },
                         { "sensitive_words_filter", { system_reserved_filter = true } }, { "audio_events", true },
                         { "itn", true }, { "context", "x" }, { "hotwords", { "x" } }, { "phrase_id", "p" } }) do
      local err = refused("unsupported", QA30, { url = A, [c[1]] = c[2] })
      assert.matches('option "' .. c[1]:gsub("%p", "%%%0") .. '"', err.message)
    end
    assert.matches("UNCONFIRMED", refused("unsupported", QA30, { url = A, words = true }).message)
    assert.matches("UNCONFIRMED", refused("unsupported", QA30, { url = A, vocabulary_id = "v" }).message)
    assert.is_table((submit(QA30, { urls = { A, A } })))        -- a batch, like fun-asr
  end)

  it("the capability table lists the families' models", function()
    local caps = core.capabilities().dashscope
    for _, m in ipairs({ "paraformer-v2", "paraformer-8k-v2", "paraformer-v1", "paraformer-8k-v1", "paraformer-mtl-v1",
                         "fun-asr", "fun-asr-mtl", QA30, QA31, "sensevoice-v1", QWEN }) do
      assert.is_table(caps.models[m], m)
    end
    assert.equal("sentences[].words (always returned; no field)", caps.models["fun-asr"].options.words)
    assert.equal("parameters.enable_words", caps.models[QWEN].options.words)
    assert.is_false(caps.models["sensevoice-v1"].options.words)
    assert.is_false(caps.models[QA31].options.words)
    assert.equal("parameters.special_word_filter (JSON string)",
                 caps.models["paraformer-v1"].options.sensitive_words_filter)
    assert.is_string(caps.models["sensevoice-v1"].options.audio_events)
    assert.is_false(caps.models["paraformer-v2"].options.audio_events)
  end)
end)

describe("dashscope words, audio events, sensitive word filter", function()
  it("words: paraformer / fun-asr accept any boolean and send nothing; sensevoice refuses", function()
    for _, m in ipairs({ "paraformer-v2", "paraformer-8k-v2", "paraformer-v1", "fun-asr" }) do
      for _, w in ipairs({ true, false }) do
        assert.equal('{"model":"' .. m .. '","input":{"file_urls":["' .. A .. '"]},"parameters":{}}',
          body_of(m, { url = A, words = w }))
      end
      refused("invalid", m, { url = A, words = 1 })
    end
    assert.matches("no word timings", refused("unsupported", "sensevoice-v1", { url = A, words = true }).message)
    assert.equal('{"model":"' .. QWEN .. '","input":{"file_url":"' .. A .. '"},"parameters":{"enable_words":false}}',
      body_of(QWEN, { url = A, words = false }))
  end)

  it("audio_events: sensevoice always tags events (no field); the others point at extra", function()
    assert.equal('{"model":"sensevoice-v1","input":{"file_urls":["' .. A .. '"]},"parameters":{}}',
      body_of("sensevoice-v1", { url = A, audio_events = true }))
    refused("invalid", "sensevoice-v1", { url = A, audio_events = "yes" })
    for _, m in ipairs({ "paraformer-v2", "paraformer-v1", "fun-asr", QWEN }) do
      local err = refused("unsupported", m, { url = A, audio_events = true })
      assert.truthy(err.message:find("extra = { parameters = { audio_event_detection_enabled = true } }", 1, true),
        err.message)
    end
    -- and extra does force it
    assert.matches('"audio_event_detection_enabled":true', body_of("paraformer-v2",
      { url = A, extra = { parameters = { audio_event_detection_enabled = true } } }))
  end)

  it("sensitive_words_filter -> parameters.special_word_filter, a JSON string in the doc's order", function()
    local function filter_of(model, f)
      return core.json_decode(body_of(model, { url = A, sensitive_words_filter = f })).parameters.special_word_filter
    end
    assert.equal('{"filter_with_signed":{"word_list":["测试"]},"filter_with_empty":{"word_list":["开始","发生"]},'
      .. '"system_reserved_filter":true}', filter_of("paraformer-v2", {
        system_reserved_filter = true, filter_with_empty = { "开始", "发生" }, filter_with_signed = { "测试" } }))
    -- DashScope's own {word_list = ...} shape, an empty list and an empty table
    assert.equal('{"filter_with_empty":{"word_list":["x"]},"system_reserved_filter":false}', filter_of("fun-asr", {
      filter_with_empty = { word_list = { "x" } }, filter_with_signed = {}, system_reserved_filter = false }))
    assert.equal("{}", filter_of("paraformer-v1", {}))
    -- a string goes as it is
    assert.equal('{"system_reserved_filter":false}', filter_of("paraformer-8k-v2", '{"system_reserved_filter":false}'))
    for _, bad in ipairs({ 5, { system_reserved_filter = "yes" }, { filter_with_empty = { 1 } },
                           { filter_with_empty = "x" }, { word_list = { "x" } },
                           { filter_with_signed = { word_list = { "x" }, other = 1 } } }) do
      refused("invalid", "paraformer-v2", { url = A, sensitive_words_filter = bad })
    end
    assert.matches("no sensitive word filter",
      refused("unsupported", "sensevoice-v1", { url = A, sensitive_words_filter = {} }).message)
    local err = refused("unsupported", QWEN, { url = A, sensitive_words_filter = { system_reserved_filter = true } })
    assert.truthy(err.message:find('special_word_filter = "<JSON>"', 1, true), err.message)
  end)
end)

describe("dashscope headers: workspace and oss://", function()
  local function header(req, name)
    local found
    for _, h in ipairs(req.headers) do
      if h[1] == name then
        assert.is_nil(found, "two " .. name .. " headers")
        found = h[2]
      end
    end
    return found
  end

  it("args.workspace is X-DashScope-WorkSpace on every request but the result fetch", function()
    local W = "llm-abc123"
    local reqs = {
      submit = assert(build("submit", { workspace = W, job = { url = A } })),
      poll = assert(build("poll", { workspace = W, task = { id = "t1" } })),
      cancel = assert(build("cancel", { workspace = W, task = { id = "t1" } })),
      list = assert(build("list", { workspace = W })),
    }
    for _, op in ipairs({ "vocabulary_create", "vocabulary_list", "vocabulary_query", "vocabulary_update",
                          "vocabulary_delete" }) do
      reqs[op] = assert(build(op, { workspace = W, target_model = "paraformer-v2", prefix = "p", vocabulary_id = "v",
                                    vocabulary = { { text = "Lua", weight = 4 } } }))
    end
    for op, req in pairs(reqs) do
      assert.equal(W, header(req, "X-DashScope-WorkSpace"), op)
      assert.equal("X-DashScope-WorkSpace", req.headers[#req.headers][1], op)   -- after the others
    end
    assert.same({ { "Authorization", "Bearer " .. KEY }, { "X-DashScope-WorkSpace", W } }, reqs.poll.headers)
    local fetch = assert(build("fetch", { workspace = W, url = "https://oss.example/r.json?Signature=x" }))
    assert.same({}, fetch.headers)
  end)

  it("no workspace, or an empty one, sends no header; a bad one is invalid", function()
    for _, w in ipairs({ "", core.null }) do
      assert.is_nil(header(assert(build("poll", { workspace = w, task = { id = "t" } })), "X-DashScope-WorkSpace"))
    end
    for _, w in ipairs({ "ws\r\nX-Evil: 1", 42, { "a" } }) do
      local _, err = build("submit", { workspace = w, job = { url = A } })
      assert.equal("invalid", err.kind)
      assert.matches("workspace", err.message)
      _, err = build("vocabulary_list", { workspace = w })
      assert.equal("invalid", err.kind)
    end
  end)

  it("an oss:// input adds X-DashScope-OssResourceResolve: enable to the submit", function()
    local OSS = "oss://dashscope-instant/abc123/2026-01-01/talk.wav"
    local cases = {
      { "paraformer-v2", { url = OSS } },
      { "sensevoice-v1", { urls = { A, OSS } } },
      { QWEN, { url = OSS } },
      { "fun-asr", { url = A, extra = { input = { file_urls = { OSS } } } } },   -- put there by extra
    }
    for _, c in ipairs(cases) do
      local req = assert(submit(c[1], c[2]))
      assert.equal("enable", header(req, "X-DashScope-OssResourceResolve"), c[1])
      assert.same({ "X-DashScope-OssResourceResolve", "enable" }, req.headers[#req.headers])
      assert.truthy(req.body:find(OSS, 1, true))
    end
    local req = assert(build("submit", { workspace = "ws", job = { url = OSS } }))
    assert.same({ "Authorization", "Content-Type", "X-DashScope-Async", "X-DashScope-WorkSpace",
                  "X-DashScope-OssResourceResolve" },
      { req.headers[1][1], req.headers[2][1], req.headers[3][1], req.headers[4][1], req.headers[5][1] })
    for _, u in ipairs({ A, "https://bucket.oss-cn-beijing.aliyuncs.com/a.wav?oss://x", "OSS://x/y.wav" }) do
      assert.is_nil(header(assert(submit("paraformer-v2", { url = u })), "X-DashScope-OssResourceResolve"), u)
    end
    assert.is_nil(header(assert(build("poll", { task = { id = "t", input = OSS } })), "X-DashScope-OssResourceResolve"))
  end)
end)

describe("dashscope task list", function()
  it("build: GET tasks with page_no and page_size by default", function()
    local req = assert(build("list", {}))
    assert.equal("GET", req.method)
    assert.equal(CN .. "/tasks?page_no=1&page_size=10", req.url)
    assert.same({ { "Authorization", "Bearer " .. KEY } }, req.headers)
    assert.is_nil(req.body)
    assert.equal(CN .. "/tasks?page_no=1&page_size=10", build("list", { list = {} }).url)
    assert.equal(CN .. "/tasks?page_no=1&page_size=10", build("list", { list = core.null }).url)
  end)

  it("build: every filter; from / to as YYYYMMDDhhmmss in Beijing time", function()
    local req = assert(build("list", { region = "intl", list = { page = 3, page_size = 100, from = 1681920000,
      to = 1681948799.9, status = "succeeded", model = "fun-asr mtl/x" } }))
    -- 1681920000 = 2023-04-19 16:00:00 UTC = 2023-04-20 00:00:00 in Beijing
    assert.equal(INTL .. "/tasks?page_no=3&page_size=100&start_time=20230420000000&end_time=20230420075959"
      .. "&status=SUCCEEDED&model_name=fun-asr%20mtl%2Fx", req.url)
    assert.equal(CN .. "/tasks?page_no=1&page_size=10&start_time=19700101080000&status=PENDING",
      build("list", { list = { from = 0, status = "queued" } }).url)
    assert.equal(CN .. "/tasks?page_no=1&page_size=10&end_time=20240229235959&status=CANCELED",
      build("list", { list = { to = 1709222399, status = "CANCELED" } }).url)   -- a leap day
    for st, want in pairs({ running = "RUNNING", failed = "FAILED", canceled = "CANCELED", SUSPENDED = "SUSPENDED" }) do
      assert.matches("&status=" .. want .. "$", build("list", { list = { status = st } }).url)
    end
  end)

  it("build: bad list options are invalid", function()
    for _, l in ipairs({ { page = 0 }, { page = 1.5 }, { page_size = 0 }, { page_size = 101 }, { from = -1 },
                         { from = "yesterday" }, { to = 1e300 }, { from = 20, to = 10 }, { status = "done" },
                         { status = 1 }, { model = "" }, { model = 5 }, { pagesize = 10 }, "all" }) do
      local _, err = build("list", { list = l })
      assert.equal("invalid", err.kind)
      assert.matches("^dashscope: list ", err.message)
    end
    local _, err = build("list", { api_key = false })
    assert.equal("auth", err.kind)
  end)

  local LIST = [[{"request_id":"31a80745-0001","data":[
    {"api_key_id":"1","caller_parent_id":"2","caller_uid":"3","end_time":1691561396394,"gmt_create":1691561394828,
     "model_name":"paraformer-v2","region":"cn-beijing","request_id":"5ddcdba0-0001","start_time":1691561395295,
     "status":"SUCCEEDED","task_id":"bb7c1bdb-0001","user_api_unique_key":"apikey:v1:x"},
    {"gmt_create":1691561390000,"model_name":"qwen3-asr-flash-filetrans","request_id":"r2","status":"PENDING",
     "task_id":"t2"},
    {"gmt_create":1691561380000,"status":"RUNNING"},
    {"task_id":"t4","status":"EXPLODED","model_name":"fun-asr"}],
   "total":4,"total_page":2,"page_no":1,"page_size":4}]]

  it("parse: tasks (id, model, state, submitted_at in s, provider times in ms), page, pages, total", function()
    local out = assert(parse("list", 200, LIST))
    assert.same({
      { id = "bb7c1bdb-0001", model = "paraformer-v2", state = "succeeded", provider_state = "SUCCEEDED",
        submitted_at = 1691561394, request_id = "5ddcdba0-0001",
        provider_times = { gmt_create = 1691561394828, start_time = 1691561395295, end_time = 1691561396394 } },
      { id = "t2", model = "qwen3-asr-flash-filetrans", state = "queued", provider_state = "PENDING",
        submitted_at = 1691561390, request_id = "r2", provider_times = { gmt_create = 1691561390000 } },
      { id = "t4", model = "fun-asr", provider_state = "EXPLODED" },          -- an unknown status: no state
    }, out.tasks)
    assert.same({ 1, 2, 4, 4, "31a80745-0001" }, { out.page, out.pages, out.total, out.page_size, out.request_id })
  end)

  it("parse: an empty page, data null; data of another type is a protocol error; errors as ever", function()
    local out = assert(parse("list", 200, [[{"request_id":"r","data":[],"total":0,"total_page":0,"page_no":1}]]))
    assert.same({}, out.tasks)
    assert.equal(0, out.total)
    assert.same({}, assert(parse("list", 200, [[{"request_id":"r","data":null}]])).tasks)
    local _, err = parse("list", 200, [[{"request_id":"r","data":{"task_id":"x"}}]])
    assert.same({ "protocol", false }, { err.kind, err.retryable })
    _, err = parse("list", 401, [[{"code":"InvalidApiKey","message":"Invalid API-key provided."}]])
    assert.equal("auth", err.kind)
    _, err = parse("list", 200, [[{"request_id":"r","code":"Throttling.RateQuota","message":"slow down"}]])
    assert.same({ "throttled", true }, { err.kind, err.retryable })
  end)
end)

describe("dashscope SUCCEEDED without results", function()
  local function poll(body) return parse("poll", 200, body, { task = { id = "t-9" } }) end

  it("is a retryable protocol error saying the task SUCCEEDED but listed no results", function()
    -- the SDK-style wrapper the docs print: status_code, code null, message "", usage null
    for _, body in ipairs({
      [[{"status_code":200,"request_id":"r-1","code":null,"message":"",
         "output":{"task_id":"t-9","task_status":"SUCCEEDED","submit_time":"2024-09-12 15:11:40.041",
         "end_time":"2024-09-12 15:11:42.500"},"usage":null}]],
      [[{"request_id":"r-1","output":{"task_id":"t-9","task_status":"SUCCEEDED","results":[]},"usage":{"duration":3}}]],
      [[{"request_id":"r-1","output":{"task_status":"SUCCEEDED","results":null}}]],
    }) do
      local out, err = poll(body)
      assert.is_nil(out)
      assert.same({ "protocol", true, "r-1" }, { err.kind, err.retryable, err.request_id })
      assert.matches("task t%-9 SUCCEEDED but its answer lists no results", err.message)
    end
  end)

  it("a result without a transcription_url is the same error; failed and no-speech files are fine", function()
    local _, err = poll([[{"request_id":"r","output":{"task_id":"t-9","task_status":"SUCCEEDED",
      "results":[{"file_url":"https://e.com/a.wav","subtask_status":"SUCCEEDED"}]}}]])
    assert.same({ "protocol", true }, { err.kind, err.retryable })
    assert.matches("without a transcription_url", err.message)
    _, err = parse("poll", 200, [[{"request_id":"r","output":{"task_id":"q","task_status":"SUCCEEDED","result":{}}}]],
      { model = QWEN, task = { id = "q", url = A } })
    assert.matches("without a transcription_url", err.message)
    local st = assert(poll([[{"request_id":"r","output":{"task_id":"t-9","task_status":"SUCCEEDED","results":[
      {"file_url":"https://e.com/a.wav","code":"InvalidFile.DownloadFailed","message":"x","subtask_status":"FAILED"},
      {"file_url":"https://e.com/b.wav","code":"SUCCESS_WITH_NO_VALID_FRAGMENT","subtask_status":"FAILED"}]}}]]))
    assert.equal("succeeded", st.state)
    assert.equal(2, #st.files)
  end)
end)

describe("json codec", function()
  it("round-trips compactly, in order, with escapes and integers", function()
    local s = '{"b":1,"a":[true,false,null,-2.5,1e2,"\\u003c|x|\\u003e \\"q\\" \\n\\u0001 é 😀"]}'
    local v = assert(core.json_decode(s))
    assert.equal(core.null, v.a[3])
    assert.equal(math.type and "integer" or "number", math.type and math.type(v.b) or type(v.b))
    assert.equal('{"a":[true,false,null,-2.5,100,"<|x|> \\"q\\" \\n\\u0001 é 😀"],"b":1}', core.json_encode(v))
    assert.equal("\239\191\189", core.json_decode('"\\ud83d"'))    -- a lone surrogate becomes U+FFFD
  end)

  it("reports the byte offset of a syntax error", function()
    local v, err = core.json_decode('{"a" 1}')
    assert.is_nil(v)
    assert.matches("byte 5", err)
    assert.is_nil((core.json_decode('[1,]')))
    assert.is_nil((core.json_decode(string.rep("[", 500))))
  end)
  it("no per-task callbacks: a submit with callback and parse(\"notice\") are unsupported", function()
    local req, err = core.build("dashscope", "submit", { api_key = "sk-x", job = { url = "https://example.com/a.wav" },
      callback = { url = "https://h/x", data = "d" } })
    assert.is_nil(req)
    assert.equal("unsupported", err.kind)
    assert.matches("callback", err.message)
    local out, perr = core.parse("dashscope", "notice", { status = 200, headers = {}, body = "{}" })
    assert.is_nil(out)
    assert.equal("unsupported", perr.kind)
    assert.is_false(core.capabilities()["dashscope"].callback)
  end)
end)
