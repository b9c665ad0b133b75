-- What every simulated provider does with a submitted audio URL, and its task clock:
--   probe(url, cfg, voice)   download (loopback only), read the duration, "recognize" the reference
--                     text (with config mishear, the variant sim.mishear makes for voice =
--                     { provider, model, fillers_removed })
--   reference_for(url) the <name>.txt / <name>.json beside a /media/ file (an uploaded object:
--                      those of the /media/ file with its name)
--   clock(rec, cfg) / finish(rec, audio_ms) / phase(rec, now)   queued -> running -> done by wall clock
--   start(fn, id)     process in a timer, after the submit answer has gone out
--   mask_key, rate_exceeded, read_file, joiner    small shared pieces
-- Providers keep their own wire shapes; this module knows none of them.
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"
local fetch = require "sim.fetch"
local media = require "sim.media"
local transcript = require "sim.transcript"
local boot = require "sim.boot"
local mishear = require "sim.mishear"

local M = {}

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The reference text (and optional .json override) for a media URL on this simulator:
-- ${STT_SIM_URL}/media/<name>.<ext>  ->  <media dir>/<name>.txt and <name>.json
local function reference_at(rel)
  rel = ngx.unescape_uri(rel)
  if rel:find("..", 1, true) then return nil end
  local stem = boot.media_dir .. "/" .. rel:gsub("%.[^./]*$", "")
  local text = M.read_file(stem .. ".txt")
  local override
  local js = M.read_file(stem .. ".json")
  if js then
    override = util.decode(js)
    if type(override) ~= "table" then
      ngx.log(ngx.WARN, "sim: ignoring invalid JSON in ", stem, ".json")
      override = nil
    end
  end
  return text, override
end

function M.reference_for(url)
  local u = fetch.parse_url(url)
  if not u or not boot.media_dir then return nil end
  local path = u.path:gsub("[?#].*$", "")
  local rel = path:match("^/media/(.+)$")
  local text, override
  if rel then text, override = reference_at(rel) end
  -- An uploaded object (temporary storage: /media/oss/<key>; the S3 store: /s3/...) without a
  -- reference of its own takes that of the media file with its name: a spec uploads
  -- <media dir>/<name>.wav and expects <name>.txt to be heard.
  if not text and not override and (rel and rel:match("^oss/") or path:match("^/s3/")) then
    text, override = reference_at(path:match("([^/]+)$"))
  end
  return text, override
end

-- Download, probe and "recognize" one URL. Returns
--   { url, failure = nil | "download" | "decode" | "nospeech", detail, status (HTTP, download),
--     info = media.probe(...) , tr = transcript.build(...), text, override }
-- A failure still carries whatever was learnt before it (info after a download, override).
function M.probe(url, cfg, voice)
  local out = { url = url }
  out.text, out.override = M.reference_for(url)
  out.text = mishear.apply(out.text, cfg, voice)           -- config mishear: wrong on purpose
  local res, err = fetch.get(url, { timeout_ms = cfg.download_timeout_ms, max_bytes = cfg.max_download_bytes })
  if not res then
    out.failure, out.detail = "download", err
    return out
  end
  if res.status ~= 200 then
    out.failure, out.detail, out.status = "download", "HTTP " .. res.status, res.status
    return out
  end
  return M.hear(out, res.body, "no reference text beside the media")
end

--- The audio's bytes in hand: probe them and "recognize" out.text into out (info, tr, failure);
-- `no_text` says why there is no reference when there is none.
function M.hear(out, bytes, no_text)
  local info, err = media.probe(bytes)
  if not info then
    out.failure, out.detail = "decode", err
    return out
  end
  out.info = info
  out.tr = transcript.build(out.text, info.duration_ms, out.override)
  if #out.tr.sentences == 0 then
    out.failure = "nospeech"
    out.detail = out.text and "empty reference text" or no_text
  end
  return out
end

