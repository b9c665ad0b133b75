-- Fault injection, shared by every provider location (access_by_lua), plus request accounting.
--
-- A fault (POST /_sim/faults) is
--   { path = "<prefix or Lua pattern matched against the URI>", method = "GET" (optional),
--     count = N (default 1), type = "429"|"500"|"502"|"503"|"504"|"reset"|"slow"|
--     "truncated"|"malformed"|"html"|"empty"|"oversize"|"redirect"|"content_type",
--     retry_after = S (429/503), delay_ms = N (slow), size = N (oversize: a 200 JSON body of N
--     bytes, default 1 MiB), location = URL (redirect: a 302 there), content_type = T
--     (content_type: the normal answer, body and status untouched, with "Content-Type: T";
--     default text/plain) }
-- Faults are kept in order; the next N requests matching one get it.
-- A provider module may export fault_body(kind) -> body, content_type, headers to shape 429/500
-- answers (headers: a table, e.g. AUC's X-Api-Status-Code; body may be "").
-- luacheck: globals ngx
local util = require "sim.util"
local store = require "sim.store"

local M = {}

M.TYPES = {
  ["429"] = true, ["500"] = true, ["502"] = true, ["503"] = true, ["504"] = true,
  reset = true, slow = true, truncated = true, malformed = true, html = true, empty = true,
  oversize = true, redirect = true, content_type = true,
}

-- Locations that are not provider APIs: their requests do not update last_headers.
local NOT_PROVIDER = { media = true }

local GATEWAY_TEXT = {
  [502] = "502 Bad Gateway\n",
  [503] = "503 Service Temporarily Unavailable\n",
  [504] = "504 Gateway Time-out\n",
}

local HTML_502 = table.concat({
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n",
  "<center><h1>502 Bad Gateway</h1></center>\r\n",
  "<hr><center>lua-stt simulator</center>\r\n</body>\r\n</html>\r\n",
})

-- Validate a fault posted to the control API; returns the normalized fault or nil, message.
function M.normalize(f)
  if type(f) ~= "table" then return nil, "fault must be a JSON object" end
  if type(f.path) ~= "string" or f.path == "" then return nil, "fault.path (string) is required" end
  local kind = f.type ~= nil and tostring(f.type) or nil
  if not kind or not M.TYPES[kind] then
    return nil, "fault.type must be one of 429 500 502 503 504 reset slow truncated malformed html empty"
      .. " oversize redirect content_type"
  end
  if f.content_type ~= nil and (type(f.content_type) ~= "string" or f.content_type:find("[\r\n]")) then
    return nil, "fault.content_type must be a string without line breaks"
  end
  if kind == "redirect" and type(f.location) ~= "string" then
    return nil, "fault.location (string) is required for a redirect"
  end
  local count = tonumber(f.count or 1)
  if not count or count < 1 then return nil, "fault.count must be >= 1" end
  return {
    path = f.path,
    method = type(f.method) == "string" and f.method:upper() or nil,
    count = math.floor(count),
    type = kind,
    retry_after = tonumber(f.retry_after),
    delay_ms = tonumber(f.delay_ms) or 1000,
    size = tonumber(f.size) or 1048576,
    location = f.location,
    content_type = f.content_type or "text/plain",
  }
end

function M.add(f)
  local fault, err = M.normalize(f)
  if not fault then return nil, err end
  local list = store.faults()
  list[#list + 1] = fault
  store.set_faults(list)
  return fault
end

local function path_matches(pattern, uri)
  if uri:sub(1, #pattern) == pattern then return true end
  local ok, found = pcall(string.find, uri, pattern)
  return ok and found ~= nil
end

-- Take one use of the first fault matching this request, or nil.
local function take(method, uri)
  local list = store.faults()
  for i, f in ipairs(list) do
    if (not f.method or f.method == method) and path_matches(f.path, uri) then
      f.count = f.count - 1
      if f.count <= 0 then table.remove(list, i) end
      store.set_faults(list)
      return f
    end
  end
  return nil
end

local function provider_body(provider, kind)
  local ok, mod = pcall(require, "sim." .. provider)
  if ok and type(mod) == "table" and mod.fault_body then
    return mod.fault_body(kind)
  end
  return nil
end

local function respond(status, body, content_type, retry_after, headers)
  ngx.status = status
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  ngx.header["Content-Type"] = content_type
  ngx.header["Content-Length"] = #body
  if retry_after then ngx.header["Retry-After"] = tostring(retry_after) end
  ngx.print(body)
  return ngx.exit(status)
end

local function apply_truncated(provider)
  local body = provider_body(provider, "truncated")
    or '{"request_id":"' .. util.uuid() .. '","output":{"task_id":"' .. util.uuid() .. '","task_st'
  ngx.status = 200
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body + 128
  ngx.send_headers()
  ngx.print(body)
  ngx.flush(true)
  return ngx.exit(444)   -- close the connection: the client sees 128 bytes missing
end

local function apply(f, provider)
  local kind = f.type
  if kind == "slow" then
    ngx.sleep(f.delay_ms / 1000)
    return   -- then answer normally
  elseif kind == "content_type" then
    ngx.ctx.sim_content_type = f.content_type
    return   -- then answer normally; header_filter() puts this Content-Type on the answer
  elseif kind == "reset" then
    return ngx.exit(444)
  elseif kind == "truncated" then
    return apply_truncated(provider)
  elseif kind == "malformed" then
    return respond(200, '{"request_id":"' .. util.uuid() .. '","output":{"task_status":SUCCEEDED,,}',
      "application/json")
  elseif kind == "html" then
    return respond(502, HTML_502, "text/html")
  elseif kind == "empty" then
    return respond(200, "", "application/json")
  elseif kind == "oversize" then
    -- Valid JSON, just too big: only a client-side body limit stops it.
    local pad = math.max(0, f.size - 10)
    return respond(200, '{"pad":"' .. string.rep("x", pad) .. '"}', "application/json")
  elseif kind == "redirect" then
    return respond(302, "", "text/plain", nil, { Location = f.location })
  end
  local status = tonumber(kind)
  if status == 429 or status == 500 then
    local body, ctype, headers = provider_body(provider, status)
    if not body then
      body, ctype = (status == 429 and "Too Many Requests\n" or "Internal Server Error\n"), "text/plain"
    end
    return respond(status, body, ctype, status == 429 and f.retry_after or nil, headers)
  end
  return respond(status, GATEWAY_TEXT[status], "text/plain", status == 503 and f.retry_after or nil)
end

-- header_filter_by_lua entry point (the whole server): the "content_type" fault's header.
function M.header_filter()
  local ct = ngx.ctx.sim_content_type
  if ct then ngx.header["Content-Type"] = ct end
end

-- access_by_lua entry point for a provider location.
function M.access(provider)
  local method, uri = ngx.req.get_method(), ngx.var.uri
  store.count_in("requests", method .. " " .. uri)
  if store.recording_arrivals() then store.arrival(method .. " " .. uri) end
  if not NOT_PROVIDER[provider] then
    store.stat_set("last_headers", util.request_headers())
  end
  local f = take(method, uri)
  if f then
    store.count("faults_applied")
    ngx.log(ngx.INFO, "sim: fault ", f.type, " on ", method, " ", uri)
    return apply(f, provider)
  end
end

return M
