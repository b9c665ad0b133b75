--- The capability table: which normalized options each provider and model honours, and how.
-- It comes from the wire schemas' own option tables (core.capabilities()), the same rows that
-- build() maps or refuses options with, so the table and the behaviour cannot disagree.
-- capabilities.markdown() renders the README's provider table (`make readme` rewrites it).
local core = require "stt.core"

local M = {}

--- { [provider] = { default_model =, models = { [model] = { batch_max =, options = {
--    [option] = "<wire field(s)>" | false } } }, env = { [client option] = "VARIABLE" },
--    credentials = { { option, ... }, ... }, rate = { submit =, query =, documented = },
--    client_ids = bool } }: a fresh copy each call (stt.providers()).
function M.table() return core.capabilities() end

-- The same, built once: for the library's own lookups, which never change it.
local cached
function M.get()
  if not cached then cached = core.capabilities() end
  return cached
end

-- Every job option some provider knows (the rows of the capability table).
local job_options
function M.job_options()
  if not job_options then
    job_options = {}
    for _, p in pairs(M.get()) do
      for _, m in pairs(p.models) do
        for name in pairs(m.options) do job_options[name] = true end
      end
    end
  end
  return job_options
end

-- Providers in registry order; models with the default first, then by name.
local function providers(caps)
  local out = {}
  for _, name in ipairs(core.providers()) do
    if caps[name] then out[#out + 1] = name end
  end
  return out
end

local function models(p)
  local out = {}
  for name in pairs(p.models) do
    if name ~= p.default_model then out[#out + 1] = name end
  end
  table.sort(out)
  table.insert(out, 1, p.default_model)
  return out
end

-- Options in a stable order: the order of the first model's table is hash order, so sort.
local function option_names(opts)
  local out = {}
  for name in pairs(opts) do out[#out + 1] = name end
  table.sort(out)
  return out
end

local function honoured(opts)
  local out = {}
  for _, name in ipairs(option_names(opts)) do
    if opts[name] then out[#out + 1] = "`" .. name .. "`" end
  end
  return table.concat(out, ", ")
end

local function cell(s) return (tostring(s):gsub("|", "\\|")) end

--- Markdown: one summary table (provider, model, files per task, options honoured), then per
-- provider the wire field each option maps to for its default model. Deterministic output.
function M.markdown()
  local caps = M.table()
  local lines = {
    "| provider | model | files per task | options honoured (anything else is refused as `unsupported`) |",
    "|---|---|---|---|",
  }
  for _, pname in ipairs(providers(caps)) do
    local p = caps[pname]
    for _, mname in ipairs(models(p)) do
      local m = p.models[mname]
      lines[#lines + 1] = ("| `%s` | `%s`%s | %d | %s |"):format(pname, mname,
        mname == p.default_model and " (default)" or "", m.batch_max, honoured(m.options))
    end
  end
  for _, pname in ipairs(providers(caps)) do
    local p = caps[pname]
    local opts = p.models[p.default_model].options
    lines[#lines + 1] = ""
    lines[#lines + 1] = ("`%s` (model `%s`): option → wire field"):format(pname, p.default_model)
    lines[#lines + 1] = ""
    lines[#lines + 1] = "| option | wire field |"
    lines[#lines + 1] = "|---|---|"
    for _, name in ipairs(option_names(opts)) do
      if opts[name] then lines[#lines + 1] = ("| `%s` | %s |"):format(name, cell(opts[name])) end
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

local BEGIN = "<!-- providers:begin -->"
local END = "<!-- providers:end -->"

--- The text between the README markers (nil when they are missing).
function M.readme_block(text)
  local s = text:find(BEGIN, 1, true)
  local e = text:find(END, 1, true)
  if not s or not e or e < s then return nil end
  return text:sub(s + #BEGIN + 1, e - 1)
end

--- Returns text with the block between the markers replaced by markdown() (nil, msg when the
-- markers are missing).
function M.update_readme(text)
  local s = text:find(BEGIN, 1, true)
  local e = text:find(END, 1, true)
  if not s or not e or e < s then return nil, "README: markers " .. BEGIN .. " / " .. END .. " not found" end
  return text:sub(1, s + #BEGIN - 1) .. "\n" .. M.markdown() .. text:sub(e)
end

--- Rewrites the provider table of the README at path (only when it changed). true | nil, msg
function M.write_readme(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("*a")
  f:close()
  local out, msg = M.update_readme(text)
  if not out then return nil, msg end
  if out == text then return true end
  f, err = io.open(path, "wb")
  if not f then return nil, err end
  f:write(out)
  f:close()
  return true
end

return M
