-- TCL Turing wire schema (csrc/providers/turing.c) through core.build / core.parse. Pure: no
-- network. Shapes from the public doc (https://live-turing-docs.cn.llm.tcljd.com/api-guides/generation/stt/)
-- and docs/providers.md#tcl-turing.
local core = require "stt.core"

local P = "turing"
local KEY = "tur-TEST-0123456789-SECRET"
local BASE = "https://live-turing.cn.llm.tcljd.com/api/v1"
local A = "https://example.com/speech.mp3"

local S = require("schema_helper").new {
  provider = P, secrets = { api_key = KEY }, secret_headers = { Authorization = true },
}
local build, parse, body_of, refused = S.build, S.parse, S.body_of, S.refused
local assert_no_key = S.assert_no_secret

local TAIL = '"turing_options":{"include_service_usages":true}}'

describe("turing schema", function()
  describe("build", function()
    it("the doc's request, byte for byte", function()
      local req = assert(build("submit", { job = { url = A, language = "zh", speakers = 2 } }))
      assert.equal("POST", req.method)
      assert.equal(BASE .. "/audio/transcriptions/runs", req.url)
      assert.same({ { "Authorization", "Bearer " .. KEY }, { "Content-Type", "application/json" } }, req.headers)
      assert.equal('{"service_name":"aliyun/tingwu","language_code":"cn","file":{"type":"public_uri",'
        .. '"file_uri":"' .. A .. '"},"diarization":{"enabled":true,"speaker_number":2},' .. TAIL, req.body)
    end)

    it("sends only what the job asks for (plus service_name, file and usage)", function()
      assert.equal('{"service_name":"aliyun/tingwu","file":{"type":"public_uri","file_uri":"' .. A .. '"},'
        .. TAIL, body_of({ url = A }))
    end)

    it("language: zh -> cn, auto/multi -> fspk, en/yue/ja as they are; others invalid", function()
      local function lang(l) return core.json_decode(body_of({ url = A, language = l })).language_code end
      assert.same({ "cn", "en", "yue", "ja", "fspk", "fspk" },
        { lang("zh"), lang("en"), lang("yue"), lang("ja"), lang("auto"), lang("multi") })
      refused("invalid", { url = A, language = "de" })
      refused("invalid", { url = A, language = { "en" } })
    end)

    it("speakers: true enables without a count; 1 and false disable", function()
      assert.matches('"diarization":{"enabled":true},', body_of({ url = A, speakers = true }))
      assert.matches('"diarization":{"enabled":false},', body_of({ url = A, speakers = 1 }))
      assert.matches('"diarization":{"enabled":false},', body_of({ url = A, speakers = false }))
      refused("invalid", { url = A, speakers = 0 })
      refused("invalid", { url = A, speakers = "two" })
    end)

    it("hotwords -> phrase_set [{word, weight}]; phrase_id -> the id string; not both", function()
      assert.matches('"phrase_set":%[{"word":"TCL","weight":3},{"word":"雷鸟"}%],',
        body_of({ url = A, hotwords = { { word = "TCL", weight = 3, lang = "en" }, "雷鸟" } }))
      assert.matches('"phrase_set":"phrase%-123",', body_of({ url = A, phrase_id = "phrase-123" }))
      refused("invalid", { url = A, phrase_id = "p", hotwords = { "x" } })
      refused("invalid", { url = A, hotwords = {} })
      refused("invalid", { url = A, phrase_id = "" })
    end)

    it("transcoding -> extra.Parameters.Transcoding (the doc's example); extra merges at the root", function()
      assert.equal('{"service_name":"aliyun/tingwu","file":{"type":"public_uri","file_uri":"' .. A .. '"},'
        .. '"extra":{"Parameters":{"Transcoding":{"TargetAudioFormat":"mp3","TargetVideoFormat":"mp4"},'
        .. '"Transcription":{"OutputLevel":2}}},"turing_options":{"include_service_usages":false}}',
        body_of({ url = A, transcoding = { TargetAudioFormat = "mp3", TargetVideoFormat = "mp4" },
          extra = { extra = { Parameters = { Transcription = { OutputLevel = 2 } } },
                    turing_options = { include_service_usages = false } } }))
      refused("invalid", { url = A, transcoding = "mp3" })
      refused("invalid", { url = A, extra = 1 })
    end)

    local unsupported = { { "itn", true }, { "punctuation", true }, { "disfluency", true }, { "channels", { 0 } },
      { "words", true }, { "vad", true }, { "context", "x" }, { "vocabulary_id", "v" }, { "emotion", true },
      { "format", "mp3" }, { "sensitive_words_filter", "{}" }, { "temperature", 0 } }
    for _, c in ipairs(unsupported) do
      it(("refuses %s as unsupported, naming option, provider and model"):format(c[1]), function()
        local err = refused("unsupported", { url = A, [c[1]] = c[2] })
        assert.equal(('option "%s" is not supported by turing model "aliyun/tingwu"'):format(c[1]), err.message)
      end)
    end

    it("input: one url (a one-element urls too); batches unsupported; an unknown model", function()
      assert.matches('"file_uri":"' .. A .. '"', body_of({ urls = { A } }))
      refused("unsupported", { urls = { A, A } })
      refused("invalid", {})
      refused("invalid", { url = A, urls = { A } })
      refused("invalid", { url = "" })
      local _, err = build("submit", { model = "aliyun/paraformer", job = { url = A } })
      assert.equal("unsupported", err.kind)
      assert.matches('model "aliyun/paraformer"', err.message, 1, true)
    end)

    it("auth: Bearer; no key is an auth error naming TURING_API_KEY; base_url", function()
      local _, err = build("submit", { api_key = false, job = { url = A } })
      assert.equal("auth", err.kind)
      assert.matches("TURING_API_KEY", err.message)
      _, err = core.build(P, "poll", { api_key = KEY .. "\n", task = { id = "run_1" } })
      assert.equal("auth", err.kind)
      assert_no_key(err)
      assert.equal("http://127.0.0.1:9/t/api/v1/audio/transcriptions/runs",
        build("submit", { base_url = "http://127.0.0.1:9/t/api/v1/", job = { url = A } }).url)
    end)

    it("poll: GET {base}/audio/transcriptions/runs/{id} (escaped), Authorization only", function()
      local req = assert(build("poll", { task = { id = "run_xxx" } }))
      assert.same({ method = "GET", url = BASE .. "/audio/transcriptions/runs/run_xxx",
        headers = { { "Authorization", "Bearer " .. KEY } } }, req)
      assert.equal(BASE .. "/audio/transcriptions/runs/a%2Fb%3F", build("poll", { task = { id = "a/b?" } }).url)
      local _, err = build("poll", { task = {} })
      assert.equal("invalid", err.kind)
      _, err = build("cancel", { task = { id = "run_xxx" } })
      assert.equal("unsupported", err.kind)
    end)

    it("hotwords op: phrase_set entries", function()
      assert.same({ field = "phrase_set", value = { { word = "TCL", weight = 2 }, { word = "雷鸟" } } },
        core.build(P, "hotwords", { hotwords = { { word = "TCL", weight = 2 }, { word = "雷鸟" } } }))
      local _, err = core.build(P, "hotwords", { hotwords = { 5 } })
      assert.equal("invalid", err.kind)
    end)
  end)

  describe("parse", function()
    it("submit: data.task_run_id; the doc's running state", function()
      local t = assert(parse("submit", 200, '{"code":0,"message":"Success","data":{"task_run_id":"run_xxx",'
        .. '"task_run_state":"running"}}', { headers = { ["x-request-id"] = "rq-1" } }))
      assert.same({ id = "run_xxx", state = "running", request_id = "rq-1" }, t)
      local _, err = parse("submit", 200, '{"code":0,"message":"Success","data":{}}')
      assert.equal("protocol", err.kind)
      assert.is_false(err.retryable)
    end)

    it("code ~= 0 is an error even with HTTP 200", function()
      local _, err = parse("submit", 200, '{"code":40001,"message":"invalid file_uri","data":null}')
      assert.equal("invalid", err.kind)
      assert.equal("40001", err.code)
      assert.equal(200, err.status)
      assert.matches("invalid file_uri", err.message)
      _, err = parse("poll", 200, '{"code":401,"message":"bad key"}')
      assert.equal("auth", err.kind)
      _, err = parse("poll", 200, '{"code":42900,"message":"slow down"}')
      assert.equal("throttled", err.kind)
      assert.is_true(err.retryable)
      _, err = parse("poll", 200, '{"code":50001,"message":"backend exploded"}')
      assert.same({ "server", "50001", false }, { err.kind, err.code, err.retryable })
      _, err = parse("poll", 200, '{"code":"Throttling.User","message":"qps"}')
      assert.equal("throttled", err.kind)
      _, err = parse("poll", 200, '{"code":7,"message":"odd"}')
      assert.equal("invalid", err.kind)
      assert.is_false(err.retryable)
      assert.equal("running", parse("poll", 200, '{"code":"0","data":{"task_run_state":"running"}}').state)
    end)

    it("HTTP errors: the status decides, with the envelope's message and Retry-After", function()
      local _, err = parse("poll", 503, '{"code":50300,"message":"unavailable"}',
        { headers = { ["retry-after"] = "4" } })
      assert.equal("server", err.kind)
      assert.is_true(err.retryable)
      assert.equal(4, err.retry_after)
      _, err = parse("poll", 404, '{"code":404,"message":"task not found"}')
      assert.equal("not_found", err.kind)
      _, err = parse("submit", 502, "<html>bad gateway</html>")
      assert.equal("server", err.kind)
      assert.matches("bad gateway", err.message)
      _, err = parse("poll", 200, "not json")
      assert.equal("protocol", err.kind)
      assert.is_true(err.retryable)
    end)

    it("poll: running, unknown states in progress with provider_state, failed", function()
      assert.same({ state = "running", provider_state = "running" },
        parse("poll", 200, '{"code":0,"message":"Success","data":{"task_run_id":"run_x","task_run_state":"running"}}'))
      local st = parse("poll", 200, '{"code":0,"data":{"task_run_state":"transcoding"}}')
      assert.same({ "running", "transcoding" }, { st.state, st.provider_state })
      assert.equal("queued", parse("poll", 200, '{"code":0,"data":{"task_run_state":"queued"}}').state)
      st = parse("poll", 200, '{"code":0,"message":"Success","data":{"task_run_state":"failed",'
        .. '"error":{"code":"FILE_DOWNLOAD_FAILED","message":"cannot download"}}}')
      assert.equal("failed", st.state)
      assert.same({ "task_failed", "FILE_DOWNLOAD_FAILED", "cannot download", false },
        { st.error.kind, st.error.code, st.error.message, st.error.retryable })
      st = parse("poll", 200, '{"code":0,"message":"Success","data":{"task_run_state":"failed"}}')
      assert.equal("turing: the task failed", st.error.message)
      local _, err = parse("poll", 200, '{"code":0,"data":{}}')
      assert.equal("protocol", err.kind)
    end)

    local DONE = [[{"code":0,"message":"Success","data":{"task_run_id":"run_xxx","task_run_state":"completed",
      "transcript":"第一段 第二段","segments":[
        {"start_time":0,"end_time":3200,"text":"第一段","words":[]},
        {"start_time":3200,"end_time":5100,"text":"第二段","speaker":"2",
         "words":[{"start_time":3200,"end_time":3900,"text":"第二"},{"Start":3900,"End":5100,"Text":"段"}]}],
      "audio_info":{"duration_ms":42300},"service_usages":[{"service":"aliyun/tingwu","duration":42.5}]}}]]

    it("poll completed: the inline result, normalized, with usage", function()
      local st = assert(parse("poll", 200, DONE))
      assert.equal("succeeded", st.state)
      assert.same({ audio_ms = 42300, billed_ms = 42500 }, st.usage)
      local r = st.result
      assert.same({ P, "aliyun/tingwu", "run_xxx", "第一段 第二段", 42300 },
        { r.provider, r.model, r.task_id, r.text, r.duration_ms })
      assert.same({ start_ms = 0, end_ms = 3200, text = "第一段" }, r.segments[1])
      assert.same({ start_ms = 3200, end_ms = 5100, text = "第二段", speaker = "2",
        words = { { start_ms = 3200, end_ms = 3900, text = "第二" }, { start_ms = 3900, end_ms = 5100, text = "段" } } },
        r.segments[2])
      assert.same(r.usage, st.usage)
      assert.equal("run_xxx", r.raw.data.task_run_id)
    end)

    it("result: the same body through parse('result'); the doc's example", function()
      local r = assert(parse("result", 200, '{"code":0,"message":"Success","data":{"task_run_id":"run_xxx",'
        .. '"task_run_state":"completed","transcript":"完整转写文本...","segments":[{"start_time":0,"end_time":3200,'
        .. '"text":"第一段","words":[]}],"audio_info":{"duration_ms":42300}}}'))
      assert.equal("完整转写文本...", r.text)
      assert.same({ audio_ms = 42300 }, r.usage)
      assert.equal(1, #r.segments)
    end)

    it("a duration too large for an integer is left out (found by make fuzz)", function()
      local st = assert(parse("poll", 200, (DONE:gsub('"duration_ms":42300', '"duration_ms":1.7e52'))))
      assert.is_nil(st.result.duration_ms)
      assert.same({ billed_ms = 42500 }, st.usage)
    end)
  end)
  it("no per-task callbacks: a submit with callback and parse(\"notice\") are unsupported", function()
    local req, err = core.build("turing", "submit", { api_key = "sk-x", job = { url = "https://example.com/a.wav" },
      callback = { url = "https://h/x", data = "d" } })
    assert.is_nil(req)
    assert.equal("unsupported", err.kind)
    assert.matches("callback", err.message)
    local out, perr = core.parse("turing", "notice", { status = 200, headers = {}, body = "{}" })
    assert.is_nil(out)
    assert.equal("unsupported", perr.kind)
    assert.is_false(core.capabilities()["turing"].callback)
  end)
end)
