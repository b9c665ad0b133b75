--- The file store (the task journal): an append-only file, one JSON record per line, that lets a
-- later process find every task an earlier one paid for (client option `journal = path`, or
-- `store = path`; see README "Journal"). The interface every store has is in lua/stt/store/init.lua.
--
-- Records, in the order a job writes them:
--   {"t":"intent","key":K,"provider":P,"model":M,"job":{...},"planned_id":ID?,"at":T}  before the HTTP submit
--   {"t":"task","key":K,"task":{id, provider, model, state, submitted_at, request_id, input}}  after it
--   {"t":"rejected","key":K,"error":{...}}     the provider refused the submit: no task exists
--   {"t":"state","key":K,"id":ID,"state":S,"error":{...}?}   a terminal state (succeeded|failed|canceled)
--   {"t":"note",...}                           anything a tool wants to keep (bin/stt: its batch)
--   {"t":"upload","target":D,"sha256":H,"size":N,"key":K?,"url":U?,"expires_at":T?}  a local file
--                                              uploaded to D (no signed URL is kept: S3 objects are
--                                              presigned again from their key)
--   {"t":"close","at":T}                       the writer finished normally (journal:close()); any
--                                              record after it makes the journal open again
-- Every record is written with one write(2) and fsync(2) (core.append_sync) before the caller
-- goes on. A torn last line (the process died inside that write) is ignored when reading, and
-- the next record starts on a fresh line. One process writes a journal at a time.
local core = require "stt.core"
local records = require "stt.store.records"

local M = {}
local TERMINAL = records.TERMINAL

local Journal = {}
Journal.__index = Journal

