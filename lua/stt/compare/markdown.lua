--- stt.compare.markdown: report.md of `stt compare`, a page to paste into a ticket.
--
--   M.render(report) -> string
--     The Markdown text of a compare report (the table report.json holds): title and time, what
--     the error rate counts (and, for unit "mixed", that CJK text is scored by character and
--     other scripts by word), the configurations ranked by error rate, the error rate of every
--     file under every configuration ("failed: <kind>", "unscored", "undefined (empty
--     reference)"), and notes on failed jobs and unscored files. Unknown figures are left blank.
--   M.check(report) -> report
--     Raises an error naming the first field of `report` that does not have the expected shape
--     (a programming mistake of the caller, not bad input); both report writers call it.
--   M.format
--     The cell formatters both writers share, so report.md and report.html show the same
--     figures: rate(0.0833) -> "8.3 %", duration(61000) -> "1 min 01 s", rtf(0.12) -> "0.12",
--     cost(0.0043, "USD") -> "0.0043 USD", count(84) -> "84", cell(file) -> the per-file table's
--     text, ranked(report) -> the configurations in rank order (unranked ones last, in
--     command-line order), notes(report) -> the failed jobs and unscored files the notes list.
--
-- Pure: no I/O, no globals; Lua 5.1 / LuaJIT / 5.4.
local M = {}

local format, concat, floor, type, ipairs, tostring = string.format, table.concat, math.floor, type, ipairs, tostring

---------------------------------------------------------------- shape

local STATES = { scored = true, unscored = true, failed = true, undefined = true }

local function fail(path, what) error("compare report: " .. path .. " " .. what, 3) end

local function want(v, kind, path, optional)
  if v == nil and optional then return end
  if type(v) ~= kind then fail(path, "must be a " .. kind .. " (got " .. type(v) .. ")") end
end

function M.check(report)
  want(report, "table", "report")
  want(report.created, "string", "report.created")
  want(report.tool, "string", "report.tool", true)
  want(report.version, "string", "report.version", true)
  want(report.unit, "string", "report.unit", true)
  want(report.currency, "string", "report.currency", true)
  want(report.normalize, "table", "report.normalize", true)
  want(report.inputs, "table", "report.inputs")
  want(report.configs, "table", "report.configs")
  local names = {}
  for i, inp in ipairs(report.inputs) do
    local p = "report.inputs[" .. i .. "]"
    want(inp, "table", p)
    want(inp.name, "string", p .. ".name")
    want(inp.reason, "string", p .. ".reason", true)
    want(inp.ref_units, "number", p .. ".ref_units", true)
    names[inp.name] = true
  end
  for i, c in ipairs(report.configs) do
    local p = "report.configs[" .. i .. "]"
    want(c, "table", p)
    want(c.id, "string", p .. ".id")
    want(c.rank, "number", p .. ".rank", true)
    want(c.summary, "table", p .. ".summary")
    local s = c.summary
    for _, k in ipairs({ "rate", "errors", "substitutions", "deletions", "insertions", "ref_units", "rtf",
                         "audio_ms", "billed_ms", "cost", "files", "scored", "unscored", "failed" }) do
      want(s[k], "number", p .. ".summary." .. k, true)
    end
    want(s.wall_ms, "table", p .. ".summary.wall_ms", true)
    want(c.files, "table", p .. ".files")
    for j, f in ipairs(c.files) do
      local q = p .. ".files[" .. j .. "]"
      want(f, "table", q)
      want(f.input, "string", q .. ".input")
      if not names[f.input] then fail(q .. ".input", "names no input (" .. f.input .. ")") end
      if not STATES[f.state] then fail(q .. ".state", "must be scored, unscored, failed or undefined") end
      if f.state == "failed" then
        want(f.error, "table", q .. ".error")
        want(f.error.kind, "string", q .. ".error.kind")
      end
      want(f.hypothesis, "string", q .. ".hypothesis", true)
      want(f.alignment, "table", q .. ".alignment", true)
      for k, a in ipairs(f.alignment or {}) do
        local r = q .. ".alignment[" .. k .. "]"
        want(a, "table", r)
        if a.op ~= "=" and a.op ~= "S" and a.op ~= "D" and a.op ~= "I" then fail(r .. ".op", "must be =, S, D or I") end
        want(a.ref, "string", r .. ".ref", a.op == "I")
        want(a.hyp, "string", r .. ".hyp", a.op == "D")
      end
    end
  end
  return report
