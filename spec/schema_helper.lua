-- Shared by the wire-schema specs (spec/*_schema_spec.lua): core.build / core.parse for one
-- provider, wrapped so that every call also checks that an error is well formed and that no
-- secret shows up anywhere but in the headers meant to carry it.
local core = require "stt.core"
local assert = require "luassert"   -- busted's assert; a required module does not see the spec's globals

local M = {}

--- Fails when any string inside v contains one of the strings in `secrets`.
function M.assert_no_secret(v, secrets, where)
  local seen = {}
  local function walk(x, path)
    if type(x) == "string" then
      for _, s in ipairs(secrets) do
        assert(not x:find(s, 1, true), "secret leaked in " .. path)
      end
    elseif type(x) == "table" and not seen[x] then
      seen[x] = true
      for k, val in pairs(x) do walk(val, path .. "." .. tostring(k)) end
    end
  end
  walk(v, where or "value")
end

--- The wrappers for one provider. opts:
--   provider        the schema's name (core.providers())
--   secrets         { <build argument> = <test value> }: put into every build unless the test
--                   passes that argument itself (false: leave it out)
--   secret_headers  { <header name> = true }: the only places the secrets may appear
--   submit_defaults (optional) further arguments S.submit adds unless the test passes them
function M.new(opts)
  local P = opts.provider
  local secret_values = {}
  for _, v in pairs(opts.secrets) do secret_values[#secret_values + 1] = v end
  local S = {}

  function S.assert_no_secret(v, where) M.assert_no_secret(v, secret_values, where) end

  function S.check_error(err)
    assert.is_table(err)
    assert.equal(P, err.provider)
    assert.is_string(err.message)
    assert.is_boolean(err.retryable)
    S.assert_no_secret(err, "error")
    return err
  end

  function S.build(op, args)
    for name, value in pairs(opts.secrets) do
      if args[name] == false then args[name] = nil else args[name] = args[name] or value end
    end
    local req, err = core.build(P, op, args)
    if err then S.check_error(err) end
    if req then
      -- everything in the request but the secret headers, checked for the secrets
      local copy = {}
      for k, v in pairs(req) do copy[k] = v end
      copy.headers = {}
      for i, h in ipairs(req.headers) do
        if not opts.secret_headers[h[1]] then copy.headers[i] = h end
      end
      S.assert_no_secret(copy, "request")
    end
    return req, err
  end

  --- build("submit") of `job` with the other build arguments in `args`.
  function S.submit(job, args)
    args = args or {}
    args.job = job
    for k, v in pairs(opts.submit_defaults or {}) do
      if args[k] == nil then args[k] = v end
    end
    return S.build("submit", args)
  end

  --- The body of a submit that must succeed.
  function S.body_of(job, args)
    local req, err = S.submit(job, args)
    assert.is_nil(err and err.message)
    return req.body
  end

  --- A submit that must be refused with an error of `kind`, not worth retrying.
  function S.refused(kind, job, args)
    local req, err = S.submit(job, args)
    assert.is_nil(req)
    assert.is_table(err)
    assert.equal(kind, err.kind)
    assert.is_false(err.retryable)
    return err
  end

  --- core.parse of a response with `status` and `body`; `extra` adds or replaces fields of the
  -- response (headers, request_id, task, model ...).
  function S.parse(kind, status, body, extra)
    local resp = { status = status, headers = {}, body = body }
    for k, v in pairs(extra or {}) do resp[k] = v end
    local out, err = core.parse(P, kind, resp)
    if err then S.check_error(err) end
    return out, err
  end

  return S
end

return M
