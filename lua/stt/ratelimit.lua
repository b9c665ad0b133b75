--- Per-client request rate limits: one limiter per operation class ("submit", "query").
-- A rate of r requests per second is kept as the server counts it: in any sliding second the
-- server must see at most r arrivals. Starts are spaced evenly, (1 + GUARD) / r apart, rather
-- than let through in bursts of r: a burst of r starts spreads on its way (connection setup,
-- scheduling at both ends), and an early arrival of the next burst then lands in the same
-- server-side second (21-22 arrivals per second were seen at 20/s). Evenly spaced starts only
-- put r + 1 arrivals in one second when the first of them is delayed GUARD seconds more than
-- the last; the price is a rate GUARD below the documented one (10 %).
-- A request reserves its start time at once (FIFO, O(1), no list of waiters): the start time
-- is max(now, the previous start + spacing); then the caller sleeps until it.
-- With `shared` (inside nginx) the spacing lives in a lua_shared_dict, so that every worker's
-- clients of one account draw on one budget: see "shared across nginx workers" below.
local sched = require "stt.sched"

local M = {}

-- The margin between the spacing of starts and the documented rate (see above).
local GUARD = 0.1

-- The defaults are each provider's documented (or assumed) rates, from the registry
-- (stt.providers()[provider].rate; sources in docs/providers.md).
local function defaults_of(provider)
  local p = require("stt.capabilities").get()[provider]
  return p and p.rate or {}
end
M.defaults_of = defaults_of

-- Which class an operation of the client counts against (nil: not limited). Result files come
-- from the object store, not the provider's API; vocabulary calls have limits of their own.
local CLASS = { submit = "submit", poll = "query", cancel = "query", list = "query" }

local Window = {}
Window.__index = Window

local Shared = {}
Shared.__index = Shared

local Limiter = {}
Limiter.__index = Limiter

-- `size` starts per `span` seconds: one start per (1 + GUARD) / rate (0.5/s: one per 2.2 s). The
-- ring keeps the general form (size starts per span), which the shared variant's argument uses.
local function window_shape(rate)
  if type(rate) ~= "number" or rate <= 0 then error("rate_limit: rates must be positive numbers", 5) end
  return 1, (1 + GUARD) / rate
end

local function new_window(rate)
  local size, span = window_shape(rate)
  local w = setmetatable({ size = size, span = span, head = 1, ring = {} }, Window)
  for i = 1, size do w.ring[i] = -math.huge end
  return w
end

-- Reserve a start time no later than `deadline` (nil: none); returns the seconds to wait, or nil
-- when the earliest start is past the deadline (nothing is reserved then).
function Window:reserve(now, deadline)
  local start = self.ring[self.head] + self.span
  if start < now then start = now end
  if deadline and start > deadline then return nil end
  self.ring[self.head] = start
  self.head = self.head % self.size + 1
  return start - now
end

function Window:acquire(deadline)
  local delay = self:reserve(sched.now(), deadline)
  if not delay then return false end
  if delay > 0 then sched.sleep(delay) end
  return true
end

---------------------------------------------------------------- shared across nginx workers
-- Every nginx worker is a process with its own clients; with `shared`, the ring of one account
-- and class lives in a lua_shared_dict instead, and is used through its atomic operations only:
--   * a ticket counter (dict:incr) numbers the requests of all workers: 1, 2, 3, ...
--   * ticket n starts at max(now, start(n - size) + span), like the local ring; its start is
--     then written into slot n % size (value "n start"), where ticket n + size will read it.
-- Times are ngx.now() after ngx.update_time(): epoch seconds, the same clock in every worker.
--
-- Why this holds across workers, although ticket order is not start order (two workers that
-- take tickets n and n + 1 microseconds apart may read the clock the other way round, so
-- start(n + 1) < start(n) happens): split the tickets into `size` chains by n % size. Within a
-- chain, each ticket starts at least `span` after the previous ticket of the chain that sent a
-- request (a ticket that gives up passes its predecessor's start on instead of its own, see
-- Shared:acquire). So a window shorter than `span` holds at most one start of each chain, hence
-- at most `size` starts in all: the guarantee of the local ring, whatever the order between
-- chains. (A request leaves at or after its start, never before: GUARD covers late leavers.)
--
-- Waiting for a predecessor: ticket n needs the entry of ticket n - size. The slot holds an
-- older ticket (or nothing) only while n - size's owner, in some worker, has taken its ticket
-- but not yet written: microseconds (it never sleeps in between unless its own predecessor is
-- missing too). So we re-read every millisecond. Only an owner that died in between (its
-- process killed, its request aborted in that sleep) leaves it missing for good: after STALL
-- seconds the entry is taken as "long ago" and an error is logged: then (and after an
-- eviction, below) the guarantee can break. Slots never expire, so an idle period is no such case: an old entry
-- just gives max(now, old + span) = now. A slot holding a NEWER ticket than asked (the dict
-- evicted the counter (LRU, a full dict) and numbering restarted) is used as it is, and
-- overwritten: the ring heals within one round. Give the limiter a dict with room to spare.
local STALL = 0.2
local LONG_AGO = 0                  -- the start of a ticket with no predecessor (1970)

