--- What every task store keeps, and how (the file journal, lua/stt/store/file.lua, and Redis,
-- lua/stt/store/redis.lua, share it): the job key, the plain copies of jobs, tasks and errors
-- that are written down, and the terminal states. Pure: no I/O.
-- No API key is ever kept: jobs never hold one, and fields named like secrets are dropped.
local core = require "stt.core"

local M = {}

local TERMINAL = { succeeded = true, failed = true, canceled = true }
M.TERMINAL = TERMINAL

-- Field names that never go into a store, whatever a caller puts in a job.
local SECRET_FIELDS = { api_key = true, access_key = true, app_key = true, token = true, secret = true,
                        authorization = true, password = true }

-- A JSON-able deep copy: functions, userdata (except core.null) and secret-named fields dropped.
local function plain(v, depth)
  local tv = type(v)
  if tv == "table" then
    if depth > 20 then return nil end
    local out = {}
    for k, x in pairs(v) do
      if not (type(k) == "string" and SECRET_FIELDS[k:lower()]) then out[k] = plain(x, depth + 1) end
    end
    return out
  elseif tv == "string" or tv == "number" or tv == "boolean" or v == core.null then
    return v
  end
  return nil
end

-- Two polynomial hashes (mod 2^32 and mod a prime below it): every intermediate value stays
-- below 2^53, so the result is the same on Lua 5.4 (integers) and LuaJIT (doubles). The hash is
-- only an index: a match is confirmed by comparing the canonical text itself.
local function hash(s)
  local h1, h2 = 5381, 52711
  for i = 1, #s do
    local b = s:byte(i)
    h1 = (h1 * 33 + b) % 4294967296
    h2 = (h2 * 131 + b) % 4294967291
  end
  return string.format("%08x%08x", h1, h2)
end

--- A plain deep copy (what a store keeps of a task or a job).
function M.copy(v) return plain(v, 0) end

--- The job as it is kept: a plain copy without `force`, `model` or secrets.
function M.job(job)
  local j = plain(job, 0) or {}
  -- An stt.hotwords object counts by its entries only (not by what it caches while in use).
  if type(job.hotwords) == "table" and type(job.hotwords.entries) == "table" then
    j.hotwords = plain(job.hotwords.entries, 0)
  end
  j.force, j.model = nil, nil
  return j
end

--- key(provider, model, job) -> key, canonical text. The same provider, model, input URL(s) and
-- options give the same key in every process (json_encode sorts object keys).
function M.key(provider, model, job)
  local canon = core.json_encode({ provider = provider, model = model or "", job = M.job(job) })
  return hash(canon), canon
end

--- The canonical text of a kept entry ({provider, model, job}).
function M.canon(e)
  return core.json_encode({ provider = e.provider, model = e.model or "", job = e.job or {} })
end

--- The fields of a task that are kept.
function M.task(task)
  return { id = task.id, provider = task.provider, model = task.model, state = task.state,
           submitted_at = task.submitted_at, request_id = task.request_id, input = plain(task.input, 0),
           callback_key = task.callback_key }
end

--- The fields of an error that are kept.
function M.error(err)
  if not err then return nil end
  return { kind = err.kind, message = err.message, code = err.code, status = err.status,
           request_id = err.request_id }
end

return M
