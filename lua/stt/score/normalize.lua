--- What the scorer compares: a text normalized so that only the words count, not their
-- spelling conventions. Pure; the rules, each with an example, are in docs/scoring.md:
--   1. invalid UTF-8 is refused with the byte offset (nil, err);
--   2. full-width forms become half-width ("ＡＢＣ１２３" -> "abc123"), U+3000 a space;
--   3. case is folded for Latin, Greek, Cyrillic and Armenian ("Straße" and "STRASSE" -> "strasse");
--   4. with numerals = "arabic", Chinese numerals become digits ("二十三" -> "23", "二〇二四" -> "2024");
--   5. the user's replacements apply (whole units: "ok" does not touch "book");
--   6. punctuation and symbols become spaces, CJK and ASCII alike; an apostrophe inside a word
--      joins it ("don't" -> "dont"), a comma between digits goes ("1,000" -> "1000"), a point
--      between digits stays ("3.5");
--   7. whitespace is collapsed to one space, none at either end.
local core = require "stt.core"
local errors = require "stt.errors"

local M = {}

local CHAR = "[%z\1-\127\194-\244][\128-\191]*"

-- UTF-8 of a code point (LuaJIT has no utf8 library).
local function u8(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 0x40), 0x80 + cp % 0x40) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 0x1000), 0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end
  return string.char(0xF0 + math.floor(cp / 0x40000), 0x80 + math.floor(cp / 0x1000) % 0x40,
    0x80 + math.floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
end
M.utf8_char = u8

-- MAP: a character -> what it becomes (a letter, "" to drop it, " " for a separator). Built once.
local MAP, PUNCT, APOS = {}, {}, { ["'"] = true, ["\u{2019}"] = true, ["\u{02BC}"] = true }
local function range(lo, hi, f) for cp = lo, hi do f(cp) end end
local function lower(lo, hi, delta) range(lo, hi, function(cp) MAP[u8(cp)] = u8(cp + delta) end) end
local function pairs_even(lo, hi) -- upper case at even code points, lower case the next one
  range(lo, hi, function(cp) if cp % 2 == lo % 2 then MAP[u8(cp)] = u8(cp + 1) end end)
end
local function punct(lo, hi) range(lo, hi, function(cp) PUNCT[u8(cp)] = true end) end

-- case folding (simple folding; ß and ẞ take the full folding "ss")
lower(0x41, 0x5A, 32)
lower(0xC0, 0xD6, 32); lower(0xD8, 0xDE, 32)
MAP["ß"] = "ss"; MAP["\u{1E9E}"] = "ss"
pairs_even(0x100, 0x12F); MAP["\u{130}"] = "i"; pairs_even(0x132, 0x137); pairs_even(0x139, 0x148)
pairs_even(0x14A, 0x177); MAP["\u{178}"] = "ÿ"; pairs_even(0x179, 0x17E); MAP["\u{17F}"] = "s"
pairs_even(0x1CD, 0x1DC); pairs_even(0x1DE, 0x1EF); pairs_even(0x1F8, 0x21F); pairs_even(0x222, 0x233)
pairs_even(0x1E00, 0x1E95); pairs_even(0x1EA0, 0x1EFF)
MAP["\u{386}"] = "\u{3AC}"; lower(0x388, 0x38A, 37); MAP["\u{38C}"] = "\u{3CC}"; lower(0x38E, 0x38F, 63)
lower(0x391, 0x3A1, 32); lower(0x3A3, 0x3AB, 32); MAP["\u{3C2}"] = "\u{3C3}"
lower(0x400, 0x40F, 80); lower(0x410, 0x42F, 32)
pairs_even(0x460, 0x481); pairs_even(0x48A, 0x4BF); MAP["\u{4C0}"] = "\u{4CF}"; pairs_even(0x4C1, 0x4CE)
pairs_even(0x4D0, 0x52F)
lower(0x531, 0x556, 48)

-- punctuation and symbols: ASCII, Latin-1, general punctuation and symbol blocks, CJK punctuation
range(0x21, 0x7E, function(cp)
  local c = string.char(cp)
  if not c:match("%w") then PUNCT[c] = true end
end)
punct(0xA1, 0xBF)
for _, cp in ipairs({ 0xAA, 0xB2, 0xB3, 0xB5, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE }) do PUNCT[u8(cp)] = nil end
PUNCT["×"] = true; PUNCT["÷"] = true
punct(0x2010, 0x2027); punct(0x2030, 0x205E)     -- dashes, quotes, bullets, ellipsis, primes ...
punct(0x20A0, 0x20CF)                              -- currency
punct(0x2100, 0x214F)                              -- letterlike symbols (℃, №, ™)
punct(0x2190, 0x2BFF)                              -- arrows, maths, technical, boxes, shapes, dingbats
punct(0x2E00, 0x2E7F)                              -- supplemental punctuation
punct(0x3001, 0x3004); punct(0x3008, 0x3020); punct(0x3030, 0x303F)   -- CJK punctuation (not 々〆〇)
PUNCT["\u{30FB}"] = true                           -- katakana middle dot
punct(0xFE10, 0xFE1F); punct(0xFE30, 0xFE6F)      -- vertical, compatibility and small forms
punct(0xFF5F, 0xFF65)                              -- half-width CJK punctuation
punct(0x1F000, 0x1FAFF)                            -- emoji and pictographs
for c in pairs(APOS) do PUNCT[c] = nil end
-- separators and invisible characters
for _, cp in ipairs({ 0x9, 0xA, 0xB, 0xC, 0xD, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 }) do
  MAP[u8(cp)] = " "
end
range(0x2000, 0x200A, function(cp) MAP[u8(cp)] = " " end)
for _, cp in ipairs({ 0xAD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF }) do MAP[u8(cp)] = "" end
range(0xFE00, 0xFE0F, function(cp) MAP[u8(cp)] = "" end)

-- full-width ASCII (U+FF01..FF5E) -> ASCII, folded and classified like it
range(0xFF01, 0xFF5E, function(cp)
  local c = string.char(cp - 0xFEE0)
  MAP[u8(cp)] = MAP[c] or c
end)
-- PUNCT as a gsub table: punctuation -> " "
local TO_SPACE = {}
for c in pairs(PUNCT) do TO_SPACE[c] = " " end

-- Chinese numerals
local DIGIT = { ["零"] = 0, ["〇"] = 0, ["一"] = 1, ["二"] = 2, ["两"] = 2, ["三"] = 3, ["四"] = 4, ["五"] = 5,
                ["六"] = 6, ["七"] = 7, ["八"] = 8, ["九"] = 9 }
local SMALL = { ["十"] = 10, ["百"] = 100, ["千"] = 1000 }
local LARGE = { ["万"] = 10000, ["亿"] = 100000000 }

-- A run of Chinese numerals -> digits: digit by digit without a place word ("一九八四" -> "1984"),
-- else by place ("一千九百八十四" -> "1984", "十五" -> "15", "一百零五" -> "105").
local function numeral(run)
  local positional = false
  for _, c in ipairs(run) do if SMALL[c] or LARGE[c] then positional = true end end
  if not positional then
    local t = {}
    for i, c in ipairs(run) do t[i] = tostring(DIGIT[c]) end
    return table.concat(t)
  end
  local total, section, num = 0, 0, 0
  for _, c in ipairs(run) do
    if DIGIT[c] then num = DIGIT[c]
    elseif SMALL[c] then
      if num == 0 and c == "十" then num = 1 end
      section = section + num * SMALL[c]
      num = 0
    else
      section = (section + num) * LARGE[c]
      total = total + section
      section, num = 0, 0
    end
  end
  return string.format("%.0f", total + section + num)
end

-- Step 4 on folded text: runs of Chinese numerals -> digits, set apart by spaces.
local function numerals_to_digits(s)
  local out, run, k = {}, {}, 0
  local function flush()
    if #run == 0 then return end
    -- a lone place word is a word, not a number ("万" in "万一"); so is a lone "两"
    if #run == 1 and (not DIGIT[run[1]] or run[1] == "两") then
      k = k + 1; out[k] = run[1]
    else
      k = k + 1; out[k] = " " .. numeral(run) .. " "
    end
    run = {}
  end
  for c in s:gmatch(CHAR) do
    if DIGIT[c] or SMALL[c] or LARGE[c] then run[#run + 1] = c
    else flush(); k = k + 1; out[k] = c end
  end
  flush()
  return table.concat(out)
end

-- Steps 2, 3, 4 and 6, each a pass of gsub over the whole text (C speed; a loop over characters in
-- Lua took a 2-hour transcript several times longer).
-- A multi-byte character outside U+4000..DFFF: the block of lead bytes E4..ED (most Han, Yi,
-- Hangul) holds nothing that MAP or TO_SPACE change, so the passes below skip those characters.
local MB = "[\194-\227\238-\244][\128-\191]+"
-- ASCII punctuation and symbols but the apostrophe
local ASCII_PUNCT = "[!-&(-/:-@%[-`{-~]"

local function fold(s, numerals)
  s = s:lower()                                          -- ASCII case (C locale)
  s = s:gsub(MB, MAP)                                    -- width, case, separators, invisibles
  if numerals then s = numerals_to_digits(s) end
  -- (each contextual pass only where its characters occur: they cost as much as the rest)
  for _ = 1, s:find("%d[,.]%d") and 2 or 0 do          -- twice: "1,000,000", "1.2.3" overlap
    s = s:gsub("(%d),(%d)", "%1%2")                      -- thousands separators go
    s = s:gsub("(%d)%.(%d)", "%1\1%2")                  -- decimal points stay (protected)
  end
  s = s:gsub(ASCII_PUNCT, " "):gsub(MB, TO_SPACE)        -- punctuation and symbols -> spaces
  for apos in pairs(APOS) do                             -- inside a word an apostrophe joins
    if s:find(apos, 1, true) then
      local lit = apos:gsub("%p", "%%%0")
      local pat = "(%S)" .. lit .. "(%S)"
      s = s:gsub(pat, "%1%2"):gsub(pat, "%1%2")
      s = s:gsub(lit, " ")                               -- elsewhere it is a quote mark
    end
  end
  return (s:gsub("\1", "."))
end

local function collapse(s) return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")) end

local function is_cjk_char(c)
  if #c < 3 then return false end
  local b1, b2, b3 = c:byte(1, 3)
  local cp = #c == 3 and ((b1 % 16) * 4096 + (b2 % 64) * 64 + b3 % 64)
    or ((b1 % 8) * 262144 + (b2 % 64) * 4096 + (b3 % 64) * 64 + c:byte(4) % 64)
  return (cp >= 0x3400 and cp <= 0x4DBF) or (cp >= 0x4E00 and cp <= 0x9FFF) or (cp >= 0xF900 and cp <= 0xFAFF)
    or (cp >= 0x20000 and cp <= 0x3134F) or (cp >= 0x3005 and cp <= 0x3007)
    or (cp >= 0x3040 and cp <= 0x30FF) or (cp >= 0x31F0 and cp <= 0x31FF) or (cp >= 0xFF66 and cp <= 0xFF9F)
    or (cp >= 0xAC00 and cp <= 0xD7AF) or (cp >= 0x1100 and cp <= 0x11FF) or (cp >= 0x3130 and cp <= 0x318F)
end
--- true for a unit the scorer takes one character at a time under unit "auto" (Han, kana, Hangul).
M.is_cjk = is_cjk_char

--- Units joined for display: a space between two units unless both are CJK characters.
function M.join(units)
  local out, prev = {}, nil
  for i, u in ipairs(units) do
    local cjk = is_cjk_char(u) and #u <= 4 and not u:find(" ", 1, true)
    if i > 1 and not (cjk and prev) then out[#out + 1] = " " end
    out[#out + 1] = u
    prev = cjk
  end
  return table.concat(out)
end

-- Step 5: whole-unit replacement of a normalized `from` by `to` in normalized text.
local function replace(s, from, to)
  if from == "" then return s end
  -- a CJK character at an end needs no boundary there (CJK text has no spaces)
  local open_left = is_cjk_char(from:match("^" .. CHAR))
  local open_right = is_cjk_char(from:match(CHAR .. "$"))
  local out, pos = {}, 1
  while true do
    local a, b = s:find(from, pos, true)
    if not a then break end
    local p = a - 1
    while p > 1 and s:byte(p) >= 0x80 and s:byte(p) < 0xC0 do p = p - 1 end
    local before, after = p >= 1 and s:sub(p, a - 1) or nil, s:match("^" .. CHAR, b + 1)
    local left_ok = open_left or before == nil or before == " " or is_cjk_char(before)
    local right_ok = open_right or after == nil or after == " " or is_cjk_char(after)
    if left_ok and right_ok then
      out[#out + 1] = s:sub(pos, a - 1)
      out[#out + 1] = (open_left and "" or " ") .. to .. (open_right and "" or " ")
    else
      out[#out + 1] = s:sub(pos, b)
    end
    pos = b + 1
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

--- M.check(text, what) -> true or nil, err (kind "invalid") naming the first byte that is not UTF-8.
function M.check(text, what)
  local at = core.utf8_invalid(text)
  if not at then return true end
  return nil, errors.new({ kind = "invalid", retryable = false,
    message = ("%s: invalid UTF-8 at byte offset %d"):format(what or "text", at) })
end

--- M.replacements(list) -> the pairs normalized once: list = { { from, to }, ... } or the text of a
-- replacements file (one pair per line, "from<TAB>to" or "from => to"; # comments, blank lines).
function M.replacements(list, opts)
  if type(list) == "string" then
    local pairs_ = {}
    local n = 0
    for line in (list .. "\n"):gmatch("([^\n]*)\n") do
      n = n + 1
      line = line:gsub("\r$", "")
      if not line:match("^%s*$") and not line:match("^%s*#") then
        local from, to = line:match("^(.-)\t(.*)$")
        if not from then from, to = line:match("^(.-)%s*=>%s*(.*)$") end
        if not from or from:match("^%s*$") then
          return nil, errors.new({ kind = "invalid", retryable = false,
            message = ("replacements line %d: expected \"from<TAB>to\" or \"from => to\""):format(n) })
        end
        pairs_[#pairs_ + 1] = { from, to }
      end
    end
    list = pairs_
  end
  local out = {}
  for i, p in ipairs(list) do
    if type(p) ~= "table" or type(p[1]) ~= "string" or type(p[2]) ~= "string" then
      error("stt.score: replacements must be { { from, to }, ... } of strings", 3)
    end
    local ok, err = M.check(p[1] .. p[2], "replacement " .. i)
    if not ok then return nil, err end
    local f = collapse(fold(p[1], opts and opts.numerals == "arabic"))
    local t = collapse(fold(p[2], opts and opts.numerals == "arabic"))
    if f ~= "" then out[#out + 1] = { f, t } end
  end
  -- longest first, so that "new york city" wins over "new york"
  table.sort(out, function(x, y) if #x[1] ~= #y[1] then return #x[1] > #y[1] end return x[1] < y[1] end)
  out.normalized = true
  return out
end

--- M.normalize(text, opts) -> the normalized text, or nil, err for invalid UTF-8.
-- opts.numerals = "arabic" | false; opts.replacements = what M.replacements returns, or a list of
-- { from, to } (normalized here); opts.what names the text in errors ("hypothesis").
function M.normalize(text, opts)
  if type(text) ~= "string" then error("stt.score.normalize: text must be a string", 2) end
  opts = opts or {}
  if opts.numerals ~= nil and opts.numerals ~= false and opts.numerals ~= "arabic" then
    error("stt.score.normalize: numerals must be \"arabic\" or false", 2)
  end
  local ok, err = M.check(text, opts.what)
  if not ok then return nil, err end
  local s = collapse(fold(text, opts.numerals == "arabic"))
  local reps = opts.replacements
  if reps and #reps > 0 then
    if not reps.normalized then
      local r, rerr = M.replacements(reps, opts)
      if not r then return nil, rerr end
      reps = r
    end
    s = " " .. s .. " "
    for _, p in ipairs(reps) do s = replace(s, p[1], p[2]) end
    s = collapse(s)
  end
  return s
end

return M
