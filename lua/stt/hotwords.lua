--- One hotword list for every provider: load, normalize, validate, encode. Pure: the DashScope
-- custom-vocabulary calls that use these lists are client methods (lua/stt/vocabulary.lua).
--
-- Rules and their sources: docs/subtitles.md#hot-words (section anchors below).
--   local hw = stt.hotwords.load("terms.txt")      -- or a string, or a table
--   assert(hw:validate("dashscope", "paraformer-v2"))
--   local value, field = hw:encode("volcengine")   -- exactly what goes on the wire
-- Pure Lua (Lua 5.4 and LuaJIT); the wire forms come from the C schemas (core.build "hotwords").
local core = require "stt.core"
local errors = require "stt.errors"

local M = {}

local CHAR = "[%z\1-\127\194-\244][\128-\191]*"

local function ulen(s)
  local n = 0
  for _ in s:gmatch(CHAR) do n = n + 1 end
  return n
end

---------------------------------------------------------------------------- provider rules

-- Per provider (and DashScope model family) limits: docs/subtitles.md#hotword-limits.
--   max        entries per list
--   weight     {lo, hi, default, integer} or nil (the wire form carries no weight)
--   length     function(word) -> nil | message
--   plain      true: no punctuation (letters, digits, spaces only)
--   unconfirmed { [rule] = true }: no primary source states that limit for this form (or sources
--              disagree): breaking it is a warning, not a refusal. Only confirmed limits refuse.
local function dashscope_length(w)
  -- docs/subtitles.md#hotwords-dashscope: any non-ASCII character -> at most 15 characters in all
  -- (ASCII and spaces count); pure ASCII -> at most 7 space-separated segments.
  if w:find("[\128-\255]") then
    local n = ulen(w)
    if n > 15 then return ("is %d characters long; text with non-ASCII characters allows at most 15"):format(n) end
  else
    local n = 0
    for _ in w:gmatch("%S+") do n = n + 1 end
    if n > 7 then return ("has %d words; ASCII text allows at most 7 space-separated words"):format(n) end
  end
end

local function under10(w)
  -- docs/subtitles.md#hotwords-volcengine, #hotwords-turing: each hotword < 10 characters
  -- (Volcengine tables; UNCONFIRMED for the context form) and <= 10 for Tingwu (behind Turing):
  -- the stricter reading is used for Volcengine.
  local n = ulen(w)
  if n >= 10 then return ("is %d characters long; at most 9 are allowed"):format(n) end
end

local function upto10(w)
  local n = ulen(w)
  if n > 10 then return ("is %d characters long; at most 10 are allowed"):format(n) end
end

