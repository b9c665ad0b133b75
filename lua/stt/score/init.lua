--- stt.score: how far a transcript is from a reference, as an error rate with its alignment.
--   local s = stt.score(hyp_text, ref_text, { unit = "auto" })
--   s = { rate, errors, substitutions, deletions, insertions, matches, ref_units, hyp_units,
--         unit = "char" | "word" | "mixed", alignment = { { op = "=" | "S" | "D" | "I", ref?, hyp? } } }
--   stt.score.normalize(text, opts) -> what the scorer compares
-- Both texts are normalized (stt.score.normalize, rules in docs/scoring.md), cut into units and
-- aligned by the least number of substitutions, deletions and insertions (Levenshtein), in C
-- (csrc/score.c). unit "auto" scores CJK text (Han, kana, Hangul) character by character and
-- other scripts word by word, in one alignment. rate = errors / ref_units; with an empty
-- reference it is undefined: rate = nil and `undefined` says why. Pure: no I/O.
local core = require "stt.core"
local norm = require "stt.score.normalize"

local M = {}

local UNITS = { auto = true, char = true, word = true }

local function check_opts(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("stt.score: options must be a table", 3) end
  for k in pairs(opts) do
    if k ~= "unit" and k ~= "numerals" and k ~= "replacements" and k ~= "alignment" and k ~= "normalize" then
      error(("stt.score: unknown option %q (unit, numerals, replacements, alignment, normalize)")
        :format(tostring(k)), 3)
    end
  end
  if opts.unit ~= nil and not UNITS[opts.unit] then
    error(("stt.score: unit must be \"auto\", \"char\" or \"word\", got %s"):format(tostring(opts.unit)), 3)
  end
  return opts
end

--- stt.score.normalize(text, opts) -> normalized text, or nil, err (invalid UTF-8, with the byte offset).
-- opts: numerals = "arabic" | false, replacements = { { from, to }, ... } or a replacements file's text.
function M.normalize(text, opts) return norm.normalize(text, opts) end

--- stt.score.replacements(list_or_text) -> a replacement list normalized once (to reuse over many
-- scores), or nil, err for a malformed file.
M.replacements = norm.replacements

--- stt.score.join(units) -> the units as display text (a space between them unless both are CJK).
M.join = norm.join

--- stt.score.score(hyp, ref, opts) (also stt.score(hyp, ref, opts)) -> the score table, or nil, err.
-- opts: unit = "auto" (default) | "char" | "word"; numerals, replacements (as normalize);
-- alignment = false leaves the alignment out (faster on long texts); normalize = false compares
-- the texts as given (whitespace still separates words).
function M.score(hyp, ref, opts)
  if type(hyp) ~= "string" or type(ref) ~= "string" then
    error("stt.score: hypothesis and reference must be strings", 2)
  end
  opts = check_opts(opts)
  local nopts = { numerals = opts.numerals, replacements = opts.replacements }
  local h, r, err
  if opts.normalize == false then
    h, err = norm.check(hyp, "hypothesis")
    if h then r, err = norm.check(ref, "reference") end
    if not (h and r) then return nil, err end
    h, r = hyp, ref
  else
    nopts.what = "hypothesis"
    h, err = norm.normalize(hyp, nopts)
    if not h then return nil, err end
    nopts.what = "reference"
    r, err = norm.normalize(ref, nopts)
    if not r then return nil, err end
  end
  local unit = opts.unit or "auto"
  local a = core.score_align(r, h, unit, opts.alignment ~= false)
  local out = {
    errors = a.substitutions + a.deletions + a.insertions,
    substitutions = a.substitutions, deletions = a.deletions, insertions = a.insertions,
    matches = a.matches, ref_units = a.ref_units, hyp_units = a.hyp_units,
    alignment = a.alignment,
  }
  if unit == "auto" then
    out.unit = (a.cjk_units > 0 and a.word_units > 0) and "mixed" or (a.cjk_units > 0 and "char" or "word")
  else
    out.unit = unit
  end
  if a.ref_units > 0 then
    out.rate = out.errors / a.ref_units
  else
    out.undefined = "the reference is empty: the error rate is undefined"
  end
  return out
end

return setmetatable(M, { __call = function(_, hyp, ref, opts) return M.score(hyp, ref, opts) end })
