-- Test-only handlers for per-task callbacks in the example nginx (spec/openresty/test.conf):
-- transcriptions waited on in this worker with the example's own clients (callbacks to its
-- /stt/callback location) or with a client without callbacks, for spec/openresty_spec.lua and
-- bench 9 (spec/bench/callbacks.lua).
-- luacheck: globals ngx
local stt = require "stt"
local handler = require "stt_handler"

local M = {}

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(stt.json_encode(t))
  return ngx.exit(status)
end

local function body_json()
  ngx.req.read_body()
  return stt.json_decode(ngx.req.get_body_data() or "{}")
end

local plain_clients = {}
local function client_for(provider, callbacks)
  if callbacks then return handler.client(provider) end
  if not plain_clients[provider] then
    local o = { timeout = 30, poll_first = 0.5, rate_limit = false }
    if provider == "volcengine" then
      o.api_key, o.base_url = os.getenv("LAS_API_KEY"), os.getenv("LAS_BASE_URL")
    else
      o.app_key, o.access_key, o.base_url = os.getenv("VOLC_APP_KEY"), os.getenv("VOLC_ACCESS_KEY"),
        os.getenv("VOLC_AUC_BASE_URL")
    end
    plain_clients[provider] = stt.client(provider, o)
  end
  return plain_clients[provider]
end

local function now() ngx.update_time(); return ngx.now() end

-- When each task's notice woke its wait (the client's `notice` event), by task id.
local noticed = {}
local function watch(c)
  if c._bench_watched then return end
  c._bench_watched = true
  local prev = c.on_event
  c.on_event = function(ev)
    if ev.type == "notice" then noticed[ev.task_id] = now() end
    if prev then prev(ev) end
  end
end

-- Wait on one task; the outcome: { task_id, text, error, done_at (epoch s), polls }.
local function wait_one(c, task)
  local polls = 0
  local res, err = c:wait(task, { timeout = 600, on_progress = function() polls = polls + 1 end })
  local out = { task_id = task.id, text = res and res.text, error = err and tostring(err), done_at = now(),
                polls = polls + 1, noticed_at = noticed[task.id] }
  noticed[task.id] = nil
  return out
end

--- POST {provider, urls, callbacks, async}: sync -> { results = {...}, elapsed }; async -> { ids }
function M.wait()
  local dict = ngx.shared.stt_callbacks
  if ngx.req.get_method() == "GET" then
    local s = dict:get("test:" .. tostring(ngx.var.arg_id))
    return reply(200, s and stt.json_decode(s) or { pending = true })
  end
  local b = body_json()
  local c = client_for(b.provider or "volcengine", b.callbacks ~= false)
  watch(c)
  local t0 = now()
  if b.async then
    local tasks, ids = {}, {}
    for i, url in ipairs(b.urls) do
      local task, err = c:submit({ url = url })
      if not task then return reply(502, { error = tostring(err) }) end
      tasks[i], ids[i] = task, task.id
    end
    for _, task in ipairs(tasks) do
      assert(ngx.timer.at(0, function()
        dict:set("test:" .. task.id, stt.json_encode(wait_one(c, task)), 3600)
      end))
    end
    return reply(202, { ids = ids })
  end
  local out = {}
  stt.run(function()
    local ths = {}
    for i, url in ipairs(b.urls) do
      ths[i] = stt.spawn(function()
        local task, err = c:submit({ url = url })
        if not task then out[i] = { error = tostring(err) }; return end
        out[i] = wait_one(c, task)
      end)
    end
    for _, th in ipairs(ths) do th:join() end
  end)
  return reply(200, { results = out, elapsed = now() - t0 })
end

--- POST /_test/notify_shared?provider=P: a receiver without a client (secret + shared dict).
function M.notify_shared()
  ngx.req.read_body()
  local note, err = stt.notify(ngx.var.arg_provider or "volcengine", ngx.req.get_body_data(), ngx.req.get_headers(),
    { secret = os.getenv("STT_CALLBACK_SECRET"), shared = "stt_callbacks", query = ngx.var.args })
  if not note then return reply(err.kind == "auth" and 401 or 400, { error = tostring(err), code = err.code }) end
  return reply(200, note)
end

return M
