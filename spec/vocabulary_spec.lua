-- The DashScope custom-vocabulary API against the simulator: the schema's requests, the
-- create / list / query / update / delete round trip, and create-or-reuse on submit.
local H = require "helper"
local stt = require "stt"
local core = require "stt.core"

local function client(model)
  return stt.client("dashscope", { api_key = H.key, base_url = H.ds_base, model = model or "paraformer-v2",
                                   retries = 0, poll_first = 0.05, poll_max = 0.2 })
end

local function actions() return (H.stats().vocabulary_actions or {}) end

describe("dashscope vocabulary schema", function()
  -- The body the official Python SDK sends (dashscope/audio/asr/vocabulary.py in
  -- https://github.com/dashscope/dashscope-sdk-python): model, input, and an empty "parameters".
  it("builds the documented request for each action", function()
    local req = assert(core.build("dashscope", "vocabulary_create", {
      api_key = "k", target_model = "paraformer-v2", prefix = "abc1",
      vocabulary = { { word = "赛德克巴莱", weight = 4, lang = "zh" }, { text = "Kubernetes" } } }))
    assert.equal("POST", req.method)
    assert.equal("https://dashscope.aliyuncs.com/api/v1/services/audio/asr/customization", req.url)
    assert.equal('{"model":"speech-biasing","input":{"action":"create_vocabulary","target_model":"paraformer-v2",'
      .. '"prefix":"abc1","vocabulary":[{"text":"赛德克巴莱","weight":4,"lang":"zh"},{"text":"Kubernetes"}]},'
      .. '"parameters":{}}',
      req.body)
    req = assert(core.build("dashscope", "vocabulary_list", { api_key = "k", region = "intl" }))
    assert.equal("https://dashscope-intl.aliyuncs.com/api/v1/services/audio/asr/customization", req.url)
    assert.equal('{"model":"speech-biasing","input":{"action":"list_vocabulary","page_index":0,"page_size":10},'
      .. '"parameters":{}}', req.body)
    req = assert(core.build("dashscope", "vocabulary_delete", { api_key = "k", vocabulary_id = "vocab-x-1" }))
    assert.equal('{"model":"speech-biasing","input":{"action":"delete_vocabulary","vocabulary_id":"vocab-x-1"},'
      .. '"parameters":{}}', req.body)
    req = assert(core.build("dashscope", "vocabulary_query", { api_key = "k", vocabulary_id = "vocab-x-1",
                                                               base_url = "http://127.0.0.1:1/api/v1/" }))
    assert.equal("http://127.0.0.1:1/api/v1/services/audio/asr/customization", req.url)
    assert.same({ { "Authorization", "Bearer k" }, { "Content-Type", "application/json" } }, req.headers)
    assert.equal('{"model":"speech-biasing","input":{"action":"query_vocabulary","vocabulary_id":"vocab-x-1"},'
      .. '"parameters":{}}', req.body)
    req = assert(core.build("dashscope", "vocabulary_update", { api_key = "k", vocabulary_id = "vocab-x-1",
                                                                vocabulary = { { text = "Lua", weight = 2 } } }))
    assert.equal('{"model":"speech-biasing","input":{"action":"update_vocabulary","vocabulary_id":"vocab-x-1",'
      .. '"vocabulary":[{"text":"Lua","weight":2}]},"parameters":{}}', req.body)
    local _, err = core.build("dashscope", "vocabulary_update", { api_key = "k", vocabulary_id = "v" })
    assert.equal("invalid", err.kind)
    -- Found by the fuzzer: numbers beyond long long were cast before the range check (undefined
    -- behaviour; the sanitizer run aborts on it). They are refused like any non-integer.
    for _, bad in ipairs({ 1.3e110, -1e300, 0.5, -1 }) do
      _, err = core.build("dashscope", "vocabulary_list", { api_key = "k", page_size = bad })
      assert.equal("invalid", err.kind)
      assert.matches("page_size", err.message)
      _, err = core.build("dashscope", "vocabulary_create", { api_key = "k", target_model = "m", prefix = "p",
                                                              vocabulary = { { text = "x", weight = bad } } })
      if bad ~= -1 then assert.equal("invalid", err.kind) end
    end
    _, err = core.build("dashscope", "vocabulary_create", { target_model = "m", prefix = "p",
                                                            vocabulary = { { text = "x" } } })
    assert.equal("auth", err.kind)
    _, err = core.build("dashscope", "vocabulary_nope", { api_key = "k" })
    assert.equal("invalid", err.kind)
    _, err = core.build("dashscope", "vocabulary_list", { api_key = "k", region = "us" })
    assert.equal("invalid", err.kind)
    assert.matches('"us"', err.message)
  end)

  it("parses answers and DashScope error envelopes", function()
    local out = assert(core.parse("dashscope", "vocabulary_list", { status = 200, headers = {},
      body = '{"request_id":"r1","output":{"vocabulary_list":[{"vocabulary_id":"vocab-a-1","status":"OK"}]}}' }))
    assert.equal("vocab-a-1", out.vocabularies[1].vocabulary_id)
    assert.equal("r1", out.request_id)
    local _, err = core.parse("dashscope", "vocabulary_create", { status = 400, headers = {},
      body = '{"request_id":"r2","code":"InvalidParameter","message":"vocabulary is too large"}' })
    assert.equal("invalid", err.kind)
    assert.equal("InvalidParameter", err.code)
    assert.equal("r2", err.request_id)
    _, err = core.parse("dashscope", "vocabulary_query", { status = 429, headers = { ["retry-after"] = "3" },
      body = '{"code":"Throttling","message":"slow down"}' })
    assert.equal("throttled", err.kind)
    assert.is_true(err.retryable)
    assert.equal(3, err.retry_after)
  end)

  -- The vocabulary client and the task client share one classification
  -- (csrc/providers/dashscope_common.c; codes from
  -- https://www.alibabacloud.com/help/en/model-studio/developer-reference/error-code): every code
  -- gives the same error object from every vocabulary kind as from submit and poll.
  local CODES = {   -- { status, code, message, kind, retryable }
    { 401, "InvalidApiKey", "Invalid API-key provided.", "auth", false },
    { 403, "AccessDenied", "Access denied.", "auth", false },
    { 403, "AccessDenied.Unpurchased", "Access to model denied.", "auth", false },
    { 403, "Workspace.AccessDenied", "Workspace access denied.", "auth", false },
    { 403, "Model.AccessDenied", "Model access denied.", "auth", false },
    { 429, "Throttling", "Requests throttling triggered.", "throttled", true },
    { 429, "Throttling.RateQuota", "Requests rate limit exceeded.", "throttled", true },
    { 429, "Throttling.AllocationQuota", "Allocated quota exceeded.", "throttled", true },
    { 429, "Throttling.Other", "slow down", "throttled", true },
    { 429, nil, "Too many requests", "throttled", true },
    { 400, "Arrearage", "Access denied, please make sure your account is in good standing.", "quota", false },
    { 400, "PrepaidBillOverdue", "overdue", "quota", false },
    { 400, "PostpaidBillOverdue", "overdue", "quota", false },
    { 400, "CommodityNotPurchased", "not purchased", "quota", false },
    { 400, "DataInspectionFailed", "Input or output data may contain inappropriate content.", "invalid", false },
    { 403, "AccessDenied", "current user api does not support synchronous calls", "invalid", false },
    { 400, "InvalidParameter", "vocabulary is too large", "invalid", false },
    { 500, "InternalError", "internal error", "server", true },
    { 200, "Throttling.AllocationQuota", "Allocated quota exceeded.", "throttled", true },   -- 2xx envelope
  }
  local VOCAB_KINDS = { "vocabulary_create", "vocabulary_list", "vocabulary_query", "vocabulary_update",
                        "vocabulary_delete" }
  for _, c in ipairs(CODES) do
    it(("classifies %d %s as %s, like the task client"):format(c[1], c[2] or "(no code)", c[4]), function()
      local function resp()
        return { status = c[1], headers = { ["retry-after"] = "9" },
                 body = core.json_encode({ request_id = "rq", code = c[2], message = c[3] }) }
      end
      local function same_fields(e)
        return { e.kind, e.retryable, e.status, e.code, e.request_id, e.retry_after, e.provider }
      end
      local _, task_err = core.parse("dashscope", "submit", resp())
      assert.same({ c[4], c[5], c[1], c[2], "rq", 9, "dashscope" }, same_fields(task_err))
      local _, poll_err = core.parse("dashscope", "poll", resp())
      assert.same(same_fields(task_err), same_fields(poll_err))
      for _, kind in ipairs(VOCAB_KINDS) do
        local out, err = core.parse("dashscope", kind, resp())
        assert.is_nil(out)
        assert.same(same_fields(task_err), same_fields(err), kind)
      end
    end)
  end
end)

describe("dashscope vocabulary API (simulator)", function()
  before_each(function() H.reset() end)

  it("creates, lists, queries, updates and deletes a vocabulary", function()
    local c = client()
    local id = assert(c:vocabulary_create({ target_model = "paraformer-v2", prefix = "test1",
      vocabulary = { { text = "赛德克巴莱", weight = 4, lang = "zh" }, { text = "lua stt", weight = 5 } } }))
    assert.matches("^vocab%-test1%-%x+$", id)
    local list = assert(c:vocabulary_list({ prefix = "test1" }))
    assert.equal(1, #list)
    assert.equal(id, list[1].vocabulary_id)
    assert.equal("OK", list[1].status)
    assert.same({}, assert(c:vocabulary_list({ prefix = "other" })))
    local q = assert(c:vocabulary_query(id))
    assert.equal("paraformer-v2", q.target_model)
    assert.same({ { text = "赛德克巴莱", weight = 4, lang = "zh" }, { text = "lua stt", weight = 5 } }, q.vocabulary)
    assert.is_true(assert(c:vocabulary_update(id, stt.hotwords.new({ { word = "通义千问", weight = 3 } }))))
    q = assert(c:vocabulary_query(id))
    assert.same({ { text = "通义千问", weight = 3 } }, q.vocabulary)
    assert.is_true(assert(c:vocabulary_delete(id)))
    local _, err = c:vocabulary_query(id)
    assert.equal("invalid", err.kind)
    assert.equal("InvalidParameter", err.code)
    assert.same({}, assert(c:vocabulary_list()))
  end)

  it("reports the service's refusals as errors", function()
    local c = client()
    local _, err = c:vocabulary_create({ target_model = "paraformer-v2", prefix = "Bad_Prefix",
                                        vocabulary = { { text = "x" } } })
    assert.equal("invalid", err.kind)
    assert.matches("prefix", err.message)
    _, err = c:vocabulary_create({ target_model = "sensevoice-v1", prefix = "abc",
                                   vocabulary = { { text = "x" } } })
    assert.equal("invalid", err.kind)
    local bad = stt.client("dashscope", { api_key = "sk-wrong", base_url = H.ds_base, retries = 0 })
    _, err = bad:vocabulary_list()
    assert.equal("auth", err.kind)
    assert.falsy(tostring(err):find("sk-wrong", 1, true))
  end)

  it("submits a hotword list as a vocabulary_id, created once and reused", function()
    local url = H.media("vocab_en", 1, "Hello from the vocabulary test.")
    local words = "Kubernetes|5\nlua stt\n赛德克巴莱|4\n"
    local c = client()
    local task = assert(c:submit({ url = url, hotwords = words }))
    assert.equal(1, actions().create_vocabulary)
    local rec = H.json(H.control("GET", "/_sim/tasks/" .. task.id))
    local vid = rec.raw_parameters.vocabulary_id
    assert.matches("^vocab%-h%w+%-%x+$", vid)
    -- the same list again, from this client: no new vocabulary, no list call either
    local t2 = assert(c:submit({ url = url, hotwords = stt.hotwords.load(words) }))
    assert.equal(vid, H.json(H.control("GET", "/_sim/tasks/" .. t2.id)).raw_parameters.vocabulary_id)
    assert.equal(1, actions().create_vocabulary)
    -- a fresh client (another process) finds it by its prefix
    local c2 = client()
    local t3 = assert(c2:submit({ url = url, hotwords = words }))
    assert.equal(vid, H.json(H.control("GET", "/_sim/tasks/" .. t3.id)).raw_parameters.vocabulary_id)
    assert.equal(1, actions().create_vocabulary)
    assert.equal(2, actions().list_vocabulary)
    -- another target model gets its own vocabulary
    assert(client("fun-asr"):submit({ url = url, hotwords = words }))
    assert.equal(2, actions().create_vocabulary)
    local res = assert(c:wait(task, { timeout = 20 }))
    assert.equal("Hello from the vocabulary test.", res.text)
  end)

  it("refuses an invalid list before anything is sent", function()
    local c = client()
    local before = H.stats().requests
    local _, err = c:submit({ url = "http://127.0.0.1/x.wav",
                              hotwords = { { word = "赛德克巴莱赛德克巴莱赛德克巴莱赛", weight = 9 } } })
    assert.equal("invalid", err.kind)
    assert.matches("length", err.message)
    assert.matches("weight", err.message)
    assert.same(before, H.stats().requests)
    _, err = client("sensevoice-v1"):submit({ url = "http://127.0.0.1/x.wav", hotwords = { "abc" } })
    assert.equal("invalid", err.kind)
    assert.matches("does not support hotwords", err.message)
  end)
end)
