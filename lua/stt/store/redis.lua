--- The Redis store: the records of the file journal (lua/stt/store/records.lua) kept in Redis, so
-- that every process and host sharing it submits a job once (client option
-- `store = "redis://host:port/db"`). The interface is lua/stt/store/init.lua's.
--
-- Keys (prefix P, default "stt:"; a job's own key carries a hash tag, so that a Redis Cluster
-- keeps each job in one slot — docs/scaling.md):
--   P job:{K}             HASH  provider, model, job (JSON), canon, planned_id, at, state,
--                               task (JSON), error (JSON), holder, lease_until (ms, Redis clock)
--   P task:<id>           STRING  the job key of a task id
--   P pending:<provider>  SET   job keys not in a final state
--   P jobs                SET   every job key (entries())
--   P uploads             HASH  "<target>\0<sha256>" -> upload record (JSON)
--   P notes               LIST  tool notes (JSON)
--   P cb:<key>            HASH  callback marks: task, noted, ended (lua/stt/callback.lua; expire)
-- The claim (intent) is one server-side script: a job already claimed, submitted or finished
-- under the same canonical text is not claimed again (`force` claims it anyway); the claim
-- holds a lease (LEASE_MS) while its holder submits. Someone finding a claim whose lease runs
-- waits for its outcome; a claim whose lease ran out without a task is the ambiguous case: its
-- holder may have submitted before it died, so it is never resubmitted without `force`.
local core = require "stt.core"
local records = require "stt.store.records"
local redis = require "stt.redis"

local M = {}

-- How long a claim holds while its holder submits (client option store_lease). A submit that
-- takes longer (retries behind a long Retry-After) only makes others see an unknown outcome for
-- a while (they never resubmit it): the holder still records its task when it gets one.
M.LEASE_MS = 30000

local CLAIM = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local st = redis.call('HGET', KEYS[1], 'state')
if st and ARGV[9] ~= '1' and st ~= 'rejected' and redis.call('HGET', KEYS[1], 'canon') == ARGV[1] then
  -- 'resume': an unknown outcome with a client-chosen id whose holder's lease ran out is taken
  -- over by one resumer (the others find its fresh lease and wait)
  local resumable = ARGV[9] == 'resume' and st == 'unknown' and ARGV[5] ~= ''
    and redis.call('HGET', KEYS[1], 'planned_id') == ARGV[5]
    and (tonumber(redis.call('HGET', KEYS[1], 'lease_until')) or 0) <= now
  if not resumable then return {0, now} end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'canon', ARGV[1], 'provider', ARGV[2], 'model', ARGV[3], 'job', ARGV[4],
  'planned_id', ARGV[5], 'at', ARGV[6], 'state', 'unknown', 'holder', ARGV[7],
  'lease_until', now + tonumber(ARGV[8]))
return {1, now}
]]

-- The entry of a job hash (HGETALL as a flat list) read at Redis time `now` (ms).
local function entry_of(key, flat, now)
  if type(flat) ~= "table" or #flat == 0 then return nil end
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  local e = { key = key, provider = h.provider, model = h.model ~= "" and h.model or nil,
              job = h.job and core.json_decode(h.job) or {}, canon = h.canon,
              planned_id = h.planned_id ~= "" and h.planned_id or nil, at = tonumber(h.at),
              state = h.state or "unknown", holder = h.holder }
  if h.task and h.task ~= "" then e.task = core.json_decode(h.task) end
  if h.error and h.error ~= "" then e.error = core.json_decode(h.error) end
  local lease = tonumber(h.lease_until)
  e.lease_left_ms = lease and now and (lease - now) or 0
  return e
end

local Store = {}
Store.__index = Store

--- open(url, opts) -> store. No I/O: the first call connects. opts: { prefix = "stt:", lease (s) }.
function M.open(url, opts)
  opts = opts or {}
  local r = redis.new(url, { timeout = opts.timeout or 5, connect_timeout = opts.connect_timeout or 2 })
  local prefix = opts.prefix or "stt:"
  if type(prefix) ~= "string" then error("store: store_prefix must be a string", 3) end
  -- a holder id per store object: who claimed a job (host and pid are for people reading Redis)
  local raw = io.open("/dev/urandom", "rb")
  local rnd = raw and raw:read(6) or tostring(os.time())
  if raw then raw:close() end
  local hex = rnd:gsub(".", function(c) return ("%02x"):format(c:byte()) end)
  local holder = (os.getenv("HOSTNAME") or "host") .. ":" .. hex
  return setmetatable({ r = r, p = prefix, holder = holder, redis = true, closed = true, task_keys = {},
                        lease_ms = opts.lease and math.floor(opts.lease * 1000) or nil,
                        path = r.display or url:gsub("//[^@/]*@", "//") }, Store)
