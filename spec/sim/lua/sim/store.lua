-- Simulator state in lua_shared_dicts, stored as JSON text:
--   sim_config  : the config (one JSON document)
--   sim_tasks   : task records by id ("<provider>:<id>")
--   sim_results : result-file bodies by object path
--   sim_stats   : counters and maps for GET /_sim/stats
--   sim_faults  : the queued faults (one JSON array)
-- The simulator runs one worker, so read-modify-write without a yield in between is atomic.
-- luacheck: globals ngx
local util = require "sim.util"

local M = {}

local function dict(name)
  return assert(ngx.shared[name], "lua_shared_dict " .. name .. " missing in nginx.conf")
end

---------------------------------------------------------------------------- config

-- Defaults. `rate_limit = { submit = 20, query = 20 }` (per API key, per second) mirrors
-- the real DashScope limits (submit 20 RPS for paraformer-v2, query 20 QPS); it is off by
-- default because the tests poll fast.
local DEFAULT_CONFIG = {
  keys = { "sk-sim-valid-key-0001", "sk-demo" },
  -- Volcengine AUC credentials: app key -> access key (X-Api-App-Key / X-Api-Access-Key).
  auc_keys = { ["sim-app-0001"] = "sim-access-key-0001", ["demo-app"] = "demo-access-key" },
  queue_ms = 100,            -- time a task stays PENDING
  rtf = 0.1,                 -- RUNNING lasts audio_seconds * rtf * 1000 ms ...
  min_run_ms = 0,            -- ... but at least this long
  result_ttl_s = 86400,      -- result-file URL validity (may be negative in tests)
  retention_s = 86400,       -- tasks older than this answer UNKNOWN
  rate_limit = nil,          -- { submit = N, query = N } or nil (off)
  max_file_urls = 100,       -- input.file_urls limit
  download_timeout_ms = 10000,
  max_download_bytes = 256 * 1024 * 1024,
}

function M.default_config()
  return util.copy(DEFAULT_CONFIG)
end

function M.config()
  local s = dict("sim_config"):get("config")
  local c = s and util.decode(s)
  if type(c) ~= "table" then c = M.default_config() end
  return c
end

local function save_config(c)
  assert(dict("sim_config"):set("config", util.json(c)))
  -- read on every request (faults.access): a plain flag, not the decoded config
  dict("sim_config"):set("record_arrivals", c.record_arrivals and true or false)
end

function M.recording_arrivals() return dict("sim_config"):get("record_arrivals") == true end

-- Merge a table into the config; JSON null removes a key (e.g. {"rate_limit": null}).
function M.merge_config(patch)
  local c = M.config()
  for k, v in pairs(patch) do
    if v == util.null then c[k] = nil else c[k] = v end
  end
  save_config(c)
  return c
end

function M.reset_config()
  save_config(M.default_config())
end

---------------------------------------------------------------------------- tasks

local function task_key(provider, id)
  return provider .. ":" .. id
end

function M.task_get(provider, id)
  local s = dict("sim_tasks"):get(task_key(provider, id))
  return s and util.decode(s) or nil
end

function M.task_put(provider, rec)
  local ok, err = dict("sim_tasks"):set(task_key(provider, rec.id), util.json(rec))
  if not ok then
    ngx.log(ngx.ERR, "sim: cannot store task ", rec.id, ": ", err)
  end
  return ok
end

-- The record of `id` under any provider (control API).
function M.task_find(id)
  local d = dict("sim_tasks")
  for _, key in ipairs(d:get_keys(0)) do
    local provider, tid = key:match("^([^:]+):(.*)$")
    if tid == id then
      return util.decode(d:get(key)), provider
    end
  end
  return nil
end

---------------------------------------------------------------------------- results

function M.result_put(path, body)
  local ok, err = dict("sim_results"):set(path, body)
  if not ok then
    ngx.log(ngx.ERR, "sim: cannot store result ", path, ": ", err)
  end
  return ok
end

function M.result_get(path)
  return dict("sim_results"):get(path)
end

---------------------------------------------------------------------------- stats

function M.count(name, n)
  dict("sim_stats"):incr("c:" .. name, n or 1, 0)
end

function M.count_in(map, key, n)
  dict("sim_stats"):incr("m:" .. map .. ":" .. key, n or 1, 0)
end

function M.stat_set(name, value)
  dict("sim_stats"):set("j:" .. name, util.json(value))
end

function M.stats()
  local d = dict("sim_stats")
  local out = {
    requests = {}, submissions = {}, result_fetches = 0, result_fetch_auth_rejected = 0,
    faults_applied = 0, last_headers = {},
  }
  for _, key in ipairs(d:get_keys(0)) do
    local v = d:get(key)
    local name = key:match("^c:(.*)$")
    if name then
      out[name] = v
    else
      local map, k = key:match("^m:([^:]+):(.*)$")
      if map then
        out[map] = out[map] or {}
        out[map][k] = v
      else
        name = key:match("^j:(.*)$")
        if name then out[name] = util.decode(v) end
      end
    end
  end
  return out
end

-- Arrival times of requests (epoch seconds, nginx's clock updated first), per "METHOD /path",
-- when config.record_arrivals is set: what a server-side sliding window would count
-- (GET /_sim/arrivals). One numbered key per arrival: O(1) per request.
function M.arrival(key)
  ngx.update_time()
  local d = dict("sim_stats")
  local n = d:incr("an:" .. key, 1, 0)
  if n then d:set("a:" .. key .. ":" .. n, ngx.now()) end
end

function M.arrivals()
  local d = dict("sim_stats")
  local out = {}
  for _, key in ipairs(d:get_keys(0)) do
    local k = key:match("^an:(.*)$")
    if k then
      local list = {}
      for i = 1, d:get(key) or 0 do list[#list + 1] = d:get("a:" .. k .. ":" .. i) end
      out[k] = list
    end
  end
  return out
end

-- Requests so far in the current wall-clock second for a rate-limit bucket (this one included).
function M.rate_count(bucket)
  local n = dict("sim_stats"):incr("rl:" .. bucket .. ":" .. math.floor(ngx.now()), 1, 0, 2)
  return n or 0
end

---------------------------------------------------------------------------- faults

function M.faults()
  local s = dict("sim_faults"):get("list")
  local list = s and util.decode(s)
  return type(list) == "table" and list or {}
end

function M.set_faults(list)
  if #list == 0 then
    dict("sim_faults"):delete("list")
  else
    assert(dict("sim_faults"):set("list", util.json(list)))
  end
end

---------------------------------------------------------------------------- reset

function M.reset()
  dict("sim_tasks"):flush_all()
  dict("sim_results"):flush_all()
  dict("sim_stats"):flush_all()
  dict("sim_faults"):flush_all()
  M.reset_config()
end

return M
