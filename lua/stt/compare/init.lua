--- stt.compare: the same inputs through several configurations (provider, model, options),
-- scored against reference transcripts, with wall time, real-time factor and cost.
--   local report, err = stt.compare.run{
--     configs = { "dashscope:paraformer-v2", "dashscope:sensevoice-v1", "volcengine-auc{speakers=2}" },
--     inputs = { { name = "talk_1", url = "https://..." }, { name = "talk_2", file = "talk_2.mp3" } },
--     references = "refs/" (DIR/<name>.txt) | { talk_1 = "text", ... },
--     prices = { currency = "USD", ["dashscope/paraformer-v2"] = 0.288, ... },   -- per hour
--   }
--   stt.compare.markdown(report), stt.compare.html(report), stt.compare.json(report)
-- Every configuration, reference and price is checked before anything is submitted; then every
-- (configuration, input) pair runs concurrently inside one stt.run, each provider's client
-- keeping its rate limits; a failed job is reported as failed, never scored.
local stt = require "stt"
local config = require "stt.compare.config"
local options = require "stt.options"
local errors = require "stt.errors"

local M = {}

M.parse_config = config.parse

--- report.md text (stt.compare.markdown module).
function M.markdown(report) return require("stt.compare.markdown").render(report) end
--- report.html text: one self-contained page (stt.compare.html module).
function M.html(report) return require("stt.compare.html").render(report) end
--- report.json text (keys sorted: the same report gives the same bytes).
function M.json(report) return stt.json_encode(report) end

local function invalid(fmt, ...)
  return nil, errors.new({ kind = "invalid", retryable = false, message = (fmt):format(...) })
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local CLIENT_OPTION = {}
for _, o in ipairs(options.CLIENT) do CLIENT_OPTION[o[1]] = true end

-- A configuration checked against the capability table: known provider and model, and options
-- the model takes (through c:check, which names the option and why it is refused).
local function check_config(cfg, clients, client_opts)
  local providers = stt.providers()
  local info = providers[cfg.provider]
  if not info then
    return invalid("configuration %q: unknown provider %q (known: %s)", cfg.id, cfg.provider,
      table.concat(sorted_keys(providers), ", "))
  end
  cfg.model = cfg.model or info.default_model
  if not info.models[cfg.model] then
    return invalid("configuration %q: unknown model %q of %s (known: %s)", cfg.id, cfg.model, cfg.provider,
      table.concat(sorted_keys(info.models), ", "))
  end
  local copts, jopts = {}, {}
  for k, v in pairs(client_opts[cfg.provider] or {}) do copts[k] = v end
  local own = false
  for k, v in pairs(cfg.options) do
    if CLIENT_OPTION[k] then copts[k] = v; own = true else jopts[k] = v end
  end
  -- configurations of one provider share a client (one rate budget, as the account has), unless
  -- they set client options of their own
  local key = cfg.provider .. (own and ("\0" .. stt.json_encode(copts)) or "")
  local c = clients[key]
  if not c then
    local ok, made = pcall(stt.client, cfg.provider, copts)
    if not ok then
      return invalid("configuration %q: %s", cfg.id, type(made) == "table" and made.message or tostring(made))
    end
    c = made
    clients[key] = c
  end
  local probe = { url = "https://example.com/audio.wav", model = cfg.model }
  for k, v in pairs(jopts) do probe[k] = v end
  local ok, err = c:check(probe)
  if not ok then return invalid("configuration %q: %s", cfg.id, err and err.message or "refused") end
  cfg.client, cfg.job_options = c, jopts
  return cfg
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The reference of each input: { text =, path = } or { reason = } (unscored); nil, err for
-- a reference that is not UTF-8 (refused before anything runs).
local function load_references(refs, inputs)
  local out = {}
  for _, inp in ipairs(inputs) do
    local text, path
    if type(refs) == "string" then
      path = refs:gsub("/+$", "") .. "/" .. inp.name .. ".txt"
      text = read_file(path)
    elseif type(refs) == "table" then
      text = refs[inp.name]
    end
    if text == nil then
      out[inp.name] = { reason = path and ("no reference file " .. path) or "no reference text", path = path }
    else
      local ok, err = stt.score.normalize(text, { what = "reference " .. (path or inp.name) })
      if not ok then return nil, err end
      out[inp.name] = { text = text, path = path }
    end
  end
  return out
