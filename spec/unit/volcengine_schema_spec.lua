-- Volcengine LAS operator las_asr v2 wire schema (csrc/providers/volcengine.c and
-- volcengine_common.c) through the binding: core.build / core.parse. Pure: no network.
-- Bodies are hand-written in the shapes of docs/providers.md#volcengine-las and of the LAS doc
-- (https://www.volcengine.com/docs/6492/2172368).
local core = require "stt.core"

local P = "volcengine"
local KEY = "las-TEST-0123456789abcdef-SECRET"   -- must never show up in an error
local BASE = "https://operator.las.cn-beijing.volces.com/api/v1"
local A = "https://example.com/audio/badaling.wav"

local S = require("schema_helper").new {
  provider = P, secrets = { api_key = KEY }, secret_headers = { Authorization = true },
}
local build, parse, body_of, refused = S.build, S.parse, S.body_of, S.refused
local assert_no_key = S.assert_no_secret

local HEAD = '{"operator_id":"las_asr","operator_version":"v2","data":{'
local REQ0 = '"request":{"model_name":"bigmodel","enable_itn":true,"show_utterances":true'

describe("volcengine (LAS) schema", function()
  describe("submit", function()
    it("the minimal request: POST {base}/submit, raw key, the doc's body plus our defaults", function()
      local req = assert(build("submit", { job = { url = A } }))
      assert.equal("POST", req.method)
      assert.equal(BASE .. "/submit", req.url)
      assert.same({ { "Authorization", KEY }, { "Content-Type", "application/json" } }, req.headers)
      assert.equal(HEAD .. '"audio":{"url":"' .. A .. '","format":"wav"},"resource":"bigasr",'
        .. REQ0 .. '}}}', req.body)
    end)

    it("maps every option, in a fixed order; corpus.context and the filter are JSON strings", function()
      assert.equal(HEAD .. '"audio":{"url":"' .. A .. '","format":"ogg","language":"en-US","channel":2},'
        .. '"resource":"seedasr",'
        .. '"request":{"model_name":"bigmodel","enable_itn":false,"show_utterances":true,'
        .. '"enable_punc":true,"enable_ddc":true,"enable_speaker_info":true,"enable_channel_split":true,'
        .. '"vad_segment":true,"end_window_size":800,"show_speech_rate":true,"show_volume":true,'
        .. '"enable_lid":true,"enable_emotion_detection":true,"enable_gender_detection":true,'
        .. '"sensitive_words_filter":"{\\"filter_with_empty\\":[\\"x\\"],\\"system_reserved_filter\\":true}",'
        .. '"corpus":{"context":"{\\"hotwords\\":[{\\"word\\":\\"火山\\"},{\\"word\\":\\"Lua\\"}],'
        .. '\\"context_type\\":\\"dialog_ctx\\",\\"context_data\\":[{\\"text\\":\\"我在北京\\"}]}"}}}}',
        body_of({
          url = A, format = "ogg", language = "en", channels = { 0, 1 }, itn = false, punctuation = true,
          disfluency = true, speakers = 3, words = true, vad = { segment = true, end_window_ms = 800 },
          speech_rate = true, volume = true, detect_language = true, emotion = true, gender = true,
          sensitive_words_filter = { system_reserved_filter = true, filter_with_empty = { "x" } },
          context = "我在北京", hotwords = { { word = "火山", weight = 8 }, "Lua" }, force = true, id = "j1",
        }, { model = "seedasr" }))
    end)

    it("enable_itn is always explicit (doc defaults flipped); utterances always on", function()
      assert.matches('"enable_itn":true', body_of({ url = A }))
      assert.matches('"enable_itn":false', body_of({ url = A, itn = false }))
      assert.matches('"show_utterances":true', body_of({ url = A, words = false }))
    end)

    it("format: explicit, else from the URL extension, else left out (never a guessed label)", function()
      local function fmt(job) return body_of(job):match('"format":"(%w+)"') end
      assert.equal("wav", fmt({ url = "https://h/x.WAV?sig=a.mp3" }))
      assert.equal("ogg", fmt({ url = "https://h/x.opus" }))
      assert.equal("ogg", fmt({ url = "https://h/x.ogg" }))
      assert.equal("raw", fmt({ url = "https://h/x.pcm#t" }))
      assert.equal("mp3", fmt({ url = "https://h/x.Mp3" }))
      -- containers the doc does not list are not mislabelled "mp3": the service detects them
      for _, u in ipairs({ "https://h/x.m4a", "https://h/x.aac", "https://h/x.flac", "https://h/x.mp4",
                           "https://h.example/dir.wav/file", "https://h/noext", "https://h/x.", "https://h/x.wavv" }) do
        assert.is_nil(fmt({ url = u }), u)
      end
      assert.equal(HEAD .. '"audio":{"url":"https://h/x.m4a"},"resource":"bigasr",' .. REQ0 .. '}}}',
        body_of({ url = "https://h/x.m4a" }))
      -- the option wins over the extension; opus / pcm name the doc's ogg / raw
      assert.equal("raw", fmt({ url = A, format = "raw" }))
      assert.equal("mp3", fmt({ url = "https://h/x.m4a", format = "mp3" }))
      assert.equal("ogg", fmt({ url = "https://h/x", format = "opus" }))
      assert.equal("raw", fmt({ url = "https://h/x", format = "pcm" }))
      for _, f in ipairs({ "flac", "m4a", "aac", "WAV", "", 3 }) do
        local err = refused("invalid", { url = A, format = f })
        assert.matches("leave it out", err.message)
      end
    end)

    it("language: zh/auto leave the field out; locales pass through", function()
      assert.not_matches('"language"', body_of({ url = A, language = "zh" }))
      assert.not_matches('"language"', body_of({ url = A, language = "auto" }))
      assert.matches('"language":"ja%-JP"', body_of({ url = A, language = "ja" }))
      assert.matches('"language":"id%-ID"', body_of({ url = A, language = "id-ID" }))
    end)

    it("speakers: a number > 1 or true enables diarization; 1 and false send nothing", function()
      assert.matches('"enable_speaker_info":true', body_of({ url = A, speakers = true }))
      assert.matches('"enable_speaker_info":true', body_of({ url = A, speakers = 2 }))
      assert.not_matches("speaker", body_of({ url = A, speakers = 1 }))
      assert.not_matches("speaker", body_of({ url = A, speakers = false }))
    end)

    it("channels: {0,1} or 2 split stereo; {0} or 1 declare mono", function()
      assert.matches('"channel":2.*"enable_channel_split":true', body_of({ url = A, channels = 2 }))
      local mono = body_of({ url = A, channels = { 0 } })
      assert.matches('"channel":1', mono)
      assert.not_matches("split", mono)
    end)

    it("vad = true; end_window_ms alone; context as dialog turns; hotwords alone", function()
      assert.matches('"vad_segment":true}', body_of({ url = A, vad = true }))
      assert.matches('"end_window_size":300}', body_of({ url = A, vad = { end_window_ms = 300 } }))
      assert.matches('"context":"{\\"context_type\\":\\"dialog_ctx\\",\\"context_data\\":%[{\\"text\\":\\"b\\"},'
        .. '{\\"text\\":\\"a\\"}%]}"', body_of({ url = A, context = { "b", "a" } }))
      assert.matches('"corpus":{"context":"{\\"hotwords\\":%[{\\"word\\":\\"a\\"}%]}"}}',
        body_of({ url = A, hotwords = { { word = "a" } } }))
    end)

    -- (extra's own keys arrive sorted: Lua tables have no order, the binding sorts them)
    it("merges extra recursively into data (user.uid, audio.rate, request fields)", function()
      assert.equal(HEAD .. '"audio":{"url":"' .. A .. '","format":"wav","rate":8000},"resource":"bigasr",'
        .. REQ0 .. ',"enable_punc":false,"corpus":{"boosting_table_name":"t"},"enable_poi_fc":true},'
        .. '"user":{"uid":"u1"}}}',
        body_of({ url = A, punctuation = true, extra = {
          user = { uid = "u1" }, audio = { rate = 8000 },
          request = { enable_punc = false, enable_poi_fc = true, corpus = { boosting_table_name = "t" } },
        } }))
    end)

    it("a one-element urls list is one file; a batch is unsupported", function()
      assert.matches('"url":"' .. A .. '"', body_of({ urls = { A } }))
      local err = refused("unsupported", { urls = { A, A } })
      assert.matches('option "urls" is not supported by volcengine model "bigasr"', err.message, 1, true)
    end)

    local unsupported = {
      { "vocabulary_id", "v" }, { "phrase_id", "p" }, { "transcoding", { TargetAudioFormat = "mp3" } },
      { "temperature", 1 }, { "prompt", "x" },
    }
    for _, c in ipairs(unsupported) do
      it(("refuses %s as unsupported, naming option, provider and model"):format(c[1]), function()
        local err = refused("unsupported", { url = A, [c[1]] = c[2] }, { model = "seedasr" })
        assert.equal(('option "%s" is not supported by volcengine model "seedasr"'):format(c[1]), err.message)
      end)
    end

    it("refuses bad values as invalid", function()
      refused("invalid", {})
      refused("invalid", { url = A, urls = { A } })
      refused("invalid", { url = "" })
      refused("invalid", { urls = {} })
      refused("invalid", { url = A, format = "flac" })
      refused("invalid", { url = A, itn = "yes" })
      refused("invalid", { url = A, speakers = 0 })
      refused("invalid", { url = A, speakers = 2.5 })
      refused("invalid", { url = A, channels = { 1 } })
      refused("invalid", { url = A, channels = { 0, 2 } })
      refused("invalid", { url = A, channels = 3 })
      refused("invalid", { url = A, vad = { end_window_ms = 299 } })
      refused("invalid", { url = A, vad = { end_window_ms = 5001 } })
      refused("invalid", { url = A, vad = { segment = "yes" } })
      refused("invalid", { url = A, vad = "x" })
      refused("invalid", { url = A, context = 5 })
      refused("invalid", { url = A, context = { 1 } })
      refused("invalid", { url = A, hotwords = {} })
      refused("invalid", { url = A, hotwords = { { weight = 3 } } })
      refused("invalid", { url = A, hotwords = { { word = "a", weight = "high" } } })
      refused("invalid", { url = A, sensitive_words_filter = 5 })
      refused("invalid", { url = A, language = 5 })
      refused("invalid", { url = A, extra = "x" })
      refused("unsupported", { url = A, vad = { segment = true, silence = 1 } })
    end)

    it("refuses an unknown model, naming it", function()
      local err = refused("unsupported", { url = A }, { model = "whisper-1" })
      assert.matches('model "whisper-1"', err.message, 1, true)
      assert.equal("seedasr", core.json_decode(body_of({ url = A, model = "seedasr" }, { model = "x" })).data.resource)
    end)
  end)

  describe("auth, base url, poll, other ops", function()
    it("auth_prefix: raw (default), Bearer, ApiKey; anything else is refused", function()
      local function auth(prefix)
        return build("submit", { auth_prefix = prefix, job = { url = A } }).headers[1][2]
      end
      assert.equal(KEY, auth(nil))
      assert.equal(KEY, auth(""))
      assert.equal("Bearer " .. KEY, auth("Bearer"))
      assert.equal("Bearer " .. KEY, auth("Bearer "))
      assert.equal("ApiKey " .. KEY, auth("ApiKey"))
      local _, err = build("submit", { auth_prefix = "Basic", job = { url = A } })
      assert.equal("invalid", err.kind)
    end)

    it("no key, or a key with a line break: auth error without the key", function()
      local _, err = build("submit", { api_key = false, job = { url = A } })
      assert.equal("auth", err.kind)
      assert.matches("LAS_API_KEY", err.message)
      _, err = core.build(P, "submit", { api_key = KEY .. "\r\nX: y", job = { url = A } })
      assert.equal("auth", err.kind)
      assert_no_key(err)
    end)

    it("base_url loses one trailing slash; region ap-southeast-1 is BytePlus", function()
      assert.equal("http://127.0.0.1:9/las/api/v1/submit",
        build("submit", { base_url = "http://127.0.0.1:9/las/api/v1/", job = { url = A } }).url)
      assert.equal("https://operator.las.ap-southeast-1.bytepluses.com/api/v1/submit",
        build("submit", { region = "ap-southeast-1", job = { url = A } }).url)
      local _, err = build("submit", { region = "mars", job = { url = A } })
      assert.equal("invalid", err.kind)
    end)

    it("poll: POST {base}/poll with the id at the top level (vendor client) AND in data (doc curl)", function()
      local req = assert(build("poll", { auth_prefix = "Bearer", task = { id = "xxxxx123ef24ea40546c-las-asr" } }))
      assert.equal("POST", req.method)
      assert.equal(BASE .. "/poll", req.url)
      assert.same({ { "Authorization", "Bearer " .. KEY }, { "Content-Type", "application/json" } }, req.headers)
      assert.equal('{"operator_id":"las_asr","operator_version":"v2","task_id":"xxxxx123ef24ea40546c-las-asr",'
        .. '"data":{"task_id":"xxxxx123ef24ea40546c-las-asr"}}',
        req.body)
      local _, err = build("poll", { task = {} })
      assert.equal("invalid", err.kind)
    end)

    it("cancel and fetch are unsupported; unknown ops are invalid", function()
      local _, err = build("cancel", { task = { id = "t" } })
      assert.equal("unsupported", err.kind)
      _, err = build("fetch", { url = "https://x" })
      assert.equal("unsupported", err.kind)
      _, err = build("frobnicate", {})
      assert.equal("invalid", err.kind)
    end)

    it("hotwords op: the corpus.context JSON string, weights dropped", function()
      local out = assert(core.build(P, "hotwords",
        { hotwords = { { word = "火山引擎", weight = 5, lang = "zh" }, "LAS" } }))
      assert.equal("data.request.corpus.context", out.field)
      assert.equal('{"hotwords":[{"word":"火山引擎"},{"word":"LAS"}]}', out.value)
      local _, err = core.build(P, "hotwords", { hotwords = "x" })
      assert.equal("invalid", err.kind)
      _, err = core.build(P, "hotwords", { model = "nope", hotwords = { "x" } })
      assert.equal("unsupported", err.kind)
    end)
  end)

  describe("parse", function()
    local META = '"metadata":{"task_id":"t-las","task_status":"%s","business_code":"%s","error_msg":"%s",'
      .. '"request_id":"494022a8"}'
    local function meta(status, code, msg) return META:format(status, code or "0", msg or "") end

    it("submit: ACCEPTED -> queued task with id and request id", function()
      local t = assert(parse("submit", 200, "{" .. meta("ACCEPTED") .. "}"))
      assert.same({ id = "t-las", state = "queued", request_id = "494022a8" }, t)
      assert.equal("queued", parse("submit", 200, "{" .. meta("PENDING") .. "}").state)
    end)

    it("submit: no task id is a protocol error that is NOT retried (it may exist)", function()
      local _, err = parse("submit", 200, '{"metadata":{"task_status":"ACCEPTED","business_code":"0"}}')
      assert.equal("protocol", err.kind)
      assert.is_false(err.retryable)
    end)

    it("submit: business codes 2002/2003 are retryable, others invalid", function()
      local _, err = parse("submit", 200, '{"metadata":{"business_code":"2003","error_msg":"busy"}}')
      assert.equal("throttled", err.kind)
      assert.is_true(err.retryable)
      assert.equal("2003", err.code)
      _, err = parse("submit", 200, '{"metadata":{"business_code":"2002","error_msg":"timeout"}}')
      assert.equal("server", err.kind)
      assert.is_true(err.retryable)
      _, err = parse("submit", 200, '{"metadata":{"business_code":1001,"error_msg":"bad url"}}')
      assert.equal("invalid", err.kind)
      assert.equal("1001", err.code)
      assert.matches("bad url", err.message)
    end)

    local documented = {
      { 400, "Parameter.Invalid", "The parameter is invalid.", "invalid", false },
      { 401, "Authorization.Missing", "Missing Authorization.", "auth", false },
      { 401, "ApiKey.Invalid", "The api key is invalid.", "auth", false },
      { 429, "Server.Busy", "Server is Busy, please try again later.", "throttled", true },
      { 500, "Server.InternalError", "boom", "server", true },
    }
    for _, d in ipairs(documented) do
      it(("HTTP %d %s -> %s (metadata envelope and plain {code,message})"):format(d[1], d[2], d[4]), function()
        for _, body in ipairs({
          ('{"metadata":{"business_code":"%s","error_msg":"%s","request_id":"r9"}}'):format(d[2], d[3]),
          ('{"code":"%s","message":"%s","request_id":"r9"}'):format(d[2], d[3]),
        }) do
          local _, err = parse("poll", d[1], body, { headers = { ["retry-after"] = "3" } })
          assert.equal(d[4], err.kind)
          assert.equal(d[5], err.retryable)
          assert.equal(d[2], err.code)
          assert.equal(d[1], err.status)
          assert.equal("r9", err.request_id)
          assert.equal(3, err.retry_after)
          assert.matches(d[3], err.message, 1, true)
        end
      end)
    end

    it("errors without a JSON body fall back to the status; the log id is the request id", function()
      local _, err = parse("submit", 502, "<html>bad gateway</html>", { headers = { ["x-tt-logid"] = "L1" } })
      assert.equal("server", err.kind)
      assert.is_true(err.retryable)
      assert.equal("L1", err.request_id)
      assert.matches("bad gateway", err.message)
      _, err = parse("submit", 404, "")
      assert.equal("not_found", err.kind)
    end)

    it("a 2xx body that is not a JSON object is a retryable protocol error", function()
      local _, err = parse("poll", 200, "")
      assert.equal("protocol", err.kind)
      assert.is_true(err.retryable)
      _, err = parse("poll", 200, "[1]")
      assert.equal("protocol", err.kind)
    end)

    it("poll: ACCEPTED, PENDING queued; RUNNING running; unknown states still in progress", function()
      assert.same({ state = "queued", provider_state = "ACCEPTED", request_id = "494022a8" },
        parse("poll", 200, "{" .. meta("ACCEPTED") .. "}"))
      assert.equal("queued", parse("poll", 200, "{" .. meta("PENDING") .. "}").state)
      assert.equal("running", parse("poll", 200, "{" .. meta("RUNNING") .. "}").state)
      local st = parse("poll", 200, "{" .. meta("QUEUED_AGAIN") .. "}")
      assert.equal("running", st.state)
      assert.equal("QUEUED_AGAIN", st.provider_state)
      local _, err = parse("poll", 200, '{"metadata":{"business_code":"0"}}')
      assert.equal("protocol", err.kind)
    end)

    it("poll: FAILED and TIMEOUT are failed tasks with task_failed errors", function()
      local st = assert(parse("poll", 200, "{" .. meta("FAILED", "1013", "audio download failed") .. "}"))
      assert.equal("failed", st.state)
      assert.equal("FAILED", st.provider_state)
      assert.equal("task_failed", st.error.kind)
      assert.equal("1013", st.error.code)
      assert.equal("audio download failed", st.error.message)
      assert.is_false(st.error.retryable)
      st = assert(parse("poll", 200, "{" .. meta("TIMEOUT") .. "}"))
      assert.equal("failed", st.state)
      assert.equal("TIMEOUT", st.error.code)
      assert.matches("timed out", st.error.message)
    end)

    -- the LAS doc's COMPLETED example, with speakers/channels/additions added
    local COMPLETED = [[{"metadata":{"task_id":"t-las","task_status":"COMPLETED","business_code":"0","error_msg":"",
      "request_id":"d204c21f"},
     "data":{"audio_info":{"duration":3575},"result":{"additions":{"duration":"3575"},"text":"参观达*长城。 Hi.",
      "utterances":[
       {"additions":{"channel_id":"2","speaker":"2","emotion":"happy","gender":"female","speech_rate":"4.5",
         "volume":"-20.25","lid_lang":"speech_en"},"start_time":2400,"end_time":3500,"text":"Hi.",
         "words":[{"confidence":0.9,"start_time":2400,"end_time":3500,"text":"Hi","blank_duration":0}]},
       {"additions":{"channel_id":"1","speaker":"1","lid_lang":"speech_mand"},"end_time":2320,"start_time":640,
         "text":"参观达*长城。","definite":true,
         "words":[{"confidence":0,"end_time":920,"start_time":640,"text":"参"},
                  {"confidence":0,"end_time":1120,"start_time":920,"text":"观"}]}]}}}]]

    it("poll COMPLETED: the inline result, normalized (ms, 0-based channels, string speakers)", function()
      local st = assert(parse("poll", 200, COMPLETED, { model = "seedasr" }))
      assert.equal("succeeded", st.state)
      assert.equal("COMPLETED", st.provider_state)
      assert.same({ audio_ms = 3575 }, st.usage)
      local r = st.result
      assert.equal("volcengine", r.provider)
      assert.equal("seedasr", r.model)
      assert.equal("t-las", r.task_id)
      assert.equal("参观达*长城。 Hi.", r.text)
      assert.equal(3575, r.duration_ms)
      assert.equal(2, #r.segments)
      assert.same({ start_ms = 640, end_ms = 2320, text = "参观达*长城。", speaker = "1", channel = 0,
        language = "speech_mand",
        words = { { start_ms = 640, end_ms = 920, text = "参", confidence = 0 },
                  { start_ms = 920, end_ms = 1120, text = "观", confidence = 0 } } }, r.segments[1])
      local s2 = r.segments[2]
      assert.same({ 2400, 3500, "Hi.", "2", 1, "happy", "female", 4.5, -20.25, "speech_en" },
        { s2.start_ms, s2.end_ms, s2.text, s2.speaker, s2.channel, s2.emotion, s2.gender, s2.speech_rate,
          s2.volume, s2.language })
      assert.same({ { start_ms = 2400, end_ms = 3500, text = "Hi", confidence = 0.9 } }, s2.words)
      assert.equal("d204c21f", r.raw.metadata.request_id)
      assert.equal(math.type and "integer" or "number", math.type and math.type(r.segments[1].start_ms) or "number")
    end)

    it("duration: seconds (as the LAS doc says) are told apart from ms by the data", function()
      local function dur(audio_info, additions)
        local body = '{"metadata":{"task_id":"t","task_status":"COMPLETED","business_code":"0"},'
          .. '"data":{"audio_info":' .. audio_info .. ',"result":{"text":"x",' .. (additions or "")
          .. '"utterances":[{"start_time":0,"end_time":4000,"text":"x"}]}}}'
        return parse("poll", 200, body).result.duration_ms
      end
      assert.equal(4200, dur('{"duration":4200}'))            -- ms
      assert.equal(5000, dur('{"duration":5}'))               -- seconds: far shorter than the last end
      assert.equal(4250, dur('{"duration":4.25}'))            -- fractional: seconds
      assert.equal(4100, dur('{"duration":4}', '"additions":{"duration":"4100"},'))   -- additions win
      assert.is_nil(dur('{}'))
    end)

    it("COMPLETED without data.result is a retryable protocol error; result text joins utterances", function()
      local _, err = parse("poll", 200, "{" .. meta("COMPLETED") .. "}")
      assert.equal("protocol", err.kind)
      assert.is_true(err.retryable)
      local r = assert(parse("result", 200, '{"result":[{"utterances":[{"start_time":5,"end_time":9,"text":"b"},'
        .. '{"start_time":1,"end_time":4,"text":"a"}]}]}'))
      assert.equal("a b", r.text)
      assert.equal("a", r.segments[1].text)
      assert.is_nil(r.segments[1].words)
    end)

    it("result: a whole poll body or a bare {audio_info, result} (sans-I/O stt.parse)", function()
      local r = assert(parse("result", 200, COMPLETED))
      assert.equal("t-las", r.task_id)
      assert.equal(2, #r.segments)
      r = assert(parse("result", 200, '{"audio_info":{"duration":10},"result":{"text":"","utterances":[]}}'))
      assert.same({}, r.segments)
      assert.equal("bigasr", r.model)
      local _, err = parse("result", 200, '{"x":1}')
      assert.equal("protocol", err.kind)
      _, err = parse("frobnicate", 200, "{}")
      assert.equal("invalid", err.kind)
    end)
  end)
  describe("callbacks", function()
    local CB = { url = "https://my.host/stt/callback", data = "stt1.job-1.abc" }

    it("submit: callback and callback_data inside data.request (the only LAS revision that shows them)", function()
      local req = assert(S.submit({ url = A }, { callback = CB }))
      local body = assert(core.json_decode(req.body))
      assert.equal(CB.url, body.data.request.callback)
      assert.equal(CB.data, body.data.request.callback_data)
      assert.is_nil(body.data.callback)
      assert.is_nil(body.callback)
      -- without the option nothing is added
      assert.is_nil(body_of({ url = A }):find("callback", 1, true))
    end)

    it("a bad callback is invalid before anything is sent", function()
      for _, cb in ipairs({ { url = "ftp://x/y", data = "d" }, { url = "https://h/x" },
                            { url = "https://h/x", data = "" },
                            { data = "d" } }) do
        local _, err = S.submit({ url = A }, { callback = cb })
        assert.equal("invalid", err.kind)
      end
    end)

    it("parse notice: every plausible payload (poll answer, data/resp wrappers, callback_data anywhere)", function()
      local function notice(body, headers)
        return assert(parse("notice", 200, body, { headers = headers or {} }))
      end
      local n = notice('{"metadata":{"task_id":"t-1-las-asr","task_status":"COMPLETED","business_code":"0"},'
        .. '"data":{"result":{"text":"x"}},"callback_data":"tok"}')
      assert.same({ task_id = "t-1-las-asr", state = "succeeded", callback_data = "tok" }, n)
      n = notice('{"task_id":"t-2","task_status":"FAILED","data":{"callback_data":"tok2"}}')
      assert.same({ task_id = "t-2", state = "failed", callback_data = "tok2" }, n)
      n = notice('{"resp":{"id":"t-3","code":20000000,"callback_data":"tok3"}}')
      assert.same({ task_id = "t-3", state = "succeeded", callback_data = "tok3" }, n)
      n = notice('{"metadata":{"task_id":"t-4","task_status":"TIMEOUT","callback_data":"tok4"}}')
      assert.same({ task_id = "t-4", state = "failed", callback_data = "tok4" }, n)
      -- not JSON, or JSON naming nothing: an empty notice (the token may ride in the URL)
      assert.same({}, notice("not json"))
      assert.same({}, notice("[1,2]"))
      assert.same({}, notice(""))
    end)
  end)
end)
