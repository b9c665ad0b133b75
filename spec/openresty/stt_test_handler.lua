-- Test-only handlers (spec/openresty/test.conf) that run lua-stt inside the example nginx, so
-- spec/openresty_spec.lua can check the ngx transport and scheduler where they really run.
-- luacheck: globals ngx
local stt = require "stt"
local sched = require "stt.sched"
local ngx_transport = require "stt.transport.ngx"

local M = {}

local function reply(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(stt.json_encode(t))
end

local function body_json()
  ngx.req.read_body()
  return stt.json_decode(ngx.req.get_body_data() or "{}")
end

local function msg(e) return type(e) == "table" and tostring(e.message or e) or tostring(e) end

--- set_by_lua: each call must raise the phase error; returns its message (or "no error").
function M.phase(what)
  local base = os.getenv("DASHSCOPE_HTTP_BASE_URL")
  local ok, err = pcall(function()
    if what == "transport" then
      return ngx_transport.new({ resty_http = false }):request({ method = "GET", url = base })
    elseif what == "run" then
      return stt.run(function() return 1 end)
    elseif what == "sleep" then
      return stt.sleep(0.01)
    elseif what == "submit" then
      return stt.client("dashscope"):submit({ url = "http://127.0.0.1/a.wav" })
    end
  end)
  if ok then return "no error" end
  return msg(err)
end

function M.phase_report()
  reply({ transport = ngx.var.err_transport, run = ngx.var.err_run, sleep = ngx.var.err_sleep,
          submit = ngx.var.err_submit })
end

--- POST {url, method, headers, body, opts, ["repeat"], resty_http}: the raw transport.
function M.http()
  local q = body_json()
  local t = ngx_transport.new({ resty_http = q.resty_http or false })
  local out = {}
  for i = 1, q["repeat"] or 1 do
    local ok, resp, err = pcall(t.request, t, { method = q.method, url = q.url, headers = q.headers,
                                                body = q.body }, q.opts)
    if not ok then out[i] = { raised = msg(resp) }
    elseif resp then
      out[i] = { status = resp.status, headers = resp.headers, body = resp.body, reused = resp.reused,
                 http_version = resp.http_version }
    else
      out[i] = { error = err }
    end
  end
  reply({ results = out, resty_http = t.http ~= nil })
end

function M.auto()
  local c = stt.client("dashscope")
  local curl_ok, curl_err = pcall(stt.client, "dashscope", { transport = "curl" })
  local http_ok, http_err = pcall(sched.http, nil, { method = "GET", url = "http://127.0.0.1/" })
  reply({ ngx = getmetatable(c.transport) == ngx_transport.Transport,
          curl_refused = not curl_ok and msg(curl_err), engine_refused = not http_ok and msg(http_err),
          phase = ngx.get_phase() })
end

-- The scheduler on ngx.thread: concurrency, results, joins from a non-parent, errors.
function M.sched()
  ngx.update_time()
  local t0 = ngx.now()
  local r = { stt.run(function()
    local a = stt.spawn(function(x) stt.sleep(1); return x * 2, "a" end, 21)
    local b = stt.spawn(function() stt.sleep(1); return "b" end)
    -- c joins a, although the main thread spawned a (ngx allows only parents to wait).
    local c = stt.spawn(function() local v = a:join(); return v + 1 end)
    local failing = stt.spawn(function() stt.sleep(0.05); error("boom") end)
    local ok, err = pcall(failing.join, failing)
    local v1, v2 = a:join()
    return v1, v2, b:join(), c:join(), ok, tostring(err), sched.current() ~= nil
  end) }
  ngx.update_time()
  local took = ngx.now() - t0
  local unjoined_ok, unjoined_err = pcall(stt.run, function()
    stt.spawn(function() error("nobody joined me") end)
  end)
  local nested_ok, nested_err = pcall(stt.run, function() return stt.run(function() end) end)
  reply({ results = r, took = took, unjoined = not unjoined_ok and msg(unjoined_err),
          nested = not nested_ok and msg(nested_err), outside = sched.current() == nil })
end

--- POST {urls}: c:transcribe_all inside a request handler.
function M.transcribe_all()
  local q = body_json()
  local c = stt.client("dashscope", { poll_first = 0.1 })
  local jobs = {}
  for i, u in ipairs(q.urls) do jobs[i] = { url = u } end
  ngx.update_time()
  local t0 = ngx.now()
  local out = c:transcribe_all(jobs, { concurrency = #jobs })
  ngx.update_time()
  local texts = {}
  for i, o in ipairs(out) do texts[i] = o.result and o.result.text or msg(o.error) end
  reply({ texts = texts, took = ngx.now() - t0 })
end

--- POST {url} starts an ngx.timer that transcribes (submit + wait); GET ?key= reads the outcome.
function M.timer()
  local d = ngx.shared.stt_jobs
  if ngx.req.get_method() == "GET" then
    return reply({ value = d:get("timer:" .. ngx.var.arg_key) })
  end
  local q = body_json()
  local key = tostring(ngx.now()) .. tostring(math.random(1e9))
  local ok, err = ngx.timer.at(0, function(premature)
    if premature then return end
    local c = stt.client("dashscope", { poll_first = 0.1 })
    local res, terr = c:transcribe({ url = q.url })
    d:set("timer:" .. key, res and res.text or ("error: " .. msg(terr)))
  end)
  reply({ key = key, started = ok, err = err })
end

return M