end

-- Price per hour of a configuration: "provider/model", "provider:model", then "provider".
local function price_of(prices, cfg)
  if not prices then return nil end
  return prices[cfg.provider .. "/" .. cfg.model] or prices[cfg.provider .. ":" .. cfg.model] or prices[cfg.provider]
end

local function check_prices(prices)
  if prices == nil then return true end
  if type(prices) ~= "table" then return invalid("prices: a table of price per hour by provider/model expected") end
  for k, v in pairs(prices) do
    if k == "currency" then
      if type(v) ~= "string" then return invalid("prices: currency must be text, e.g. \"USD\"") end
    elseif type(v) ~= "number" or v < 0 then
      return invalid("prices: %s must be a price per hour (a number >= 0), not %s", tostring(k), tostring(v))
    end
  end
  return true
end

local function median(list)
  if #list == 0 then return nil end
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

local function round(x, digits)
  if x == nil then return nil end
  local m = 10 ^ (digits or 6)
  return math.floor(x * m + 0.5) / m
end

-- One job's record in the report.
local function file_record(inp, ref, out, price, sopts)
  local rec = { input = inp.name }
  if out.error then
    local e = out.error
    rec.state = "failed"
    rec.error = { kind = e.kind, message = e.message, retryable = e.retryable, status = e.status,
                  code = e.code, request_id = e.request_id }
    rec.wall_ms = out.wall_ms
    return rec
  end
  local res = out.result
  rec.hypothesis = res.text or ""
  rec.wall_ms = out.wall_ms
  rec.task_id = res.task_id
  local usage = type(res.usage) == "table" and res.usage or {}
  rec.audio_ms = tonumber(usage.audio_ms) or tonumber(res.duration_ms)
  rec.billed_ms = tonumber(usage.billed_ms)
  if rec.audio_ms and rec.audio_ms > 0 then rec.rtf = round(rec.wall_ms / rec.audio_ms, 4) end
  if price then
    local basis = rec.billed_ms or rec.audio_ms
    if basis then
      rec.cost = round(basis / 3600000 * price, 6)
      rec.cost_basis = rec.billed_ms and "billed" or "audio"
    end
  end
  if not ref.text then
    rec.state, rec.reason = "unscored", ref.reason
    return rec
  end
  local s, err = stt.score(rec.hypothesis, ref.text, sopts)
  if not s then                               -- the provider's text is not UTF-8
    rec.state, rec.reason = "unscored", err.message
    return rec
  end
  rec.unit, rec.ref_units = s.unit, s.ref_units
  rec.errors, rec.substitutions, rec.deletions, rec.insertions = s.errors, s.substitutions, s.deletions, s.insertions
  rec.alignment = s.alignment
  if not s.rate then
    rec.state, rec.reason = "undefined", "empty reference: the error rate is undefined"
  else
    rec.state, rec.rate = "scored", round(s.rate, 6)
  end
  return rec
end

