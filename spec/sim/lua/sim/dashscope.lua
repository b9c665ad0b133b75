-- DashScope (Alibaba Cloud Model Studio) async file transcription, as seen on the wire.
-- Base URL for clients: ${STT_SIM_URL}/dashscope/api/v1
--   POST /services/audio/asr/transcription      submit (X-DashScope-Async: enable)
--   GET|POST /tasks/{task_id}                   query
--   POST /tasks/{task_id}/cancel                cancel (PENDING only)
--   GET /tasks?page_no&page_size&start_time&end_time&status&model_name   list (the key's tasks)
-- Models by exact name (dated snapshots <name>-YYYY-MM-DD too): paraformer-v2, paraformer-8k-v2,
-- paraformer-v1, paraformer-8k-v1, paraformer-mtl-v1, fun-asr, fun-asr-mtl,
-- qwen-audio-<v>-asr-flash-filetrans, sensevoice-v1 (input.file_urls) and
-- qwen3-asr-flash-filetrans[-...] (input.file_url). Result files are served by sim.oss.
-- oss://<key> inputs (temporary storage) resolve to <media dir>/oss/<key> when the submit carries
-- X-DashScope-OssResourceResolve: enable; without it the file fails like an undownloadable one.
-- X-DashScope-WorkSpace is counted per operation (stats.dashscope_workspace["<op> <id>"]); with
-- config.workspaces (a list) any other workspace id answers 404 WorkSpaceNotFound.
-- config.succeeded_without_results = N: the next N queries of a SUCCEEDED task answer without
-- results (the SDK-style wrapper: status_code, code null, message "", usage null).
-- Facts: docs/providers.md#dashscope (with the public DashScope docs it cites).
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local oss = require "sim.oss"
local job = require "sim.job"

local M = {}

local PROVIDER = "dashscope"
local BASE = "/dashscope/api/v1"
local BUCKET = "dashscope-result"

---------------------------------------------------------------------------- responses

local function send_error(status, code, message)
  return util.send_json(status, { request_id = util.uuid(), code = code, message = message })
end

local function invalid(message)
  return send_error(400, "InvalidParameter", message)
end

function M.fault_body(kind)
  if kind == 429 then
    return util.json({ request_id = util.uuid(), code = "Throttling",
      message = "Requests throttling triggered." }), "application/json"
  elseif kind == 500 then
    return util.json({ request_id = util.uuid(), code = "InternalError",
      message = "An internal error has occured, please try again later or contact service support." }),
      "application/json"
  elseif kind == "truncated" then
    return '{"request_id":"' .. util.uuid() .. '","output":{"task_id":"' .. util.uuid() .. '","task_sta'
  end
end

function M.not_found()
  return send_error(404, "NotFound", "lua-stt simulator: no such DashScope route: " .. ngx.var.uri)
end

function M.method_not_allowed()
  return send_error(405, "MethodNotAllowed", "Method " .. ngx.req.get_method() .. " is not allowed here.")
end

---------------------------------------------------------------------------- models

-- family: "paraformer" (paraformer v2 / v1, fun-asr, qwen-audio filetrans: input.file_urls and
-- the Fun-ASR result file), "sensevoice", "qwen" (qwen3-asr-flash-filetrans: input.file_url).
-- Names are matched exactly, as by lua-stt (docs/providers.md#dashscope-models).
local FILE_URLS_MODELS = {
  ["paraformer-v2"] = "paraformer", ["paraformer-8k-v2"] = "paraformer", ["paraformer-v1"] = "paraformer",
  ["paraformer-8k-v1"] = "paraformer", ["paraformer-mtl-v1"] = "paraformer", ["fun-asr"] = "paraformer",
  ["fun-asr-mtl"] = "paraformer", ["sensevoice-v1"] = "sensevoice",
}

local function model_family(model)
  if model == "qwen3-asr-flash-filetrans" or model:match("^qwen3%-asr%-flash%-filetrans%-") then return "qwen" end
  local base = model:gsub("%-%d%d%d%d%-%d%d%-%d%d$", "")
  if FILE_URLS_MODELS[base] then return FILE_URLS_MODELS[base] end
  if base:match("^qwen%-audio%-.+%-asr%-flash%-filetrans$") then return "paraformer" end
  return nil
end

---------------------------------------------------------------------------- auth, limits

-- Returns the API key, or answers 401 and returns nil.
local function authenticate(cfg)
  local h = ngx.var.http_authorization
  local key = h and h:match("^%s*[Bb]earer%s+(%S+)%s*$")
  if key then
    for _, k in ipairs(cfg.keys or {}) do
      if k == key then return key end
    end
  end
  send_error(401, "InvalidApiKey", "Invalid API-key provided.")
  return nil
end

-- X-DashScope-WorkSpace: counted per operation; with config.workspaces, an id outside that list
-- answers 404 WorkSpaceNotFound (the error-code table's text). Returns false when it answered.
local function check_workspace(cfg, op)
  local ws = ngx.var.http_x_dashscope_workspace
  store.count_in("dashscope_workspace", op .. " " .. (ws or "-"))
  if ws and type(cfg.workspaces) == "table" then
    for _, w in ipairs(cfg.workspaces) do
      if w == ws then return true end
    end
    send_error(404, "WorkSpaceNotFound", "WorkSpace can not be found.")
    return false
  end
  return true
end

-- Per-key requests-per-second limit; answers 429 and returns false when exceeded.
local function within_rate(cfg, kind, key)
  if job.rate_exceeded(PROVIDER, kind, key, cfg) then
    ngx.header["Retry-After"] = "1"
    send_error(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.")
    return false
  end
  return true
end

---------------------------------------------------------------------------- submit validation

local is_array = job.is_array

local function check_channels(params)
  local ch = params.channel_id
  if ch == nil then return { 0 } end
  if not is_array(ch) or #ch == 0 then
    return nil, "parameters.channel_id must be a non-empty array of track indices, e.g. [0]."
  end
  for _, c in ipairs(ch) do
    if type(c) ~= "number" or c < 0 or c ~= math.floor(c) then
      return nil, "parameters.channel_id must contain non-negative integers (0-based track indices)."
    end
  end
  return ch
end

-- The list of file URLs of a submit body, or nil + message.
local function input_urls(family, model, input, cfg)
  if family == "qwen" then
    if type(input.file_url) ~= "string" or input.file_url == "" then
      if input.file_urls ~= nil then
        return nil, "Model " .. model .. " takes input.file_url (a single string), not input.file_urls."
      end
      return nil, "Required parameter input.file_url is missing."
    end
    return { input.file_url }
  end
  local urls = input.file_urls
  if urls == nil then
    if input.file_url ~= nil then
      return nil, "Model " .. model .. " takes input.file_urls (an array of strings), not input.file_url."
    end
    return nil, "Required parameter input.file_urls is missing."
  end
  if not is_array(urls) then
    return nil, "input.file_urls must be an array of URL strings."
  end
  if #urls == 0 then return nil, "input.file_urls must not be empty." end
  local max = tonumber(cfg.max_file_urls) or 100
  if #urls > max then
    return nil, "The number of input.file_urls (" .. #urls .. ") exceeds the limit of " .. max .. "."
  end
  for i, u in ipairs(urls) do
    if type(u) ~= "string" or u == "" then
      return nil, "input.file_urls[" .. (i - 1) .. "] must be a non-empty URL string."
    end
  end
  return urls
end

---------------------------------------------------------------------------- processing

local function failure_codes(family, kind, status)
  if family == "qwen" then
    -- qwen3-asr-flash-filetrans reports task-level codes whose message repeats the code
    -- ("FILE_403_FORBIDDEN"); FILE_404_NOT_FOUND / FILE_DOWNLOAD_FAILED are seen in third-party
    -- clients, UNSUPPORTED_FORMAT for undecodable media is UNCONFIRMED.
    local code
    if kind == "download" then
      code = (status == 403 and "FILE_403_FORBIDDEN") or (status == 404 and "FILE_404_NOT_FOUND")
        or "FILE_DOWNLOAD_FAILED"
    elseif kind == "decode" then
      code = "UNSUPPORTED_FORMAT"
    else
      code = "SUCCESS_WITH_NO_VALID_FRAGMENT"
    end
    return code, code
  end
  if kind == "download" then return "InvalidFile.DownloadFailed", "The audio file cannot be downloaded." end
  if kind == "decode" then return "InvalidFile.DecodeFailed", "The audio file cannot be decoded." end
  -- A file without speech: subtask FAILED with this code (third-party clients treat it as an
  -- empty result). The message text is UNCONFIRMED.
  return "SUCCESS_WITH_NO_VALID_FRAGMENT", "No valid speech fragment was detected in the audio."
end

local sentence_joiner = job.joiner

local function channel_list(n)
  local t = {}
  for i = 1, n do t[i] = i - 1 end
  return t
end

local function sensevoice_text(s)
  local words = {}
  for w in s.text:gmatch("%S+") do words[#words + 1] = w end
  local body = s.text
  local open = ""
  for _, ev in ipairs(s.events or {}) do
    open = open .. "<|" .. tostring(ev) .. "|> "
    -- close the event after the first word, like the documented example
    if #words >= 2 then
      body = words[1] .. " <|/" .. tostring(ev) .. "|> " .. table.concat(words, " ", 2)
    else
      body = body .. " <|/" .. tostring(ev) .. "|>"
    end
  end
  local emotion = s.emotion and s.emotion ~= "" and ("<|" .. s.emotion:upper() .. "|>") or ""
  if s.emotion == nil then emotion = "<|NEUTRAL|>" end
  return open .. "<|Speech|> " .. body .. " <|/Speech|> " .. emotion
end

-- parameters.special_word_filter (a JSON string, decoded at submit): words of
-- filter_with_signed.word_list become as many "*" as they have characters, words of
-- filter_with_empty.word_list are removed (docs/providers.md#dashscope-submit). The service's
-- own list (system_reserved_filter) is not played.
local function utf8_chars(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function plain(s) return (s:gsub("%p", "%%%0")) end

local function filtered(text, filter)
  if type(filter) ~= "table" or type(text) ~= "string" then return text end
  local signed = type(filter.filter_with_signed) == "table" and filter.filter_with_signed.word_list
  local empty = type(filter.filter_with_empty) == "table" and filter.filter_with_empty.word_list
  for _, w in ipairs(type(signed) == "table" and signed or {}) do
    if type(w) == "string" and w ~= "" then
      text = text:gsub(plain(w), string.rep("*", utf8_chars(w)))
    end
  end
  for _, w in ipairs(type(empty) == "table" and empty or {}) do
    if type(w) == "string" and w ~= "" then text = text:gsub(plain(w), "") end
  end
  return text
end

local function filtered_words(words, filter)
  if type(filter) ~= "table" or type(words) ~= "table" then return words end
  local out = {}
  for i, w in ipairs(words) do
    out[i] = { begin_time = w.begin_time, end_time = w.end_time, text = filtered(w.text, filter),
               punctuation = w.punctuation }
  end
  return out
end

local function paraformer_result(rec, url, info, tr)
  local params = rec.params
  local sensevoice = rec.family == "sensevoice"
  local transcripts = {}
  for ci, ch in ipairs(params.channel_id) do
    local sentences, texts = {}, {}
    for i, s in ipairs(tr.sentences) do
      local out = { begin_time = s.begin_time, end_time = s.end_time }
      if sensevoice then
        out.text = sensevoice_text(s)
      else
        out.text = filtered(s.text, params.special_word_filter)
        out.sentence_id = i
        out.words = filtered_words(s.words, params.special_word_filter)
        if params.diarization_enabled then
          local n = tonumber(params.speaker_count) or 2
          out.speaker_id = s.speaker or ((i - 1) % math.max(1, n))
        end
      end
      sentences[i] = out
      texts[i] = out.text
    end
    transcripts[ci] = {
      channel_id = ch,
      content_duration_in_milliseconds = tr.content_ms,
      text = table.concat(texts, sensevoice and "" or sentence_joiner(tr.language)),
      sentences = sentences,
    }
  end
  return {
    file_url = url,
    properties = {
      audio_format = info.audio_format,
      channels = channel_list(info.channels),
      original_sampling_rate = info.sample_rate,
      original_duration_in_milliseconds = info.duration_ms,
    },
    transcripts = transcripts,
  }
end

local function qwen_result(rec, url, info, tr)
  local params = rec.params
  local transcripts = {}
  for ci, ch in ipairs(params.channel_id) do
    local sentences, texts = {}, {}
    for i, s in ipairs(tr.sentences) do
      sentences[i] = {
        sentence_id = i - 1,
        begin_time = s.begin_time,
        end_time = s.end_time,
        language = s.language,
        emotion = s.emotion and s.emotion:lower() or "neutral",
        text = s.text,
        words = params.enable_words == true and s.words or nil,
      }
      texts[i] = s.text
    end
    -- The documented example joins sentences without a separator ("classmates.I am").
    transcripts[ci] = { channel_id = ch, text = table.concat(texts), sentences = sentences }
  end
  return {
    file_url = url,
    audio_info = { format = info.format, sample_rate = info.sample_rate },
    transcripts = transcripts,
  }
end

-- Download, probe and "recognize" one file; returns the file record. `source` is what is
-- downloaded (an oss:// URL's media file), "" for an oss:// URL the service could not resolve.
local function process_file(rec, index, url, cfg, source)
  local file = { url = url }
  local function fail(kind, detail, status)
    file.state = "failed"
    file.code, file.message = failure_codes(rec.family, kind, status)
    file.detail = detail
    return file
  end
  if source == "" then
    -- What the real service answers is UNCONFIRMED ("skipping it causes errors"): played as a
    -- file that cannot be downloaded (docs/providers.md#dashscope-temporary-storage).
    return fail("download", "oss:// URL without X-DashScope-OssResourceResolve: enable")
  end
  local rp = type(rec.raw_parameters) == "table" and rec.raw_parameters or {}
  local p = job.probe(source or url, cfg, { provider = PROVIDER, model = rec.model,
    fillers_removed = rp.disfluency_removal_enabled == true })
  if p.failure then return fail(p.failure, p.detail, p.status) end
  local info, tr = p.info, p.tr
  file.duration_ms, file.format, file.sample_rate, file.channels = info.duration_ms, info.format,
    info.sample_rate, info.channels
  local doc
  if rec.family == "qwen" then
    doc = qwen_result(rec, url, info, tr)
  else
    doc = paraformer_result(rec, url, info, tr)
  end
  file.object = BUCKET .. "/" .. rec.id .. "/" .. index .. ".json"
  -- Real result files come from a Go JSON encoder: <, > and & are \u003c, \u003e, \u0026.
  store.result_put(file.object, util.json_html_escaped(doc))
  file.state = "ok"
  file.content_ms = tr.content_ms
  return file
end

local function process(premature, id)
  if premature then return end
  local rec = store.task_get(PROVIDER, id)
  if not rec then return end
  local cfg = store.config()
  local files, audio_ms = {}, 0
  for i, url in ipairs(rec.urls) do
    local ok, file = pcall(process_file, rec, i, url, cfg, rec.sources and rec.sources[i])
    if not ok then
      ngx.log(ngx.ERR, "sim: processing ", url, " failed: ", file)
      file = { url = url, state = "failed", detail = tostring(file) }
      file.code, file.message = failure_codes(rec.family, "decode")
    end
    files[i] = file
    if file.state == "ok" then audio_ms = audio_ms + file.duration_ms end
  end
  rec = store.task_get(PROVIDER, id)   -- it may have been canceled meanwhile
  if not rec then return end
  local now = ngx.now()
  rec.files = files
  job.finish(rec, audio_ms, now)
  store.task_put(PROVIDER, rec)
end

---------------------------------------------------------------------------- state

local function state_of(rec, now)
  if rec.canceled_at then return "CANCELED" end
  if now < rec.submit_at + rec.queue_ms / 1000 then return "PENDING" end
  if not rec.processed or now < rec.end_at then return "RUNNING" end
  for _, f in ipairs(rec.files) do
    if f.state == "ok" then return "SUCCEEDED" end
  end
  return "FAILED"
end
M.state_of = state_of

local function metrics(rec, final)
  local ok, failed = 0, 0
  if final then
    for _, f in ipairs(rec.files) do
      if f.state == "ok" then ok = ok + 1 else failed = failed + 1 end
    end
  end
  return { TOTAL = #rec.urls, SUCCEEDED = ok, FAILED = failed }
end

local function base_url()
  return ngx.var.scheme .. "://" .. ngx.var.host .. ":" .. ngx.var.server_port
end

-- config.result_base_url ("http://host:port") hands result URLs out on another host than the
-- one asked (real ones point at an OSS bucket): a name that does not resolve or a TLS listener
-- the client must refuse gives the result fetch its own DNS and TLS faults.
local function result_url(rec, file, cfg)
  local expires = rec.end_at + (tonumber(cfg.result_ttl_s) or 86400)
  local base = cfg.result_base_url
  if type(base) ~= "string" or base == "" then base = base_url() end
  return oss.signed_url((base:gsub("/+$", "")), file.object, expires)
end

local function billed_seconds(ms)
  return math.ceil(ms / 1000)
end

local function query_output(rec, status, cfg)
  local out = {
    task_id = rec.id,
    task_status = status,
    submit_time = util.beijing_time(rec.submit_at),
  }
  if status == "CANCELED" then
    out.end_time = util.beijing_time(rec.canceled_at)
    return out
  end
  -- Real PENDING answers are not documented beyond task_id/task_status; the simulator
  -- shows the time the task is (or was) scheduled for, like RUNNING does.
  out.scheduled_time = util.beijing_time(rec.submit_at + rec.queue_ms / 1000)
  if status == "PENDING" or status == "RUNNING" then
    out.task_metrics = metrics(rec, false)
    return out
  end
  out.end_time = util.beijing_time(rec.end_at)
  local nch = #rec.params.channel_id
  local usage
  if rec.family == "qwen" then
    local f = rec.files[1]
    if status == "SUCCEEDED" then
      out.result = { transcription_url = result_url(rec, f, cfg) }
      usage = { seconds = billed_seconds(f.duration_ms * nch) }
    else
      out.code, out.message = f.code, f.message
    end
    return out, usage
  end
  local results, content_ms = {}, 0
  for i, f in ipairs(rec.files) do
    if f.state == "ok" then
      results[i] = { file_url = f.url, transcription_url = result_url(rec, f, cfg), subtask_status = "SUCCEEDED" }
      content_ms = content_ms + f.content_ms * nch
    else
      results[i] = { file_url = f.url, code = f.code, message = f.message, subtask_status = "FAILED" }
    end
  end
  out.results = results
  out.task_metrics = metrics(rec, true)
  if status == "FAILED" then
    -- All subtasks failed: task-level code/message of the first failure, with the results
    -- still listed (as in a captured real answer). The docs also show SUCCEEDED with 0
    -- successful subtasks; the simulator follows the capture.
    out.code, out.message = rec.files[1].code, rec.files[1].message
    return out
  end
  return out, { duration = billed_seconds(content_ms) }
end

---------------------------------------------------------------------------- handlers

-- The media file an oss://<key> URL of the temporary storage stands for: <media dir>/oss/<key>,
-- fetched like any media URL of this simulator. nil for a key that climbs out of oss/.
local function oss_source(key)
  if key == "" or key:find("..", 1, true) then return nil end
  local parts = {}
  for seg in key:gmatch("[^/]+") do parts[#parts + 1] = ngx.escape_uri(seg) end
  return ngx.var.scheme .. "://127.0.0.1:" .. ngx.var.server_port .. "/media/oss/" .. table.concat(parts, "/")
end

-- What each submitted URL is downloaded from: itself, its oss/ media file, or "" (an oss:// URL
-- the service does not resolve: no X-DashScope-OssResourceResolve: enable).
local function sources_of(urls)
  local h = ngx.var.http_x_dashscope_ossresourceresolve
  local resolve = type(h) == "string" and h:lower() == "enable"
  local out = {}
  for i, u in ipairs(urls) do
    local key = u:match("^oss://(.*)$")
    if key then
      out[i] = resolve and oss_source(key) or ""
    else
      out[i] = u
    end
  end
  return out
end

-- parameters.special_word_filter must be a JSON string holding an object (the SDK doc); nil +
-- message, or the decoded filter.
local function word_filter(params)
  local f = params.special_word_filter
  if f == nil or f == util.null then return nil end
  local t = type(f) == "string" and util.decode(f)
  if type(t) ~= "table" then
    return nil, "parameters.special_word_filter must be a JSON string (an object written as text)."
  end
  return t
end

local function submit()
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key then return end
  if not within_rate(cfg, "submit", key) then return end
  if not check_workspace(cfg, "submit") then return end
  local async = ngx.var.http_x_dashscope_async
  if not async or async:lower() ~= "enable" then
    -- HTTP status and code UNCONFIRMED; typically reported as 403 AccessDenied.
    return send_error(403, "AccessDenied", "current user api does not support synchronous calls")
  end
  local body = util.read_body()
  local req = util.decode(body)
  if type(req) ~= "table" or is_array(req) and next(req) ~= nil then
    return invalid("The request body is not a valid JSON object.")
  end
  if type(req.model) ~= "string" or req.model == "" then
    return invalid("Required parameter model is missing or not a string.")
  end
  local family = model_family(req.model)
  if not family then
    -- The real code for an unknown model is UNCONFIRMED.
    return invalid("Model not exist.")
  end
  if type(req.input) ~= "table" then
    return invalid("Required parameter input is missing or not an object.")
  end
  local params = req.parameters
  if params == nil or params == util.null then params = {} end
  if type(params) ~= "table" then return invalid("parameters must be a JSON object.") end
  local urls, err = input_urls(family, req.model, req.input, cfg)
  if not urls then return invalid(err) end
  local channels
  channels, err = check_channels(params)
  if not channels then return invalid(err) end
  local filter
  filter, err = word_filter(params)
  if err then return invalid(err) end

  local now = ngx.now()
  local rec = {
    id = util.uuid(),
    request_id = util.uuid(),
    workspace = ngx.var.http_x_dashscope_workspace,
    sources = sources_of(urls),
    provider = PROVIDER,
    model = req.model,
    family = family,
    api_key = job.mask_key(key),
    submit_at = now,
    queue_ms = tonumber(cfg.queue_ms) or 0,
    rtf = tonumber(cfg.rtf) or 0,
    min_run_ms = tonumber(cfg.min_run_ms) or 0,
    urls = urls,
    params = {
      channel_id = channels,
      diarization_enabled = params.diarization_enabled == true,
      speaker_count = tonumber(params.speaker_count),
      enable_words = params.enable_words == true,
      language = type(params.language) == "string" and params.language or nil,
      special_word_filter = filter,
    },
    raw_parameters = params,
    processed = false,
  }
  store.task_put(PROVIDER, rec)
  for _, u in ipairs(urls) do store.count_in("submissions", u) end
  -- process_inline: the task is processed (media downloaded, result written) before the submit
  -- is answered, so a zero-delay task is already done at its first poll, however busy the
  -- simulator is (benchmark 1 compares clients doing the same protocol work: one poll per job).
  if cfg.process_inline then
    process(false, rec.id)
    return util.send_json(200, {
      request_id = rec.request_id,
      output = { task_status = "PENDING", task_id = rec.id },
    })
  end
  local ok, terr = ngx.timer.at(0, process, rec.id)
  if not ok then
    ngx.log(ngx.ERR, "sim: cannot start processing timer: ", terr)
    return send_error(500, "InternalError", "An internal error has occured, please try again later.")
  end
  return util.send_json(200, {
    request_id = rec.request_id,
    output = { task_status = "PENDING", task_id = rec.id },
  })
end

-- The prologue of query and cancel: authenticate, rate-limit, find the task (nil when unknown
-- or past retention). Returns false when an error answer was already sent.
local function lookup(id, op)
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key or not within_rate(cfg, "query", key) or not check_workspace(cfg, op) then return false end
  local rec = store.task_get(PROVIDER, id)
  local now = ngx.now()
  if rec and now - rec.submit_at > (tonumber(cfg.retention_s) or 86400) then rec = nil end
  return true, rec, now, cfg
end

local function query(id)
  local ok, rec, now, cfg = lookup(id, "query")
  if not ok then return end
  if not rec then
    -- What the real service answers for a task it does not know (or no longer keeps).
    return util.send_json(200, { request_id = util.uuid(), output = { task_id = id, task_status = "UNKNOWN" } })
  end
  local status = state_of(rec, now)
  local n = tonumber(cfg.succeeded_without_results) or 0
  if status == "SUCCEEDED" and n > 0 then
    -- A SUCCEEDED answer that lists no results, in the wrapper the SDK prints (its status_code,
    -- code null, message "" and usage null; docs/providers.md#dashscope-poll).
    store.merge_config({ succeeded_without_results = n - 1 })
    return util.send_json(200, {
      status_code = 200, request_id = util.uuid(), code = util.null, message = "",
      output = { task_id = rec.id, task_status = "SUCCEEDED", submit_time = util.beijing_time(rec.submit_at),
                 scheduled_time = util.beijing_time(rec.submit_at + rec.queue_ms / 1000),
                 end_time = util.beijing_time(rec.end_at) },
      usage = util.null,
    })
  end
  local output, usage = query_output(rec, status, cfg)
  return util.send_json(200, { request_id = util.uuid(), output = output, usage = usage })
end

local function cancel(id)
  local ok, rec, now = lookup(id, "cancel")
  if not ok then return end
  -- The error for canceling a non-PENDING task is UNCONFIRMED (third-party note: 400
  -- UnsupportedOperation); the simulator uses it for unknown tasks too.
  if not rec then
    return send_error(400, "UnsupportedOperation", "Task " .. id .. " does not exist.")
  end
  local status = state_of(rec, now)
  if status ~= "PENDING" then
    return send_error(400, "UnsupportedOperation",
      "Only a PENDING task can be canceled; task " .. id .. " is " .. status .. ".")
  end
  rec.canceled_at = now
  store.task_put(PROVIDER, rec)
  return util.send_json(200, { request_id = util.uuid() })
end

---------------------------------------------------------------------------- list

-- days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil,
-- https://howardhinnant.github.io/date_algorithms.html)
local floor = math.floor

local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m > 2 and m - 3 or m + 9) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- "YYYYMMDDhhmmss" in Beijing time -> epoch seconds, or nil.
local function beijing_epoch(s)
  local y, mo, d, h, mi, se = s:match("^(%d%d%d%d)(%d%d)(%d%d)(%d%d)(%d%d)(%d%d)$")
  if not y then return nil end
  y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 59 then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - 8 * 3600
end

local LIST_STATUS = { PENDING = true, RUNNING = true, SUSPENDED = true, SUCCEEDED = true, FAILED = true,
                      CANCELED = true }

local function ms(t) return t and math.floor(t * 1000 + 0.5) or nil end

-- One entry of the list, shaped like the Java SDK's AsyncTaskInfo (epoch ms times; start_time
-- once the task left the queue, end_time once it ended).
local function list_item(rec, status, now)
  local started = rec.submit_at + rec.queue_ms / 1000
  local ended = rec.canceled_at or (rec.processed and rec.end_at <= now and rec.end_at) or nil
  return {
    api_key_id = "1", caller_parent_id = "2", caller_uid = "3", region = "cn-beijing",
    model_name = rec.model, request_id = rec.request_id, task_id = rec.id, status = status,
    gmt_create = ms(rec.submit_at), start_time = (not rec.canceled_at and now >= started) and ms(started) or nil,
    end_time = ms(ended), user_api_unique_key = "apikey:v1:audio:asr:transcription:" .. rec.model,
  }
end

-- GET /tasks: the tasks of the caller's key (the simulator's "account"; the real list shows every
-- task of the Alibaba Cloud account, docs/providers.md#dashscope-task-list), newest first,
-- filtered by status, model_name and submit time (start_time / end_time, Beijing time), paged.
local function list()
  local cfg = store.config()
  local key = authenticate(cfg)
  if not key or not within_rate(cfg, "query", key) or not check_workspace(cfg, "list") then return end
  local args = ngx.req.get_uri_args()
  local function arg(name) local v = args[name]; return type(v) == "table" and v[1] or v end
  local page, size = tonumber(arg("page_no") or "1"), tonumber(arg("page_size") or "10")
  if not page or page < 1 or page ~= math.floor(page) then return invalid("page_no must be a positive integer.") end
  -- the real maximum page size is UNCONFIRMED: the simulator refuses more than 100
  if not size or size < 1 or size > 100 or size ~= math.floor(size) then
    return invalid("page_size must be an integer from 1 to 100.")
  end
  local from, to
  if arg("start_time") then
    from = beijing_epoch(arg("start_time"))
    if not from then return invalid("start_time must be formatted as yyyyMMddHHmmss.") end
  end
  if arg("end_time") then
    to = beijing_epoch(arg("end_time"))
    if not to then return invalid("end_time must be formatted as yyyyMMddHHmmss.") end
  end
  local status, model = arg("status"), arg("model_name")
  if status and not LIST_STATUS[status] then
    return invalid("status must be one of PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED.")
  end
  local now, masked, recs = ngx.now(), job.mask_key(key), {}
  -- sim.store keeps records as "<provider>:<id>" in this dict (one worker: no race)
  local d = ngx.shared.sim_tasks
  for _, k in ipairs(d:get_keys(0)) do
    if k:sub(1, #PROVIDER + 1) == PROVIDER .. ":" then
      local rec = util.decode(d:get(k) or "")
      if type(rec) == "table" and rec.api_key == masked and not job.expired(rec, cfg, now)
        and (not model or rec.model == model)
        and (not from or rec.submit_at >= from) and (not to or rec.submit_at < to + 1) then
        local st = state_of(rec, now)
        if not status or st == status then recs[#recs + 1] = { rec = rec, status = st } end
      end
    end
  end
  table.sort(recs, function(a, b)
    if a.rec.submit_at ~= b.rec.submit_at then return a.rec.submit_at > b.rec.submit_at end
    return a.rec.id < b.rec.id
  end)
  local data = {}
  for i = (page - 1) * size + 1, math.min(#recs, page * size) do
    data[#data + 1] = list_item(recs[i].rec, recs[i].status, now)
  end
  return util.send_json(200, {
    request_id = util.uuid(), data = #data > 0 and data or util.EMPTY_ARRAY, total = #recs,
    total_page = math.ceil(#recs / size), page_no = page, page_size = size,
  })
end

M.routes = {
  { methods = { GET = true }, pattern = "^" .. BASE .. "/tasks/?$", handler = list },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/services/audio/asr/transcription/?$", handler = submit },
  -- the custom-vocabulary API (hotwords): sim/dashscope_vocabulary.lua
  { methods = { POST = true }, pattern = "^" .. BASE .. "/services/audio/asr/customization/?$",
    handler = function()
      if not check_workspace(store.config(), "vocabulary") then return end
      return require("sim.dashscope_vocabulary").handle()
    end },
  { methods = { POST = true }, pattern = "^" .. BASE .. "/tasks/([^/]+)/cancel/?$", handler = cancel },
  { methods = { GET = true, POST = true }, pattern = "^" .. BASE .. "/tasks/([^/]+)/?$", handler = query },
}

return M
