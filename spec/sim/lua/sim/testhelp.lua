-- Helper endpoints for the HTTP engine tests, under /_t/:
--   /_t/echo                    JSON {method, uri, args, headers (lower-case), body, http_version}
--   /_t/conn                    JSON {connection, requests} (proves keep-alive reuse)
--   /_t/bytes?n=N               N bytes of "x" with Content-Length
--   /_t/delay?ms=N              sleeps N ms, then 200 "ok"
--   /_t/trickle?n=N&ms=M        N one-byte chunks, one every M ms (chunked)
--   /_t/status?code=N&retry_after=S   that status, optional Retry-After
-- luacheck: globals ngx
local util = require "sim.util"

local M = {}

local function num_arg(args, name, default, max)
  local v = tonumber(args[name]) or default
  if max and v > max then v = max end
  if v < 0 then v = 0 end
  return math.floor(v)
end

local function echo()
  local body = util.read_body()
  return util.send_json(200, {
    method = ngx.req.get_method(),
    uri = ngx.var.request_uri,
    args = ngx.req.get_uri_args(100),
    headers = util.request_headers(),
    body = body,
    http_version = ngx.req.http_version(),
  })
end

local function conn()
  return util.send_json(200, {
    connection = tonumber(ngx.var.connection),
    requests = tonumber(ngx.var.connection_requests),
    http_version = ngx.req.http_version(),
  })
end

local function bytes(args)
  local n = num_arg(args, "n", 0, 512 * 1024 * 1024)
  ngx.status = 200
  ngx.header["Content-Type"] = "application/octet-stream"
  ngx.header["Content-Length"] = n
  local chunk = string.rep("x", math.min(n, 65536))
  local left = n
  while left > 0 do
    local k = math.min(left, #chunk)
    ngx.print(k == #chunk and chunk or chunk:sub(1, k))
    left = left - k
    if left > 0 and n > 1048576 then ngx.flush(true) end
  end
  return ngx.exit(ngx.HTTP_OK)
end

local function delay(args)
  ngx.sleep(num_arg(args, "ms", 0, 600000) / 1000)
  return util.send(200, "ok", "text/plain")
end

local function trickle(args)
  local n, ms = num_arg(args, "n", 10, 100000), num_arg(args, "ms", 100, 60000)
  ngx.status = 200
  ngx.header["Content-Type"] = "text/plain"
  ngx.send_headers()
  ngx.flush(true)
  for i = 1, n do
    if i > 1 then ngx.sleep(ms / 1000) end
    ngx.print("x")
    local ok = ngx.flush(true)
    if not ok then return ngx.exit(444) end
  end
  return ngx.exit(ngx.HTTP_OK)
end

local function status(args)
  local code = num_arg(args, "code", 200, 599)
  if code < 200 then code = 200 end
  if args.retry_after then ngx.header["Retry-After"] = tostring(args.retry_after) end
  if code == 204 or code == 304 then
    ngx.status = code
    return ngx.exit(code)
  end
  return util.send_json(code, { status = code })
end

local ROUTES = {
  ["/_t/echo"] = echo,
  ["/_t/conn"] = conn,
  ["/_t/bytes"] = bytes,
  ["/_t/delay"] = delay,
  ["/_t/trickle"] = trickle,
  ["/_t/status"] = status,
}

function M.serve()
  local handler = ROUTES[ngx.var.uri]
  if not handler then
    return util.send_json(404, { error = "no such test route: " .. ngx.var.uri })
  end
  return handler(ngx.req.get_uri_args(100))
end

return M
