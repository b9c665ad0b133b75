-- Per-task callbacks of the Volcengine simulators (LAS `data.request.callback`, AUC top-level
-- `callback`; docs/providers.md#volcengine-callbacks): when a task with a callback URL ends, the
-- simulator POSTs a notice to it from a timer, like the provider. What the provider really posts
-- is UNCONFIRMED, so the simulator posts the task's own query / poll answer with `callback_data`
-- at the root (config callbacks.shape "resp": wrapped in {"resp": {...}}; callbacks.echo = false:
-- no callback_data in the body, only the URL carries the token).
--
-- Config `callbacks` (POST /_sim/config; posting it restarts the counters below), all optional:
--   retries (3), retry_ms (200), timeout_ms (1000)  a receiver that fails (non-2xx, no answer in
--                                 timeout_ms: "slow") is tried again retry_ms later, up to retries times
--   drop = N         the first N callbacks are lost (never sent)
--   duplicate = N    the first N callbacks are sent twice
--   forge = N        before each of the first N callbacks a third party posts a forged one (same
--                    body, callback_data and stt_token replaced by a token with a bad signature)
--   hold = N         the first N callbacks are held and then sent together in reverse order
--   delay_ms = n     every callback waits this long after the task ended ("late")
--   echo (true), shape ("plain" | "resp")
-- Control: POST /_sim/tasks/{id}/callback posts the task's callback now, once more, whatever was
-- sent before ({"forge": true}: a forged one instead); it answers {status, attempts, error}.
-- Receiver for tests: POST /_sim/sink/... records {path, query, headers, body, at} and answers
-- config sink_status (200) after sink_delay_ms (0); sink_fail = N: the first N answer 500.
-- GET /_sim/sink?from=N lists the records from index N (1-based).
-- Stats: callbacks_sent (2xx answers), callback_attempts, callback_failures (gave up),
-- callbacks_dropped, callbacks_forged, callbacks_duplicated; task records keep `cb`
-- {url, data, state, first_at (epoch s of the first POST), attempts, status}.
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local job = require "sim.job"
local fetch = require "sim.fetch"

local M = {}

local function stats() return ngx.shared.sim_stats end

local function knobs()
  local c = store.config().callbacks
  return type(c) == "table" and c or {}
end

-- The n-th use of a counted knob (1-based), kept in sim_stats (cleared by a reset or a new config).
local function take(name)
  return stats():incr("u:cb_" .. name, 1, 0)
end

function M.restart_counters()
  for _, k in ipairs({ "drop", "duplicate", "forge", "hold" }) do stats():delete("u:cb_" .. k) end
  stats():delete("u:sink_fail")
  stats():delete("u:cb_held")
end

--- The callback fields of a submit body, or nil: LAS in data.request, AUC at the root.
function M.of_body(provider, body)
  local src = provider == "las" and type(body.request) == "table" and body.request or body
  if type(src.callback) == "string" and src.callback ~= "" then
    return { url = src.callback, data = type(src.callback_data) == "string" and src.callback_data or nil }
  end
  return nil
end

-- The notice body and headers for a finished task.
local function payload(rec, data, cfg)
  local body, headers
  if rec.provider == "las" then
    body = require("sim.las").poll_doc(rec, require("sim.las").status_of(rec, ngx.now()))
  else
    local auc = require("sim.auc")
    local code, message, b = auc.outcome_of_rec(rec)
    body = b or {}
    headers = { ["X-Api-Status-Code"] = tostring(code), ["X-Api-Message"] = message, ["X-Api-Request-Id"] = rec.id }
  end
  if cfg.echo ~= false and data then body.callback_data = data end
  if cfg.shape == "resp" then
    body = { resp = body }
    if rec.provider ~= "las" then body.resp.id = rec.id end
  end
  return util.json(body), headers
end

-- A token like the real one with its signature broken (a third party cannot sign).
local function forged(data)
  if type(data) ~= "string" then return "stt1.forged.0000" end
  local head = data:match("^(.*%.)%x+$") or "stt1.forged."
  return head .. string.rep("0", 64)
end

local function url_forged(url)
  return (url:gsub("stt_token=[^&#]*", function(m) return "stt_token=" .. forged(m:sub(11)) end))
end

-- POST with retries -> last status (or nil), attempts, error
local function post(url, body, headers, cfg)
  local tries = 1 + math.max(0, tonumber(cfg.retries) or 3)
  local status, err
  for i = 1, tries do
    store.count("callback_attempts")
    local res, perr = fetch.post(url, body, { timeout_ms = tonumber(cfg.timeout_ms) or 1000, headers = headers })
    status, err = res and res.status, perr
    if status and status >= 200 and status <= 299 then
      store.count("callbacks_sent")
      store.count_in("callback_status", tostring(status))
      return status, i
    end
    store.count_in("callback_status", status and tostring(status) or "error")
    if i < tries then ngx.sleep((tonumber(cfg.retry_ms) or 200) / 1000) end
  end
  store.count("callback_failures")
  return status, tries, err or ("HTTP " .. tostring(status))
end

-- Send the callback of rec (forge: a forged one only). Updates rec.cb.
local function send(provider, rec, cfg, forge)
  local body, headers = payload(rec, forge and forged(rec.cb.data) or rec.cb.data, cfg)
  local url = forge and url_forged(rec.cb.url) or rec.cb.url
  local first = ngx.now()
  local status, attempts, err = post(url, body, headers, cfg)
  if forge then
    store.count("callbacks_forged")
    return status, attempts, err
  end
  local r = store.task_get(provider, rec.id)
  if r then
    r.cb.first_at = r.cb.first_at or first
    r.cb.attempts = (r.cb.attempts or 0) + attempts
    r.cb.status = status
    r.cb.state = err and "failed" or "sent"
    store.task_put(provider, r)
  end
  return status, attempts, err
end

local deliver

-- Schedule the delivery of id's callback at its end (called when the task is processed, and when
-- its clock is advanced).
function M.schedule(provider, rec, again)
  if not rec.cb or rec.cb.state then return end
  local at = math.max(rec.end_at or ngx.now(), rec.submit_at + (rec.queue_ms or 0) / 1000)
  -- (again: a timer that came a little early. Never 0 then: nginx would run it in the same turn,
  -- with the same cached clock, for ever.)
  local ok, err = ngx.timer.at(math.max(again and 0.002 or 0, at - ngx.now()), deliver, provider, rec.id)
  if not ok then ngx.log(ngx.ERR, "sim: cannot schedule a callback: ", err) end
