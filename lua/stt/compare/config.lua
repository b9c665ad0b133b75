--- The configurations `stt compare` runs: "PROVIDER[:MODEL][{opt=value,...}]" -> a table. Pure.
--   parse("dashscope:paraformer-v2{speakers=2,disfluency=true}")
--   -> { id = "dashscope:paraformer-v2{disfluency=true,speakers=2}", provider = "dashscope",
--        model = "paraformer-v2", options = { speakers = 2, disfluency = true } }
-- Values are typed as stt.option_value types them (numbers, booleans, "quoted" text, lists in
-- brackets: {language_hints=[zh,en]}); a comma inside brackets or quotes does not end an option.
-- Whether the provider, model and options exist is checked by stt.compare.run (against the
-- capability table, through c:check) before anything is submitted.
local options = require "stt.options"
local errors = require "stt.errors"

local M = {}

local function invalid(spec, fmt, ...)
  return nil, errors.new({ kind = "invalid", retryable = false,
    message = ("configuration %q: " .. fmt):format(spec, ...) })
end

-- Split "a=1,b=[x,y],c='p,q'" at the commas outside brackets and quotes.
local function split_options(s)
  local out, depth, quote, start = {}, 0, nil, 1
  for i = 1, #s do
    local c = s:sub(i, i)
    if quote then
      if c == quote then quote = nil end
    elseif c == '"' or c == "'" then quote = c
    elseif c == "[" then depth = depth + 1
    elseif c == "]" then depth = depth - 1
    elseif c == "," and depth == 0 then
      out[#out + 1] = s:sub(start, i - 1)
      start = i + 1
    end
  end
  out[#out + 1] = s:sub(start)
  return out, depth ~= 0 or quote ~= nil
end

local function render_value(v)
  if type(v) == "table" then
    local t = {}
    for i, x in ipairs(v) do t[i] = render_value(x) end
    return "[" .. table.concat(t, ",") .. "]"
  end
  if type(v) == "string" and (tonumber(v) or v == "true" or v == "false" or v:find("[,%[%]{}=\"']")) then
    return '"' .. v .. '"'
  end
  return tostring(v)
end

--- The configuration's canonical name: options sorted by name.
function M.id(provider, model, opts)
  local keys = {}
  for k in pairs(opts or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = k .. "=" .. render_value(opts[k]) end
  return provider .. (model and (":" .. model) or "") .. (#parts > 0 and ("{" .. table.concat(parts, ",") .. "}") or "")
end

--- parse(spec) -> the configuration, or nil, err (kind "invalid") for a malformed one.
function M.parse(spec)
  if type(spec) ~= "string" then error("stt.compare.parse_config: a string expected", 2) end
  local head, body = spec:match("^%s*([^{]-)%s*{(.*)}%s*$")
  if not head then
    if spec:find("[{}]") then return invalid(spec, "options go in one {...} at the end") end
    head = spec:match("^%s*(.-)%s*$")
  end
  local provider, model = head:match("^([%w_.-]+):([%w_./-]+)$")
  if not provider then provider = head:match("^([%w_.-]+)$") end
  if not provider then return invalid(spec, "expected PROVIDER[:MODEL][{opt=value,...}]") end
  local opts = {}
  if body and not body:match("^%s*$") then
    local items, open = split_options(body)
    if open then return invalid(spec, "a bracket or quote in the options is not closed") end
    for _, item in ipairs(items) do
      local k, v = item:match("^%s*([%a_][%w_]*)%s*=(.*)$")
      if not k then return invalid(spec, "option %q: expected name=value", (item:gsub("^%s+", ""))) end
      if opts[k] ~= nil then return invalid(spec, "option %s given twice", k) end
      if v:match("^%s*$") then return invalid(spec, "option %s has no value", k) end
      local ok, val = pcall(options.value, v)
      if not ok then return invalid(spec, "option %s: %s", k, type(val) == "table" and val.message or tostring(val)) end
      opts[k] = val
    end
  end
  return { id = M.id(provider, model, opts), provider = provider, model = model, options = opts }
end

return M
