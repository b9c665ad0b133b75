--- A work queue on Redis Streams, consumed by any number of workers on any number of hosts
-- (`stt enqueue` / `stt worker`, or a handler and ngx.timer consumers in nginx).
--
-- Keys (prefix P; everything of one batch shares the hash tag {B}, so a Redis Cluster keeps a
-- batch in one slot — docs/scaling.md):
--   P q:{B}          STREAM  one entry per job: i (its index), job (JSON), name (output name);
--                            consumer group "workers"
--   P batch:{B}      HASH    settings (JSON), total, queued, running, succeeded, failed, created
--   P res:{B}:<i>    STRING  the job's result record (JSON: state, task_id, outputs, error, text),
--                            kept `result_ttl` seconds (0: forever)
--   P batches        SET     batches that still have jobs to do
-- A worker takes entries with XREADGROUP; one whose worker stopped acknowledging for `lease`
-- seconds is taken over with XAUTOCLAIM by another worker, which resumes it: the job's claim in
-- the task store (lua/stt/store/redis.lua) makes a second submit impossible, so the new worker
-- waits on the task the first one created (or reports its unknown outcome). Finishing is one
-- script: the first result recorded counts (SET NX), later ones (a worker that came back after
-- its lease) only acknowledge; the entry is then deleted from the stream.
local core = require "stt.core"
local redis = require "stt.redis"

local M = {}

M.GROUP = "workers"
M.LEASE = 120                 -- seconds without an acknowledgement before another worker takes over

local FINISH = [[
local first = redis.call('SET', KEYS[1], ARGV[1], 'NX')
if first then
  if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
  redis.call('HINCRBY', KEYS[2], 'running', -1)
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
end
redis.call('XACK', KEYS[3], ARGV[4], ARGV[5])
redis.call('XDEL', KEYS[3], ARGV[5])        -- done: the entry is not needed any more (memory)
local b = redis.call('HMGET', KEYS[2], 'total', 'succeeded', 'failed')
return {first and 1 or 0, tonumber(b[1]) or 0, (tonumber(b[2]) or 0) + (tonumber(b[3]) or 0)}
]]

-- New entries for a consumer, and the batch's counters moved with them in the same step (a worker
-- that dies between the two cannot leave them wrong): KEYS = stream, batch hash; ARGV = group,
-- consumer, count.
local TAKE = [[
local got = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not got then return {} end
local n = #got[1][2]
if n > 0 then
  redis.call('HINCRBY', KEYS[2], 'queued', -n)
  redis.call('HINCRBY', KEYS[2], 'running', n)
end
return got[1][2]
]]

-- How often one queue object looks for entries whose lease ran out (XAUTOCLAIM), at most: a
-- quarter of the lease, so a dead worker's job waits at most 1.25 leases.
local function reclaim_every(lease) return math.max(0.2, lease / 4) end
-- How long the list of batches with work left is reused before it is read again.
local BATCHES_TTL = 1

local Queue = {}
Queue.__index = Queue

--- open(url, opts) -> queue. opts: { prefix = "stt:", lease = seconds, result_ttl = seconds }.
function M.open(url, opts)
  opts = opts or {}
  local r = redis.new(url, { timeout = opts.timeout or 5, connect_timeout = opts.connect_timeout or 2 })
  return setmetatable({ r = r,
                        p = opts.prefix or "stt:", lease = opts.lease or M.LEASE,
                        result_ttl = opts.result_ttl or 7 * 86400 }, Queue)
end

function Queue:_stream(b) return self.p .. "q:{" .. b .. "}" end
function Queue:_batch(b) return self.p .. "batch:{" .. b .. "}" end
function Queue:_result(b, i) return self.p .. "res:{" .. b .. "}:" .. i end

local function fail(err) return nil, "queue: " .. tostring(type(err) == "table" and err.message or err) end

-- A batch id: time plus randomness, sortable by creation.
local function new_batch_id()
  local f = io.open("/dev/urandom", "rb")
  local raw = f and f:read(4) or tostring(math.random())
  if f then f:close() end
  return os.date("!%Y%m%dT%H%M%S") .. "-" .. raw:gsub(".", function(c) return ("%02x"):format(c:byte()) end)
end