local function epoch_now(ngx)
  ngx.update_time()
  return ngx.now()
end

local function new_shared(rate, dict, prefix)
  local size, span = window_shape(rate)
  return setmetatable({ size = size, span = span, dict = dict, prefix = prefix,
                        counter = prefix .. "n" }, Shared)
end

-- The dict key of ticket n's slot ("%.0f": the same text for 7 and 7.0).
function Shared:slot(n) return self.prefix .. ("%.0f"):format(n % self.size) end

-- The start of ticket m (LONG_AGO when m < 1: no predecessor).
function Shared:entry(m, ngx)
  if m < 1 then return LONG_AGO end
  local key = self:slot(m)
  local since
  while true do
    local v = self.dict:get(key)
    local t, s
    if type(v) == "string" then t, s = v:match("^(%d+) (%S+)$") end
    t = tonumber(t)
    if t and t >= m then return tonumber(s) or LONG_AGO end
    local now = epoch_now(ngx)
    since = since or now
    if now - since > STALL then
      ngx.log(ngx.ERR, "stt: rate limit ticket ", ("%.0f"):format(m), " of ", self.prefix,
        " was never recorded (its worker died or stalled); not waiting for it")
      return LONG_AGO
    end
    sched.sleep(0.001)
  end
end

-- Written unconditionally: if a late owner (after a STALL) overwrites a newer ticket, the next
-- reader of that slot waits one STALL more and writes it right again.
function Shared:record(n, start)
  local ok, err = self.dict:set(self:slot(n), ("%.0f %.6f"):format(n, start))
  if not ok then
    local ngx = sched.ngx_api()
    ngx.log(ngx.ERR, "stt: cannot record a rate limit start in the shared dict: ", tostring(err))
  end
end

function Shared:acquire(deadline)
  local ngx = sched.ngx_api()
  local n, err = self.dict:incr(self.counter, 1, 0)
  if not n then
    -- The dict cannot hold even a counter (far too small): a configuration mistake. Let the
    -- request go rather than stop all traffic; the provider's own 429 and our retries remain.
    ngx.log(ngx.ERR, "stt: shared rate limit unavailable (", tostring(err), "); request not limited")
    return true
  end
  local prev = self:entry(n - self.size, ngx)
  local now = epoch_now(ngx)
  local start = prev + self.span
  if start < now then start = now end
  if deadline and start > deadline - sched.now() + now then
    -- Give up, but the ticket is taken: pass the predecessor's start on, so that ticket
    -- n + size waits for nothing that never happened (writing our own start would also be safe,
    -- only more conservative: requests that time out would eat the budget of those that do not).
    self:record(n, prev)
    return false
  end
  self:record(n, start)
  -- ngx.sleep counts whole milliseconds from nginx's cached clock, so it may wake a little
  -- early: sleep until the shared clock has really passed `start`.
  while true do
    local left = start - epoch_now(ngx)
    if left <= 0 then return true end
    sched.sleep(left < 0.001 and 0.001 or left)
  end
end

---------------------------------------------------------------- shared across hosts (Redis)
-- With a Redis store (or rate_limit.store), one account's budget is one Redis key per class
-- holding the latest reserved start (ms, Redis's clock): a script reserves max(now, last + span)
-- atomically, for every process and host alike, and the caller sleeps until it. Starts are
-- therefore spaced evenly across the whole fleet, as in one process. Redis unreachable: the
-- request is not limited (the store refuses submits then anyway; polls go out at the client's
-- own pace), and the provider's 429 with our retries remain.
local RESERVE = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = last + tonumber(ARGV[1])
if start < now then start = now end
local wait = start - now
if tonumber(ARGV[2]) >= 0 and wait > tonumber(ARGV[2]) then return '-1' end
redis.call('SET', KEYS[1], string.format('%.3f', start), 'PX', math.floor(tonumber(ARGV[1]) * 10) + 60000)
return string.format('%.3f', wait)
]]

local Remote = {}
Remote.__index = Remote

local function new_remote(rate, redis, key)
  local _, span = window_shape(rate)
  return setmetatable({ span_ms = span * 1000, redis = redis, key = key }, Remote)