local RULES = {
  dashscope_vocabulary = { label = "DashScope custom vocabulary", max = 500,
                           weight = { 1, 5, 4, true }, length = dashscope_length },
  -- qwen3-asr: free context text (corpus.text), <= 10 000 tokens; no weights
  -- (docs/subtitles.md#hotwords-dashscope).
  dashscope_context = { label = "Qwen3-ASR context", max_chars = 10000, unconfirmed = { max_chars = true } },
  -- The < 10 characters and no-punctuation rules are documented for console hot-word tables only.
  volcengine = { label = "Volcengine corpus.context hotwords", max = 5000, length = under10, plain = true,
                 unconfirmed = { length = true, plain = true } },
  ["volcengine-auc"] = { label = "Volcengine corpus.context hotwords", max = 5000, length = under10, plain = true,
                         unconfirmed = { length = true, plain = true } },
  -- Turing wraps Tingwu (INFERENCE); Tingwu vocabulary limits: docs/subtitles.md#hotwords-turing.
  -- None of them is documented for Turing itself.
  turing = { label = "Turing/Tingwu phrase list", max = 300, weight = { -6, 5, 2, true }, length = upto10,
             plain = true, unconfirmed = { max = true, weight = true, length = true, plain = true } },
}

-- The rule set for a provider/model, or nil + why hotwords cannot be used there.
local function rules_for(provider, model)
  if provider == "dashscope" then
    model = model or "paraformer-v2"
    if model:find("^sensevoice") then
      return nil, "dashscope " .. model .. " does not support hotwords (定制热词：不支持, docs/subtitles.md#hotword-limits)"
    end
    if model:find("^qwen") then return RULES.dashscope_context, "context" end
    if model:find("^paraformer") and model:find("%-v1$") then
      return nil, "dashscope " .. model .. " takes a phrase_id (v1 hot-word list); use paraformer-v2 or fun-asr"
    end
    if model:find("^paraformer") or model:find("^fun%-asr") then return RULES.dashscope_vocabulary, "vocabulary" end
    return nil, "dashscope model " .. model .. " has no known hotword form"
  end
  local r = RULES[provider]
  if not r then return nil, "no hotword rules for provider " .. tostring(provider) end
  return r, "list"
end

--- Does this provider/model take hotwords as a DashScope vocabulary (vocabulary_id)?
function M.needs_vocabulary(provider, model)
  local _, how = rules_for(provider, model)
  return how == "vocabulary"
end

---------------------------------------------------------------------------- normalization

-- docs/subtitles.md#hotword-normalization: trim; collapse whitespace runs to one space; drop
-- zero-width characters; reject empty.
local function normalize_word(s)
  s = tostring(s)
  s = s:gsub("\226\128[\139-\141]", ""):gsub("\239\187\191", "")   -- U+200B..200D, U+FEFF
  s = s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  return s
end

-- Dedupe key: Latin text (pure ASCII) is case-insensitive, CJK and other scripts exact
-- (docs/subtitles.md#hotword-normalization).
local function dedupe_key(word)
  if word:find("[\128-\255]") then return word end
  return word:lower()
end

local Hotwords = {}
Hotwords.__index = Hotwords

-- Build from entries { word =, weight =, lang = } (already parsed). Duplicates keep the first
-- position and the highest weight given.
local function from_entries(entries)
  local self = setmetatable({ entries = {} }, Hotwords)
  local seen = {}
  for _, e in ipairs(entries) do
    local word = normalize_word(e.word or "")
    if word ~= "" then
      local k = dedupe_key(word)
      local weight = e.weight ~= nil and tonumber(e.weight) or nil
      if e.weight ~= nil and weight == nil then weight = e.weight end        -- kept for validate()
      local prev = seen[k]
      if prev then
        if type(weight) == "number" and (type(prev.weight) ~= "number" or weight > prev.weight) then
          prev.weight = weight
        end
      else
        local entry = { word = word, weight = weight, lang = e.lang ~= "" and e.lang or nil }
        seen[k] = entry
        self.entries[#self.entries + 1] = entry
      end
    end
  end
  return self
end

--- stt.hotwords.new(list): list items are strings or { word = (or text =), weight =, lang = };
-- a map { word = weight } works too.
function M.new(list)
  if getmetatable(list) == Hotwords then return list end
  if type(list) ~= "table" then error("hotwords.new: table expected", 2) end
  local entries = {}
  if #list == 0 and next(list) ~= nil then
    local keys = {}
    for k in pairs(list) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)                                   -- deterministic order for a map
    for _, k in ipairs(keys) do entries[#entries + 1] = { word = k, weight = list[k] } end
  else
    for i, v in ipairs(list) do
      if type(v) == "string" then
        entries[#entries + 1] = { word = v }
      elseif type(v) == "table" then
        entries[#entries + 1] = { word = v.word or v.text, weight = v.weight, lang = v.lang }
      else
        error(("hotwords.new: item %d must be a string or a table"):format(i), 2)
      end
    end
  end
  return from_entries(entries)
end

-- RFC 4180 fields of one CSV line.
local function csv_fields(line)
  local fields, pos, n = {}, 1, #line
  while pos <= n + 1 do
    if line:sub(pos, pos) == '"' then
      local buf, i = {}, pos + 1
      while i <= n do
        local c = line:sub(i, i)
        if c == '"' then
          if line:sub(i + 1, i + 1) == '"' then buf[#buf + 1] = '"'; i = i + 2
          else i = i + 1; break end
        else
          buf[#buf + 1] = c
          i = i + 1
        end
      end
      fields[#fields + 1] = table.concat(buf)
      local comma = line:find(",", i, true)
      if not comma then break end
      pos = comma + 1
    else
      local comma = line:find(",", pos, true)
      fields[#fields + 1] = line:sub(pos, (comma or n + 1) - 1)
      if not comma then break end
      pos = comma + 1
    end
  end
  return fields
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Text forms (docs/subtitles.md#hotword-normalization): one per line, `word`, `word|weight`
-- (Volcengine console syntax), `word<TAB>weight`, `#` comments, BOM and CRLF tolerated; or CSV
-- `word,weight[,lang]` with an optional header row naming the columns (word/text, weight, lang).
local function parse_text(s)
  s = s:gsub("^\239\187\191", ""):gsub("\r\n?", "\n")
  local lines = {}
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do
    local t = trim(line)
    if t ~= "" and t:sub(1, 1) ~= "#" then lines[#lines + 1] = t end
  end
  local entries = {}
  local first = lines[1] and csv_fields(lines[1]) or {}
  local csv = false
  local col = { word = 1, weight = 2, lang = 3 }
  if #first >= 2 and not lines[1]:find("|", 1, true) and not lines[1]:find("\t", 1, true) then
    local header = false
    for i, f in ipairs(first) do
      local name = trim(f):lower()
      if name == "word" or name == "text" or name == "hotword" then col.word, header = i, true
      elseif name == "weight" then col.weight, header = i, true
      elseif name == "lang" or name == "language" then col.lang, header = i, true end
    end
    csv = header or tonumber(trim(first[2])) ~= nil
    if header then table.remove(lines, 1) end
  end
  for _, line in ipairs(lines) do
    if csv then
      local f = csv_fields(line)
      local w = f[col.weight] and trim(f[col.weight]) or ""
      entries[#entries + 1] = { word = f[col.word] or "", weight = w ~= "" and (tonumber(w) or w) or nil,
                                lang = f[col.lang] and trim(f[col.lang]) or nil }
    else
      local word, weight = line:match("^(.-)%s*[|\t]%s*([^|\t]*)$")
      if not word then word = line end
      weight = weight and trim(weight) or ""
      entries[#entries + 1] = { word = word, weight = weight ~= "" and (tonumber(weight) or weight) or nil }
    end
  end
  return entries
end

--- stt.hotwords.load(table | text | path): a table as new(); a string naming a readable file
-- (no line break in it) is read; any other string is the list itself.
function M.load(src)
  if type(src) == "table" then return M.new(src) end
  if type(src) ~= "string" then error("hotwords.load: table, text or path expected", 2) end
  if not src:find("\n", 1, true) then
    local f = io.open(src, "rb")
    if f then
      local s = f:read("*a")
      f:close()
      if s then return from_entries(parse_text(s)) end   -- nil when src is a directory
    end
  end
  return from_entries(parse_text(src))
end

--- Anything submit{hotwords=} accepts -> a Hotwords object.
function M.from(v)
  if getmetatable(v) == Hotwords then return v end
  return M.load(v)
end

function Hotwords:__len() return #self.entries end
function Hotwords:count() return #self.entries end

--- The entries as plain tables { word, weight?, lang? } (copies).
function Hotwords:list()
  local out = {}
  for i, e in ipairs(self.entries) do out[i] = { word = e.word, weight = e.weight, lang = e.lang } end
  return out
end

---------------------------------------------------------------------------- validation

-- Letters (any script), digits and spaces; apostrophes and hyphens inside Latin words are kept
-- out too (Volcengine/Tingwu: no punctuation except space, docs/subtitles.md#hotword-limits).
local function has_punctuation(w)
  return w:find("[%p]") ~= nil or w:find("\227\128[\129-\130]") ~= nil or w:find("\239\188[\129-\191]") ~= nil
end

--- hw:validate(provider [, model]) -> true [, warnings] | nil, problems
-- Each problem names the word and the rule.
function Hotwords:validate(provider, model)
  local problems, warnings = {}, {}
  local r, how = rules_for(provider, model)
  if not r then return nil, { how } end
  local soft = r.unconfirmed or {}
  -- A broken rule: a problem when the limit is confirmed, a warning when it is not.
  local function broken(rule, msg)
    if soft[rule] then
      warnings[#warnings + 1] = msg .. " (an UNCONFIRMED limit: sent anyway)"
    else
      problems[#problems + 1] = msg
    end
  end
  local where = provider .. (model and (" " .. model) or "")
  if #self.entries == 0 then problems[#problems + 1] = "the hotword list is empty" end
  if r.max and #self.entries > r.max then
    broken("max", ("count: %d hotwords; %s (%s) allows at most %d"):format(#self.entries, r.label, where, r.max))
  end
  if r.max_chars then
    local n = 0
    for _, e in ipairs(self.entries) do n = n + ulen(e.word) + 1 end
    if n > r.max_chars then
      broken("max_chars", ("length: the hotwords make %d characters of context; %s allows about %d")
        :format(n, r.label, r.max_chars))
    end
  end
  for _, e in ipairs(self.entries) do
    local w = e.word
    if w:find("[%z\1-\31\127]") then
      problems[#problems + 1] = ("%q: characters: control characters are not allowed"):format(w)
    end
    if r.length then
      local msg = r.length(w)
      if msg then broken("length", ("%q: length: %s (%s)"):format(w, msg, r.label)) end
    end
    if r.plain and has_punctuation(w) then
      broken("plain", ("%q: characters: %s allows no punctuation (letters, digits and spaces only)")
        :format(w, r.label))
    end
    if r.plain and w:find("[\228-\233]") and w:find("%d") then
      warnings[#warnings + 1] = ("%q: digits in a Chinese hotword should be written as Chinese numerals"):format(w)
    end
    if e.weight ~= nil then
      local wt = r.weight
      if wt then
        local v = e.weight
        if type(v) ~= "number" then
          problems[#problems + 1] = ("%q: weight: %s is not a number"):format(w, tostring(v))
        elseif (wt[4] and v ~= math.floor(v)) or v < wt[1] or v > wt[2] then
          broken("weight", ("%q: weight: %s is not an integer in [%d, %d] (%s)")
            :format(w, tostring(v), wt[1], wt[2], r.label))
        end
      elseif type(e.weight) ~= "number" then
        problems[#problems + 1] = ("%q: weight: %s is not a number"):format(w, tostring(e.weight))
      end
    end
    if e.lang ~= nil and (type(e.lang) ~= "string" or not e.lang:match("^%a[%a%-]*$")) then
      problems[#problems + 1] = ("%q: lang: %s is not a language code"):format(w, tostring(e.lang))
    end
  end
  if #problems > 0 then return nil, problems end
  return true, #warnings > 0 and warnings or nil
end

-- The list for the schemas: { {word=, weight=, lang=}, ... } with the provider's default weight
-- filled in where the wire form has weights (DashScope 4, Tingwu 2:
-- docs/subtitles.md#hotword-normalization).
function Hotwords:wire_list(provider, model)
  local r = rules_for(provider, model)
  local out = {}
  for i, e in ipairs(self.entries) do
    local weight = e.weight
    if r and r.weight and weight == nil then weight = r.weight[3] end
    if r and not r.weight then weight = nil end
    out[i] = { word = e.word, weight = weight, lang = e.lang }
  end
  return out
end

local function invalid(provider, problems, op)
  return errors.new({ kind = "invalid", retryable = false,
    message = "hotwords: " .. table.concat(problems, "; ") }, { provider = provider, op = op or "hotwords" })
end
M.invalid = invalid

--- hw:encode(provider [, model]) -> value, field [, warnings] | nil, err
-- What goes on the wire, from the provider's schema (core.build(provider, "hotwords", ...)):
-- Volcengine the corpus.context JSON string, Turing phrase_set, DashScope qwen corpus.text,
-- DashScope paraformer/fun-asr the vocabulary entries (field "vocabulary").
function Hotwords:encode(provider, model)
  local ok, problems = self:validate(provider, model)
  if not ok then return nil, invalid(provider, problems) end
  local out, err = core.build(provider, "hotwords", { model = model, hotwords = self:wire_list(provider, model) })
  if not out then return nil, errors.new(err, { provider = provider, op = "hotwords" }) end
  return out.value, out.field, problems          -- problems: the warnings of validate, if any
end

---------------------------------------------------------------------------- content hash

-- Two polynomial hashes mod primes below 2^25: exact in doubles on Lua 5.4 and LuaJIT alike.
local function hash36(s, n)
  local h1, h2 = 7, 11
  for i = 1, #s do
    local b = s:byte(i)
    h1 = (h1 * 257 + b) % 33554393
    h2 = (h2 * 263 + b) % 33554383
  end
  local v = (h1 * 33554432 + h2) % (36 ^ n)
  local digits, out = "0123456789abcdefghijklmnopqrstuvwxyz", {}
  for i = n, 1, -1 do
    local d = v % 36
    out[i] = digits:sub(d + 1, d + 1)
    v = (v - d) / 36
  end
  return table.concat(out)
end

--- The vocabulary prefix for this list and target model: "h" + 8 base-36 digits of a content hash.
-- DashScope prefixes are lower-case letters and digits, fewer than 10
-- (docs/subtitles.md#hotwords-dashscope), and come back in the vocabulary id (vocab-<prefix>-...),
-- so list_vocabulary{prefix} finds the vocabulary of the same list again, even from another process.
function Hotwords:prefix(model)
  local parts = { tostring(model) }
  for _, e in ipairs(self:wire_list("dashscope", model)) do
    parts[#parts + 1] = e.word .. "\0" .. tostring(e.weight) .. "\0" .. tostring(e.lang or "")
  end
  return "h" .. hash36(table.concat(parts, "\1"), 8)
end

---------------------------------------------------------------------------- DashScope vocabulary entries

-- Entries as the vocabulary API wants them: [{text, weight, lang?}]
-- (docs/subtitles.md#hotwords-dashscope), validated for the target model. (The schema's
-- "hotwords" op gives the same array; this path needs only the vocabulary schema,
-- csrc/providers/dashscope_vocabulary.c.)
function Hotwords:vocabulary(model)
  local ok, problems = self:validate("dashscope", model)
  if not ok then return nil, invalid("dashscope", problems) end
  local out = {}
  for i, e in ipairs(self:wire_list("dashscope", model)) do
    out[i] = { text = e.word, weight = e.weight, lang = e.lang }
  end
  return out
end

M.Hotwords = Hotwords
return M
