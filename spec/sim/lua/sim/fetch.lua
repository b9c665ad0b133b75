-- A tiny cosocket HTTP/1.1 GET client, used to download the audio URLs of submitted tasks.
-- Only loopback hosts (127.0.0.0/8, localhost, *.localhost) are ever contacted: any other host is
-- a download failure, so the simulator never makes network traffic outside the machine.
-- "<name>.localhost" (a virtual-host S3 URL of sim.s3: "<bucket>.localhost") connects to
-- 127.0.0.1 and sends that name as the Host header, the port only when the URL names one.
-- luacheck: globals ngx
local M = {}

local MAX_REDIRECTS = 3

local function is_localhost(host)
  return host == "localhost" or host:sub(-10) == ".localhost"
end

local function is_loopback(host)
  if is_localhost(host) then return true end
  local a, b, c, d = host:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return false end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  return a == 127 and b <= 255 and c <= 255 and d <= 255
end
M.is_loopback = is_loopback

-- Split a URL: scheme, host, port, path (with query), or nil + message.
function M.parse_url(url)
  if type(url) ~= "string" then return nil, "url is not a string" end
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "unsupported scheme " .. scheme end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  path = path:gsub("#.*$", "")
  if path == "" or path:sub(1, 1) == "?" then path = "/" .. path end
  authority = authority:gsub("^.*@", "")   -- drop userinfo
  local host, port = authority:match("^(.-):(%d+)$")
  if not host then host = authority end
  if host == "" then return nil, "no host" end
  local explicit = port ~= nil
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return { scheme = scheme, host = host:lower(), port = port, path = path, explicit_port = explicit }
end

local function read_headers(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, "reading status line: " .. tostring(err) end
  local status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then return nil, "bad status line: " .. line end
  local headers = {}
  while true do
    line, err = sock:receive("*l")
    if not line then return nil, "reading headers: " .. tostring(err) end
    if line == "" then break end
    local k, v = line:match("^([^:]+):%s*(.-)%s*$")
    if k then headers[k:lower()] = v end
  end
  return status, headers
end

local function read_chunked(sock, max)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, "reading chunk size: " .. tostring(err) end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size" end
    if size == 0 then
      repeat line = sock:receive("*l") until not line or line == ""
      break
    end
    total = total + size
    if total > max then return nil, "body larger than " .. max .. " bytes" end
    local data
    data, err = sock:receive(size)
    if not data then return nil, "reading chunk: " .. tostring(err) end
    parts[#parts + 1] = data
    sock:receive("*l")
  end
  return table.concat(parts)
end

local function read_body(sock, headers, max)
  local te = headers["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    return read_chunked(sock, max)
  end
  local len = tonumber(headers["content-length"])
  if len then
    if len > max then return nil, "body larger than " .. max .. " bytes" end
    if len == 0 then return "" end
    local data, err = sock:receive(len)
    if not data then return nil, "reading body: " .. tostring(err) end
    return data
  end
  local data, err, partial = sock:receive("*a")
  data = data or partial
  if not data then return nil, "reading body: " .. tostring(err) end
  if #data > max then return nil, "body larger than " .. max .. " bytes" end
  return data
end

local function get_once(u, timeout_ms, max)
  if not is_loopback(u.host) then
    return nil, "refusing to download from non-loopback host " .. u.host
  end
  local sock = ngx.socket.tcp()
  sock:settimeout(timeout_ms)
  local ok, err = sock:connect(is_localhost(u.host) and "127.0.0.1" or u.host, u.port)
  if not ok then return nil, "connect: " .. tostring(err) end
  if u.scheme == "https" then
    ok, err = sock:sslhandshake(nil, u.host, false)
    if not ok then sock:close(); return nil, "tls: " .. tostring(err) end
  end
  -- Host as the URL has it (what a presigned URL signed): the port only when the URL names one.
  local host = u.explicit_port and (u.host .. ":" .. u.port) or u.host
  local req = "GET " .. u.path .. " HTTP/1.1\r\nHost: " .. host ..
    "\r\nUser-Agent: lua-stt-simulator\r\nAccept: */*\r\nConnection: close\r\n\r\n"
  ok, err = sock:send(req)
  if not ok then sock:close(); return nil, "send: " .. tostring(err) end
  local status, headers = read_headers(sock)
  if not status then sock:close(); return nil, headers end
  local body
  body, err = read_body(sock, headers, max)
  sock:close()
  if not body then return nil, err end
  return { status = status, headers = headers, body = body }
end

-- POST body to url (loopback only, no redirects) -> { status, headers, body } or nil, message.
-- opts: timeout_ms (default 10000), headers ({ name = value }). For the simulator's callbacks.
function M.post(url, body, opts)
  opts = opts or {}
  local u, err = M.parse_url(url)
  if not u then return nil, err end
  if not is_loopback(u.host) then return nil, "refusing to post to non-loopback host " .. u.host end
  local sock = ngx.socket.tcp()
  sock:settimeout(opts.timeout_ms or 10000)
  local ok
  ok, err = sock:connect(is_localhost(u.host) and "127.0.0.1" or u.host, u.port)
  if not ok then return nil, "connect: " .. tostring(err) end
  if u.scheme == "https" then
    ok, err = sock:sslhandshake(nil, u.host, false)
    if not ok then sock:close(); return nil, "tls: " .. tostring(err) end
  end
  local host = u.explicit_port and (u.host .. ":" .. u.port) or u.host
  local lines = { "POST " .. u.path .. " HTTP/1.1", "Host: " .. host, "User-Agent: lua-stt-simulator",
                  "Content-Type: application/json", "Content-Length: " .. #body, "Connection: close" }
  for k, v in pairs(opts.headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  if not ok then sock:close(); return nil, "send: " .. tostring(err) end
  local status, headers = read_headers(sock)
  if not status then sock:close(); return nil, headers end
  local rbody
  rbody, err = read_body(sock, headers, 1024 * 1024)
  sock:close()
  if not rbody then return nil, err end
  return { status = status, headers = headers, body = rbody }
end

-- GET url -> { status, headers (lower-case), body } or nil, message.
-- opts: timeout_ms (default 10000), max_bytes (default 256 MiB). Follows up to 3 redirects.
function M.get(url, opts)
  opts = opts or {}
  local timeout_ms = opts.timeout_ms or 10000
  local max = opts.max_bytes or 256 * 1024 * 1024
  for _ = 0, MAX_REDIRECTS do
    local u, err = M.parse_url(url)
    if not u then return nil, err end
    local res
    res, err = get_once(u, timeout_ms, max)
    if not res then return nil, err end
    local loc = res.headers.location
    if res.status >= 301 and res.status <= 308 and res.status ~= 304 and loc then
      if loc:sub(1, 1) == "/" then
        loc = u.scheme .. "://" .. u.host .. (u.explicit_port and (":" .. u.port) or "") .. loc
      end
      url = loc
    else
      return res
    end
  end
  return nil, "too many redirects"
end

return M