end

function Store:_k(...) return self.p .. table.concat({ ... }) end
function Store:_job(key) return self.p .. "job:{" .. key .. "}" end

-- A Redis failure as the message the client puts in its error.
local function msg(err) return "store " .. tostring(type(err) == "table" and err.message or err) end

-- HGETALL of a job hash with Redis's clock (for leases), in one round trip.
function Store:_read(key)
  local out, err = self.r:pipeline({ { "HGETALL", self:_job(key) }, { "TIME" } })
  if not out then return nil, msg(err) end
  local t = out[2]
  local now = type(t) == "table" and (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) or nil
  return entry_of(key, out[1], now), nil
end

function Store:find(key, canon)
  local e, err = self:_read(key)
  if err then return nil, err end
  if not e or e.state == "rejected" then return nil end
  if canon and e.canon ~= canon then return nil end
  return e
end

-- The job key of a task id: remembered from this process's own records (a task submitted here is
-- finished here, usually), else read from Redis. Forgotten when the task ends.
function Store:_task_key(id)
  local key = self.task_keys[id]
  if key then return key end
  local err
  key, err = self.r:call("GET", self:_k("task:", id))
  if err then return nil, msg(err) end
  return type(key) == "string" and key or nil
end

function Store:by_task(id)
  local key, err = self:_task_key(id)
  if not key then return nil, err end
  return self:_read(key)
end

--- A claim still held by a holder that is submitting (its lease runs): wait for its outcome.
function Store.busy(_, e)
  return e.state == "unknown" and e.holder ~= nil and e.holder ~= "" and (e.lease_left_ms or 0) > 0
end

function Store:intent(key, provider, model, job, planned_id, force)
  local j = records.job(job)
  local e = { key = key, provider = provider, model = model, job = j, planned_id = planned_id, at = os.time(),
              state = "unknown", holder = self.holder }
  e.canon = records.canon(e)
  local res, err = self.r:eval(CLAIM, { self:_job(key) }, { e.canon, provider, model or "", core.json_encode(j),
    planned_id or "", tostring(e.at), self.holder, tostring(self.lease_ms or M.LEASE_MS),
    force == "resume" and "resume" or force and "1" or "0" })
  if not res then return nil, msg(err) end
  if res[1] ~= 1 then
    local other, rerr = self:_read(key)
    if rerr then return nil, rerr end
    return nil, "claimed by another holder", other
  end
  -- indexes: outside the claim (a cluster keeps them in other slots); an index that misses a job
  -- only hides it from pending()/entries(), never causes a second submit
  self.r:pipeline({ { "SADD", self:_k("jobs"), key }, { "SADD", self:_k("pending:", provider), key } })
  return e
end

function Store:submitted(key, task)
  local t = records.task(task)
  local out, err = self.r:pipeline({
    { "HSET", self:_job(key), "state", t.state or "queued", "task", core.json_encode(t) },
    { "HDEL", self:_job(key), "holder", "lease_until" },
    { "SET", self:_k("task:", t.id), key },
  })
  if not out then return nil, msg(err) end
  for _, v in ipairs(out) do if type(v) == "table" and v.err then return nil, msg(v.err) end end
  self.task_keys[t.id] = key
  return true
end

function Store:rejected(key, err)
  local out, rerr = self.r:pipeline({
    { "HSET", self:_job(key), "state", "rejected", "error", core.json_encode(records.error(err) or {}) },
    { "HDEL", self:_job(key), "holder", "lease_until" },
  })
  if not out then return nil, msg(rerr) end
  local e = self:_read(key)
  if e then self.r:call("SREM", self:_k("pending:", e.provider or ""), key) end
  return true
end

