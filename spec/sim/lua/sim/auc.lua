-- Volcengine / ByteDance big-model file recognition (openspeech AUC v3), as seen on the wire.
-- Base URL for clients: ${STT_SIM_URL}/auc/api/v3
--   POST /auc/bigmodel/submit        body {user, audio, request}; answer: EMPTY body
--   POST /auc/bigmodel/query         body {}
--   POST /auc/bigmodel/idle/submit, /idle/query   the same for idle tasks (resource
--                                    volc.bigasr.auc_idle; same clock here)
--   POST /auc/bigmodel/recognize/flash   one synchronous call (resource volc.bigasr.auc_turbo):
--                                    the audio is processed before answering {audio_info, result}
-- Headers: X-Api-App-Key + X-Api-Access-Key, or one X-Api-Key (new console keys); X-Api-Resource-Id;
-- X-Api-Request-Id (a CLIENT-chosen UUID that is the task id); submit and flash also
-- X-Api-Sequence: -1. The status is in the response header X-Api-Status-Code (+ X-Api-Message,
-- X-Tt-Logid), never in the body.
-- Credentials: config `auc_keys` = { ["<app key>"] = "<access key>" } and `auc_api_keys` =
-- { "<key>", ... } (default { "sim-auc-api-key-0001" }).
-- Facts: docs/providers.md#volcengine-auc (and #volcengine-request-and-result for the shared
-- body/result).
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local job = require "sim.job"
local volc = require "sim.volc"
local callback = require "sim.callback"

local M = {}

local PROVIDER = "auc"
local BASE = "/auc/api/v3/auc/bigmodel"

-- The X-Api-Key accepted when the config names none.
local DEFAULT_API_KEYS = { "sim-auc-api-key-0001" }

-- Each mode's resources (X-Api-Resource-Id -> the model it names), docs/providers.md#auc-endpoints.
local MODES = {
  standard = { resources = { ["volc.bigasr.auc"] = "bigasr", ["volc.seedasr.auc"] = "seedasr" } },
  idle = { resources = { ["volc.bigasr.auc_idle"] = "bigasr" } },
  flash = { resources = { ["volc.bigasr.auc_turbo"] = "bigasr" } },
}

