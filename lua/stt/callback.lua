--- Per-task callbacks (client option `callback`, stt.notify): the provider says when a task is done
-- instead of being polled for it.
--
-- The token. A submit with callbacks sends `callback_data` = "stt1.<key>.<mac>", where key names
-- the task and mac = hex HMAC-SHA256(secret, "stt-callback-v1\n" .. provider .. "\n" .. key)
-- (OpenSSL, through core.hmac_sha256). The key is the task id where the client chooses it
-- (volcengine-auc: the request id), else a random job key the client makes before the submit and
-- keeps with the task (task.callback_key; LAS assigns its task ids after the submit). The same
-- token also rides in the callback URL's query as `stt_token`, since whether the provider echoes
-- callback_data is UNCONFIRMED (docs/providers.md#volcengine-callbacks).
--
-- The marks. A verified notice marks its key "noticed" wherever the client keeps marks: always in
-- the client object itself (a waiter in the same Lua state wakes through the scheduler: sched.event),
-- in the nginx shared dict `callback.shared` when named (waiters in other workers look there every
-- `check_every` seconds), and in the client's Redis store when it has one (waiters on other hosts
-- look there). When a wait ends, the key is marked "ended": a later notice for it (a late
-- callback, a replay) is refused (kind auth) and changes nothing. A notice is never the result:
-- the waiter polls the provider itself.
--
-- Nothing here calls into C callbacks or blocks: waiting is sched.event / stt.sleep in Lua.
local core = require "stt.core"
local sched = require "stt.sched"
local errors = require "stt.errors"

local M = {}

local VERSION = "stt1"
-- How long the marks of a key live in a shared dict or Redis (seconds): past any wait.
M.TTL = 7 * 86400

---------------------------------------------------------------- token

local function mac(secret, provider, key)
  return core.hmac_sha256(secret, "stt-callback-v1\n" .. provider .. "\n" .. key)
end

--- A key that names a task: what the token signs. Task ids and job keys only use these characters.
local function good_key(key)
  return type(key) == "string" and #key >= 1 and #key <= 128 and not key:find("[^%w%-_]")
end

--- token(secret, provider, key) -> "stt1.<key>.<mac>"
function M.token(secret, provider, key)
  if type(secret) ~= "string" or secret == "" then error("callback.token: secret expected", 2) end
  if not good_key(key) then error("callback.token: key of letters, digits, - and _ expected", 2) end
  return VERSION .. "." .. key .. "." .. mac(secret, provider, key)
end

-- Compare two strings in time that does not depend on where they differ.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    if a:byte(i) ~= b:byte(i) then diff = diff + 1 end
  end
  return diff == 0
end

--- verify(secret, provider, token) -> key | nil, why
function M.verify(secret, provider, token)
  if type(token) ~= "string" or token == "" then return nil, "no callback token" end
  local v, key, m = token:match("^([%w]+)%.([%w%-_]+)%.(%x+)$")
  if v ~= VERSION or not good_key(key) or #m ~= 64 then return nil, "malformed callback token" end
  if not same(m:lower(), mac(secret, provider, key)) then return nil, "callback token with a bad signature" end
  return key
end

--- A fresh random job key (32 hex digits from /dev/urandom).
function M.new_key()
  local f = io.open("/dev/urandom", "rb")
  local raw = f and f:read(16)
  if f then f:close() end
  local out = {}
  for i = 1, 16 do out[i] = ("%02x"):format(raw and raw:byte(i) or math.random(0, 255)) end
  return table.concat(out)
end

--- The callback URL with the token added to its query as stt_token.
function M.url_with_token(url, token)
  local frag = url:find("#", 1, true)
  local base, tail = url, ""
  if frag then base, tail = url:sub(1, frag - 1), url:sub(frag) end
  return base .. (base:find("?", 1, true) and "&" or "?") .. "stt_token=" .. token .. tail
end

---------------------------------------------------------------- the option