-- One round trip when the task was recorded by this store object (the usual case: the process
-- that submits a task waits on it), two otherwise. Writing a state twice is harmless.
function Store:finished(task, state, err)
  local key, gerr = self:_task_key(task.id)
  if not key then
    if gerr then return nil, gerr end
    return true                                            -- not a task of this store
  end
  local t = records.task(task)
  t.state = state
  local cmds = { { "HSET", self:_job(key), "state", state, "task", core.json_encode(t) } }
  if err then cmds[2] = { "HSET", self:_job(key), "error", core.json_encode(records.error(err)) } end
  if records.TERMINAL[state] then cmds[#cmds + 1] = { "SREM", self:_k("pending:", task.provider or ""), key } end
  local out, perr = self.r:pipeline(cmds)
  if not out then return nil, msg(perr) end
  for _, v in ipairs(out) do if type(v) == "table" and v.err then return nil, msg(v.err) end end
  if records.TERMINAL[state] then self.task_keys[task.id] = nil end
  return true
end

-- Entries of a list of job keys (one round trip for all).
function Store:_entries(keys)
  local cmds = { { "TIME" } }
  for i, k in ipairs(keys) do cmds[i + 1] = { "HGETALL", self:_job(k) } end
  local out, err = self.r:pipeline(cmds)
  if not out then return nil, msg(err) end
  local t = out[1]
  local now = type(t) == "table" and (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) or nil
  local list = {}
  for i, k in ipairs(keys) do
    local e = entry_of(k, out[i + 1], now)
    if e then list[#list + 1] = e end
  end
  table.sort(list, function(a, b) return (a.at or 0) < (b.at or 0) end)
  return list
end

function Store:pending(provider)
  local keys, err
  if provider then
    keys, err = self.r:call("SMEMBERS", self:_k("pending:", provider))
  else
    local all
    all, err = self:entries()
    if not all then return nil, err end
    local out = {}
    for _, e in ipairs(all) do
      if not records.TERMINAL[e.state] and e.state ~= "rejected" then out[#out + 1] = e end
    end
    return out
  end
  if err then return nil, msg(err) end
  local list, lerr = self:_entries(keys)
  if not list then return nil, lerr end
  local out = {}
  for _, e in ipairs(list) do
    if not records.TERMINAL[e.state] and e.state ~= "rejected" then out[#out + 1] = e end
  end
  return out
end

function Store:entries()
  local keys, err = self.r:call("SMEMBERS", self:_k("jobs"))
  if err then return nil, msg(err) end
  return self:_entries(keys)
end

function Store:uploaded_for(target, sha256)
  local v, err = self.r:call("HGET", self:_k("uploads"), target .. "\0" .. sha256)
  if err then return nil, msg(err) end
  return type(v) == "string" and core.json_decode(v) or nil
end

function Store:uploaded(target, info, got)
  local rec = { target = target, sha256 = info.sha256, size = info.size, key = got.key,
                url = not got.presigned and got.url or nil, expires_at = got.expires_at, at = os.time() }
  local _, err = self.r:call("HSET", self:_k("uploads"), target .. "\0" .. info.sha256, core.json_encode(rec))
  if err then return nil, msg(err) end
  return true
end

function Store:note(fields)
  local rec = records.copy(fields) or {}
  rec.t = "note"
  local _, err = self.r:call("RPUSH", self:_k("notes"), core.json_encode(rec))
  if err then return nil, msg(err) end
  return true
end

function Store:notes_list()
  local list = self.r:call("LRANGE", self:_k("notes"), 0, -1)
  local out = {}
  for i, v in ipairs(type(list) == "table" and list or {}) do out[i] = core.json_decode(v) end
  return out
end

--- Nothing to mark: Redis holds every state as it changes.
---------------------------------------------------------------- callback marks (lua/stt/callback.lua)
-- P cb:<key>  HASH  task (the task id of a callback key), noted (the state a verified notice gave),
--                   ended ("1": the wait is over; later notices are refused); expires after ttl.

-- Marks a key noticed unless its wait has ended, in one step.
local NOTICE_MARK = [[
if redis.call('HGET', KEYS[1], 'ended') then return 0 end
redis.call('HSET', KEYS[1], 'noted', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
]]

--- notice_get(key) -> { task, noted, ended } | nil [, message]
function Store:notice_get(key)
  local flat, err = self.r:call("HGETALL", self:_k("cb:", key))
  if err then return nil, msg(err) end
  if type(flat) ~= "table" or #flat == 0 then return nil end
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end

--- notice_set(key, field, value | false (deleted), ttl) -> true | nil, message
function Store:notice_set(key, field, value, ttl)
  local k = self:_k("cb:", key)
  local cmd = value == false and { "HDEL", k, field } or { "HSET", k, field, tostring(value) }
  local out, err = self.r:pipeline({ cmd, { "EXPIRE", k, tostring(ttl) } })
  if not out then return nil, msg(err) end
  return true
end

--- notice_mark(key, state, ttl) -> true | false (the key's wait has ended) | nil, message
function Store:notice_mark(key, state, ttl)
  local res, err = self.r:eval(NOTICE_MARK, { self:_k("cb:", key) }, { state, tostring(ttl) })
  if err then return nil, msg(err) end
  return res == 1
end

function Store.close() return true end

M.Store = Store
return M