end

local function release(list, cfg)
  for i = #list, 1, -1 do
    local rec = store.task_get(list[i][1], list[i][2])
    if rec then send(list[i][1], rec, cfg) end
  end
end

deliver = function(premature, provider, id)
  if premature then return end
  local rec = store.task_get(provider, id)
  if not rec or not rec.cb or rec.cb.state then return end
  ngx.update_time()
  if not rec.processed or job.phase(rec, ngx.now()) ~= "done" then
    return M.schedule(provider, rec, true)       -- (not yet: the timer came early)
  end
  rec.cb.state = "sending"
  store.task_put(provider, rec)
  local cfg = knobs()
  if tonumber(cfg.drop) and take("drop") <= tonumber(cfg.drop) then
    rec.cb.state = "dropped"
    store.task_put(provider, rec)
    store.count("callbacks_dropped")
    return
  end
  if tonumber(cfg.delay_ms) then ngx.sleep(tonumber(cfg.delay_ms) / 1000) end
  if tonumber(cfg.hold) and take("hold") <= tonumber(cfg.hold) then
    local held = util.decode(stats():get("u:cb_held") or "[]") or {}
    held[#held + 1] = { provider, id }
    if #held < tonumber(cfg.hold) then
      stats():set("u:cb_held", util.json(held))
      return
    end
    stats():delete("u:cb_held")
    return release(held, cfg)
  end
  if tonumber(cfg.forge) and take("forge") <= tonumber(cfg.forge) then send(provider, rec, cfg, true) end
  send(provider, rec, cfg)
  if tonumber(cfg.duplicate) and take("duplicate") <= tonumber(cfg.duplicate) then
    store.count("callbacks_duplicated")
    rec = store.task_get(provider, id)
    if rec then rec.cb.state = nil; send(provider, rec, cfg) end
  end
end

--- POST /_sim/tasks/{id}/callback: post it now (again).
function M.post_now(provider, rec, forge)
  if not rec.cb then return util.send_json(409, { error = "the task has no callback", task_id = rec.id }) end
  local status, attempts, err = send(provider, rec, knobs(), forge)
  return util.send_json(200, { status = status, attempts = attempts, error = err })
end

---------------------------------------------------------------- the sink (a receiver for tests)

function M.sink_post()
  local cfg = store.config()
  local n = stats():incr("u:sink_n", 1, 0)
  stats():set("u:sink_item_" .. n, util.json({ path = ngx.var.uri, query = ngx.var.args, body = util.read_body(),
                                         headers = util.request_headers(), at = ngx.now() }))
  if tonumber(cfg.sink_delay_ms) then ngx.sleep(tonumber(cfg.sink_delay_ms) / 1000) end
  local status = tonumber(cfg.sink_status) or 200
  if tonumber(cfg.sink_fail) and stats():incr("u:sink_fail", 1, 0) <= tonumber(cfg.sink_fail) then status = 500 end
  return util.send_json(status, { ok = status < 300 })
end

function M.sink_get()
  local from = tonumber(ngx.var.arg_from) or 1
  local n = stats():get("u:sink_n") or 0
  local items = {}
  for i = from, n do items[#items + 1] = util.decode(stats():get("u:sink_item_" .. i) or "null") end
  if #items == 0 then items = util.EMPTY_ARRAY end
  return util.send_json(200, { items = items, next = n + 1 })
end

return M
