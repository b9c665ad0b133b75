--- The nginx transport: request(req, opts) -> resp | nil, err, over cosockets.
-- Used inside nginx (lua-nginx-module) in the phases that allow cosockets (rewrite, access,
-- content, timer); elsewhere it raises one clear error. Only the calling light thread waits.
-- With lua-resty-http installed (`require "resty.http"` works) it goes through that; otherwise
-- through the small HTTP/1.1 client below (Content-Length and chunked bodies, keep-alive pool via
-- setkeepalive, TLS with verification and SNI, timeouts, a response size cap), so a stock nginx
-- with nothing but lua_package_path/lua_package_cpath configured is enough.
-- Bodies from disk (body_file, a multipart form: uploads of local files) stream in 48 KiB chunks
-- through the cosocket (transport/body.lua): the worker keeps serving while a large file goes out.
-- Responses and errors have the shapes of transport/curl.lua:
--   { status, headers (lower-case names), body, reused, time, http_version }
--   nil, { kind = "network" | "timeout" | "tls" | "too_large" | "protocol", message, sent }
local sched = require "stt.sched"
local bodysrc = require "stt.transport.body"

local M = {}

local DEFAULT_MAX_BODY = 64 * 1024 * 1024   -- the engine's cap, too
local MAX_HEADER_LINES = 200
local USER_AGENT = "lua-stt/0.1"

local Transport = {}
Transport.__index = Transport

--- opts: { keepalive_timeout = seconds idle in the pool (60), pool_size = per host (30),
---         resty_http = true | false (default: use lua-resty-http when it loads) }
function M.new(opts)
  opts = opts or {}
  local self = setmetatable({ opts = opts }, Transport)
  if opts.resty_http ~= false then
    local ok, http = pcall(require, "resty.http")
    if ok and type(http) == "table" and http.new then self.http = http end
  end
  return self
end

local function fail(kind, message, sent)
  return nil, { kind = kind, message = message, sent = sent and true or false }
end

--- Split an absolute http(s) URL into scheme, host, port, path (with query), host header.
local function parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  path = path:gsub("#.*$", "")
  if path == "" then path = "/" elseif path:sub(1, 1) == "?" then path = "/" .. path end
  authority = authority:gsub("^.*@", "")              -- userinfo is never sent on the wire
  local host, port = authority:match("^%[([^%]]+)%]:?(%d*)$")   -- [IPv6]:port
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host or host == "" then return nil end
  local default = scheme == "https" and 443 or 80
  port = tonumber(port) or default
  -- The Host header is the authority as written in the URL (without userinfo).
  return { scheme = scheme, host = host, port = port, path = path, host_header = authority }
end
M.parse_url = parse_url

local function is_ip(host)
  return host:match("^%d+%.%d+%.%d+%.%d+$") or host:find(":", 1, true)
end

-- Header names and values may not carry CR or LF: that would let data inject headers.
local function check_header(name, value)
  if type(name) ~= "string" or name == "" or name:find("[%c :]") then
    error(("bad request header name %q"):format(tostring(name)), 4)
  end
  if value:find("[\r\n]") then error(("CR/LF in the value of request header %s"):format(name), 4) end
end

