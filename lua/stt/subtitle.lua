--- Subtitles from a normalized Result: cues(), srt(), vtt(), txt(), json().
-- This first cut makes one cue per segment, split where a segment is long (by word timings when
-- there are any, else proportionally to text length); broadcast-grade cutting comes later.
local M = {}

local DEFAULTS = { max_chars = 42, max_ms = 7000 }

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function is_cjk(text) return text:find("[\228-\233][\128-\191][\128-\191]") ~= nil end

local function ulen(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

-- Split one segment into cue-sized pieces.
local function split_segment(seg, o)
  local text = trim(seg.text or "")
  if text == "" then return {} end
  local dur = seg.end_ms - seg.start_ms
  if ulen(text) <= o.max_chars and dur <= o.max_ms then
    return { { start_ms = seg.start_ms, end_ms = seg.end_ms, text = text } }
  end
  local out = {}
  local cjk = is_cjk(text)
  local sep = cjk and "" or " "
  if seg.words and #seg.words > 0 then
    local cur
    for _, w in ipairs(seg.words) do
      local piece = trim(w.text or "") .. (w.punct or "")
      if cur and (ulen(cur.text .. sep .. piece) > o.max_chars or w.end_ms - cur.start_ms > o.max_ms) then
        out[#out + 1] = cur
        cur = nil
      end
      if cur then
        cur.text, cur.end_ms = cur.text .. sep .. piece, w.end_ms
      else
        cur = { start_ms = w.start_ms, end_ms = w.end_ms, text = piece }
      end
    end
    if cur then out[#out + 1] = cur end
    return out
  end
  -- No word timings: cut at spaces (or characters in CJK text), times proportional to length.
  local units = {}
  if cjk then for ch in text:gmatch("[%z\1-\127\194-\244][\128-\191]*") do units[#units + 1] = ch end
  else for w in text:gmatch("%S+") do units[#units + 1] = w end end
  local total = ulen(text)
  local pos, cur = 0, nil
  for _, u in ipairs(units) do
    if cur and ulen(cur.text .. sep .. u) > o.max_chars then
      out[#out + 1] = cur
      cur = nil
    end
    local s = seg.start_ms + math.floor(dur * pos / total)
    pos = pos + ulen(u) + #sep
    local e = seg.start_ms + math.floor(dur * math.min(pos, total) / total)
    if cur then cur.text, cur.end_ms = cur.text .. sep .. u, e
    else cur = { start_ms = s, end_ms = e, text = u } end
  end
  if cur then out[#out + 1] = cur end
  return out
end

--- cues(result, opts) -> { { start_ms, end_ms, lines = { ... }, speaker = "1" or nil }, ... }
function M.cues(result, opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  local segs = {}
  for i, s in ipairs(result.segments or {}) do segs[i] = s end
  table.sort(segs, function(a, b) return a.start_ms < b.start_ms end)
  local cues = {}
  for _, seg in ipairs(segs) do
    for _, piece in ipairs(split_segment(seg, o)) do
      cues[#cues + 1] = { start_ms = piece.start_ms, end_ms = math.max(piece.end_ms, piece.start_ms + 1),
                          lines = { piece.text }, speaker = seg.speaker }
    end
  end
  -- no overlaps: a cue ends where the next begins
  for i = 1, #cues - 1 do
    if cues[i].end_ms > cues[i + 1].start_ms then
      cues[i].end_ms = math.max(cues[i].start_ms + 1, cues[i + 1].start_ms)
    end
  end
  return cues
end

local function stamp(ms, sep)
  local h = math.floor(ms / 3600000)
  local m = math.floor(ms / 60000) % 60
  local s = math.floor(ms / 1000) % 60
  return string.format("%02d:%02d:%02d%s%03d", h, m, s, sep, ms % 1000)
end

--- SubRip
function M.srt(result, opts)
  local out = {}
  for i, c in ipairs(M.cues(result, opts)) do
    local text = table.concat(c.lines, "\n"):gsub("%-%->", "->")
    out[#out + 1] = string.format("%d\n%s --> %s\n%s\n", i, stamp(c.start_ms, ","), stamp(c.end_ms, ","), text)
  end
  return table.concat(out, "\n")
end

local function vtt_escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

--- WebVTT (speakers as <v> voice spans)
function M.vtt(result, opts)
  local out = { "WEBVTT\n" }
  for _, c in ipairs(M.cues(result, opts)) do
    local text = vtt_escape(table.concat(c.lines, "\n"))
    if c.speaker then text = "<v Speaker " .. vtt_escape(c.speaker) .. ">" .. text end
    out[#out + 1] = string.format("%s --> %s\n%s\n", stamp(c.start_ms, "."), stamp(c.end_ms, "."), text)
  end
  return table.concat(out, "\n")
end

--- Plain text with timestamps and speaker labels
function M.txt(result)
  local out = {}
  for _, s in ipairs(result.segments or {}) do
    out[#out + 1] = string.format("[%s] %s%s", stamp(s.start_ms, "."),
      s.speaker and ("Speaker " .. s.speaker .. ": ") or "", s.text)
  end
  if #out == 0 and result.text then out[1] = result.text end
  return table.concat(out, "\n") .. "\n"
end

--- JSON of the Result without the raw provider body
function M.json(result)
  local core = require "stt.core"
  local copy = {}
  for k, v in pairs(result) do if k ~= "raw" then copy[k] = v end end
  return core.json_encode(copy)
end

return M