end

---------------------------------------------------------------- cells

local F = {}
M.format = F

local function round(x) return floor(x + 0.5) end

function F.count(n)
  if type(n) ~= "number" then return "" end
  return format("%d", round(n))
end

function F.rate(r)
  if type(r) ~= "number" then return "" end
  return format("%.1f %%", r * 100)
end

function F.duration(ms)
  if type(ms) ~= "number" then return "" end
  local s = ms / 1000
  if s < 60 then return format("%.1f s", s) end
  local t = round(s)
  if t < 3600 then return format("%d min %02d s", floor(t / 60), t % 60) end
  return format("%d h %02d min", floor(t / 3600), floor(t % 3600 / 60))
end

function F.rtf(x)
  if type(x) ~= "number" then return "" end
  if x ~= 0 and x < 0.01 then return format("%.3f", x) end
  return format("%.2f", x)
end

function F.cost(x, currency)
  if type(x) ~= "number" then return "" end
  local s = x >= 1 and format("%.2f", x) or format("%.4f", x)
  if currency then s = s .. " " .. currency end
  return s
end

--- "scored / failed / unscored" of a summary.
function F.files(s)
  return F.count(s.scored or 0) .. " / " .. F.count(s.failed or 0) .. " / " .. F.count(s.unscored or 0)
end

function F.sdi(s)
  if type(s.substitutions) ~= "number" then return "" end
  return F.count(s.substitutions) .. " / " .. F.count(s.deletions or 0) .. " / " .. F.count(s.insertions or 0)
end

--- The text of one file's cell in the per-file table.
function F.cell(f)
  if not f then return "" end
  if f.state == "failed" then return "failed: " .. f.error.kind end
  if f.state == "unscored" then return "unscored" end
  if f.state == "undefined" then return "undefined (empty reference)" end
  return F.rate(f.rate)
end

--- The configurations in rank order; the unranked ones (nothing scored) after them, in the
-- order they were given.
function F.ranked(report)
  local out = {}
  for i, c in ipairs(report.configs) do out[i] = { c = c, i = i } end
  table.sort(out, function(a, b)
    local ra, rb = a.c.rank, b.c.rank
    if ra and rb then
      if ra ~= rb then return ra < rb end
      return a.i < b.i
    end
    if ra or rb then return ra ~= nil end
    return a.i < b.i
  end)
  for i, x in ipairs(out) do out[i] = x.c end
  return out
end

--- The files of a configuration by input name.
function F.by_input(c)
  local t = {}
  for _, f in ipairs(c.files) do t[f.input] = f end
  return t
end

function F.unit_note(unit)
  if unit == "mixed" then
    return "mixed: CJK text (Han, kana, Hangul) is scored character by character, other scripts word by word"
  elseif unit == "char" then
    return "characters"
  elseif unit == "word" then
    return "words"
  end
  return unit and tostring(unit) or "not known (nothing was scored)"
end

