-- Bench 8: scoring a 2-hour transcript against its reference: stt.score (normalize in Lua, align
-- in C) against a plain Lua dynamic programme (spec/score_dp.lua: two rows, O(n m)). The peer
-- runs on a tenth of each text (n m / 100 cells) and on the same tenth stt.score runs too, so the
-- like-for-like speed-up is measured directly; the peer's 2-hour time is that time x 100 (its
-- cost is exactly proportional to n m). Needs no simulator.
package.path = "lua/?.lua;lua/?/init.lua;spec/bench/?.lua;./?.lua;" .. package.path
local stt = require "stt"
local dp = require "spec.score_dp"
local u8 = require("stt.score.normalize").utf8_char

local RUNS = tonumber(os.getenv("BENCH_RUNS") or 5)
local CHARS, WORDS, ERR = 40000, 20000, 0.08

local seed = 4242
-- Park-Miller: products stay below 2^53, so Lua 5.4 and LuaJIT draw the same numbers.
local function rnd(n) seed = (seed * 16807) % 2147483647; return seed % n end

-- A reference of n units and a hypothesis with about ERR of them wrong (half substitutions, a
-- quarter deletions, a quarter insertions), punctuation every 12 units.
local function pair(n, unit, sep, punct)
  local ref, hyp = {}, {}
  for i = 1, n do
    local u = unit()
    ref[#ref + 1] = u
    local r = rnd(10000) / 10000
    if r < ERR / 2 then hyp[#hyp + 1] = unit()
    elseif r < ERR * 3 / 4 then -- luacheck: ignore 542 (a deletion)
    elseif r < ERR then hyp[#hyp + 1] = u; hyp[#hyp + 1] = unit()
    else hyp[#hyp + 1] = u end
    if i % 12 == 0 then ref[#ref + 1] = punct; hyp[#hyp + 1] = punct end
  end
  return table.concat(hyp, sep), table.concat(ref, sep)
end

local function han() return u8(0x4E00 + rnd(3000)) end
local VOCAB = {}
for i = 1, 2000 do
  local w = {}
  for k = 1, 3 + i % 6 do w[k] = string.char(97 + (i * 7 + k * 13) % 26) end
  VOCAB[i] = table.concat(w)
end
local function word() return VOCAB[1 + rnd(#VOCAB)] end

local time = require("common_table").time

-- The units the scorer compares, for the peer: the same normalization, cut the same way.
local function units_of(text, unit)
  local s = stt.score.normalize(text)
  local out = {}
  if unit == "char" then
    for c in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do if c ~= " " then out[#out + 1] = c end end
  else
    for w in s:gmatch("%S+") do out[#out + 1] = w end
  end
  return out
end

local rows, notes = {}, {}
for _, case in ipairs({
  { "Chinese, 40,000 characters (CER)", CHARS, han, "", "，", "char" },
  { "English, 20,000 words (WER)", WORDS, word, " ", ",", "word" },
}) do
  local name, n, unit, sep, punct, kind = case[1], case[2], case[3], case[4], case[5], case[6]
  local hyp, ref = pair(n, unit, sep, punct)
  local s = assert(stt.score(hyp, ref))
  local full = time(function() assert(stt.score(hyp, ref)) end, RUNS)
  local no_al = time(function() assert(stt.score(hyp, ref, { alignment = false })) end, RUNS)
  -- a tenth of each text, for the peer (and stt.score on the same tenth)
  local th, tr = pair(math.floor(n / 10), unit, sep, punct)
  local hu, ru = units_of(th, kind), units_of(tr, kind)
  local tenth_c = time(function() assert(stt.score(th, tr)) end, RUNS)
  local d
  local tenth_lua = time(function() d = dp.distance(ru, hu) end, 1)
  local st = assert(stt.score(th, tr))
  notes[#notes + 1] = ("  %s: %d errors in %d units (%.1f %%); the tenth: stt.score %d, Lua DP %d errors (%s)")
    :format(name, s.errors, s.ref_units, s.rate * 100, st.errors, d, st.errors == d and "equal" or "DIFFERENT")
  rows[#rows + 1] = { name, ("%.1f ms"):format(full * 1000), ("%.1f ms"):format(no_al * 1000),
    ("%.1f ms / %.0f ms"):format(tenth_c * 1000, tenth_lua * 1000), ("%.0fx"):format(tenth_lua / tenth_c),
    ("%.0f s"):format(tenth_lua * 100), ("%.0fx"):format(tenth_lua * 100 / full) }
end
local B = require "common_table"
B.table(("Bench 8: scoring a 2-hour transcript, %.0f %% errors (CPU, median of %d; %s)"):format(ERR * 100, RUNS,
  _VERSION .. (jit and (" " .. jit.version) or "")),
  { "pair", "stt.score", "no alignment", "a tenth: stt.score / Lua DP", "same size", "Lua DP 2 h (x100)",
    "2 h speed-up" }, rows)
for _, l in ipairs(notes) do print(l) end
print("  goal: a 2-hour pair in < 100 ms and >= 20x the plain Lua dynamic programme")
