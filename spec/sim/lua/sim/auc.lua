-- Volcengine / ByteDance big-model file recognition (openspeech AUC v3), as seen on the wire.
-- Base URL for clients: ${STT_SIM_URL}/auc/api/v3
--   POST /auc/bigmodel/submit   body {user, audio, request}; answer: EMPTY body
--   POST /auc/bigmodel/query    body {}
-- Both need X-Api-App-Key, X-Api-Access-Key, X-Api-Resource-Id and X-Api-Request-Id (a
-- CLIENT-chosen UUID that is the task id); submit also X-Api-Sequence: -1. The status is in the
-- response header X-Api-Status-Code (+ X-Api-Message, X-Tt-Logid), never in the body.
-- Credentials: config `auc_keys` = { ["<app key>"] = "<access key>" }.
-- Facts: docs/providers.md#volcengine-auc (and #volcengine-request-and-result for the shared
-- body/result).
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local job = require "sim.job"
local volc = require "sim.volc"

local M = {}

local PROVIDER = "auc"
local BASE = "/auc/api/v3/auc/bigmodel"

local RESOURCES = { ["volc.bigasr.auc"] = "bigasr", ["volc.seedasr.auc"] = "seedasr" }

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

-- Checks the X-Api-* headers; returns app key, resource, request id, or nil after answering.
-- Missing headers are "missing field" = 45000001 (documented). Wrong credentials: the code is
-- UNCONFIRMED; the simulator answers HTTP 401 with 45000010 "invalid auth".
local function check_headers(cfg)
  local app, access = ngx.var.http_x_api_app_key, ngx.var.http_x_api_access_key
  local resource, rid = ngx.var.http_x_api_resource_id, ngx.var.http_x_api_request_id
  if not app or app == "" then send(45000001, "missing header X-Api-App-Key"); return nil end
  if not access or access == "" then send(45000001, "missing header X-Api-Access-Key"); return nil end
  local keys = type(cfg.auc_keys) == "table" and cfg.auc_keys or {}
  if keys[app] == nil or keys[app] ~= access then
    send(45000010, "invalid auth: app key or access key is wrong")
    return nil
  end
  if not resource or resource == "" then send(45000001, "missing header X-Api-Resource-Id"); return nil end
  if not RESOURCES[resource] then
    send(45000001, "invalid X-Api-Resource-Id: " .. resource .. " (requested resource not granted)")
    return nil
  end
  if not rid or rid == "" then send(45000001, "missing header X-Api-Request-Id"); return nil end
  return app, resource, rid
end

local function throttled(cfg, kind, app)
  if not job.rate_exceeded(PROVIDER, kind, app, cfg) then return false end
  send(55000031, "server is busy")
  return true
end

---------------------------------------------------------------------------- handlers

local function process(premature, id)
  if premature then return end
  volc.process(PROVIDER, id)
end

local function submit()
  local cfg = store.config()
  local app, resource, rid = check_headers(cfg)
  if not app or throttled(cfg, "submit", app) then return end
  if ngx.var.http_x_api_sequence ~= "-1" then
    return send(45000001, "X-Api-Sequence must be -1")
  end
  local body = util.decode(util.read_body())
  local params, err = volc.validate(body)
  if not params then return send(45000001, "invalid params: " .. err) end
  -- The request id is the task id: a second submit with it is refused
  -- (docs/providers.md#auc-submit-and-query).
  if store.task_get(PROVIDER, rid) then
    store.count("auc_duplicate_submits")
    return send(45000001, "duplicate request: request id " .. rid .. " already exists")
  end
  local rec = job.clock({
    id = rid,
    provider = PROVIDER,
    app_key = job.mask_key(app),
    resource = RESOURCES[resource],
    resource_id = resource,
    params = params,
    raw_request = body.request,
    user = body.user,
  }, cfg)
  store.task_put(PROVIDER, rec)
  store.count_in("submissions", params.url)
  if not job.start(process, rec.id) then return send(55000000, "internal error: cannot start the task") end
  return send(20000000, "OK")
end

local function query()
  local cfg = store.config()
  local app, resource, rid = check_headers(cfg)
  if not app or throttled(cfg, "query", app) then return end
  util.read_body()          -- documented as {}; its content is ignored
  local rec = store.task_get(PROVIDER, rid)
  local now = ngx.now()
  if rec and job.expired(rec, cfg, now) then rec = nil end
  if not rec then
    -- The answer for an unknown request id is UNCONFIRMED: 45000001 (invalid params), HTTP 404.
    return send(45000001, "task not found: request id " .. rid, nil, 404)
  end
  if RESOURCES[resource] ~= rec.resource then
    return send(45000001, "X-Api-Resource-Id " .. resource .. " does not match the submitted task")
  end
  local phase = job.phase(rec, now)
  -- The body of an unfinished task is UNCONFIRMED: the simulator sends {} (clients read the header).
  if phase == "queued" then return send(20000002, "queued", {}) end
  if phase == "running" then return send(20000001, "processing", {}) end
  local o = rec.outcome
  if o.kind == "ok" then
    return send(20000000, "OK", { audio_info = { duration = rec.duration_ms }, result = volc.result(rec) })
  elseif o.kind == "silent" then
    -- Terminal: "silent audio, do not re-query"; the body is UNCONFIRMED (an empty result here).
    return send(20000003, "silent audio", { audio_info = { duration = rec.duration_ms }, result = { text = "" } })
  end
  return send(o.code or 45000151, o.detail or "task failed")
end

M.routes = {
  { methods = { POST = true }, pattern = "^" .. BASE .. "/submit/?$", handler = submit },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/query/?$", handler = query },
}

return M
