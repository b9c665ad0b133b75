--- The nginx backend of stt.redis: a RESP2 client over cosockets (ngx.socket.tcp).
-- Used inside nginx (lua-nginx-module) in the phases that allow cosockets (rewrite, access,
-- content, timer); elsewhere it raises one clear error. Only the calling light thread waits.
-- Needs nothing beyond a stock nginx with lua-nginx-module (no lua-resty-redis).
--
--   backend.connect(cfg) -> conn | nil, err
--     cfg = { host, port (6379), db (0), password, username, timeout (s per command, 5),
--             connect_timeout (s, = timeout), keepalive_timeout (s idle in the pool, 60),
--             pool_size (per pool, 30) }; host may be "unix:/path/to/socket" (then no port).
--   conn:call({ "SET", key, value }) -> value | nil, err
--   conn:pipeline({ args, args, ... }) -> { value | { err = "ERR ..." }, ... } | nil, err
--   conn:close()   -- back to the keepalive pool when clean, else closed
--   conn.reused    -- true when the socket came from the pool (AUTH/SELECT were done before)
--
-- Values: bulk and simple strings -> string, integers -> number, nil bulk / nil array ->
-- stt.core.null, arrays -> Lua arrays (nested); an error reply inside an array -> { err = msg }.
-- Errors: { kind = "redis", message = "ERR ...", retryable = false } for an error reply;
-- { kind = "network" | "timeout", message, retryable = true, sent } and
-- { kind = "protocol", message, retryable = false, sent } for the connection (which is then
-- closed, never pooled). `sent`: the command may have reached Redis (retrying it may repeat it).
-- No message ever carries the password.
local sched = require "stt.sched"
local core = require "stt.core"

local M = {}

local null = core.null
local DEFAULT_TIMEOUT = 5
local MAX_BULK = 512 * 1024 * 1024        -- Redis's own proto-max-bulk-len
local MAX_DEPTH = 64                      -- nested arrays: deeper is a broken or hostile peer

local ErrorReply = {}                     -- metatable of { err = msg } (an error reply as a value)
ErrorReply.__index = ErrorReply
M.ErrorReply = ErrorReply

local function protocol(message)
  return { kind = "protocol", message = "Redis protocol error: " .. message, retryable = false, sent = true }
end

---------------------------------------------------------------- RESP2 (pure Lua, no I/O)
-- Integral numbers go out as integers (LuaJIT has no integer subtype: tostring(2^53) is
-- "9.007199254741e+15", which Redis would refuse); others with every significant digit.
local function arg_string(v, i, level)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" then
    if v ~= v then error(("stt.redis: argument %d is NaN"):format(i), level) end
    if v == math.floor(v) and v > -2^63 and v < 2^63 then return string.format("%d", v) end
    return string.format("%.17g", v)
  end
  error(("stt.redis: argument %d is a %s (strings and numbers only)"):format(i, tv), level)
end

--- One command as a RESP array of bulk strings: appended to the fragment list `out` (no copy of
-- large values; the socket sends the list as one write). Returns out. `level`: whose mistake a
-- bad argument is, as for error() (default: encode's caller).
function M.encode(args, out, level)
  level = level or 2
  if type(args) ~= "table" or args[1] == nil then
    error("stt.redis: a command is a non-empty array of strings and numbers", level)
  end
  out = out or {}
  local n, k = #args, #out
  k = k + 1; out[k] = "*" .. n .. "\r\n"
  for i = 1, n do
    local s = arg_string(args[i], i, level + 1)
    k = k + 1; out[k] = "$" .. #s .. "\r\n"
    k = k + 1; out[k] = s
    k = k + 1; out[k] = "\r\n"
  end
  return out
end

--- Read one reply through `r` (r:line() -> line without CRLF, r:bytes(n) -> n bytes; each
-- returns nil, err on failure). Returns the value (an error reply as { err = msg } with the
-- ErrorReply metatable), or nil, err (the connection is then unusable).
local function read_reply(r, depth)
  local line, err = r:line()
  if not line then return nil, err end
  local t, rest = line:sub(1, 1), line:sub(2)
  if t == "+" then return rest end
  if t == "-" then return setmetatable({ err = rest }, ErrorReply) end
  if t == ":" then
    if not rest:match("^%-?%d+$") then return nil, protocol("bad integer reply") end
    return tonumber(rest)
  end
  if t == "$" or t == "*" then
    if not rest:match("^%-?%d+$") then return nil, protocol("bad length " .. rest:sub(1, 20)) end
    local n = tonumber(rest)
    if n == -1 then return null end
    if n < 0 then return nil, protocol("bad length " .. rest) end
    if t == "$" then
      if n > MAX_BULK then return nil, protocol("bulk string of " .. rest .. " bytes") end
      local data, derr = r:bytes(n + 2)
      if not data then return nil, derr end
      if data:sub(-2) ~= "\r\n" then return nil, protocol("bulk string without CRLF") end
      return data:sub(1, n)
    end
    if depth >= MAX_DEPTH then return nil, protocol("arrays nested too deep") end
    local arr = {}
    for i = 1, n do
      local v, verr = read_reply(r, depth + 1)
      if v == nil then return nil, verr end
      arr[i] = v
    end
    return arr
  end
  return nil, protocol(("unexpected reply type %q"):format(line:sub(1, 20)))
end
function M.read_reply(r) return read_reply(r, 0) end

---------------------------------------------------------------- connections
-- Commands after which a socket must not go back to the pool: they change what a later user of
-- the pool key (host, port, db, credentials) would get, or the protocol itself.
local TAINTS = { select = true, auth = true, hello = true, reset = true, quit = true, monitor = true,
                 subscribe = true, psubscribe = true, ssubscribe = true, sync = true, psync = true }

local Conn = {}
Conn.__index = Conn

local function fail(c, kind, message, sent)
  return nil, { kind = kind, message = ("Redis %s: %s"):format(c.where, message),
                retryable = kind == "network" or kind == "timeout", sent = sent and true or false }
end

-- Every socket operation gets what is left of the exchange's deadline (cosockets only know
-- per-operation timeouts), so a reply that trickles in cannot outlast the command timeout.
local function arm(c)
  local left = c.deadline - sched.now()
  if left <= 0 then return false end
  local ms = math.max(1, math.floor(left * 1000))
  c.sock:settimeouts(ms, ms, ms)
  return true
