--- stt.subtitle.write: the writers of subtitles. Each takes a normalized Result and options (those
-- of stt.subtitle.cut's cues, plus speaker_name / speaker_names, and title for LRC) and returns the
-- file's text: srt, vtt, lrc, ass, ttml, cues_json, txt. One time formatter, timestamp(ms, format),
-- writes the times of every format. The formats and what readers accept of them: docs/subtitles.md.
-- Pure: no I/O, no globals.
local Text = require "stt.subtitle.text"
local Cut = require "stt.subtitle.cut"

local W = {}

local ipairs, tostring, type = ipairs, tostring, type
local find, concat = string.find, table.concat
local mfloor, max = math.floor, math.max
local clean, script_profile = Text.clean, Text.script_profile
local cues, sorted_segments = Cut.cues, Cut.sorted_segments

---------------------------------------------------------------------------- times

-- "%02d" and "%03d" of small numbers, ready made: string.format is the slow part of writing SRT.
local D2, D3 = {}, {}
for n = 0, 999 do
  if n < 100 then D2[n] = ("%02d"):format(n) end
  D3[n] = ("%03d"):format(n)
end

-- The formats that write HH:MM:SS and milliseconds: the separator before the milliseconds.
local MS_SEPARATOR = { srt = ",", vtt = ".", ttml = ".", txt = "." }

-- "HH:MM:" of a whole number of minutes under 100 hours, made once each, as needed (6,000 at most).
local HHMM = {}

--- timestamp(ms, format) -> a time as the format writes it; a negative time is 0, a fraction of a
-- millisecond is dropped:
--   "srt"                 HH:MM:SS,mmm
--   "vtt", "ttml", "txt"  HH:MM:SS.mmm
--   "ass"                 H:MM:SS.cc
--   "lrc"                 MM:SS.cc (LRC writes it in brackets)
-- Hours (minutes in LRC) take more digits as they need them.
local function timestamp(ms, format)
  ms = max(0, mfloor(ms))             -- (math.max: LuaJIT's and Lua's differ on NaN)
  local sep = MS_SEPARATOR[format]
  if sep then
    -- Without string.format under 100 hours (the arithmetic is exact there).
    local f = ms % 1000
    local t = (ms - f) / 1000
    local s = t % 60
    local minutes = (t - s) / 60
    local hhmm = HHMM[minutes]
    if not hhmm then
      local m = minutes % 60
      local h = D2[(minutes - m) / 60]
      if h then
        hhmm = h .. ":" .. D2[m] .. ":"
        HHMM[minutes] = hhmm
      end
    end
    if hhmm then return hhmm .. D2[s] .. sep .. D3[f] end
  elseif format == "lrc" then
    return ("%02d:%02d.%02d"):format(math.floor(ms / 60000), math.floor(ms / 1000) % 60,
      math.floor(ms % 1000 / 10))
  elseif format ~= "ass" then
    error("subtitle: unknown time format " .. tostring(format), 2)
  end
  local h, m, s, f = math.floor(ms / 3600000), math.floor(ms / 60000) % 60, math.floor(ms / 1000) % 60, ms % 1000
  if sep then return string.format("%02d:%02d:%02d%s%03d", h, m, s, sep, f) end
  return string.format("%d:%02d:%02d%s%02d", h, m, s, ".", math.floor(f / 10))
end
W.timestamp = timestamp

---------------------------------------------------------------------------- text

local function speaker_name(opts, speaker)
  if speaker == nil then return nil end
  if type(opts.speaker_name) == "function" then return opts.speaker_name(speaker) end
  if type(opts.speaker_names) == "table" and opts.speaker_names[speaker] then
    return tostring(opts.speaker_names[speaker])
  end
  return "Speaker " .. speaker
end

-- "-->" must never appear in cue text (SRT and WebVTT); "--->" would leave one behind a single
-- pass, so repeat.
local function no_arrow(s)
  if not find(s, "-->", 1, true) then return s end
  local n
  repeat s, n = s:gsub("%-%->", "->") until n == 0
  return s
end

local function xml_escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

-- XML 1.0 allows no C0 controls but tab, LF and CR.
local function xml_text(s)
  return (xml_escape(s):gsub("[%z\1-\8\11\12\14-\31]", ""):gsub('"', "&quot;"))
end

-- ASS has no escape for override braces or backslash sequences (\N, \h): use the full-width
-- forms so the text shows as spoken.
local function ass_text(s)
  return (s:gsub("\\", "＼"):gsub("{", "｛"):gsub("}", "｝"))
end

---------------------------------------------------------------------------- writers

--- SubRip: LF line ends, no BOM, HH:MM:SS,mmm, trailing blank line.
function W.srt(result, opts)
  local out = {}
  for i, c in ipairs(cues(result, opts)) do
    local lines = c.lines
    local n, l1, l2 = #lines, lines[1], lines[2]
    -- (Two lines are written as they are, not joined first: one string less per event. "-->" cannot
    -- span the line break, so no_arrow line by line is no_arrow of the joined text.)
    if n ~= 2 then
      l1 = n == 1 and l1 or concat(lines, "\n")
      if find(l1, "-->", 1, true) then l1 = no_arrow(l1) end
      out[i] = i .. "\n" .. timestamp(c.start_ms, "srt") .. " --> " .. timestamp(c.end_ms, "srt") .. "\n" .. l1
        .. "\n\n"
    else
      if find(l1, "-->", 1, true) then l1 = no_arrow(l1) end
      if find(l2, "-->", 1, true) then l2 = no_arrow(l2) end
      out[i] = i .. "\n" .. timestamp(c.start_ms, "srt") .. " --> " .. timestamp(c.end_ms, "srt") .. "\n" .. l1
        .. "\n" .. l2 .. "\n\n"
    end
  end
  return concat(out)
end

--- WebVTT: `&`, `<`, `>` escaped (so "-->" cannot survive), speakers as <v Name> voice spans.
-- No STYLE/REGION blocks: Debian's ffmpeg reads none of the cues after them.
function W.vtt(result, opts)
  opts = opts or {}
  local out = { "WEBVTT\n\n" }
  for _, c in ipairs(cues(result, opts)) do
    local text = xml_escape(concat(c.lines, "\n"))
    local name = speaker_name(opts, c.speaker)
    if name then text = "<v " .. xml_escape(clean(name)) .. ">" .. text .. "</v>" end
    out[#out + 1] = ("%s --> %s\n%s\n\n"):format(timestamp(c.start_ms, "vtt"), timestamp(c.end_ms, "vtt"), text)
  end
  return concat(out)
end

--- LRC: [mm:ss.xx]text; lines of an event joined with a space (CJK: none). LRC has no end
-- times, so an empty [mm:ss.xx] line clears the event where it ends.
function W.lrc(result, opts)
  opts = opts or {}
  local out = {}
  if opts.title then out[#out + 1] = "[ti:" .. clean(opts.title) .. "]\n" end
  local list = cues(result, opts)
  for i, c in ipairs(list) do
    local sep = " "
    if script_profile(c.lines[1]) ~= "latin" then sep = "" end
    out[#out + 1] = "[" .. timestamp(c.start_ms, "lrc") .. "]" .. concat(c.lines, sep) .. "\n"
    local nx = list[i + 1]
    if not nx or math.floor(nx.start_ms / 10) > math.floor(c.end_ms / 10) then
      out[#out + 1] = "[" .. timestamp(c.end_ms, "lrc") .. "]\n"
    end
  end
  return concat(out)
end

local ASS_HEADER = [[
[Script Info]
ScriptType: v4.00+
PlayResX: 384
PlayResY: 288
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, ]]
  .. [[Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, ]]
  .. [[MarginR, MarginV, Encoding
Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
]]

--- Advanced SubStation Alpha, as ffmpeg writes it; the speaker goes in Name.
function W.ass(result, opts)
  opts = opts or {}
  local out = { ASS_HEADER }
  for _, c in ipairs(cues(result, opts)) do
    local lines = {}
    for i, l in ipairs(c.lines) do lines[i] = ass_text(l) end
    local name = speaker_name(opts, c.speaker)
    name = name and clean(name):gsub(",", " ") or ""
    out[#out + 1] = ("Dialogue: 0,%s,%s,Default,%s,0,0,0,,%s\n"):format(timestamp(c.start_ms, "ass"),
      timestamp(c.end_ms, "ass"), name, concat(lines, "\\N"))
  end
  return concat(out)
end

--- TTML 1: <tt><head> speakers as ttm:agent </head><body><div><p begin end>.
function W.ttml(result, opts)
  opts = opts or {}
  local list = cues(result, opts)
  local lang = type(result) == "table" and type(result.language) == "string" and result.language or ""
  local agents, ids, order = {}, {}, {}
  for _, c in ipairs(list) do
    if c.speaker and not ids[c.speaker] then
      order[#order + 1] = c.speaker
      ids[c.speaker] = "speaker" .. #order
    end
  end
  for _, sp in ipairs(order) do
    agents[#agents + 1] = ('      <ttm:agent xml:id="%s" type="person">'
      .. '<ttm:name type="full">%s</ttm:name></ttm:agent>\n'):format(ids[sp], xml_text(speaker_name(opts, sp)))
  end
  local out = {
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    ('<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttm="http://www.w3.org/ns/ttml#metadata" xml:lang="%s">\n')
      :format(xml_text(lang)),
    "  <head>\n    <metadata>\n", concat(agents), "    </metadata>\n  </head>\n",
    "  <body>\n    <div>\n",
  }
  for _, c in ipairs(list) do
    local lines = {}
    for i, l in ipairs(c.lines) do lines[i] = xml_text(l) end
    local agent = c.speaker and (' ttm:agent="%s"'):format(ids[c.speaker]) or ""
    out[#out + 1] = ('      <p begin="%s" end="%s"%s>%s</p>\n'):format(timestamp(c.start_ms, "ttml"),
      timestamp(c.end_ms, "ttml"), agent, concat(lines, "<br/>"))
  end
  out[#out + 1] = "    </div>\n  </body>\n</tt>\n"
  return concat(out)
end

--- JSON: { "cues": [ { start_ms, end_ms, lines, speaker } ], "language": ... } with integer ms
-- (integers keep locale-dependent decimal commas out).
function W.cues_json(result, opts)
  local core = require "stt.core"
  local parts = {}
  for i, c in ipairs(cues(result, opts)) do parts[i] = core.json_encode(c) end
  local lang = type(result) == "table" and type(result.language) == "string"
    and (',"language":' .. core.json_encode({ result.language }):sub(2, -2)) or ""
  return '{"cues":[' .. concat(parts, ",") .. "]" .. lang .. "}\n"
end

--- Plain text: one line per segment, "[HH:MM:SS.mmm] Speaker 1: text", in time order.
function W.txt(result, opts)
  opts = opts or {}
  local out = {}
  local segs, starts = sorted_segments(result)
  for n, seg in ipairs(segs) do
    local text = clean(seg.text)
    if text ~= "" then
      local sp = seg.speaker ~= nil and tostring(seg.speaker) or nil
      local name = speaker_name(opts, sp)
      out[#out + 1] = ("[%s] %s%s"):format(timestamp(starts[n], "txt"), name and (clean(name) .. ": ") or "", text)
    end
  end
  if #out == 0 and type(result) == "table" and type(result.text) == "string" and result.text ~= "" then
    out[1] = clean(result.text)
  end
  if #out == 0 then return "" end
  return concat(out, "\n") .. "\n"
end

return W
