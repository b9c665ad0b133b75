-- For the subtitle specs: long generated English, Mandarin, Japanese and mixed Results with word
-- timings and speakers, the same under Lua 5.4 and LuaJIT; and what ffmpeg reads of a file.
local H = require "helper"

local G = {}

local CHAR = "[%z\1-\127\194-\244][\128-\191]*"
G.CHAR = CHAR

-- A Park-Miller generator: exact in doubles, so Lua 5.4 and LuaJIT produce the same transcripts.
function G.rng(seed)
  local x = seed
  return function(a, b)
    x = (x * 16807) % 2147483647
    return a + x % (b - a + 1)
  end
end

function G.chars(s)
  local t = {}
  for ch in s:gmatch(CHAR) do t[#t + 1] = ch end
  return t
end

local EN = {}
for w in ([[the quick brown fox jumps over a lazy dog while we talk about speech recognition systems
  and how subtitles should be cut into readable pieces for every viewer who watches television
  programmes at home or on the train with headphones because timing matters more than anything else
  in broadcast quality captions that follow the rhythm of natural conversation between people sharing
  ideas about technology science music history travel food weather sports]]):gmatch("%a+") do
  EN[#EN + 1] = w
end
local ZH = G.chars("我们今天讨论语音识别系统以及字幕应该如何切分成适合阅读的片段让每一位观众都能在家里"
  .. "或者火车上舒服地观看节目时间比任何事情都重要广播质量的字幕要跟随自然对话的节奏")
local JA = G.chars("わたしたちはきょう音声認識のしくみと字幕のくぎりかたについて話します視聴者がいえや"
  .. "でんしゃで快適に番組を見られるようにタイミングがとても大切です")

-- One sentence as a segment with word timings (DashScope style: punctuation in `punct`).
-- English words last ~60 ms a letter; Mandarin ~4 characters/s; Japanese ~7 characters/s.
function G.sentence(r, kind, t, speaker, language)
  local words, s0 = {}, t
  local n = kind == "en" and r(4, 22) or r(6, 30)
  for i = 1, n do
    local text, dur
    if kind == "en" then
      text = EN[r(1, #EN)]
      dur = 60 * #text + r(40, 120)
    elseif kind == "zh" then
      text, dur = ZH[r(1, #ZH)], r(180, 300)
    else
      text, dur = JA[r(1, #JA)], r(110, 170)
    end
    -- Now and then a Latin brand name inside CJK speech (one "word", never to be split).
    if kind ~= "en" and r(1, 25) == 1 then text, dur = "Python", 450 end
    local w = { start_ms = t, end_ms = t + dur, text = text }
    t = t + dur
    if i == n then
      w.punct = kind == "en" and (r(1, 4) == 1 and "?" or ".") or "。"
    elseif r(1, 6) == 1 then
      w.punct = kind == "en" and "," or (kind == "zh" and "，" or "、")
      t = t + r(150, 600)
    else
      t = t + (kind == "en" and r(0, 60) or r(0, 20))
    end
    words[#words + 1] = w
  end
  local parts = {}
  for i, w in ipairs(words) do
    parts[#parts + 1] = w.text .. (w.punct or "")
    if kind == "en" and i < #words then parts[#parts + 1] = " " end
  end
  return { start_ms = s0, end_ms = words[#words].end_ms, text = table.concat(parts), words = words,
           speaker = speaker, language = language }, t
end

-- A transcript of n sentences; `kinds` cycles; speakers change now and then.
function G.transcript(seed, kinds, n, opts)
  opts = opts or {}
  local r = G.rng(seed)
  local segs, t, speaker = {}, r(0, 2000), "0"
  for i = 1, n do
    local kind = kinds[(i - 1) % #kinds + 1]
    if opts.speakers and r(1, 3) == 1 then speaker = speaker == "0" and "1" or "0" end
    local seg
    seg, t = G.sentence(r, kind, t, opts.speakers and speaker or nil, opts.tag_language and kind or nil)
    segs[#segs + 1] = seg
    t = t + (r(1, 5) == 1 and r(1200, 4000) or r(150, 900))
  end
  return { language = opts.language, segments = segs }
end

G.EN, G.ZH, G.JA = EN, ZH, JA

local function ms_of(h, m, s, f) return ((tonumber(h) * 60 + tonumber(m)) * 60 + tonumber(s)) * 1000 + tonumber(f) end
G.ms_of = ms_of

--- ffmpeg re-serializes a subtitle file as SRT: the cues it read { start_ms, end_ms, text } (empty
-- ones, LRC's clear marks, dropped), and its output.
function G.ffmpeg_cues(path)
  local rc, out = H.run("ffmpeg -v error -i " .. H.sh_quote(path) .. " -f srt -")
  assert(rc == 0, out)
  local cues = {}
  for block in (out .. "\n\n"):gmatch("(.-)\n\n+") do
    local a1, a2, a3, a4, b1, b2, b3, b4, text =
      block:match("^%d+\n(%d+):(%d%d):(%d%d),(%d%d%d) %-%-> (%d+):(%d%d):(%d%d),(%d%d%d)\n?(.*)$")
    if a1 and text ~= "" then
      cues[#cues + 1] = { start_ms = ms_of(a1, a2, a3, a4), end_ms = ms_of(b1, b2, b3, b4), text = text }
    end
  end
  return cues, out
end

function G.have(cmd) return H.run("command -v " .. cmd) == 0 end

return G
