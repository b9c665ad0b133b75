--- Subtitles from a normalized Result: cues() and the writers srt, vtt, lrc, ass, ttml, json, txt.
--
-- Caption cutting follows shared/reference/subtitles-hotwords.md section A ("ref A4.x" below):
--   * at most 2 lines; 42 characters per line for Latin scripts, 16 for Chinese, 13 full-width for
--     Japanese, where half-width characters count 0.5 in CJK text (ref A4.1, A4.5);
--   * an event lasts 5/6 s .. 7 s (ref A4.1);
--   * reading speed at most 17 characters/s (Latin), 9 (Chinese), 4 (Japanese), 12 (Korean),
--     spaces and punctuation included (ref A4.1): an event is held on screen longer when it reads
--     too fast, up to half a second past the end of speech, 7 s, and the next event;
--   * a gap of at least 2 frames between events; a gap of at most half a second is closed to
--     exactly 2 frames ("chaining", ref A4.1, A4.6);
--   * breaks at punctuation and pauses first, never inside a word (a word of the ASR, or a
--     Latin/digit run in CJK text) and never across a speaker change; two-line events are split
--     where the lines come out balanced, preferring punctuation, never after an article or
--     preposition (ref A4.1, A4.5).
-- Every number is an option (see DEFAULTS and PROFILES); the profile is picked per segment from
-- its language (segment, then result) or, without one, from the script of its text.
-- Pure Lua for Lua 5.4 and LuaJIT: no utf8 library (a small UTF-8 iterator below, ref A3.4).
local M = {}

-- Per-script limits (ref A4.1 table, A4.6). `half` is the width of a half-width character.
local PROFILES = {
  latin = { line_chars = 42, cps = 17, half = 1 },
  zh = { line_chars = 16, cps = 9, half = 0.5 },
  ja = { line_chars = 13, cps = 4, half = 0.5 },     -- 4 cps is [S] in the reference
  ko = { line_chars = 16, cps = 12, half = 0.5 },    -- [S] in the reference
}
M.PROFILES = PROFILES

local DEFAULTS = {
  max_lines = 2,
  min_ms = 834,        -- 5/6 s rounded up to whole ms (ref A4.1)
  max_ms = 7000,
  fps = 24,
  gap_frames = 2,      -- minimum gap between events (ref A4.1)
  chain_ms = 500,      -- gaps up to this are closed to gap_frames (ref A4.1 "chaining")
  linger_ms = 500,     -- an event may stay this long past the end of speech (ref A4.1)
  pause_ms = 1000,     -- a pause this long always ends an event
  profile = nil,       -- force "latin" | "zh" | "ja" | "ko"; default: per segment
}
M.DEFAULTS = DEFAULTS

---------------------------------------------------------------------------- UTF-8

local CHAR = "[%z\1-\127\194-\244][\128-\191]*"

local function codepoint(ch)
  local b1 = ch:byte(1)
  if not b1 then return 0 end
  if b1 < 0x80 or #ch == 1 then return b1 end
  local n = #ch
  local cp = b1 % (n == 2 and 0x20 or n == 3 and 0x10 or 0x08)
  for i = 2, n do cp = cp * 64 + ch:byte(i) % 64 end
  return cp
end

