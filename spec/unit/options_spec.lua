-- Option tables are checked: unknown keys of the client, wait and transcribe_all tables are
-- refused (kind "invalid") naming the closest known option; a key given at the wrong level says
-- where it belongs; c:check(job) finds what a submit would refuse without sending anything; one
-- provider registry (stt.providers()) feeds the client, the rate limiter and the command line.
-- Pure: no simulator, no network.
local stt = require "stt"
local options = require "stt.options"

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "no error raised")
  return err
end

describe("option tables", function()
  it("refuse unknown client options, naming the closest known one", function()
    local e = raised(function() stt.client("dashscope", { api_key = "k", timout = 5 }) end)
    assert.equal("invalid", e.kind)
    assert.matches('unknown option "timout" %(did you mean "timeout"%?%)', e.message)
    e = raised(function() stt.client("dashscope", { api_key = "k", retires = 3 }) end)
    assert.matches('did you mean "retries"', tostring(e))
    e = raised(function() stt.client("dashscope", { api_key = "k", frobnication = true }) end)
    assert.matches('unknown option "frobnication"$', e.message)
  end)

  it("say where an option given at the wrong level belongs", function()
    local e = raised(function() stt.client("dashscope", { api_key = "k", concurrency = 4 }) end)
    assert.matches('"concurrency" is not an option of stt.client%(provider, opts%): it belongs to '
      .. 'c:transcribe_all%(jobs, opts%)', e.message)
    e = raised(function() stt.client("dashscope", { api_key = "k", language = "en" }) end)
    assert.matches("it belongs to the job table", e.message)
    local c = stt.client("dashscope", { api_key = "k", base_url = "http://127.0.0.1:9" })
    e = raised(function() c:wait({ id = "t" }, { timout = 1 }) end)
    assert.matches('did you mean "timeout"', e.message)
    e = raised(function() c:wait({ id = "t" }, { retries = 1 }) end)
    assert.matches('"retries" is not an option of c:wait.-: it belongs to stt.client', e.message)
    e = raised(function() c:transcribe_all({}, { concurency = 4 }) end)
    assert.matches('did you mean "concurrency"', e.message)
    -- a job: a runtime refusal (nil, err), before anything is built or sent
    local task, err = c:submit({ url = "http://127.0.0.1:9/a.wav", timeout = 5 })
    assert.is_nil(task)
    assert.equal("invalid", err.kind)
    assert.matches('"timeout" is not an option of a job: it belongs to stt.client', err.message)
    task, err = c:submit({ url = "http://127.0.0.1:9/a.wav", langauge = "en" })
    assert.is_nil(task)
    assert.matches('unknown option "langauge" %(did you mean "language"%?%)', err.message)
    c:close()
  end)

  it("list every option once, each with a default and a description", function()
    for _, list in ipairs({ options.CLIENT, options.WAIT, options.BATCH }) do
      local seen = {}
      for _, o in ipairs(list) do
        assert.is_nil(seen[o[1]], o[1])
        seen[o[1]] = true
        assert.is_string(o[2])
        assert.is_true(#o[4] > 10, o[1])
      end
    end
  end)
end)

describe("c:check(job)", function()
  it("finds what a submit would refuse, sending nothing", function()
    local c = stt.client("dashscope", { api_key = "k", base_url = "http://127.0.0.1:9", model = "sensevoice-v1" })
    assert.is_true(c:check({ url = "http://h/a.wav", language = "en" }))
    local ok, err = c:check({ url = "http://h/a.wav", speakers = 2 })
    assert.is_nil(ok)
    assert.equal("unsupported", err.kind)
    assert.matches("speakers", err.message)
    ok, err = c:check({ url = 42 })
    assert.is_nil(ok)
    assert.equal("invalid", err.kind)
    -- hot words are validated, not turned into a vocabulary (that would be a request)
    local p = stt.client("dashscope", { api_key = "k", base_url = "http://127.0.0.1:9" })
    assert.is_true(p:check({ url = "http://h/a.wav", hotwords = { "lua-stt" } }))
    ok, err = p:check({ url = "http://h/a.wav", hotwords = { "one two three four five six seven eight" } })
    assert.is_nil(ok)
    assert.equal("invalid", err.kind)
    c:close(); p:close()
  end)

  it("reports missing credentials by the variable that holds them", function()
    local c = stt.client("volcengine-auc", { app_key = false, access_key = false, base_url = "http://127.0.0.1:9" })
    local ok, err = c:check({ url = "http://h/a.wav" })
    assert.is_nil(ok)
    assert.equal("auth", err.kind)
    assert.matches("VOLC_APP_KEY", err.message)
    c:close()
  end)
end)

describe("stt.providers(): one registry", function()
  it("names each provider's credential and base-URL variables, rates and id ownership", function()
    local p = stt.providers()
    assert.same({ api_key = "DASHSCOPE_API_KEY", base_url = "DASHSCOPE_HTTP_BASE_URL" }, p.dashscope.env)
    assert.same({ { "api_key" } }, p.dashscope.credentials)
    assert.same({ submit = 20, query = 20, documented = true }, p.dashscope.rate)
    assert.is_false(p.dashscope.client_ids)
    assert.same({ { "api_key" }, { "app_key", "access_key" } }, p["volcengine-auc"].credentials)
    assert.equal("VOLC_ACCESS_KEY", p["volcengine-auc"].env.access_key)
    assert.is_true(p["volcengine-auc"].client_ids)
    assert.is_false(p.volcengine.rate.documented)
    for name, info in pairs(p) do
      assert.is_string(info.default_model, name)
      assert.is_truthy(info.models[info.default_model], name)
      assert.is_string(info.env.base_url, name)
    end
    -- a fresh copy each call: changing one does not change the library's
    p.dashscope.rate.submit = 1
    assert.equal(20, stt.providers().dashscope.rate.submit)
  end)

  it("is where a client finds its default model and its key variable", function()
    local c = stt.client("turing", { api_key = "k" })
    assert.equal(stt.providers().turing.default_model, c.model)
    c:close()
  end)
end)

describe("stt.option_value", function()
  it("types option values given as text", function()
    assert.equal(true, stt.option_value("true"))
    assert.equal(false, stt.option_value(" false "))
    assert.equal(2, stt.option_value("2"))
    assert.equal(0.5, stt.option_value("0.5"))
    assert.equal(-3, stt.option_value("-3"))
    assert.equal("007", stt.option_value('"007"'))
    assert.equal("zh", stt.option_value("zh"))
    assert.equal("inf", stt.option_value("inf"))         -- not a number word: text
    assert.equal("0x10", stt.option_value("'0x10'"))
    assert.same({ "zh", "en" }, stt.option_value("zh,en"))
    assert.same({ "zh", "en" }, stt.option_value("[zh, en]"))
    assert.same({ 1, true, "x" }, stt.option_value("[1,true,x]"))
    assert.same({}, stt.option_value("[]"))
    assert.equal("", stt.option_value(""))
  end)
  it("refuses a list left open", function()
    local ok, e = pcall(stt.option_value, "[a,b")
    assert.is_false(ok)
    assert.equal("invalid", e.kind)
    assert.matches("not closed", e.message)
  end)
end)
