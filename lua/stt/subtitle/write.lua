--- stt.subtitle.write: the writers of subtitles. Each takes a normalized Result and options (those
-- of stt.subtitle.cut's cues, plus speaker_name / speaker_names, title for LRC, word_timestamps for
-- WebVTT, karaoke and style for ASS, rows for CSV and TSV, on_warning) and returns the file's
-- text: srt, vtt, lrc, ass, ttml, sbv, csv, tsv, cues_json, txt. One time formatter,
-- timestamp(ms, format), writes the times of every format. The formats and what readers accept of
-- them: docs/subtitles.md. Pure: no I/O, no globals.
local Text = require "stt.subtitle.text"
local Cut = require "stt.subtitle.cut"
local Label = require "stt.subtitle.label"
local Ass = require "stt.subtitle.ass"

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
W.FORMATS = { "srt", "vtt", "ttml", "txt", "sbv", "ass", "lrc" }

-- "HH:MM:" of a whole number of minutes under 100 hours, made once each, as needed (6,000 at most).
local HHMM = {}

--- timestamp(ms, format) -> a time as the format writes it; a negative time is 0, a fraction of a
-- millisecond is dropped:
--   "srt"                 HH:MM:SS,mmm
--   "vtt", "ttml", "txt"  HH:MM:SS.mmm
--   "sbv"                 H:MM:SS.mmm
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
  elseif format ~= "ass" and format ~= "sbv" then
    error("subtitle: unknown time format " .. tostring(format), 2)
  end
  local h, m, s, f = math.floor(ms / 3600000), math.floor(ms / 60000) % 60, math.floor(ms / 1000) % 60, ms % 1000
  if sep then return string.format("%02d:%02d:%02d%s%03d", h, m, s, sep, f) end
  if format == "sbv" then return string.format("%d:%02d:%02d.%03d", h, m, s, f) end
  return string.format("%d:%02d:%02d%s%02d", h, m, s, ".", math.floor(f / 10))
end
W.timestamp = timestamp

---------------------------------------------------------------------------- text

local speaker_name = Label.name

-- The options of a writer that shows speakers its own way (WebVTT <v>, ASS Name, TTML agents, the
-- speaker column of CSV): no labels, so no room is made for them either.
local function without_labels(opts)
  if not opts.speaker_labels then return opts end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.speaker_labels = false
  return o
end

local function warn(opts, message)
  if type(opts.on_warning) == "function" then opts.on_warning(message) end
end

