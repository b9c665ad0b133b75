--- Error objects: { kind, message, status, code, request_id, provider, op, retryable, retry_after }.
-- Runtime failures are returned as `nil, err`; tostring(err) gives one readable line.
-- Nothing that goes in here may carry an API key: `new` scrubs the secrets it is given.
local M = {}

local KINDS = {
  auth = true, invalid = true, unsupported = true, throttled = true, quota = true, server = true,
  network = true, timeout = true, protocol = true, task_failed = true, canceled = true,
  not_found = true,
}
M.KINDS = KINDS

local Error = {}
Error.__index = Error

function Error.__tostring(e)
  local where = table.concat({ e.provider or "stt", e.op }, " ")
  local parts = {}
  if e.status and e.status ~= 0 then parts[#parts + 1] = "HTTP " .. tostring(e.status) end
  if e.code and e.code ~= "" then parts[#parts + 1] = "code " .. tostring(e.code) end
  if e.request_id and e.request_id ~= "" then parts[#parts + 1] = "request " .. tostring(e.request_id) end
  if e.retryable then
    parts[#parts + 1] = e.retry_after and ("retryable after " .. tostring(e.retry_after) .. "s") or "retryable"
  else
    parts[#parts + 1] = "not retryable"
  end
  return string.format("%s: %s: %s (%s)", where, e.kind or "error", e.message or "", table.concat(parts, ", "))
end

local function scrub(s, secrets)
  if type(s) ~= "string" or not secrets then return s end
  for _, secret in ipairs(secrets) do
    if type(secret) == "string" and #secret >= 4 then
      local i = 1
      while true do
        local a, b = s:find(secret, i, true)
        if not a then break end
        s = s:sub(1, a - 1) .. "***" .. s:sub(b + 1)
        i = a + 3
      end
    end
  end
  return s
end

--- Make an error object. `t` may be a plain table from the C core; `ctx` adds provider/op and
-- the secrets to scrub from every string field.
function M.new(t, ctx)
  local e = {}
  for k, v in pairs(t) do e[k] = v end
  if ctx then
    for k, v in pairs(ctx) do if k ~= "secrets" and e[k] == nil then e[k] = v end end
  end
  if not KINDS[e.kind] then e.kind = "protocol" end
  e.retryable = e.retryable and true or false
  local secrets = ctx and ctx.secrets
  if secrets then
    for k, v in pairs(e) do if type(v) == "string" then e[k] = scrub(v, secrets) end end
  end
  return setmetatable(e, Error)
end

function M.is(e) return getmetatable(e) == Error end

-- Transport failures (engine "fail" classes) as error kinds, and whether a retry can help.
local TRANSPORT = {
  network   = { kind = "network",  retryable = true },
  timeout   = { kind = "timeout",  retryable = true },
  tls       = { kind = "network",  retryable = false },
  too_large = { kind = "protocol", retryable = false },
  protocol  = { kind = "protocol", retryable = true },
}

function M.from_transport(fail, ctx)
  local map = TRANSPORT[fail.kind] or TRANSPORT.network
  local msg = fail.message or fail.kind
  if fail.kind == "tls" then msg = "TLS: " .. msg end
  return M.new({ kind = map.kind, message = msg, retryable = map.retryable, transport = fail.kind,
                 sent = fail.sent }, ctx)
end

return M