end

local function io_failed(c, what, err)
  if err == "timeout" then return fail(c, "timeout", ("command timed out after %g s"):format(c.timeout), true) end
  return fail(c, "network", what .. " failed: " .. tostring(err), true)
end

-- The reader that read_reply uses, over the socket.
function Conn:line()
  if not arm(self) then return io_failed(self, "receive", "timeout") end
  local line, err = self.sock:receive("*l")
  if not line then return io_failed(self, "receive", err) end
  return line
end

function Conn:bytes(n)
  if not arm(self) then return io_failed(self, "receive", "timeout") end
  local data, err = self.sock:receive(n)
  if not data then return io_failed(self, "receive", err) end
  return data
end

-- Any I/O or protocol failure leaves the socket in an unknown state: close it, never pool it.
local function broken(c)
  c.failed = true
  c.sock:close()
end

-- One write of every command, then their replies in order. Returns the list of replies (error
-- replies as ErrorReply values), or nil, err after closing the socket. `setup`: the AUTH/SELECT
-- of connect, which belong to the pool key and so do not taint the socket.
local function exchange(c, cmds, setup)
  if c.closed then error("stt.redis: the connection was closed", 3) end
  if c.failed then
    return fail(c, "network", "the connection was closed after an earlier error", false)
  end
  -- One cosocket cannot read or write for two light threads at once; nginx would answer
  -- "socket busy" and the replies of two callers would interleave.
  if c.busy then error("stt.redis: the connection is in use by another light thread", 3) end
  local frags = {}
  for i = 1, #cmds do M.encode(cmds[i], frags, 4) end     -- the caller of call/pipeline
  c.busy = true
  c.deadline = sched.now() + c.timeout
  local out, err = {}, nil
  if not arm(c) then
    out, err = fail(c, "timeout", ("command timed out after %g s"):format(c.timeout), false)
  else
    local ok, serr = c.sock:send(frags)
    if not ok then
      out, err = io_failed(c, "send", serr)
    else
      for i = 1, #cmds do
        local v, rerr = read_reply(c, 0)
        if v == nil then out, err = nil, rerr; break end
        out[i] = v
      end
    end
  end
  c.busy = false
  if not out then broken(c); return nil, err end
  if setup then return out end
  for i = 1, #cmds do
    local name = tostring(cmds[i][1]):lower()
    if TAINTS[name] or (name == "client" and tostring(cmds[i][2]):lower() == "reply") then
      c.tainted = true
    elseif name == "multi" then c.multi = true
    elseif name == "watch" then c.watch = true
    elseif name == "exec" or name == "discard" then c.multi, c.watch = false, false
    elseif name == "unwatch" then c.watch = false
    end
  end
  return out
end

--- One command; an error reply is nil, { kind = "redis", message, retryable = false }.
function Conn:call(args)
  local out, err = exchange(self, { args })
  if not out then return nil, err end
  local v = out[1]
  if getmetatable(v) == ErrorReply then
    return nil, { kind = "redis", message = v.err, retryable = false }
  end
  return v
end

--- Commands in one write; replies in order, an error reply as { err = "ERR ..." }.
function Conn:pipeline(list)
  if type(list) ~= "table" then error("stt.redis: pipeline expects a list of commands", 2) end
  if list[1] == nil then return {} end
  return exchange(self, list)
