-- Small helpers shared by the simulator modules: JSON, ids, time strings, responses.
-- luacheck: globals ngx
local cjson = require "cjson.safe"

local M = {}

-- Marker for an empty JSON array (Debian's lua-cjson has no cjson.empty_array).
local EMPTY_ARRAY_MARK = "\0sim-empty-array\0"
M.EMPTY_ARRAY = setmetatable({}, { __tostring = function() return "[]" end })

local function mark_empty_arrays(v)
  if type(v) ~= "table" then return v end
  if v == M.EMPTY_ARRAY then return EMPTY_ARRAY_MARK end
  local out = {}
  for k, x in pairs(v) do out[k] = mark_empty_arrays(x) end
  return out
end

-- JSON text without cjson's "\/" escaping; M.EMPTY_ARRAY encodes as [].
function M.json(v)
  local s = assert(cjson.encode(mark_empty_arrays(v)))
  s = s:gsub("\\/", "/")
  s = s:gsub('"\\u0000sim%-empty%-array\\u0000"', "[]")
  return s
end

-- Like Go's encoding/json (what the real result files look like): <, > and & as \u00XX.
function M.json_html_escaped(v)
  return (M.json(v):gsub("[<>&]", { ["<"] = "\\u003c", [">"] = "\\u003e", ["&"] = "\\u0026" }))
end

function M.decode(s)
  if type(s) ~= "string" then return nil, "not a string" end
  return cjson.decode(s)
end

M.null = cjson.null

local function hex(n, width)
  return string.format("%0" .. width .. "x", n)
end

-- Random version-4 UUID (math.random is seeded per worker in sim.boot).
function M.uuid()
  local r = math.random
  return table.concat({
    hex(r(0, 0xffff), 4), hex(r(0, 0xffff), 4), "-",
    hex(r(0, 0xffff), 4), "-",
    hex(0x4000 + r(0, 0x0fff), 4), "-",
    hex(0x8000 + r(0, 0x3fff), 4), "-",
    hex(r(0, 0xffff), 4), hex(r(0, 0xffff), 4), hex(r(0, 0xffff), 4),
  })
end

-- "YYYY-MM-DD HH:MM:SS.mmm" in Beijing time (UTC+8), no zone: DashScope's format.
function M.beijing_time(t)
  local sec = math.floor(t)
  local ms = math.floor((t - sec) * 1000 + 0.5)
  if ms >= 1000 then sec, ms = sec + 1, ms - 1000 end
  return os.date("!%Y-%m-%d %H:%M:%S", sec + 8 * 3600) .. string.format(".%03d", ms)
end

function M.http_date(t)
  return ngx.http_time(math.floor(t))
end

-- Request body as a string ("" when there is none); reads a spooled file if needed.
function M.read_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if data then return data end
  local path = ngx.req.get_body_file()
  if not path then return "" end
  local f = io.open(path, "rb")
  if not f then return "" end
  data = f:read("*a")
  f:close()
  return data or ""
end

function M.send(status, body, content_type)
  ngx.status = status
  ngx.header["Content-Type"] = content_type or "application/json"
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return ngx.exit(ngx.HTTP_OK)
end

function M.send_json(status, tbl)
  return M.send(status, M.json(tbl), "application/json")
end

-- Lower-case request headers, multi-valued ones joined with ", ".
function M.request_headers()
  local h = ngx.req.get_headers(200, true)
  local out = {}
  for k, v in pairs(h) do
    k = k:lower()
    if type(v) == "table" then v = table.concat(v, ", ") end
    out[k] = v
  end
  return out
end

function M.shallow_merge(dst, src)
  for k, v in pairs(src or {}) do dst[k] = v end
  return dst
end

function M.copy(v)
  if type(v) ~= "table" or v == M.EMPTY_ARRAY then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = M.copy(x) end
  return setmetatable(out, getmetatable(v))
end

function M.url_unescape(s)
  return ngx.unescape_uri(s)
end

return M
