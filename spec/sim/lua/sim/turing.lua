-- TCL Turing speech-to-text (service_name "aliyun/tingwu"), as seen on the wire.
-- Base URL for clients: ${STT_SIM_URL}/turing/api/v1
--   POST /audio/transcriptions/runs                  submit
--   GET  /audio/transcriptions/runs/{task_run_id}    poll
-- Every answer is the envelope {code, message, data}; code 0 = "Success". States running ->
-- completed | failed; results inline.
-- Only the documented success shapes are confirmed (docs/providers.md#tcl-turing;
-- https://live-turing-docs.cn.llm.tcljd.com/api-guides/generation/stt/);
-- every error shape below is the simulator's choice and marked UNCONFIRMED.
-- Injection through the `.json` beside the media:
--   {"fail": "FAILED"|"TIMEOUT", "fail_message": "..."}  -> task_run_state "failed"
--   {"code": 50001, "message": "..."}                     -> polls answer HTTP 200 with that code
--   {"state": "queued"}                                    -> this state instead of "running" while queued
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local job = require "sim.job"

local M = {}

local PROVIDER = "turing"
local BASE = "/turing/api/v1/audio/transcriptions/runs"

-- Tingwu's SourceLanguage values (docs/providers.md#turing-submit); "zh" is refused with a hint, because
-- Tingwu says "cn" (UNCONFIRMED that Turing checks it).
local LANGUAGES = { cn = true, en = true, yue = true, ja = true, fspk = true, ko = true, de = true,
  fr = true, ru = true, es = true }

---------------------------------------------------------------------------- responses

local function envelope(code, message, data)
  return { code = code, message = message, data = data == nil and util.null or data }
end

-- Error codes (UNCONFIRMED, none is documented): HTTP status * 100 + a digit.
local function send_error(status, code, message)
  return util.send_json(status, envelope(code, message))
end

local function invalid(message)
  return send_error(400, 40000, message)
end

function M.fault_body(kind)
  if kind == 429 then
    return util.json(envelope(42900, "Too many requests, please try again later.")), "application/json"
  elseif kind == 500 then
    return util.json(envelope(50000, "Internal server error.")), "application/json"
  elseif kind == "truncated" then
    return '{"code":0,"message":"Success","data":{"task_run_id":"run_'
  end
end

function M.not_found()
  return send_error(404, 40400, "lua-stt simulator: no such Turing route: " .. ngx.var.uri)
end

function M.method_not_allowed()
  return send_error(405, 40500, "Method " .. ngx.req.get_method() .. " is not allowed here.")
end

---------------------------------------------------------------------------- auth, limits

-- Bearer only (the documented form). Bad or missing key: HTTP 401, code 40101 (UNCONFIRMED).
local function authenticate(cfg)
  local h = ngx.var.http_authorization
  if not h or h == "" then
    send_error(401, 40100, "Missing Authorization header.")
    return nil
  end
  local key = job.auth_key(h, { "Bearer" })
  if key and job.key_known(cfg, key) then return key end
  send_error(401, 40101, "Invalid API key.")
  return nil
end

local function throttled(cfg, kind, key)
  if not job.rate_exceeded(PROVIDER, kind, key, cfg) then return false end
  ngx.header["Retry-After"] = "1"
  send_error(429, 42900, "Too many requests, please try again later.")
  return true
end

---------------------------------------------------------------------------- validation

local function validate(req)
  if type(req) ~= "table" or (job.is_array(req) and next(req) ~= nil) then
    return nil, "The request body is not a valid JSON object."
  end
  if req.service_name ~= "aliyun/tingwu" then
    return nil, "service_name must be \"aliyun/tingwu\"."
  end
  local f = req.file
  if type(f) ~= "table" then return nil, "file is required." end
  if f.type ~= "public_uri" then return nil, "file.type must be \"public_uri\"." end
  if type(f.file_uri) ~= "string" or f.file_uri == "" then return nil, "file.file_uri is required." end
  local lang = req.language_code
  if lang ~= nil then
    if type(lang) ~= "string" then return nil, "language_code must be a string." end
    if lang:lower():match("^zh") then return nil, "language_code " .. lang .. " is not supported; use \"cn\"." end
    if not LANGUAGES[lang] then return nil, "language_code " .. lang .. " is not supported." end
  end
  local d = req.diarization
  if d ~= nil then
    if type(d) ~= "table" then return nil, "diarization must be an object." end
    if d.enabled ~= nil and type(d.enabled) ~= "boolean" then return nil, "diarization.enabled must be a boolean." end
    local n = d.speaker_number
    if n ~= nil and (type(n) ~= "number" or n < 0 or n ~= math.floor(n)) then
      return nil, "diarization.speaker_number must be a non-negative integer."
    end
  end
  -- phrase_set: shape UNCONFIRMED (a phrase-list id, or a list of words): anything but an object
  -- of the wrong kind is recorded as sent.
  if req.extra ~= nil and type(req.extra) ~= "table" then return nil, "extra must be an object." end
  local t = req.turing_options
  if t ~= nil and type(t) ~= "table" then return nil, "turing_options must be an object." end
  return {
    url = f.file_uri,
    language = lang,
    diarization = type(d) == "table" and d.enabled == true,
    speakers = type(d) == "table" and d.speaker_number or nil,
    usages = type(t) == "table" and t.include_service_usages == true,
  }
end

---------------------------------------------------------------------------- processing

local function process(premature, id)
  if premature then return end
  local rec = store.task_get(PROVIDER, id)
  if not rec then return end
  local p = job.safe_probe(rec.params.url, store.config(), { provider = PROVIDER, model = rec.params.model })
  rec = store.task_get(PROVIDER, id)
  if not rec then return end
  local o = type(p.override) == "table" and p.override or {}
  rec.override = { code = tonumber(o.code), message = o.message, state = o.state }
  rec.duration_ms = p.info and p.info.duration_ms or 0
  if p.failure == "download" then
    rec.error = { code = "FILE_DOWNLOAD_FAILED", message = "audio download failed: " .. tostring(p.detail) }
  elseif p.failure == "decode" then
    rec.error = { code = "UNSUPPORTED_FORMAT", message = "audio decode failed: " .. tostring(p.detail) }
  elseif o.fail == "TIMEOUT" then
    rec.error = { code = "TASK_TIMEOUT", message = type(o.fail_message) == "string" and o.fail_message
      or "task processing timed out" }
  elseif o.fail ~= nil then
    rec.error = { code = "TASK_FAILED", message = type(o.fail_message) == "string" and o.fail_message
      or "task failed" }
  end
  -- Silent audio (no reference text): completed with an empty transcript (UNCONFIRMED).
  rec.sentences = p.tr and p.tr.sentences or {}
  rec.language = p.tr and p.tr.language
  job.finish(rec, rec.error and 0 or rec.duration_ms)
  store.task_put(PROVIDER, rec)
end

local function segments(rec)
  local out = {}
  for i, s in ipairs(rec.sentences) do
    -- `words` is documented only as [] (its element shape is UNCONFIRMED): always empty here.
    out[i] = { start_time = s.begin_time, end_time = s.end_time, text = s.text, words = util.EMPTY_ARRAY }
    if rec.params.diarization then
      -- Not in the doc example (UNCONFIRMED): Tingwu's SpeakerId, as a string, with diarization on.
      local n = tonumber(rec.params.speakers) or 2
      if n < 1 then n = 2 end
      out[i].speaker_id = tostring((s.speaker or ((i - 1) % n)) + 1)
    end
  end
  if #out == 0 then return util.EMPTY_ARRAY end
  return out
end

local function poll_data(rec, now)
  local data = { task_run_id = rec.id }
  local phase = job.phase(rec, now)
  if phase ~= "done" then
    data.task_run_state = (phase == "queued" and rec.override.state) or "running"
    return data
  end
  if rec.error then
    -- The failed shape is UNCONFIRMED: the envelope stays code 0, the reason is in
    -- data.error_code / data.error_message (Tingwu's ErrorCode / ErrorMessage, snake-cased).
    data.task_run_state = "failed"
    data.error_code, data.error_message = rec.error.code, rec.error.message
    return data
  end
  local texts = {}
  for i, s in ipairs(rec.sentences) do texts[i] = s.text end
  data.task_run_state = "completed"
  data.transcript = table.concat(texts, job.joiner(rec.language))
  data.segments = segments(rec)
  data.audio_info = { duration_ms = rec.duration_ms }
  if rec.params.usages then
    -- The shape of the usage block is UNCONFIRMED: one entry per backing service, billed by
    -- the second (the page says "按音频时长计费(秒级)").
    data.service_usages = { { service_name = "aliyun/tingwu", usage_type = "audio_duration",
                              duration_ms = rec.duration_ms, quantity = math.ceil(rec.duration_ms / 1000),
                              unit = "second" } }
  end
  return data
end

---------------------------------------------------------------------------- handlers

local function submit()
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key or throttled(cfg, "submit", key) then return end
  local req = util.decode(util.read_body())
  local params, err = validate(req)
  if not params then return invalid(err) end
  local rec = job.clock({
    id = "run_" .. (util.uuid():gsub("-", "")),
    provider = PROVIDER,
    api_key = job.mask_key(key),
    params = params,
    phrase_set = req.phrase_set,
    extra = req.extra,
    override = {},
  }, cfg)
  store.task_put(PROVIDER, rec)
  store.count_in("submissions", params.url)
  if not job.start(process, rec.id) then return send_error(500, 50000, "cannot start the task") end
  return util.send_json(200, envelope(0, "Success", { task_run_id = rec.id, task_run_state = "running" }))
end

local function poll(id)
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key or throttled(cfg, "query", key) then return end
  local rec = store.task_get(PROVIDER, id)
  local now = ngx.now()
  if rec and job.expired(rec, cfg, now) then rec = nil end
  if not rec then
    return send_error(404, 40400, "task run " .. id .. " not found.")   -- UNCONFIRMED
  end
  local o = rec.override or {}
  if o.code and o.code ~= 0 and job.phase(rec, now) == "done" then
    -- A non-zero code with HTTP 200: clients must treat it as an error
    -- (docs/providers.md#turing-envelope-and-states).
    return util.send_json(200, envelope(o.code, type(o.message) == "string" and o.message or "error"))
  end
  return util.send_json(200, envelope(0, "Success", poll_data(rec, now)))
end

M.routes = {
  { methods = { POST = true }, pattern = "^" .. BASE .. "/?$", handler = submit },
  { methods = { GET = true }, pattern = "^" .. BASE .. "/([^/]+)/?$", handler = poll },
}

return M