local function bad(msg) error(errors.new({ kind = "invalid", retryable = false, message = msg }), 3) end

--- check(opt, provider, facts, mode) -> the normalized option (the secret kept apart), secret.
-- Raises (a setup mistake): invalid for a malformed option, unsupported for a provider without
-- per-task callbacks.
function M.option(opt, provider, facts, mode)
  if type(opt) ~= "table" then bad("stt.client: callback must be a table { url =, secret = }") end
  for k in pairs(opt) do
    if not ({ url = true, secret = true, shared = true, fallback = true, check_every = true })[k] then
      bad(("stt.client: unknown callback option %q (url, secret, shared, fallback, check_every)"):format(tostring(k)))
    end
  end
  if not facts.callback or mode == "flash" then
    error(errors.new({ kind = "unsupported", retryable = false, provider = provider,
      message = ("stt.client: %s%s has no per-task callbacks: the callback option is not supported (c:wait polls)")
        :format(provider, mode == "flash" and " in mode \"flash\"" or "") }), 3)
  end
  if type(opt.url) ~= "string" or not opt.url:match("^https?://[^/?#]+") then
    bad("stt.client: callback.url must be an http:// or https:// URL")
  end
  if type(opt.secret) ~= "string" or #opt.secret < 16 then
    bad("stt.client: callback.secret must be a string of at least 16 bytes (keep it out of the source)")
  end
  if opt.shared ~= nil and type(opt.shared) ~= "string" then bad("stt.client: callback.shared must be a dict name") end
  for _, k in ipairs({ "fallback", "check_every" }) do
    if opt[k] ~= nil and (type(opt[k]) ~= "number" or opt[k] <= 0) then
      bad(("stt.client: callback.%s must be a number of seconds > 0"):format(k))
    end
  end
  return { url = opt.url, shared = opt.shared, fallback = opt.fallback or 120,
           check_every = opt.check_every }, opt.secret
end

---------------------------------------------------------------- marks

-- The marks of one client: a board in the Lua state, plus the shared dict and the Redis store.
local Marks = {}
Marks.__index = Marks

--- marks(cb, store) -> the marks of a client with callback option cb and store (or nil).
function M.marks(cb, store)
  return setmetatable({ cb = cb, store = store and store.redis and store or nil,
                        task = {}, noted = {}, ended = {}, events = {}, nended = 0 }, Marks)
end

function Marks:_dict()
  local name = self.cb.shared
  if not name then return nil end
  local ngx = sched.ngx_api()
  if not ngx then return nil end                 -- (outside nginx there is no shared dict)
  local d = ngx.shared and ngx.shared[name]
  if not d then error(("callback.shared: lua_shared_dict %q is not defined in nginx.conf"):format(name), 3) end
  return d
end

local function dkey(key, what) return "stt:cb:" .. key .. ":" .. what end

--- The task id recorded for key (after the submit), or nil.
function Marks:task_of(key)
  local id = self.task[key]
  if id then return id end
  local d = self:_dict()
  if d then id = d:get(dkey(key, "t")) end
  if not id and self.store then
    local got = self.store:notice_get(key)
    id = got and got.task
  end
  return id
end

--- Record the task id of key: after the submit, or when a wait starts on a restored task.
function Marks:bind(key, task_id)
  self.task[key] = task_id
  local d = self:_dict()
  if d then d:set(dkey(key, "t"), task_id, M.TTL) end
  if self.store then return self.store:notice_set(key, "task", task_id, M.TTL) end
  return true
end

--- true when key's wait has ended (a notice now is late or a replay).
function Marks:is_ended(key)
  if self.ended[key] then return true end
  local d = self:_dict()
  if d and d:get(dkey(key, "e")) then return true end
  if self.store then
    local got, err = self.store:notice_get(key)
    if err then return nil, err end
    return got and got.ended ~= nil or false
  end
  return false
end

