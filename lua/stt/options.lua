--- The option tables of the public API, in one place: what stt.client, c:wait / c:transcribe and
-- c:transcribe_all take, with defaults and units (docs/api.md lists the same; a spec compares
-- them). check() refuses an unknown key with kind "invalid", naming the closest known option, or
-- where the key belongs when it is an option of another level. Pure: no I/O.
local errors = require "stt.errors"

local M = {}

-- { name, default (as documented), unit or "", what it does }
M.CLIENT = {
  { "api_key", "env", "", "the provider's key; default from the provider's variable (stt.providers())" },
  { "app_key", "env", "", "volcengine-auc: the app key (VOLC_APP_KEY)" },
  { "access_key", "env", "", "volcengine-auc: the access key (VOLC_ACCESS_KEY)" },
  { "auth_prefix", "\"\"", "", "volcengine (LAS): the Authorization scheme: \"\" (raw key), \"Bearer\" or \"ApiKey\"" },
  { "base_url", "env or the provider's", "", "the API base up to and including its version segment" },
  { "region", "\"cn\"", "", "dashscope: \"cn\" (Beijing) or \"intl\" (Singapore), when base_url is not given" },
  { "workspace", "none", "", "dashscope: a workspace id, sent as X-DashScope-WorkSpace" },
  { "family", "by model name", "", "dashscope: the API family of a model the library does not know "
    .. "(\"paraformer\", \"paraformer-v1\", \"fun-asr\", \"sensevoice\", \"qwen-audio-filetrans\", "
    .. "\"qwen3-filetrans\")" },
  { "mode", "\"standard\"", "", "volcengine-auc: \"standard\", \"idle\" (cheaper, done within 24 h) or "
    .. "\"flash\" (synchronous, small files)" },
  { "model", "the provider's default", "", "the model of every job that names none" },
  { "timeout", "30", "s", "per HTTP request" },
  { "connect_timeout", "10", "s", "per connection attempt" },
  { "retries", "4", "", "retries of a retryable failure (429, 5xx, network), honouring Retry-After" },
  { "max_retry_wait", "60", "s", "a longer Retry-After returns the error (with retry_after) instead of sleeping" },
  { "wait_timeout", "3600", "s", "the default deadline of c:wait over the whole wait" },
  { "poll_first", "0.5", "s", "the first poll of a fresh task comes this long after its submit" },
  { "poll_ratio", "0.1", "", "later polls: this fraction of the time the task has run so far" },
  { "poll_max", "30", "s", "polls are never further apart than this" },
  { "max_body", "64 MiB", "bytes", "the largest answer read" },
  { "max_host_connections", "64", "", "HTTP transfers at once per host; more wait their turn" },
  { "insecure", "false", "", "skip TLS verification (tests only)" },
  { "ca_file", "system", "", "a CA bundle to trust instead of the system's" },
  { "rate_limit", "the provider's", "", "{ submit = n, query = n, shared = dict, store = redis URL, key = name } "
    .. "or false; with a Redis store the budget is the fleet's" },
  { "journal", "none", "", "path of a task journal: no paid job lost, none paid twice" },
  { "store", "none", "", "where tasks are kept: a journal path, \"redis://[:password@]host:port/db\" "
    .. "(shared by every process and host) or a store object; not with journal" },
  { "store_prefix", "\"stt:\"", "", "the prefix of every Redis key of the store" },
  { "store_lease", "30", "s", "Redis store: how long a job's claim holds while its holder submits; others "
    .. "wait that long before they call a dead holder's submit an unknown outcome" },
  { "upload", "dashscope: \"dashscope\"; others: none", "", "how a local file (job.file) becomes a URL: "
    .. "\"dashscope\" (its temporary storage), { s3 = { endpoint, bucket, region, prefix, access_key, "
    .. "secret_key, session_token, path_style, expires } } or function(path, info) -> url, expires_at" },
  { "transport", "auto", "", "\"curl\", \"ngx\" or a table with request(); auto: ngx inside nginx" },
  { "on_event", "none", "", "function(ev): submit, poll, retry, done, error, cancel, journal, notice events" },
  { "callback", "none", "", "per-task callbacks (volcengine, volcengine-auc; others: unsupported): { url = the "
    .. "receiver's URL, secret = at least 16 bytes (signs each task's token), shared = lua_shared_dict name "
    .. "(marks seen by every nginx worker), fallback = 120 (s between polls without a notice), check_every = "
    .. "0.1 with shared, 0.5 with a Redis store (s between looks at marks made elsewhere) }" },
}

M.WAIT = {
  { "timeout", "client's wait_timeout", "s", "deadline of the whole wait, retries included" },
  { "on_progress", "none", "", "function(status, task) after every poll that is not final" },
}

