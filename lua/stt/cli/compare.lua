--- `stt score` (one transcript against its reference) and `stt compare` (configurations scored
-- on the same inputs, with a report in three formats). Public API only: stt.score, stt.compare.
local stt = require "stt"
local util = require "stt.cli.util"
local transcribe = require "stt.cli.transcribe"

local M = {}
local usage_error = util.usage_error

local function read(path, what)
  local f, err = io.open(path, "rb")
  if not f then usage_error("cannot read %s %s: %s", what, path, tostring(err)) end
  local s = f:read("*a")
  f:close()
  if not s then usage_error("cannot read %s %s", what, path) end
  return s
end

local UNITS = { auto = true, char = true, word = true }

-- --unit, --numerals, --normalize FILE -> stt.score options (replacements normalized once)
local function score_options(o)
  local unit = o.unit or "auto"
  if not UNITS[unit] then usage_error("--unit must be auto, char or word, not %q", unit) end
  if o.numerals and o.numerals ~= "arabic" then usage_error("--numerals takes arabic, not %q", o.numerals) end
  local reps
  if o.normalize then
    local err
    reps, err = stt.score.replacements(read(o.normalize, "replacements file"), { numerals = o.numerals })
    if not reps then usage_error("replacements file %s: %s", o.normalize, err.message) end
  end
  return { unit = unit, numerals = o.numerals, replacements = reps }
end

local function pct(x) return x and ("%.1f %%"):format(x * 100) or "undefined" end

local function plural(n, word) return n .. " " .. word .. (n == 1 and "" or "s") end

--- stt score HYP REF: prints the error rate (or the whole score as JSON); exit 0, or 1 when a
-- text cannot be scored (not UTF-8).
function M.score(o)
  if not o.hypothesis or not o.reference then usage_error("stt score takes HYP.txt and REF.txt") end
  local sopts = score_options(o)
  local hyp, ref = read(o.hypothesis, "hypothesis"), read(o.reference, "reference")
  sopts.alignment = o.alignment and true or false
  local s, err = stt.score(hyp, ref, sopts)
  if not s then
    io.stderr:write("stt: ", (err.message:gsub("^hypothesis", o.hypothesis):gsub("^reference", o.reference)), "\n")
    return 1
  end
  if o.json then
    io.stdout:write(stt.json_encode(s), "\n")
    return 0
  end
  local name = s.unit == "word" and "WER" or (s.unit == "char" and "CER" or "error rate (mixed)")
  io.stdout:write(("%s %s: %s, %s over %s\n"):format(name, o.hypothesis, pct(s.rate),
    ("%s (%s, %s, %s)"):format(plural(s.errors, "error"), plural(s.substitutions, "substitution"),
      plural(s.deletions, "deletion"), plural(s.insertions, "insertion")),
    plural(s.ref_units, s.unit == "word" and "reference word" or
      (s.unit == "char" and "reference character" or "reference unit"))))
  if s.undefined then io.stdout:write(s.undefined, "\n") end
  if o.alignment then
    local line = {}
    for _, a in ipairs(s.alignment) do
      if a.op == "=" then line[#line + 1] = a.ref
      elseif a.op == "S" then line[#line + 1] = "[" .. a.ref .. "→" .. a.hyp .. "]"
      elseif a.op == "D" then line[#line + 1] = "[-" .. a.ref .. "]"
      else line[#line + 1] = "[+" .. a.hyp .. "]" end
    end
    io.stdout:write(stt.score.join(line), "\n")
  end
  return 0
end

--- stt compare -c CONFIG ... --ref DIR -o REPORTDIR inputs: runs the matrix and writes
-- report.json, report.md and report.html. Exit 0 when every job finished, 1 when some failed.
function M.compare(o)
  local sopts = score_options(o)
  if not o.config or #o.config == 0 then
    usage_error("give at least one configuration with -c PROVIDER[:MODEL][{opt=value}]")
  end
  if not o.output then usage_error("give the report folder with -o DIR") end
  local configs, providers = {}, {}
  for _, spec in ipairs(o.config) do
    local cfg, err = stt.compare.parse_config(spec)
    if not cfg then usage_error("%s", err.message) end
    configs[#configs + 1] = cfg
    if not providers[cfg.provider] then
      providers[cfg.provider] = true
      transcribe.check_key(cfg.provider)      -- unknown provider or no key: refused here
    end
  end
  if o.ref and not util.is_dir(o.ref) then usage_error("--ref %s is not a folder", o.ref) end
  local prices
  if o.prices then
    local err
    prices, err = stt.json_decode(read(o.prices, "price table"))
    if type(prices) ~= "table" then usage_error("price table %s: %s", o.prices, err or "a JSON object expected") end
  end
  local concurrency = tonumber(o.concurrency or "16")
  if not concurrency or concurrency < 1 or concurrency % 1 ~= 0 then
    usage_error("--concurrency must be a positive integer")
  end
  local timeout = o.timeout and tonumber(o.timeout)
  if o.timeout and (not timeout or timeout <= 0) then usage_error("--timeout must be a positive number") end
  local inputs = transcribe.settings({}, o.inputs).inputs
  local names = util.unique_names(inputs)
  local list = {}
  for i, v in ipairs(inputs) do
    list[i] = { name = names[i] }
    if util.is_url(v) then list[i].url = v else list[i].file = v end
  end
  local total, done, failed = #list * #configs, 0, 0
  local report, err = stt.compare.run({
    configs = configs, inputs = list, references = o.ref and util.abspath(o.ref) or {}, prices = prices,
    unit = sopts.unit, numerals = sopts.numerals, replacements = sopts.replacements,
    concurrency = concurrency, timeout = timeout,
    on_event = function(ev)
      done = done + 1
      if ev.type == "failed" then failed = failed + 1 end
      if not o.quiet then
        io.stderr:write(("[%d/%d] %s %s: %s\n"):format(done, total, ev.config, ev.input,
          ev.type == "done" and ("%.1f s"):format(ev.wall_ms / 1000) or ("failed: " .. util.err_text(ev.error))))
      end
    end,
  })
  if not report then usage_error("%s", err.message) end
  util.mkdir_p(o.output)
  local dir = util.abspath(o.output)
  assert(util.write_atomic(dir .. "/report.json", stt.compare.json(report) .. "\n"))
  assert(util.write_atomic(dir .. "/report.md", stt.compare.markdown(report)))
  assert(util.write_atomic(dir .. "/report.html", stt.compare.html(report)))
  do                                          -- the ranking, always (the progress lines are what -q drops)
    local ranked = {}
    for _, c in ipairs(report.configs) do ranked[#ranked + 1] = c end
    table.sort(ranked, function(a, b) return (a.rank or math.huge) < (b.rank or math.huge) end)
    for _, c in ipairs(ranked) do
      local s = c.summary
      io.stdout:write(("%s  %-44s %9s  S %d D %d I %d  (%d scored, %d failed, %d unscored)\n"):format(
        c.rank and ("#" .. c.rank) or "--", c.id, pct(s.rate), s.substitutions, s.deletions, s.insertions,
        s.scored, s.failed, s.unscored))
    end
    io.stdout:write(("report: %s/report.html (and report.md, report.json)\n"):format((o.output:gsub("/+$", ""))))
  end
  return failed > 0 and 1 or 0
end

return M
