--- stt.subtitle.text: the text layer of subtitles. UTF-8 without the utf8 library (a small
-- iterator, for Lua 5.4 and LuaJIT alike), the width of text in characters of a profile, the
-- script of a text and the per-script profiles (line length, reading speed), the punctuation
-- and weak words that decide where captions break, and whitespace cleaning.
-- The rules and their sources: docs/subtitles.md. Pure: no I/O, no globals.
local T = {}

-- Per-script limits (docs/subtitles.md). `half` is the width of a half-width character.
local PROFILES = {
  latin = { line_chars = 42, cps = 17, half = 1 },
  zh = { line_chars = 16, cps = 9, half = 0.5 },
  ja = { line_chars = 13, cps = 4, half = 0.5 },     -- 4 cps comes from a secondary source only
  ko = { line_chars = 16, cps = 12, half = 0.5 },    -- from a secondary source only
}
T.PROFILES = PROFILES

local DEFAULTS = {
  max_lines = 2,
  min_ms = 834,        -- 5/6 s rounded up to whole ms
  max_ms = 7000,
  fps = 24,
  gap_frames = 2,      -- minimum gap between events
  chain_ms = 500,      -- gaps up to this are closed to gap_frames ("chaining")
  linger_ms = 500,     -- an event may stay this long past the end of speech
  pause_ms = 1000,     -- a pause this long always ends an event
  profile = nil,       -- force "latin" | "zh" | "ja" | "ko"; default: per segment
}
T.DEFAULTS = DEFAULTS

---------------------------------------------------------------------------- UTF-8

-- Library functions as upvalues: the loops call them once or more per word.
local type, ipairs, pairs, tostring = type, ipairs, pairs, tostring
local byte, find, sub = string.byte, string.find, string.sub

-- find(s, ASCII) is true for a string of ASCII bytes only. (One anchored match runs about twice as
-- fast over a long string as looking for a non-ASCII byte at each position.)
local ASCII = "^[^\128-\255]*$"
T.ASCII = ASCII

local CHAR = "[%z\1-\127\194-\244][\128-\191]*"
T.CHAR = CHAR
local FIRST_CHAR = "^" .. CHAR

local function codepoint(ch)
  local b1 = ch:byte(1)
  if not b1 then return 0 end
  if b1 < 0x80 or #ch == 1 then return b1 end
  local n = #ch
  local cp = b1 % (n == 2 and 0x20 or n == 3 and 0x10 or 0x08)
  for i = 2, n do cp = cp * 64 + ch:byte(i) % 64 end
  return cp
end

-- East Asian wide ranges (a practical subset, docs/subtitles.md) plus emoji.
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

-- Sums of `half` are exact in doubles when it is a multiple of 1/1024 (1, 0.5, 0.75 ...): then the
-- width of an ASCII string is its length times half, whatever the order of the additions.
local function exact_half(h)
  return type(h) == "number" and h >= 0 and h <= 1024 and h * 1024 % 1 == 0
end

--- width(s, prof): width of a string in "characters" of a profile table (PROFILES, or the
-- options of profile_options): wide = 1, half-width = prof.half.
local function width(s, prof)
  -- Fast path: ASCII text (every byte one half-width character). "" keeps the integer 0.
  if find(s, ASCII) and exact_half(prof.half) then
    if s == "" then return 0 end
    return #s * prof.half
  end
  local w = 0
  for ch in s:gmatch(CHAR) do
    local cp = codepoint(ch)
    if not is_zero_width(cp) then w = w + (is_wide(cp) and 1 or prof.half) end
  end
  return w
end
T.width = width

-- The first and last characters as CHAR matches them. Fast paths: an ASCII byte not followed by a
-- continuation byte is a character of its own; a final ASCII byte is the last character.
local function first_char(s)
  local b1, b2 = byte(s, 1, 2)
  if b1 and b1 < 0x80 and (not b2 or b2 < 0x80 or b2 > 0xBF) then return sub(s, 1, 1) end
  return s:match(FIRST_CHAR) or ""
end
T.first_char = first_char

local function last_char(s)
  local b = byte(s, -1)
  if b and b < 0x80 then return sub(s, -1) end
  local c = ""
  for ch in s:gmatch(CHAR) do c = ch end
  return c
end
T.last_char = last_char

function T.is_ascii_char(c) return c ~= "" and c:byte(1) < 0x80 end

-- Control characters and whitespace runs as one space, none at either end.
function T.clean(s)
  if type(s) ~= "string" then s = tostring(s or "") end
  if not find(s, "[%c%s]") then return s end          -- fast path: nothing to collapse or trim
  s = s:gsub("[%c%s]+", " ")
  return (s:gsub("^ ", ""):gsub(" $", ""))
end

---------------------------------------------------------------------------- scripts, profiles