--- enqueue(settings, jobs) -> batch id | nil, message. settings: anything JSON-able the workers
-- need (provider, model, formats, output ...); jobs: { { job = {...}, name = "out name" }, ... }.
function Queue:enqueue(settings, jobs)
  local b = new_batch_id()
  local cmds = {
    { "HSET", self:_batch(b), "settings", core.json_encode(settings or {}), "total", #jobs, "queued", #jobs,
      "running", 0, "succeeded", 0, "failed", 0, "created", os.time() },
    { "XGROUP", "CREATE", self:_stream(b), M.GROUP, "0", "MKSTREAM" },
  }
  for i, j in ipairs(jobs) do
    cmds[#cmds + 1] = { "XADD", self:_stream(b), "*", "i", i, "job", core.json_encode(j.job), "name", j.name or "" }
  end
  cmds[#cmds + 1] = { "SADD", self.p .. "batches", b }
  local out, err = self.r:pipeline(cmds)
  if not out then return fail(err) end
  for _, v in ipairs(out) do if type(v) == "table" and v.err then return fail(v.err) end end
  return b
end

local function fields(list)
  local h = {}
  for i = 1, #list, 2 do h[list[i]] = list[i + 1] end
  return h
end

-- Stream entries ([id, [k, v, ...]] ...) of batch b as work items.
local function items(b, list, out)
  for _, e in ipairs(type(list) == "table" and list or {}) do
    if type(e) == "table" and type(e[2]) == "table" then
      local h = fields(e[2])
      out[#out + 1] = { batch = b, id = e[1], i = tonumber(h.i), job = core.json_decode(h.job or "{}") or {},
                        name = h.name ~= "" and h.name or nil }
    end
  end
  return out
end

--- take(consumer, count) -> { item, ... } | nil, message: up to `count` jobs for this consumer
-- (a name unique per worker thread): first those whose worker stopped acknowledging for longer
-- than the lease (item.resumed = true), then new ones. Empty when there is nothing to do.
function Queue:take(consumer, count)
  count = count or 1
  local now = core.now()
  local batches = self._batches
  if not batches or now - self._batches_at > BATCHES_TTL then
    local err
    batches, err = self.r:call("SMEMBERS", self.p .. "batches")
    if not batches then return fail(err) end
    table.sort(batches)                                   -- oldest batch first
    self._batches, self._batches_at = batches, now
  end
  local out = {}
  for _, b in ipairs(batches) do
    self._reclaimed = self._reclaimed or {}
    if now - (self._reclaimed[b] or -math.huge) >= reclaim_every(self.lease) then
      local claimed, cerr = self.r:call("XAUTOCLAIM", self:_stream(b), M.GROUP, consumer,
        math.floor(self.lease * 1000), "0-0", "COUNT", count)
      if claimed == nil then return fail(cerr) end
      local got = type(claimed) == "table" and claimed[2] or nil
      -- all of them taken: look again next time (more may be waiting); else not before a while
      self._reclaimed[b] = (type(got) == "table" and #got >= count) and -math.huge or now
      local before = #out
      items(b, got, out)
      for k = before + 1, #out do out[k].resumed = true end
      if #out >= count then return out end
    end
    local fresh, ferr = self.r:eval(TAKE, { self:_stream(b), self:_batch(b) }, { M.GROUP, consumer, count - #out })
    if fresh == nil then return fail(ferr) end
    items(b, fresh, out)
    if #out >= count then return out end
  end
  return out
end

--- done(item, result) -> true | nil, message. result: { state = "succeeded" | "failed", task_id,
-- outputs, error, text, result (the whole Result, for readers that serve it: nginx), worker (who
-- did it, free text) }. The first
-- result of a job counts; the batch leaves `batches` when every job has one.
function Queue:done(item, result)
  local state = result.state == "succeeded" and "succeeded" or "failed"
  local rec = core.json_encode({ i = item.i, name = item.name, state = state, task_id = result.task_id,
    outputs = result.outputs, error = result.error, text = result.text, result = result.result,
    worker = result.worker, at = os.time() })
  local v, err = self.r:eval(FINISH, { self:_result(item.batch, item.i), self:_batch(item.batch),
    self:_stream(item.batch) }, { rec, state, self.result_ttl, M.GROUP, item.id })
  if not v then return fail(err) end
  if type(v) == "table" and v[2] > 0 and v[3] >= v[2] then
    self.r:call("SREM", self.p .. "batches", item.batch)
    self._batches = nil
  end
  return true
end

--- Keep an item's lease while its job runs (XCLAIM to ourselves resets its idle time).
function Queue:touch(item, consumer)
  local _, err = self.r:call("XCLAIM", self:_stream(item.batch), M.GROUP, consumer, 0, item.id, "JUSTID")
  if err then return fail(err) end
  return true
end

--- status(batch) -> { batch, total, queued, running, succeeded, failed, settings } | nil, message
function Queue:status(b)
  local h, err = self.r:call("HGETALL", self:_batch(b))
  if not h then return fail(err) end
  if #h == 0 then return nil, "queue: no batch " .. b end
  local f = fields(h)
  return { batch = b, total = tonumber(f.total) or 0, queued = tonumber(f.queued) or 0,
           running = tonumber(f.running) or 0, succeeded = tonumber(f.succeeded) or 0,
           failed = tonumber(f.failed) or 0, created = tonumber(f.created),
           settings = f.settings and core.json_decode(f.settings) or nil }
end

--- results(batch) -> { [i] = record } of the jobs that have one.
function Queue:results(b)
  local st, err = self:status(b)
  if not st then return nil, err end
  local cmds = {}
  for i = 1, st.total do cmds[i] = { "GET", self:_result(b, i) } end
  local out, perr = self.r:pipeline(cmds)
  if not out then return fail(perr) end
  local res = {}
  for i = 1, st.total do
    if type(out[i]) == "string" then res[i] = core.json_decode(out[i]) end
  end
  return res
end

--- batches() -> every batch id with a status record, newest first.
function Queue:batches()
  local keys, cursor, seen = {}, "0", {}
  repeat
    local page, err = self.r:call("SCAN", cursor, "MATCH", self.p .. "batch:{*}", "COUNT", 1000)
    if not page then return fail(err) end
    cursor = page[1]
    for _, k in ipairs(page[2] or {}) do
      local b = k:match("batch:{(.-)}$")
      if b and not seen[b] then seen[b] = true; keys[#keys + 1] = b end
    end
  until cursor == "0"
  table.sort(keys, function(a, b) return a > b end)
  return keys
end

--- True when no batch has work left (queued or running); nil, message when Redis cannot say.
function Queue:idle()
  local n, err = self.r:call("SCARD", self.p .. "batches")
  if not n then return fail(err) end
  return n == 0
end

function Queue:close() self.r:close() end

M.Queue = Queue
return M
