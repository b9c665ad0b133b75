--- lua-stt: asynchronous speech-to-text for Lua.
-- local stt = require "stt"; local c = stt.client("dashscope", {...}); c:transcribe{url = ...}
-- Every public name is in docs/api.md (a spec keeps the two in step).
local core = require "stt.core"
local sched = require "stt.sched"
local errors = require "stt.errors"
local client = require "stt.client"

local M = {
  _VERSION = core._VERSION,
  null = core.null,
  run = sched.run,
  spawn = sched.spawn,
  sleep = sched.sleep,
  now = sched.now,
  errors = errors,
}

--- stt.client(provider, opts) -> client (see lua/stt/client.lua)
function M.client(provider, opts) return client.new(provider, opts) end

--- stt.providers() -> the provider registry and capability table: per provider its models and
-- the wire field(s) of each option they honour (false: refused as unsupported), the environment
-- variables of its credentials and base URL, its rate limits and who chooses task ids. A fresh
-- copy each call. See lua/stt/capabilities.lua.
function M.providers() return require("stt.capabilities").table() end

--- stt.parse(provider, body, { kind = "result" | "poll" | "submit", model = ..., status = 200 })
-- Sans-I/O: normalize a body obtained elsewhere (a webhook, a file). Returns table or nil, err.
function M.parse(provider, body, opts)
  if type(body) ~= "string" then error("stt.parse: body string expected", 2) end
  opts = opts or {}
  local out, err = core.parse(provider, opts.kind or "result",
    { status = opts.status or 200, headers = opts.headers or {}, body = body, model = opts.model })
  if not out then return nil, errors.new(err, { provider = provider, op = "parse" }) end
  return out
end

--- stt.notify(provider, body, headers, opts) -> { task_id, state, provider, key } | nil, err: verify
-- the callback a provider POSTed (its token, signed with the client's callback secret) and mark
-- the task so that c:wait polls it at once. opts: client (a client made with the callback
-- option: its secret and its marks) or secret (+ shared = dict name, store = redis URL for the
-- marks); query (the request's query string or args: the token also rides there as stt_token);
-- task_id (the task the request names, if any); mark = false (verify and check only; mark later
-- with stt.mark). A missing, forged or foreign token, or a notice after the task's wait ended, is
-- refused with kind "auth" and changes nothing. See lua/stt/callback.lua.
function M.notify(provider, body, headers, opts)
  return require("stt.callback").notify(provider, body, headers, opts)
end

--- stt.mark(note, opts) -> note | nil, err: mark a note from stt.notify{ mark = false } (after the
-- handler answered the provider).
function M.mark(note, opts) return require("stt.callback").mark(note, opts) end

--- stt.option_value(text) -> an option value given as text, typed: true/false, numbers, "quoted"
-- text, lists as [a,b] or a,b (what `stt -O key=value` and `stt compare -c` take).
M.option_value = require("stt.options").value

--- Encode/decode JSON with the core's parser (keys sorted, so output is deterministic).
M.json_encode = core.json_encode
M.json_decode = core.json_decode

--- stt.version() -> { version =, curl =, lua = } (what `stt --version` prints)
function M.version()
  local v = core.version()
  return { version = v.version, curl = v.curl, http2 = v.http2, lua = _VERSION }
end

--- stt.catch_signal("INT" | "TERM"): from now on that signal only sets a flag, which
-- stt.pending_signal() returns ("INT" | "TERM" | nil) and clears; a second delivery of it has
-- its default effect. For programs that stop cleanly (finish what they must record, then exit).
M.catch_signal = core.catch_signal
M.pending_signal = core.pending_signal

-- Modules that load on first use: stt.subtitle, stt.hotwords (pure post-processing),
-- stt.batch (worker pools), stt.journal (the task journal, for tools that read one), stt.s3
-- (AWS SigV4 presigning and signing, small PUTs), stt.store (task stores), stt.queue (the Redis
-- work queue), stt.redis (a Redis client that yields inside stt.run and nginx), stt.score (error
-- rates of transcripts against references, pure), stt.compare (configurations scored on the
-- same inputs, and their reports).
local LAZY = { subtitle = true, hotwords = true, batch = true, journal = true, s3 = true, queue = true,
               store = true, redis = true, score = true, compare = true }
return setmetatable(M, { __index = function(t, k)
  if LAZY[k] then
    local mod = require("stt." .. k)
    rawset(t, k, mod)
    return mod
  end
end })
