-- Control API of the simulator (no auth; loopback only), under /_sim/:
--   GET  /_sim/config          current config
--   POST /_sim/config          merge a JSON object into the config (null removes a key)
--   POST /_sim/reset           clear tasks, results, stats, faults; default config
--   POST /_sim/faults          queue a fault (object) or several (array); see sim.faults
--   GET  /_sim/faults          the queued faults;  DELETE /_sim/faults clears them
--   GET  /_sim/stats           counters (requests, submissions, result fetches, faults, ...)
--   GET  /_sim/arrivals        { ["METHOD /path"] = { epoch seconds, ... } } (config record_arrivals)
--   GET  /_sim/tasks/{id}      a task's internal record
--   POST /_sim/tasks/{id}/advance  move a task's clock forward: {"ms":N}, or {"to":"running"|"done"}
--                              (tests step states with this instead of racing the wall clock)
--   POST /_sim/tasks/{id}/callback post the task's callback now, again (sim.callback)
--   POST /_sim/sink/...  GET /_sim/sink?from=N   a callback receiver for tests (sim.callback)
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local faults = require "sim.faults"
local callback = require "sim.callback"

local M = {}

local function bad_request(message)
  return util.send_json(400, { error = message })
end

local function json_body()
  local v = util.decode(util.read_body())
  if type(v) ~= "table" then return nil end
  return v
end

local function get_config()
  return util.send_json(200, store.config())
end

local function post_config()
  local patch = json_body()
  if not patch then return bad_request("body must be a JSON object") end
  if patch.keys ~= nil and type(patch.keys) ~= "table" then
    return bad_request("keys must be an array of strings")
  end
  if patch.callbacks ~= nil or patch.sink_fail ~= nil then callback.restart_counters() end
  return util.send_json(200, store.merge_config(patch))
end

local function reset()
  store.reset()
  return util.send_json(200, { ok = true })
end

local function list_faults()
  local list = store.faults()
  if #list == 0 then list = util.EMPTY_ARRAY end
  return util.send_json(200, { faults = list })
end

local function post_faults()
  local body = json_body()
  if not body then return bad_request("body must be a fault object or an array of them") end
  local items = body[1] ~= nil and body or { body }
  for _, f in ipairs(items) do
    local ok, err = faults.normalize(f)
    if not ok then return bad_request(err) end
  end
  for _, f in ipairs(items) do faults.add(f) end
  return list_faults()
end

local function clear_faults()
  store.set_faults({})
  return list_faults()
end

local function stats()
  return util.send_json(200, store.stats())
end

local function arrivals()
  return util.send_json(200, store.arrivals())
end

local function task(id)
  local rec, provider = store.task_find(id)
  if not rec then return util.send_json(404, { error = "no such task", task_id = id }) end
  rec.provider = rec.provider or provider
  return util.send_json(200, rec)
end

-- Move a task's clock forward by shifting its timestamps into the past: {"ms": N}, or
-- {"to": "running"} (leave the queue now) / {"to": "done"} (finish now; the task must have been
-- processed, which happens right after its submit: 409 until then, so a caller may ask again).
local function advance(id)
  local rec, provider = store.task_find(id)
  if not rec then return util.send_json(404, { error = "no such task", task_id = id }) end
  local body = json_body() or {}
  local now = ngx.now()
  local ms = tonumber(body.ms)
  if body.to == "running" then
    ms = math.max(0, (rec.submit_at + (rec.queue_ms or 0) / 1000 - now) * 1000)
  elseif body.to == "done" then
    if not rec.processed then
      return util.send_json(409, { error = "task not processed yet; ask again", task_id = id })
    end
    local left = math.max(rec.end_at or now, rec.submit_at + (rec.queue_ms or 0) / 1000) - now
    ms = math.max(0, left * 1000)
  elseif body.to ~= nil then
    return bad_request("to must be \"running\" or \"done\"")
  end
  if not ms or ms < 0 then return bad_request("give ms >= 0 or to = \"running\" | \"done\"") end
  local s = ms / 1000 + 0.001          -- a millisecond past the boundary
  for _, k in ipairs({ "submit_at", "processed_at", "end_at" }) do
    if type(rec[k]) == "number" then rec[k] = rec[k] - s end
  end
  store.task_put(provider, rec)
  if rec.processed then callback.schedule(provider, rec) end     -- a callback due now goes now
  rec.provider = rec.provider or provider
  return util.send_json(200, rec)
end

-- POST /_sim/tasks/{id}/callback: post the task's callback now, again ({"forge": true}: forged).
local function post_callback(id)
  local rec, provider = store.task_find(id)
  if not rec then return util.send_json(404, { error = "no such task", task_id = id }) end
  local body = json_body() or {}
  return callback.post_now(provider, rec, body.forge == true)
end

local function info()
  return util.send_json(200, {
    simulator = "lua-stt",
    providers = { dashscope = "/dashscope/api/v1", volcengine = "/las/api/v1",
                  ["volcengine-auc"] = "/auc/api/v3", turing = "/turing/api/v1" },
    control = "/_sim/",
  })
end

local ROUTES = {
  { "GET", "^/_sim/?$", info },
  { "GET", "^/_sim/config$", get_config },
  { "POST", "^/_sim/config$", post_config },
  { "POST", "^/_sim/reset$", reset },
  { "GET", "^/_sim/faults$", list_faults },
  { "POST", "^/_sim/faults$", post_faults },
  { "DELETE", "^/_sim/faults$", clear_faults },
  { "GET", "^/_sim/stats$", stats },
  { "GET", "^/_sim/arrivals$", arrivals },
  { "GET", "^/_sim/tasks/([^/]+)$", task },
  { "POST", "^/_sim/tasks/([^/]+)/advance$", advance },
  { "POST", "^/_sim/tasks/([^/]+)/callback$", post_callback },
  { "POST", "^/_sim/sink", callback.sink_post },
  { "GET", "^/_sim/sink$", callback.sink_get },
}

function M.serve()
  local method, uri = ngx.req.get_method(), ngx.var.uri
  for _, r in ipairs(ROUTES) do
    if r[1] == method then
      local cap = uri:match(r[2])
      if cap then
        if cap == uri then return r[3]() end
        return r[3](cap)
      end
    end
  end
  return util.send_json(404, { error = "no such control route: " .. method .. " " .. uri })
end

return M
