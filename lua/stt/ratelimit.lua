--- Per-client request rate limits: one limiter per operation class ("submit", "query").
-- Each class allows at most `rate` requests in any window of one second (burst = rate). It is a
-- sliding window kept as a ring of the last `size` start times rather than a plain token bucket:
-- a bucket with burst = rate lets up to 2 x rate through inside one calendar second, and
-- providers (and the simulator) count requests per second.
-- A request reserves its start time at once (FIFO, O(1), no list of waiters): the start time
-- is max(now, the start `size` requests ago + window); then the caller sleeps until it.
local sched = require "stt.sched"

local M = {}

-- Arrival times at the server jitter around send times (connection setup, scheduling): keep
-- each window this much longer than one second so that a per-second counter never sees rate + 1.
local GUARD = 0.05

-- Documented per-provider QPS (shared/reference/providers.md).
M.DEFAULTS = {
  dashscope = { submit = 20, query = 20 },          -- §4.2, §4.9 (paraformer-v2 20 submits/s, query 20)
  turing = { submit = 20, query = 100 },            -- §1.5: Tingwu CreateTask 20, GetTaskInfo 100
  -- Volcengine LAS (§2.7) and AUC (§3.6): QPS UNCONFIRMED; a conservative 20/20 until documented.
  volcengine = { submit = 20, query = 20 },
  ["volcengine-auc"] = { submit = 20, query = 20 },
}

-- Which class an operation of the client counts against (nil: not limited). Result files come
-- from the object store, not the provider's API; vocabulary calls have limits of their own.
M.CLASS = { submit = "submit", poll = "query", cancel = "query" }

local Window = {}
Window.__index = Window

local Limiter = {}
Limiter.__index = Limiter

local function new_window(rate)
  if type(rate) ~= "number" or rate <= 0 then error("rate_limit: rates must be positive numbers", 4) end
  -- Fractional rates: size requests per size / rate seconds (0.5/s -> 1 request per 2 s).
  local size = math.max(1, math.floor(rate))
  local w = setmetatable({ size = size, span = size / rate + GUARD, head = 1, ring = {} }, Window)
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

--- ratelimit.new(provider, opts): opts is the client's rate_limit option: nil (the provider's
-- defaults), false (no limits) or { submit = n, query = n } (missing classes keep the default;
-- a class set to false is not limited). Returns a limiter or nil (no limits at all).
function M.new(provider, opts)
  if opts == false then return nil end
  if opts ~= nil and type(opts) ~= "table" then error("rate_limit must be a table or false", 3) end
  local defaults = M.DEFAULTS[provider] or {}
  local lim = { windows = {} }
  local any = false
  for _, class in ipairs({ "submit", "query" }) do
    local rate = defaults[class]
    if opts and opts[class] ~= nil then rate = opts[class] end
    if rate then
      lim.windows[class] = new_window(rate)
      any = true
    end
  end
  if not any then return nil end
  return setmetatable(lim, Limiter)
end

--- Wait (through stt.sleep) until operation `op` may send a request. Returns true, or false when
-- the wait would pass `deadline` (a sched.now() time; then the caller returns its timeout error).
function Limiter:acquire(op, deadline)
  local class = M.CLASS[op]
  local w = class and self.windows[class]
  if not w then return true end
  local delay = w:reserve(sched.now(), deadline)
  if not delay then return false end
  if delay > 0 then sched.sleep(delay) end
  return true
end

return M
