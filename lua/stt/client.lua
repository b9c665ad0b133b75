--- The client: submit / poll / wait / transcribe / transcribe_all / cancel.
-- It owns the loop of a job (retries with backoff and jitter, honouring Retry-After; geometric
-- polling; one deadline over the whole wait) and nothing else: wire formats live in the C
-- schemas (csrc/providers/*.c), HTTP in the transport, waiting in stt.sched.
local core = require "stt.core"
local sched = require "stt.sched"
local errors = require "stt.errors"
local journal = require "stt.journal"
local store = require "stt.store"
local ratelimit = require "stt.ratelimit"
local options = require "stt.options"
local capabilities = require "stt.capabilities"
local batch = require "stt.batch"
local vocabulary = require "stt.vocabulary"
local upload = require "stt.upload"
local callback = require "stt.callback"

local M = {}

-- The API key lives here, keyed by client, so that it is no field of the client table:
-- printing, serializing or inspecting a client never shows it.
local secrets = setmetatable({}, { __mode = "k" })
-- The callback secret, apart from the credentials (which go into every schema call).
local cb_secrets = setmetatable({}, { __mode = "k" })
-- Tasks submitted by this process (task -> true): a wait on one of them is no restart, whatever
-- os.time()'s whole seconds say.
local fresh = setmetatable({}, { __mode = "k" })

local Client = {}
Client.__index = Client

local function pick_transport(t, opts)
  -- Auto: cosockets inside nginx (whatever the phase: a client made in init_worker is used later
  -- in timers; the ngx transport itself refuses phases without cosockets), libcurl elsewhere.
  if t == nil then t = sched.in_nginx() and "ngx" or "curl" end
  if t == "curl" and sched.in_nginx() then
    error("the libcurl transport would block the nginx worker: use transport = \"ngx\"", 3)
  end
  if t == "curl" then
    return require("stt.transport.curl").new(opts)
  elseif t == "ngx" then
    return require("stt.transport.ngx").new(opts)
  elseif type(t) == "table" and type(t.request) == "function" then
    return t
  end
  error("transport must be \"curl\", \"ngx\" or a table with request()", 3)
end

-- The credential options a provider takes (from the registry's env map), base_url aside.
local function credential_options(facts)
  local out = {}
  for opt in pairs(facts.env) do if opt ~= "base_url" then out[#out + 1] = opt end end
  table.sort(out)
  return out
end

--- stt.client(provider, opts)
function M.new(provider, opts)
  if type(provider) ~= "string" then error("stt.client: provider name expected", 2) end
  local facts = capabilities.get()[provider]
  if not facts then
    local known = {}
    for _, p in ipairs(core.providers()) do known[#known + 1] = p end
    error(("stt.client: unknown provider %q (known: %s)"):format(provider, table.concat(known, ", ")), 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then error("stt.client: options table expected", 2) end
  options.check("client", opts, "stt.client", capabilities.job_options())
  local self = setmetatable({
    provider = provider,
    model = opts.model or facts.default_model,
    region = opts.region,
    base_url = opts.base_url or os.getenv(facts.env.base_url or ""),
    -- a synchronous mode (volcengine-auc flash) answers the submit only once the audio is
    -- recognized: its requests get minutes, not seconds
    timeout = opts.timeout or (opts.mode == "flash" and 600 or 30),
    connect_timeout = opts.connect_timeout or 10,
    retries = opts.retries or 4,
    -- A Retry-After longer than this is not slept through: the error goes back to the caller
    -- (retryable, with retry_after set). Submits have no deadline of their own, so without a cap
    -- a throttling answer could block one for as long as the server names (even days).
    max_retry_wait = opts.max_retry_wait or 60,
    max_body = opts.max_body,
    insecure = opts.insecure and true or nil,
    ca_file = opts.ca_file,
    wait_timeout = opts.wait_timeout or 3600,
    poll_first = opts.poll_first or 0.5,     -- seconds before the first poll
    poll_ratio = opts.poll_ratio or 0.1,     -- later polls: this fraction of the time waited so far
    poll_max = opts.poll_max or 30,          -- ... but never further apart than this
    on_event = opts.on_event,
    -- HTTP transfers at once per host (the libcurl engine's default is 64; the rest wait in turn)
    max_host_connections = opts.max_host_connections,
    -- the provider chooses the task id, or the client does (then a resubmit with it is safe:
    -- the provider refuses a duplicate id; not in volcengine-auc's flash mode, which keeps no
    -- task and would recognize, and bill, the audio again)
    client_ids = facts.client_ids,
    resubmit_same_id = facts.client_ids and opts.mode ~= "flash",
    -- provider-specific settings the schemas read (volcengine-auc: mode; dashscope: workspace,
    -- family for a model the schema does not know)
    mode = opts.mode,
    workspace = opts.workspace,
    family = opts.family,
    -- how a local file (job.file) becomes a URL: DashScope's own storage by default there
    uploader = opts.upload == nil and (provider == "dashscope" and "dashscope" or nil) or opts.upload or nil,
  }, Client)
  upload.validate(opts.upload, provider)
  if opts.store ~= nil and opts.journal ~= nil then error("stt.client: give store or journal, not both", 2) end
  if opts.store ~= nil or opts.journal ~= nil then
    -- A store that cannot be opened is a setup mistake: refuse to run without it.
    local st, serr = store.open(opts.store or opts.journal, { prefix = opts.store_prefix, lease = opts.store_lease })
    if not st then error("stt.client: " .. tostring(serr), 2) end
    self.journal = st
    self.store = st
  end
  if self.base_url == "" then self.base_url = nil end
  if opts.callback ~= nil then
    -- { url, secret, shared, fallback, check_every }: refused (unsupported) where the provider
    -- takes no per-task callback; the marks live here, in the shared dict, and in a Redis store
    local cb, secret = callback.option(opts.callback, provider, facts, opts.mode)
    self.callback = cb
    cb_secrets[self] = secret
    self._marks = callback.marks(cb, self.store)
  end
  -- Credentials: the option, else the provider's environment variable (stt.providers()).
  local cred = {}
  for _, opt in ipairs(credential_options(facts)) do
    local v = opts[opt]
    if v == nil then v = os.getenv(facts.env[opt]) end
    cred[opt] = v
  end
  secrets[self] = cred
  self.auth_prefix = opts.auth_prefix           -- volcengine: "" (raw key, default) | "Bearer" | "ApiKey"
  self.transport = pick_transport(opts.transport, { max_host_connections = opts.max_host_connections })
  -- rate_limit: nil = the provider's documented QPS, false = none, { submit = n, query = n }
  -- (+ shared = lua_shared_dict: one budget across nginx workers, named by a hash of the key).
  -- With a Redis store the budget is the fleet's: one per account across every process and host.
  local fleet = type(opts.store) == "string" and opts.store:match("^rediss?://") and opts.store or nil
  self.limiter = ratelimit.new(provider, opts.rate_limit, cred.api_key or cred.app_key, fleet)
  return self
end

function Client:__tostring()
  return ("stt.client(%s, model=%s%s)"):format(self.provider, tostring(self.model),
    self.base_url and (", base_url=" .. self.base_url) or "")
end

function Client:close()
  if self.transport.close then self.transport:close() end
end

---------------------------------------------------------------- internals
-- The error context of an operation: errors.lua scrubs the client's keys out of every message.
function Client:_ctx(op)
  local s = secrets[self]
  if s.list == nil then         -- the keys never change: listed once per client
    local list = {}
    for _, v in pairs(s) do
      if type(v) == "string" then list[#list + 1] = v end
    end
    if cb_secrets[self] then list[#list + 1] = cb_secrets[self] end
    s.list = #list > 0 and list or false
  end
  return { provider = self.provider, op = op, secrets = s.list or nil }
end

-- The callback secret (stt.notify with opts.client verifies with it).
function Client:_callback_secret() return cb_secrets[self] end

function Client:_emit(ev)
  if self.on_event then
    ev.provider = self.provider
    self.on_event(ev)
  end
end

function Client:_args(extra)
  local args = { auth_prefix = self.auth_prefix, base_url = self.base_url, region = self.region,
                 model = self.model, mode = self.mode, workspace = self.workspace, family = self.family }
  for k, v in pairs(secrets[self]) do if k ~= "list" then args[k] = v end end
  for k, v in pairs(extra) do args[k] = v end
  return args
end

-- The plain, JSON-able part of a task (what the schemas need to address it).
local function plain_task(task)
  return { id = task.id, model = task.model, request_id = task.request_id,
           input = task.input }
end

-- Delay before retry number `attempt` (1-based): exponential, capped, "equal jitter";
-- never shorter than the server's Retry-After.
local function backoff(attempt, retry_after)
  local base = math.min(8, 0.5 * 2 ^ (attempt - 1))
  local d = base / 2 + math.random() * base / 2
  if retry_after and retry_after > d then d = retry_after end
  return d
end
M.backoff = backoff

-- A submit may be repeated only when the provider certainly did not create a task: the request
-- never left (connect/resolve failure), or the provider refused it outright (429, 500, 503).
-- Timeouts or resets after sending, 502/504 from a gateway, or a 2xx with a body we cannot read
-- are ambiguous: repeating them could pay twice.
local function submit_retry_safe(resp, terr)
  if terr then return not terr.sent end
  local s = resp and resp.status or 0
  return s == 429 or s == 500 or s == 503
end

local function http_opts(self, deadline)
  local t = self.timeout
  if deadline then
    local left = deadline - sched.now()
    if left < t then t = math.max(left, 0.001) end
  end
  return { timeout = t, connect_timeout = math.min(self.connect_timeout, t), max_body = self.max_body,
           insecure = self.insecure, ca_file = self.ca_file, max_host_connections = self.max_host_connections }
end

-- One logical exchange with retries. Returns the parsed table, or nil, err.
function Client:_exchange(op, req, kind, parse_extra, deadline, slot_taken)
  local attempt = 0
  -- A submit that carries a client-chosen task id (volcengine-auc) is idempotent: an unknown
  -- outcome is retried with the same id; a "duplicate" answer then means the task exists.
  local idempotent = op == "submit" and parse_extra and parse_extra.request_id ~= nil
    and self.resubmit_same_id
  local unknown_before = false
  while true do
    -- (slot_taken: the caller waited for the first request's rate-limit slot itself)
    if not (slot_taken and attempt == 0) and self.limiter and not self.limiter:acquire(op, deadline) then
      return nil, errors.new({ kind = "timeout", retryable = true,
        message = "the client's rate limit allows no " .. op .. " request before the deadline" }, self:_ctx(op))
    end
    local hopts = http_opts(self, deadline)
    -- A submit never rides a reused connection: libcurl (and keep-alive clients generally) would
    -- silently send it again if that connection turned out dead, and the first copy may have
    -- created a task already.
    hopts.fresh_connect = op == "submit" or nil
    local resp, terr = self.transport:request(req, hopts)
    local err
    if resp then
      local presp = { status = resp.status, headers = resp.headers, body = resp.body }
      for k, v in pairs(parse_extra or {}) do presp[k] = v end
      local out, perr = core.parse(self.provider, kind, presp)
      if out then return out end
      err = errors.new(perr, self:_ctx(op))
    else
      err = errors.from_transport(terr, self:_ctx(op))
    end
    if idempotent and err.retryable and not submit_retry_safe(resp, terr) then
      unknown_before = true
      if attempt >= self.retries then err.ambiguous = true end    -- giving up: the task may exist
    elseif op == "submit" and err.retryable and not submit_retry_safe(resp, terr) then
      err.retryable = false
      err.ambiguous = true
      err.message = err.message .. " (the provider may have created the task; not resubmitted, to avoid paying twice)"
    end
    -- An answer too big to read (max_body) is not retried, but the submit arrived: the task may
    -- exist, so a journal must not record it as refused.
    if op == "submit" and terr and terr.kind == "too_large" then err.ambiguous = true end
    if unknown_before then err.after_unknown = true end
    if not err.retryable or attempt >= self.retries then return nil, err end
    attempt = attempt + 1
    local delay = backoff(attempt, err.retry_after)
    if deadline and sched.now() + delay >= deadline then return nil, err end
    if delay > self.max_retry_wait then return nil, err end
    self:_emit({ type = "retry", op = op, attempt = attempt, delay = delay, error = err })
    sched.sleep(delay)
  end
end

---------------------------------------------------------------- public API
--- Submit a job; returns a plain, JSON-serializable task table, or nil, err.
-- With a journal: returns the task journaled for this job (key/canon from journal.key), or
-- nil, err when its earlier submit has an unknown outcome, or nothing when none is journaled.
function Client:_journaled(key, canon, job, model)
  local jr = self.journal
  local e, ferr = jr:find(key, canon)
  -- Someone (another thread here, or another process sharing the store) is submitting the same
  -- job right now: wait for its outcome instead of paying again.
  while e and jr:busy(e) do
    sched.sleep(0.05)
    e, ferr = jr:find(key, canon)
  end
  if ferr then return nil, self:_journal_error(ferr) end
  if not e then return nil end
  if e.task then
    local task = journal.copy(e.task)     -- a plain copy: callers may change theirs
    self:_emit({ type = "submit", task_id = task.id, state = task.state, request_id = task.request_id,
                 journaled = true })
    return task
  end
  -- (a synchronous mode keeps no task to poll: its planned id is as unknown as a server's)
  local synchronous = self.client_ids and not self.resubmit_same_id
  if e.planned_id and not synchronous then return self:_resume_planned(e, job, model) end
  -- Server-chosen ids (DashScope, LAS, Turing): the process stopped between sending the submit and
  -- recording its answer, and the task cannot be looked up by its input. Never resubmit blindly.
  local err = errors.new({ kind = "invalid", code = "JournalUnknown", ambiguous = true, retryable = false,
    message = ("an earlier submit of this job (journal %s) has an unknown outcome: it may have been "
      .. "submitted before the process stopped; not resubmitted, to avoid paying twice "
      .. "(submit with force = true to resubmit)"):format(jr.path) }, self:_ctx("submit"))
  self:_emit({ type = "error", op = "submit", error = err })
  return nil, err
end

-- Client-chosen ids (volcengine-auc): the intent holds the id, so the task is found by polling it;
-- if the provider does not know it, the same id is submitted again (a duplicate-id answer there
-- would mean it exists after all).
function Client:_resume_planned(e, job, model)
  local task = { id = e.planned_id, provider = self.provider, model = model, state = "queued",
                 submitted_at = e.at or os.time(), request_id = e.planned_id, input = job.url or job.urls }
  local st, err = self:poll(task)
  if st then
    local ok, jerr = self.journal:submitted(e.key, task)
    if not ok then self:_unrecorded(task, e.key, jerr) end
    return task
  end
  if err.kind ~= "not_found" then return nil, err end
  local wire, herr = self:_wire_job(job, model)
  if not wire then return nil, herr end
  local t2, err2 = self:_submit(wire, model, e.key, e.planned_id, job, "resume")
  if not t2 and err2.duplicate then          -- the schema flags a duplicate-id refusal
    local ok, jerr = self.journal:submitted(e.key, task)
    if not ok then self:_unrecorded(task, e.key, jerr) end
    return task
  end
  return t2, err2
end

-- The store could not be read or written before a submit: nothing was submitted. (After a submit
-- the task is kept whatever the store says: see Client:_unrecorded.)
function Client:_journal_error(msg)
  local err = errors.new({ kind = "invalid", code = "JournalWrite", retryable = false,
    message = tostring(msg) .. " (nothing was submitted)" }, self:_ctx("submit"))
  self:_emit({ type = "error", op = "journal", error = err })
  return err
end

-- A task exists (paid for) but the store could not record it: this run keeps it and waits on it
-- like any other, and says so loudly, once per task: a `store_incomplete` event with the task id
-- and the job key, and c.unrecorded lists them (the CLI prints each with the command that finds
-- it again). A later run cannot know of it from the store.
function Client:_unrecorded(task, key, msg)
  self.unrecorded = self.unrecorded or {}
  self.unrecorded[#self.unrecorded + 1] = { task = journal.copy(task), key = key, error = tostring(msg) }
  self:_emit({ type = "store_incomplete", task_id = task.id, key = key, message = ("task %s was created but "
    .. "the store could not record it (%s): this run keeps waiting on it"):format(tostring(task.id), tostring(msg)) })
end

-- One HTTP submit, journaled around it when a key is given: intent -> submit -> task | rejected.
-- An ambiguous failure leaves the intent alone (its outcome is unknown).
function Client:_submit(job, model, key, planned_id, orig, force)
  -- Callbacks: the token names the task id where the client chooses it, else a job key of its own
  -- that goes with the task (task.callback_key).
  local cb_key, cb
  if self.callback then
    cb_key = planned_id or callback.new_key()
    local token = callback.token(cb_secrets[self], self.provider, cb_key)
    cb = { url = callback.url_with_token(self.callback.url, token), data = token }
  end
  local req, berr = core.build(self.provider, "submit", self:_args({ model = model, job = job,
                                                                   request_id = planned_id, callback = cb }))
  if not req then return nil, errors.new(berr, self:_ctx("submit")) end
  local jr = key and self.journal
  local entry
  -- The rate-limit wait comes before the claim: a claim is held only while the submit is on the
  -- wire, so that a process killed in between leaves as few unknown outcomes as possible.
  local slot_taken = false
  if jr and self.limiter then
    if not self.limiter:acquire("submit") then
      return nil, errors.new({ kind = "timeout", retryable = true,
        message = "the client's rate limit allows no submit request" }, self:_ctx("submit"))
    end
    slot_taken = true
  end
  if jr then
    local jerr, other
    entry, jerr, other = jr:intent(key, self.provider, model, orig or job, planned_id, force)
    if not entry and other then
      -- another process claimed this job first: its task (or its unknown outcome) is ours too
      local k, canon = journal.key(self.provider, model, orig or job)
      local t, terr = self:_journaled(k, canon, orig or job, model)
      if t or terr then return t, terr end
      return nil, self:_journal_error("the claim of this job vanished while it was watched")
    end
    if not entry then return nil, self:_journal_error(jerr) end
    entry.busy = true
  end
  local t, err = self:_exchange("submit", req, "submit", { model = model, request_id = planned_id }, nil, slot_taken)
  if not t and planned_id and err.after_unknown then t, err = self:_confirm_planned(planned_id, model, err) end
  if entry then entry.busy = nil end
  if not t then
    -- Failing to record a refusal only leaves the intent "unknown": the safe side.
    if jr and not err.ambiguous then jr:rejected(key, err) end
    self:_emit({ type = "error", op = "submit", error = err })
    return nil, err
  end
  local task = { id = t.id or planned_id, provider = self.provider, model = model, state = t.state or "queued",
                 submitted_at = os.time(), request_id = t.request_id or planned_id,
                 input = job.url or job.urls, callback_key = cb_key }
  fresh[task] = true
  if cb_key then
    -- where stt.notify finds which task the key names (a failure only weakens that check)
    local ok, merr = self._marks:bind(cb_key, task.id)
    if not ok then
      self:_emit({ type = "error", op = "callback", task_id = task.id, error = errors.new({ kind = "network",
        retryable = true, message = "cannot record the callback key: " .. tostring(merr) }, self:_ctx("submit")) })
    end
  end
  -- A synchronous mode (volcengine-auc flash) answers the submit with the result itself: it rides
  -- on the task in memory for c:wait (the journal keeps only the task's plain fields).
  if t.result then
    t.result.task_id = task.id
    task.result = t.result
  end
  self:_emit({ type = "submit", task_id = task.id, state = task.state, request_id = task.request_id })
  if jr then
    local ok, jerr = jr:submitted(key, task)
    if not ok then self:_unrecorded(task, key, jerr) end
  end
  return task
end

-- A refusal that follows a submit with an unknown outcome (client-chosen id): if the provider knows
-- the id, the earlier attempt created the task (a "duplicate request" refusal says just that), so
-- the task is returned; otherwise the refusal stands (ambiguous when even that is unknown).
function Client:_confirm_planned(id, model, err)
  local task = { id = id, model = model, request_id = id }
  local req = core.build(self.provider, "poll", self:_args({ task = task, model = model }))
  local st, perr
  if req then st, perr = self:_exchange("poll", req, "poll", { model = model, task = task }) end
  if st then return { id = id, state = st.state or "queued", request_id = id } end
  if not (perr and perr.kind == "not_found") then err.ambiguous = true end
  return nil, err
end

-- A fresh id for providers whose task id the client chooses (client_ids in stt.providers()): UUID v4
-- text from /dev/urandom (math.random is not seeded per process on LuaJIT).
local function new_request_id()
  local f = io.open("/dev/urandom", "rb")
  local raw = f and f:read(16)
  if f then f:close() end
  local b = {}
  for i = 1, 16 do b[i] = raw and raw:byte(i) or math.random(0, 255) end
  b[7] = 64 + b[7] % 16                    -- version 4
  b[9] = 128 + b[9] % 64                   -- RFC 4122 variant
  local hex = {}
  for i = 1, 16 do hex[i] = ("%02x"):format(b[i]) end
  local h = table.concat(hex)
  return ("%s-%s-%s-%s-%s"):format(h:sub(1, 8), h:sub(9, 12), h:sub(13, 16), h:sub(17, 20), h:sub(21, 32))
end

--- Submit a job; returns a plain, JSON-serializable task table, or nil, err.
-- With a journal, the same job (provider, model, input, options) returns its journaled task
-- instead of paying twice, unless job.force is true.
function Client:submit(job)
  if type(job) ~= "table" then error("submit: job table expected", 2) end
  local kerr = self:_job_keys(job)
  if kerr then return nil, kerr end
  local model = job.model or self.model
  -- Local files are checked and digested before anything else: a bad file costs nothing, and
  -- the journal knows a file by its content (so a rerun finds it whatever its path).
  local files, ferr = self:_files_of(job)
  if ferr then return nil, ferr end
  local keyjob = files and upload.content_job(job, files) or job
  local key
  if self.journal then
    -- Keyed on the job as given (hot words as their list, not an id made for them later), and
    -- looked up before anything else is sent.
    local canon
    key, canon = journal.key(self.provider, model, keyjob)
    if job.model == nil and self.journal.path and not self.journal.redis and not self.journal:find(key, canon) then
      -- Journals written before every client had a model (turing took none) keyed a job of the
      -- default model without one: find those too, so that nothing is paid twice.
      local k2, c2 = journal.key(self.provider, nil, keyjob)
      if self.journal:find(k2, c2) then key, canon = k2, c2 end
    end
    if not job.force then
      local task, err = self:_journaled(key, canon, job, model)
      if task or err then return task, err end
    end
  end
  local wire, herr = self:_wire_job(job, model, files)
  if not wire then return nil, herr end
  local planned_id = self.client_ids and new_request_id() or nil
  return self:_submit(wire, model, key, planned_id, keyjob, job.force)
end

--- c:upload(job) -> job | nil, err: the job with its local files uploaded (through the client's
-- `upload` option, journaled in its store, reused while valid) and their URLs in place of them:
-- for tools that hand the job to another process or host (a work queue). A job of URLs comes back
-- as it is.
function Client:upload(job)
  if type(job) ~= "table" then error("upload: job table expected", 2) end
  if job.file == nil and job.files == nil then return job end
  local files, ferr = self:_files_of(job)
  if not files then return nil, ferr end
  return self:_upload_files(job, job.model or self.model, files)
end

--- c:job_key(job) -> key, canon | nil, err: the journal key of a job as c:submit keys it (local
-- files by their content, so the file is read and hashed), for tools that look a job up in the
-- journal (c.journal:find(key, canon)) before submitting it.
function Client:job_key(job)
  if type(job) ~= "table" then error("job_key: job table expected", 2) end
  local files, ferr = self:_files_of(job)
  if ferr then return nil, ferr end
  return journal.key(self.provider, job.model or self.model, files and upload.content_job(job, files) or job)
end

-- job.file / job.files -> the checked and digested files ({ path, name, size, sha256, ... }), nil
-- for a job of URLs; or nil, err. Both a URL and a file in one job is a programming mistake.
function Client:_files_of(job) -- luacheck: no unused args
  if job.file == nil and job.files == nil then return nil end
  if job.url ~= nil or job.urls ~= nil then error("a job takes url(s) or file(s), not both", 3) end
  if job.file ~= nil and job.files ~= nil then error("a job takes file or files, not both", 3) end
  local paths = job.files or { job.file }
  if type(paths) ~= "table" or #paths == 0 then error("job.files: a list of paths expected", 3) end
  if job.file_name ~= nil and job.file == nil then error("job.file_name goes with job.file", 3) end
  local out = {}
  for i, p in ipairs(paths) do
    local info, err = upload.check(p, job.file_name)
    if not info then return nil, err end
    info, err = upload.digest(info)
    if not info then return nil, err end
    out[i] = info
  end
  return out
end

-- Volcengine's flash mode takes audio up to 100 MB (docs/providers.md#auc-flash-mode).
local FLASH_MAX_BYTES = 100 * 1048576

-- Upload the job's files (or reuse what the journal says is uploaded and still valid) and give
-- the job their URLs. A synchronous inline mode (volcengine-auc flash without an upload option)
-- keeps the path: the schema streams the file into the body.
function Client:_upload_files(job, model, files)
  local out = {}
  for k, v in pairs(job) do if k ~= "file" and k ~= "files" and k ~= "file_name" then out[k] = v end end
  if self.uploader == nil and self.provider == "volcengine-auc" and self.mode == "flash" and job.file then
    if files[1].size > FLASH_MAX_BYTES then
      return nil, errors.new({ kind = "invalid", retryable = false, message = ("file %s is %d bytes; "
        .. "Volcengine's flash mode takes at most 100 MB (set the client option upload to send a URL, "
        .. "or use mode \"standard\")"):format(files[1].path, files[1].size) }, self:_ctx("submit"))
    end
    out.file = files[1].path
    return out
  end
  local target = upload.target(self)
  local urls = {}
  for i, info in ipairs(files) do
    local rec = self.journal and target and self.journal:uploaded_for(target, info.sha256)
    local got
    if rec and (not rec.expires_at or rec.expires_at - os.time() > upload.REUSE_MARGIN) then
      got = upload.reuse(self, rec)
    end
    if not got then
      local err
      got, err = self:_put_file(info, model)
      if not got then return nil, err end
      if self.journal and target then
        local ok, jerr = self.journal:uploaded(target, info, got)
        if not ok then return nil, self:_journal_error(jerr) end
      end
    end
    urls[i] = got.url
  end
  if job.file then out.url = urls[1] else out.urls = urls end
  return out
end

-- One upload, with `upload` events (bytes sent / total) while it runs inside stt.run.
function Client:_put_file(info, model)
  local watcher, done
  local function on_id(engine, id)
    if not (self.on_event and sched.current()) then return end
    watcher = sched.spawn(function()
      while not done do
        local sent, total = engine:progress(id)
        if not sent then break end
        self:_emit({ type = "upload", file = info.name, sent = sent, total = total > 0 and total or info.size })
        sched.sleep(0.25)
      end
    end)
  end
  self:_emit({ type = "upload", file = info.name, sent = 0, total = info.size })
  local got, err = upload.put(self, info, { model = model, timeout = math.max(self.timeout, 600), on_id = on_id })
  done = true
  if watcher then watcher:join() end
  if got then self:_emit({ type = "upload", file = info.name, sent = info.size, total = info.size }) end
  return got, err
end

-- A job key that is no job option: an option of another level (a misplaced `timeout`) says
-- where it belongs, anything else names the closest job option. nil when all keys are known.
function Client:_job_keys(job)
  local known = capabilities.job_options()
  for k in pairs(job) do
    if not (known[k] or options.JOB_EXTRA[k]) then
      local all = {}
      for name in pairs(known) do all[name] = true end
      for name in pairs(options.JOB_EXTRA) do all[name] = true end
      return errors.new({ kind = "invalid", retryable = false,
        message = options.unknown_message(k, "job", all) }, self:_ctx("submit"))
    end
  end
end

-- The job as sent: local files uploaded (URLs in their place), stt.hotwords validated and turned
-- into a vocabulary_id or the normalized list. `files`: the checked files, when known already.
function Client:_wire_job(job, model, files)
  if job.file ~= nil or job.files ~= nil then
    local err
    if not files then
      files, err = self:_files_of(job)
      if not files then return nil, err end
    end
    job, err = self:_upload_files(job, model, files)
    if not job then return nil, err end
  end
  if job.hotwords == nil then return job end
  return vocabulary.job(self, job, model)
end

--- One schema operation through the client's exchange (retries, rate limits, errors):
-- build(op, args) -> HTTP -> parse(op). For the provider's side calls (vocabularies, uploads).
function Client:_call(op, args)
  local req, berr = core.build(self.provider, op, self:_args(args))
  if not req then return nil, errors.new(berr, self:_ctx(op)) end
  return self:_exchange(op, req, op)
end

--- c:check(job) -> true [, warnings] | nil, err: everything a submit would refuse before sending anything
-- (unknown or misplaced keys, options the model does not take, bad values, hot words that break
-- the provider's rules, missing credentials), without any request. Hot words that would become
-- a DashScope vocabulary are validated, not created. warnings: the UNCONFIRMED limits the job's
-- hot words break (sent anyway).
function Client:check(job)
  if type(job) ~= "table" then error("check: job table expected", 2) end
  local kerr = self:_job_keys(job)
  if kerr then return nil, kerr end
  local model = job.model or self.model
  local wire, warnings = job, nil
  if job.hotwords ~= nil then
    local werr
    wire, werr, warnings = vocabulary.job(self, job, model, true)
    if not wire then return nil, werr end
  end
  local req, berr = core.build(self.provider, "submit", self:_args({ model = model, job = wire,
    request_id = self.client_ids and "00000000-0000-4000-8000-000000000000" or nil }))
  if not req then return nil, errors.new(berr, self:_ctx("submit")) end
  return true, warnings
end

--- Unfinished tasks of this client's provider in its journal (empty without one):
-- { key, job, model, state, task = task or nil, planned_id, at }. state "unknown" means the
-- submit was sent (or about to be) when the process stopped, and no answer was recorded.
function Client:pending()
  local out = {}
  if not self.journal then return out end
  local list, perr = self.journal:pending(self.provider)
  if not list then return nil, errors.new({ kind = "network", retryable = true, message = tostring(perr) },
                                          self:_ctx("pending")) end
  for _, e in ipairs(list) do
    out[#out + 1] = { key = e.key, job = journal.copy(e.job), model = e.model, state = e.state,
                      task = e.task and journal.copy(e.task), planned_id = e.planned_id, at = e.at }
  end
  return out
end

-- Fetch and parse the result files a finished poll points at; assemble the Result.
function Client:_collect(task, st, deadline)
  local files = st.files or {}
  local out = {}
  local function one(i)
    local f = files[i]
    if f.error then
      out[i] = { url = f.url, error = errors.new(f.error, self:_ctx("poll")) }
    elseif f.empty then
      out[i] = { url = f.url, result = { provider = self.provider, model = task.model, task_id = task.id,
                                         text = "", segments = {} } }
    elseif f.result_url then
      local req, berr = core.build(self.provider, "fetch", self:_args({ url = f.result_url }))
      if not req then out[i] = { url = f.url, error = errors.new(berr, self:_ctx("fetch")) }; return end
      local res, err = self:_exchange("fetch", req, "result", { model = task.model, task = plain_task(task) },
                                      deadline)
      if res then res.task_id = task.id end
      out[i] = res and { url = f.url, result = res } or { url = f.url, error = err }
    elseif f.result then
      f.result.task_id = task.id
      out[i] = { url = f.url, result = f.result }
    end
  end
  if sched.current() and #files > 1 then
    local ths = {}
    for i = 1, #files do ths[i] = sched.spawn(one, i) end
    for i = 1, #ths do ths[i]:join() end
  else
    for i = 1, #files do one(i) end
  end
  if st.result then                       -- providers that answer inline
    st.result.task_id = task.id
    st.result.usage = st.result.usage or st.usage
    return st.result
  end
  if #out == 1 then
    if out[1].error then return nil, out[1].error end
    out[1].result.usage = out[1].result.usage or st.usage
    return out[1].result
  end
  -- A batch: one entry per input file, in order; the top level joins the texts.
  local texts = {}
  for i = 1, #out do
    if out[i].result and out[i].result.text ~= "" then texts[#texts + 1] = out[i].result.text end
  end
  return { provider = self.provider, model = task.model, task_id = task.id,
           text = table.concat(texts, "\n"), segments = {}, files = out, usage = st.usage }
end

--- Poll once; returns { state, result?, error?, ... } or nil, err. Updates task.state.
function Client:poll(task, opts)
  if type(task) ~= "table" or type(task.id) ~= "string" then error("poll: task with an id expected", 2) end
  local deadline = opts and opts.deadline
  local req, berr = core.build(self.provider, "poll", self:_args({ task = plain_task(task),
                                                                 model = task.model }))
  if not req then return nil, errors.new(berr, self:_ctx("poll")) end
  local st, err = self:_exchange("poll", req, "poll", { model = task.model, task = plain_task(task) },
                                 deadline)
  if not st then return nil, err end
  task.state = st.state
  if st.state == "succeeded" then
    local res, ferr = self:_collect(task, st, deadline)
    if not res then
      st.state, st.error = "failed", ferr
    else
      st.result = res
    end
  elseif st.error then
    st.error = errors.new(st.error, self:_ctx("poll"))
  end
  if journal.TERMINAL[st.state] then
    self:_journal_state(task, st.state, st.error)
    -- callbacks: the task ended (later notices for it are refused)
    if self._marks and task.callback_key then self._marks:finish(task.callback_key) end
  end
  self:_emit({ type = "poll", task_id = task.id, state = st.state })
  return st
end

--- c:take_notice(task) -> the state a callback notice gave the task since the last call, or nil
-- (the mark is taken: the next call returns nil until another notice). For code that polls on
-- its own schedule (a background poller): poll now when it returns a state. Marks made in other
-- nginx workers or on other hosts are seen through the shared dict or the Redis store.
function Client:take_notice(task)
  if type(task) ~= "table" then error("take_notice: task expected", 2) end
  local key = self._marks and task.callback_key
  if not key then return nil end
  local s = self._marks:noticed(key, true)
  if s then self._marks:clear(key) end
  return s
end

-- Record a terminal state of a journaled task (after the fact: a failure to write only means a
-- later run polls the task once more).
function Client:_journal_state(task, state, err)
  local jr = self.journal
  if not jr then return end
  local ok, jerr = jr:finished(task, state, err)           -- (a task it does not know: left alone)
  if not ok then
    self:_emit({ type = "error", op = "journal", task_id = task.id,
                 error = errors.new({ kind = "invalid", code = "JournalWrite", message = jerr }, self:_ctx("poll")) })
  end
end

-- Seconds until the next poll: first after poll_first, then a fixed fraction of the time the
-- task has run so far (so the delay in noticing completion stays ~poll_ratio of its run time and
-- the number of polls grows with the logarithm of it), capped. The jitter (up to -10 %) only ever
-- shortens an interval, so the notice delay stays within poll_ratio of the run time.
function Client:_interval(elapsed)
  local d = math.max(self.poll_first, elapsed * self.poll_ratio)
  if d > self.poll_max then d = self.poll_max end
  return d * (0.9 + 0.1 * math.random())
end

--- Wait for a task to finish; returns the normalized Result or nil, err.
-- opts: { timeout = seconds for the whole wait (default client.wait_timeout), on_progress = fn(status, task) }
-- With callbacks (a task submitted with them: task.callback_key), the wait polls when stt.notify
-- has marked the task, and otherwise only every callback.fallback seconds (callbacks can be lost).
function Client:wait(task, opts)
  options.check("wait", opts, "wait", capabilities.job_options())
  opts = opts or {}
  if task.result and task.state == "succeeded" then     -- answered by the submit (a synchronous mode)
    self:_journal_state(task, "succeeded")
    self:_emit({ type = "done", task_id = task.id, state = task.state })
    return task.result
  end
  local deadline = sched.now() + (opts.timeout or self.wait_timeout)
  local since = math.max(0, os.time() - (task.submitted_at or os.time()))
  local t0 = sched.now() - since
  local key = self.callback and task.callback_key
  local marks = key and self._marks
  if marks and not marks.task[key] then marks:bind(key, task.id) end      -- a task restored from a store
  local noted, quick
  -- Until the next poll: a notice (callbacks), or the geometric interval.
  local function pause(d)
    d = math.min(d, math.max(0, deadline - sched.now()))
    if not marks then sched.sleep(d); return end
    noted = marks:wait(key, d)
    if noted then self:_emit({ type = "notice", task_id = task.id, state = noted }) end
  end
  local function ended()
    if marks then marks:finish(key) end
  end
  -- A task submitted just now cannot be done yet: the first poll waits poll_first (a task
  -- restored from an earlier run is polled at once); with callbacks it waits for the notice.
  if since < self.poll_first or (marks and fresh[task]) then
    pause(marks and math.max(self.callback.fallback, self.poll_first) or self.poll_first)
  end
  while true do
    local st, err = self:poll(task, { deadline = deadline })
    if st then
      if st.state == "succeeded" then
        ended()
        self:_emit({ type = "done", task_id = task.id, state = st.state })
        return st.result
      elseif st.state == "failed" or st.state == "canceled" then
        ended()
        self:_emit({ type = "error", op = "wait", task_id = task.id, error = st.error })
        return nil, st.error
      end
      if opts.on_progress then opts.on_progress(st, task) end
    elseif not err.retryable then
      -- The provider no longer knows the task (expired or never existed): it will not finish.
      if err.kind == "not_found" then self:_journal_state(task, "failed", err) end
      ended()
      self:_emit({ type = "error", op = "poll", task_id = task.id, error = err })
      return nil, err
    end
    local left = deadline - sched.now()
    if left <= 0 then
      local e = errors.new({ kind = "timeout", retryable = true, code = err and err.code,
        message = ("task %s still %s when the wait deadline passed; wait again with the same task")
          :format(task.id, task.state or "unknown") }, self:_ctx("wait"))
      self:_emit({ type = "error", op = "wait", task_id = task.id, error = e })
      return nil, e
    end
    local d = self:_interval(sched.now() - t0)
    if marks then
      -- A notice the poll did not bear out (the provider's state lags its callback): poll again
      -- soon, backing off; otherwise the long fallback interval.
      if noted then
        marks:clear(key)
        quick = quick and math.min(quick * 2, self.callback.fallback) or self.poll_first
      else
        quick = nil
      end
      d = quick or math.max(self.callback.fallback, d)
    end
    pause(d)
  end
end

--- submit + wait
function Client:transcribe(job, wait_opts)
  options.check("wait", wait_opts, "transcribe", capabilities.job_options())
  local task, err = self:submit(job)
  if not task then return nil, err end
  return self:wait(task, wait_opts)
end

--- Transcribe many jobs concurrently (inside or outside stt.run).
-- Returns an array, in input order, of { result = Result } or { error = err }.
-- opts: concurrency (16) workers, each running one job (or one pack) at a time: a list of any
-- length makes at most that many threads. pack = true: consecutive jobs with identical options
-- (all but url) for a model that takes batches go in one task of up to batch_max URLs.
function Client:transcribe_all(jobs, opts)
  if type(jobs) ~= "table" then error("transcribe_all: array of jobs expected", 2) end
  options.check("batch", opts, "transcribe_all", capabilities.job_options())
  return batch.transcribe_all(self, jobs, opts)
end

--- c:list_tasks{ status =, from =, to =, page =, page_size =, model = } -> { tasks = { task, ... },
-- page =, pages =, total = } | nil, err: the provider's own list of recent tasks (DashScope: the
-- last 24 h), so that tasks whose ids were lost can be found and waited on. Each task is a plain
-- task table (id, provider, model, state, submitted_at, ...) that c:wait accepts.
function Client:list_tasks(opts)
  if opts ~= nil and type(opts) ~= "table" then error("list_tasks: options table expected", 2) end
  local req, berr = core.build(self.provider, "list", self:_args({ list = opts or {} }))
  if not req then return nil, errors.new(berr, self:_ctx("list")) end
  local out, err = self:_exchange("list", req, "list", {})
  if not out then return nil, err end
  for _, t in ipairs(out.tasks or {}) do t.provider = self.provider end
  return out
end

--- Cancel a task (DashScope: only while it is still queued). Returns true or nil, err.
function Client:cancel(task)
  if type(task) ~= "table" or type(task.id) ~= "string" then error("cancel: task with an id expected", 2) end
  local req, berr = core.build(self.provider, "cancel", self:_args({ task = plain_task(task) }))
  if not req then return nil, errors.new(berr, self:_ctx("cancel")) end
  local ok, err = self:_exchange("cancel", req, "cancel", { task = plain_task(task) })
  if not ok then return nil, err end
  task.state = "canceled"
  self:_journal_state(task, "canceled")
  self:_emit({ type = "cancel", task_id = task.id })
  return true
end

---------------------------------------------------------------- DashScope vocabularies
-- (lua/stt/vocabulary.lua; the requests go through this client's exchange)

--- c:vocabulary_create{ target_model =, prefix =, vocabulary = {{text=, weight=, lang=}} | hw }
-- -> vocabulary_id, answer | nil, err
function Client:vocabulary_create(opts) return vocabulary.create(self, opts) end
--- c:vocabulary_list{ prefix =, page_index = 0, page_size = 10 } -> { {vocabulary_id, status, ...} }, answer
function Client:vocabulary_list(opts) return vocabulary.list(self, opts) end
--- c:vocabulary_query(id) -> { vocabulary_id, status, target_model, vocabulary = {...}, ... } | nil, err
function Client:vocabulary_query(id) return vocabulary.query(self, id) end
--- c:vocabulary_update(id, vocabulary | hw [, model]) -> true | nil, err  (a full replacement)
function Client:vocabulary_update(id, voc, model) return vocabulary.update(self, id, voc, model) end
--- c:vocabulary_delete(id) -> true | nil, err
function Client:vocabulary_delete(id) return vocabulary.delete(self, id) end
--- c:vocabulary_for(hw [, model]) -> vocabulary_id | nil, err: create-or-reuse one per list and model
function Client:vocabulary_for(hw, model) return vocabulary.find_or_create(self, hw, model) end

M.Client = Client
return M