local function add_entry(self, rec)
  local e = { key = rec.key, provider = rec.provider, model = rec.model, job = rec.job,
              planned_id = rec.planned_id, at = rec.at, state = "unknown", seq = #self.list + 1 }
  e.canon = records.canon(e)
  self.list[#self.list + 1] = e
  self.by_key[e.key] = e
  return e
end

-- Apply one decoded record to the in-memory index.
local function apply(self, rec)
  if type(rec) ~= "table" then return end
  local t = rec.t
  -- Closed cleanly only when the last record is a close: states of unfinished tasks in a journal
  -- whose writer died or was interrupted are only the last ones it knew.
  self.closed = t == "close"
  if t == "intent" and type(rec.key) == "string" then
    add_entry(self, rec)
  elseif t == "task" and type(rec.task) == "table" then
    local e = self.by_key[rec.key]
    if e then
      e.task = rec.task
      e.state = rec.task.state or "queued"
      if rec.task.id then self.by_id[rec.task.id] = e end
    end
  elseif t == "rejected" then
    local e = self.by_key[rec.key]
    if e and not e.task then e.state, e.error = "rejected", rec.error end
  elseif t == "state" then
    local e = self.by_id[rec.id] or self.by_key[rec.key]
    if e then
      e.state, e.error = rec.state, rec.error
      if e.task then e.task.state = rec.state end
    end
  elseif t == "note" then
    self.notes[#self.notes + 1] = rec
  elseif t == "upload" and type(rec.target) == "string" and type(rec.sha256) == "string" then
    self.uploads[rec.target .. "\0" .. rec.sha256] = rec
  end
end

--- open(path) -> journal | nil, message. Reads what is there (a missing file is an empty journal).
function M.open(path)
  if type(path) ~= "string" or path == "" then error("journal: path expected", 2) end
  local self = setmetatable({ path = path, list = {}, by_key = {}, by_id = {}, notes = {}, uploads = {},
                              bad_lines = 0, torn = false, fresh_line = false }, Journal)
  local f, msg, code = io.open(path, "rb")
  if not f then
    -- Missing (ENOENT) is an empty journal, created on the first record; anything else is not.
    if code == 2 then return self end
    return nil, "journal: " .. tostring(msg)
  end
  local data = f:read("*a")
  f:close()
  if not data then return nil, "journal: cannot read " .. path end
  local pos = 1
  while pos <= #data do
    local nl = data:find("\n", pos, true)
    local line = data:sub(pos, (nl or #data + 1) - 1)
    if line ~= "" then
      local rec = core.json_decode(line)
      if rec then apply(self, rec)
      elseif nl then self.bad_lines = self.bad_lines + 1
      else self.torn = true end             -- the last line, cut short by a crash
    end
    if not nl then
      self.fresh_line = true                -- the file does not end with "\n": start a new line
      break
    end
    pos = nl + 1
  end
  return self
end

--- Append one record durably; returns true or nil, message.
function Journal:append(rec)
  local line = core.json_encode(rec) .. "\n"
  if self.fresh_line then line = "\n" .. line end
  local ok, err = core.append_sync(self.path, line)
  if not ok then return nil, "journal: " .. tostring(err) end
  self.fresh_line = false
  apply(self, rec)
  return true
end

--- The latest entry for a job key whose canonical text matches (nil when none, or when the
-- provider refused it: then nothing was created and submitting again is safe).
function Journal:find(key, canon)
  local e = self.by_key[key]
  if not e or e.state == "rejected" then return nil end
  if canon and e.canon ~= canon then return nil end
  return e
end

function Journal:by_task(id) return self.by_id[id] end

--- True while this process's own submit of the entry is on its way (one process writes a
-- journal: nobody else can hold a claim).
function Journal.busy(_, e) return e.busy == true end

function Journal:notes_list() return self.notes end

--- Record the intent to submit (before any byte is sent). Returns the entry or nil, message.
function Journal:intent(key, provider, model, job, planned_id)
  local ok, err = self:append({ t = "intent", key = key, provider = provider, model = model,
                                job = records.job(job), planned_id = planned_id, at = os.time() })
  if not ok then return nil, err end
  return self.by_key[key]
end

function Journal:submitted(key, task)
  return self:append({ t = "task", key = key, task = records.task(task) })
end

function Journal:rejected(key, err)
  return self:append({ t = "rejected", key = key, error = records.error(err) })
end

--- Record a terminal state once (repeated polls of a finished task write nothing more).
function Journal:finished(task, state, err)
  local e = self.by_id[task.id]
  if not e or e.state == state then return true end     -- not a task of this journal, or no change
  return self:append({ t = "state", key = e.key, id = task.id, state = state, error = records.error(err) })
end

--- Entries not finished yet: submitted tasks still running, and intents whose outcome is unknown.
function Journal:pending(provider)
  local out = {}
  for _, e in ipairs(self.list) do
    if self.by_key[e.key] == e and not TERMINAL[e.state] and e.state ~= "rejected"
       and (not provider or e.provider == provider) then
      out[#out + 1] = e
    end
  end
  return out
end

--- Every current entry (the latest per job key), in the order first written.
function Journal:entries()
  local out = {}
  for _, e in ipairs(self.list) do
    if self.by_key[e.key] == e then out[#out + 1] = e end
  end
  return out
end

--- The latest upload of content `sha256` to `target`, or nil.
function Journal:uploaded_for(target, sha256)
  return self.uploads[target .. "\0" .. sha256]
end

--- Record an upload (before the submit that uses it): target, the file's digest and size, the
-- object key, its URL unless signed, and when it stops being fetchable.
function Journal:uploaded(target, info, got)
  return self:append({ t = "upload", target = target, sha256 = info.sha256, size = info.size, key = got.key,
                       url = not got.presigned and got.url or nil, expires_at = got.expires_at, at = os.time() })
end

--- Mark the journal closed cleanly: its writer ended normally, having recorded what it knew.
-- (Nothing is held open between records; this only appends the marker.)
function Journal:close()
  return self:append({ t = "close", at = os.time() })
end

--- Keep a tool's own record (type "note"); fields are copied plainly.
function Journal:note(fields)
  local rec = records.copy(fields) or {}
  rec.t = "note"
  return self:append(rec)
end

M.Journal = Journal
return M