end

--- Back to the pool when clean (no error, no open MULTI or WATCH, no SELECT/AUTH of the
-- caller's own), else closed. Idempotent.
function Conn:close()
  if self.closed then return end
  self.closed = true
  if self.failed then return end
  if self.busy or self.tainted or self.multi or self.watch then self.sock:close(); return end
  local ok = self.sock:setkeepalive(self.keepalive_ms, self.pool_size)
  if not ok then self.sock:close() end
end

-- Pools are keyed by everything the socket's session state depends on. The credentials go in
-- as a digest: pool names show up in nginx's debug logs.
local function pool_name(ngx, host, port, db, username, password)
  local name = ("stt-redis:%s:%s:%d"):format(host, tostring(port or ""), db)
  if password then
    local digest = ngx.encode_base64(ngx.sha1_bin((username or "") .. "\0" .. password))
    name = name .. ":" .. digest
  end
  return name
end

local function seconds(v, what, default)
  if v == nil then return default end
  if type(v) ~= "number" or v <= 0 then
    error(("stt.redis: %s must be a positive number of seconds"):format(what), 3)
  end
  return v
end

--- cfg: see the header. Returns a connection, or nil, err.
function M.connect(cfg)
  if not sched.in_nginx() then
    error("stt.redis: the ngx backend works only inside nginx (lua-nginx-module)", 2)
  end
  sched.need_cosockets("stt.redis: Redis over cosockets", 2)
  if type(cfg) ~= "table" then error("stt.redis: connect expects a config table", 2) end
  local host = cfg.host or "127.0.0.1"
  if type(host) ~= "string" or host == "" then error("stt.redis: cfg.host must be a string", 2) end
  local unix = host:sub(1, 5) == "unix:"
  local port = not unix and (cfg.port or 6379) or nil
  if port and (type(port) ~= "number" or port < 1 or port > 65535 or port ~= math.floor(port)) then
    error("stt.redis: cfg.port must be a port number", 2)
  end
  local db = cfg.db or 0
  if type(db) ~= "number" or db < 0 or db ~= math.floor(db) then
    error("stt.redis: cfg.db must be a non-negative integer", 2)
  end
  if cfg.password ~= nil and type(cfg.password) ~= "string" then
    error("stt.redis: cfg.password must be a string", 2)
  end
  if cfg.pool_size ~= nil and (type(cfg.pool_size) ~= "number" or cfg.pool_size < 1) then
    error("stt.redis: cfg.pool_size must be a positive number", 2)
  end
  if cfg.tls or cfg.ssl then error("stt.redis: TLS is not supported by the ngx backend", 2) end
  local password = cfg.password ~= "" and cfg.password or nil
  local timeout = seconds(cfg.timeout, "cfg.timeout", DEFAULT_TIMEOUT)
  local connect_timeout = seconds(cfg.connect_timeout, "cfg.connect_timeout", timeout)

  local ngx = sched.ngx_api()
  local sock = ngx.socket.tcp()
  local c = setmetatable({ sock = sock, timeout = timeout,
    where = unix and host or ("%s:%d"):format(host, port),
    keepalive_ms = math.floor(seconds(cfg.keepalive_timeout, "cfg.keepalive_timeout", 60) * 1000),
    pool_size = cfg.pool_size or 30 }, Conn)
  local cms = math.max(1, math.floor(connect_timeout * 1000))
  local ms = math.max(1, math.floor(timeout * 1000))
  sock:settimeouts(cms, ms, ms)
  local opts = { pool = pool_name(ngx, host, port, db, cfg.username, password), pool_size = c.pool_size }
  local ok, err
  if unix then ok, err = sock:connect(host, opts) else ok, err = sock:connect(host, port, opts) end
  if not ok then
    if err == "timeout" then
      return fail(c, "timeout", ("connect timed out after %g s"):format(connect_timeout), false)
    end
    return fail(c, "network", "cannot connect: " .. tostring(err), false)
  end
  c.reused = (sock:getreusedtimes() or 0) > 0
  if not c.reused then
    -- A new socket: its session starts unauthenticated on db 0. Both in one round trip.
    local setup = {}
    if password then
      setup[#setup + 1] = cfg.username and { "AUTH", cfg.username, password } or { "AUTH", password }
    end
    if db ~= 0 then setup[#setup + 1] = { "SELECT", db } end
    if setup[1] then
      local out, serr = exchange(c, setup, true)
      if not out then return nil, serr end
      for i, v in ipairs(out) do
        if getmetatable(v) == ErrorReply then
          broken(c)
          c.closed = true
          return nil, { kind = "redis", retryable = false, message = ("Redis %s: %s failed: %s")
                        :format(c.where, setup[i][1], v.err) }
        end
      end
    end
  end
  return c
end

M.Conn = Conn
return M
