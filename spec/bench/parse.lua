-- Bench 4: parse + normalize + SRT export of a 2-hour, 20,000-word paraformer result file:
-- the C core (stt.parse + stt.subtitle.srt) against pure Lua (dkjson + a plain Lua normalization
-- written here + the same SRT writer). Needs no simulator.
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;" .. package.path
local stt = require "stt"
local core = require "stt.core"
local ok_dk, dkjson = pcall(require, "dkjson")
if not ok_dk then print("Bench 4 skipped: dkjson not found (Debian package lua-dkjson)"); return end

local WORDS, HOURS, RUNS = 20000, 2, tonumber(os.getenv("BENCH_RUNS") or 5)

-- A paraformer-v2 result file shaped like the simulator's (and docs/providers.md#dashscope-result-file): one channel,
-- sentences of 5..15 words with word timings, speaker ids (diarization), punctuation.
local function make_body()
  local vocab = { "the", "quarterly", "results", "show", "growth", "in", "every", "region", "and", "we",
    "expect", "this", "to", "continue", "next", "year", "because", "customers", "like", "product" }
  local seed = 12345
  -- Park-Miller: products stay below 2^53, so Lua 5.4 and LuaJIT draw the same numbers.
  local function rnd(n) seed = (seed * 16807) % 2147483647; return seed % n end
  local total_ms = HOURS * 3600 * 1000
  local per_word = math.floor(total_ms / WORDS)
  local sentences, texts, w, t, sid = {}, {}, 0, 0, 0
  while w < WORDS do
    local n = math.min(5 + rnd(11), WORDS - w)
    local words, parts = {}, {}
    local s_begin = t
    for k = 1, n do
      local text = vocab[1 + rnd(#vocab)]
      local punct = k == n and "." or (rnd(8) == 0 and "," or "")
      words[k] = { begin_time = t, end_time = t + per_word - 40, text = text .. (k == n and "" or " "),
                   punctuation = punct }
      parts[k] = text .. punct
      t = t + per_word
    end
    w = w + n
    sid = sid + 1
    local text = table.concat(parts, " ")
    sentences[sid] = { begin_time = s_begin, end_time = t - 40, text = text, sentence_id = sid,
                       speaker_id = sid % 3, words = words }
    texts[sid] = text
  end
  return core.json_encode({ file_url = "https://example.com/talk.wav",
    properties = { audio_format = "pcm_s16le", channels = { 0 }, original_sampling_rate = 16000,
                   original_duration_in_milliseconds = total_ms },
    transcripts = { { channel_id = 0, content_duration_in_milliseconds = total_ms,
                      text = table.concat(texts, " "), sentences = sentences } } }), sid
end

-- The straightforward pure-Lua normalization (the same Result shape the C schema produces).
local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end
local function lua_normalize(body)
  local doc = assert(dkjson.decode(body))
  local segs, texts = {}, {}
  for _, tr in ipairs(doc.transcripts or {}) do
    for _, s in ipairs(tr.sentences or {}) do
      local words = {}
      for i, w in ipairs(s.words or {}) do
        words[i] = { start_ms = w.begin_time, end_ms = w.end_time, text = trim(w.text) .. (w.punctuation or "") }
      end
      segs[#segs + 1] = { id = #segs, start_ms = s.begin_time, end_ms = s.end_time, text = s.text,
                          speaker = s.speaker_id, channel = tr.channel_id, words = words }
    end
    texts[#texts + 1] = tr.text
  end
  return { provider = "dashscope", model = "paraformer-v2", text = table.concat(texts, "\n"), segments = segs,
           duration_ms = doc.properties and doc.properties.original_duration_in_milliseconds, raw = doc }
end

local body, nsent = make_body()
if os.getenv("BENCH_DUMP") then io.open("/tmp/bench/big.json", "w"):write(body) end
local function c_path() return stt.subtitle.srt(assert(stt.parse("dashscope", body, { kind = "result" }))) end
local function lua_path() return stt.subtitle.srt(lua_normalize(body)) end
local function lua_parse_only() return lua_normalize(body) end
local function c_parse_only() return assert(stt.parse("dashscope", body, { kind = "result" })) end

local function time(fn) return require("common_table").time(fn, RUNS) end

local srt_c, srt_lua = c_path(), lua_path()
if os.getenv("BENCH_DUMP") then io.open("/tmp/srt_c", "w"):write(srt_c); io.open("/tmp/srt_lua", "w"):write(srt_lua) end
local same = srt_c == srt_lua
local tc, tl = time(c_path), time(lua_path)
local pc, pl = time(c_parse_only), time(lua_parse_only)
local B = require "common_table"
B.table(("Bench 4: %.1f MB paraformer result, %d words, %d sentences, %d h (CPU s, median of %d)")
    :format(#body / 1e6, WORDS, nsent, HOURS, RUNS),
  { "path", "parse+normalize s", "+ SRT export s", "speed-up" },
  { { "lua-stt C core (stt.parse)", ("%.3f"):format(pc), ("%.3f"):format(tc), ("%.1fx"):format(tl / tc) },
    { "pure Lua (" .. tostring(dkjson.version) .. " + Lua normalize)", ("%.3f"):format(pl), ("%.3f"):format(tl),
      "1.0x" } })
print(("  parse+normalize alone: %.1fx; SRT outputs identical: %s (goal: >= 5x end to end)")
  :format(pl / pc, tostring(same)))
