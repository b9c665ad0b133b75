-- Reference text -> timed sentences and words (the "recognition" the simulator pretends to do).
--
-- build(text, duration_ms, override) -> {
--   language = "en",
--   content_ms = <sum of sentence durations>,
--   sentences = { { text, begin_time, end_time, speaker?, emotion?, events?,
--                   words = { { begin_time, end_time, text, punctuation } } } }
-- }
-- Sentences end at . ! ? (before a space or the end) and at 。！？; words are whitespace-
-- separated for Latin script and one per character for CJK. Punctuation is attached to the
-- word before it, like DashScope does ("Hello " + "", "world" + ", "). Times are integer ms,
-- spread over the audio in proportion to character counts, with small gaps between sentences.
-- `override` (the optional <name>.json beside the media) may give language and per-sentence
-- text / speaker / emotion / events / begin_time / end_time.
local M = {}

local CHAR = "[%z\1-\127\194-\244][\128-\191]*"

local function codepoint(c)
  local b1, b2, b3, b4 = c:byte(1, 4)
  if b1 < 0x80 then return b1 end
  if b1 < 0xE0 then return (b1 % 0x20) * 0x40 + (b2 or 0x80) % 0x40 end
  if b1 < 0xF0 then return ((b1 % 0x10) * 0x40 + (b2 or 0x80) % 0x40) * 0x40 + (b3 or 0x80) % 0x40 end
  return (((b1 % 0x08) * 0x40 + (b2 or 0x80) % 0x40) * 0x40 + (b3 or 0x80) % 0x40) * 0x40 + (b4 or 0x80) % 0x40
end

local SPACE = { [" "] = true, ["\t"] = true, ["\n"] = true, ["\r"] = true, ["\u{3000}"] = true }
local TERMINAL_ASCII = { ["."] = true, ["!"] = true, ["?"] = true }
local TERMINAL_CJK = { ["。"] = true, ["！"] = true, ["？"] = true }
local PUNCT = {
  [","] = true, ["."] = true, ["!"] = true, ["?"] = true, [";"] = true, [":"] = true,
  ["，"] = true, ["。"] = true, ["！"] = true, ["？"] = true, ["；"] = true, ["："] = true,
  ["、"] = true, ["…"] = true,
}

local function is_cjk(cp)
  return (cp >= 0x4E00 and cp <= 0x9FFF) or (cp >= 0x3400 and cp <= 0x4DBF)
      or (cp >= 0x3040 and cp <= 0x30FF) or (cp >= 0xF900 and cp <= 0xFAFF)
      or (cp >= 0x20000 and cp <= 0x2FFFF)
end

