-- Volcengine LAS operator `las_asr` v2, as seen on the wire.
-- Base URL for clients: ${STT_SIM_URL}/las/api/v1
--   POST /submit   {"operator_id":"las_asr","operator_version":"v2","data":{user,audio,resource,request}}
--   POST /poll     {"operator_id":"las_asr","operator_version":"v2","task_id":id}  (vendor client)
--                  or ... "data":{"task_id":id} (the doc's curl), or both (the same id)
-- States ACCEPTED (submit) -> PENDING -> RUNNING -> COMPLETED | FAILED | TIMEOUT; results inline.
-- Facts: docs/providers.md#volcengine-las (doc: https://www.volcengine.com/docs/6492/2172368).
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local job = require "sim.job"
local volc = require "sim.volc"
local callback = require "sim.callback"

local M = {}

local PROVIDER = "las"
local BASE = "/las/api/v1"

-- Request ids look like the doc's: 32 hex digits.
local function request_id()
  return (util.uuid():gsub("-", ""))
end

---------------------------------------------------------------------------- responses

-- The body that carries the documented error codes is UNCONFIRMED
-- (docs/providers.md#volcengine-las-errors): the simulator uses
-- the `metadata` envelope of every other LAS answer, business_code = the code, error_msg = the
-- message.
local function error_doc(code, message, task_id)
  return { metadata = { task_id = task_id or "", task_status = "", business_code = code,
                        error_msg = message, request_id = request_id() } }
end

local function send_error(status, code, message, task_id)
  return util.send_json(status, error_doc(code, message, task_id))
end

local function invalid(detail)
  return send_error(400, "Parameter.Invalid", "The parameter is invalid. " .. detail)
end

function M.fault_body(kind)
  if kind == 429 then
    return util.json(error_doc("Server.Busy", "Server is Busy, please try again later.")), "application/json"
  elseif kind == 500 then
    return util.json(error_doc("Server.InternalError", "internal error, please try again later")),
      "application/json"
  elseif kind == "truncated" then
    return '{"metadata":{"task_id":"' .. request_id() .. '-las-asr","task_sta'
  end
end

function M.not_found()
  return send_error(404, "NotFound", "lua-stt simulator: no such LAS route: " .. ngx.var.uri)
end

function M.method_not_allowed()
  return send_error(405, "MethodNotAllowed", "Method " .. ngx.req.get_method() .. " is not allowed here.")
end

---------------------------------------------------------------------------- auth, limits

-- Three spellings are in circulation (docs/providers.md#volcengine-las-auth): raw key (BytePlus
-- and 2026-01-15 Volcengine docs), "Bearer <key>" (an earlier Volcengine doc) and "ApiKey <key>"
-- (Volcengine's own client). All are accepted.
local function authenticate(cfg)
  local h = ngx.var.http_authorization
  if not h or h:match("^%s*$") then
    send_error(401, "Authorization.Missing", "Missing Authorization.")
    return nil
  end
  local key = job.auth_key(h, { "Bearer", "ApiKey", "" })
  if key and job.key_known(cfg, key) then return key end
  send_error(401, "ApiKey.Invalid", "The api key is invalid.")
  return nil
end

local function throttled(cfg, kind, key)
  if not job.rate_exceeded(PROVIDER, kind, key, cfg) then return false end
  -- No Retry-After is documented for LAS; the simulator sends none (clients back off).
  send_error(429, "Server.Busy", "Server is Busy, please try again later.")
  return true
end

-- The JSON body, which must name the operator; or nil after answering 400.
local function operator_body()
  local req = util.decode(util.read_body())
  if type(req) ~= "table" or (job.is_array(req) and next(req) ~= nil) then
    invalid("The request body is not a valid JSON object.")
    return nil
  end
  if req.operator_id ~= "las_asr" then
    invalid("operator_id must be \"las_asr\".")
    return nil
  end
  if req.operator_version ~= "v2" then
    invalid("operator_version must be \"v2\".")
    return nil
  end
  return req
end

---------------------------------------------------------------------------- state

-- PENDING while queued, RUNNING until done, then by outcome.
local function status_of(rec, now)
  local phase = job.phase(rec, now)
  if phase == "queued" then return "PENDING" end
  if phase == "running" then return "RUNNING" end
  local k = rec.outcome.kind
  if k == "failed" then return "FAILED" end
  if k == "timeout" then return "TIMEOUT" end
  return "COMPLETED"
end
M.status_of = status_of

-- business_code for terminal failures: Volcengine's client knows "2002" (TIMEOUT_ERROR) and
-- "2003" (SERVER_BUSY); the code of a failed task is UNCONFIRMED ("2001" here).
local FAIL_CODE = { FAILED = "2001", TIMEOUT = "2002" }

local function poll_doc(rec, status)
  local md = { task_id = rec.id, task_status = status, business_code = "0", error_msg = "",
               request_id = request_id() }
  local doc = { metadata = md }
  if FAIL_CODE[status] then
    -- FAILED/TIMEOUT bodies are UNCONFIRMED (docs/providers.md#volcengine-las-states): metadata
    -- with a non-"0" code, no data.
    md.business_code = FAIL_CODE[status]
    md.error_msg = rec.outcome.detail or status:lower()
  elseif status == "COMPLETED" then
    -- audio_info.duration is documented as seconds but is milliseconds
    -- (docs/providers.md#volcengine-result).
    -- Silent audio: COMPLETED with an empty text (UNCONFIRMED; AUC says 20000003).
    doc.data = { audio_info = { duration = rec.duration_ms }, result = volc.result(rec) }
  end
  return doc
end
M.poll_doc = poll_doc

---------------------------------------------------------------------------- handlers

local function process(premature, id)
  if premature then return end
  volc.process(PROVIDER, id)
end

local function submit()
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key or throttled(cfg, "submit", key) then return end
  local req = operator_body()
  if not req then return end
  local data = req.data
  local params, err = volc.validate(data)
  if not params then return invalid(err) end
  local resource = data.resource
  if resource ~= nil and not volc.RESOURCES[resource] then
    return invalid("data.resource must be \"bigasr\" or \"seedasr\".")
  end
  local rec = job.clock({
    id = request_id():sub(1, 20) .. "-las-asr",      -- like the doc's "xxxxx123ef24ea40546c-las-asr"
    provider = PROVIDER,
    api_key = job.mask_key(key),
    resource = resource or "bigasr",
    params = params,
    raw_request = data.request,
    user = data.user,
    cb = callback.of_body(PROVIDER, data),        -- data.request.callback (UNCONFIRMED placement)
  }, cfg)
  store.task_put(PROVIDER, rec)
  store.count_in("submissions", params.url)
  if not job.start(process, rec.id) then
    return send_error(500, "Server.InternalError", "cannot start the task")
  end
  return util.send_json(200, { metadata = { task_id = rec.id, task_status = "ACCEPTED", business_code = "0",
                                            error_msg = "", request_id = request_id() } })
end

local function poll()
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key or throttled(cfg, "query", key) then return end
  local req = operator_body()
  if not req then return end
  -- Vendor code puts task_id at the top level, the doc's curl inside "data": accept either, or
  -- both when they agree (docs/providers.md#volcengine-las-poll).
  local id = req.task_id
  local nested = type(req.data) == "table" and req.data.task_id or nil
  if id ~= nil and nested ~= nil and id ~= nested then
    return invalid("task_id and data.task_id differ.")
  end
  -- /_sim/stats las_poll_task_id counts the forms clients use: top, data, both
  store.count_in("las_poll_task_id", id ~= nil and nested ~= nil and "both" or id ~= nil and "top"
    or nested ~= nil and "data" or "none")
  if id == nil then id = nested end
  if type(id) ~= "string" or id == "" then return invalid("task_id is required.") end
  local rec = store.task_get(PROVIDER, id)
  local now = ngx.now()
  if rec and job.expired(rec, cfg, now) then rec = nil end
  if not rec then
    -- The answer for an unknown task is UNCONFIRMED: 404 with the metadata envelope.
    return send_error(404, "Task.NotFound", "The task " .. id .. " does not exist.", id)
  end
  return util.send_json(200, poll_doc(rec, status_of(rec, now)))
end

M.routes = {
  { methods = { POST = true }, pattern = "^" .. BASE .. "/submit/?$", handler = submit },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/poll/?$", handler = poll },
}

return M