--- The state a notice gave key, or nil: in this state, then the shared dict, then Redis.
function Marks:noticed(key, remote)
  local s = self.noted[key]
  if s then return s end
  if not remote then return nil end
  local d = self:_dict()
  if d then s = d:get(dkey(key, "n")) end
  if not s and self.store then
    local got = self.store:notice_get(key)
    s = got and got.noted
  end
  return s
end

--- Mark key noticed with state; wakes a waiter in this Lua state. nil, "ended" when its wait ended.
function Marks:note(key, state)
  if self.ended[key] then return nil, "ended" end
  local d = self:_dict()
  if d then
    if d:get(dkey(key, "e")) then return nil, "ended" end
    d:set(dkey(key, "n"), state, M.TTL)
  end
  if self.store then
    local ok, err = self.store:notice_mark(key, state, M.TTL)
    if ok == false then return nil, "ended" end
    if not ok then return nil, err end
  end
  self.noted[key] = state
  local ev = self.events[key]
  if ev then ev:signal() end
  return true
end

-- How long this Lua state remembers an ended key (seconds): a process that waits on millions of
-- tasks keeps about a day of them (the shared dict and Redis keep theirs for TTL).
M.LOCAL_TTL = 86400

--- The wait on key is over: later notices are refused.
function Marks:finish(key)
  local now = sched.now()
  self.ended[key], self.noted[key], self.events[key], self.task[key] = now, nil, nil, nil
  self.nended = self.nended + 1
  if self.nended % 1024 == 0 then                        -- forget the oldest, now and then
    for k, at in pairs(self.ended) do
      if now - at > M.LOCAL_TTL then self.ended[k] = nil end
    end
  end
  local d = self:_dict()
  if d then d:set(dkey(key, "e"), true, M.TTL); d:delete(dkey(key, "n")) end
  if self.store then self.store:notice_set(key, "ended", "1", M.TTL) end
end

--- Forget a notice that a poll did not confirm (the task is not done yet).
function Marks:clear(key)
  self.noted[key] = nil
  local d = self:_dict()
  if d then d:delete(dkey(key, "n")) end
  if self.store then self.store:notice_set(key, "noted", false, M.TTL) end
end

--- Wait up to `seconds` for a notice on key; returns its state or nil. A notice in this Lua state
-- wakes the waiter at once; the shared dict and Redis are looked at every check_every seconds.
function Marks:wait(key, seconds)
  local s = self:noticed(key, true)
  if s or seconds <= 0 then return s end
  local remote = (self.cb.shared and sched.in_nginx()) or self.store
  local every = self.cb.check_every or (self.store and not self.cb.shared and 0.5 or 0.1)
  local ev = self.events[key] or sched.event()
  self.events[key] = ev
  local deadline = sched.now() + seconds
  while true do
    local left = deadline - sched.now()
    if left <= 0 then return nil end
    ev:wait(remote and math.min(every, left) or left)
    s = self:noticed(key, remote)
    if s then return s end
  end
end

---------------------------------------------------------------- stt.notify

local function lower_headers(h)
  local out = {}
  for k, v in pairs(h or {}) do
    if type(k) == "string" then out[k:lower()] = type(v) == "table" and v[1] or v end
  end
  return out
end