-- Flash limits (docs/providers.md#auc-flash-mode): 2 hours (the code for a longer file is UNCONFIRMED: 45000001 here).
local FLASH_MAX_MS = 2 * 3600 * 1000

-- The HTTP status that goes with a status code is UNCONFIRMED (docs/providers.md#auc-status-codes:
-- clients must read the header). The simulator uses 200 for 2000000x, 400 for 45xxxxxx, 401 for bad credentials,
-- 429 for 55000031 (busy), 500 for other 550xxxxx.
local function http_status(code)
  if code == 45000010 then return 401 end
  if code == 55000031 then return 429 end
  if code >= 55000000 then return 500 end
  if code >= 45000000 then return 400 end
  return 200
end

local function logid()
  -- "202407261553070FACFE6D19421815D605": a timestamp and 20 hex digits.
  return os.date("!%Y%m%d%H%M%S", math.floor(ngx.now())) .. (util.uuid():gsub("-", ""):sub(1, 20):upper())
end

local function status_headers(code, message)
  return { ["X-Api-Status-Code"] = tostring(code), ["X-Api-Message"] = message, ["X-Tt-Logid"] = logid() }
end

-- Answer with the status in the headers; `body` nil means an empty body.
local function send(code, message, body, status)
  for k, v in pairs(status_headers(code, message)) do ngx.header[k] = v end
  local rid = ngx.var.http_x_api_request_id
  if rid then ngx.header["X-Api-Request-Id"] = rid end
  return util.send(status or http_status(code), body and util.json(body) or "", "application/json")
end

-- Fault answers: status in the headers, empty body (third value: headers for sim.faults).
function M.fault_body(kind)
  if kind == 429 then
    return "", "application/json", status_headers(55000031, "server is busy")
  elseif kind == 500 then
    return "", "application/json", status_headers(55000000, "internal error")
  elseif kind == "truncated" then
    return '{"audio_info":{"duration":1000},"result":{"text":"'
  end
end

function M.not_found()
  return send(45000001, "lua-stt simulator: no such AUC route: " .. ngx.var.uri, nil, 404)
end

function M.method_not_allowed()
  return send(45000001, "method " .. ngx.req.get_method() .. " is not allowed here", nil, 405)
end

---------------------------------------------------------------------------- headers

local function api_key_known(cfg, key)
  local keys = cfg.auc_api_keys
  if keys == nil then keys = DEFAULT_API_KEYS end
  for _, k in ipairs(type(keys) == "table" and keys or {}) do
    if k == key then return true end
  end
  return false
end

-- Checks the X-Api-* headers for a request of `mode`; returns the caller's identity (app key or
-- API key, for rate limits), the resource, the request id and which credential it was ("app_key" |
-- "api_key"), or nil after answering. Missing
-- headers are "missing field" = 45000001 (documented). Wrong credentials: the code is
-- UNCONFIRMED; the simulator answers HTTP 401 with 45000010 "invalid auth". An X-Api-Key (new
-- console, UNCONFIRMED for AUC: docs/providers.md#auc-headers) replaces the App/Access pair.
local function check_headers(cfg, mode)
  local api_key, app, access = ngx.var.http_x_api_key, ngx.var.http_x_api_app_key, ngx.var.http_x_api_access_key
  local resource, rid = ngx.var.http_x_api_resource_id, ngx.var.http_x_api_request_id
  local who, cred
  if api_key and api_key ~= "" then
    if not api_key_known(cfg, api_key) then
      send(45000010, "invalid auth: the api key is wrong")
      return nil
    end
    who, cred = api_key, "api_key"
  else
    if not app or app == "" then send(45000001, "missing header X-Api-App-Key (or X-Api-Key)"); return nil end
    if not access or access == "" then send(45000001, "missing header X-Api-Access-Key"); return nil end
    local keys = type(cfg.auc_keys) == "table" and cfg.auc_keys or {}
    if keys[app] == nil or keys[app] ~= access then
      send(45000010, "invalid auth: app key or access key is wrong")
      return nil
    end
    who, cred = app, "app_key"
  end
  if not resource or resource == "" then send(45000001, "missing header X-Api-Resource-Id"); return nil end
  if not MODES[mode].resources[resource] then
    local want = {}
    for r in pairs(MODES[mode].resources) do want[#want + 1] = r end
    table.sort(want)
    send(45000001, "invalid X-Api-Resource-Id: " .. resource .. " (requested resource not granted; this "
      .. mode .. " API takes " .. table.concat(want, " or ") .. ")")
    return nil
  end
  if not rid or rid == "" then send(45000001, "missing header X-Api-Request-Id"); return nil end
  return who, resource, rid, cred
end

local function throttled(cfg, kind, who)
  if not job.rate_exceeded(PROVIDER, kind, who, cfg) then return false end
  send(55000031, "server is busy")
  return true
end

---------------------------------------------------------------------------- handlers

local function process(premature, id)
  if premature then return end
  volc.process(PROVIDER, id)
end

-- The headers and body of a submit or flash call: who, resource, request id, body, params,
-- credential kind; or nil after answering.
local function accept(cfg, mode)
  local who, resource, rid, cred = check_headers(cfg, mode)
  if not who or throttled(cfg, "submit", who) then return nil end
  if ngx.var.http_x_api_sequence ~= "-1" then
    send(45000001, "X-Api-Sequence must be -1")
    return nil
  end
  local body = util.decode(util.read_body())
  local params, err = volc.validate(body, mode == "flash")
  if not params then
    send(45000001, "invalid params: " .. err)
    return nil
  end
  return who, resource, rid, body, params, cred
end

local function submit_in(mode)
  return function()
    local cfg = store.config()
    local who, resource, rid, body, params, cred = accept(cfg, mode)
    if not who then return end
    -- The request id is the task id: a second submit with it is refused
    -- (docs/providers.md#auc-submit-and-query).
    if store.task_get(PROVIDER, rid) then
      store.count("auc_duplicate_submits")
      return send(45000001, "duplicate request: request id " .. rid .. " already exists")
    end
    local rec = job.clock({
      id = rid,
      provider = PROVIDER,
      mode = mode,
      [cred] = job.mask_key(who),                  -- app_key or api_key, masked
      resource = MODES[mode].resources[resource],
      resource_id = resource,
      params = params,
      raw_request = body.request,
      user = body.user,
      cb = callback.of_body(PROVIDER, body),        -- top-level callback, callback_data
    }, cfg)
    store.task_put(PROVIDER, rec)
    store.count_in("submissions", params.url)
    if not job.start(process, rec.id) then return send(55000000, "internal error: cannot start the task") end
    return send(20000000, "OK")
  end
end

-- The status code, message and body (nil: empty) of a finished task.
function M.outcome_of_rec(rec)
  local o = rec.outcome
  if o.kind == "ok" then
    return 20000000, "OK", { audio_info = { duration = rec.duration_ms }, result = volc.result(rec) }
  elseif o.kind == "silent" then
    -- Terminal: "silent audio, do not re-query"; the body is UNCONFIRMED (an empty result here).
    return 20000003, "silent audio", { audio_info = { duration = rec.duration_ms }, result = { text = "" } }
  end
  return o.code or 45000151, o.detail or "task failed", nil
end

-- The answer of a finished task (query, or the flash call itself).
local function send_outcome(rec)
  return send(M.outcome_of_rec(rec))
end

local function query_in(mode)
  return function()
    local cfg = store.config()
    local who, resource, rid = check_headers(cfg, mode)
    if not who or throttled(cfg, "query", who) then return end
    util.read_body()          -- documented as {}; its content is ignored
    local rec = store.task_get(PROVIDER, rid)
    local now = ngx.now()
    if rec and job.expired(rec, cfg, now) then rec = nil end
    -- A task of the other queue (standard / idle) is not found here either.
    if rec and (rec.mode or "standard") ~= mode then rec = nil end
    if not rec then
      -- The answer for an unknown request id is UNCONFIRMED: 45000001 (invalid params), HTTP 404.
      return send(45000001, "task not found: request id " .. rid, nil, 404)
    end
    if MODES[mode].resources[resource] ~= rec.resource then
      return send(45000001, "X-Api-Resource-Id " .. resource .. " does not match the submitted task")
    end
    local phase = job.phase(rec, now)
    -- The body of an unfinished task is UNCONFIRMED: the simulator sends {} (clients read the header).
    if phase == "queued" then return send(20000002, "queued", {}) end
    if phase == "running" then return send(20000001, "processing", {}) end
    return send_outcome(rec)
  end
end

-- Flash (docs/providers.md#auc-flash-mode): the standard request fields without callback / callback_data, the audio
-- processed before the answer (no clock, no task to query; a repeated request id is processed
-- again: whether the service refuses it is UNCONFIRMED). audio.data (base64) is heard like a
-- downloaded file; its reference text is that of the media file with the same bytes.
local function flash()
  local cfg = store.config()
  local who, resource, rid, body, params = accept(cfg, "flash")
  if not who then return end
  if body.callback ~= nil or body.callback_data ~= nil then
    return send(45000001, "invalid params: flash takes no callback or callback_data")
  end
  store.count_in("submissions", params.url or ("data:" .. #params.data .. " bytes"))
  local rec = volc.recognize({ id = rid, provider = PROVIDER, mode = "flash",
                               resource = MODES.flash.resources[resource], params = params,
                               raw_request = body.request }, cfg,
                             { provider = PROVIDER, model = MODES.flash.resources[resource] })
  if (rec.duration_ms or 0) > FLASH_MAX_MS then
    return send(45000001, "audio longer than 2 hours: use the standard version")
  end
  return send_outcome(rec)
end

M.routes = {
  { methods = { POST = true }, pattern = "^" .. BASE .. "/submit/?$", handler = submit_in("standard") },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/query/?$", handler = query_in("standard") },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/idle/submit/?$", handler = submit_in("idle") },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/idle/query/?$", handler = query_in("idle") },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/recognize/flash/?$", handler = flash },
}

return M
