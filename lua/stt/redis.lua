--- stt.redis: the Redis client the task store, the work queue and the fleet's rate limiter use.
-- One object per server; it picks its backend where it runs:
--   * inside nginx: cosockets (lua/stt/redis/ngx.lua), a pooled connection per call;
--   * elsewhere: hiredis in stt.core's engine (lua/stt/redis/engine.lua): inside stt.run the
--     connection lives on the run's engine and a command yields the calling thread only;
--     outside it, on an engine of the object's own, and a command blocks.
--
--   local r = stt.redis.new("redis://:secret@127.0.0.1:6379/2", { timeout = 5, connect_timeout = 2 })
--   r:call("SET", "k", "v")              -> value | nil, err
--   r:pipeline({ { "INCR", "a" }, { "GET", "b" } })  -> { 1, "x" } | nil, err
--   r:eval(script, { keys }, { args })   -> value | nil, err   (EVALSHA; loads the script once)
--   r:close()                            r.round_trips, r.commands; stt.redis.stats() (all clients)
--
-- err = { kind = "redis" | "network" | "timeout" | "protocol", message, retryable, sent }; a
-- connection that failed is dropped and the next call connects again. The URL's password never
-- appears in a message or in r.display.
local sched = require "stt.sched"
local core = require "stt.core"

local M = {}

M.null = core.null

-- Round trips and commands sent by every client of this Lua state (M.stats()); each client keeps
-- its own as well (r.round_trips, r.commands). For tools that report what a job costs in Redis.
local totals = { round_trips = 0, commands = 0 }

--- stats() -> { round_trips, commands } sent by all clients of this Lua state so far.
function M.stats() return { round_trips = totals.round_trips, commands = totals.commands } end

local function count(r, commands)
  r.round_trips, r.commands = r.round_trips + 1, r.commands + commands
  totals.round_trips, totals.commands = totals.round_trips + 1, totals.commands + commands
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- parse_url("redis://[user:password@]host[:port][/db]") -> cfg. Also "rediss://" (refused at
-- connect: no TLS), "[v6]:port" hosts and "unix:/path" (nginx only) as cfg.host.
function M.parse_url(url)
  if type(url) ~= "string" then error("stt.redis: a redis:// URL expected", 3) end
  local scheme, rest = url:match("^(rediss?)://(.*)$")
  if not scheme then error("stt.redis: not a redis:// URL: " .. url:gsub("//[^@/]*@", "//"), 3) end
  local cfg = { tls = scheme == "rediss" or nil }
  local userinfo, hostpart = rest:match("^([^@/]*)@(.*)$")
  if userinfo then
    local user, pass = userinfo:match("^([^:]*):(.*)$")
    if user then
      cfg.username = user ~= "" and unescape(user) or nil
      cfg.password = unescape(pass)
    else
      cfg.password = unescape(userinfo)
    end
    rest = hostpart
  end
  local hostport, path = rest:match("^([^/]*)(.*)$")
  local host, port = hostport:match("^%[(.+)%]:?(%d*)$")
  if not host then host, port = hostport:match("^([^:]*):?(%d*)$") end
  if not host or host == "" then error("stt.redis: no host in " .. url:gsub("//[^@/]*@", "//"), 3) end
  cfg.host = host
  cfg.port = port ~= "" and tonumber(port) or 6379
  local db = path:match("^/(%d+)$")
  if path ~= "" and path ~= "/" and not db then
    error("stt.redis: the path of a redis:// URL is a database number: " .. url:gsub("//[^@/]*@", "//"), 3)
  end
  cfg.db = db and tonumber(db) or 0
  return cfg
end

local Redis = {}
Redis.__index = Redis

--- new(url | cfg, opts) -> client. No I/O: the first call connects. opts: { timeout = s per
-- command (5), connect_timeout = s (2) } (override the cfg's).
function M.new(spec, opts)
  opts = opts or {}
  local cfg
  if type(spec) == "string" then cfg = M.parse_url(spec)
  elseif type(spec) == "table" then
    cfg = {}
    for k, v in pairs(spec) do cfg[k] = v end
  else error("stt.redis.new expects a redis:// URL or a config table", 2) end
  cfg.timeout = opts.timeout or cfg.timeout or 5
  cfg.connect_timeout = opts.connect_timeout or cfg.connect_timeout or 2
  local display = ("redis://%s:%d/%d"):format(cfg.host:find(":", 1, true) and "[" .. cfg.host .. "]" or cfg.host,
                                              cfg.port or 6379, cfg.db or 0)
  return setmetatable({ cfg = cfg, display = display, shas = {}, round_trips = 0, commands = 0,
                        conns = setmetatable({}, { __mode = "k" }) }, Redis)
end

-- Runs fn(conn) on a connection of the backend where we run; returns what fn returns.
function Redis:_with(fn)
  if self.closed then error("stt.redis: the client was closed", 3) end
  if sched.in_nginx() then
    local conn, err = require("stt.redis.ngx").connect(self.cfg)
    if not conn then return nil, err end
    local a, b = fn(conn)
    conn:close()                              -- back to the pool when clean
    return a, b
  end
  local engine = sched.engine()
  if not engine then
    self.own = self.own or core.engine()
    engine = self.own
    engine:perform()                          -- lets a connection notice a server gone meanwhile
  end
  local conn = self.conns[engine]
  if conn and not conn:usable() then conn:close(); conn = nil end
  if not conn then
    local err
    conn, err = require("stt.redis.engine").connect(self.cfg, engine)
    if not conn then return nil, err end
    self.conns[engine] = conn
  end
  local a, b = fn(conn)
  if a == nil and b and b.kind ~= "redis" then  -- the connection failed: the next call reconnects
    conn:close()
    self.conns[engine] = nil
  end
  return a, b
end

--- One command: r:call("HSET", key, field, value) -> value | nil, err.
function Redis:call(...)
  local args = { ... }
  return self:_with(function(conn)
    count(self, 1)
    return conn:call(args)
  end)
end

--- Several commands in one round trip -> replies in order (an error reply as { err = "..." }).
function Redis:pipeline(list)
  return self:_with(function(conn)
    count(self, #list)
    return conn:pipeline(list)
  end)
end

--- A Lua script by its SHA1 (EVALSHA); the script is loaded on first use and again after the
-- server forgot it (NOSCRIPT: a restart, SCRIPT FLUSH).
function Redis:eval(script, keys, args)
  keys, args = keys or {}, args or {}
  local function cmd(sha)
    local c = { "EVALSHA", sha, #keys }
    for _, k in ipairs(keys) do c[#c + 1] = k end
    for _, a in ipairs(args) do c[#c + 1] = a end
    return c
  end
  return self:_with(function(conn)
    local sha = self.shas[script]
    if sha then
      count(self, 1)
      local v, err = conn:call(cmd(sha))
      if not (v == nil and err and err.kind == "redis" and tostring(err.message):find("^NOSCRIPT")) then
        return v, err
      end
    end
    count(self, 1)
    local loaded, lerr = conn:call({ "SCRIPT", "LOAD", script })
    if not loaded then return nil, lerr end
    self.shas[script] = loaded
    count(self, 1)
    return conn:call(cmd(loaded))
  end)
end

--- Closes every connection (idempotent); the client cannot be used afterwards.
function Redis:close()
  if self.closed then return end
  self.closed = true
  for _, conn in pairs(self.conns) do conn:close() end
  self.conns = {}
  if self.own then self.own:close(); self.own = nil end
end
Redis.__close = Redis.close

return M