-- East Asian wide ranges (ref A4.5, practical subset) plus emoji.
local WIDE = {
  { 0x1100, 0x115F }, { 0x2E80, 0x303E }, { 0x3041, 0x33FF }, { 0x3400, 0x4DBF },
  { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF },
  { 0xFE30, 0xFE4F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x1F300, 0x1FAFF },
  { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
}

local function is_wide(cp)
  if cp < 0x1100 then return false end
  for _, r in ipairs(WIDE) do
    if cp >= r[1] and cp <= r[2] then return true end
  end
  return false
end

-- Characters that take no room: combining marks, zero-width space/joiners, variation selectors.
local function is_zero_width(cp)
  return (cp >= 0x300 and cp <= 0x36F) or (cp >= 0x200B and cp <= 0x200F) or cp == 0xFEFF
    or (cp >= 0xFE00 and cp <= 0xFE0F)
end

--- Width of a string in "characters" of a profile: wide = 1, half-width = prof.half.
local function width(s, prof)
  local w = 0
  for ch in s:gmatch(CHAR) do
    local cp = codepoint(ch)
    if not is_zero_width(cp) then w = w + (is_wide(cp) and 1 or prof.half) end
  end
  return w
end
M.width = function(s, profile) return width(s, PROFILES[profile or "latin"] or PROFILES.latin) end

local function first_char(s) return s:match("^" .. CHAR) or "" end
local function last_char(s)
  local c = ""
  for ch in s:gmatch(CHAR) do c = ch end
  return c
end

---------------------------------------------------------------------------- scripts, profiles

local function script_profile(text)
  local han, kana, hangul, latin = 0, 0, 0, 0
  for ch in text:gmatch(CHAR) do
    local cp = codepoint(ch)
    if (cp >= 0x3040 and cp <= 0x30FF) or (cp >= 0x31F0 and cp <= 0x31FF) or (cp >= 0xFF66 and cp <= 0xFF9F) then
      kana = kana + 1
    elseif (cp >= 0x4E00 and cp <= 0x9FFF) or (cp >= 0x3400 and cp <= 0x4DBF) or (cp >= 0x20000 and cp <= 0x2FFFD) then
      han = han + 1
    elseif cp >= 0xAC00 and cp <= 0xD7A3 then
      hangul = hangul + 1
    elseif (cp >= 65 and cp <= 90) or (cp >= 97 and cp <= 122) or (cp >= 0xC0 and cp <= 0x24F) then
      latin = latin + 1
    end
  end
  -- A Latin word counts about as much as one CJK character when judging the script.
  local latin_words = latin / 5
  if kana > 0 and kana + han >= latin_words then return "ja" end
  if hangul > 0 and hangul >= latin_words then return "ko" end
  if han > 0 and han >= latin_words then return "zh" end
  return "latin"
end

local LANG_PROFILE = { zh = "zh", cmn = "zh", yue = "zh", wuu = "zh", cn = "zh", ja = "ja", ko = "ko" }

local function language_profile(lang)
  if type(lang) ~= "string" then return nil end
  local base = lang:lower():match("^(%a+)")
  if not base or base == "auto" or base == "mixed" or base == "multi" then return nil end
  return LANG_PROFILE[base] or "latin"
end

-- The effective options of one profile: defaults < profile < opts < opts[profile].
local function profile_options(name, opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(PROFILES[name]) do o[k] = v end
  for k, v in pairs(opts) do if type(v) ~= "table" then o[k] = v end end
  if type(opts[name]) == "table" then for k, v in pairs(opts[name]) do o[k] = v end end
  o.name = name
  o.cjk = name ~= "latin"
  o.gap_ms = math.ceil(o.gap_frames * 1000 / o.fps)
  return o
end

---------------------------------------------------------------------------- punctuation

local SENTENCE_END = { ["."] = true, ["!"] = true, ["?"] = true, ["…"] = true, ["。"] = true, ["！"] = true,
                       ["？"] = true, ["⋯"] = true, ["‼"] = true }
local CLAUSE_END = { [","] = true, [";"] = true, [":"] = true, ["，"] = true, ["、"] = true, ["；"] = true,
                     ["："] = true, ["—"] = true, ["–"] = true, [")"] = true, ["）"] = true, ["」"] = true,
                     ["』"] = true, ["》"] = true, ["\""] = true, ["”"] = true }
-- Never at the start of a line: they stick to the unit before them (kinsoku, ref A4.5).
local CLOSING = { ["，"] = true, ["。"] = true, ["、"] = true, ["；"] = true, ["："] = true, ["！"] = true,
                  ["？"] = true, ["）"] = true, ["」"] = true, ["』"] = true, ["】"] = true, ["》"] = true,
                  ["”"] = true, ["’"] = true, ["!"] = true, ["%"] = true, [")"] = true, [","] = true,
                  ["."] = true, [":"] = true, [";"] = true, ["?"] = true, ["]"] = true, ["}"] = true,
                  ["…"] = true, ["⋯"] = true, ["ー"] = true }

local function punct_rank(text)
  local c = last_char(text)
  if SENTENCE_END[c] then return 2 end
  if CLAUSE_END[c] then return 1 end
  return 0
end

-- Words a line or an event should not end with (ref A4.1: never separate an article,
-- preposition or conjunction from what follows it). English only; other languages get none.
local WEAK = {}
for w in ("a an the of to in on at by for from with into onto and or but nor as if than that "
  .. "my your his her its our their this these those is are was were be i you he she we they")
  :gmatch("%S+") do WEAK[w] = true end

local function weak_end(text)
  local w = text:match("([%a']+)$")
  return w ~= nil and WEAK[w:lower()] == true
end

---------------------------------------------------------------------------- tokens

local function clean(s)
  s = tostring(s or ""):gsub("[%c%s]+", " ")
  return (s:gsub("^ ", ""):gsub(" $", ""))
end

local function is_ascii_char(c) return c ~= "" and c:byte(1) < 0x80 end

-- The separator between two tokens: a space in Latin text; in CJK text where the source text had
-- one (space_before) or between two ASCII runs.
local function joiner(a, b, prof, space_before)
  local fb = first_char(b)
  if CLOSING[fb] then return "" end
  if not prof.cjk or space_before then return " " end
  if is_ascii_char(last_char(a)) and is_ascii_char(fb) then return " " end
  return ""
end

-- Units of a text without word timings: Latin words, or in CJK text single characters with
-- Latin/digit runs kept whole; closing punctuation sticks to the unit before it.
local function text_units(text, prof)
  local units = {}
  if not prof.cjk then
    for w in text:gmatch("%S+") do
      if CLOSING[first_char(w)] and #units > 0 and not w:find("%w") then
        units[#units] = units[#units] .. w
      else
        units[#units + 1] = w
      end
    end
    return units
  end
  local run, spaced = nil, {}
  local function flush() if run then units[#units + 1] = run; run = nil end end
  for ch in text:gmatch(CHAR) do
    if ch:match("^%s$") then
      flush()
      spaced[#units + 1] = true            -- the next unit had a space before it in the text
    elseif is_ascii_char(ch) and not CLOSING[ch] then
      run = (run or "") .. ch
    elseif CLOSING[ch] then
      if run then run = run .. ch
      elseif #units > 0 then units[#units] = units[#units] .. ch
      else units[1] = ch end
    else
      flush()
      units[#units + 1] = ch
    end
  end
  flush()
  return units, spaced
end

local function num(v, default)
  v = tonumber(v)
  if not v or v ~= v then return default end
  return math.floor(v + 0.5)
end

-- Tokens { text, s, e } of one segment, in time order.
local function segment_tokens(seg, s0, e0, prof)
  local toks = {}
  local words = type(seg.words) == "table" and seg.words or {}
  local timed = {}
  for i, w in ipairs(words) do
    local text = clean(w.text) .. clean(w.punct)
    if text ~= "" then
      local s = num(w.start_ms, s0)
      local e = num(w.end_ms, s)
      if e < s then e = s end
      timed[#timed + 1] = { text = text, s = s, e = e, i = i }
    end
  end
  if #timed > 0 then
    table.sort(timed, function(a, b) if a.s ~= b.s then return a.s < b.s end return a.i < b.i end)
    for _, t in ipairs(timed) do
      if CLOSING[first_char(t.text)] and #toks > 0 and not t.text:find("%w") then
        local p = toks[#toks]                                 -- a punctuation "word": glue it
        p.text, p.e = p.text .. t.text, math.max(p.e, t.e)
      else
        toks[#toks + 1] = { text = t.text, s = t.s, e = t.e }
      end
    end
    return toks
  end
  -- No word timings: share the segment's time among the units in proportion to their width.
  local units, spaced = text_units(clean(seg.text), prof)
  local total = 0
  for _, u in ipairs(units) do total = total + width(u, prof) end
  local pos, dur = 0, e0 - s0
  for k, u in ipairs(units) do
    local w = width(u, prof)
    local s = s0 + math.floor(dur * pos / total)
    pos = pos + w
    toks[#toks + 1] = { text = u, s = s, e = s0 + math.floor(dur * pos / total), space = spaced and spaced[k] }
  end
  return toks
end

---------------------------------------------------------------------------- cutting

-- A block: tokens of consecutive segments with one speaker and one profile.
local function new_block(prof, speaker)
  return { prof = prof, speaker = speaker, toks = {} }
end

-- Prefix widths: width(i, j) = P[j] - P[i-1] - J[j] where J[k] is the joiner after token k.
local function prepare(block)
  local toks, prof = block.toks, block.prof
  local P, J = { [0] = 0 }, {}
  for k, t in ipairs(toks) do
    t.w = width(t.text, prof)
    t.join = toks[k + 1] and joiner(t.text, toks[k + 1].text, prof, toks[k + 1].space) or ""
    J[k] = width(t.join, prof)
    P[k] = P[k - 1] + t.w + J[k]
  end
  block.P, block.J = P, J
end

local function span_width(block, i, j) return block.P[j] - block.P[i - 1] - block.J[j] end

-- Greedy line fill: the fewest lines a range needs (a token wider than a line gets its own).
local function lines_needed(block, i, j, o)
  local n, start = 1, i
  for k = i + 1, j do
    if span_width(block, start, k) > o.line_chars then
      n, start = n + 1, k
    end
  end
  return n
end

local function fits(block, i, j, o)
  local t = block.toks
  if t[j].e - t[i].s > o.max_ms then return false end
  return lines_needed(block, i, j, o) <= o.max_lines
end

local function forced_break(block, k, o)
  local t = block.toks
  return t[k + 1] ~= nil and t[k + 1].s - t[k].e >= o.pause_ms
end

-- Would an event starting at token r be left too short to read (its run of speech ends within
-- min_ms, at a long pause or the end of the block)?
local function short_remainder(block, r, o)
  local t, m = block.toks, r
  while t[m] and t[m].s - t[r].s < o.min_ms do
    if not t[m + 1] or forced_break(block, m, o) then return t[m].e - t[r].s < o.min_ms end
    m = m + 1
  end
  return false
end

-- Where to end an event that cannot take token j+1: the best break in i..j.
local function best_break(block, i, j, o)
  local t = block.toks
  local capacity = o.line_chars * o.max_lines
  local best, best_score = j, -math.huge
  for k = i, j do
    local score = 4 * span_width(block, i, k) / capacity
    local p = punct_rank(t[k].text)
    score = score + (p == 2 and 6 or p == 1 and 3 or 0)
    if t[k + 1] then score = score + math.min((t[k + 1].s - t[k].e) / 100, 5) end
    if t[k].e - t[i].s < o.min_ms then score = score - 5 end
    if not o.cjk and weak_end(t[k].text) then score = score - 3 end
    if short_remainder(block, k + 1, o) then score = score - 6 end
    if score >= best_score then best, best_score = k, score end
  end
  return best
end

local function range_text(block, i, j)
  local parts = {}
  for k = i, j do
    parts[#parts + 1] = block.toks[k].text
    if k < j then parts[#parts + 1] = block.toks[k].join end
  end
  return table.concat(parts)
end

-- Lines of the event i..j: one if it fits, else the most balanced split (punctuation preferred,
-- no line ending on a weak word), else greedy filling for more than two lines.
local function layout(block, i, j, o)
  if span_width(block, i, j) <= o.line_chars or i == j then return { range_text(block, i, j) } end
  local need = lines_needed(block, i, j, o)
  if need <= 2 and o.max_lines >= 2 then
    local best, best_cost = nil, math.huge
    for m = i, j - 1 do
      local w1, w2 = span_width(block, i, m), span_width(block, m + 1, j)
      if w1 <= o.line_chars and w2 <= o.line_chars then
        local cost = math.abs(w1 - w2)
        local p = punct_rank(block.toks[m].text)
        cost = cost - (p == 2 and 0.35 or p == 1 and 0.25 or 0) * o.line_chars
        if not o.cjk and weak_end(block.toks[m].text) then cost = cost + 0.25 * o.line_chars end
        if cost < best_cost then best, best_cost = m, cost end
      end
    end
    if best then return { range_text(block, i, best), range_text(block, best + 1, j) } end
  end
  local lines, start = {}, i
  for k = i + 1, j do
    if span_width(block, start, k) > o.line_chars then
      lines[#lines + 1] = range_text(block, start, k - 1)
      start = k
    end
  end
  lines[#lines + 1] = range_text(block, start, j)
  return lines
end

-- Cut one block into ranges {i, j}.
local function cut_block(block, o)
  local ranges, n, i = {}, #block.toks, 1
  while i <= n do
    local j = i
    while j < n and not forced_break(block, j, o) and fits(block, i, j + 1, o) do j = j + 1 end
    local k = j
    if j < n and not forced_break(block, j, o) then k = best_break(block, i, j, o) end
    ranges[#ranges + 1] = { i, k }
    i = k + 1
  end
  -- An event too short to read (under min_ms of speech) joins its neighbour when the result
  -- still fits and no long pause separates them (ref A4.1 minimum duration).
  local t = block.toks
  local r = 1
  while r <= #ranges do
    local a = ranges[r]
    if t[a[2]].e - t[a[1]].s < o.min_ms then
      local nx, pv = ranges[r + 1], ranges[r - 1]
      if nx and not forced_break(block, a[2], o) and fits(block, a[1], nx[2], o) then
        nx[1] = a[1]
        table.remove(ranges, r)
      elseif pv and not forced_break(block, pv[2], o) and fits(block, pv[1], a[2], o) then
        pv[2] = a[2]
        table.remove(ranges, r)
      else
        r = r + 1
      end
    else
      r = r + 1
    end
  end
  return ranges
end

---------------------------------------------------------------------------- cues

local function sorted_segments(result)
  local segs = {}
  for i, s in ipairs(type(result) == "table" and result.segments or {}) do
    if type(s) == "table" then
      local st = num(s.start_ms, 0)
      local en = num(s.end_ms, st)
      if en < st then en = st end
      segs[#segs + 1] = { seg = s, s = st, e = en, i = i }
    end
  end
  table.sort(segs, function(a, b) if a.s ~= b.s then return a.s < b.s end return a.i < b.i end)
  return segs
end

local function build_blocks(result, opts)
  local blocks, cur, last_e = {}, nil, nil
  local profiles = {}
  for _, x in ipairs(sorted_segments(result)) do
    local seg = x.seg
    local text = clean(seg.text)
    local pname = opts.profile or language_profile(seg.language) or language_profile(result.language)
    if not pname then
      local sample = text
      if sample == "" and type(seg.words) == "table" then
        local ws = {}
        for _, w in ipairs(seg.words) do ws[#ws + 1] = clean(w.text) end
        sample = table.concat(ws, " ")
      end
      pname = script_profile(sample)
    end
    profiles[pname] = profiles[pname] or profile_options(pname, opts)
    local prof = profiles[pname]
    local speaker = seg.speaker ~= nil and tostring(seg.speaker) or nil
    local toks = segment_tokens(seg, x.s, x.e, prof)
    if #toks > 0 then
      -- A new block at a speaker or script change, and where segments overlap in time.
      if not cur or cur.speaker ~= speaker or cur.prof ~= prof or toks[1].s < last_e then
        cur = new_block(prof, speaker)
        blocks[#blocks + 1] = cur
      end
      for _, t in ipairs(toks) do cur.toks[#cur.toks + 1] = t end
      last_e = cur.toks[#cur.toks].e
    end
  end
  return blocks
end

local function reading_chars(lines, prof)
  local w = 0
  for _, l in ipairs(lines) do w = w + width(l, prof) end
  return w
end

-- Event times: order, no overlap, minimum duration, reading speed, gap and chaining (ref A4.1).
local function time_cues(cues)
  table.sort(cues, function(a, b)
    if a.start_ms ~= b.start_ms then return a.start_ms < b.start_ms end
    return a.seq < b.seq
  end)
  -- Overlapping speech (overlapping segments): the later event starts once the earlier one has
  -- been readable for min_ms (or its speech ended), plus the gap. Also keep every event visible.
  for k = 2, #cues do
    local p, c = cues[k - 1], cues[k]
    local o = p.o
    local floor = p.start_ms + o.gap_ms + o.gap_ms
    if c.start_ms < p.speech_end then
      floor = math.max(floor, math.min(p.speech_end, p.start_ms + o.min_ms) + o.gap_ms)
    end
    if c.start_ms < floor then
      c.start_ms = floor
      if c.speech_end < floor then c.speech_end = floor end
    end
  end
  for k, c in ipairs(cues) do
    local o, nx = c.o, cues[k + 1]
    local limit = nx and (nx.start_ms - o.gap_ms) or math.huge
    local need = c.start_ms + math.ceil(reading_chars(c.lines, o) / o.cps * 1000)
    local target = math.max(c.speech_end, math.min(need, c.speech_end + o.linger_ms), c.start_ms + o.min_ms)
    target = math.min(target, c.start_ms + o.max_ms)
    local e = math.min(target, limit)
    if nx and nx.start_ms - e <= o.chain_ms then e = math.min(limit, c.start_ms + o.max_ms) end
    if e <= c.start_ms then e = c.start_ms + 1 end
    c.end_ms = e
  end
end

--- cues(result, opts) -> { { start_ms, end_ms, lines = { ... }, speaker = "1" or nil }, ... }
-- in time order, never overlapping. opts: see DEFAULTS and PROFILES (a key set at the top level
-- applies to every profile; opts.zh = {...} etc. to one).
function M.cues(result, opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("subtitle: options table expected", 2) end
  local cues, seq = {}, 0
  for _, block in ipairs(build_blocks(result, opts)) do
    prepare(block)
    for _, r in ipairs(cut_block(block, block.prof)) do
      seq = seq + 1
      cues[#cues + 1] = { start_ms = block.toks[r[1]].s, speech_end = block.toks[r[2]].e,
                          lines = layout(block, r[1], r[2], block.prof), speaker = block.speaker,
                          o = block.prof, seq = seq }
    end
  end
  time_cues(cues)
  local out = {}
  for i, c in ipairs(cues) do
    out[i] = { start_ms = c.start_ms, end_ms = c.end_ms, lines = c.lines, speaker = c.speaker }
  end
  return out
end

---------------------------------------------------------------------------- writers

local function clock(ms, sep, frac_digits)
  ms = math.max(0, math.floor(ms))
  local h = math.floor(ms / 3600000)
  local m = math.floor(ms / 60000) % 60
  local s = math.floor(ms / 1000) % 60
  if frac_digits == 2 then
    return string.format("%d:%02d:%02d%s%02d", h, m, s, sep, math.floor(ms % 1000 / 10))
  end
  return string.format("%02d:%02d:%02d%s%03d", h, m, s, sep, ms % 1000)
end

local function speaker_name(opts, speaker)
  if speaker == nil then return nil end
  if type(opts.speaker_name) == "function" then return opts.speaker_name(speaker) end
  if type(opts.speaker_names) == "table" and opts.speaker_names[speaker] then
    return tostring(opts.speaker_names[speaker])
  end
  return "Speaker " .. speaker
end

-- "-->" must never appear in cue text (SRT and WebVTT, ref A2); "--->" would leave one behind a
-- single pass, so repeat.
local function no_arrow(s)
  local n
  repeat s, n = s:gsub("%-%->", "->") until n == 0
  return s
end

--- SubRip: LF line ends, no BOM, HH:MM:SS,mmm, trailing blank line (ref A1).
function M.srt(result, opts)
  local out = {}
  for i, c in ipairs(M.cues(result, opts)) do
    out[#out + 1] = ("%d\n%s --> %s\n%s\n\n"):format(i, clock(c.start_ms, ","), clock(c.end_ms, ","),
      no_arrow(table.concat(c.lines, "\n")))
  end
  return table.concat(out)
end

local function xml_escape(s)
  return (s:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

--- WebVTT: `&`, `<`, `>` escaped (so "-->" cannot survive), speakers as <v Name> voice spans
-- (ref A2). No STYLE/REGION blocks: Debian's ffmpeg reads none of the cues after them (ref A3.3).
function M.vtt(result, opts)
  opts = opts or {}
  local out = { "WEBVTT\n\n" }
  for _, c in ipairs(M.cues(result, opts)) do
    local text = xml_escape(table.concat(c.lines, "\n"))
    local name = speaker_name(opts, c.speaker)
    if name then text = "<v " .. xml_escape(clean(name)) .. ">" .. text .. "</v>" end
    out[#out + 1] = ("%s --> %s\n%s\n\n"):format(clock(c.start_ms, "."), clock(c.end_ms, "."), text)
  end
  return table.concat(out)
end

local function lrc_stamp(ms)
  ms = math.max(0, math.floor(ms))
  return ("[%02d:%02d.%02d]"):format(math.floor(ms / 60000), math.floor(ms / 1000) % 60,
    math.floor(ms % 1000 / 10))
end

--- LRC: [mm:ss.xx]text; lines of an event joined with a space (CJK: none). LRC has no end
-- times, so an empty [mm:ss.xx] line clears the event where it ends (ref A3.1).
function M.lrc(result, opts)
  opts = opts or {}
  local out = {}
  if opts.title then out[#out + 1] = "[ti:" .. clean(opts.title) .. "]\n" end
  local cues = M.cues(result, opts)
  for i, c in ipairs(cues) do
    local sep = " "
    if script_profile(c.lines[1]) ~= "latin" then sep = "" end
    out[#out + 1] = lrc_stamp(c.start_ms) .. table.concat(c.lines, sep) .. "\n"
    local nx = cues[i + 1]
    if not nx or math.floor(nx.start_ms / 10) > math.floor(c.end_ms / 10) then
      out[#out + 1] = lrc_stamp(c.end_ms) .. "\n"
    end
  end
  return table.concat(out)
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

-- ASS has no escape for override braces or backslash sequences (\N, \h): use the full-width
-- forms so the text shows as spoken.
local function ass_text(s)
  return (s:gsub("\\", "＼"):gsub("{", "｛"):gsub("}", "｝"))
end

--- Advanced SubStation Alpha, as ffmpeg writes it (ref A3.1); the speaker goes in Name.
function M.ass(result, opts)
  opts = opts or {}
  local out = { ASS_HEADER }
  for _, c in ipairs(M.cues(result, opts)) do
    local lines = {}
    for i, l in ipairs(c.lines) do lines[i] = ass_text(l) end
    local name = speaker_name(opts, c.speaker)
    name = name and clean(name):gsub(",", " ") or ""
    out[#out + 1] = ("Dialogue: 0,%s,%s,Default,%s,0,0,0,,%s\n"):format(clock(c.start_ms, ".", 2),
      clock(c.end_ms, ".", 2), name, table.concat(lines, "\\N"))
  end
  return table.concat(out)
end

-- XML 1.0 allows no C0 controls but tab, LF and CR.
local function xml_text(s)
  return (xml_escape(s):gsub("[%z\1-\8\11\12\14-\31]", ""):gsub('"', "&quot;"))
end

--- TTML 1 (ref A3.1): <tt><head> speakers as ttm:agent </head><body><div><p begin end>.
function M.ttml(result, opts)
  opts = opts or {}
  local cues = M.cues(result, opts)
  local lang = type(result) == "table" and type(result.language) == "string" and result.language or ""
  local agents, ids, order = {}, {}, {}
  for _, c in ipairs(cues) do
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
    "  <head>\n    <metadata>\n", table.concat(agents), "    </metadata>\n  </head>\n",
    "  <body>\n    <div>\n",
  }
  for _, c in ipairs(cues) do
    local lines = {}
    for i, l in ipairs(c.lines) do lines[i] = xml_text(l) end
    local agent = c.speaker and (' ttm:agent="%s"'):format(ids[c.speaker]) or ""
    out[#out + 1] = ('      <p begin="%s" end="%s"%s>%s</p>\n'):format(clock(c.start_ms, "."),
      clock(c.end_ms, "."), agent, table.concat(lines, "<br/>"))
  end
  out[#out + 1] = "    </div>\n  </body>\n</tt>\n"
  return table.concat(out)
end

--- JSON: { "cues": [ { start_ms, end_ms, lines, speaker } ], "language": ... } with integer ms
-- (ref A3.1: integers keep locale-dependent decimal commas out).
function M.json(result, opts)
  local core = require "stt.core"
  local parts = {}
  for i, c in ipairs(M.cues(result, opts)) do parts[i] = core.json_encode(c) end
  local lang = type(result) == "table" and type(result.language) == "string"
    and (',"language":' .. core.json_encode({ result.language }):sub(2, -2)) or ""
  return '{"cues":[' .. table.concat(parts, ",") .. "]" .. lang .. "}\n"
end

--- Plain text: one line per segment, "[HH:MM:SS.mmm] Speaker 1: text", in time order.
function M.txt(result, opts)
  opts = opts or {}
  local out = {}
  for _, x in ipairs(sorted_segments(result)) do
    local text = clean(x.seg.text)
    if text ~= "" then
      local sp = x.seg.speaker ~= nil and tostring(x.seg.speaker) or nil
      local name = speaker_name(opts, sp)
      out[#out + 1] = ("[%s] %s%s"):format(clock(x.s, "."), name and (clean(name) .. ": ") or "", text)
    end
  end
  if #out == 0 and type(result) == "table" and type(result.text) == "string" and result.text ~= "" then
    out[1] = clean(result.text)
  end
  if #out == 0 then return "" end
  return table.concat(out, "\n") .. "\n"
end

return M
