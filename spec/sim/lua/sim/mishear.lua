-- Wrong on purpose: with config `mishear`, each provider and model "hears" a deterministic variant
-- of the reference text, with known substitutions, deletions and insertions, so that the error
-- rates `stt compare` reports can be checked exactly (spec/compare_spec.lua).
--
-- config.mishear = true           the built-in plans below
--                = { ["provider:model"] = plan, provider = plan, default = plan }   plans given
-- (providers as the simulator names them: dashscope, las, auc, turing; models as submitted, the
-- AUC model as its resource names it: bigasr, seedasr)
-- plan = { sub = { every, at }, del = { every, at }, fill = { every, at } }   (any part may be absent)
--
-- The text's units are numbered 1.. from its start: each CJK character (Han, kana, Hangul, as the
-- scorer's unit "auto" counts them) and each run of other characters between spaces and CJK
-- characters that holds a letter or digit (punctuation alone is no unit). Unit i is
--   deleted      when i % del.every == del.at;
--   substituted  when i % sub.every == sub.at and it is not deleted: a CJK unit by 错 (误 when it
--                is 错), another by "zork" (its punctuation kept);
--   followed by a filler ("嗯" after a CJK unit, "um" after another) when i % fill.every == fill.at,
--                neither unit i nor unit i + 1 is deleted (a filler beside a deletion would be
--                scored as one substitution), and the job did not ask for disfluency removal
--                (DashScope `disfluency_removal_enabled`, Volcengine `enable_ddc`).
local M = {}

M.PLANS = {
  ["dashscope:paraformer-v2"] = { sub = { 17, 5 }, del = { 23, 11 }, fill = { 19, 2 } },
  ["dashscope:sensevoice-v1"] = { sub = { 9, 4 }, del = { 13, 7 }, fill = { 29, 20 } },
  dashscope = { sub = { 13, 6 }, del = { 31, 15 }, fill = { 37, 10 } },
  auc = { sub = { 21, 8 }, del = { 41, 20 }, fill = { 43, 30 } },   -- Volcengine big-model (AUC)
  las = { sub = { 19, 9 }, del = { 37, 18 }, fill = { 41, 25 } },   -- Volcengine LAS
  turing = { sub = { 11, 3 }, del = { 17, 8 }, fill = { 23, 12 } },
}

local CHAR = "[%z\1-\127\194-\244][\128-\191]*"

local function codepoint(c)
  local b1, b2, b3, b4 = c:byte(1, 4)
  if b1 < 0x80 then return b1 end
  if b1 < 0xE0 then return (b1 % 0x20) * 0x40 + b2 % 0x40 end
  if b1 < 0xF0 then return ((b1 % 0x10) * 0x40 + b2 % 0x40) * 0x40 + b3 % 0x40 end
  return (((b1 % 0x08) * 0x40 + b2 % 0x40) * 0x40 + b3 % 0x40) * 0x40 + b4 % 0x40
end

local function is_cjk(c)
  local cp = codepoint(c)
  return (cp >= 0x3400 and cp <= 0x4DBF) or (cp >= 0x4E00 and cp <= 0x9FFF) or (cp >= 0xF900 and cp <= 0xFAFF)
    or (cp >= 0x20000 and cp <= 0x3134F) or (cp >= 0x3005 and cp <= 0x3007)
    or (cp >= 0x3040 and cp <= 0x30FF) or (cp >= 0x31F0 and cp <= 0x31FF) or (cp >= 0xFF66 and cp <= 0xFF9F)
    or (cp >= 0xAC00 and cp <= 0xD7AF) or (cp >= 0x1100 and cp <= 0x11FF) or (cp >= 0x3130 and cp <= 0x318F)
end

local function is_space(c) return c == " " or c == "\t" or c == "\n" or c == "\r" or c == "\u{3000}" end

-- Tokens of the text: { text, unit = true | nil, cjk = bool }; concatenated they give the text back.
local function tokens(text)
  local out, run = {}, {}
  local function flush()
    if #run == 0 then return end
    local s = table.concat(run)
    -- a run is a unit when it holds a letter or digit (ASCII or any non-punctuation character)
    local core = s:gsub("%p", ""):gsub("[\226][\128][\144-\191]", ""):gsub("[\227][\128][\128-\191]", "")
      :gsub("\239\188[\129-\191]", ""):gsub("\239\189[\128-\165]", "")
    out[#out + 1] = { text = s, unit = core ~= "" or nil, cjk = false }
    run = {}
  end
  for c in text:gmatch(CHAR) do
    if is_space(c) then flush(); out[#out + 1] = { text = c }
    elseif is_cjk(c) then flush(); out[#out + 1] = { text = c, unit = true, cjk = true }
    else run[#run + 1] = c end
  end
  flush()
  return out
end

local function hit(rule, i) return rule ~= nil and i % rule[1] == rule[2] end

--- The plan for a job, or nil when the simulator hears correctly.
function M.plan(cfg, voice)
  local m = cfg and cfg.mishear
  if not m or type(voice) ~= "table" then return nil end
  local plans = m == true and M.PLANS or m
  if type(plans) ~= "table" then return nil end
  return plans[(voice.provider or "") .. ":" .. (voice.model or "")] or plans[voice.provider or ""] or plans.default
end

--- The text the job "hears": `text` itself, or its variant under the job's plan.
-- voice = { provider =, model =, fillers_removed = bool }
function M.apply(text, cfg, voice)
  local plan = type(text) == "string" and M.plan(cfg, voice)
  if not plan then return text end
  local toks = tokens(text)
  local units = {}
  for _, t in ipairs(toks) do if t.unit then units[#units + 1] = t end end
  for i, t in ipairs(units) do t.i = i end
  local out = {}
  for _, t in ipairs(toks) do
    if not t.unit then
      out[#out + 1] = t.text
    else
      local i = t.i
      local deleted = hit(plan.del, i)
      if deleted then
        if not t.cjk then out[#out + 1] = t.text:gsub("[^%p]+", "") end   -- its punctuation stays
      elseif hit(plan.sub, i) then
        if t.cjk then out[#out + 1] = t.text == "错" and "误" or "错"
        else out[#out + 1] = t.text:gsub("^(%p*).-(%p*)$", "%1zork%2") end
      else
        out[#out + 1] = t.text
      end
      if hit(plan.fill, i) and not deleted and not hit(plan.del, i + 1) and not voice.fillers_removed then
        out[#out + 1] = t.cjk and "嗯" or " um"
      end
    end
  end
  return table.concat(out)
end

return M