function F.normalize_note(n)
  if type(n) ~= "table" then return nil end
  local parts = {}
  if n.numerals == "arabic" then parts[#parts + 1] = "Chinese numerals read as Arabic digits"
  elseif n.numerals then parts[#parts + 1] = "numerals: " .. tostring(n.numerals)
  else parts[#parts + 1] = "numerals compared as written" end
  local r = n.replacements
  if type(r) == "number" then
    parts[#parts + 1] = F.count(r) .. (r == 1 and " replacement rule" or " replacement rules")
  end
  return concat(parts, "; ")
end

--- What the notes list, as text: failed = { "<config> × <input>: <kind> — <message> (not
-- retryable)" ... } in command-line order, unscored = { { name = input, why = "..." } ... }: the
-- inputs without a usable reference, then the single jobs left unscored for another reason.
function F.notes(report)
  local failed, unscored = {}, {}
  local has_reason = {}
  for _, c in ipairs(report.configs) do
    for _, f in ipairs(c.files) do
      if f.state == "failed" then
        local e = f.error
        failed[#failed + 1] = c.id .. " × " .. f.input .. ": " .. e.kind
          .. (e.message and (" — " .. tostring(e.message)) or "")
          .. (e.retryable == true and " (retryable)" or e.retryable == false and " (not retryable)" or "")
      end
    end
  end
  for _, inp in ipairs(report.inputs) do
    if inp.reason then
      has_reason[inp.name] = true
      local why = inp.reason
      if (inp.ref_units == 0 or why == "empty reference") and not why:find("undefined", 1, true) then
        why = why .. ": error rate undefined"
      end
      unscored[#unscored + 1] = { name = inp.name, why = why }
    end
  end
  for _, c in ipairs(report.configs) do
    for _, f in ipairs(c.files) do
      if (f.state == "unscored" or f.state == "undefined") and not has_reason[f.input] then
        unscored[#unscored + 1] = { name = f.input .. " × " .. c.id, why = f.reason or f.state }
      end
    end
  end
  return { failed = failed, unscored = unscored }
end

---------------------------------------------------------------- markdown

-- Text for a table cell or a list item: one line, with the characters that would end a cell or
-- start markup escaped.
local function esc(s)
  s = tostring(s):gsub("[\r\n\t]+", " ")
  return (s:gsub("[\\|`*<>%[%]]", "\\%0"))
end

local function row(cells)
  return "| " .. concat(cells, " | ") .. " |"
end

local function rule(aligns)
  local t = {}
  for i, a in ipairs(aligns) do t[i] = a == "r" and "---:" or "---" end
  return row(t)
end

function M.render(report)
  M.check(report)
  local out = {}
  local function add(s) out[#out + 1] = s end
  local cur = report.currency
  local ranked = F.ranked(report)

  add("# Speech-to-text comparison")
  add("")
  add(esc(format("%s %s, %s: %d inputs through %d configurations.", report.tool or "lua-stt",
    report.version or "", report.created, #report.inputs, #report.configs)):gsub("  +", " "))
  add("")
  add("- Error rate = (substitutions + deletions + insertions) / reference units, over the scored files.")
  add("- Units: " .. esc(F.unit_note(report.unit)) .. ".")
  local nn = F.normalize_note(report.normalize)
  if nn then add("- Normalization: " .. esc(nn) .. ".") end
  add("- A failed job is reported as failed, not scored; blank cells are figures the provider or the price table did "
    .. "not give.")
  add("")

  add("## Ranking")
  add("")
  add(row({ "Rank", "Configuration", "Error rate", "S / D / I", "Ref units", "Scored / failed / unscored",
            "Median wall time", "Median RTF", "Audio", "Billed", "Cost" }))
  add(rule({ "r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r" }))
  for _, c in ipairs(ranked) do
    local s = c.summary
    local w = s.wall_ms
    add(row({ c.rank and F.count(c.rank) or "–", esc(c.id), F.rate(s.rate), F.sdi(s), F.count(s.ref_units),
              F.files(s), F.duration(w and w.median), F.rtf(s.rtf), F.duration(s.audio_ms),
              F.duration(s.billed_ms), esc(F.cost(s.cost, cur)) }))
  end
  add("")

  add("## Error rate per file")
  add("")
  local head, aligns = { "File", "Ref units" }, { "l", "r" }
  for _, c in ipairs(ranked) do
    head[#head + 1] = esc((c.rank and ("#" .. F.count(c.rank) .. " ") or "") .. c.id)
    aligns[#aligns + 1] = "r"
  end
  add(row(head))
  add(rule(aligns))
  local maps = {}
  for i, c in ipairs(ranked) do maps[i] = F.by_input(c) end
  for _, inp in ipairs(report.inputs) do
    local cells = { esc(inp.name), F.count(inp.ref_units) }
    for i in ipairs(ranked) do cells[#cells + 1] = esc(F.cell(maps[i][inp.name])) end
    add(row(cells))
  end
  add("")

  local notes = F.notes(report)
  local failed, unscored = {}, {}
  for i, l in ipairs(notes.failed) do failed[i] = "- " .. esc(l) end
  for i, u in ipairs(notes.unscored) do unscored[i] = "- " .. esc(u.name) .. ": " .. esc(u.why) end
  if #failed > 0 or #unscored > 0 then
    add("## Notes")
    add("")
    if #failed > 0 then
      add("Failed jobs (not counted in the error rates):")
      add("")
      for _, l in ipairs(failed) do add(l) end
      add("")
    end
    if #unscored > 0 then
      add("Files not scored (transcribed, timed and priced, but without an error rate):")
      add("")
      for _, l in ipairs(unscored) do add(l) end
      add("")
    end
  end
  return concat(out, "\n")
end

return M