local function summarize(files)
  local sm = { files = #files, scored = 0, unscored = 0, failed = 0, errors = 0, substitutions = 0,
               deletions = 0, insertions = 0, ref_units = 0 }
  local walls, rtfs = {}, {}
  local audio, billed, cost
  for _, f in ipairs(files) do
    if f.state == "failed" then sm.failed = sm.failed + 1
    elseif f.state == "scored" then
      sm.scored = sm.scored + 1
      for _, k in ipairs({ "errors", "substitutions", "deletions", "insertions", "ref_units" }) do
        sm[k] = sm[k] + f[k]
      end
    else
      sm.unscored = sm.unscored + 1
    end
    if f.state ~= "failed" then
      walls[#walls + 1] = f.wall_ms
      if f.rtf then rtfs[#rtfs + 1] = f.rtf end
      if f.audio_ms then audio = (audio or 0) + f.audio_ms end
      if f.billed_ms then billed = (billed or 0) + f.billed_ms end
      if f.cost then cost = (cost or 0) + f.cost end
    end
  end
  if sm.scored > 0 and sm.ref_units > 0 then sm.rate = round(sm.errors / sm.ref_units, 6) end
  if #walls > 0 then
    local mx = 0
    for _, w in ipairs(walls) do if w > mx then mx = w end end
    sm.wall_ms = { median = math.floor(median(walls) + 0.5), max = mx }
  end
  sm.rtf = rtfs[1] and round(median(rtfs), 4)
  sm.audio_ms, sm.billed_ms, sm.cost = audio, billed, cost and round(cost, 6)
  return sm
end

--- stt.compare.run(spec) -> report, or nil, err (nothing submitted) for a bad configuration,
-- reference or price table. spec: configs (strings or parsed), inputs ({ name, url | file }),
-- references (a folder of <name>.txt or a table name -> text), prices, unit ("auto"),
-- numerals, replacements (stt.score options), clients ({ [provider] = client options }),
-- concurrency (16 jobs at once in all), timeout (per job, seconds), created (the report's
-- timestamp; default now, UTC), on_event (function(ev): ev.type "done" | "failed", ev.config,
-- ev.input, ev.wall_ms, ev.error).
function M.run(spec)
  if type(spec) ~= "table" then error("stt.compare.run: a table expected", 2) end
  if type(spec.configs) ~= "table" or #spec.configs == 0 then
    error("stt.compare.run: configs must be a non-empty list", 2)
  end
  if type(spec.inputs) ~= "table" or #spec.inputs == 0 then
    error("stt.compare.run: inputs must be a non-empty list", 2)
  end
  local names = {}
  for i, inp in ipairs(spec.inputs) do
    if type(inp) ~= "table" or type(inp.name) ~= "string"
      or (type(inp.url) ~= "string") == (type(inp.file) ~= "string") then
      error(("stt.compare.run: inputs[%d] must be { name =, url = } or { name =, file = }"):format(i), 2)
    end
    if names[inp.name] then error(("stt.compare.run: input name %q given twice"):format(inp.name), 2) end
    names[inp.name] = true
  end
  local ok, err = check_prices(spec.prices)
  if not ok then return nil, err end
  local reps
  if spec.replacements then
    reps, err = stt.score.replacements(spec.replacements, { numerals = spec.numerals })
    if not reps then return nil, err end
  end
  local sopts = { unit = spec.unit or "auto", numerals = spec.numerals, replacements = reps }
  local refs
  refs, err = load_references(spec.references, spec.inputs)
  if not refs then return nil, err end

  local clients, configs, seen = {}, {}, {}
  local function close_all() for _, c in pairs(clients) do c:close() end end
  for i, c in ipairs(spec.configs) do
    local cfg = c
    if type(c) == "string" then
      cfg, err = config.parse(c)
      if not cfg then close_all(); return nil, err end
    elseif type(c) ~= "table" or type(c.provider) ~= "string" then
      close_all()
      error(("stt.compare.run: configs[%d] must be a string or a parsed configuration"):format(i), 2)
    else
      cfg = { provider = c.provider, model = c.model, options = c.options or {} }
      cfg.id = config.id(cfg.provider, cfg.model, cfg.options)
    end
    cfg, err = check_config(cfg, clients, spec.clients or {})
    if not cfg then close_all(); return nil, err end
    cfg.id = config.id(cfg.provider, cfg.model, cfg.options)
    if seen[cfg.id] then close_all(); return invalid("configuration %q given twice", cfg.id) end
    seen[cfg.id] = true
    configs[i] = cfg
  end

  -- every (input, configuration) pair, inputs outermost so that every provider starts at once
  local cells = {}
  for _, inp in ipairs(spec.inputs) do
    for ci, cfg in ipairs(configs) do cells[#cells + 1] = { cfg = cfg, ci = ci, inp = inp } end
  end
  local outs = {}
  local wait = spec.timeout and { timeout = spec.timeout } or nil
  stt.batch.pool(#cells, spec.concurrency or 16, function(i)
    local cell = cells[i]
    local job = { model = cell.cfg.model }
    for k, v in pairs(cell.cfg.job_options) do job[k] = v end
    if cell.inp.url then job.url = cell.inp.url else job.file = cell.inp.file end
    local t0 = stt.now()
    local res, jerr = cell.cfg.client:transcribe(job, wait)
    local wall = math.floor((stt.now() - t0) * 1000 + 0.5)
    outs[i] = { result = res, wall_ms = wall,
                error = not res and (jerr or errors.new({ kind = "protocol", message = "no result" })) or nil }
    if spec.on_event then
      spec.on_event({ type = res and "done" or "failed", config = cell.cfg.id, input = cell.inp.name,
                      wall_ms = wall, error = outs[i].error })
    end
  end)
  close_all()

  local report = {
    tool = "lua-stt", version = stt._VERSION,
    created = spec.created or os.date("!%Y-%m-%dT%H:%M:%SZ"),
    normalize = { numerals = spec.numerals or false, replacements = reps and #reps or 0 },
    currency = spec.prices and spec.prices.currency or nil,
    inputs = {}, configs = {},
  }
  for _, inp in ipairs(spec.inputs) do
    local r = refs[inp.name]
    local entry = { name = inp.name, source = inp.url or inp.file, reference = r.path, reason = r.reason }
    if r.text then
      local s = stt.score(r.text, r.text, { unit = sopts.unit, numerals = sopts.numerals,
        replacements = reps, alignment = false })
      entry.ref_units = s.ref_units
      if s.ref_units == 0 then entry.reason = "empty reference" end
    end
    report.inputs[#report.inputs + 1] = entry
  end
  local units = {}
  for ci, cfg in ipairs(configs) do
    local files = {}
    local price = price_of(spec.prices, cfg)
    for ii, inp in ipairs(spec.inputs) do
      local out = outs[(ii - 1) * #configs + ci]
      files[ii] = file_record(inp, refs[inp.name], out, price, sopts)
      if files[ii].unit then units[files[ii].unit] = true end
    end
    report.configs[ci] = { id = cfg.id, provider = cfg.provider, model = cfg.model, options = cfg.options,
                           summary = summarize(files), files = files }
  end
  -- the unit over all files: the one kind they had, "mixed" for several (CJK by character and
  -- other scripts by word), the unit asked for when nothing was scored
  local ulist = sorted_keys(units)
  if #ulist == 1 then report.unit = ulist[1]
  elseif #ulist > 1 then report.unit = "mixed"
  else report.unit = sopts.unit == "auto" and "mixed" or sopts.unit end
  -- rank: lowest pooled error rate first, then the lower median wall time; unscored ones unranked
  local ranked = {}
  for _, c in ipairs(report.configs) do if c.summary.rate then ranked[#ranked + 1] = c end end
  table.sort(ranked, function(a, b)
    if a.summary.rate ~= b.summary.rate then return a.summary.rate < b.summary.rate end
    local wa = a.summary.wall_ms and a.summary.wall_ms.median or 0
    local wb = b.summary.wall_ms and b.summary.wall_ms.median or 0
    if wa ~= wb then return wa < wb end
    return a.id < b.id
  end)
  for r, c in ipairs(ranked) do c.rank = r end
  return report
end

return M
