--- Many jobs at once: a worker pool (at most `concurrency` workers, each taking the next item
-- when it is free, so a list of any length makes at most that many threads), and
-- transcribe_all on top of it, which can pack consecutive jobs with the same options into one
-- provider task. The command line runs its batch through the same pool.
local core = require "stt.core"
local sched = require "stt.sched"
local errors = require "stt.errors"

local M = {}

--- pool(n, concurrency, work, opts): run work(i) for i = 1..n with at most `concurrency` running
-- at once, inside or outside stt.run (outside, it runs one). opts.next(): the next item as
-- (i, j) or nil when done (default: 1..n one by one); opts.stop(): true stops taking new items.
-- Returns when every started item has ended.
function M.pool(n, concurrency, work, opts)
  opts = opts or {}
  local nexti = 0
  local take = opts.next or function()
    if nexti >= n then return nil end
    nexti = nexti + 1
    return nexti, nexti
  end
  local stop = opts.stop
  local function worker()
    while not (stop and stop()) do
      local i, j = take()       -- never yields: two workers cannot take the same item
      if not i then return end
      work(i, j)
    end
  end
  local function all()
    local ths = {}
    for w = 1, math.min(concurrency, n) do ths[w] = sched.spawn(worker) end
    for w = 1, #ths do ths[w]:join() end
  end
  if sched.current() then all() else sched.run(all) end
end

-- Files per task that `model` takes (1: no batches), from the capability table, cached per client.
local function batch_max(c, model)
  local cache = c._batch_max_cache
  if not cache then
    cache = {}
    c._batch_max_cache = cache
  end
  local n = cache[model or ""]              -- no model: the provider's default
  if n == nil then
    local p = core.capabilities()[c.provider]
    local m = p and p.models[model or p.default_model]
    n = m and tonumber(m.batch_max) or 1
    cache[model or ""] = n
  end
  return n
end

-- What decides whether two jobs can share a task (everything but the url, model resolved), and
-- the batch size of their model; nil when the job cannot be packed at all.
local function pack_key(c, job)
  if type(job) ~= "table" or type(job.url) ~= "string" or job.urls ~= nil then return nil end
  local model = job.model or c.model
  local max = batch_max(c, model)
  if max < 2 then return nil end
  local rest = { model = model }
  for k, v in pairs(job) do
    if k ~= "url" and k ~= "model" then rest[k] = v end
  end
  local ok, key = pcall(core.json_encode, rest)      -- a job that is not plain data: run it alone
  if not ok then return nil end
  return key, max
end
M.pack_key = pack_key
M.batch_max = batch_max

-- Split the Result of a packed task back per input: files[k] belongs to jobs[i + k - 1]; matched
-- by URL in case the provider reorders them. Fills out[i..j].
local function split_pack(c, jobs, i, j, res, err, out)
  local files = res and res.files
  local used = {}
  local function take(k, url)
    local f = files[k]
    if f and not used[k] and f.url == url then used[k] = true; return f end
    for m = 1, #files do
      if not used[m] and files[m].url == url then used[m] = true; return files[m] end
    end
    f = files[k]                           -- no URL matches: trust the order
    if f and not used[k] and f.url == nil then used[k] = true; return f end
    return nil
  end
  for k = 1, j - i + 1 do
    local slot
    if not files then
      slot = { error = err or errors.new({ kind = "protocol", retryable = false,
        message = "a packed task returned no per-file results" }, c:_ctx("wait")) }
    else
      local f = take(k, jobs[i + k - 1].url)
      if f and f.result then slot = { result = f.result }
      elseif f and f.error then slot = { error = f.error }
      else
        slot = { error = errors.new({ kind = "protocol", retryable = false,
          message = "the packed task has no result for " .. tostring(jobs[i + k - 1].url) }, c:_ctx("wait")) }
      end
    end
    out[i + k - 1] = slot
  end
end

--- transcribe_all(c, jobs, opts): see Client:transcribe_all.
function M.transcribe_all(c, jobs, opts)
  opts = opts or {}
  local n = #jobs
  local out, nexti = {}, 0
  local ahead_i, ahead_key, ahead_max    -- the pack key of jobs[ahead_i], from the last look-ahead
  local function key_of(i)
    if ahead_i == i then return ahead_key, ahead_max end
    return pack_key(c, jobs[i])
  end
  -- The next unit of work, jobs[i..j] (i == j: one job alone).
  local function next_unit()
    local i = nexti + 1
    if i > n then return nil end
    local j = i
    if opts.pack then
      local key, max = key_of(i)
      if key then
        while j < n and j - i + 1 < max do
          local k2, max2 = pack_key(c, jobs[j + 1])
          ahead_i, ahead_key, ahead_max = j + 1, k2, max2
          if k2 ~= key then break end
          j = j + 1
        end
      end
    end
    nexti = j
    return i, j
  end
  local wait_opts = (opts.timeout or opts.on_progress) and { timeout = opts.timeout, on_progress = opts.on_progress }
  local function work(i, j)
    if i == j then
      local res, err = c:transcribe(jobs[i], wait_opts)
      out[i] = res and { result = res } or { error = err }
    else
      local job = {}
      for k, v in pairs(jobs[i]) do if k ~= "url" then job[k] = v end end
      job.urls = {}
      for k = i, j do job.urls[k - i + 1] = jobs[k].url end
      local res, err = c:transcribe(job, wait_opts)
      split_pack(c, jobs, i, j, res, err, out)
    end
    if opts.on_result then
      for k = i, j do opts.on_result(k, out[k]) end
    end
  end
  M.pool(n, opts.concurrency or 16, work, { next = next_unit })
  return out
end

return M
