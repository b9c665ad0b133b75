-- The simulator's Volcengine LAS, Volcengine AUC and TCL Turing protocols, driven with the curl
-- command-line tool only (independent of lua-stt's own HTTP engine): every route, auth variant,
-- state, injected failure and fault, checked against docs/providers.md (#volcengine-las,
-- #volcengine-auc, #tcl-turing).
local H = require "helper"

local KEY = H.key
local APP, ACCESS = "sim-app-0001", "sim-access-key-0001"

local function slurp(path) return H.read(path) or "" end

-- curl -> { status, headers (lower-case names), body, json }
local function http(method, url, headers, body)
  local tmp = os.tmpname()
  local cmd = { "curl -s -o", H.sh_quote(tmp .. ".b"), "-D", H.sh_quote(tmp .. ".h"), "-w '%{http_code}' -X", method }
  for _, h in ipairs(headers or {}) do cmd[#cmd + 1] = "-H " .. H.sh_quote(h) end
  if body then
    local f = assert(io.open(tmp .. ".r", "wb"))
    f:write(type(body) == "table" and H.encode(body) or body)
    f:close()
    cmd[#cmd + 1] = "-H 'Content-Type: application/json' --data-binary @" .. H.sh_quote(tmp .. ".r")
  end
  cmd[#cmd + 1] = H.sh_quote(url)
  local p = assert(H.popen(table.concat(cmd, " ")))
  local code = p:read("*a")
  p:close()
  local r = { status = tonumber(code), body = slurp(tmp .. ".b"), headers = {} }
  for line in slurp(tmp .. ".h"):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then r.headers[k:lower()] = v end
  end
  for _, ext in ipairs({ "", ".b", ".h", ".r" }) do os.remove(tmp .. ext) end
  local ok, j = pcall(H.json, r.body)
  if ok then r.json = j end
  return r
end

local sleep = H.sleep

-- Poll `fn` until `done(r)` or about 20 s pass (a margin for a loaded machine; it returns as
-- soon as `done` holds); returns the last answer.
local function until_done(fn, done)
  local r
  for _ = 1, 400 do
    r = fn()
    if done(r) then return r end
    sleep(0.05)
  end
  return r
end

local function stereo(name, seconds, text) return H.media(name, seconds, text, nil, 2) end

local EN = "Hello world. This is the second sentence! And a third one?"

---------------------------------------------------------------------------- LAS

describe("simulator: Volcengine LAS las_asr v2", function()
  local base
  local function submit(data, auth)
    return http("POST", base .. "/submit", { auth or ("Authorization: Bearer " .. KEY) },
      { operator_id = "las_asr", operator_version = "v2", data = data })
  end
  local function poll(id, in_data, auth)
    local body = { operator_id = "las_asr", operator_version = "v2" }
    if in_data then body.data = { task_id = id } else body.task_id = id end
    return http("POST", base .. "/poll", { auth or ("Authorization: " .. KEY) }, body)
  end
  local function data_for(url, request)
    local req = { model_name = "bigmodel" }
    for k, v in pairs(request or {}) do req[k] = v end
    return { audio = { url = url, format = "wav" }, request = req }
  end
  local function finished(id)
    return until_done(function() return poll(id) end, function(r)
      local s = r.json and r.json.metadata and r.json.metadata.task_status
      return s ~= "PENDING" and s ~= "RUNNING" and s ~= "ACCEPTED"
    end)
  end

  before_each(function()
    base = H.sim_url .. "/las/api/v1"
    H.reset()
    H.config({ queue_ms = 30, rtf = 0.05 })
  end)

  it("accepts the raw key, Bearer and ApiKey, and runs ACCEPTED -> PENDING -> COMPLETED", function()
    local url = H.media("las_en", 2, EN)
    for _, auth in ipairs({ "Authorization: " .. KEY, "Authorization: Bearer " .. KEY,
                            "Authorization: ApiKey " .. KEY }) do
      local r = submit(data_for(url), auth)
      assert.equal(200, r.status, r.body)
      local md = r.json.metadata
      assert.equal("ACCEPTED", md.task_status)
      assert.equal("0", md.business_code)
      assert.equal("", md.error_msg)
      assert.matches("%-las%-asr$", md.task_id)
      assert.matches("^%x+$", md.request_id)
    end
    -- The queue is held (60 s) so the first poll must see PENDING, whatever the machine's load;
    -- the control API then lets the task leave the queue (no wall-clock race).
    H.config({ queue_ms = 60000 })
    local id = submit(data_for(url, { show_utterances = true })).json.metadata.task_id
    assert.equal("PENDING", poll(id).json.metadata.task_status)
    H.advance(id, "running")
    local done = finished(id)
    assert.equal("COMPLETED", done.json.metadata.task_status)
    assert.equal("0", done.json.metadata.business_code)
    local d = done.json.data
    assert.equal(2000, d.audio_info.duration)                     -- ms, not seconds
    assert.equal("2000", d.result.additions.duration)              -- a string
    assert.equal(EN, d.result.text)
    assert.equal(3, #d.result.utterances)
    local u = d.result.utterances[1]
    assert.equal("Hello world.", u.text)
    assert.equal("1", u.additions.channel_id)
    assert.is_nil(u.additions.speaker)
    assert.same({ "Hello", "world" }, { u.words[1].text, u.words[2].text })
    for _, w in ipairs(u.words) do
      assert.is_true(w.start_time >= u.start_time and w.end_time <= u.end_time)
      assert.equal(0, w.confidence)
      assert.is_number(w.blank_duration)
    end
    assert.equal(4, H.stats().submissions[url])
  end)

  it("takes the poll id at the top level, inside data (the doc curl's form), or both when equal", function()
    local id = submit(data_for(H.media("las_id", 1, "Where is the id."))).json.metadata.task_id
    assert.equal(id, poll(id, true).json.metadata.task_id)
    assert.equal(id, poll(id, false).json.metadata.task_id)
    local r = http("POST", base .. "/poll", { "Authorization: " .. KEY },
      { operator_id = "las_asr", operator_version = "v2", task_id = id, data = { task_id = id } })
    assert.equal(200, r.status, r.body)
    assert.equal(id, r.json.metadata.task_id)
    r = http("POST", base .. "/poll", { "Authorization: " .. KEY },
      { operator_id = "las_asr", operator_version = "v2", task_id = id, data = { task_id = id .. "x" } })
    assert.equal(400, r.status)
    assert.equal("Parameter.Invalid", r.json.metadata.business_code)
    r = http("POST", base .. "/poll", { "Authorization: " .. KEY },
      { operator_id = "las_asr", operator_version = "v2" })
    assert.equal(400, r.status)
    assert.equal("Parameter.Invalid", r.json.metadata.business_code)
  end)

  it("takes a submit without audio.format (the service detects the container)", function()
    local url = H.media("las_nofmt", 1, "No label.")
    local r = submit({ audio = { url = url }, request = { model_name = "bigmodel" } })
    assert.equal(200, r.status, r.body)
    assert.equal("No label.", finished(r.json.metadata.task_id).json.data.result.text)
  end)

  it("leaves utterances out unless show_utterances, and adds only the additions asked for", function()
    local url = H.media("las_opts", 2, EN)
    local id = submit(data_for(url)).json.metadata.task_id
    local r = finished(id).json.data.result
    assert.equal(EN, r.text)
    assert.is_nil(r.utterances)
    id = submit(data_for(url, { show_utterances = true, enable_speaker_info = true, enable_emotion_detection = true,
      enable_gender_detection = true, show_speech_rate = true, show_volume = true, enable_lid = true }))
      .json.metadata.task_id
    r = finished(id).json.data.result
    local a = r.utterances[2].additions
    assert.equal("2", a.speaker)
    for _, k in ipairs({ "emotion", "gender", "speech_rate", "volume", "lid_lang", "channel_id" }) do
      assert.is_string(a[k], k)
    end
    assert.equal("en-US", r.additions.lid_lang)
  end)

  it("splits a stereo file into channels 1 and 2 with enable_channel_split", function()
    local url = stereo("las_stereo", 2, EN)
    local id = submit(data_for(url, { show_utterances = true, enable_channel_split = true })).json.metadata.task_id
    local u = finished(id).json.data.result.utterances
    assert.same({ "1", "2", "1" }, { u[1].additions.channel_id, u[2].additions.channel_id, u[3].additions.channel_id })
  end)

  it("answers the documented errors in the metadata envelope", function()
    local url = H.media("las_err", 1, "x.")
    local r = http("POST", base .. "/submit", {}, { operator_id = "las_asr", operator_version = "v2",
      data = data_for(url) })
    assert.equal(401, r.status)
    assert.equal("Authorization.Missing", r.json.metadata.business_code)
    r = submit(data_for(url), "Authorization: Bearer sk-wrong")
    assert.equal(401, r.status)
    assert.equal("ApiKey.Invalid", r.json.metadata.business_code)
    assert.equal("The api key is invalid.", r.json.metadata.error_msg)
    r = submit(data_for(url), "Authorization: Basic " .. KEY)
    assert.equal(401, r.status)
    for _, bad in ipairs({
      { audio = { url = url, format = "flac" }, request = { model_name = "bigmodel" } },     -- not a doc label
      { audio = { url = url, format = "wav" }, request = {} },                                -- no model_name
      { audio = { url = url, format = "wav" }, request = { model_name = "bigmodel",
        corpus = { context = { hotwords = { { word = "x" } } } } } },                       -- object, not string
      { audio = { url = url, format = "wav" }, request = { model_name = "bigmodel", end_window_size = 100 } },
      { audio = { url = url, format = "wav" }, resource = "tinyasr", request = { model_name = "bigmodel" } },
    }) do
      r = submit(bad)
      assert.equal(400, r.status, H.encode(bad))
      assert.equal("Parameter.Invalid", r.json.metadata.business_code)
    end
    r = http("POST", base .. "/submit", { "Authorization: " .. KEY },
      { operator_id = "las_asr", operator_version = "v1", data = data_for(url) })
    assert.equal(400, r.status)
    r = poll("nope-las-asr")
    assert.equal(404, r.status)
    assert.equal("Task.NotFound", r.json.metadata.business_code)
  end)

  it("rate-limits with 429 Server.Busy", function()
    H.config({ rate_limit = { submit = 1 } })
    local url = H.media("las_rl", 1, "x.")
    local statuses = {}
    for i = 1, 3 do statuses[i] = submit(data_for(url)) end
    local busy = statuses[3].status == 429 and statuses[3] or statuses[2]
    assert.equal(429, busy.status)
    assert.equal("Server.Busy", busy.json.metadata.business_code)
  end)

  it("ends FAILED or TIMEOUT with a business_code and error_msg, and FAILED when the download fails", function()
    local f = H.media("las_fail", 1, "x.", '{"fail":"FAILED","fail_message":"audio too noisy"}')
    local t = H.media("las_timeout", 1, "x.", '{"fail":"TIMEOUT"}')
    local r = finished(submit(data_for(f)).json.metadata.task_id).json
    assert.equal("FAILED", r.metadata.task_status)
    assert.equal("2001", r.metadata.business_code)
    assert.equal("audio too noisy", r.metadata.error_msg)
    assert.is_nil(r.data)
    r = finished(submit(data_for(t)).json.metadata.task_id).json
    assert.equal("TIMEOUT", r.metadata.task_status)
    assert.equal("2002", r.metadata.business_code)
    r = finished(submit(data_for(H.sim_url .. "/media/missing.wav")).json.metadata.task_id).json
    assert.equal("FAILED", r.metadata.task_status)
    assert.matches("download", r.metadata.error_msg)
  end)

  it("answers silent audio (no reference text) COMPLETED with an empty text", function()
    local r = finished(submit(data_for(H.media("las_silent", 1))).json.metadata.task_id).json
    assert.equal("COMPLETED", r.metadata.task_status)
    assert.equal("", r.data.result.text)
    assert.equal(1000, r.data.audio_info.duration)
  end)

  it("shapes injected faults like LAS", function()
    local url = H.media("las_fault", 1, "x.")
    H.fault({ path = "/las/api/v1/submit", type = "429", retry_after = 2 })
    H.fault({ path = "/las/api/v1/submit", type = "500" })
    local r = submit(data_for(url))
    assert.equal(429, r.status)
    assert.equal("2", r.headers["retry-after"])
    assert.equal("Server.Busy", r.json.metadata.business_code)
    r = submit(data_for(url))
    assert.equal(500, r.status)
    assert.equal("Server.InternalError", r.json.metadata.business_code)
    assert.equal(200, submit(data_for(url)).status)
  end)
end)

---------------------------------------------------------------------------- AUC

describe("simulator: Volcengine AUC big-model file API", function()
  local base
  local function uuid(n) return string.format("00000000-0000-4000-8000-%012d", n) end
  local function headers(rid, over)
    local h = { ["X-Api-App-Key"] = APP, ["X-Api-Access-Key"] = ACCESS, ["X-Api-Resource-Id"] = "volc.bigasr.auc",
                ["X-Api-Request-Id"] = rid, ["X-Api-Sequence"] = "-1" }
    for k, v in pairs(over or {}) do h[k] = v end
    local out = {}
    for k, v in pairs(h) do if v ~= false then out[#out + 1] = k .. ": " .. v end end
    return out
  end
  local function submit(rid, url, request, over)
    local req = { model_name = "bigmodel" }
    for k, v in pairs(request or {}) do req[k] = v end
    return http("POST", base .. "/submit", headers(rid, over),
      { user = { uid = "spec" }, audio = { url = url, format = "wav" }, request = req })
  end
  local function query(rid, over)
    return http("POST", base .. "/query", headers(rid, over), "{}")
  end
  local function code(r) return r.headers["x-api-status-code"] end
  local function finished(rid)
    return until_done(function() return query(rid) end, function(r)
      return code(r) ~= "20000001" and code(r) ~= "20000002"
    end)
  end

  before_each(function()
    base = H.sim_url .. "/auc/api/v3/auc/bigmodel"
    H.reset()
    H.config({ queue_ms = 30, rtf = 0.05 })
  end)

  it("submits with an empty body, status in the headers; queued -> processing -> result", function()
    -- Held in the queue, then in processing, by long clocks; the control API moves it on.
    H.config({ queue_ms = 60000, rtf = 0.2, min_run_ms = 60000 })
    local url = H.media("auc_en", 2, EN)
    local r = submit(uuid(1), url, { show_utterances = true, enable_speaker_info = true })
    assert.equal(200, r.status)
    assert.equal("", r.body)
    assert.equal("20000000", code(r))
    assert.equal("OK", r.headers["x-api-message"])
    assert.matches("^%d+%x+$", r.headers["x-tt-logid"])
    assert.equal("20000002", code(query(uuid(1))))
    H.advance(uuid(1), "running")
    assert.equal("20000001", code(query(uuid(1))))
    H.advance(uuid(1), "done")
    r = finished(uuid(1))
    assert.equal("20000000", code(r))
    assert.equal(2000, r.json.audio_info.duration)
    assert.equal(EN, r.json.result.text)
    assert.equal("2000", r.json.result.additions.duration)
    assert.equal(3, #r.json.result.utterances)
    assert.equal("1", r.json.result.utterances[1].additions.speaker)
    assert.equal(1, H.stats().submissions[url])
  end)

  it("refuses a second submit with the same request id (45000001 duplicate)", function()
    local url = H.media("auc_dup", 1, "Once.")
    assert.equal("20000000", code(submit(uuid(2), url)))
    local r = submit(uuid(2), url)
    assert.equal("45000001", code(r))
    assert.matches("duplicate", r.headers["x-api-message"])
    assert.equal(1, H.stats().auc_duplicate_submits)
    assert.equal(1, H.stats().submissions[url])
  end)

  it("answers silent audio with 20000003", function()
    submit(uuid(3), H.media("auc_silent", 1))
    local r = finished(uuid(3))
    assert.equal("20000003", code(r))
    assert.equal("", r.json.result.text)
  end)

  it("checks every X-Api header and the credentials", function()
    local url = H.media("auc_hdr", 1, "x.")
    for _, over in ipairs({ { ["X-Api-App-Key"] = false }, { ["X-Api-Access-Key"] = false },
      { ["X-Api-Resource-Id"] = false }, { ["X-Api-Request-Id"] = false }, { ["X-Api-Sequence"] = false },
      { ["X-Api-Resource-Id"] = "volc.tts.default" } }) do
      local r = submit(uuid(4), url, nil, over)
      assert.equal("45000001", code(r), H.encode(over))
      assert.equal(400, r.status)
    end
    local r = submit(uuid(4), url, nil, { ["X-Api-Access-Key"] = "wrong" })
    assert.equal(401, r.status)
    assert.equal("45000010", code(r))
    r = submit(uuid(4), url, nil, { ["X-Api-App-Key"] = "demo-app", ["X-Api-Access-Key"] = "demo-access-key",
      ["X-Api-Resource-Id"] = "volc.seedasr.auc" })
    assert.equal("20000000", code(r))
    assert.equal("45000001", code(query(uuid(4))))                -- resource differs from the task's
    local seed = { ["X-Api-App-Key"] = "demo-app", ["X-Api-Access-Key"] = "demo-access-key",
                   ["X-Api-Resource-Id"] = "volc.seedasr.auc" }
    r = until_done(function() return query(uuid(4), seed) end, function(x) return code(x) == "20000000" end)
    assert.equal("20000000", code(r))
    r = query(uuid(5))
    assert.equal(404, r.status)
    assert.equal("45000001", code(r))
    assert.equal("45000001", code(submit(uuid(6), url, { corpus = { context = {} } })))
  end)

  it("fails undecodable audio (45000151) and injected codes", function()
    local f = assert(io.open(H.sim_dir .. "/media/auc_bad.wav", "wb"))
    f:write("not audio at all")
    f:close()
    submit(uuid(7), H.sim_url .. "/media/auc_bad.wav")
    assert.equal("45000151", code(finished(uuid(7))))
    submit(uuid(8), H.media("auc_empty", 1, "x.", '{"fail":45000002}'))
    assert.equal("45000002", code(finished(uuid(8))))
  end)

  it("takes a submit without audio.format; refuses a label the doc does not list", function()
    local url = H.media("auc_nofmt", 1, "No label.")
    local r = http("POST", base .. "/submit", headers(uuid(20)),
      { audio = { url = url }, request = { model_name = "bigmodel" } })
    assert.equal("20000000", code(r))
    assert.equal("No label.", finished(uuid(20)).json.result.text)
    r = http("POST", base .. "/submit", headers(uuid(21)),
      { audio = { url = url, format = "m4a" }, request = { model_name = "bigmodel" } })
    assert.equal("45000001", code(r))
  end)

  it("fails audio with no samples as 45000002 empty audio", function()
    submit(uuid(22), H.media("auc_zero", 0, "x."))
    local r = finished(uuid(22))
    assert.equal("45000002", code(r))
    assert.equal(400, r.status)
    assert.matches("empty audio", r.headers["x-api-message"])
  end)

  it("accepts X-Api-Key (config auc_api_keys) instead of the app key pair; refuses a wrong one", function()
    local url = H.media("auc_apikey", 1, "Key.")
    local key = { ["X-Api-App-Key"] = false, ["X-Api-Access-Key"] = false, ["X-Api-Key"] = "sim-auc-api-key-0001" }
    assert.equal("20000000", code(submit(uuid(23), url, nil, key)))
    local r = until_done(function() return query(uuid(23), key) end, function(x) return code(x) == "20000000" end)
    assert.equal("Key.", r.json.result.text)
    r = submit(uuid(24), url, nil, { ["X-Api-App-Key"] = false, ["X-Api-Access-Key"] = false, ["X-Api-Key"] = "nope" })
    assert.equal(401, r.status)
    assert.equal("45000010", code(r))
    H.config({ auc_api_keys = { "other-key" } })
    assert.equal("45000010", code(submit(uuid(25), url, nil, key)))
    assert.equal("20000000", code(submit(uuid(26), url, nil, { ["X-Api-App-Key"] = false,
      ["X-Api-Access-Key"] = false, ["X-Api-Key"] = "other-key" })))
  end)

  it("idle: /idle/submit and /idle/query with volc.bigasr.auc_idle, the same clock", function()
    H.config({ queue_ms = 60000 })
    local url = H.media("auc_idle", 1, "Idle.")
    local idle = { ["X-Api-Resource-Id"] = "volc.bigasr.auc_idle" }
    local body = { audio = { url = url }, request = { model_name = "bigmodel" } }
    -- each API takes its own resource
    assert.equal("45000001", code(http("POST", base .. "/idle/submit", headers(uuid(30)), body)))
    assert.equal("45000001", code(http("POST", base .. "/submit", headers(uuid(30), idle), body)))
    local r = http("POST", base .. "/idle/submit", headers(uuid(30), idle), body)
    assert.equal("20000000", code(r))
    assert.equal("", r.body)
    local function iquery() return http("POST", base .. "/idle/query", headers(uuid(30), idle), "{}") end
    assert.equal("20000002", code(iquery()))
    assert.equal("idle", H.sim_task(uuid(30)).mode)
    H.advance(uuid(30), "running")
    r = until_done(iquery, function(x) return code(x) == "20000000" end)
    assert.equal("Idle.", r.json.result.text)
    -- an idle task is not found by the standard query
    assert.equal(404, query(uuid(30)).status)
  end)

  it("flash: one synchronous call answers {audio_info, result}; nothing to query", function()
    local url = H.media("auc_flash", 2, EN)
    local turbo = { ["X-Api-Resource-Id"] = "volc.bigasr.auc_turbo" }
    local body = { user = { uid = "spec" }, audio = { url = url, format = "wav" },
                   request = { model_name = "bigmodel", show_utterances = true } }
    assert.equal("45000001", code(http("POST", base .. "/recognize/flash", headers(uuid(40)), body)))
    assert.equal("45000001", code(http("POST", base .. "/recognize/flash",
      headers(uuid(40), { ["X-Api-Resource-Id"] = "volc.bigasr.auc_turbo", ["X-Api-Sequence"] = false }), body)))
    local r = http("POST", base .. "/recognize/flash", headers(uuid(40), turbo), body)
    assert.equal(200, r.status)
    assert.equal("20000000", code(r))
    assert.equal(uuid(40), r.headers["x-api-request-id"])
    assert.equal(2000, r.json.audio_info.duration)
    assert.equal(EN, r.json.result.text)
    assert.equal(3, #r.json.result.utterances)
    assert.equal(404, query(uuid(40)).status)                  -- no task was kept
    -- no callback fields; silent audio and failures answer at once
    body.callback = "http://cb.example/x"
    assert.equal("45000001", code(http("POST", base .. "/recognize/flash", headers(uuid(41), turbo), body)))
    body.callback = nil
    body.audio.url = H.media("auc_flash_silent", 1)
    assert.equal("20000003", code(http("POST", base .. "/recognize/flash", headers(uuid(42), turbo), body)))
    body.audio.url = H.media("auc_flash_bad", 1, "x.", '{"fail":45000151}')
    assert.equal("45000151", code(http("POST", base .. "/recognize/flash", headers(uuid(43), turbo), body)))
    local st = H.stats()
    assert.equal(1, st.submissions[url])
    assert.is_nil(st.requests["POST /auc/api/v3/auc/bigmodel/submit"])
  end)

  it("shapes faults and rate limits like AUC: status header, empty body", function()
    local url = H.media("auc_fault", 1, "x.")
    H.fault({ path = "/auc/api/v3/auc/bigmodel/submit", type = "429" })
    H.fault({ path = "/auc/api/v3/auc/bigmodel/submit", type = "500" })
    local r = submit(uuid(9), url)
    assert.equal(429, r.status)
    assert.equal("55000031", code(r))
    assert.equal("", r.body)
    r = submit(uuid(9), url)
    assert.equal(500, r.status)
    assert.equal("55000000", code(r))
    assert.equal("20000000", code(submit(uuid(9), url)))
    H.config({ rate_limit = { query = 1 } })
    local seen
    for _ = 1, 3 do
      r = query(uuid(9))
      if code(r) == "55000031" then seen = r end
    end
    assert.equal(429, seen.status)
  end)
end)

---------------------------------------------------------------------------- Turing

describe("simulator: TCL Turing", function()
  local base
  local AUTH = "Authorization: Bearer " .. KEY
  local function body(url, over)
    local b = { service_name = "aliyun/tingwu", language_code = "en",
                file = { type = "public_uri", file_uri = url } }
    for k, v in pairs(over or {}) do b[k] = v end
    return b
  end
  local function submit(b, auth)
    return http("POST", base, { auth or AUTH }, b)
  end
  local function poll(id) return http("GET", base .. "/" .. id, { AUTH }) end
  local function finished(id)
    return until_done(function() return poll(id) end, function(r)
      local s = r.json and r.json.data ~= nil and type(r.json.data) == "table" and r.json.data.task_run_state
      return r.json and (r.json.code ~= 0 or (s ~= "running" and s ~= "queued"))
    end)
  end

  before_each(function()
    base = H.sim_url .. "/turing/api/v1/audio/transcriptions/runs"
    H.reset()
    H.config({ queue_ms = 30, rtf = 0.05 })
  end)

  it("submits and completes with the documented envelope, segments and audio_info", function()
    local url = H.media("tur_en", 2, EN)
    local r = submit(body(url, { diarization = { enabled = true, speaker_number = 2 },
                                 turing_options = { include_service_usages = true } }))
    assert.equal(200, r.status)
    assert.equal(0, r.json.code)
    assert.equal("Success", r.json.message)
    assert.matches("^run_%x+$", r.json.data.task_run_id)
    assert.equal("running", r.json.data.task_run_state)
    local d = finished(r.json.data.task_run_id).json.data
    assert.equal("completed", d.task_run_state)
    assert.equal(EN, d.transcript)
    assert.equal(2000, d.audio_info.duration_ms)
    assert.equal(3, #d.segments)
    assert.equal("Hello world.", d.segments[1].text)
    assert.same({}, d.segments[1].words)
    assert.equal("1", d.segments[1].speaker_id)
    assert.equal("2", d.segments[2].speaker_id)
    assert.equal(2, d.service_usages[1].quantity)
    r = finished(submit(body(url)).json.data.task_run_id).json.data
    assert.is_nil(r.segments[1].speaker_id)
    assert.is_nil(r.service_usages)
    assert.equal(2, H.stats().submissions[url])
  end)

  it("refuses bad keys and bad bodies with a non-zero code", function()
    local url = H.media("tur_bad", 1, "x.")
    local r = submit(body(url), "Authorization: Bearer nope")
    assert.equal(401, r.status)
    assert.equal(40101, r.json.code)
    r = submit(body(url), "Authorization: " .. KEY)          -- Bearer is required
    assert.equal(401, r.status)
    for _, over in ipairs({ { service_name = "openai/whisper" }, { file = { type = "oss", file_uri = url } },
      { language_code = "zh" }, { diarization = { enabled = "yes" } } }) do
      r = submit(body(url, over))
      assert.equal(400, r.status, H.encode(over))
      assert.equal(40000, r.json.code)
    end
    r = poll("run_doesnotexist")
    assert.equal(404, r.status)
    assert.equal(40400, r.json.code)
  end)

  it("fails tasks with state failed (code 0) and can answer a non-zero code with HTTP 200", function()
    local r = finished(submit(body(H.media("tur_fail", 1, "x.", '{"fail":"FAILED","fail_message":"bad"}')))
      .json.data.task_run_id)
    assert.equal(200, r.status)
    assert.equal(0, r.json.code)
    assert.equal("failed", r.json.data.task_run_state)
    assert.equal("bad", r.json.data.error_message)
    r = finished(submit(body(H.sim_url .. "/media/missing.wav")).json.data.task_run_id)
    assert.equal("FILE_DOWNLOAD_FAILED", r.json.data.error_code)
    r = finished(submit(body(H.media("tur_code", 1, "x.", '{"code":50001,"message":"backend exploded"}')))
      .json.data.task_run_id)
    assert.equal(200, r.status)
    assert.equal(50001, r.json.code)
    assert.equal("backend exploded", r.json.message)
  end)

  it("can show another in-progress state, and completes silent audio with an empty transcript", function()
    H.config({ queue_ms = 60000 })
    local id = submit(body(H.media("tur_q", 1, "x.", '{"state":"queued"}'))).json.data.task_run_id
    assert.equal("queued", poll(id).json.data.task_run_state)
    H.advance(id, "running")
    assert.equal("completed", finished(id).json.data.task_run_state)
    H.config({ queue_ms = 0 })
    local d = finished(submit(body(H.media("tur_silent", 1))).json.data.task_run_id).json.data
    assert.equal("completed", d.task_run_state)
    assert.equal("", d.transcript)
    assert.same({}, d.segments)
  end)

  it("shapes faults like Turing", function()
    H.fault({ path = "/turing/api/v1/audio/transcriptions/runs", method = "POST", type = "429" })
    local r = submit(body(H.media("tur_f", 1, "x.")))
    assert.equal(429, r.status)
    assert.equal(42900, r.json.code)
    assert.equal(200, submit(body(H.media("tur_f", 1, "x."))).status)
  end)
end)