M.BATCH = {
  { "concurrency", "16", "", "jobs (or packs) in flight at once" },
  { "pack", "false", "", "consecutive jobs with the same options share one task of up to batch_max files" },
  { "on_result", "none", "", "function(i, entry) as each job ends" },
  { "timeout", "client's wait_timeout", "s", "the wait deadline of each job" },
  { "on_progress", "none", "", "function(status, task) for each job's polls" },
}

-- Keys of a job that are not recognition options (the capability table lists those).
M.JOB_EXTRA = { model = true, force = true, file = true, files = true, file_name = true }

local function names(list)
  local out = {}
  for _, o in ipairs(list) do out[o[1]] = true end
  return out
end
local client_names, wait_names, batch_names = names(M.CLIENT), names(M.WAIT), names(M.BATCH)

local LEVELS = {
  client = { names = client_names, title = "stt.client(provider, opts)" },
  wait = { names = wait_names, title = "c:wait(task, opts) / c:transcribe(job, opts)" },
  batch = { names = batch_names, title = "c:transcribe_all(jobs, opts)" },
}

-- Edit distance (small strings: option names), for "did you mean".
local function distance(a, b)
  local prev, cur = {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur[0] = i
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[#b]
end

--- The known name closest to `name` (within a third of its length, at least 2 edits), or nil.
function M.closest(name, known)
  local best, bd
  for k in pairs(known) do
    local d = distance(name, k)
    if d <= math.max(2, math.floor(#name / 3)) and (not bd or d < bd or (d == bd and k < best)) then
      best, bd = k, d
    end
  end
  return best
end

-- Where an option of another level goes, for the message.
local function belongs(name, except, job_names)
  local out = {}
  for _, lv in ipairs({ "client", "wait", "batch" }) do
    if lv ~= except and LEVELS[lv].names[name] then out[#out + 1] = LEVELS[lv].title end
  end
  if except ~= "job" and job_names and job_names[name] then out[#out + 1] = "the job table (c:submit(job))" end
  if #out == 0 then return nil end
  return table.concat(out, " or ")
end

--- The message for an unknown key `name` at `level` ("client" | "wait" | "batch" | "job"), with
-- `known` the names valid there and `job_names` the job options.
function M.unknown_message(name, level, known, job_names)
  if type(name) ~= "string" then return ("option keys are strings, got a %s"):format(type(name)) end
  local where = belongs(name, level, job_names)
  if where then
    return ("%q is not an option of %s: it belongs to %s"):format(name,
      level == "job" and "a job" or LEVELS[level].title, where)
  end
  local near = M.closest(name, known)
  return ("unknown option %q%s"):format(name, near and (" (did you mean %q?)"):format(near) or "")
end

-- One scalar of an option value given as text: true/false, a number (Lua's syntax: 2, 0.5, 1e3),
-- "quoted" or 'quoted' text (quotes removed: "007" stays a string), anything else as it is.
local function scalar(t)
  t = t:match("^%s*(.-)%s*$")
  if t == "true" then return true end
  if t == "false" then return false end
  local q = t:match('^"(.*)"$') or t:match("^'(.*)'$")
  if q then return q end
  local n = tonumber(t)
  if n and t:match("^[-+]?[%d.]") then return n end
  return t
end

--- An option value given as text (the CLI's -O key=value, stt compare's -c ...{key=value}),
-- typed: `[a,b]` or `a,b` is a list of scalars (`[]` the empty list), a scalar is true/false, a
-- number, "quoted" text or plain text. Raises an "invalid" error for a list left open.
function M.value(text)
  if type(text) ~= "string" then error("options.value: text expected", 2) end
  local inner = text:match("^%s*%[(.*)%]%s*$")
  if not inner and text:match("^%s*%[") then
    error(errors.new({ kind = "invalid", retryable = false, message = ("option value %q: a list opened with [ "
      .. "is not closed with ]"):format(text) }), 2)
  end
  if not inner and not text:find(",", 1, true) then return scalar(text) end
  local list = {}
  inner = inner or text
  if inner:match("^%s*$") then return list end
  for item in (inner .. ","):gmatch("([^,]*),") do list[#list + 1] = scalar(item) end
  return list
end

--- Raise an "invalid" error for the first unknown key of opts at `level` (client, wait, batch).
function M.check(level, opts, fn, job_names)
  if opts == nil then return end
  local known = LEVELS[level].names
  for k in pairs(opts) do
    if not known[k] then
      error(errors.new({ kind = "invalid", retryable = false,
        message = fn .. ": " .. M.unknown_message(k, level, known, job_names) }), 3)
    end
  end
end

return M