local function query_token(q)
  if type(q) == "table" then
    local v = q.stt_token
    return type(v) == "table" and v[1] or v
  end
  if type(q) ~= "string" then return nil end
  for k, v in q:gmatch("([^&=]+)=([^&]*)") do
    if k == "stt_token" then return (v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
  end
  return nil
end

local function auth(provider, msg, code)
  return nil, errors.new({ kind = "auth", retryable = false, message = msg, code = code },
                         { provider = provider, op = "notify" })
end

-- A notice after the wait ended: late or replayed (code CallbackEnded: a receiver may answer the
-- provider 2xx for it, so that it stops retrying, while a forged one gets 401).
local function ended_err(provider)
  return auth(provider, "a notice for a task whose wait has ended (late or replayed)", "CallbackEnded")
end

-- The secret and marks of opts: a client's (opts.client), or opts.secret with the marks made
-- from opts.shared / opts.store (nil marks: verify only).
local function setup(provider, opts)
  local c = opts.client
  if c ~= nil then
    if type(c) ~= "table" or not c._callback_secret then
      error("stt.notify: opts.client must be a client made with the callback option", 3)
    end
    if c.provider ~= provider then error("stt.notify: opts.client is a client of another provider", 3) end
    return c:_callback_secret(), c._marks
  end
  if type(opts.secret) ~= "string" or opts.secret == "" then
    error("stt.notify: opts.secret (the callback secret) or opts.client expected", 3)
  end
  local marks
  if opts.shared or opts.store then
    local st = opts.store
    if type(st) == "string" then st = require("stt.store").open(st) end
    marks = M.marks({ shared = opts.shared }, st)
  end
  return opts.secret, marks
end

--- stt.notify(provider, body, headers, opts) -> { task_id, state, provider, key } | nil, err.
-- See docs/api.md. Verifies a callback's token; with marks (opts.client, or opts.shared /
-- opts.store), refuses a notice for a task whose wait ended and marks the task (opts.mark ~= false).
function M.notify(provider, body, headers, opts)
  if type(provider) ~= "string" then error("stt.notify: provider name expected", 2) end
  if body ~= nil and type(body) ~= "string" then error("stt.notify: body must be a string or nil", 2) end
  if type(opts) ~= "table" then error("stt.notify: options table expected (secret or client)", 2) end
  local secret, marks = setup(provider, opts)
  local ctx = { provider = provider, op = "notify", secrets = { secret } }
  local n, perr = core.parse(provider, "notice", { status = 200, headers = lower_headers(headers), body = body or "" })
  if not n then return nil, errors.new(perr, ctx) end
  local qtok = query_token(opts.query)
  local tok = n.callback_data or qtok
  if n.callback_data and qtok and n.callback_data ~= qtok then
    return auth(provider, "the notice carries two different callback tokens")
  end
  local key, why = M.verify(secret, provider, tok)
  if not key then return auth(provider, why) end
  local note = { provider = provider, key = key, state = n.state or "unknown", task_id = n.task_id }
  local known = marks and marks:task_of(key)
  if provider == "volcengine-auc" then known = known or key end     -- the key is the task id there
  -- the task the token names against the task the notice (or the caller) names
  local named = n.task_id or opts.task_id
  if known and named and named ~= known then
    return auth(provider, "the callback token names another task")
  end
  if n.task_id and opts.task_id and n.task_id ~= opts.task_id then
    return auth(provider, "the callback token names another task")
  end
  note.task_id = known or named
  if not marks then return note end
  if opts.mark == false then
    local ended, eerr = marks:is_ended(key)
    if eerr then return nil, errors.new({ kind = "network", retryable = true, message = tostring(eerr) }, ctx) end
    if ended then return ended_err(provider) end
    return note
  end
  return M.mark(note, opts, marks)
end

--- stt.mark(note, opts) -> note | nil, err: the marking half of stt.notify, for a handler that
-- verified a notice (stt.notify with mark = false) and answered before marking. opts: as stt.notify's.
function M.mark(note, opts, marks)
  if type(note) ~= "table" or type(note.key) ~= "string" then error("stt.mark: a note from stt.notify expected", 2) end
  if not marks then
    local _
    _, marks = setup(note.provider, opts or {})
    if not marks then error("stt.mark: opts.client, opts.shared or opts.store expected", 2) end
  end
  local ok, err = marks:note(note.key, note.state)
  if ok then return note end
  if err == "ended" then return ended_err(note.provider) end
  return nil, errors.new({ kind = "network", retryable = true, message = tostring(err) },
                         { provider = note.provider, op = "notify" })
end

return M
