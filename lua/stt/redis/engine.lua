--- The engine backend of stt.redis: Redis connections of stt.core's engine (hiredis's async API
-- driven by the engine's event loop, csrc/redis.c), outside nginx. Inside stt.run a command
-- yields the calling thread only; elsewhere it blocks on an engine of its own.
--
--   backend.connect(cfg, engine) -> conn | nil, err
--     cfg = { host, port (6379), db (0), password, username, timeout (s per command, 5),
--             connect_timeout (s, = timeout) }; engine: the stt.core engine it lives on.
--   conn:call(args) -> value | nil, err          conn:pipeline({ args, ... }) -> { value, ... } | nil, err
--   conn:usable() -> boolean                     conn:close()  (idempotent)
--
-- Values and errors are those of the nginx backend (lua/stt/redis/ngx.lua): strings, numbers,
-- stt.core.null, nested arrays, an error reply inside a pipeline as { err = "ERR ..." };
-- err = { kind = "redis" | "network" | "timeout" | "protocol", message, retryable, sent }. A
-- command that times out drops its connection (a late reply could not be matched to it); the
-- caller's next command connects again. No message carries the password.
local sched = require "stt.sched"

local M = {}

local DEFAULT_TIMEOUT = 5

local ErrorReply = require("stt.redis.ngx").ErrorReply   -- one shape for an error inside a pipeline

local Conn = {}
Conn.__index = Conn

local function seconds(v, what, default)
  if v == nil then return default end
  if type(v) ~= "number" or v <= 0 then error("stt.redis: " .. what .. " must be a positive number", 4) end
  return v
end

-- A completion of the engine as value | nil, err.
local function result(d)
  if d.error then
    local kind = d.error.kind
    return nil, { kind = kind, message = d.error.message, retryable = kind == "network" or kind == "timeout",
                  sent = true }
  end
  if d.redis_error then return nil, { kind = "redis", message = d.redis_error, retryable = false } end
  return d.value
end

local function exchange(c, list)
  if c.closed then error("stt.redis: the connection was closed", 3) end
  local out, err = sched.redis(c.conn, list, c.timeout)
  if not out then
    return nil, { kind = "network", message = tostring(err), retryable = true, sent = false }
  end
  return out
end

--- One command; an error reply is nil, { kind = "redis", message, retryable = false }.
function Conn:call(args)
  local out, err = exchange(self, { args })
  if not out then return nil, err end
  return result(out[1])
end

--- Commands in one write; replies in order, an error reply as { err = "ERR ..." }. A failure of
-- the connection fails the whole pipeline (its first such error).
function Conn:pipeline(list)
  if type(list) ~= "table" then error("stt.redis: pipeline expects a list of commands", 2) end
  if list[1] == nil then return {} end
  local out, err = exchange(self, list)
  if not out then return nil, err end
  local vals = {}
  for i = 1, #out do
    local d = out[i]
    if d.error then return result(d) end
    vals[i] = d.redis_error and setmetatable({ err = d.redis_error }, ErrorReply) or d.value
  end
  return vals
end

--- True while commands can be sent (not closed, not broken, its engine alive).
function Conn:usable()
  return not self.closed and not self.conn:closed()
end

function Conn:close()
  if self.closed then return end
  self.closed = true
  self.conn:close()
end

--- cfg: see the header. Connects (and authenticates, selects the db) on `engine`.
function M.connect(cfg, engine)
  if type(cfg) ~= "table" then error("stt.redis: connect expects a config table", 2) end
  local host, port = cfg.host or "127.0.0.1", cfg.port or 6379
  if type(host) ~= "string" or host == "" then error("stt.redis: cfg.host must be a string", 2) end
  if host:sub(1, 5) == "unix:" then error("stt.redis: unix sockets are served by the nginx backend only", 2) end
  if type(port) ~= "number" or port < 1 or port > 65535 or port ~= math.floor(port) then
    error("stt.redis: cfg.port must be a port number", 2)
  end
  local db = cfg.db or 0
  if type(db) ~= "number" or db < 0 or db ~= math.floor(db) then
    error("stt.redis: cfg.db must be a non-negative integer", 2)
  end
  if cfg.tls or cfg.ssl then error("stt.redis: TLS is not supported (use a local TLS proxy such as stunnel)", 2) end
  local timeout = seconds(cfg.timeout, "cfg.timeout", DEFAULT_TIMEOUT)
  local connect_timeout = seconds(cfg.connect_timeout, "cfg.connect_timeout", timeout)
  local raw, err = engine:redis_connect(host, port, { connect_timeout = connect_timeout })
  if not raw then
    return nil, { kind = "network", message = tostring(err), retryable = true, sent = false }
  end
  local c = setmetatable({ conn = raw, timeout = timeout }, Conn)
  -- A new connection starts unauthenticated on db 0: both in the first round trip.
  local setup = {}
  local password = cfg.password ~= "" and cfg.password or nil
  if password then setup[#setup + 1] = cfg.username and { "AUTH", cfg.username, password } or { "AUTH", password } end
  if db ~= 0 then setup[#setup + 1] = { "SELECT", db } end
  if setup[1] then
    local out, serr = exchange(c, setup)
    if not out then c:close(); return nil, serr end
    for i, d in ipairs(out) do
      if d.error or d.redis_error then
        c:close()
        local _, e = result(d)
        if e.kind == "redis" then e.message = ("%s failed: %s"):format(setup[i][1], e.message) end
        return nil, e
      end
    end
  end
  return c
end

return M
