--- lua-stt: asynchronous speech-to-text for Lua.
-- local stt = require "stt"; local c = stt.client("dashscope", {...}); c:transcribe{url = ...}
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
  errors = errors,
}

--- stt.client(provider, opts) -> client (see lua/stt/client.lua)
function M.client(provider, opts) return client.new(provider, opts) end

--- stt.providers() -> the capability table: per provider and model, each normalized option's
-- wire field(s) or false (refused as unsupported). See lua/stt/capabilities.lua.
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

--- Encode/decode JSON with the core's parser (keys sorted, so output is deterministic).
M.json_encode = core.json_encode
M.json_decode = core.json_decode

-- Post-processing helpers load on first use.
return setmetatable(M, { __index = function(t, k)
  if k == "subtitle" or k == "hotwords" then
    local mod = require("stt." .. k)
    rawset(t, k, mod)
    return mod
  end
end })