-- The script of a character: 1 kana, 2 han, 3 hangul, 4 Latin letter, 0 other.
local function char_script(ch)
  local cp = codepoint(ch)
  if (cp >= 0x3040 and cp <= 0x30FF) or (cp >= 0x31F0 and cp <= 0x31FF) or (cp >= 0xFF66 and cp <= 0xFF9F) then
    return 1
  elseif (cp >= 0x4E00 and cp <= 0x9FFF) or (cp >= 0x3400 and cp <= 0x4DBF) or (cp >= 0x20000 and cp <= 0x2FFFD) then
    return 2
  elseif cp >= 0xAC00 and cp <= 0xD7A3 then
    return 3
  elseif (cp >= 65 and cp <= 90) or (cp >= 97 and cp <= 122) or (cp >= 0xC0 and cp <= 0x24F) then
    return 4
  end
  return 0
end

--- script_profile(text [, memo]) -> "latin" | "zh" | "ja" | "ko", the profile of a text by its
-- script. memo (optional): char_script of each character seen, kept by the caller.
function T.script_profile(text, memo)
  if find(text, ASCII) then return "latin" end               -- fast path: no kana, han or hangul
  local han, kana, hangul, latin = 0, 0, 0, 0
  for ch in text:gmatch(CHAR) do
    local c = memo and memo[ch]
    if not c then
      c = char_script(ch)
      if memo then memo[ch] = c end
    end
    if c == 1 then
      kana = kana + 1
    elseif c == 2 then
      han = han + 1
    elseif c == 3 then
      hangul = hangul + 1
    elseif c == 4 then
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

--- language_profile(lang) -> the profile of a language tag, or nil when it names none.
function T.language_profile(lang)
  if type(lang) ~= "string" then return nil end
  local base = lang:lower():match("^(%a+)")
  if not base or base == "auto" or base == "mixed" or base == "multi" then return nil end
  return LANG_PROFILE[base] or "latin"
end

--- profile_options(name, opts): the effective options of one profile: defaults < profile < opts <
-- opts[profile], with name, cjk, gap_ms and exact (exact_half(half)) added.
function T.profile_options(name, opts)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(PROFILES[name]) do o[k] = v end
  for k, v in pairs(opts) do if type(v) ~= "table" then o[k] = v end end
  if type(opts[name]) == "table" then for k, v in pairs(opts[name]) do o[k] = v end end
  o.name = name
  o.cjk = name ~= "latin"
  o.gap_ms = math.ceil(o.gap_frames * 1000 / o.fps)
  o.exact = exact_half(o.half)
  return o
end

---------------------------------------------------------------------------- punctuation

local SENTENCE_END = { ["."] = true, ["!"] = true, ["?"] = true, ["…"] = true, ["。"] = true, ["！"] = true,
                       ["？"] = true, ["⋯"] = true, ["‼"] = true }
local CLAUSE_END = { [","] = true, [";"] = true, [":"] = true, ["，"] = true, ["、"] = true, ["；"] = true,
                     ["："] = true, ["—"] = true, ["–"] = true, [")"] = true, ["）"] = true, ["」"] = true,
                     ["』"] = true, ["》"] = true, ["\""] = true, ["”"] = true }
-- Never at the start of a line: they stick to the unit before them (kinsoku, docs/subtitles.md).
local CLOSING = { ["，"] = true, ["。"] = true, ["、"] = true, ["；"] = true, ["："] = true, ["！"] = true,
                  ["？"] = true, ["）"] = true, ["」"] = true, ["』"] = true, ["】"] = true, ["》"] = true,
                  ["”"] = true, ["’"] = true, ["!"] = true, ["%"] = true, [")"] = true, [","] = true,
                  ["."] = true, [":"] = true, [";"] = true, ["?"] = true, ["]"] = true, ["}"] = true,
                  ["…"] = true, ["⋯"] = true, ["ー"] = true }
T.CLOSING = CLOSING

local CLOSING_BYTE = {}
for c in pairs(CLOSING) do if #c == 1 then CLOSING_BYTE[c:byte()] = true end end

-- CLOSING[first_char(s)], without making the character string in the ASCII case.
function T.closing_start(s)
  local b1, b2 = byte(s, 1, 2)
  if b1 and b1 < 0x80 and (not b2 or b2 < 0x80 or b2 > 0xBF) then return CLOSING_BYTE[b1] end
  return CLOSING[first_char(s)]
end

--- punct_rank(text) -> 2 when the text ends a sentence, 1 a clause, else 0.
function T.punct_rank(text)
  local c = last_char(text)
  if SENTENCE_END[c] then return 2 end
  if CLAUSE_END[c] then return 1 end
  return 0
end

-- Words a line or an event should not end with (never separate an article, preposition or
-- conjunction from what follows it, docs/subtitles.md). English only; other languages get none.
local WEAK = {}
for w in ("a an the of to in on at by for from with into onto and or but nor as if than that "
  .. "my your his her its our their this these those is are was were be i you he she we they")
  :gmatch("%S+") do WEAK[w] = true end

function T.weak_end(text)
  local w = text:match("([%a']+)$")
  return w ~= nil and WEAK[w:lower()] == true
end

return T