-- Word timings asked for: the cues with their words, and a warning for those without any (their
-- times were shared out from segment text): they are written as plain cues.
local function timed_cues(result, opts, what)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.words = true
  local list = cues(result, o)
  local plain = 0
  for _, c in ipairs(list) do if not c.words then plain = plain + 1 end end
  if plain > 0 and plain == #list then
    warn(opts, ("%s: the Result has no word timings; plain cues written"):format(what))
  elseif plain > 0 then
    warn(opts, ("%s: %d of %d cues have no word timings; they are written plain"):format(what, plain, #list))
  end
  return list
end

-- The lines of a cue on one line: joined with a space, in CJK text without one (as LRC does).
local function one_line(lines)
  if #lines == 1 then return lines[1] end
  if script_profile(lines[1]) ~= "latin" then return concat(lines) end
  return concat(lines, " ")
end

-- The text of a segment, or of its words when it has none (some providers put it there only).
local function segment_text(seg)
  local text = clean(seg.text)
  if text ~= "" or type(seg.words) ~= "table" then return text end
  local parts = {}
  for _, w in ipairs(seg.words) do
    local t = clean(w.text) .. clean(w.punct)
    if t ~= "" then parts[#parts + 1] = t end
  end
  return one_line(parts)
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

--- SubRip: LF line ends, no BOM, HH:MM:SS,mmm, trailing blank line. A speaker label (speaker_labels)
-- starts the first line.
function W.srt(result, opts)
  local out = {}
  for i, c in ipairs(cues(result, opts)) do
    local lines = c.lines
    local n, l1, l2 = #lines, lines[1], lines[2]
    if c.label then l1 = c.label .. l1 end
    -- (Two lines are written as they are, not joined first: one string less per event. "-->" cannot
    -- span the line break, so no_arrow line by line is no_arrow of the joined text.)
    if n ~= 2 then
      if n ~= 1 then l1 = l1 .. "\n" .. concat(lines, "\n", 2) end
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

-- WebVTT cue text with a timestamp tag before each word spoken after the cue starts, each word in
-- a <c> span (players style past and future text through them): <00:00:01.200><c>word</c>. The
-- timestamps rise strictly and stay inside the cue, as the format requires.
local function vtt_words(c, words)
  local out, last, stop, line = {}, c.start_ms, c.end_ms, 1
  for _, w in ipairs(words) do
    if w.line ~= line then
      out[#out + 1] = "\n"
      line = w.line
    end
    out[#out + 1] = w.sep
    local t = mfloor(w.start_ms)
    if t > last and t < stop then
      out[#out + 1] = "<" .. timestamp(t, "vtt") .. ">"
      last = t
    end
    out[#out + 1] = "<c>" .. xml_escape(w.text) .. "</c>"
  end
  return concat(out)
end

--- WebVTT: `&`, `<`, `>` escaped (so "-->" cannot survive), speakers as <v Name> voice spans;
-- word_timestamps = true: inline word timestamps (karaoke) where the cue has word timings.
-- No STYLE/REGION blocks: Debian's ffmpeg reads none of the cues after them.
function W.vtt(result, opts)
  opts = without_labels(opts or {})
  local out = { "WEBVTT\n\n" }
  local list = opts.word_timestamps and timed_cues(result, opts, "vtt word timestamps") or cues(result, opts)
  for _, c in ipairs(list) do
    local text = c.words and vtt_words(c, c.words) or xml_escape(concat(c.lines, "\n"))
    local name = speaker_name(opts, c.speaker)
    if name then text = "<v " .. xml_escape(clean(name)) .. ">" .. text .. "</v>" end
    out[#out + 1] = ("%s --> %s\n%s\n\n"):format(timestamp(c.start_ms, "vtt"), timestamp(c.end_ms, "vtt"), text)
  end
  return concat(out)
end

--- LRC: [mm:ss.xx]text; lines of an event joined with a space (CJK: none), after the speaker label
-- if any. LRC has no end times, so an empty [mm:ss.xx] line clears the event where it ends.
function W.lrc(result, opts)
  opts = opts or {}
  local out = {}
  if opts.title then out[#out + 1] = "[ti:" .. clean(opts.title) .. "]\n" end
  local list = cues(result, opts)
  for i, c in ipairs(list) do
    out[#out + 1] = "[" .. timestamp(c.start_ms, "lrc") .. "]" .. (c.label or "") .. one_line(c.lines) .. "\n"
    local nx = list[i + 1]
    if not nx or math.floor(nx.start_ms / 10) > math.floor(c.end_ms / 10) then
      out[#out + 1] = "[" .. timestamp(c.end_ms, "lrc") .. "]\n"
    end
  end
  return concat(out)
end

--- ass_style(style) -> the full ASS style (defaults for 1080p filled in) or nil, message.
W.ass_style = Ass.style

--- Advanced SubStation Alpha with one Default style (opts.style, see stt.subtitle.ass); the speaker
-- goes in Name. karaoke = true (\kf), "kf", "k" or "ko": a karaoke tag per word from its timings.
function W.ass(result, opts)
  opts = without_labels(opts or {})
  local style, serr = Ass.style(opts.style)
  if not style then error("subtitle: " .. serr, 2) end
  local tag
  if opts.karaoke then
    tag = opts.karaoke == true and "kf" or Ass.KARAOKE_TAGS[opts.karaoke]
    if not tag then
      error("subtitle: karaoke must be true, \"kf\", \"k\" or \"ko\", not " .. tostring(opts.karaoke), 2)
    end
  end
  local out = { Ass.header(style) }
  for _, c in ipairs(tag and timed_cues(result, opts, "ass karaoke") or cues(result, opts)) do
    local text
    if c.words then
      text = Ass.karaoke_text(c, c.words, tag, ass_text)
    else
      local lines = {}
      for i, l in ipairs(c.lines) do lines[i] = ass_text(l) end
      text = concat(lines, "\\N")
    end
    local name = speaker_name(opts, c.speaker)
    name = name and clean(name):gsub(",", " ") or ""
    out[#out + 1] = ("Dialogue: 0,%s,%s,Default,%s,0,0,0,,%s\n"):format(timestamp(c.start_ms, "ass"),
      timestamp(c.end_ms, "ass"), name, text)
  end
  return concat(out)
end

--- TTML 1: <tt><head> speakers as ttm:agent </head><body><div><p begin end>.
function W.ttml(result, opts)
  opts = without_labels(opts or {})
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

--- SBV (YouTube): "H:MM:SS.mmm,H:MM:SS.mmm", the text lines (a speaker label before the first),
-- a blank line.
function W.sbv(result, opts)
  local out = {}
  for i, c in ipairs(cues(result, opts)) do
    out[i] = timestamp(c.start_ms, "sbv") .. "," .. timestamp(c.end_ms, "sbv") .. "\n" .. (c.label or "")
      .. concat(c.lines, "\n") .. "\n\n"
  end
  return concat(out)
end

-- Rows { start_ms, end_ms, speaker name or "", text } of CSV and TSV: one per cue (rows = "cues",
-- the default) or per segment (rows = "segments").
local function table_rows(result, opts)
  local rows = {}
  local by = opts.rows or "cues"
  if by == "segments" then
    local segs, starts, ends = sorted_segments(result)
    for n, seg in ipairs(segs) do
      local text = segment_text(seg)
      if text ~= "" then
        local sp = seg.speaker ~= nil and tostring(seg.speaker) or nil
        rows[#rows + 1] = { starts[n], ends[n], sp and clean(speaker_name(opts, sp)) or "", text }
      end
    end
  elseif by == "cues" then
    for _, c in ipairs(cues(result, without_labels(opts))) do
      rows[#rows + 1] = { c.start_ms, c.end_ms, c.speaker and clean(speaker_name(opts, c.speaker)) or "",
                          one_line(c.lines) }
    end
  else
    error("subtitle: rows must be \"cues\" or \"segments\", not " .. tostring(by), 3)
  end
  return rows
end

local function csv_field(s)
  if find(s, '[",\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- CSV (RFC 4180): a header row start,end,speaker,text, then one row per cue (rows = "segments":
-- per segment); times in integer milliseconds; CRLF line ends; fields quoted where needed.
function W.csv(result, opts)
  opts = opts or {}
  local out = { "start,end,speaker,text\r\n" }
  for _, r in ipairs(table_rows(result, opts)) do
    out[#out + 1] = ("%d,%d,%s,%s\r\n"):format(r[1], r[2], csv_field(r[3]), csv_field(r[4]))
  end
  return concat(out)
end

--- TSV: as CSV with tabs and LF line ends, no quoting (cleaned text holds no tab or line break).
function W.tsv(result, opts)
  opts = opts or {}
  local out = { "start\tend\tspeaker\ttext\n" }
  for _, r in ipairs(table_rows(result, opts)) do
    out[#out + 1] = ("%d\t%d\t%s\t%s\n"):format(r[1], r[2], r[3], r[4])
  end
  return concat(out)
end

--- JSON: { "cues": [ { start_ms, end_ms, lines, speaker, label?, words? } ], "language": ... } with
-- integer ms (integers keep locale-dependent decimal commas out).
function W.cues_json(result, opts)
  local core = require "stt.core"
  local parts = {}
  for i, c in ipairs(cues(result, opts)) do parts[i] = core.json_encode(c) end
  local lang = type(result) == "table" and type(result.language) == "string"
    and (',"language":' .. core.json_encode({ result.language }):sub(2, -2)) or ""
  return '{"cues":[' .. concat(parts, ",") .. "]" .. lang .. "}\n"
end

--- Plain text: one line per segment in time order, "[HH:MM:SS.mmm] Speaker 1: text"; labels on
-- every segment by default (speaker_labels = "turn": where the speaker changes; false: none).
function W.txt(result, opts)
  opts = opts or {}
  local out = {}
  local label = Label.labeller(opts, "every", "%s: ")
  local segs, starts = sorted_segments(result)
  local last
  for n, seg in ipairs(segs) do
    local text = segment_text(seg)
    if text ~= "" then
      local sp = seg.speaker ~= nil and tostring(seg.speaker) or nil
      local lab = label and label(sp, sp ~= last) or nil
      last = sp
      out[#out + 1] = ("[%s] %s%s"):format(timestamp(starts[n], "txt"), lab or "", text)
    end
  end
  if #out == 0 and type(result) == "table" and type(result.text) == "string" and result.text ~= "" then
    out[1] = clean(result.text)
  end
  if #out == 0 then return "" end
  return concat(out, "\n") .. "\n"
end

return W