-- src: the streamed body (transport/body.lua) when there is one: its length and content type.
local function build_head(req, u, body, src)
  local method = (req.method or "GET"):upper()
  if not method:match("^%u+$") then error("bad HTTP method " .. tostring(req.method), 3) end
  local lines = { method .. " " .. u.path .. " HTTP/1.1", "Host: " .. u.host_header }
  local have = {}
  for _, h in ipairs(req.headers or {}) do
    local name, value = h[1], tostring(h[2])
    check_header(name, value)
    have[name:lower()] = true
    lines[#lines + 1] = name .. ": " .. value
  end
  if not have["user-agent"] then lines[#lines + 1] = "User-Agent: " .. USER_AGENT end
  if src and src.content_type and not have["content-type"] then
    lines[#lines + 1] = "Content-Type: " .. src.content_type
  end
  if src then
    lines[#lines + 1] = "Content-Length: " .. string.format("%d", src.length)
  elseif body or method == "POST" or method == "PUT" or method == "PATCH" then
    lines[#lines + 1] = "Content-Length: " .. #(body or "")
  end
  return method, table.concat(lines, "\r\n") .. "\r\n\r\n"
end

-- A connection pool per scheme, host, port and verification mode (a verified TLS connection must
-- never be handed to a request that asked for an unverified one, nor the other way round).
local function pool_name(u, insecure)
  return ("stt:%s:%s:%d%s"):format(u.scheme, u.host, u.port, insecure and ":insecure" or "")
end

---------------------------------------------------------------- the own HTTP/1.1 client
local Conn = {}
Conn.__index = Conn

-- Every socket operation gets what is left of the request's total timeout (cosockets only know
-- per-operation timeouts), so a body that trickles in cannot outlast the deadline.
function Conn:left_ms()
  local left = self.deadline - sched.now()
  if left <= 0 then return nil end
  return math.max(1, math.floor(left * 1000))
end

function Conn:timeout_err(sent)
  return fail("timeout", ("request timed out after %g s"):format(self.timeout), sent)
end

function Conn:receive(pattern, sent)
  local ms = self:left_ms()
  if not ms then return self:timeout_err(sent) end
  self.sock:settimeout(ms)
  local data, err, partial = self.sock:receive(pattern)
  if data then return data end
  if err == "timeout" then return self:timeout_err(sent) end
  return nil, { kind = "network", message = "receive failed: " .. tostring(err), sent = sent and true or false,
                closed = err == "closed", partial = partial }
end

local function open(u, opts, deadline, timeout)
  local ngx = sched.ngx_api()
  local sock = ngx.socket.tcp()
  local c = setmetatable({ sock = sock, deadline = deadline, timeout = timeout }, Conn)
  local ms = c:left_ms()
  if not ms then return c:timeout_err(false) end
  local cms = opts.connect_timeout and math.max(1, math.floor(opts.connect_timeout * 1000)) or ms
  sock:settimeout(math.min(cms, ms))
  -- fresh_connect (submits): a pool of its own that never keeps a connection, so never a reused one
  local pool = pool_name(u, opts.insecure) .. (opts.fresh_connect and "#fresh" or "")
  local ok, err = sock:connect(u.host, u.port, { pool = pool })
  if not ok then
    if err == "timeout" then return fail("timeout", "connect to " .. u.host .. " timed out", false) end
    return fail("network", ("cannot connect to %s:%d: %s"):format(u.host, u.port, tostring(err)), false)
  end
  c.reused = (sock:getreusedtimes() or 0) > 0
  if u.scheme == "https" and not c.reused then
    ms = c:left_ms()
    if not ms then sock:close(); return c:timeout_err(false) end
    sock:settimeout(ms)
    -- SNI names only: an IP address is no server name (RFC 6066).
    -- lua-resty-core (as in Debian 12) mishandles a certificate that fails verification during
    -- a handshake that completes at once: with reused_session = false it reports success on a
    -- socket it has closed, with nil it raises "assertion failed!". So: nil, inside pcall, and
    -- a raise counts as a failed handshake (nginx's error log names the certificate problem).
    local okh, sess, herr = pcall(sock.sslhandshake, sock, nil, not is_ip(u.host) and u.host or nil,
                                  not opts.insecure)
    if not okh then
      sess, herr = nil, "certificate verification failed or the handshake broke off (" ..
        tostring(sess):gsub("^.-:%d+: ", "") .. ")"
    end
    if not sess then
      sock:close()
      if herr == "timeout" then return fail("timeout", "TLS handshake with " .. u.host .. " timed out", false) end
      return fail("tls", ("handshake with %s failed: %s"):format(u.host, tostring(herr)), false)
    end
  end
  return c
end

-- Read the status line and header block; returns status, headers, version or nil, err.
local function read_head(c)
  while true do
    local line, err = c:receive("*l", true)
    if not line then return nil, err end
    c.got_bytes = true
    local major, minor, status = line:match("^HTTP/(%d)%.(%d) (%d%d%d)")
    if not status then return nil, { kind = "protocol", message = "bad status line", sent = true } end
    local headers, n = {}, 0
    while true do
      local h, herr = c:receive("*l", true)
      if not h then return nil, herr end
      if h == "" then break end
      n = n + 1
      if n > MAX_HEADER_LINES then
        return nil, { kind = "protocol", message = "too many response header lines", sent = true }
      end
      local name, value = h:match("^([^:%s]+)%s*:%s*(.-)%s*$")
      if name then
        name = name:lower()
        headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
      end
    end
    status = tonumber(status)
    -- 1xx answers (100 Continue, 103 Early Hints) precede the real one; 101 we never ask for.
    if status >= 200 or status == 101 then
      return status, headers, tonumber(major) * 10 + tonumber(minor)
    end
  end
end

local function too_large(cap)
  return { kind = "too_large", message = ("response body exceeds the %d-byte cap"):format(cap), sent = true }
end

local function read_chunked(c, cap)
  local parts, total = {}, 0
  while true do
    local line, err = c:receive("*l", true)
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, { kind = "protocol", message = "bad chunk size line", sent = true } end
    if size == 0 then
      repeat                                   -- trailers, up to the empty line
        local t, terr = c:receive("*l", true)
        if not t then return nil, terr end
      until t == ""
      return table.concat(parts)
    end
    total = total + size
    if total > cap then return nil, too_large(cap) end
    local data, derr = c:receive(size, true)
    if not data then return nil, derr end
    parts[#parts + 1] = data
    local crlf, cerr = c:receive(2, true)
    if not crlf then return nil, cerr end
  end
end

local function read_to_close(c, cap)
  local parts, total = {}, 0
  while true do
    local data, err = c:receive(65536, true)
    if not data then
      if err.closed then
        parts[#parts + 1] = err.partial or ""
        local body = table.concat(parts)
        if #body > cap then return nil, too_large(cap) end
        return body
      end
      return nil, err
    end
    total = total + #data
    if total > cap then return nil, too_large(cap) end
    parts[#parts + 1] = data
  end
end

local function send_failed(c, err)
  if err == "timeout" then return c:timeout_err(true) end
  -- A send that fails may still have left in part: we cannot know, so say it was sent.
  return nil, { kind = "network", message = "send failed: " .. tostring(err), sent = true, closed = err == "closed" }
end

-- The streamed body, chunk by chunk, each send with what is left of the deadline.
local function send_source(c, src)
  while true do
    local chunk, rerr = src.next()
    if rerr then return nil, { kind = "protocol", message = rerr, sent = true } end
    if not chunk then return true end
    local ms = c:left_ms()
    if not ms then return c:timeout_err(true) end
    c.sock:settimeout(ms)
    local ok, err = c.sock:send(chunk)
    if not ok then return send_failed(c, err) end
  end
end

-- One exchange on one connection; `keep` tells whether the connection may go back to the pool.
-- src: a streamed body (sent after the head), else `body`.
local function exchange(c, method, head, body, cap, src)
  local ms = c:left_ms()
  if not ms then return c:timeout_err(false) end
  c.sock:settimeout(ms)
  local ok, err = c.sock:send(not src and body and body ~= "" and { head, body } or head)
  if not ok then return send_failed(c, err) end
  if src then
    local sent, serr = send_source(c, src)
    if not sent then return nil, serr end
  end
  local status, headers, version = read_head(c)
  if not status then return nil, headers end
  local conn = (headers["connection"] or ""):lower()
  local keep = version >= 11 and not conn:find("close", 1, true) or
               version < 11 and conn:find("keep-alive", 1, true) ~= nil
  local resp_body, berr
  local te = (headers["transfer-encoding"] or ""):lower()
  if method == "HEAD" or status == 204 or status == 304 or status == 101 then
    resp_body = ""
  elseif te ~= "" and te ~= "identity" then
    if not te:find("chunked", 1, true) then
      return nil, { kind = "protocol", message = "unsupported transfer-encoding " .. te, sent = true }
    end
    resp_body, berr = read_chunked(c, cap)
  elseif headers["content-length"] then
    local n = tonumber(headers["content-length"]:match("^%s*(%d+)%s*$"))
    if not n then return nil, { kind = "protocol", message = "bad content-length", sent = true } end
    if n > cap then return nil, too_large(cap) end
    if n == 0 then resp_body = "" else resp_body, berr = c:receive(n, true) end
  else
    keep = false
    resp_body, berr = read_to_close(c, cap)
  end
  if not resp_body then return nil, berr end
  return { status = status, headers = headers, body = resp_body, http_version = version }, nil, keep
end

function Transport:_own(req, opts, u, deadline)
  local src, serr = bodysrc.source(req, sched.ngx_api().encode_base64)
  if serr then return fail("protocol", serr, false) end
  local method, head = build_head(req, u, req.body, src)
  local cap = opts.max_body or DEFAULT_MAX_BODY
  local t0 = sched.now()
  for attempt = 1, 2 do
    local c, cerr = open(u, opts, deadline, opts.timeout or 30)
    if not c then
      if src then src.close() end
      return nil, cerr
    end
    if src and attempt == 2 then src = bodysrc.source(req, sched.ngx_api().encode_base64) end   -- from the start
    local resp, err, keep = exchange(c, method, head, req.body, cap, src)
    if src then src.close() end
    if resp then
      if keep and not opts.fresh_connect then
        c.sock:setkeepalive(math.floor((self.opts.keepalive_timeout or 60) * 1000), self.opts.pool_size or 30)
      else
        c.sock:close()
      end
      resp.reused = c.reused
      resp.time = sched.now() - t0
      return resp
    end
    c.sock:close()
    -- A pooled connection the server closed while it sat idle fails before any byte of an
    -- answer comes back: the request was not processed, so one retry on a fresh connection is
    -- safe (HTTP clients, libcurl included, do the same).
    if not (c.reused and err.closed and not c.got_bytes and attempt == 1) then
      err.closed, err.partial = nil, nil
      return nil, err
    end
  end
end

---------------------------------------------------------------- via lua-resty-http
function Transport:_resty(req, opts, u, deadline)
  build_head(req, u, req.body)          -- validates method and headers the same way
  local cap = opts.max_body or DEFAULT_MAX_BODY
  local t0 = sched.now()
  local httpc = self.http.new()
  local left = function() return math.max(1, math.floor((deadline - sched.now()) * 1000)) end
  local cms = opts.connect_timeout and math.floor(opts.connect_timeout * 1000) or left()
  httpc:set_timeouts(math.min(cms, left()), left(), left())
  local ok, err = httpc:connect({ scheme = u.scheme, host = u.host, port = u.port,
    ssl_verify = not opts.insecure, ssl_server_name = not is_ip(u.host) and u.host or nil,
    pool = pool_name(u, opts.insecure) .. (opts.fresh_connect and "#fresh" or "") })
  if not ok then
    if err == "timeout" then return fail("timeout", "connect to " .. u.host .. " timed out", false) end
    local kind = (tostring(err):find("handshake", 1, true) or tostring(err):find("certificate", 1, true))
      and "tls" or "network"
    return fail(kind, ("cannot connect to %s:%d: %s"):format(u.host, u.port, tostring(err)), false)
  end
  local reused = (httpc.sock and httpc.sock:getreusedtimes() or 0) > 0
  local headers = { ["User-Agent"] = USER_AGENT }
  for _, h in ipairs(req.headers or {}) do headers[h[1]] = tostring(h[2]) end
  httpc:set_timeouts(nil, left(), left())
  local res, rerr = httpc:request({ method = (req.method or "GET"):upper(), path = u.path,
    headers = headers, body = req.body })
  if not res then
    httpc:close()
    return fail(rerr == "timeout" and "timeout" or "network", "request failed: " .. tostring(rerr), true)
  end
  local n = tonumber(res.headers["Content-Length"])
  if n and n > cap then httpc:close(); return nil, too_large(cap) end
  local parts, total = {}, 0
  if res.body_reader then
    while true do
      httpc:set_timeouts(nil, left(), left())
      local chunk, cerr = res.body_reader(65536)
      if cerr then
        httpc:close()
        return fail(cerr == "timeout" and "timeout" or "network", "receive failed: " .. tostring(cerr), true)
      end
      if not chunk then break end
      total = total + #chunk
      if total > cap then httpc:close(); return nil, too_large(cap) end
      parts[#parts + 1] = chunk
    end
  end
  local out = {}
  for k, v in pairs(res.headers) do
    out[k:lower()] = type(v) == "table" and table.concat(v, ", ") or v
  end
  if opts.fresh_connect then httpc:close()
  else httpc:set_keepalive(math.floor((self.opts.keepalive_timeout or 60) * 1000), self.opts.pool_size or 30) end
  return { status = res.status, headers = out, body = table.concat(parts), reused = reused,
           time = sched.now() - t0, http_version = 11 }
end

---------------------------------------------------------------- the interface
--- req: { method, url, headers = {{name, value}, ...}, body } (or a body from disk: body_file,
---      body_file_base64, body_suffix, form, form_file; see transport/body.lua)
--- opts: { timeout (total, seconds), connect_timeout, max_body, insecure, fresh_connect }
-- (`ca_file` cannot be honoured per request by cosockets: nginx verifies against
-- lua_ssl_trusted_certificate.)
function Transport:request(req, opts)
  if not sched.in_nginx() then
    error("stt: the ngx transport works only inside nginx (lua-nginx-module)", 2)
  end
  sched.need_cosockets("stt: HTTP over cosockets", 2)
  opts = opts or {}
  local u = parse_url(req.url or "")
  if not u then return fail("protocol", "not an http(s) URL: " .. tostring(req.url), false) end
  local deadline = sched.now() + (opts.timeout or 30)
  -- Bodies from disk always take the own client, whose streaming the OpenResty specs prove
  -- (lua-resty-http is not packaged for Debian, so its iterator bodies could not be tested here).
  if self.http and not req.body_file then return self:_resty(req, opts, u, deadline) end
  return self:_own(req, opts, u, deadline)
end

function Transport.close() end          -- the pool belongs to nginx (lua_socket_pool_size)

M.Transport = Transport
return M
