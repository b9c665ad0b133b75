-- What the two Volcengine file-recognition front ends share: LAS `las_asr` v2 (sim.las) is a
-- thin wrapper over the big-model AUC API (sim.auc), so both take the same `user` / `audio` /
-- `request` objects and answer the same `result` object
-- (docs/providers.md#volcengine-request-and-result).
--   validate(body, inline)        -> params or nil, message (inline: audio.data, base64, may
--                                    replace audio.url; AUC flash only)
--   process(provider, id)         download + probe + recognize in a timer; sets rec.outcome
--   recognize(rec, cfg)           the same on a record in hand (AUC flash answers inline)
--   result(rec)                   the `result` object of a finished task
-- rec.outcome: { kind = "ok" | "silent" | "failed" | "timeout", reason = "download"|"decode"|
--   "empty"|"injected", detail, code = <AUC status code> }
-- A media file with no audio in it (0 ms) fails with 45000002 "empty audio"; one without a
-- reference text is silent audio (20000003).
-- Failure injection: a `.json` beside the media with {"fail": "FAILED"} or {"fail": "TIMEOUT"},
-- or {"fail": <AUC status code, e.g. 45000151>} (both providers), {"fail_message": "..."}.
-- luacheck: globals ngx
local store = require "sim.store"
local job = require "sim.job"

local M = {}

local FORMATS = { raw = true, wav = true, mp3 = true, ogg = true }
local RESOURCES = { bigasr = true, seedasr = true }
M.RESOURCES = RESOURCES

local function bool_or_nil(v, name)
  if v == nil then return true end
  if type(v) ~= "boolean" then return nil, "request." .. name .. " must be a boolean" end
  return true
end

local BOOLS = { "enable_itn", "enable_punc", "enable_ddc", "enable_speaker_info", "enable_channel_split",
  "show_utterances", "show_speech_rate", "show_volume", "enable_lid", "enable_emotion_detection",
  "enable_gender_detection", "vad_segment", "enable_poi_fc", "enable_music_fc" }

-- Validate the {user, audio, request} objects (LAS `data`, AUC body). Returns the normalized
-- params the simulator acts on, or nil + message.
function M.validate(body, inline)
  if type(body) ~= "table" then return nil, "data must be a JSON object" end
  local audio, req = body.audio, body.request
  if type(audio) ~= "table" then return nil, "audio is required" end
  local data
  if inline and audio.data ~= nil then
    -- flash: the audio itself, base64 (docs/providers.md#auc-flash-mode); with a url too the
    -- request is ambiguous (the service's answer to both is UNCONFIRMED: the simulator refuses)
    if audio.url ~= nil then return nil, "audio.url and audio.data are exclusive" end
    if type(audio.data) ~= "string" or audio.data == "" then return nil, "audio.data must be base64 text" end
    data = ngx.decode_base64(audio.data)
    if not data then return nil, "audio.data is not valid base64" end
  elseif type(audio.url) ~= "string" or audio.url == "" then
    return nil, inline and "audio.url or audio.data is required" or "audio.url is required"
  end
  -- The docs mark audio.format required, but Volcengine's own clients leave it out and the LAS
  -- doc example sends "mp3" for a .wav URL: the service detects the container
  -- (docs/providers.md#volcengine-request-fields, UNCONFIRMED). So it may be absent; a value
  -- must be one of the documented labels, and is never checked against the file.
  if audio.format ~= nil and (type(audio.format) ~= "string" or not FORMATS[audio.format]) then
    return nil, "audio.format must be one of raw, wav, mp3, ogg"
  end
  if audio.language ~= nil and type(audio.language) ~= "string" then
    return nil, "audio.language must be a string"
  end
  if type(req) ~= "table" then return nil, "request is required" end
  if req.model_name ~= "bigmodel" then return nil, "request.model_name must be \"bigmodel\"" end
  for _, name in ipairs(BOOLS) do
    local ok, err = bool_or_nil(req[name], name)
    if not ok then return nil, err end
  end
  local ews = req.end_window_size
  if ews ~= nil and (type(ews) ~= "number" or ews < 300 or ews > 5000 or ews ~= math.floor(ews)) then
    return nil, "request.end_window_size must be an integer in 300..5000 (ms)"
  end
  -- These two are JSON *strings*, not objects (docs/providers.md#volcengine-request-fields).
  if req.sensitive_words_filter ~= nil and type(req.sensitive_words_filter) ~= "string" then
    return nil, "request.sensitive_words_filter must be a JSON string"
  end
  if req.corpus ~= nil then
    if type(req.corpus) ~= "table" then return nil, "request.corpus must be an object" end
    if req.corpus.context ~= nil and type(req.corpus.context) ~= "string" then
      return nil, "request.corpus.context must be a JSON string"
    end
  end
  local params = { url = audio.url, data = data, language = audio.language, format = audio.format }
  for _, name in ipairs(BOOLS) do params[name] = req[name] end
  return params
end

---------------------------------------------------------------------------- result

local LID = { en = "en-US", zh = "zh-CN", ja = "ja-JP", ko = "ko-KR" }

local function words_of(s)
  local out, prev_end = {}, s.begin_time
  for i, w in ipairs(s.words or {}) do
    -- Volcengine words carry no punctuation and no spaces ("参", "观"; the sentence text keeps them).
    local text = w.text:gsub("%s+$", "")
    out[i] = { text = text, start_time = w.begin_time, end_time = w.end_time,
               blank_duration = math.max(0, w.begin_time - prev_end), confidence = 0 }
    prev_end = w.end_time
  end
  return out
end

-- Utterance `additions` (all strings, docs/providers.md#volcengine-result), only what the request
-- asked for.
-- channel_id is always there (the doc example shows "1" without enable_channel_split).
local function additions(params, s, i, channel, raw)
  local a = { channel_id = tostring(channel) }
  if params.enable_speaker_info then
    a.speaker = tostring((s.speaker or ((i - 1) % 2)) + 1)
  end
  if params.enable_emotion_detection then
    a.emotion = s.emotion and s.emotion:lower() or "neutral"
    a.emotion_score = "0.9"
    a.emotion_degree = "normal"
    a.emotion_degree_score = "0.8"
  end
  if params.enable_gender_detection then
    a.gender = type(raw.gender) == "string" and raw.gender or "female"
    a.gender_score = "0.9"
  end
  if params.show_speech_rate then
    local dur = math.max(1, s.end_time - s.begin_time)
    a.speech_rate = string.format("%.1f", #(s.words or {}) * 1000 / dur)
  end
  if params.show_volume then a.volume = "-23.50" end
  if params.enable_lid then a.lid_lang = LID[s.language] or s.language end
  return a
end

function M.result(rec)
  local params, tr = rec.params, rec.tr
  local res = { additions = { duration = tostring(rec.duration_ms) } }
  if rec.outcome.kind ~= "ok" then
    res.text = ""
    return res
  end
  local osents = type(rec.override) == "table" and type(rec.override.sentences) == "table"
    and rec.override.sentences or {}
  local two = params.enable_channel_split and (rec.channels or 1) >= 2
  local texts, utts = {}, {}
  for i, s in ipairs(tr.sentences) do
    texts[i] = s.text
    local raw = type(osents[i]) == "table" and osents[i] or {}
    -- Stereo with channel split: sentences alternate left/right unless the .json names a channel.
    local channel = 1
    if two then channel = tonumber(raw.channel) or ((i - 1) % 2 + 1) end
    utts[i] = { text = s.text, start_time = s.begin_time, end_time = s.end_time, definite = true,
                words = words_of(s), additions = additions(params, s, i, channel, raw) }
  end
  res.text = table.concat(texts, job.joiner(tr.language))
  if params.enable_lid then res.additions.lid_lang = LID[tr.language] or tr.language end
  -- Utterances only when asked for (show_utterances must be true:
  -- docs/providers.md#volcengine-request-fields).
  if params.show_utterances then res.utterances = utts end
  return res
end

---------------------------------------------------------------------------- processing

local function injected(override)
  if type(override) ~= "table" or override.fail == nil then return nil end
  local f = override.fail
  local msg = type(override.fail_message) == "string" and override.fail_message or nil
  if f == "TIMEOUT" then
    return { kind = "timeout", reason = "injected", detail = msg or "task processing timed out", code = 55000000 }
  end
  local code = tonumber(f)
  return { kind = "failed", reason = "injected", detail = msg or "task failed", code = code or 45000151 }
end

local function outcome_of(p, override)
  if p.failure == "download" then
    -- AUC has no documented code for an unreachable URL; 45000001 (invalid params) is the
    -- closest documented one (UNCONFIRMED).
    return { kind = "failed", reason = "download", code = 45000001,
             detail = "audio download failed: " .. tostring(p.detail) }
  elseif p.failure == "decode" then
    return { kind = "failed", reason = "decode", code = 45000151,
             detail = "invalid audio format: " .. tostring(p.detail) }
  end
  local inj = injected(override)
  if inj then return inj end
  if p.info and p.info.duration_ms == 0 then
    return { kind = "failed", reason = "empty", code = 45000002, detail = "empty audio: the file holds no samples" }
  end
  if p.failure == "nospeech" then
    return { kind = "silent", code = 20000003, detail = "silent audio" }
  end
  return { kind = "ok", code = 20000000 }
end

-- Download, probe and "recognize" rec.params.url into rec (outcome, override, tr, duration_ms,
-- channels); the clock is not touched. Returns rec.
function M.recognize(rec, cfg, voice)
  voice = voice or {}
  voice.fillers_removed = rec.params.enable_ddc == true
  local p = rec.params.data and job.safe_probe_bytes(rec.params.data, cfg, voice)
    or job.safe_probe(rec.params.url, cfg, voice)
  rec.outcome = outcome_of(p, p.override)
  rec.override = p.override
  rec.tr = p.tr
  rec.duration_ms = p.info and p.info.duration_ms or 0
  rec.channels = p.info and p.info.channels or 1
  return rec
end

function M.process(provider, id)
  local rec = store.task_get(provider, id)
  if not rec then return end
  local cfg = store.config()
  local done = M.recognize({ params = rec.params }, cfg, { provider = provider, model = rec.resource })
  rec = store.task_get(provider, id)
  if not rec then return end
  for _, k in ipairs({ "outcome", "override", "tr", "duration_ms", "channels" }) do rec[k] = done[k] end
  job.finish(rec, rec.outcome.kind == "ok" and rec.duration_ms or 0)
  store.task_put(provider, rec)
  require("sim.callback").schedule(provider, rec)        -- its callback, if it has one, at its end
end

return M