-- The reference of audio sent inline (no URL to name it): that of the media file holding the
-- same bytes, found among the media folder's files of that size.
local function reference_of_bytes(data)
  if not boot.media_dir then return nil end
  local dir = "'" .. boot.media_dir:gsub("'", "'\\''") .. "'"
  local p = io.popen("find " .. dir .. " -maxdepth 1 -type f -size " .. #data .. "c 2>/dev/null")
  if not p then return nil end
  for path in p:lines() do
    if M.read_file(path) == data then
      p:close()
      return M.reference_for("http://127.0.0.1/media/" .. ngx.escape_uri(path:match("([^/]+)$")))
    end
  end
  p:close()
  return nil
end

--- probe for audio sent inline (AUC flash audio.data): the same record, without a download.
function M.probe_bytes(data, cfg, voice)
  local out = { url = "inline" }
  out.text, out.override = reference_of_bytes(data)
  out.text = mishear.apply(out.text, cfg, voice)
  return M.hear(out, data, "no media file holds these bytes")
end

function M.safe_probe_bytes(data, cfg, voice)
  local ok, out = pcall(M.probe_bytes, data, cfg, voice)
  if ok then return out end
  ngx.log(ngx.ERR, "sim: processing inline audio failed: ", out)
  return { url = "inline", failure = "decode", detail = tostring(out) }
end

-- Same as probe, but an error inside it becomes a "decode" failure instead of a dead timer.
function M.safe_probe(url, cfg, voice)
  local ok, out = pcall(M.probe, url, cfg, voice)
  if ok then return out end
  ngx.log(ngx.ERR, "sim: processing ", url, " failed: ", out)
  return { url = url, failure = "decode", detail = tostring(out) }
end

---------------------------------------------------------------------------- clock

-- Copy the timing config into a new task record (later config changes do not move it).
function M.clock(rec, cfg, now)
  rec.submit_at = now or ngx.now()
  rec.queue_ms = tonumber(cfg.queue_ms) or 0
  rec.rtf = tonumber(cfg.rtf) or 0
  rec.min_run_ms = tonumber(cfg.min_run_ms) or 0
  rec.processed = false
  return rec
end

-- Processing is done: the task ends `max(min_run_ms, audio_ms * rtf)` after leaving the queue.
function M.finish(rec, audio_ms, now)
  now = now or ngx.now()
  rec.processed = true
  rec.processed_at = now
  rec.audio_ms = audio_ms
  rec.run_ms = math.max(rec.min_run_ms or 0, math.floor(audio_ms * rec.rtf))
  rec.end_at = math.max(rec.submit_at + rec.queue_ms / 1000 + rec.run_ms / 1000, now)
  return rec
end

-- "queued" | "running" | "done"
function M.phase(rec, now)
  if now < rec.submit_at + rec.queue_ms / 1000 then return "queued" end
  if not rec.processed or now < rec.end_at then return "running" end
  return "done"
end

-- Run fn(premature, id) in a zero-delay timer; false + message when nginx refuses.
function M.start(fn, id)
  local ok, err = ngx.timer.at(0, fn, id)
  if not ok then ngx.log(ngx.ERR, "sim: cannot start processing timer: ", err) end
  return ok, err
end

-- Older than retention_s: the provider forgot it.
function M.expired(rec, cfg, now)
  return now - rec.submit_at > (tonumber(cfg.retention_s) or 86400)
end

---------------------------------------------------------------------------- small pieces

function M.mask_key(key)
  if #key <= 8 then return "***" end
  return key:sub(1, 5) .. "***" .. key:sub(-4)
end

-- Per-key requests-per-second limit from cfg.rate_limit ({submit=N, query=N}); true when exceeded.
function M.rate_exceeded(provider, kind, key, cfg)
  local limit = type(cfg.rate_limit) == "table" and tonumber(cfg.rate_limit[kind])
  if not limit then return false end
  return store.rate_count(provider .. ":" .. kind .. ":" .. key) > limit
end

function M.joiner(language)
  if language == "zh" or language == "ja" or language == "yue" then return "" end
  return " "
end

function M.is_array(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

-- The key from an Authorization header value, or nil. `schemes` lists the accepted prefixes
-- (case-insensitive), "" meaning the raw key with no scheme.
function M.auth_key(header, schemes)
  if type(header) ~= "string" then return nil end
  header = header:match("^%s*(.-)%s*$")
  for _, scheme in ipairs(schemes) do
    if scheme == "" then
      if not header:find("%s") and header ~= "" then return header end
    else
      local p, k = header:match("^(%S+)%s+(%S+)$")
      if p and p:lower() == scheme:lower() then return k end
    end
  end
  return nil
end

function M.key_known(cfg, key)
  for _, k in ipairs(cfg.keys or {}) do
    if k == key then return true end
  end
  return false
end

return M