end

-- A start this much later than its reserved time is not used: the slots after it may have gone
-- out already, and sending now would bunch with them (a busy machine wakes sleepers late; four
-- workers on two cores counted 24 arrivals in one second at 20/s before this). A fresh slot is
-- reserved instead, leaving the late one empty.
local LATE = 0.025

function Remote:acquire(deadline)
  while true do
    local left = deadline and math.max(0, (deadline - sched.now()) * 1000) or -1
    local v, err = self.redis:eval(RESERVE, { self.key }, { ("%.3f"):format(self.span_ms), ("%.3f"):format(left) })
    if not v then
      self.last_error = err
      return true
    end
    local wait = tonumber(v)
    if not wait or wait < 0 then return false end
    if wait == 0 then return true end
    local due = sched.now() + wait / 1000
    sched.sleep(wait / 1000)
    if sched.now() - due <= LATE then return true end
  end
end

-- The dict named by rate_limit.shared (a name in ngx.shared, or the dict itself).
local function shared_dict(shared)
  local ngx = sched.ngx_api()
  if not ngx then error("rate_limit.shared needs nginx (a lua_shared_dict)", 4) end
  if type(shared) == "string" then
    local dict = ngx.shared and ngx.shared[shared]
    if not dict then error(("rate_limit.shared: no lua_shared_dict %q in nginx.conf"):format(shared), 4) end
    return dict
  end
  if (type(shared) == "table" or type(shared) == "userdata") and shared.incr then return shared end
  error("rate_limit.shared must be a lua_shared_dict or its name", 4)
end

-- The dict key prefix of an account: `key`, or the provider and a short, one-way hash of the
-- credential (never the credential itself; two keys, two budgets).
local function account_prefix(provider, key, credential)
  if key == nil then
    key = provider .. ":" .. sched.ngx_api().md5(credential or ""):sub(1, 12)
  elseif type(key) ~= "string" or key == "" then
    error("rate_limit.key must be a non-empty string", 4)
  end
  return "stt:rl:" .. key .. ":"
end

--- ratelimit.new(provider, opts, credential): opts is the client's rate_limit option: nil (the
-- provider's defaults), false (no limits) or { submit = n, query = n [, shared = dict | name]
-- [, key = account] } (missing classes keep the default; a class set to false is not limited).
-- `credential` (the API key) only names the shared budget, hashed. Returns a limiter or nil.
function M.new(provider, opts, credential, store)
  if opts == false then return nil end
  if opts ~= nil and type(opts) ~= "table" then error("rate_limit must be a table or false", 3) end
  local dict, prefix, redis
  if opts and opts.shared ~= nil then
    dict = shared_dict(opts.shared)
    prefix = account_prefix(provider, opts.key, credential)
  elseif opts and opts.store ~= nil or store then
    -- one budget for the fleet: rate_limit.store (a redis:// URL), else the client's Redis store
    local url = opts and opts.store or store
    if type(url) ~= "string" or not url:match("^rediss?://") then
      error("rate_limit.store must be a redis:// URL", 3)
    end
    redis = require("stt.redis").new(url, { timeout = 2, connect_timeout = 1 })
    local key = opts and opts.key
    if key ~= nil and (type(key) ~= "string" or key == "") then
      error("rate_limit.key must be a non-empty string", 3)
    end
    prefix = ((opts and opts.prefix) or "stt:") .. "rl:"
      .. (key or (provider .. ":" .. require("stt.core").sha256(credential or ""):sub(1, 12))) .. ":"
  elseif opts and opts.key ~= nil then
    error("rate_limit.key names a shared budget: it needs rate_limit.shared or rate_limit.store", 3)
  end
  local defaults = defaults_of(provider)
  local lim = { windows = {}, shared = dict ~= nil or redis ~= nil }
  local any = false
  for _, class in ipairs({ "submit", "query" }) do
    local rate = defaults[class]
    if opts and opts[class] ~= nil then rate = opts[class] end
    if rate then
      lim.windows[class] = dict and new_shared(rate, dict, prefix .. class .. ":")
        or redis and new_remote(rate, redis, prefix .. class) or new_window(rate)
      any = true
    end
  end
  if not any then return nil end
  return setmetatable(lim, Limiter)
end

--- Wait (through stt.sleep) until operation `op` may send a request. Returns true, or false when
-- the wait would pass `deadline` (a sched.now() time; then the caller returns its timeout error).
function Limiter:acquire(op, deadline)
  local class = CLASS[op]
  local w = class and self.windows[class]
  if not w then return true end
  return w:acquire(deadline)
end

return M