local function chars(s)
  local out = {}
  for c in s:gmatch(CHAR) do out[#out + 1] = c end
  return out
end

local function trim(s)
  return (s:gsub("^[%s]+", ""):gsub("[%s]+$", ""))
end

-- Number of characters that count for timing (everything but whitespace).
local function weight(s)
  local n = 0
  for c in s:gmatch(CHAR) do
    if not SPACE[c] then n = n + 1 end
  end
  return n
end

function M.detect_language(text)
  local han, kana, hangul = false, false, false
  for c in text:gmatch(CHAR) do
    local cp = codepoint(c)
    if cp >= 0x3040 and cp <= 0x30FF then kana = true
    elseif cp >= 0xAC00 and cp <= 0xD7AF then hangul = true
    elseif is_cjk(cp) then han = true end
  end
  if kana then return "ja" end
  if hangul then return "ko" end
  if han then return "zh" end
  return "en"
end

function M.split_sentences(text)
  local cs = chars(text)
  local out, cur = {}, {}
  local function flush()
    local s = trim(table.concat(cur))
    if s ~= "" then out[#out + 1] = s end
    cur = {}
  end
  local i = 1
  while i <= #cs do
    local c = cs[i]
    cur[#cur + 1] = c
    if TERMINAL_CJK[c] or TERMINAL_ASCII[c] then
      -- take following terminal marks ("?!", "...", "！？")
      while cs[i + 1] and (TERMINAL_CJK[cs[i + 1]] or TERMINAL_ASCII[cs[i + 1]]) do
        i = i + 1
        cur[#cur + 1] = cs[i]
      end
      if TERMINAL_CJK[c] or cs[i + 1] == nil or SPACE[cs[i + 1]] then flush() end
    end
    i = i + 1
  end
  flush()
  return out
end

-- Words of a sentence: { { text =, punct =, space_after = } }.
local function tokenize(sentence)
  local cs = chars(sentence)
  local tokens, word = {}, {}
  local function flush_word()
    if #word > 0 then
      tokens[#tokens + 1] = { text = table.concat(word), punct = "", space_after = false }
      word = {}
    end
  end
  for i, c in ipairs(cs) do
    local cp = codepoint(c)
    local next_c = cs[i + 1]
    if SPACE[c] then
      flush_word()
      if tokens[#tokens] then tokens[#tokens].space_after = true end
    elseif PUNCT[c] and not ((c == "." or c == ",") and #word > 0 and next_c and next_c:match("^%d$")) then
      flush_word()
      local last = tokens[#tokens]
      if last then last.punct = last.punct .. c end
    elseif is_cjk(cp) then
      flush_word()
      tokens[#tokens + 1] = { text = c, punct = "", space_after = false }
    else
      word[#word + 1] = c
    end
  end
  flush_word()
  return tokens
end

-- Spread [b, e] over items by weight; returns { {b, e}, ... } with integer bounds.
local function spread(b, e, weights, gap)
  gap = gap or 0
  local n = #weights
  local total = 0
  for _, w in ipairs(weights) do total = total + w end
  if total == 0 then total = n; for i = 1, n do weights[i] = 1 end end
  local avail = (e - b) - gap * (n - 1)
  if avail < n then gap, avail = 0, e - b end
  local out, cum = {}, 0
  for i, w in ipairs(weights) do
    local sb = b + math.floor(avail * cum / total) + gap * (i - 1)
    cum = cum + w
    local se = b + math.floor(avail * cum / total) + gap * (i - 1)
    out[i] = { sb, se }
  end
  return out
end

local function timed_words(tokens, b, e)
  local weights = {}
  for i, t in ipairs(tokens) do weights[i] = math.max(1, weight(t.text)) end
  local spans = spread(b, e, weights, 0)
  local words = {}
  for i, t in ipairs(tokens) do
    local text, punct = t.text, t.punct
    if t.space_after and i < #tokens then
      if punct == "" then text = text .. " " else punct = punct .. " " end
    end
    words[i] = { begin_time = spans[i][1], end_time = spans[i][2], text = text, punctuation = punct }
  end
  return words
end

-- Sentence list from the reference text and the optional override's sentences.
local function sentence_list(text, override)
  local osents = type(override) == "table" and type(override.sentences) == "table" and override.sentences or {}
  local all_text = #osents > 0
  for _, s in ipairs(osents) do
    if type(s) ~= "table" or type(s.text) ~= "string" then all_text = false end
  end
  local list = {}
  if all_text then
    for i, s in ipairs(osents) do list[i] = { text = trim(s.text), extra = s } end
  else
    for i, s in ipairs(M.split_sentences(text or "")) do
      list[i] = { text = s, extra = type(osents[i]) == "table" and osents[i] or {} }
    end
  end
  local kept = {}
  for _, s in ipairs(list) do
    if s.text ~= "" then kept[#kept + 1] = s end
  end
  return kept
end

function M.build(text, duration_ms, override)
  duration_ms = math.max(0, math.floor(duration_ms or 0))
  local list = sentence_list(text, override)
  local texts = {}
  for i, s in ipairs(list) do texts[i] = s.text end
  local language = type(override) == "table" and type(override.language) == "string" and override.language
    or M.detect_language(table.concat(texts, " "))
  local result = { language = language, sentences = {}, content_ms = 0 }
  if #list == 0 then return result end

  local margin = math.min(200, math.floor(duration_ms * 0.02))
  local gap = #list > 1 and math.min(300, math.floor(duration_ms * 0.05 / (#list - 1))) or 0
  local weights = {}
  for i, s in ipairs(list) do weights[i] = math.max(1, weight(s.text)) end
  local spans = spread(margin, math.max(margin, duration_ms - margin), weights, gap)

  for i, s in ipairs(list) do
    local b, e = spans[i][1], spans[i][2]
    local x = s.extra
    if tonumber(x.begin_time) and tonumber(x.end_time) then
      b, e = math.floor(tonumber(x.begin_time)), math.floor(tonumber(x.end_time))
    end
    local events = nil
    if type(x.events) == "table" and #x.events > 0 then events = x.events end
    result.sentences[i] = {
      text = s.text,
      begin_time = b,
      end_time = e,
      speaker = tonumber(x.speaker),
      emotion = type(x.emotion) == "string" and x.emotion or nil,
      events = events,
      language = type(x.language) == "string" and x.language or language,
      words = timed_words(tokenize(s.text), b, e),
    }
    result.content_ms = result.content_ms + (e - b)
  end
  return result
end

return M
